"""The order of epochs (wordembed/training/chunks.py): each epoch visits every sentence once, in a
fresh order drawn from the seed, reading no more than a chunk; file order on request; the compiled
gather equals its twin; and a classifier learns a file grouped by label as well as the same file
shuffled, and resumes mid-epoch into the same order."""
import io
import random
import signal

import numpy as np
import pytest
import torch

from wordembed import ops, train_classifier
from wordembed.text import corpus
from wordembed.text.corpus import save_encoded
from wordembed.training.chunks import BLOCKS_PER_CHUNK, EpochOrder


def encoded_corpus(tmp_path, sentences=900, seed=0):
    """An encoded corpus whose sentence s holds ids s * 10 + k (k < its length, 0 to 12): every
    sentence is recognisable in any order."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 13, sentences)
    ids = np.concatenate([s * 10 + np.arange(n) for s, n in enumerate(lengths)] or [np.zeros(0)]).astype(np.int32)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    return save_encoded(tmp_path / "corpus", ids, starts), lengths


def sentences_of(ids, starts):
    """Each sentence of a chunk as the number it was written with (None: an empty one)."""
    return [int(ids[a]) // 10 if b > a else None for a, b in zip(starts[:-1], starts[1:])]


def visit(order, epoch):
    seen = []
    for index, blocks in enumerate(order.chunks(epoch)):
        ids, starts = order.load(epoch, index, blocks)
        assert starts[0] == 0 and starts[-1] == len(ids) and (np.diff(starts) >= 0).all()
        seen += sentences_of(ids, starts)
    return seen


@pytest.mark.parametrize("chunk_words", [1, 64, 500, 100_000])
def test_every_epoch_visits_every_sentence_once_in_a_fresh_order(tmp_path, chunk_words):
    encoded, lengths = encoded_corpus(tmp_path)
    order = EpochOrder((encoded, 0, encoded.num_sentences), chunk_words, seed=5, shuffle=True)
    first, second = visit(order, 0), visit(order, 1)
    written = [s for s, n in enumerate(lengths) if n]
    for epoch in (first, second):
        assert sorted(s for s in epoch if s is not None) == written
        assert epoch.count(None) == int((lengths == 0).sum())
    assert first != second  # a fresh order each epoch
    assert abs(len(order.chunks(0)) - len(order.chunks(1))) <= 1  # about the same rounds every epoch
    again = EpochOrder((encoded, 0, encoded.num_sentences), chunk_words, seed=5, shuffle=True)
    assert visit(again, 1) == second  # drawn from (seed, epoch) alone
    other = EpochOrder((encoded, 0, encoded.num_sentences), chunk_words, seed=6, shuffle=True)
    assert visit(other, 1) != second


def test_a_chunk_mixes_blocks_from_the_whole_shard(tmp_path):
    encoded, _ = encoded_corpus(tmp_path, sentences=5000)
    order = EpochOrder((encoded, 0, encoded.num_sentences), 2000, seed=1, shuffle=True)
    ids, starts = order.load(0, 0, order.chunks(0)[0])
    numbers = [s for s in sentences_of(ids, starts) if s is not None]
    words = order.words(order.chunks(0))
    assert all(abs(w - 2000) < 60 for w in words[:-1])  # chunk_words, give or take a block
    assert len(order.chunks(0)[0]) > BLOCKS_PER_CHUNK / 2
    assert min(numbers) < 1000 and max(numbers) > 4000  # from both ends of the file
    assert numbers != sorted(numbers)  # and shuffled among themselves


def test_file_order_reads_the_shard_as_it_is(tmp_path):
    encoded, lengths = encoded_corpus(tmp_path)
    order = EpochOrder((encoded, 100, 800), 500, seed=5, shuffle=False)
    assert visit(order, 0) == visit(order, 3) == [s if lengths[s] else None for s in range(100, 800)]
    assert all(w <= 500 for w in order.words(order.chunks(0)))  # sentences of at most 12 words


@pytest.mark.parametrize("block_words", [1, 7, 40, 10**6])
@pytest.mark.parametrize("piece", [5, 1 << 20])  # offsets read a few at a time, or all at once
def test_blocks_are_whole_sentences_of_about_the_asked_words(tmp_path, monkeypatch, block_words, piece):
    monkeypatch.setattr(corpus, "_PIECE_ENTRIES", piece)
    encoded, lengths = encoded_corpus(tmp_path)
    bounds, offsets = encoded.block_bounds(block_words, 50, 850)
    assert bounds[0] == 50 and bounds[-1] == 850 and (np.diff(bounds) > 0).all()
    assert offsets.tolist() == encoded.starts[bounds].tolist()
    marks = np.arange(int(offsets[0]) + block_words, int(offsets[-1]), block_words)
    inner = np.unique(np.searchsorted(encoded.starts[50:851], marks, side="left")) + 50
    assert bounds[1:-1].tolist() == [b for b in inner.tolist() if 50 < b < 850]  # the first start at or past each
    words = [int(lengths[a:b].sum()) for a, b in zip(bounds[:-1], bounds[1:])]
    assert all(w < block_words + 12 for w in words)  # sentences have at most 12 words
    assert len(words) >= sum(words) // (block_words + 12)
    assert encoded.block_bounds(block_words, 300, 300)[0].tolist() == [300]  # an empty shard: no block


def test_the_compiled_gather_equals_its_twin(tmp_path):
    encoded, _ = encoded_corpus(tmp_path)
    rng = np.random.default_rng(3)
    for _ in range(20):
        cuts = np.sort(rng.choice(encoded.num_sentences + 1, size=8, replace=False))
        ranges = [(int(a), int(b)) for a, b in zip(cuts[:-1:2], cuts[1::2])]
        rng.shuffle(ranges)
        sentences = sum(b - a for a, b in ranges)
        for order in (None, rng.permutation(sentences)):
            got, want = encoded.gather(ranges, order), encoded.gather_python(ranges, order)
            assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
            assert got[0].dtype == np.int32 and got[1].dtype == np.int64


def test_gather_refuses_what_is_not_a_permutation_or_a_range(tmp_path):
    encoded, _ = encoded_corpus(tmp_path)
    with pytest.raises(ValueError, match="not a permutation"):
        encoded.gather([(0, 3)], [0, 0, 1])
    with pytest.raises(ValueError, match="permutation of the 3 sentences"):
        encoded.gather([(0, 3)], [0, 1])
    with pytest.raises(ValueError, match="first <= last"):
        encoded.gather([(5, 3)])
    with pytest.raises(ValueError, match="shorter than its .starts say"):
        encoded.gather([(0, encoded.num_sentences + 5)])


# ---- the classifier on a file grouped by label
def weak_lines(n, seed, grouped):
    """Two labels whose lines draw each of 6 words from their own half of 20 words with
    probability 0.7 (a Bayes-optimal classifier scores about 0.84); grouped: all a's, then all b's."""
    rng, out = random.Random(seed), []
    for i in range(n):
        label = i * 2 // n if grouped else rng.randrange(2)
        words = [f"{'xy'[label] if rng.random() < 0.7 else 'xy'[1 - label]}{rng.randrange(10)}" for _ in range(6)]
        out.append(f"__label__{'ab'[label]} " + " ".join(words))
    return out


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grouped")
    lines = weak_lines(4000, 0, grouped=True)
    shuffled = lines[:]
    random.Random(1).shuffle(shuffled)
    for name, content in (("grouped", lines), ("shuffled", shuffled), ("test", weak_lines(2000, 1, False))):
        (folder / f"{name}.txt").write_text("".join(line + "\n" for line in content))
    return folder


SETTINGS = dict(dim=8, epochs=5, lr=0.5, log=io.StringIO())


@pytest.mark.parametrize("threads", [1, 2])
def test_a_file_grouped_by_label_learns_as_well_as_the_same_file_shuffled(grouped, threads):
    scores = {name: train_classifier(grouped / f"{name}.txt", threads=threads, **SETTINGS).test(grouped / "test.txt")[1]
              for name in ("grouped", "shuffled")}
    assert scores["grouped"] >= 0.8 and abs(scores["grouped"] - scores["shuffled"]) <= 0.02, scores
    # in file order the last label's lines dominate: this is what shuffle=False keeps
    in_order = train_classifier(grouped / "grouped.txt", threads=threads, shuffle=False, **SETTINGS)
    assert in_order.test(grouped / "test.txt")[1] < 0.8


def test_the_classifier_resumes_mid_epoch_into_the_same_order(grouped, tmp_path, monkeypatch):
    settings = dict(SETTINGS, deterministic=True, chunk_words=4000, checkpoint_seconds=0)
    whole = train_classifier(grouped / "grouped.txt", tmp_path / "whole.bin", **settings)
    real, calls = ops.supervised_train_chunk_, {"n": 0}

    def train_then_interrupt(*args, **kwargs):
        stats = real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 12:  # in the second epoch (9 chunks an epoch)
            signal.raise_signal(signal.SIGINT)
        return stats

    monkeypatch.setattr(ops, "supervised_train_chunk_", train_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        train_classifier(grouped / "grouped.txt", tmp_path / "cut.bin", **settings)
    monkeypatch.undo()
    saved = torch.load(tmp_path / "cut.bin.work" / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 1 and saved["chunk"] > 0  # stopped mid-epoch
    resumed = train_classifier(grouped / "grouped.txt", tmp_path / "cut.bin", resume=True, **settings)
    assert torch.equal(resumed.input_vectors, whole.input_vectors)
    assert torch.equal(resumed.output_vectors, whole.output_vectors)
    assert (tmp_path / "cut.bin").read_bytes() == (tmp_path / "whole.bin").read_bytes()


def test_the_command_line_keeps_file_order_on_request():
    from wordembed.cli.parser import build_parser
    parser = build_parser()
    for command in ("train", "supervised"):
        assert parser.parse_args([command, "in.txt", "-o", "out.bin"]).shuffle is True
        assert parser.parse_args([command, "in.txt", "-o", "out.bin", "--no-shuffle"]).shuffle is False


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_shuffle_must_be_true_or_false_before_any_work(tmp_path, value):
    from wordembed import TrainingError, train_vectors
    corpus = tmp_path / "c.txt"
    corpus.write_text("__label__a x y\n")
    for train in (train_classifier, train_vectors):
        with pytest.raises(TrainingError, match="shuffle must be True or False"):
            train(corpus, tmp_path / "out.bin", shuffle=value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.txt"]
