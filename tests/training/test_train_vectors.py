"""The trainer end to end: planted structure, determinism, resume, the command line and bad
input (hostile input: test_training_reliability.py)."""
import os
import subprocess
import sys

import pytest
import torch

from wordembed import WordVectors
from wordembed import TrainConfig, TrainingError, train_vectors
from wordembed.training.trainer import Trainer
from testing import CUDA_SKIP, GROUP_SIZE, GROUPS, TRAIN_SMALL as SMALL, planted_corpus


def test_planted_groups_are_nearest_each_other(tmp_path):
    vectors = train_vectors(planted_corpus(tmp_path / "c.txt"), tmp_path / "v.bin", **SMALL)
    right = sum(vectors.most_similar(w, topn=1)[0][0].split("w")[0] == w.split("w")[0] for w in vectors.index_to_key)
    assert right / len(vectors) >= 0.95
    assert vectors.history[-1]["loss"] < vectors.history[0]["loss"]
    assert WordVectors.load(tmp_path / "v.bin").index_to_key == vectors.index_to_key


@pytest.mark.parametrize("model", ["cbow", "skipgram"])
@pytest.mark.parametrize("shared_negatives", [0, 1, 4])
def test_every_block_size_learns_the_planted_groups(tmp_path, model, shared_negatives):
    """The per-example path (0) and minibatches of positions sharing their negatives (1, 4) all
    learn; the setting reaches the kernel: the vectors differ from the per-example ones, except
    for CBOW's blocks of one position, which are the per-example path (one input, its own draw)."""
    corpus = planted_corpus(tmp_path / "c.txt")
    settings = dict(SMALL, model=model, deterministic=True)
    vectors = train_vectors(corpus, None, shared_negatives=shared_negatives, **settings)
    right = sum(vectors.most_similar(w, topn=1)[0][0].split("w")[0] == w.split("w")[0] for w in vectors.index_to_key)
    assert right / len(vectors) >= 0.95
    if shared_negatives:
        per_example = train_vectors(corpus, None, shared_negatives=0, **settings)
        same = model == "cbow" and shared_negatives == 1
        assert torch.equal(per_example.vectors, vectors.vectors) == same


def test_reference_backend_learns_the_same_structure(tmp_path):
    vectors = train_vectors(planted_corpus(tmp_path / "c.txt", 1500), None, backend="reference", **SMALL)
    right = sum(vectors.most_similar(w, topn=1)[0][0].split("w")[0] == w.split("w")[0] for w in vectors.index_to_key)
    assert right / len(vectors) >= 0.9


