"""Labelled text for the classifier, read as fastText reads it: one example per line, tokens
separated by ' ', '\\t', '\\v', '\\f', '\\r' or NUL, a token that starts with the label prefix
(`__label__`) a label, every other a word; each line ends with the word "</s>" (fastText's EOS),
except a last line with no newline. Bytes are taken as they are (a token need not be UTF-8: its
str form here keeps the bytes as surrogates, so it goes back to the same bytes).

The dictionary: words seen at least min_count times and labels seen at least min_count_label
times, each kind most frequent first (ties in order of first appearance). A line's input rows,
in fastText's order: each word's row (with char n-grams, its row and its n-gram rows; a word not
in the dictionary, its n-gram rows alone), then the hashed word n-grams of 2..word_ngrams
consecutive words, unknown words included (fastText's dictionary.cc).

The compiled ops (csrc/corpus/labelled_lines.cpp) do the counting and encoding; the Python
functions here are their twins (`*_python`), for the tests."""
import dataclasses
import mmap
import os
import typing
import warnings

import numpy as np
import torch

from . import subwords
from .subwords import EOS, fasttext_hash, ngram_buckets

LABEL_PREFIX = "__label__"
SEPARATORS = b" \t\v\f\r\0"
_NGRAM_MULTIPLIER, _MASK64 = 116049371, (1 << 64) - 1


def token_str(token: bytes) -> str:
    return token.decode("utf-8", "surrogateescape")


def token_bytes(token: str) -> bytes:
    return token.encode("utf-8", "surrogateescape")


@dataclasses.dataclass
class LabelledDictionary:
    words: list            # str, most frequent first; "</s>" among them
    word_counts: list
    labels: list           # str, with their prefix, most frequent first
    label_counts: list
    ntokens: int           # tokens read, labels and "</s>" included (fastText's ntokens)
    label_prefix: str = LABEL_PREFIX

    @property
    def nwords(self) -> int:
        return len(self.words)

    def entries(self) -> torch.Tensor:
        """Words then labels as bytes joined by '\\n' (the compiled encoder's vocabulary)."""
        tokens = self.words + self.labels
        if not tokens:
            return torch.zeros(0, dtype=torch.uint8)
        joined = bytearray(token_bytes("\n".join(tokens) + "\n"))  # one encode, not one per token
        return torch.frombuffer(joined, dtype=torch.uint8)


def check_label_prefix(prefix) -> str:
    if not isinstance(prefix, str) or not prefix or any(c in SEPARATORS + b"\n" for c in token_bytes(prefix)):
        raise ValueError(f"the label prefix must be a non-empty token without spaces, got {prefix!r}")
    return prefix


def text_tensor(data) -> torch.Tensor:
    """The bytes of data (bytes, or a file's path, memory-mapped) as a uint8 tensor."""
    if isinstance(data, (bytes, bytearray)):
        return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)
    with open(data, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return torch.zeros(0, dtype=torch.uint8)
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    with warnings.catch_warnings():  # read only: the ops never write to it
        warnings.simplefilter("ignore", UserWarning)
        return torch.frombuffer(mapped, dtype=torch.uint8)


def lines_bytes(texts) -> bytes:
    """Texts (str, one example each, no newline inside) as the lines of one text."""
    out = []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is a {type(text).__name__}, not a str")
        if "\n" in text:
            raise ValueError(f"text {i} holds a newline: one example is one line (split it, or replace the "
                             "newlines with spaces)")
        out.append(token_bytes(text) + b"\n")
    return b"".join(out)


def pairs_bytes(pairs, label_prefix=LABEL_PREFIX) -> bytes:
    """(text, labels) pairs (labels: one str or a list; the prefix added where it is missing) as
    fastText's lines: the labels, then the text."""
    lines = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"example {i} must be a (text, labels) pair, got {pair!r:.80}")
        text, labels = pair
        labels = [labels] if isinstance(labels, str) else list(labels)
        for label in labels:
            if not isinstance(label, str) or not label or any(c.isspace() or c == "\0" for c in label):
                raise ValueError(f"example {i}: a label must be a non-empty str without spaces, got {label!r}")
        labels = [l if l.startswith(label_prefix) else label_prefix + l for l in labels]
        lines.append(" ".join(labels + [text]))
    return lines_bytes(lines)


class TokenCounts(typing.NamedTuple):
    """Every token (str) and its count, in order of first appearance, and the lines ended."""
    tokens: list
    counts: list
    lines: int


def build_dictionary(counted: TokenCounts, label_prefix, min_count, min_count_label) -> LabelledDictionary:
    """The dictionary from every token's count."""
    tokens, counts = counted.tokens, np.asarray(counted.counts, dtype=np.int64)
    is_label = np.fromiter((t.startswith(label_prefix) for t in tokens), dtype=bool, count=len(tokens))
    kept = np.flatnonzero(counts >= np.where(is_label, min_count_label, min_count))
    kept = kept[np.argsort(-counts[kept], kind="stable")]  # stable: ties keep their first appearance
    words, labels = kept[~is_label[kept]].tolist(), kept[is_label[kept]].tolist()
    counts = counts.tolist()
    return LabelledDictionary([tokens[i] for i in words], [counts[i] for i in words], [tokens[i] for i in labels],
                              [counts[i] for i in labels], sum(counts), label_prefix)


