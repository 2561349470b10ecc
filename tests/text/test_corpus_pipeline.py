"""The compiled corpus pipeline (csrc/corpus, wordembed/text/pipeline.py) against its Python twins:
the same vocabulary (words, order, counts, total) and byte-identical encoded files, on corpora
with ties, long lines, bad UTF-8, CRLF, Unicode spaces and no final newline, for any thread
count and block size; word2vec's pruning; errors and Ctrl-C."""
import collections
import filecmp
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wordembed.text import pipeline
from wordembed.text.corpus import encode_corpus
from wordembed.text.sentences import token_pieces
from wordembed.text.tokenizing import Tokenizer
from wordembed.text.vocab import Vocabulary

# Bytes that test every branch of the scanner: ASCII words and spaces, '\r', every kind of
# Unicode space, characters of 2-4 bytes, a zero-width space (not whitespace), and ill-formed
# UTF-8: stray continuation bytes, overlong forms, surrogates, truncated sequences, F5-FF.
PIECES = [b"a", b"b", b"ab", b"the", b" ", b"  ", b"\n", b"\r\n", b"\t", b"\x0b", b"\x1c", b"\x1f",
          "é".encode(), "中".encode(), "😀".encode(), "\u200b".encode(), "\u2028".encode(), "\u3000".encode(),
          "\x85".encode(), "\xa0".encode(), "\u205f".encode(), b"\xef\xbb\xbf", b"\x00",
          b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf0\x90\x80", b"\xf0\x80",
          b"\xf4\x90\x80\x80", b"\xf5", b"\xff", b"\xe0\x80\xaf"]
CORPUS = st.lists(st.sampled_from(PIECES), max_size=200).map(b"".join)
BLOCK_BYTES = st.integers(1, 40)  # blocks far smaller than a line: every cut is tried


def examples(n):
    """Hypothesis settings of these tests: n files each, written into the test's tmp_path."""
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(folder, data: bytes, name="c.txt"):
    path = folder / name
    path.write_bytes(data)
    return path


def vocabularies_agree(a: Vocabulary, b: Vocabulary):
    assert a.ix_to_word == b.ix_to_word
    assert a.counts.tolist() == b.counts.tolist()
    assert a.total_tokens == b.total_tokens and a.pruned_below == b.pruned_below


def encodings_agree(path, vocab, folder, **options):
    native = encode_corpus(path, vocab, folder / "native", pipeline="native", **options)
    python = encode_corpus(path, vocab, folder / "python", pipeline="python", **options)
    for suffix in (".ids", ".starts"):
        assert filecmp.cmp(str(folder / ("native" + suffix)), str(folder / ("python" + suffix)), shallow=False), suffix
    return native


def test_whitespace_is_what_str_split_splits_on(tmp_path):
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    not_spaces = ["\u200b", "\u180e", "\ufeff", "\x00", "\x1b", "\u2060"]
    text = "x".join(spaces + not_spaces) + "x"
    path = write(tmp_path, text.encode())
    counter, total, _ = pipeline.count_file_native(path)
    assert list(counter.items()) == list(collections.Counter(text.split()).items())
    assert total == len(text.split())


@examples(450)
@given(data=CORPUS, block_bytes=BLOCK_BYTES, threads=st.integers(1, 4), min_count=st.integers(1, 3),
       bound=st.none() | st.integers(1, 6))
def test_counts_and_pruning_equal_the_python_twin(tmp_path, data, block_bytes, threads, min_count, bound):
    path = write(tmp_path, data)
    native, total, native_reduce = pipeline.count_file_native(path, max_vocab_size=bound, min_count=min_count,
                                                              threads=threads, block_bytes=block_bytes)
    twin, twin_reduce = pipeline.count_file_python(path, max_vocab_size=bound, block_bytes=block_bytes)
    assert list(native.items()) == [(w, c) for w, c in twin.items() if c >= min_count]
    assert native_reduce == twin_reduce
    tokens = data.decode("utf-8", errors="replace").split()
    assert total == len(tokens)
    if bound is None:  # the twin reads blocks; the trainer's reference reads the text as a stream: all agree
        assert list(twin.items()) == list(collections.Counter(tokens).items()) and twin_reduce == 0
    else:
        assert len(twin) <= bound


@examples(300)
@given(data=CORPUS, block_bytes=BLOCK_BYTES, threads=st.integers(1, 4), min_count=st.integers(1, 3),
       max_words=st.integers(1, 5))
