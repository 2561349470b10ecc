"""Vocabulary and subsampling maths on hand-made corpora, and the encoded corpus stream."""
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from wordembed.text.corpus import EncodedCorpus, encode_corpus
from wordembed.text.vocab import Vocabulary

TEXT = "the cat sat on the mat\nthe dog sat\n\na cat and a dog\n"


def write(tmp_path, text, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_counts_order_and_min_count(tmp_path):
    vocab = Vocabulary.from_file(write(tmp_path, TEXT), min_count=2)
    # the:3, cat:2, sat:2, dog:2, a:2 (ties in order of first appearance); singletons dropped
    assert vocab.ix_to_word == ["the", "cat", "sat", "dog", "a"]
    assert vocab.counts.tolist() == [3, 2, 2, 2, 2]
    assert vocab.word_to_ix["dog"] == 3 and "mat" not in vocab
    assert vocab.total_tokens == 14 and vocab.total_count == 11


def test_vocabulary_cap_keeps_the_most_frequent(tmp_path):
    vocab = Vocabulary.from_file(write(tmp_path, TEXT), min_count=1, max_size=3)
    assert vocab.ix_to_word == ["the", "cat", "sat"]


def test_bad_utf8_is_replaced_not_fatal(tmp_path):
    vocab = Vocabulary.from_file(write(tmp_path, b"caf\xe9 ok ok\n"), min_count=1)
    assert vocab.ix_to_word == ["ok", "caf\ufffd"]


def test_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus file not found"):
        Vocabulary.from_file(tmp_path / "nope.txt")


def test_keep_probabilities_follow_word2vec():
    vocab = Vocabulary(["a", "b", "c"], [1000, 100, 1])
    sample = 1e-2
    t = sample * 1101
    keep = vocab.keep_probabilities(sample)
    for i, c in enumerate([1000, 100, 1]):
        assert keep[i].item() == pytest.approx(min(1.0, (math.sqrt(c / t) + 1) * t / c))
    assert keep[0] < keep[1] < 1 and keep[2] == 1
    assert torch.equal(vocab.keep_probabilities(0), torch.ones(3, dtype=torch.float64))


def test_noise_distribution_is_unigram_to_the_three_quarters():
    vocab = Vocabulary(["a", "b"], [16, 1])
    p = vocab.noise_distribution()
    assert p.sum().item() == pytest.approx(1.0)
    assert (p[0] / p[1]).item() == pytest.approx(16 ** 0.75)


def test_encoded_corpus_round_trip_and_chunks(tmp_path):
    vocab = Vocabulary.from_file(write(tmp_path, TEXT), min_count=2)
    corpus = encode_corpus(tmp_path / "corpus.txt", vocab, tmp_path / "enc")
    sentences = [[vocab.ix_to_word[i] for i in corpus.ids[s:e]]
                 for s, e in zip(corpus.starts[:-1], corpus.starts[1:])]
    assert sentences == [["the", "cat", "sat", "the"], ["the", "dog", "sat"], ["a", "cat", "a", "dog"]]
    assert corpus.ids.dtype == np.int32 and corpus.num_words == 11
    reopened = EncodedCorpus(tmp_path / "enc")
    assert np.array_equal(reopened.ids, corpus.ids)
    chunks = list(reopened.chunks(chunk_words=5))
    assert np.array_equal(np.concatenate([ids for ids, _ in chunks]), corpus.ids)
    for ids, starts in chunks:
        assert starts[0] == 0 and starts[-1] == len(ids)


def test_long_lines_are_split_not_truncated(tmp_path):
    words = " ".join(f"w{i % 7}" for i in range(25))
    path = write(tmp_path, words + "\n")
    vocab = Vocabulary.from_file(path, min_count=1)
    corpus = encode_corpus(path, vocab, tmp_path / "enc", max_sentence_words=10)
    assert corpus.num_words == 25
    assert corpus.starts.tolist() == [0, 10, 20, 25]


def test_half_written_corpus_is_refused(tmp_path):
    vocab = Vocabulary.from_file(write(tmp_path, TEXT), min_count=1)
    encode_corpus(tmp_path / "corpus.txt", vocab, tmp_path / "enc")
    (tmp_path / "enc.ids").write_bytes((tmp_path / "enc.ids").read_bytes()[:-4])
    with pytest.raises(ValueError, match="do not match"):
        EncodedCorpus(tmp_path / "enc")


CORPUS_TEXT = st.text(alphabet=st.sampled_from(list("abcd \n\r\t") + ["\u00e9", "\u2028", "\xff"]), max_size=400)


@settings(max_examples=100, deadline=None)
@given(text=CORPUS_TEXT, max_words=st.integers(1, 6), piece_chars=st.integers(1, 30), min_count=st.integers(1, 3))
def test_encoding_in_pieces_equals_encoding_whole_lines(tmp_path_factory, text, max_words, piece_chars, min_count):
    """The reference: each line split whole, unknown words dropped, cut into sentences of at most
    max_words; whatever the size of the pieces the text is read in."""
    folder = tmp_path_factory.mktemp("enc")
    path = folder / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    vocab = Vocabulary.from_file(path, min_count=min_count)
    corpus = encode_corpus(path, vocab, folder / "enc", max_sentence_words=max_words, piece_chars=piece_chars,
                           pipeline="python")
    expected = []
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for line in f:
            ids = [vocab.word_to_ix[w] for w in line.split() if w in vocab.word_to_ix]
            expected += [ids[i:i + max_words] for i in range(0, len(ids), max_words)]
    got = [corpus.ids[s:e].tolist() for s, e in zip(corpus.starts[:-1], corpus.starts[1:])]
    assert got == expected


def test_a_corpus_of_one_long_line_is_prepared_in_bounded_memory(tmp_path):
    """20 MB on one line: reading it whole and splitting it would take hundreds of MB."""
    path = tmp_path / "one_line.txt"
    with open(path, "w") as f:
        for block in range(40):
            f.write(" ".join(f"w{(block * 7919 + i) % 5000}" for i in range(100_000)) + " ")
    script = f"""
import wordembed
from wordembed.text.corpus import encode_corpus
from wordembed.memory import resident_bytes
from wordembed.text.vocab import Vocabulary
base = resident_bytes()
vocab = Vocabulary.from_file({str(path)!r}, min_count=1)
corpus = encode_corpus({str(path)!r}, vocab, {str(tmp_path / "enc")!r})
print(corpus.num_words, (resident_bytes(peak=True) - base) // 2**20)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    words, growth_mb = map(int, run.stdout.split())
    assert words == 4_000_000
    assert growth_mb < 80, f"preparing a one-line corpus grew the process by {growth_mb} MB"


def test_tokenizing_options_split_punctuation_and_fold_case(tmp_path):
    from wordembed.text.tokenizing import Tokenizer
    path = write(tmp_path, "Australia, said. The australia said\nwell-known don't 3.5 THE end\n")
    plain = Vocabulary.from_file(path, min_count=1)
    assert {"Australia,", "said.", "The"} <= set(plain.ix_to_word)
    words = Tokenizer("words", lowercase=True)
    vocab = Vocabulary.from_file(path, min_count=1, tokenizer=words)
    assert vocab.ix_to_word[:3] == ["australia", "said", "the"] and vocab.counts[:3].tolist() == [2, 2, 2]
    assert {",", ".", "well-known", "don't", "3.5"} <= set(vocab.ix_to_word)
    corpus = encode_corpus(path, vocab, tmp_path / "enc", tokenizer=words)
    first = [vocab.ix_to_word[i] for i in corpus.ids[:corpus.starts[1]]]
    assert first == ["australia", ",", "said", ".", "the", "australia", "said"]
    with pytest.raises(ValueError, match="tokenize must be one of"):
        Tokenizer("spacy")


def test_training_with_tokenizing_options_from_the_command_line(tmp_path):
    path = write(tmp_path, "Cat, dog. Cat dog\n" * 50)
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(path), "-o", str(tmp_path / "v.txt"),
                          "--min-count", "1", "--epochs", "1", "--dim", "8", "--tokenize", "words", "--lowercase"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    words = [line.split()[0] for line in (tmp_path / "v.txt").read_text().splitlines()[1:]]
    assert sorted(words) == [",", ".", "cat", "dog"]
