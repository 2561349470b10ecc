"""Data-parallel training with two CPU ranks on this machine (gloo over the loopback address only):
the run finishes and learns what one process learns, every word is trained once per epoch, the
ranks' tables agree, a dead or hung rank stops every rank with a message within the timeout, and
the run resumes from its checkpoint. Ranks are started as torchrun starts them (the environment
variables), and once through torchrun itself; every launch is bounded in time."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from wordembed import WordVectors
from wordembed import TrainingError, train_vectors
from testing import TRAIN_SMALL as SMALL, planted_corpus

RANKS = 2
LAUNCH_SECONDS = 120  # a launch that takes longer has hung: the test fails instead
CLI_SMALL = ["--dim", "24", "--epochs", "3", "--min-count", "1", "--sample", "0", "--window", "3",
             "--negative", "5", "--alpha", "0.05", "--chunk-words", "4096", "--threads", "1"]
WORKER = """
import json, os, sys
from wordembed import train_vectors
vectors = train_vectors(sys.argv[1], sys.argv[2], **json.loads(sys.argv[3]))
with open(sys.argv[2] + f".rank{os.environ['RANK']}.json", "w") as f:
    json.dump({"history": vectors.history, "sum": float(vectors.vectors.double().sum()),
               "words": vectors.index_to_key}, f)
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ranks(command, cwd, ranks=RANKS):
    """Starts the ranks of one run as torchrun would (its environment variables, the loopback
    address), each with its stderr in a file of its own."""
    port, procs = free_port(), []
    for rank in range(ranks):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(ranks), LOCAL_RANK=str(rank),
                   LOCAL_WORLD_SIZE=str(ranks), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
        err = open(os.path.join(cwd, f"rank{rank}.err"), "w+")
        procs.append(subprocess.Popen([sys.executable, *command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                                      stderr=err, text=True))
        procs[-1].err = err
    return procs


def finish(procs, timeout=LAUNCH_SECONDS):
    """(return code, stdout, stderr) of every rank, once all have ended; kills them all and fails
    if one has not ended within the timeout."""
    deadline, results = time.monotonic() + timeout, []
    try:
        for p in procs:
            out, _ = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            p.err.seek(0)
            results.append((p.returncode, out, p.err.read()))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        pytest.fail(f"a rank did not end within {timeout} s")
    return results


def train_on_ranks(tmp_path, corpus, output, **settings):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    results = finish(start_ranks([str(script), str(corpus), str(output), json.dumps(settings)], tmp_path))
    for rank, (code, _, err) in enumerate(results):
        assert code == 0, f"rank {rank} failed:\n{err[-3000:]}"
    return [json.loads((tmp_path / f"{output.name}.rank{rank}.json").read_text()) for rank in range(RANKS)]


def planted_share(vectors):
    """Share of words whose nearest neighbour is of their planted group."""
    return sum(vectors.most_similar(w, topn=1)[0][0].split("w")[0] == w.split("w")[0]
               for w in vectors.index_to_key) / len(vectors)


def corpus_words(path):
    with open(path) as f:
        return sum(len(line.split()) for line in f)


@pytest.mark.parametrize("settings", [
    dict(),  # deltas, the default
    dict(sync="average"),
    dict(model="skipgram", bucket=5000, sync_hot_rows=8),  # subword rows travel in the full syncs only
], ids=["deltas", "average", "skipgram-subwords"])
def test_two_ranks_learn_what_one_process_learns_and_train_every_word_once(tmp_path, settings):
    corpus = planted_corpus(tmp_path / "c.txt", 3000)
    output = tmp_path / "v.bin"
    ranks = train_on_ranks(tmp_path, corpus, output, **SMALL, **settings)
    single = train_vectors(corpus, tmp_path / "single.bin", **SMALL, **settings, threads=2)
    vectors = WordVectors.load(output)
    assert vectors.index_to_key == single.index_to_key == ranks[1]["words"]
    assert planted_share(vectors) >= min(0.95, planted_share(single) - 0.02)
    # the ranks' tables agree, every word of the corpus was trained once per epoch, by one rank
    assert ranks[0]["sum"] == ranks[1]["sum"]
    for entry in ranks[0]["history"]:
        assert sum(entry["words_by_rank"]) == corpus_words(corpus) == entry["words"]
        assert all(words > 0 for words in entry["words_by_rank"])
        assert entry["sync_bytes"] > 0
    assert [h["loss"] for h in ranks[0]["history"]] == [h["loss"] for h in ranks[1]["history"]]
    assert sorted(os.listdir(tmp_path)) == sorted(["c.txt", "v.bin", "single.bin", "worker.py", "rank0.err", "rank1.err",
                                                   "v.bin.rank0.json", "v.bin.rank1.json"])


def test_a_corpus_of_one_sentence_leaves_a_rank_without_words_and_still_trains(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(" ".join(f"w{i % 7}" for i in range(50)) + "\n")
    ranks = train_on_ranks(tmp_path, corpus, tmp_path / "v.bin", **SMALL)
    assert [h["words_by_rank"] for h in ranks[0]["history"]] == [[50, 0]] * SMALL["epochs"]
    assert ranks[0]["sum"] == ranks[1]["sum"] and len(WordVectors.load(tmp_path / "v.bin")) == 7


def test_a_script_trains_twice_in_one_launch(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    script = tmp_path / "twice.py"
    script.write_text("import sys\nfrom wordembed import train_vectors\n"
                      "for i in range(2):\n"
                      "    train_vectors(sys.argv[1], f'v{i}.bin', dim=16, epochs=2, min_count=1, chunk_words=1024)\n")
    results = finish(start_ranks([str(script), str(corpus)], tmp_path))
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert len(WordVectors.load(tmp_path / "v0.bin")) == len(WordVectors.load(tmp_path / "v1.bin")) == 48


def test_python_sentences_are_trained_from_rank_0s_copy(tmp_path):
    script = tmp_path / "sentences.py"
    script.write_text("import json, os, random\nfrom wordembed import train_vectors\n"
                      "rng = random.Random(0)\n"
                      "groups = [rng.randrange(6) for _ in range(2000)]\n"
                      "sentences = [[f'g{g}w{rng.randrange(8)}' for _ in range(10)] for g in groups]\n"
                      "if os.environ['RANK'] != '0':\n"
                      "    sentences = [['not', 'trained']]  # rank 0's sentences are the corpus\n"
                      "v = train_vectors(sentences, 'v.bin', dim=16, epochs=2, min_count=1, chunk_words=2048)\n"
                      "print(json.dumps(v.history[-1]['words_by_rank']))\n")
    results = finish(start_ranks([str(script)], tmp_path))
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert all(json.loads(out.strip().splitlines()[-1]) == [10000, 10000] for _, out, _ in results)
    assert "not" not in WordVectors.load(tmp_path / "v.bin").key_to_index


def test_torchrun_launches_the_command_line(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 1000)
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(RANKS),
                          "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
                          "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "v.bin"), *CLI_SMALL],
                         capture_output=True, text=True, timeout=LAUNCH_SECONDS, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("wrote ") == 1 and f"{RANKS} ranks" in run.stdout  # rank 0 alone reports
    assert len(WordVectors.load(tmp_path / "v.bin")) == 48


def test_a_failure_of_rank_0_while_preparing_stops_every_rank_with_its_message(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    results = finish(start_ranks(["-m", "wordembed", "train", str(corpus), "-o", "v.bin", *CLI_SMALL,
                                  "--min-count", "100000"], tmp_path))
    for code, _, err in results:
        assert code == 2 and "the vocabulary is empty" in err and "Traceback" not in err
    assert "rank 0 failed" in results[1][2]
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "rank0.err", "rank1.err"]


LONG_RUN = ["-m", "wordembed", "train", "c.txt", "-o", "v.bin", "--dim", "24", "--epochs", "40", "--min-count", "1",
            "--chunk-words", "2048", "--checkpoint-seconds", "0", "--threads", "1"]


def wait_until_training(tmp_path, procs, seconds=1.0):
    """Returns once rank 1 holds its shard, and `seconds` more: the ranks are in their epochs."""
    deadline = time.monotonic() + LAUNCH_SECONDS
    while not (tmp_path / "v.bin.work" / "rank-1" / "corpus.ids").exists():
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "the ranks did not start training"
        time.sleep(0.1)
    time.sleep(seconds)
    assert all(p.poll() is None for p in procs), "the run ended before it could be stopped"


@pytest.mark.parametrize("how,victim", [("killed", 1), ("stopped", 1), ("killed", 0)])
def test_a_dead_or_hung_rank_stops_every_rank_within_the_timeout_and_the_run_resumes(tmp_path, how, victim):
    timeout = 6
    planted_corpus(tmp_path / "c.txt", 20000)
    procs = start_ranks(LONG_RUN + ["--dist-timeout", str(timeout)], tmp_path)
    wait_until_training(tmp_path, procs)
    procs[victim].send_signal(signal.SIGKILL if how == "killed" else signal.SIGSTOP)
    lost = time.monotonic()
    survivor = procs[1 - victim]
    try:
        code, _, err = finish([survivor], timeout=timeout + 30)[0]
        took = time.monotonic() - lost
    finally:
        procs[victim].kill()
        procs[victim].wait()
    assert code == 2 and "Traceback" not in err, err[-3000:]
    assert f"lost contact with rank {victim}" in err and "--resume" in err  # the lost rank is named
    # a dead rank is seen at once, a hung one when the timeout runs out; then the roll call
    assert took < (20 if how == "killed" else timeout + 15)
    assert (tmp_path / "v.bin.work" / "checkpoint.pt").exists()  # rank 0's, for --resume
    results = finish(start_ranks(LONG_RUN + ["--dist-timeout", str(timeout), "--resume"], tmp_path))
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert planted_share(WordVectors.load(tmp_path / "v.bin")) >= 0.95
    assert not (tmp_path / "v.bin.work").exists()


def test_an_interrupted_distributed_run_resumes_from_its_checkpoint(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 3000)
    command = ["-m", "wordembed", "train", str(corpus), "-o", "v.bin", *CLI_SMALL, "--epochs", "30",
               "--chunk-words", "512", "--checkpoint-seconds", "0"]
    procs = start_ranks(command, tmp_path)
    wait_until_training(tmp_path, procs)
    for p in procs:  # Ctrl-C reaches every process of the terminal
        p.send_signal(signal.SIGINT)
    results = finish(procs)
    assert [code for code, _, _ in results] == [130, 130], [err[-2000:] for _, _, err in results]
    assert "--resume" in results[0][2] and "--resume" not in results[1][2]  # rank 0 alone speaks
    results = finish(start_ranks(command + ["--resume"], tmp_path))
    assert [code for code, _, _ in results] == [0, 0], [err[-2000:] for _, _, err in results]
    assert planted_share(WordVectors.load(tmp_path / "v.bin")) >= 0.95
    assert not (tmp_path / "v.bin.work").exists()


def test_a_launch_without_the_rendezvous_settings_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("MASTER_PORT", raising=False)
    with pytest.raises(TrainingError, match="MASTER_ADDR, MASTER_PORT are not set: launch with torchrun"):
        train_vectors(planted_corpus(tmp_path / "c.txt", 10), None, **SMALL)
