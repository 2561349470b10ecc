"""The trainer under hostile use: outputs that are inputs, settings out of range, interruptions
at any chunk, damaged or foreign checkpoints and corpora, a second run on the same output, and
full disks. Every failure is a clear error and leaves the user's files as they were."""
import io
import os
import resource
import signal
import subprocess
import sys
import time

import pytest
import torch

from wordembed import ops
from wordembed import TrainConfig, TrainingError, train_vectors
from wordembed.training.checkpoint import Checkpoints
from wordembed.training.trainer import Trainer
from testing import TRAIN_SMALL as SMALL, planted_corpus

DETERMINISTIC = dict(SMALL, deterministic=True, chunk_words=1024, checkpoint_seconds=0)
# The same run from the command line and from Python (the CLI has no chunk_words).
CLI_RUN = dict(dim=24, epochs=3, min_count=1, sample=0, window=3, deterministic=True)
CLI_ARGS = ["--dim", "24", "--epochs", "3", "--min-count", "1", "--sample", "0", "--window", "3", "--deterministic"]


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "wordembed", *map(str, args)], capture_output=True, text=True,
                          **kwargs)


def test_an_output_that_is_the_corpus_is_refused_and_the_corpus_kept(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 200)
    before = corpus.read_bytes()
    (tmp_path / "link.txt").symlink_to(corpus)
    os.link(corpus, tmp_path / "hard.txt")
    for output in ("c.txt", "link.txt", "hard.txt"):
        with pytest.raises(ValueError, match="is the corpus"):
            train_vectors(corpus, tmp_path / output, **SMALL)
    run = cli("train", corpus, "-o", corpus, "--min-count", "1")
    assert run.returncode == 2 and "is the corpus" in run.stderr and "Traceback" not in run.stderr
    run = cli("train", corpus, "-o", tmp_path / "v.bin", "--plot-curves", tmp_path / "link.txt")
    assert run.returncode == 2 and "is the corpus" in run.stderr
    run = cli("train", corpus, "-o", "")
    assert run.returncode == 2 and "empty" in run.stderr
    assert corpus.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "hard.txt", "link.txt"]


def test_a_corpus_inside_the_working_folder_is_refused(tmp_path):
    (tmp_path / "v.bin.work").mkdir()
    corpus = planted_corpus(tmp_path / "v.bin.work" / "c.txt", 100)
    with pytest.raises(ValueError, match="inside"):
        train_vectors(corpus, tmp_path / "v.bin", **SMALL)
    assert corpus.exists()


@pytest.mark.parametrize("setting,value,message", [
    ("sample", float("nan"), "sample must be a finite number"),
    ("sample", -1e-3, "sample must be >= 0"),
    ("alpha", float("inf"), "alpha must be a finite number"),
    ("alpha", 0.0, "alpha must be > 0"),
    ("min_alpha", 1.0, "must not exceed alpha"),
    ("threads", 0, "threads must be from 1"),
    ("threads", -1, "threads must be from 1"),
    ("negative", 10**9, "negative must be from 1 to 1000"),
    ("negative", 0, "negative must be from 1"),
    ("window", 0, "window must be from 1"),
    ("shared_negatives", -1, "shared_negatives must be from 0 to 1024"),
    ("shared_negatives", 1.5, "shared_negatives must be a whole number"),
    ("dim", 1.5, "dim must be a whole number"),
    ("dim", True, "dim must be a whole number"),
    ("epochs", 0, "epochs must be at least 1"),
    ("min_count", 0, "min_count must be at least 1"),
    ("max_vocab_size", 0, "max_vocab_size must be at least 1"),
    ("max_vocab_size", -1, "max_vocab_size must be at least 1"),
    ("max_final_vocab", 0, "max_final_vocab must be at least 1"),
    ("seed", 10**30, "seed must be from 0"),
    ("seed", -1, "seed must be from 0"),
    ("chunk_words", 0, "chunk_words must be from 1"),
    ("checkpoint_seconds", float("nan"), "checkpoint_seconds must be a finite number"),
    ("deterministic", "yes", "deterministic must be True or False"),
    ("init_scale", float("nan"), "init_scale must be a finite number"),
    ("tokenize", "spacy", "tokenize must be one of whitespace, words"),
    ("lowercase", "yes", "lowercase must be True or False"),
])
def test_every_setting_is_checked_before_any_work(tmp_path, setting, value, message):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    with pytest.raises(TrainingError, match=message):
        train_vectors(corpus, tmp_path / "v.bin", **{**SMALL, setting: value})
    assert os.listdir(tmp_path) == ["c.txt"]