def test_deterministic_mode_is_bit_identical(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    a = train_vectors(corpus, None, deterministic=True, seed=3, **SMALL)
    b = train_vectors(corpus, None, deterministic=True, seed=3, **SMALL)
    c = train_vectors(corpus, None, deterministic=True, seed=4, **SMALL)
    assert torch.equal(a.vectors, b.vectors) and a.history[-1]["loss"] == b.history[-1]["loss"]
    assert not torch.equal(a.vectors, c.vectors)


def test_loss_means_the_same_whatever_the_thread_count(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 2000)
    one = train_vectors(corpus, None, threads=1, **SMALL).history
    two = train_vectors(corpus, None, threads=2, **SMALL).history
    for a, b in zip(one, two):
        assert a["loss"] == pytest.approx(b["loss"], rel=0.05)


def test_resume_after_an_interruption_gives_the_same_vectors(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    whole = train_vectors(corpus, tmp_path / "whole.bin", deterministic=True, **SMALL)

    def interrupt(trainer, entry):
        if entry["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "cut.bin", deterministic=True, callbacks=[interrupt], **SMALL)
    assert not (tmp_path / "cut.bin").exists()
    assert (tmp_path / "cut.bin.work" / "checkpoint.pt").exists()
    resumed = train_vectors(corpus, tmp_path / "cut.bin", deterministic=True, resume=True, **SMALL)
    assert torch.equal(resumed.vectors, whole.vectors)
    assert [h["loss"] for h in resumed.history] == [h["loss"] for h in whole.history]
    assert resumed.curve == whole.curve  # the per-chunk curve goes on from the checkpoint too
    assert not (tmp_path / "cut.bin.work").exists()  # cleaned up after success


def test_the_loss_curve_has_a_point_per_chunk(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 1000)
    vectors = train_vectors(corpus, None, deterministic=True, **SMALL)
    words = vectors.history[0]["words"]
    chunks = -(-words // SMALL["chunk_words"])  # sentences are not split across chunks: at most this
    curve = vectors.curve
    assert chunks >= 2 and SMALL["epochs"] * 2 <= len(curve) <= SMALL["epochs"] * (chunks + 1)
    assert [p["words"] for p in curve] == sorted({p["words"] for p in curve})  # strictly increasing
    assert curve[-1]["words"] == SMALL["epochs"] * words and curve[-1]["epoch"] == SMALL["epochs"]
    for epoch in range(SMALL["epochs"]):  # each epoch's points end at its end
        assert any(p["epoch"] == epoch + 1 for p in curve)
    lrs = [p["lr"] for p in curve]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] < SMALL["alpha"]
    # the chunks' losses average to the epoch's mean (weighted by examples, so loosely)
    first = [p["loss"] for p in curve if p["epoch"] <= 1]
    assert min(first) <= vectors.history[0]["loss"] <= max(first)


def test_resume_with_other_settings_is_refused(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "v.bin", callbacks=[lambda t, e: (_ for _ in ()).throw(KeyboardInterrupt)], **SMALL)
    with pytest.raises(TrainingError, match="dim"):
        train_vectors(corpus, tmp_path / "v.bin", resume=True, **{**SMALL, "dim": 12})


@pytest.mark.parametrize("content,message", [
    (None, "corpus file not found"),
    ("", "holds no words"),
    ("a b c\n", "vocabulary is empty"),
])
def test_bad_corpus_stops_cleanly(tmp_path, content, message):
    corpus = tmp_path / "c.txt"
    if content is not None:
        corpus.write_text(content)
    with pytest.raises((TrainingError, FileNotFoundError), match=message):
        train_vectors(corpus, tmp_path / "v.bin", min_count=5)
    assert sorted(os.listdir(tmp_path)) == (["c.txt"] if content is not None else [])


@pytest.mark.parametrize("init_scale", [0.5, 4.0])
def test_input_vectors_start_uniform_within_init_scale_over_dim(tmp_path, init_scale):
    config = TrainConfig(**{**SMALL, "dim": 50, "init_scale": init_scale})
    trainer = Trainer(planted_corpus(tmp_path / "c.txt", 300), config, tmp_path / "work")
    trainer.prepare()
    inputs, bound = trainer.input_vectors, init_scale / 50
    assert inputs.abs().max() <= bound and inputs.abs().max() > 0.95 * bound
    assert abs(float(inputs.mean())) < 0.05 * bound and (inputs < 0).float().mean().item() == pytest.approx(0.5, abs=0.05)
    assert not trainer.output_vectors.any()


@pytest.mark.parametrize("init_scale", [-1.0, float("nan"), float("inf")])
def test_bad_init_scale_is_refused(tmp_path, init_scale):
    with pytest.raises(TrainingError, match="init_scale"):
        train_vectors(planted_corpus(tmp_path / "c.txt", 100), tmp_path / "v.bin", **{**SMALL, "init_scale": init_scale})
    assert not (tmp_path / "v.bin").exists()


def test_non_finite_loss_stops_with_no_output(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    with pytest.raises(TrainingError, match="non-finite"):
        train_vectors(corpus, tmp_path / "v.bin", **{**SMALL, "alpha": 1e30})
    assert not (tmp_path / "v.bin").exists()


def test_cli_train_end_to_end(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 800)
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "v.txt"),
                          "--dim", "16", "--epochs", "2", "--min-count", "1", "--sample", "0",
                          "--plot-curves", str(tmp_path / "curves.png")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "epoch 2: loss" in run.stdout and "% of words" in run.stderr  # plain progress lines off a terminal
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(tmp_path / "v.txt"))
    assert len(kv) == GROUPS * GROUP_SIZE
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    bad = subprocess.run([sys.executable, "-m", "wordembed", "train", str(tmp_path / "none.txt"), "-o",
                          str(tmp_path / "x.bin")], capture_output=True, text=True)
    assert bad.returncode == 2 and "corpus file not found" in bad.stderr and "Traceback" not in bad.stderr
    gpu = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "x.bin"),
                          "--device", "cuda"], capture_output=True, text=True)
    assert gpu.returncode == 2 and "device" in gpu.stderr
    blocks = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "b.bin"),
                             "--model", "skipgram", "--shared-negatives", "-2"], capture_output=True, text=True)
    assert blocks.returncode == 2 and "shared_negatives must be from 0" in blocks.stderr


