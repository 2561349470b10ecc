"""Fault injection: a small deterministic training run is killed (SIGKILL) or interrupted (SIGINT)
at random moments, from start-up to the final save, then resumed with --resume; every time the
vectors must be byte for byte those of an uninterrupted run, and nothing may be left behind.

Half the faults come at a random time after the start; the other half at a random time after the
first checkpoint appears, so that some land mid-training however fast or slow this machine is at
the moment (a busy machine makes the timed half land anywhere)."""
import os
import random
import signal
import subprocess
import sys
import time

from testing import planted_corpus

SETTINGS = ["--dim", "16", "--epochs", "30", "--min-count", "1", "--sample", "0", "--window", "3",
            "--deterministic", "--chunk-words", "20000", "--checkpoint-seconds", "0"]
TRIES = 10  # half SIGKILL, half SIGINT
POLL_SECONDS = 0.02


def train(corpus, output, *extra):
    return subprocess.Popen([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(output),
                             *SETTINGS, *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_checkpoint(process, work, limit_seconds):
    """Return once `work` holds a checkpoint, or the process ended, or the limit passed."""
    deadline = time.monotonic() + limit_seconds
    while process.poll() is None and time.monotonic() < deadline:
        if (work / "checkpoint.pt").exists():
            return
        time.sleep(POLL_SECONDS)


def test_kills_and_interrupts_at_random_moments_then_resume_give_identical_vectors(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", sentences=20_000)
    start = time.monotonic()
    whole = train(corpus, tmp_path / "whole.bin")
    _, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    uninterrupted_seconds = time.monotonic() - start
    expected = (tmp_path / "whole.bin").read_bytes()

    rng = random.Random(2026)
    landed = {"before the checkpoint": 0, "with a checkpoint": 0, "after the end": 0}
    for attempt in range(TRIES):
        sig = signal.SIGKILL if attempt % 2 == 0 else signal.SIGINT
        output = tmp_path / f"cut{attempt}.bin"
        work = tmp_path / f"cut{attempt}.bin.work"
        cut = train(corpus, output)
        if attempt < TRIES // 2:
            delay = rng.uniform(0.3, uninterrupted_seconds)
        else:
            wait_for_checkpoint(cut, work, limit_seconds=300)
            delay = rng.uniform(0.0, 0.1 * uninterrupted_seconds)
        time.sleep(delay)
        cut.send_signal(sig)
        _, err = cut.communicate(timeout=300)
        if cut.returncode == 0:
            landed["after the end"] += 1
        elif (work / "checkpoint.pt").exists():
            landed["with a checkpoint"] += 1
        else:
            landed["before the checkpoint"] += 1
        resumed = train(corpus, output, "--resume")
        _, err = resumed.communicate(timeout=300)
        context = f"attempt {attempt}: {sig.name} after {delay:.2f} s"
        assert resumed.returncode == 0, f"{context}: {err}"
        assert output.read_bytes() == expected, f"{context}: the resumed vectors differ"
        assert not work.exists(), context
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    print(f"{TRIES} faults, where they landed: {landed}")
    assert landed["with a checkpoint"] >= 3, landed  # the half sent after a checkpoint, mostly
