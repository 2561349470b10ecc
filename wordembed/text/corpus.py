"""A corpus encoded once into a compact stream of int32 word ids on disk, read back in chunks, so
that memory does not grow with the corpus (the whole stream is also memory-mapped, for random
access).

Files, for a prefix P: P.ids (int32 word ids, native byte order) and P.starts (int64 offset of each
sentence in P.ids, plus the total at the end). Words outside the vocabulary are dropped, as word2vec
drops them before drawing windows. A line longer than MAX_SENTENCE_WORDS kept words is split into
sentences of at most that many words (as gensim does): nothing is truncated."""
import os
from array import array

import numpy as np
import torch

from ..fileio import PIECE_CHARS, atomic_write, fingerprint
from .pipeline import check_pipeline, encode_file_native
from .sentences import check_corpus, is_path, token_pieces

MAX_SENTENCE_WORDS = 10_000
_FLUSH_WORDS = 1 << 20  # ids buffered in memory before they are written
_PIECE_ENTRIES = 1 << 20  # sentence offsets read at a time (8 MiB)


def encode_corpus(corpus, vocab, prefix, max_sentence_words=MAX_SENTENCE_WORDS,
                  piece_chars=PIECE_CHARS, tokenizer=None, pipeline="native", threads=None) -> "EncodedCorpus":
    """Writes P.ids and P.starts for a corpus (a text file's path, or an iterable of sentences);
    returns the encoded corpus, memory-mapped. A file is encoded by the compiled pipeline on
    `threads` threads (pipeline.py), or with pipeline="python" by the Python code below, its
    twin, which reads piece_chars characters at a time, so that a line of any length never sits in
    memory whole; sentences are always encoded in Python."""
    if max_sentence_words < 1:
        raise ValueError(f"max_sentence_words must be positive, got {max_sentence_words}")
    check_pipeline(pipeline)
    prefix = os.fspath(prefix)
    # Not synced to disk: the trainer's working copy, checked against its fingerprint on resume,
    # so that a file a power cut damaged is an error that says to start over, never garbage.
    if pipeline == "native" and is_path(corpus):
        check_corpus(corpus)
        with atomic_write(prefix + ".ids", durable=False) as ids_file, \
                atomic_write(prefix + ".starts", durable=False) as starts_file:
            encode_file_native(corpus, vocab, ids_file, starts_file, max_sentence_words, tokenizer, threads)
        return EncodedCorpus(prefix)
    word_to_ix = vocab.word_to_ix
    written = 0
    # Both streams are written as they come, in bounded buffers: neither the ids nor the
    # sentence offsets of a large corpus are ever held in memory whole.
    with atomic_write(prefix + ".ids", durable=False) as ids_file, \
            atomic_write(prefix + ".starts", durable=False) as starts_file:
        buffer, starts = array("i"), array("q", [0])
        sentence_words = 0  # kept words of the line since its last sentence break
        for tokens, line_ends in token_pieces(corpus, piece_chars):
            if tokenizer is not None:  # the same tokens the vocabulary counted
                tokens = tokenizer(tokens)
            ids = [word_to_ix[w] for w in tokens if w in word_to_ix]
            while ids:
                room = max_sentence_words - sentence_words
                if len(ids) < room:
                    buffer.extend(ids)
                    sentence_words += len(ids)
                    break
                buffer.extend(ids[:room])  # a full sentence: break the line here
                ids = ids[room:]
                starts.append(written + len(buffer))
                sentence_words = 0
            if line_ends and sentence_words:
                starts.append(written + len(buffer))
                sentence_words = 0
            if len(buffer) >= _FLUSH_WORDS or len(starts) >= _FLUSH_WORDS:
                buffer.tofile(ids_file)
                starts.tofile(starts_file)
                written += len(buffer)
                buffer, starts = array("i"), array("q")
        buffer.tofile(ids_file)
        starts.tofile(starts_file)
    return EncodedCorpus(prefix)


def save_encoded(prefix, ids, starts) -> "EncodedCorpus":
    """Writes P.ids and P.starts from an id stream and its sentence offsets made in memory (int32
    and int64 arrays or tensors); returns the encoded corpus, memory-mapped."""
    prefix = os.fspath(prefix)
    with atomic_write(prefix + ".ids", durable=False) as ids_file, \
            atomic_write(prefix + ".starts", durable=False) as starts_file:
        np.asarray(ids, dtype=np.int32).tofile(ids_file)
        np.asarray(starts, dtype=np.int64).tofile(starts_file)
    return EncodedCorpus(prefix)