@CUDA_SKIP
def test_gpu_training_learns_the_planted_groups_as_well_as_the_cpu(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt")
    scores = {}
    for device in ("cpu", "cuda"):
        vectors = train_vectors(corpus, tmp_path / f"{device}.bin", device=device, **SMALL)
        loaded = WordVectors.load(tmp_path / f"{device}.bin")
        scores[device] = sum(loaded.most_similar(w, topn=1)[0][0].split("w")[0] == w.split("w")[0]
                             for w in loaded.index_to_key) / len(loaded)
        assert vectors.vectors.device.type == "cpu"
    assert scores["cuda"] >= 0.95 and scores["cpu"] >= 0.95


@CUDA_SKIP
def test_gpu_deterministic_training_is_bit_identical(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 400)
    a = train_vectors(corpus, None, device="cuda", deterministic=True, **SMALL)
    b = train_vectors(corpus, None, device="cuda", deterministic=True, **SMALL)
    assert torch.equal(a.vectors, b.vectors)


def test_cuda_device_without_a_gpu_is_a_clear_error(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is visible: this checks the message given without one")
    with pytest.raises(TrainingError, match="no CUDA GPU"):
        train_vectors(planted_corpus(tmp_path / "c.txt", 50), None, device="cuda", **SMALL)


class LinesOf:
    """A re-iterable of sentences read lazily from a file, as gensim's LineSentence is."""

    def __init__(self, path):
        self.path = path

    def __iter__(self):
        with open(self.path) as f:
            for line in f:
                yield line.split()


def test_training_from_python_sentences_equals_training_from_the_file(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 600)
    settings = dict(SMALL, deterministic=True)
    from_file = train_vectors(corpus, None, **settings)
    sentences = [line.split() for line in corpus.read_text().splitlines()]
    from_list = train_vectors(sentences, tmp_path / "list.bin", **settings)
    from_stream = train_vectors(LinesOf(corpus), None, **settings)
    assert from_list.index_to_key == from_file.index_to_key
    assert torch.equal(from_list.vectors, from_file.vectors) and torch.equal(from_stream.vectors, from_file.vectors)
    assert WordVectors.load(tmp_path / "list.bin").index_to_key == from_file.index_to_key


@pytest.mark.parametrize("sentences,message", [
    ((line.split() for line in ["a b", "b c"]), "re-iterable"),
    (["a b c", "d e"], "sentence 0 is a str"),
    ([["a", "b"], ["c", 3]], "sentence 1 holds a int"),
    (42, "file path or an iterable of sentences"),
])
def test_sentences_that_cannot_be_trained_on_are_clear_errors(tmp_path, sentences, message):
    with pytest.raises(TypeError, match=message):
        train_vectors(sentences, tmp_path / "v.bin", **SMALL)
    assert os.listdir(tmp_path) == []


def test_an_interrupted_run_on_sentences_resumes(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 500)
    sentences = LinesOf(corpus)
    settings = dict(SMALL, deterministic=True)
    whole = train_vectors(sentences, None, **settings)

    def interrupt(trainer, entry):
        if entry["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_vectors(sentences, tmp_path / "v.bin", callbacks=[interrupt], **settings)
    resumed = train_vectors(sentences, tmp_path / "v.bin", resume=True, **settings)
    assert torch.equal(resumed.vectors, whole.vectors)
    with pytest.raises(KeyboardInterrupt):
        train_vectors(sentences, tmp_path / "w.bin", callbacks=[interrupt], **settings)
    with pytest.raises(TrainingError, match="not the one this checkpoint was trained on"):
        train_vectors([["other", "words"]] * 10, tmp_path / "w.bin", resume=True, **settings)