def test_encoded_files_are_byte_identical_to_the_python_twin(tmp_path, data, block_bytes, threads, min_count,
                                                             max_words):
    path = write(tmp_path, data)
    native = Vocabulary.from_corpus(path, min_count, pipeline="native", threads=threads)
    python = Vocabulary.from_corpus(path, min_count, pipeline="python")
    vocabularies_agree(native, python)
    with open(tmp_path / "n.ids", "wb") as ids, open(tmp_path / "n.starts", "wb") as starts:
        pipeline.encode_file_native(path, native, ids, starts, max_words, threads=threads, block_bytes=block_bytes)
    encode_corpus(path, python, tmp_path / "p", max_sentence_words=max_words, pipeline="python")
    assert (tmp_path / "n.ids").read_bytes() == (tmp_path / "p.ids").read_bytes()
    assert (tmp_path / "n.starts").read_bytes() == (tmp_path / "p.starts").read_bytes()


NAMED = {
    "ties in order of first appearance": b"c b a\nb c a\na b c\nz\n",
    "CRLF line ends": b"one two\r\ntwo three\r\n\r\nthree one\r\n",
    "no final newline": b"one two\nthree one two",
    "bad UTF-8 inside and around words": b"caf\xe9 caf\xc3\xa9 \xff\xfeword\x80 \xe2\x82\n\xf0\x9f\x98 end\xed\xa0\x80",
    "a byte-order mark and NULs": b"\xef\xbb\xbfstart of\x00 file\nof file\x00\n",
    "Unicode spaces and line separators": "a\u2028b\u3000c\x85d\u00a0a\u200bb\nc d\n".encode(),
    "empty": b"",
    "only whitespace": b" \n\n\t \r\n  ",
    "blank lines between lines": b"\n\na b\n\n\nb a\n\n",
}


@pytest.mark.parametrize("name", NAMED)
@pytest.mark.parametrize("threads", [1, 3])
def test_named_corpora(tmp_path, name, threads):
    path = write(tmp_path, NAMED[name])
    native = Vocabulary.from_corpus(path, 1, pipeline="native", threads=threads)
    vocabularies_agree(native, Vocabulary.from_corpus(path, 1, pipeline="python"))
    encodings_agree(path, native, tmp_path, max_sentence_words=2, threads=threads)


def test_long_lines_split_into_sentences_across_blocks(tmp_path):
    """Lines far longer than a block, and a token longer than several blocks."""
    g = torch.Generator().manual_seed(0)
    words = [f"w{i}" for i in torch.randint(0, 3000, (60_000,), generator=g).tolist()]
    lines = [" ".join(words[:25_000]), "x" * 3_000_000 + " " + " ".join(words[25_000:40_000]),
             "short line", " ".join(words[40_000:]) + " "]
    path = write(tmp_path, "\n".join(lines).encode())
    native = Vocabulary.from_corpus(path, 2, pipeline="native", threads=2)
    vocabularies_agree(native, Vocabulary.from_corpus(path, 2, pipeline="python"))
    corpus = encodings_agree(path, native, tmp_path, threads=2)
    assert corpus.num_sentences > 6  # 10,000-word sentences, split across block ends


def test_results_do_not_depend_on_threads_or_blocks(tmp_path):
    g = torch.Generator().manual_seed(1)
    ranks = (torch.rand(400_000, generator=g) ** 4 * 20_000).long().tolist()  # Zipf-like counts
    text = "".join(f"t{r}" + ("\n" if i % 37 == 0 else " ") for i, r in enumerate(ranks))
    path = write(tmp_path, text.encode())
    outputs = set()
    for threads, block_bytes in [(1, 1 << 20), (2, 4096), (4, 997), (3, 1 << 16)]:
        counter, total, _ = pipeline.count_file_native(path, min_count=1, threads=threads, block_bytes=block_bytes)
        vocab = Vocabulary.from_counts(counter, 1, total_tokens=total)
        with open(tmp_path / "i", "wb") as ids, open(tmp_path / "s", "wb") as starts:
            pipeline.encode_file_native(path, vocab, ids, starts, 50, threads=threads, block_bytes=block_bytes)
        outputs.add((tuple(vocab.ix_to_word), (tmp_path / "i").read_bytes(), (tmp_path / "s").read_bytes()))
    assert len(outputs) == 1


def test_pruning_drops_the_rarest_words_seen_so_far(tmp_path):
    """Blocks of 8 bytes: after each, more than 3 distinct words drop those seen at most 1, 2, ...
    times so far; a word dropped and seen again starts from zero."""
    path = write(tmp_path, b"a a a b\nc d e b\nd d d d\nb b b b\n")
    counter, min_reduce = pipeline.count_file_python(path, max_vocab_size=3, block_bytes=8)
    # block 1 "a a a b\n": a3 b1; block 2 "c d e b\n": a3 b2 c1 d1 e1 -> drop <= 1: a3 b2;
    # block 3: a3 b2 d4; block 4: a3 b6 d4
    assert list(counter.items()) == [("a", 3), ("b", 6), ("d", 4)] and min_reduce == 1
    native, total, native_reduce = pipeline.count_file_native(path, max_vocab_size=3, block_bytes=8)
    assert list(native.items()) == list(counter.items()) and native_reduce == 1 and total == 16
    vocab = Vocabulary.from_corpus(path, 1, max_vocab_size=3)
    assert vocab.ix_to_word == ["b", "d", "a"] and vocab.total_tokens == 16 and vocab.pruned_below > 0


