"""fastText's subwords: the character n-grams of "<word>" hashed into buckets exactly as fastText
hashes them, so that a word maps to the same buckets here and there, and the vectors they give to
words, seen or not.

A subword model's input table holds the V words' own rows, then `bucket` n-gram rows: word w
trains the bag [w, V + b1, V + b2, ...] and its vector is the mean of those rows; a word never
seen in training gets the mean of its n-gram rows alone (fastText's getWordVector).
"""
import array
from dataclasses import dataclass, field

import numpy as np
import torch

_FNV_OFFSET, _FNV_PRIME, _MASK32 = 2166136261, 16777619, 0xFFFFFFFF
BOW, EOW = "<", ">"  # fastText's word boundaries
EOS = "</s>"  # fastText's line end, a word of its own that has no n-grams


def fasttext_hash(data: bytes) -> int:
    """32-bit FNV-1a as fastText computes it: each byte is taken as a signed char and widened to
    32 bits, so bytes >= 0x80 flip the top 24 bits as well."""
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ (byte | 0xFFFFFF00 if byte & 0x80 else byte)) * _FNV_PRIME) & _MASK32
    return h


def check_settings(minn: int, maxn: int, bucket: int) -> None:
    """minn and maxn count characters; bucket 0 (or maxn 0) means no subwords. Any order of minn
    and maxn is taken, as fastText takes it from a model file (minn > maxn: no n-grams); training
    asks for 1 <= minn <= maxn (TrainConfig.check)."""
    for name, value in (("minn", minn), ("maxn", maxn), ("bucket", bucket)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    if bucket > 2**31 - 1:
        raise ValueError(f"bucket must be below 2**31 (fastText's limit), got {bucket}")


def ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> list:
    """The bucket of each character n-gram of "<word>" with minn <= n <= maxn, in fastText's order
    (by start, then length) and with its repeats; "<" and ">" alone are no n-grams, and fastText's
    line-end word "</s>" has none."""
    if not bucket or not maxn or word in (EOS, EOS.encode()):
        return []
    # bytes: a token as the file has it (labelled text need not be UTF-8)
    data = b"<" + word + b">" if isinstance(word, bytes) else (BOW + word + EOW).encode("utf-8", "surrogatepass")
    size, buckets = len(data), []
    for i in range(size):
        if data[i] & 0xC0 == 0x80:  # inside a character
            continue
        h, j, n = _FNV_OFFSET, i, 1
        while j < size and n <= maxn:
            while True:  # the character's bytes
                byte = data[j]
                h = ((h ^ (byte | 0xFFFFFF00 if byte & 0x80 else byte)) * _FNV_PRIME) & _MASK32
                j += 1
                if j >= size or data[j] & 0xC0 != 0x80:
                    break
            if n >= minn and not (n == 1 and (i == 0 or j == size)):
                buckets.append(h % bucket)
            n += 1
    return buckets


def ngrams(word: str, minn: int, maxn: int) -> list:
    """The character n-grams of "<word>" that ngram_buckets hashes, as str, in its order (fastText's
    getSubwords shows them so)."""
    if not maxn or word == EOS:
        return []
    data = (BOW + word + EOW).encode("utf-8", "surrogatepass")
    starts = [i for i in range(len(data)) if data[i] & 0xC0 != 0x80] + [len(data)]
    found = []
    for a in range(len(starts) - 1):
        for n in range(1, maxn + 1):
            if a + n >= len(starts):
                break
            if n >= minn and not (n == 1 and (a == 0 or a + n == len(starts) - 1)):
                found.append(data[starts[a]:starts[a + n]].decode("utf-8", "surrogatepass"))
    return found


def word_bags(words, minn: int, maxn: int, bucket: int):
    """The input rows of every word as CSR: word w trains rows[offsets[w]:offsets[w+1]], its own
    row w first, then V + the bucket of each of its n-grams."""
    V = len(words)
    offsets = np.zeros(V + 1, dtype=np.int64)
    rows = array.array("q")  # 8 bytes a row, where a list of Python ints takes 36
    for w, word in enumerate(words):
        rows.append(w)
        rows.extend(V + b for b in ngram_buckets(word, minn, maxn, bucket))
        offsets[w + 1] = len(rows)
    return torch.from_numpy(offsets), torch.from_numpy(np.frombuffer(rows, dtype=np.int64).copy())


@dataclass
class Subwords:
    """What a subword model adds to its word vectors: the n-gram rows and the words' own input
    rows (a word's vector is their mean), and the settings that hash a word into buckets."""
    minn: int
    maxn: int
    bucket: int
    word_rows: torch.Tensor   # (V, D): each word's own input row
    ngram_rows: torch.Tensor  # (bucket, D)
    output_rows: torch.Tensor | None = None  # (V, D): the output table, kept for a fastText .bin
    settings: dict = field(default_factory=dict)  # the training settings, in fastText's names

    def __post_init__(self):
        check_settings(self.minn, self.maxn, self.bucket)
        if self.ngram_rows.shape[0] != self.bucket or self.word_rows.shape[1] != self.ngram_rows.shape[1]:
            raise ValueError(f"need {self.bucket} n-gram rows of the words' width {self.word_rows.shape[1]}, "
                             f"got {tuple(self.ngram_rows.shape)}")

    def word_vectors(self, words, bags=None, chunk: int = 512) -> torch.Tensor:
        """Each word's vector: the mean of its bag, its own row and its n-gram rows (fastText's
        rule). bags: word_bags(words, ...) when the caller has them (training does), else made
        here. `chunk` words at a time, so that the gathered n-gram rows stay a few MB."""
        offsets, rows = bags if bags is not None else word_bags(words, self.minn, self.maxn, self.bucket)
        offsets, rows = offsets.cpu(), rows.cpu()
        V = len(words)
        out = torch.empty_like(self.word_rows)
        for w0 in range(0, V, chunk):
            w1 = min(w0 + chunk, V)
            sizes = offsets[w0 + 1:w1 + 1] - offsets[w0:w1]
            ngrams = rows[offsets[w0]:offsets[w1]]
            own = torch.zeros(len(ngrams), dtype=torch.bool)
            own[offsets[w0:w1] - offsets[w0]] = True  # each bag starts with the word's own row
            owner = torch.repeat_interleave(torch.arange(w1 - w0), sizes - 1)
            sums = self.word_rows[w0:w1].double().index_add(0, owner, self.ngram_rows[ngrams[~own] - V].double())
            out[w0:w1] = (sums / sizes.unsqueeze(1)).to(out.dtype)
        return out

    def unseen_vector(self, word: str) -> torch.Tensor:
        """The vector of a word outside the vocabulary: the mean of its n-gram rows; a KeyError if
        it has no n-gram of minn to maxn characters."""
        buckets = ngram_buckets(word, self.minn, self.maxn, self.bucket)
        if not buckets:
            raise KeyError(f"word {word!r} is not in the vocabulary and has no character n-gram of "
                           f"{self.minn} to {self.maxn} characters to build a vector from")
        return self.ngram_rows[torch.tensor(buckets)].double().mean(0).to(self.ngram_rows.dtype)
