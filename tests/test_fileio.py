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