def test_sentences_are_pruned_after_each_sentence_as_gensim_does():
    sentences = [["a", "a", "b"], ["c", "d"], ["c", "a"]]
    vocab = Vocabulary.from_corpus(sentences, 1, max_vocab_size=2)
    # after 2: a2 b1 c1 d1 -> drop <= 1: a2; after 3: a3 c1
    assert vocab.ix_to_word == ["a", "c"] and vocab.counts.tolist() == [3, 1] and vocab.pruned_below == 1


@pytest.mark.parametrize("mode,lowercase", [("words", False), ("whitespace", True), ("words", True)])
def test_tokenizers_give_the_same_result_natively(tmp_path, mode, lowercase):
    text = ("The cat, the CAT's hat. Don't stop: 3.5 and 1,000! É É é\n" * 3 + "Hat, hat\r\n" + "end.").encode()
    path = write(tmp_path, text)
    tokenizer = Tokenizer(mode, lowercase)
    native = Vocabulary.from_corpus(path, 1, tokenizer=tokenizer, pipeline="native")
    python = Vocabulary.from_corpus(path, 1, tokenizer=tokenizer, pipeline="python")
    vocabularies_agree(native, python)
    stream = collections.Counter(t for tokens, _ in token_pieces(path) for t in tokenizer(tokens))
    assert native.ix_to_word == [w for w, _ in sorted(stream.items(), key=lambda wc: -wc[1])]
    encodings_agree(path, native, tmp_path, tokenizer=tokenizer, max_sentence_words=4)


def test_a_vocabulary_from_sentences_may_hold_words_no_file_token_matches(tmp_path):
    path = write(tmp_path, b"a b\nc a b\n")
    vocab = Vocabulary(["a b", "a", "", "\ud800", "b", "c\n"], [5, 4, 3, 2, 2, 1])
    encodings_agree(path, vocab, tmp_path)


def test_settings_beyond_int64_mean_no_bound(tmp_path):
    path = write(tmp_path, b"a b a\n")
    vocab = Vocabulary.from_corpus(path, 1, max_vocab_size=10**30)
    assert vocab.ix_to_word == ["a", "b"] and vocab.pruned_below == 0
    assert len(Vocabulary.from_corpus(path, 10**30)) == 0


def test_missing_or_unreadable_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="corpus file not found"):
        Vocabulary.from_corpus(tmp_path / "nope.txt")
    with pytest.raises(IsADirectoryError, match="is a folder: name a file"):
        Vocabulary.from_corpus(tmp_path)
    with pytest.raises(ValueError, match="pipeline must be one of native, python"):
        Vocabulary.from_corpus(write(tmp_path, b"a"), pipeline="rust")


def test_a_write_that_fails_is_an_os_error(tmp_path):
    path = write(tmp_path, b"a b c\n" * 1000)
    vocab = Vocabulary.from_corpus(path, 1)
    with open("/dev/full", "wb") as full, open(tmp_path / "s", "wb") as starts:
        with pytest.raises(OSError) as error:
            pipeline.encode_file_native(path, vocab, full, starts, 100)
    assert error.value.errno == 28  # ENOSPC


def test_a_set_cancel_flag_stops_the_op(tmp_path):
    path = write(tmp_path, b"a b c\n" * 1000)
    cancel = torch.ones(1, dtype=torch.uint8)
    with pytest.raises(RuntimeError, match="interrupted"):
        pipeline._load_ops().count_words(str(path), 1, 0, False, 64, 2, cancel)


def test_ctrl_c_stops_counting_at_once(tmp_path):
    """SIGINT while the compiled op runs: KeyboardInterrupt within a block's time, not at the end."""
    path = tmp_path / "big.txt"
    with open(path, "w") as f:
        line = " ".join(f"w{i}" for i in range(2000)) + "\n"
        for _ in range(20_000):  # 200 MB: counting it many times takes far longer than the test waits
            f.write(line)
    # Whatever SIGINT state the test runner hands down (a child inherits ignored signals and the
    # signal mask across exec), the child takes Ctrl-C as a user's shell gives it.
    script = f"""
import signal, sys, time
signal.pthread_sigmask(signal.SIG_UNBLOCK, {{signal.SIGINT}})
signal.signal(signal.SIGINT, signal.default_int_handler)
from wordembed.text import pipeline
pipeline._load_ops()
print("ready", flush=True)
start = time.monotonic()
try:
    for _ in range(100):
        pipeline.count_file_native({str(path)!r}, threads=1)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(0)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0 and "interrupted" in out
        assert time.monotonic() - sent < 5
    finally:
        proc.kill()  # a hung child must not outlive the test
