"""The corpus pipeline's two passes over a text file, counting words and encoding them to ids,
done by the compiled ops (csrc/corpus: multi-threaded over blocks of the file), with the Python
twins that tests compare them to byte for byte.

Both read the file in the same blocks (text_blocks.h says where they start), so that word2vec's
pruning (max_vocab_size) drops the same words in both: after each block, while more than
max_vocab_size distinct words are held, the words seen at most 1, then 2, ... times so far are
dropped. A dropped word starts again from zero if it comes back, so pruning may lose words that
are rare early in the corpus and frequent later, and lowers the counts of the words it drops and
re-adds. Without max_vocab_size, counts are exact.

The compiled ops release the GIL and poll a flag between blocks, so that Ctrl-C stops them."""
import collections
import os
import re
import threading
import time

import torch

from .sentences import token_pieces

PIPELINES = ("native", "python")  # the compiled ops, or their Python twins
BLOCK_BYTES = 1 << 20  # where pruning is checked, and how much text one thread takes at a time
_ASCII_SPACE = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x20]")  # str.isspace() for bytes < 0x80
_SCAN_BYTES = 1 << 16


def check_pipeline(pipeline) -> None:
    if pipeline not in PIPELINES:
        raise ValueError(f"pipeline must be one of {', '.join(PIPELINES)}, got {pipeline!r}")


def default_threads(threads=None) -> int:
    return max(1, threads or torch.get_num_threads())


def block_bounds(f, size, block_bytes=BLOCK_BYTES):
    """Python twin of TextFile::block_bounds: block k of the open binary file f starts at the
    first position p >= k * block_bytes whose previous byte is ASCII whitespace."""
    bounds = [0]
    for start in range(block_bytes, size, block_bytes):
        if bounds[-1] >= start:
            bounds.append(bounds[-1])
            continue
        p, bound = start, size
        while p < size:
            f.seek(p - 1)
            buffer = f.read(min(_SCAN_BYTES, size - p + 1))
            if not buffer:
                break
            if match := _ASCII_SPACE.search(buffer):
                bound = p + match.start()
                break
            p += len(buffer)
        bounds.append(bound)
    bounds.append(size)
    return bounds


def text_blocks(path, block_bytes=BLOCK_BYTES):
    """The file's blocks, decoded as UTF-8 with bad bytes replaced (no block cuts a character)."""
    with open(path, "rb") as f:
        bounds = block_bounds(f, os.fstat(f.fileno()).st_size, block_bytes)
        for begin, end in zip(bounds, bounds[1:]):
            f.seek(begin)
            yield f.read(end - begin).decode("utf-8", errors="replace")


def prune(counter, max_vocab_size, min_reduce):
    """word2vec's ReduceVocab until at most max_vocab_size words are left; returns the counter
    and the new min_reduce (the highest count dropped so far)."""
    while len(counter) > max_vocab_size:
        min_reduce += 1
        counter = collections.Counter({w: c for w, c in counter.items() if c > min_reduce})
    return counter, min_reduce


def count_file_python(path, tokenizer=None, max_vocab_size=None, block_bytes=BLOCK_BYTES):
    """Twin of the native count: (Counter of every token in order of first appearance, the
    highest count that pruning dropped)."""
    counter, min_reduce = collections.Counter(), 0
    for text in text_blocks(path, block_bytes):
        tokens = text.split()
        counter.update(tokenizer(tokens) if tokenizer is not None else tokens)
        if max_vocab_size is not None:
            counter, min_reduce = prune(counter, max_vocab_size, min_reduce)
    return counter, min_reduce


def count_sentences(sentences, tokenizer=None, max_vocab_size=None):
    """(Counter of the tokens of a Python iterable of sentences, the highest count that pruning
    dropped); pruning is checked after each sentence, as gensim does."""
    counter, min_reduce = collections.Counter(), 0
    for tokens, _ in token_pieces(sentences):
        counter.update(tokenizer(tokens) if tokenizer is not None else tokens)
        if max_vocab_size is not None:
            counter, min_reduce = prune(counter, max_vocab_size, min_reduce)
    return counter, min_reduce


def _interruptible(op, *args):
    """Runs a compiled op in a thread, so that Ctrl-C reaches Python; it then sets the op's
    cancel flag (the last argument), waits for the op to stop (within a block) and raises
    KeyboardInterrupt. The op never outlives this call: a process that exits while one runs
    may hang or abort in its C++ threads.

    The two threads share only a dict and the main thread polls it with time.sleep, because
    waiting on an Event or a join is not safe against Ctrl-C: a KeyboardInterrupt that lands
    inside a lock's `with` can leave the lock held, and the worker then blocks forever when it
    reports that it is done (CPython issue 29988)."""
    cancel = args[-1]
    state = {}  # the worker's "began", then "result" or "error", then "done"

    def run():
        state["began"] = True
        try:
            state["result"] = op(*args)
        except BaseException as e:  # noqa: BLE001 (handed to the caller's thread)
            state["error"] = e
        finally:
            state["done"] = True

    worker = threading.Thread(target=run, name="wordembed-corpus", daemon=True)
    try:
        worker.start()
        pause = 0.001  # short for the short ops of small files, then up to 50 ms
        while "done" not in state:
            time.sleep(pause)
            pause = min(2 * pause, 0.05)
    except BaseException:
        cancel.fill_(1)  # the op stops at its next block, or at once if it has not begun yet
        # Ctrl-C may have landed in worker.start(), before the thread ran or even existed: a
        # thread that has not begun within a second never will.
        give_up = time.monotonic() + 1.0
        while "done" not in state:
            try:
                if "began" not in state and time.monotonic() > give_up and not worker.is_alive():
                    break
                time.sleep(0.01)
            except KeyboardInterrupt:  # pressed again: the op stops at its next block anyway
                pass
        raise
    if "error" in state:
        raise _os_error(state["error"]) from None
    return state["result"]