@pytest.mark.parametrize("args,message", [
    (["--sample", "nan"], "sample must be a finite number"),
    (["--threads", "0"], "threads must be from 1"),
    (["--negative", str(10**9)], "negative must be from 1 to 1000"),
    (["--seed", str(10**30)], "seed must be from 0"),
    (["--max-vocab-size", "-1"], "max_vocab_size must be at least 1"),
    (["--max-final-vocab", "0"], "max_final_vocab must be at least 1"),
    (["--dim", str(10**9)], "the two tables need"),
])
def test_the_command_line_reports_bad_settings_in_one_line(tmp_path, args, message):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    run = cli("train", corpus, "-o", tmp_path / "v.bin", "--min-count", "1", *args)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    assert os.listdir(tmp_path) == ["c.txt"]


def interrupt_after_chunks(monkeypatch, chunks, times=1):
    """Sends this process SIGINT `times` times right after the given chunk's compiled step
    returns: where a KeyboardInterrupt used to land between the step and the chunk counter."""
    calls = {"n": 0}
    real = ops.ns_train_chunk_

    def step_then_interrupt(*args, **kwargs):
        stats = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == chunks:
            for _ in range(times):
                signal.raise_signal(signal.SIGINT)
        return stats

    monkeypatch.setattr(ops, "ns_train_chunk_", step_then_interrupt)


@pytest.mark.parametrize("chunks,times", [(3, 1), (11, 1), (5, 2)])
def test_ctrl_c_then_resume_gives_the_vectors_of_an_uninterrupted_run(tmp_path, monkeypatch, chunks, times):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    whole = train_vectors(corpus, tmp_path / "whole.bin", **DETERMINISTIC)
    interrupt_after_chunks(monkeypatch, chunks, times)
    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "cut.bin", **DETERMINISTIC)
    monkeypatch.undo()
    assert (tmp_path / "cut.bin.work" / "checkpoint.pt").exists() and not (tmp_path / "cut.bin").exists()
    resumed = train_vectors(corpus, tmp_path / "cut.bin", resume=True, **DETERMINISTIC)
    assert torch.equal(resumed.vectors, whole.vectors)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in whole.history]


def test_a_run_stopped_before_its_first_epoch_ends_resumes_without_preparing_again(tmp_path, monkeypatch):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    whole = train_vectors(corpus, None, **DETERMINISTIC)
    trainer = Trainer(corpus, TrainConfig(**DETERMINISTIC), tmp_path / "v.bin.work")
    trainer.prepare()  # then "killed": the checkpoint written after preparation is all there is
    trainer.work.release()
    saved = torch.load(trainer.work.checkpoint_path, weights_only=True)
    assert saved["input_vectors"] is None and saved["output_vectors"] is None  # the seed makes them again
    from wordembed.training import preparation
    monkeypatch.setattr(preparation, "encode_corpus", lambda *a, **k: pytest.fail("prepared twice"))
    resumed = train_vectors(corpus, tmp_path / "v.bin", resume=True, **DETERMINISTIC)
    assert torch.equal(resumed.vectors, whole.vectors)


def test_epoch_end_checkpoints_cost_at_most_a_tenth_of_the_training(tmp_path):
    checkpoints = Checkpoints(tmp_path / "checkpoint.pt", seconds=300)
    checkpoints.last = time.monotonic()
    checkpoints.cost = 0.0
    assert checkpoints.epoch_end_due()          # a free checkpoint: at every epoch end
    checkpoints.cost = 5.0
    assert not checkpoints.epoch_end_due()      # 5 s to write, written just now: not yet
    checkpoints.last -= 51
    assert checkpoints.epoch_end_due()          # 51 s of training since: due
    checkpoints.seconds = 0
    checkpoints.last = time.monotonic()
    assert checkpoints.epoch_end_due()          # checkpoint_seconds=0: always


