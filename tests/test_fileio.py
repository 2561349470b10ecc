"""Safe files: atomic writes through links and with the modes users expect, stale temporaries,
outputs that would overwrite inputs, and corpus text read in bounded pieces."""
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from wordembed.fileio import (atomic_write, read_token_pieces, refuse_overwriting_inputs, resolve_output,
                              same_file)


def test_atomic_write_replaces_a_links_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with atomic_write(link, "w") as f:
        f.write("new")
    assert link.is_symlink() and target.read_text() == "new"


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path):
    old = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "new.bin") as f:
            f.write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o640
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"a")
    kept.chmod(0o604)
    with atomic_write(kept) as f:
        f.write(b"b")
    assert kept.stat().st_mode & 0o777 == 0o604 and kept.read_bytes() == b"b"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path, "w") as f:
            f.write("half")
            raise RuntimeError("disk gone")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["v.txt"]


def test_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".v.bin.{dead_pid}.abc123.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".v.bin.{os.getppid()}.def456.tmp"  # a writer that is still running
    live.write_bytes(b"y")
    other = tmp_path / f".other.bin.{dead_pid}.abc.tmp"  # another file's: not ours to remove
    other.write_bytes(b"z")
    with atomic_write(tmp_path / "v.bin") as f:
        f.write(b"new")
    assert not stale.exists() and live.exists() and other.exists()


def test_outputs_that_are_inputs_are_refused_through_links(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n")
    (tmp_path / "soft.txt").symlink_to(corpus)
    os.link(corpus, tmp_path / "hard.txt")
    for name in ("c.txt", "soft.txt", "hard.txt", "./c.txt"):
        with pytest.raises(ValueError, match="is the corpus"):
            refuse_overwriting_inputs([("corpus", corpus)], [("output", os.path.join(tmp_path, name))])
    with pytest.raises(ValueError, match="is the output"):
        refuse_overwriting_inputs([("corpus", corpus)], [("output", tmp_path / "v.bin"), ("plot", tmp_path / "v.bin")])
    with pytest.raises(ValueError, match="empty"):
        refuse_overwriting_inputs([("corpus", corpus)], [("output", "")])
    refuse_overwriting_inputs([("corpus", corpus)], [("output", tmp_path / "v.bin")])
    assert same_file(corpus, tmp_path / "soft.txt") and not same_file(corpus, tmp_path / "v.bin")
    with pytest.raises(ValueError, match="empty"):
        resolve_output("")


def pieces_by_line(path, piece_chars):
    lines, current = [], []
    for tokens, line_ends in read_token_pieces(path, piece_chars):
        current += tokens
        if line_ends:
            lines.append(current)
            current = []
    assert not current, "every line ends with a piece marked line_ends"
    return lines


TEXT = st.text(alphabet=st.sampled_from(list("ab c\n\t\r\u00e9\u2028\x85 ") + ["\u4e2d"]), max_size=300)


@settings(max_examples=150, deadline=None)
@given(text=TEXT, piece_chars=st.integers(1, 40))
def test_token_pieces_are_the_lines_tokens_whatever_the_piece_size(tmp_path_factory, text, piece_chars):
    path = tmp_path_factory.mktemp("pieces") / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    with open(path, encoding="utf-8", newline="\n") as f:
        expected = [line.split() for line in f]
    assert pieces_by_line(path, piece_chars) == expected


def test_a_long_line_is_read_in_bounded_pieces(tmp_path):
    path = tmp_path / "one_line.txt"
    path.write_text(" ".join(f"w{i % 1000}" for i in range(200_000)))  # one line, no line break
    sizes = [len(tokens) for tokens, _ in read_token_pieces(path, piece_chars=4096)]
    assert max(sizes) < 1000 and sum(sizes) == 200_000


# ---- outputs and inputs that are not regular files

def test_a_pipe_is_written_in_place_and_stays_a_pipe(tmp_path):
    import stat
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    read_end = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, there before the writer looks
    with atomic_write(fifo) as f:
        f.write(b"through")  # fits the pipe's buffer: read once the writer has closed
    with os.fdopen(read_end, "rb") as f:
        assert f.read() == b"through"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]  # no temporary beside it


def test_a_pipe_nobody_reads_is_an_error_not_a_wait(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="is a pipe that nothing reads"):
        with atomic_write(tmp_path / "pipe") as f:
            f.write(b"x")


def test_a_device_is_written_in_place_and_work_folders_go_elsewhere(tmp_path):
    import stat
    from wordembed.fileio import check_output_path, special_output
    from wordembed.training.trainer import work_dir_for
    assert special_output("/dev/null") and not special_output(tmp_path) and not special_output(tmp_path / "new")
    assert check_output_path("/dev/null") == "/dev/null"
    with atomic_write("/dev/null") as f:
        f.write(b"discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert work_dir_for("/dev/null") == os.path.join(os.getcwd(), "wordembed-vectors.work")
    assert work_dir_for(tmp_path / "v.bin") == f"{tmp_path / 'v.bin'}.work"


def test_inputs_that_are_not_files_are_named_for_what_they_are(tmp_path):
    from wordembed.fileio import check_input_file
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    with pytest.raises(FileNotFoundError, match="corpus file not found"):
        check_input_file(tmp_path / "missing", "corpus")
    with pytest.raises(IsADirectoryError, match="is a folder: name a file"):
        check_input_file(tmp_path / "folder", "corpus")
    with pytest.raises(ValueError, match="is a named pipe, not a file"):
        check_input_file(tmp_path / "pipe", "corpus")
    with pytest.raises(ValueError, match="is a device, not a file"):
        check_input_file("/dev/null", "model")


def test_files_written_together_appear_together_or_not_at_all(tmp_path):
    from wordembed.fileio import atomic_files
    with atomic_files(tmp_path / "new") as staging:
        for name in ("a", "b"):
            (tmp_path / staging / name).write_text(name)
    assert sorted(os.listdir(tmp_path / "new")) == ["a", "b"]
    (tmp_path / "new" / "mine").write_text("kept")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_files(tmp_path / "new") as staging:
            (tmp_path / staging / "a").write_text("changed")
            raise RuntimeError("midway")
    assert (tmp_path / "new" / "a").read_text() == "a" and (tmp_path / "new" / "mine").read_text() == "kept"
    assert sorted(os.listdir(tmp_path)) == ["new"]