class EncodedCorpus:
    """The id stream of encode_corpus and its sentence offsets, both memory-mapped (nothing is
    read until it is used)."""

    def __init__(self, prefix):
        prefix = os.fspath(prefix)
        for suffix in (".ids", ".starts"):
            if not os.path.isfile(prefix + suffix):
                raise FileNotFoundError(f"encoded corpus file not found: {prefix + suffix}")
        self.ids_path, self.starts_path = prefix + ".ids", prefix + ".starts"
        sizes = os.path.getsize(self.ids_path), os.path.getsize(self.starts_path)
        if sizes[0] % 4 or sizes[1] % 8:
            raise ValueError(f"{prefix}: .ids or .starts has a partial entry (the corpus was not fully written)")
        self.ids = np.memmap(self.ids_path, dtype=np.int32, mode="r") if sizes[0] else np.zeros(0, np.int32)
        self.starts = np.memmap(self.starts_path, dtype=np.int64, mode="r") if sizes[1] else np.zeros(0, np.int64)
        n_ids = len(self.ids)
        if len(self.starts) == 0 or self.starts[-1] != n_ids:
            raise ValueError(f"{prefix}: .ids and .starts do not match (the corpus was not fully written)")

    def fingerprint(self) -> str:
        return fingerprint(self.ids_path, self.starts_path)

    @property
    def num_words(self) -> int:
        return len(self.ids)

    @property
    def num_sentences(self) -> int:
        return len(self.starts) - 1

    def chunk_bounds(self, chunk_words, first=0, end=None):
        """(first, last) sentence numbers of runs of whole sentences of about chunk_words words,
        over sentences first..end-1 (by default all)."""
        bounds, end = [], self.num_sentences if end is None else end
        while first < end:
            last = int(np.searchsorted(self.starts, self.starts[first] + chunk_words, side="right")) - 1
            last = min(max(last, first + 1), end)  # at least one sentence
            bounds.append((first, last))
            first = last
        return bounds

    def chunk(self, first, last):
        """(ids, sentence_starts) of sentences first..last-1, read into memory; sentence_starts
        are relative to the chunk and end with len(ids). Read with plain file reads, not
        through the memory map, so that the pages of chunks already trained on do not count
        in this process's resident memory."""
        return self.gather([(first, last)])

    def block_bounds(self, block_words, first=0, end=None):
        """(bounds, offsets): sentence numbers first = b[0] < b[1] < ... < b[-1] = end (by default
        all) that cut sentences first..end-1 into blocks of whole sentences, each ending at the
        first sentence end at or past the next multiple of block_words words from the start (so a
        block has at least one sentence), and the id offset where each bound starts. The offsets
        are read in pieces with plain reads: through the memory map, their pages would stay in
        the process's resident memory."""
        end = self.num_sentences if end is None else end
        bounds, offsets, origin, last = [np.array([first])], [], None, None
        with open(self.starts_path, "rb") as f:
            for piece_first in range(first, end + 1, _PIECE_ENTRIES):
                piece = _read(f, np.int64, piece_first, min(_PIECE_ENTRIES, end + 1 - piece_first), self.starts_path)
                if origin is None:
                    origin, last = int(piece[0]), int(piece[0])
                    offsets.append(piece[:1])
                # sentence s is a cut when a multiple of block_words lies in (start[s - 1], start[s]]
                marks = (np.concatenate([[last], piece]) - origin) // block_words
                cut = np.flatnonzero(np.diff(marks) > 0)
                bounds.append(cut + piece_first)
                offsets.append(piece[cut])
                last = int(piece[-1])
        bounds, offsets = np.concatenate(bounds), np.concatenate(offsets)
        if bounds[-1] != end:  # the end is a bound, whether or not a multiple falls on it
            bounds, offsets = np.append(bounds, end), np.append(offsets, last)
        keep = np.concatenate([[True], np.diff(bounds) > 0])  # a cut at `first` itself is no block
        return bounds[keep].astype(np.int64), offsets[keep].astype(np.int64)

    def gather(self, ranges, order=None):
        """(ids, sentence_starts) of the sentence ranges (first, last) one after another, read
        into memory as chunk() reads one range, their sentences then put in `order` (a
        permutation of their numbers; None: as read). The compiled op; gather_python is its
        twin."""
        from .. import ops  # noqa: F401  (loads the compiled library)
        ranges = torch.as_tensor(np.asarray(ranges, dtype=np.int64).reshape(-1, 2))
        order = torch.zeros(0, dtype=torch.int64) if order is None else torch.as_tensor(order, dtype=torch.int64)
        with open(self.ids_path, "rb") as ids_file, open(self.starts_path, "rb") as starts_file:
            ids, starts = torch.ops.wordembed.gather_sentences(ids_file.fileno(), starts_file.fileno(), ranges,
                                                              order.contiguous())
        return ids.numpy(), starts.numpy()

    def gather_python(self, ranges, order=None):
        """The twin of gather, in numpy."""
        starts, ids, offset = [np.zeros(1, np.int64)], [], 0
        with open(self.starts_path, "rb") as starts_file, open(self.ids_path, "rb") as ids_file:
            for first, last in ranges:
                these = _read(starts_file, np.int64, first, last + 1 - first, self.starts_path)
                begin, end = int(these[0]), int(these[-1])
                ids.append(_read(ids_file, np.int32, begin, end - begin, self.ids_path))
                starts.append(these[1:] - begin + offset)
                offset += end - begin
        ids, starts = (np.concatenate(ids) if ids else np.zeros(0, np.int32)), np.concatenate(starts)
        if order is None:
            return ids, starts
        order = np.asarray(order, dtype=np.int64)
        lengths = np.diff(starts)[order]
        moved = np.zeros(len(order) + 1, dtype=np.int64)
        np.cumsum(lengths, out=moved[1:])
        source = np.repeat(starts[:-1][order] - moved[:-1], lengths) + np.arange(len(ids), dtype=np.int64)
        return ids[source], moved

    def chunks(self, chunk_words):
        """Yields chunk(first, last) for each of chunk_bounds(chunk_words), one at a time."""
        for first, last in self.chunk_bounds(chunk_words):
            yield self.chunk(first, last)


def _read(file, dtype, first, count, path) -> np.ndarray:
    """count entries of dtype from entry `first` of an open file, read in place (a single read
    returns at most about 2 GB on Linux: it is repeated until all has come)."""
    out = np.empty(count, dtype)
    view, size, done = memoryview(out).cast("B"), out.itemsize, 0
    while done < len(view):
        got = os.preadv(file.fileno(), [view[done:]], first * size + done)
        if got == 0:
            raise ValueError(f"{path}: the file is shorter than its .starts say")
        done += got
    return out