def test_resume_without_a_checkpoint_starts_afresh_and_says_so(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    log = io.StringIO()
    vectors = train_vectors(corpus, tmp_path / "v.bin", resume=True, log=log, **DETERMINISTIC)
    assert "starting from the beginning" in log.getvalue()
    assert torch.equal(vectors.vectors, train_vectors(corpus, None, **DETERMINISTIC).vectors)


def stopped_run(tmp_path, monkeypatch, corpus):
    interrupt_after_chunks(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "v.bin", **CLI_RUN)
    monkeypatch.undo()
    return tmp_path / "v.bin.work"


def test_resume_with_another_corpus_is_refused(tmp_path, monkeypatch):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    work = stopped_run(tmp_path, monkeypatch, corpus)
    with open(corpus, "a") as f:
        f.write("g0w1 g0w2 g0w3\n")
    with pytest.raises(TrainingError, match="not the one this checkpoint was trained on"):
        train_vectors(corpus, tmp_path / "v.bin", resume=True, **CLI_RUN)
    assert (work / "checkpoint.pt").exists()  # kept: the right corpus can still resume it


def damage(work, case):
    checkpoint, ids = work / "checkpoint.pt", work / "corpus.ids"
    if case == "truncated checkpoint":
        checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    elif case == "empty checkpoint":
        checkpoint.write_bytes(b"")
    elif case == "foreign checkpoint":
        torch.save({"model": torch.zeros(3)}, checkpoint)
    elif case == "checkpoint of wrong shapes":
        state = torch.load(checkpoint, weights_only=True)
        state["input_vectors"] = state["input_vectors"][:5]
        torch.save(state, checkpoint)
    elif case == "checkpoint with a damaged loss curve":
        state = torch.load(checkpoint, weights_only=True)
        state["curve"] = state["curve"] + [{"epoch": 1.0, "loss": "high"}]
        torch.save(state, checkpoint)
    elif case == "checkpoint with damaged words":
        state = torch.load(checkpoint, weights_only=True)
        state["word_lengths"] = state["word_lengths"] + 1
        torch.save(state, checkpoint)
    elif case == "checkpoint of an older format":  # format 2 had no loss curve
        state = torch.load(checkpoint, weights_only=True)
        del state["curve"]
        torch.save({**state, "version": 2}, checkpoint)
    elif case == "truncated corpus.ids":
        ids.write_bytes(ids.read_bytes()[:1000])
    elif case == "changed corpus.ids":
        data = bytearray(ids.read_bytes())
        data[40:44] = (7).to_bytes(4, "little")
        ids.write_bytes(bytes(data))
    elif case == "missing corpus.ids":
        ids.unlink()


@pytest.mark.parametrize("case", ["truncated checkpoint", "empty checkpoint", "foreign checkpoint",
                                  "checkpoint of wrong shapes", "checkpoint with a damaged loss curve",
                                  "checkpoint with damaged words",
                                  "checkpoint of an older format", "truncated corpus.ids", "changed corpus.ids",
                                  "missing corpus.ids"])
def test_a_damaged_checkpoint_or_corpus_is_a_clear_error_on_resume(tmp_path, monkeypatch, case):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    work = stopped_run(tmp_path, monkeypatch, corpus)
    damage(work, case)
    with pytest.raises(TrainingError, match=f"delete {work}"):
        train_vectors(corpus, tmp_path / "v.bin", resume=True, **CLI_RUN)
    run = cli("train", corpus, "-o", tmp_path / "v.bin", "--resume", *CLI_ARGS)
    assert run.returncode == 2 and "Traceback" not in run.stderr and "delete" in run.stderr, run.stderr


def test_a_second_run_on_the_same_output_is_refused_while_the_first_works(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    other = planted_corpus(tmp_path / "other.txt", 300, seed=5)
    first = Trainer(corpus, TrainConfig(**DETERMINISTIC), tmp_path / "v.bin.work")
    first.prepare()
    files = sorted(os.listdir(tmp_path / "v.bin.work"))
    with pytest.raises(TrainingError, match="another run is training into"):
        train_vectors(other, tmp_path / "v.bin", **DETERMINISTIC)
    assert sorted(os.listdir(tmp_path / "v.bin.work")) == files  # the first run's files untouched
    first.work.release()
    train_vectors(other, tmp_path / "v.bin", **DETERMINISTIC)


def test_only_the_runs_own_files_are_removed_from_the_working_folder(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    (tmp_path / "v.bin.work").mkdir()
    (tmp_path / "v.bin.work" / "notes.txt").write_text("mine")
    train_vectors(corpus, tmp_path / "v.bin", **SMALL)
    assert os.listdir(tmp_path / "v.bin.work") == ["notes.txt"]


def limit_file_size(max_bytes):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))
    return apply


@pytest.mark.parametrize("limit_kb,stage", [(8, "corpus"), (200, "checkpoint"), (450, "output")])
def test_a_full_disk_is_a_message_and_the_old_output_survives(tmp_path, limit_kb, stage):
    """A file-size limit stands in for a full disk: writes past it fail as they would (EFBIG for
    ENOSPC). The corpus encodes to 120 KB, a checkpoint with the tables takes 384 KB (the one
    written right after preparation holds no tables), the output 500+ KB."""
    corpus = planted_corpus(tmp_path / "c.txt", 3000)
    output = tmp_path / "v.txt"
    output.write_text("the previous vectors\n")
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(output),
                          "--min-count", "1", "--dim", "1000", "--epochs", "1"],
                         capture_output=True, text=True, preexec_fn=limit_file_size(limit_kb * 1024))
    assert run.returncode == 2 and "File too large" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert output.read_text() == "the previous vectors\n"
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert not leftovers
    work = tmp_path / "v.txt.work"
    if stage == "output":  # training finished: the checkpoint lets --resume write the output
        assert (work / "checkpoint.pt").exists()
        again = cli("train", corpus, "-o", output, "--min-count", "1", "--dim", "1000", "--epochs", "1", "--resume")
        assert again.returncode == 0 and output.read_text().startswith("48 1000")
    elif stage == "checkpoint":  # the epoch's checkpoint failed: the one from before training is whole
        saved = torch.load(work / "checkpoint.pt", weights_only=True)
        assert saved["epoch"] == 0 and saved["input_vectors"] is None
    else:
        assert not work.exists() or not (work / "checkpoint.pt").exists()


