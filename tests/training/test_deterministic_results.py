"""Deterministic runs stay bit-identical across changes of structure: the hashes of deterministic
CBOW, skip-gram and subword runs, and of a format-5 checkpoint resumed, are recorded in
tests/data/before_layers (re-recorded by tests/data/record_deterministic_hashes.py only when a
change is meant to change the numbers, and said so in its commit); the same runs, in file order,
must give the same bytes."""
import hashlib
import json
import os
import shutil

import pytest
import torch

from wordembed import train_vectors

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "before_layers")
# in file order, as every run was before epochs were shuffled (training/chunks.py)
SETTINGS = dict(dim=16, epochs=2, min_count=1, sample=1e-2, window=3, negative=4, chunk_words=1024,
                deterministic=True, seed=11, checkpoint_seconds=1e9, shuffle=False)
RUNS = {"cbow": {}, "skipgram": dict(model="skipgram"), "cbow_subwords": dict(bucket=300, minn=2, maxn=4),
        "skipgram_subwords": dict(model="skipgram", bucket=300, minn=2, maxn=4)}


def digest(vectors):
    """Of the words, the vectors, a subword model's n-gram rows and the per-epoch losses."""
    h = hashlib.sha256()
    h.update("\n".join(vectors.index_to_key).encode())
    h.update(vectors.vectors.contiguous().numpy().tobytes())
    if vectors.subwords is not None:
        h.update(vectors.subwords.ngram_rows.contiguous().numpy().tobytes())
    h.update(json.dumps([entry["loss"] for entry in vectors.history]).encode())
    return h.hexdigest()


@pytest.fixture
def recorded(tmp_path):
    shutil.copy(os.path.join(DATA, "corpus.txt"), tmp_path / "corpus.txt")
    with open(os.path.join(DATA, "hashes.json")) as f:
        return tmp_path / "corpus.txt", json.load(f)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_a_deterministic_run_gives_the_bytes_it_gave_before_the_move(recorded, name, tmp_path):
    corpus, hashes = recorded
    vectors = train_vectors(corpus, tmp_path / "v.bin", **SETTINGS, **RUNS[name])
    assert digest(vectors) == hashes[name]


def test_a_format_5_checkpoint_resumes_to_the_same_vectors(recorded, tmp_path):
    corpus, hashes = recorded
    shutil.copytree(os.path.join(DATA, "checkpoint"), tmp_path / "v.bin.work")
    saved = torch.load(tmp_path / "v.bin.work" / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 1
    vectors = train_vectors(corpus, tmp_path / "v.bin", resume=True, **SETTINGS, **RUNS["skipgram_subwords"])
    assert vectors.history[0] == saved["history"][0]  # the first epoch is the checkpoint's, not trained again
    assert len(vectors.history) == 2 and digest(vectors) == hashes["skipgram_subwords_resumed"]
    assert not (tmp_path / "v.bin.work").exists()