def count_tokens(text: torch.Tensor) -> TokenCounts:
    """Every token of a text and its count (the compiled op)."""
    joined, counts, lines = torch.ops.wordembed.count_labelled_tokens(text)
    # decoded whole, then split: no bytes object per token (their garbage would stay in the
    # process's memory, between the tokens kept, through the training)
    tokens = bytes(joined.numpy()).decode("utf-8", "surrogateescape").split("\n")[:-1]
    return TokenCounts(tokens, counts.tolist(), lines)


def encode(text: torch.Tensor, dictionary: LabelledDictionary, word_ngrams: int, bucket: int, minn: int, maxn: int,
           keep_unlabelled: bool, entries: torch.Tensor | None = None, word_bags: bool = False,
           bucket_rows: torch.Tensor | None = None):
    """(ids int32, starts int64): each line as its labels (-1 - label) then its input rows.
    entries: dictionary.entries(), made once by a caller that encodes again and again.
    word_bags: a known word as its own id alone, standing for its bag (word_bags()).
    bucket_rows: a pruned model's n-gram rows (see keep_bucket_rows)."""
    entries = dictionary.entries() if entries is None else entries
    ids, starts = torch.ops.wordembed.encode_labelled_lines(text, entries, dictionary.nwords,
                                                            dictionary.label_prefix, word_ngrams, bucket, minn, maxn,
                                                            keep_unlabelled, word_bags)
    return (ids, starts) if bucket_rows is None else keep_bucket_rows(ids, starts, dictionary.nwords, bucket_rows)


def keep_bucket_rows(ids: torch.Tensor, starts: torch.Tensor, nwords: int, bucket_rows: torch.Tensor):
    """(ids, starts) of a pruned model (fastText's quantize -cutoff): bucket_rows[b] is the row,
    after the words', that n-gram bucket b kept, or -1 where it has none; an n-gram id
    (nwords + b) becomes nwords + bucket_rows[b], or leaves its line."""
    ngram = ids >= nwords
    rows = bucket_rows[(ids[ngram] - nwords).long()].to(ids.dtype)
    ids = ids.clone()
    ids[ngram] = torch.where(rows >= 0, rows + nwords, -1 - (1 << 30))
    kept = ~ngram | (ids >= 0)
    kept_before = torch.cat([kept.new_zeros(1, dtype=torch.int64), kept.cumsum(0)])
    return ids[kept], kept_before[starts]


def word_bags(dictionary: LabelledDictionary, bucket: int, minn: int, maxn: int):
    """(bag_offsets, bag_rows), int64: word w as the bag of its row and its char n-gram rows,
    bag_rows[bag_offsets[w]:bag_offsets[w + 1]] (the compiled op)."""
    return torch.ops.wordembed.labelled_word_bags(dictionary.entries(), dictionary.nwords, bucket, minn, maxn)


def word_bags_python(dictionary: LabelledDictionary, bucket: int, minn: int, maxn: int):
    """The twin of word_bags: the word vectors' bags (subwords.word_bags), over the words' bytes."""
    return subwords.word_bags([token_bytes(w) for w in dictionary.words], minn, maxn, bucket)


def _tokens_python(data: bytes):
    """fastText's readWord over data: each line's tokens, "</s>" closing each '\\n'."""
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        tokens = list(_split_separators(line))
        if i < len(lines) - 1:
            yield tokens + [token_bytes(EOS)], True
        elif tokens:
            yield tokens, False


def _split_separators(line: bytes):
    word = bytearray()
    for byte in line:
        if byte in SEPARATORS:
            if word:
                yield bytes(word)
                word = bytearray()
        else:
            word.append(byte)
    if word:
        yield bytes(word)


def count_tokens_python(data: bytes) -> TokenCounts:
    """The twin of count_tokens."""
    counts, lines = {}, 0
    for tokens, ended in _tokens_python(data):
        for t in tokens:
            counts[token_str(t)] = counts.get(token_str(t), 0) + 1
        lines += ended
    return TokenCounts(list(counts), list(counts.values()), lines)


def encode_python(data: bytes, dictionary: LabelledDictionary, word_ngrams: int, bucket: int, minn: int, maxn: int,
                  keep_unlabelled: bool, word_bags: bool = False):
    """The twin of encode, one token at a time."""
    index = {w: i for i, w in enumerate(dictionary.words + dictionary.labels)}
    nwords, ids, starts = dictionary.nwords, [], [0]
    for tokens, _ in _tokens_python(data):
        labels, rows, hashes = [], [], []
        for raw in tokens:
            token = token_str(raw)
            i = index.get(token, -1)
            if (i >= nwords) if i >= 0 else token.startswith(dictionary.label_prefix):
                labels += [i - nwords] if i >= 0 else []
                continue
            rows += [i] if i >= 0 else []
            if maxn > 0 and token != EOS and not (word_bags and i >= 0):
                rows += [nwords + b for b in ngram_buckets(raw, minn, maxn, bucket)]
            h = fasttext_hash(raw)
            hashes.append(h - (1 << 32) if h >= 1 << 31 else h)
        if not keep_unlabelled and not (labels and rows):
            continue
        for i in range(len(hashes)):
            h = hashes[i] & _MASK64
            for j in range(i + 1, min(len(hashes), i + word_ngrams)):
                h = (h * _NGRAM_MULTIPLIER + (hashes[j] & _MASK64)) & _MASK64
                rows.append(nwords + h % bucket)
        ids += [-1 - l for l in labels] + rows
        starts.append(len(ids))
    return torch.tensor(ids, dtype=torch.int32), torch.tensor(starts, dtype=torch.int64)