def test_a_huge_start_stops_naming_init_scale_and_more_threads_than_cores_train_on_the_cores(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt")
    with pytest.raises(TrainingError, match=r"non-finite .*or init_scale \(--init-scale, now 1e\+30\)"):
        train_vectors(corpus, tmp_path / "v.bin", init_scale=1e30, **SMALL)
    assert sorted(os.listdir(tmp_path)) == ["c.txt"]
    log = io.StringIO()
    train_vectors(corpus, tmp_path / "v.bin", log=log, **dict(SMALL, threads=1000))
    cores = len(os.sched_getaffinity(0))
    assert f"threads 1000: this process may run on {cores} cores, so {cores} threads train" in log.getvalue()


def test_a_damaged_file_to_continue_from_is_one_line(tmp_path, capsys):
    from wordembed.cli import main
    corpus = planted_corpus(tmp_path / "c.txt", sentences=200)
    train_vectors(corpus, tmp_path / "v.pt", **dict(SMALL, epochs=1))
    data = bytearray((tmp_path / "v.pt").read_bytes())
    for position in range(0, len(data), max(1, len(data) // 60)):
        damaged = bytearray(data)
        damaged[position] ^= 0x5A
        (tmp_path / "d.pt").write_bytes(bytes(damaged))
        capsys.readouterr()
        status = main(["train", str(corpus), "-o", str(tmp_path / "out.bin"), "--init", str(tmp_path / "d.pt"),
                       "--epochs", "1", "--dim", "24", "--min-count", "1"])
        err = capsys.readouterr().err
        assert status == 0 or (status == 2 and err.count("\n") == 1 and "error: " in err), err