def _os_error(error):
    """The ops say 'errno N' for a failed read or write: give it as the OSError it is."""
    match = re.search(r"errno (\d+) \(([^)]*)\)", str(error))
    if isinstance(error, RuntimeError) and match:
        return OSError(int(match.group(1)), match.group(2), str(error).split(": errno")[0])
    return error


def _load_ops():
    from .. import ops  # noqa: F401  (loads the compiled library)
    return torch.ops.wordembed


_INT64_ENOUGH = 1 << 62  # more words or counts than any file holds: what larger settings mean


def _count(path, min_count, max_vocab_size, by_count, threads, block_bytes):
    bound = 0 if max_vocab_size is None else min(max_vocab_size, _INT64_ENOUGH)  # the op takes int64
    words, counts, total, min_reduce = _interruptible(
        _load_ops().count_words, os.fspath(path), min(min_count, _INT64_ENOUGH), bound, by_count, block_bytes,
        default_threads(threads), torch.zeros(1, dtype=torch.uint8))
    return _decode_words(words), counts, total, min_reduce


def count_vocabulary_native(path, min_count=1, max_vocab_size=None, threads=None, block_bytes=BLOCK_BYTES):
    """(words counted at least min_count times, most frequent first, ties in order of first
    appearance; their counts as an int64 tensor; total tokens; the highest count that pruning
    dropped): the vocabulary of the whitespace tokens, sorted by the compiled code, so that no
    Python structure but the word list is made on the way."""
    return _count(path, min_count, max_vocab_size, True, threads, block_bytes)


def count_file_native(path, tokenizer=None, max_vocab_size=None, min_count=1, threads=None,
                      block_bytes=BLOCK_BYTES):
    """(Counter of the tokens counted at least min_count times, in order of first appearance;
    total tokens; the highest count that pruning dropped). With a tokenizer, its rule maps each
    distinct whitespace token once; pruning then applies to the whitespace tokens."""
    identity = tokenizer is None or tokenizer.is_identity
    words, counts, total, min_reduce = _count(path, min_count if identity else 1, max_vocab_size, False, threads,
                                              block_bytes)
    counts = counts.tolist()
    if identity:
        return collections.Counter(dict(zip(words, counts))), total, min_reduce
    counter = collections.Counter()
    for word, count in zip(words, counts):
        for token in tokenizer([word]):
            counter[token] += count
    return counter, sum(counter.values()), min_reduce


def _decode_words(blob):
    """The op's words: UTF-8 joined by '\n' (no token holds one)."""
    text = blob.numpy().tobytes().decode("utf-8")  # the op has replaced every bad byte already
    return text.split("\n") if text else []


def _blob(data: bytes):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.zeros(0, dtype=torch.uint8)


_SPACE_BUT_NEWLINE = re.compile(r"[^\S\n]")  # re's \s is str.isspace()


def _as_token_blob(words):
    """The op's words argument, UTF-8 joined by '\n', if every word could be a whitespace
    token of a decoded file; else None. Checked on the joined text, at C speed and without a
    second list of the words (a file's vocabulary always passes)."""
    joined = "\n".join(words)
    if words and (not joined or joined.count("\n") != len(words) - 1 or "\n\n" in joined or joined[0] == "\n"
                  or joined[-1] == "\n" or _SPACE_BUT_NEWLINE.search(joined)):
        return None  # a word holds whitespace, or is empty
    try:
        return joined.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which no decoded file holds
        return None


def _can_be_a_token(word) -> bool:
    return _as_token_blob([word]) is not None


def encode_file_native(path, vocab, ids_file, starts_file, max_sentence_words, tokenizer=None, threads=None,
                       block_bytes=BLOCK_BYTES):
    """Writes the id stream and sentence offsets of a text file to two open binary files (at
    their current ends); returns the number of ids."""
    ops = _load_ops()
    if tokenizer is None or tokenizer.is_identity:
        blob = _as_token_blob(vocab.ix_to_word)
        if blob is not None:
            ids = torch.arange(len(vocab), dtype=torch.int32)
        else:  # a vocabulary built from sentences may hold words that no file token matches
            kept = [i for i, w in enumerate(vocab.ix_to_word) if _can_be_a_token(w)]
            blob = _as_token_blob([vocab.ix_to_word[i] for i in kept])
            ids = torch.tensor(kept, dtype=torch.int32)
        offsets = torch.arange(len(ids) + 1, dtype=torch.int64)
    else:  # every whitespace token of the file that yields a kept word, and the ids it yields
        raw, _, _ = count_file_native(path, None, None, 1, threads, block_bytes)
        word_to_ix, words, pieces = vocab.word_to_ix, [], []
        for word in raw:
            kept = [word_to_ix[t] for t in tokenizer([word]) if t in word_to_ix]
            if kept:
                words.append(word)
                pieces.append(kept)
        del raw
        blob = "\n".join(words).encode("utf-8")
        ids = torch.tensor([i for p in pieces for i in p], dtype=torch.int32)
        offsets = torch.tensor([0] + [len(p) for p in pieces], dtype=torch.int64).cumsum(0)
        del pieces, words
    ids_file.flush()
    starts_file.flush()
    cancel = torch.zeros(1, dtype=torch.uint8)
    return _interruptible(ops.encode_words, os.fspath(path), _blob(blob), offsets, ids,
                          ids_file.fileno(), starts_file.fileno(), max_sentence_words, block_bytes,
                          default_threads(threads), cancel)
