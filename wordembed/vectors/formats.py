"""Reading and writing word vectors: the word2vec text and binary formats (as the original
word2vec tool, gensim and fastText write them) and wordembed's native format.

Every writer goes through a temporary file in the destination folder and renames it at the end,
so an interrupted save never leaves a half-written file under the user's name.
"""
import os

import numpy as np
import torch

from ..arguments import check_count
from ..fileio import atomic_write, save_torch
from ..text.tokenizing import TOKENIZE_MODES

NATIVE_FORMAT = "wordembed-vectors"
NATIVE_VERSION = 2  # 2 added the subword rows
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save files are zip archives
_FASTTEXT_MAGIC = (793712314).to_bytes(4, "little")  # fastText's .bin models


class VectorsFileError(ValueError):
    """A vectors file that is truncated or malformed; the message says where it broke."""


def format_for_path(path) -> str:
    """'text' for *.txt, 'native' for *.pt / *.wordembed, else 'binary' (word2vec's .bin)."""
    name = os.fspath(path).lower()
    if name.endswith(".txt") or name.endswith(".vec"):
        return "text"
    if name.endswith(".pt") or name.endswith(".wordembed"):
        return "native"
    return "binary"


def save_word2vec(path, words, vectors, binary: bool) -> None:
    """Writes "<count> <dim>" and one word and its float32 vector per entry."""
    vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise ValueError(f"need one vector per word: {len(words)} words, vectors of shape {vectors.shape}")
    check_words(words)
    count, dim = vectors.shape
    with atomic_write(path) as f:
        f.write(f"{count} {dim}\n".encode())
        if binary:
            little = vectors.astype("<f4", copy=False)
            for word, row in zip(words, little):
                f.write(word.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            # %.9g prints every float32 exactly, so the text round trip loses nothing.
            row_format = " ".join(["%.9g"] * dim)
            for word, row in zip(words, vectors):  # a row at a time: a table as Python floats is 8x larger
                f.write((word + " " + (row_format % tuple(row.tolist())) + "\n").encode("utf-8"))


def check_words(words) -> None:
    """A ValueError naming the first word that word2vec's files cannot hold."""
    for word in words:
        if not word or any(ch.isspace() for ch in word):
            raise ValueError(f"word {word!r} cannot be stored in word2vec format: it is empty or holds whitespace")


class _ByteStream:
    """A file's bytes from an offset, read in blocks as they are asked for: a reader that stops
    after `limit` vectors never reads the rest of the file."""
    BLOCK = 1 << 20

    def __init__(self, f):
        self.f, self.data, self.i, self.base = f, b"", 0, 0  # data[0] is at file offset base

    @property
    def offset(self) -> int:
        return self.base + self.i

    def _more(self, need=1) -> bool:
        self.data, self.base, self.i = self.data[self.i:], self.base + self.i, 0
        chunk = self.f.read(max(self.BLOCK, need))
        self.data += chunk
        return bool(chunk)

    def skip(self, byte: int) -> None:
        while True:
            while self.i < len(self.data) and self.data[self.i] == byte:
                self.i += 1
            if self.i < len(self.data) or not self._more():
                return

    def peek_line(self, most: int) -> bytes:
        """The bytes up to the next line break (or `most` of them), left unread."""
        while self.data.find(b"\n", self.i) < 0 and len(self.data) - self.i < most and self._more():
            pass
        end = self.data.find(b"\n", self.i)
        return self.data[self.i:end if end >= 0 else self.i + most]

    def until(self, delimiter: bytes, at_end_too=False):
        """The bytes before the next delimiter, which is consumed; at the end of the file, None
        (or, with at_end_too, what is left, if anything)."""
        while True:
            j = self.data.find(delimiter, self.i)
            if j >= 0:
                out, self.i = self.data[self.i:j], j + len(delimiter)
                return out
            if not self._more(len(self.data) - self.i + 1):
                if at_end_too and self.i < len(self.data):
                    out, self.i = self.data[self.i:], len(self.data)
                    return out
                return None

    def take(self, n: int):
        while len(self.data) - self.i < n:
            if not self._more(n - (len(self.data) - self.i)):
                return None
        out, self.i = self.data[self.i:self.i + n], self.i + n
        return out


def _looks_binary(first_row: bytes) -> bool:
    """After the header, a text file's first row is a word and printed numbers on one line; a
    binary file's is a word and raw bytes, which do not read as such. The number of numbers is
    not part of the test: a text file whose rows disagree with its header is a text file with an
    error, reported as such."""
    try:
        text = first_row.decode("utf-8").rstrip()
    except UnicodeDecodeError:
        return True
    return not any(len(parts) >= 2 and _numbers(parts[1:]) for parts in _row_splits(text))


def _row_splits(text: str):
    """A text row's parts: split at spaces, the format's separator (a word may hold a tab), or, for
    files that separate with tabs, at any whitespace."""
    yield text.split(" ")
    yield text.split()


def _numbers(parts) -> bool:
    try:
        [float(x) for x in parts]
    except ValueError:
        return False
    return True


def load_word2vec(path, binary: bool | None = None, limit: int | None = None,
                  unicode_errors: str = "strict"):
    """Reads a word2vec text or binary file; returns (words, float32 array). binary=None detects
    the format; limit reads only the first `limit` vectors (and only the bytes they take)."""
    path = os.fspath(path)
    if limit is not None:
        check_count("limit", limit)
    name = os.path.basename(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        stream = _ByteStream(f)
        header = stream.until(b"\n", at_end_too=True) or b""
        try:
            count, dim = (int(x) for x in header.split())
            if count < 0 or dim < 1:
                raise ValueError
        except ValueError:
            raise VectorsFileError(f"{name}: line 1 should be '<count> <dim>' (two whole numbers, dim at least "
                                   f"1), got {header[:80]!r}") from None
        n = count if limit is None else min(count, limit)
        if binary is None:
            binary = _looks_binary(stream.peek_line(64 * dim + 65536)) if n else False
        # Every row takes at least this many bytes (a one-letter word, a space and the numbers, 4
        # bytes each in binary, ' 0' in text, and a line break): no more rows than the bytes can
        # hold are allocated, whatever the header claims; the loops below say where the file ends.
        least_row = 2 + (4 * dim if binary else 2 * dim)
        remaining = max(size - stream.offset, 0)
        fits = remaining // least_row + 1 if remaining + 1 >= least_row else 0
        if n and not fits:
            where = f"byte {stream.offset}" if binary else "line 2"
            raise VectorsFileError(f"{name}: truncated at {where}: the header promises {count} vectors of dim "
                                   f"{dim}, but only {remaining} bytes follow it")
        vectors = np.empty((min(n, fits), dim), dtype=np.float32)
        read_row = _read_binary_row if binary else _read_text_row
        words = [read_row(stream, i, vectors, name, count, dim, unicode_errors) for i in range(n)]
    if len(set(words)) != len(words):
        seen = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise VectorsFileError(f"{name}: the word {dup!r} appears twice")
    return words, vectors


def _read_binary_row(stream, i, vectors, name, count, dim, unicode_errors) -> str:
    stream.skip(ord("\n"))  # word2vec ends each vector with a line break
    start = stream.offset
    word = stream.until(b" ")
    row = stream.take(4 * dim) if word is not None else None
    if row is None:
        raise VectorsFileError(f"{name}: truncated at byte {start}: entry {i + 1} of {count} "
                               f"needs a word, a space and {4 * dim} bytes of vector")
    try:
        text = word.decode("utf-8", errors=unicode_errors)
    except UnicodeDecodeError as e:
        raise VectorsFileError(f"{name}: word at byte {start} is not valid UTF-8 ({e.reason})") from None
    vectors[i] = np.frombuffer(row, dtype="<f4", count=dim)
    return text


def _read_text_row(stream, i, vectors, name, count, dim, unicode_errors) -> str:
    line_no = i + 2
    line = stream.until(b"\n", at_end_too=True)
    if line is None or not line.strip():
        raise VectorsFileError(f"{name}: truncated at line {line_no}: the header promises {count} vectors")
    try:
        text = line.decode("utf-8", errors=unicode_errors).rstrip()
    except UnicodeDecodeError as e:
        raise VectorsFileError(f"{name}: line {line_no} is not valid UTF-8 ({e.reason})") from None
    parts = next((p for p in _row_splits(text) if len(p) == dim + 1), text.split(" "))
    if len(parts) != dim + 1:
        raise VectorsFileError(f"{name}: line {line_no} has {len(parts) - 1} numbers, expected {dim}")
    try:
        vectors[i] = [float(x) for x in parts[1:]]
    except ValueError:
        raise VectorsFileError(f"{name}: line {line_no} holds something that is not a number") from None
    return parts[0]


def save_native(path, words, vectors, counts=None, subwords=None, tokenizer=None, output_vectors=None) -> None:
    """Writes words, vectors and what word2vec files lack: the word counts, a subword model's
    n-gram rows and settings (format version 2), and two optional fields: how training tokenized
    its text (files without it read as whitespace-tokenized) and the output table of a model
    without subwords (from which training can continue)."""
    payload = {"format": NATIVE_FORMAT, "version": NATIVE_VERSION, "words": list(words),
               "vectors": torch.as_tensor(vectors).detach().cpu().contiguous(),
               "counts": None if counts is None else torch.as_tensor(counts, dtype=torch.int64).cpu()}
    if tokenizer is not None:
        payload["tokenizer"] = {"mode": tokenizer.mode, "lowercase": tokenizer.lowercase}
    if output_vectors is not None:
        payload["output_vectors"] = torch.as_tensor(output_vectors).detach().cpu().contiguous()
    if subwords is not None:
        payload["subwords"] = {
            "minn": subwords.minn, "maxn": subwords.maxn, "bucket": subwords.bucket,
            "word_rows": subwords.word_rows.detach().cpu().contiguous(),
            "ngram_rows": subwords.ngram_rows.detach().cpu().contiguous(),
            "output_rows": None if subwords.output_rows is None else subwords.output_rows.detach().cpu().contiguous(),
            "settings": dict(subwords.settings)}
    save_torch(payload, path)


def _first_line(error) -> str:
    """torch.load's reason in one line: its weights_only refusal goes on for paragraphs of advice
    meant for the code that wrote the file."""
    text = str(error).strip()
    if text.startswith("Weights only load failed"):
        return "it holds objects other than tensors, numbers and strings"
    return text.splitlines()[0] if text else type(error).__name__


def load_native(path) -> dict:
    """Reads a native file without running any code from it (torch.load with weights_only)."""
    try:
        payload = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for damaged or foreign archives
        raise VectorsFileError(f"{os.path.basename(path)}: not a readable wordembed file, damaged or written by "
                               f"other code ({_first_line(e)})") from None
    if not isinstance(payload, dict) or payload.get("format") != NATIVE_FORMAT:
        raise VectorsFileError(f"{os.path.basename(path)}: not a wordembed vectors file")
    name = os.path.basename(path)
    version = payload.get("version")
    if not isinstance(version, int) or version < 1:
        raise VectorsFileError(f"{name}: the format version is missing or not a whole number")
    if version > NATIVE_VERSION:
        raise VectorsFileError(f"{name}: written by a newer wordembed (format version {version})")
    words, vectors, counts = payload.get("words"), payload.get("vectors"), payload.get("counts")
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise VectorsFileError(f"{name}: 'words' must be a list of str")
    if not (isinstance(vectors, torch.Tensor) and vectors.is_floating_point() and vectors.dim() == 2):
        raise VectorsFileError(f"{name}: 'vectors' must be a 2-D floating tensor")
    if vectors.shape[0] != len(words):
        raise VectorsFileError(f"{name}: {len(words)} words but {vectors.shape[0]} vectors")
    if counts is not None and not (isinstance(counts, torch.Tensor) and counts.dtype == torch.int64
                                   and counts.shape == (len(words),)):
        raise VectorsFileError(f"{name}: 'counts' must be an int64 tensor with one count per word")
    if len(set(words)) != len(words):
        raise VectorsFileError(f"{name}: a word appears twice")
    subwords = payload.get("subwords")
    if subwords is not None and not _subwords_valid(subwords, vectors):
        raise VectorsFileError(f"{name}: 'subwords' must hold minn, maxn, bucket and the word and n-gram rows "
                               "(and may hold the output rows and the settings), nothing else")
    output = payload.get("output_vectors")
    if output is not None and not (isinstance(output, torch.Tensor) and output.shape == vectors.shape):
        raise VectorsFileError(f"{name}: 'output_vectors' must be a tensor of the vectors' shape")
    tokenizer = payload.get("tokenizer")
    if tokenizer is not None and not (isinstance(tokenizer, dict) and set(tokenizer) == {"mode", "lowercase"}
                                      and tokenizer["mode"] in TOKENIZE_MODES
                                      and isinstance(tokenizer["lowercase"], bool)):
        raise VectorsFileError(f"{name}: 'tokenizer' must name a mode ({', '.join(TOKENIZE_MODES)}) and lowercase")
    return payload


def _subwords_valid(subwords, vectors) -> bool:
    if not isinstance(subwords, dict) or not {"minn", "maxn", "bucket", "word_rows", "ngram_rows"} <= set(subwords) \
            or not set(subwords) <= {"minn", "maxn", "bucket", "word_rows", "ngram_rows", "output_rows", "settings"}:
        return False
    rows, output = [subwords[k] for k in ("word_rows", "ngram_rows")], subwords.get("output_rows")
    return (all(isinstance(r, torch.Tensor) and r.dim() == 2 for r in rows) and rows[0].shape == vectors.shape
            and all(isinstance(subwords[k], int) for k in ("minn", "maxn", "bucket"))
            and (output is None or isinstance(output, torch.Tensor) and output.shape == vectors.shape)
            and isinstance(subwords.get("settings", {}), dict))


def is_fasttext(path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == _FASTTEXT_MAGIC


def is_native(path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == _ZIP_MAGIC
