"""fastText's .bin model format (version 12, as fastText 0.9 writes it): read a model fastText
trained, with its words, counts, settings and both matrices, and write one that fastText loads.

Layout, little-endian: magic int32 793712314, version int32 12; the settings (int32 dim, ws,
epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, then float64
t); the dictionary (int32 size, nwords, nlabels; int64 ntokens, pruneidx_size; per entry the word's
UTF-8 bytes and a NUL, int64 count, int8 type; then pruneidx_size int32 pairs); bool quantized;
the input matrix (int64 rows, cols, float32 data); bool quantized; the output matrix.
"""
import os
import struct

import numpy as np

from ..fileio import atomic_write
from .formats import VectorsFileError

MAGIC, VERSION = 793712314, 12
MODELS = {1: "cbow", 2: "skipgram", 3: "supervised"}
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
_SETTINGS = ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model", "bucket", "minn", "maxn",
             "lrUpdateRate")


class FastTextFormatError(VectorsFileError):
    """A file that is not a fastText model this reader can take; the message says why (a
    VectorsFileError: to WordVectors.load it is one more vectors file)."""


class _Reader:
    def __init__(self, f, name):
        self.f, self.name = f, name

    def take(self, fmt):
        size = struct.calcsize(fmt)
        data = self.f.read(size)
        if len(data) != size:
            raise FastTextFormatError(f"{self.name}: the file ends early (at byte {self.f.tell()}): truncated?")
        return struct.unpack(fmt, data)

    def matrix(self, what):
        rows, cols = self.take("<qq")
        if rows < 0 or cols < 0:
            raise FastTextFormatError(f"{self.name}: the {what} matrix has a negative size ({rows} x {cols})")
        remaining = os.fstat(self.f.fileno()).st_size - self.f.tell()
        if rows * cols * 4 > remaining:
            raise FastTextFormatError(f"{self.name}: the {what} matrix ({rows} x {cols}) is longer than the rest "
                                      "of the file: truncated?")
        return np.fromfile(self.f, dtype="<f4", count=rows * cols).reshape(rows, cols)


def _read_entries(f, name, size):
    """The dictionary's entries (token, NUL, int64 count, int8 type), read in blocks; leaves the
    file at the byte after the last one. Returns the tokens (bytes), their counts and types
    (0 word, 1 label)."""
    tokens, counts, kinds = [], np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int8)
    buf, pos = b"", 0
    for i in range(size):
        while (end := buf.find(b"\0", pos)) < 0 or len(buf) < end + 10:
            more = f.read(1 << 20)
            if not more:
                raise FastTextFormatError(f"{name}: the file ends inside entry {i} of the dictionary")
            buf, pos = buf[pos:] + more, 0
        counts[i], kinds[i] = struct.unpack_from("<qb", buf, end + 1)
        tokens.append(buf[pos:end])
        pos = end + 10
    f.seek(pos - len(buf), os.SEEK_CUR)
    return tokens, counts, kinds


def read_model_kind(path):
    """"cbow", "skipgram" or "supervised" for a fastText .bin, None for any other file (a reader of
    that kind then says what is wrong with it)."""
    try:
        with open(path, "rb") as f:
            head = f.read(40)
    except OSError:
        return None
    if len(head) < 40 or struct.unpack_from("<ii", head) != (MAGIC, VERSION):
        return None
    return MODELS.get(struct.unpack_from("<i", head, 36)[0])


def read_model(path) -> dict:
    """Any fastText .bin model, as stored: {'settings' (fastText's names; 'model' and 'loss' as
    words), 'tokens' (bytes: the words, then the labels), 'counts', 'nwords', 'nlabels',
    'ntokens', 'input' (nwords + bucket, dim) and 'output' float32 arrays}. Checks every size
    against the file before reading what it sizes."""
    name = os.path.basename(os.fspath(path))
    with open(path, "rb") as f:
        r = _Reader(f, name)
        magic, version = r.take("<ii")
        if magic != MAGIC:
            raise FastTextFormatError(f"{name}: not a fastText model (no fastText magic number)")
        if version != VERSION:
            raise FastTextFormatError(f"{name}: fastText model format version {version}; this reader takes "
                                      f"version {VERSION} (fastText 0.9)")
        settings = dict(zip(_SETTINGS, r.take("<12i")))
        (settings["t"],) = r.take("<d")
        settings["model"] = MODELS.get(settings["model"], settings["model"])
        settings["loss"] = LOSSES.get(settings["loss"], settings["loss"])
        size, nwords, nlabels = r.take("<3i")
        ntokens, pruneidx_size = r.take("<qq")
        if not 0 <= nwords <= size or nlabels < 0 or nwords + nlabels != size:
            raise FastTextFormatError(f"{name}: a dictionary of {size} entries cannot hold {nwords} words and "
                                      f"{nlabels} labels")
        if size * 10 > os.fstat(f.fileno()).st_size - f.tell():  # an entry takes at least 10 bytes
            raise FastTextFormatError(f"{name}: a dictionary of {size:,} entries is longer than the file: truncated?")
        tokens, counts, kinds = _read_entries(f, name, size)
        if (kinds[:nwords] != 0).any() or (kinds[nwords:] != 1).any():
            raise FastTextFormatError(f"{name}: the dictionary should hold {nwords} words, then {nlabels} labels")
        if pruneidx_size > 0:
            raise FastTextFormatError(f"{name}: a pruned (quantized) model; load the .bin it was made from")
        (quantized,) = r.take("<?")
        if quantized:
            raise FastTextFormatError(f"{name}: a quantized model (.ftz); load the .bin it was made from")
        inp = r.matrix("input")
        (quantized,) = r.take("<?")
        if quantized:
            raise FastTextFormatError(f"{name}: its output matrix is quantized")
        out = r.matrix("output")
    bucket, dim = settings["bucket"], settings["dim"]
    if inp.shape != (nwords + bucket, dim) or out.shape[1] != dim:
        raise FastTextFormatError(f"{name}: matrices of {inp.shape} and {out.shape} do not fit {nwords} words, "
                                  f"{bucket} buckets and dim {dim}")
    return {"settings": settings, "tokens": tokens, "counts": counts, "nwords": nwords, "nlabels": nlabels,
            "ntokens": ntokens, "input": inp, "output": out}


def load_fasttext_bin(path) -> dict:
    """A fastText .bin model's word vectors: {'words', 'counts', 'ntokens', 'settings', 'input'
    (nwords + bucket, dim) and 'output' float32 arrays}."""
    model = read_model(path)
    nwords = model["nwords"]
    words = [t.decode("utf-8", "replace") for t in model["tokens"][:nwords]]
    return {"words": words, "counts": model["counts"][:nwords], "ntokens": model["ntokens"],
            "settings": model["settings"], "input": model["input"], "output": model["output"]}


def write_model(path, tokens, counts, nwords, input_parts, output_matrix, settings) -> None:
    """Writes a model fastText 0.9 loads: tokens (bytes) are the words, then the labels (from
    entry nwords on). input_parts: the input matrix as one array or a list of arrays written one
    after the other (no copy of a large table is made). settings: fastText's names, all of them
    but dim and bucket (which the matrices give), and 'ntokens'."""
    parts = [input_parts] if isinstance(input_parts, np.ndarray) else list(input_parts)
    parts = [np.ascontiguousarray(p, dtype="<f4") for p in parts]
    out = np.ascontiguousarray(output_matrix, dtype="<f4")
    dim, rows, nlabels = out.shape[1] if out.ndim == 2 else -1, sum(p.shape[0] for p in parts), len(tokens) - nwords
    s = dict(settings, dim=dim, bucket=rows - nwords)
    if s["bucket"] < 0 or len(counts) != len(tokens) or any(p.ndim != 2 or p.shape[1] != dim for p in parts):
        raise ValueError(f"need one count per token, input rows of at least {nwords} rows and matrices of one "
                         f"width; got {len(counts)} counts for {len(tokens)} tokens, input parts "
                         f"{[p.shape for p in parts]} and output {out.shape}")
    codes = {"model": {v: k for k, v in MODELS.items()}, "loss": {v: k for k, v in LOSSES.items()}}
    values = [codes[k][s[k]] if k in codes else int(s[k]) for k in _SETTINGS]
    with atomic_write(path) as f:
        f.write(struct.pack("<ii", MAGIC, VERSION))
        f.write(struct.pack("<12i", *values) + struct.pack("<d", float(s["t"])))
        f.write(struct.pack("<3iqq", len(tokens), nwords, nlabels, int(s["ntokens"]), -1))
        f.write(_dictionary_bytes(tokens, counts, nwords))
        f.write(struct.pack("<?qq", False, rows, dim))
        for part in parts:
            f.write(memoryview(part).cast("B"))
        f.write(struct.pack("<?qq", False, *out.shape))
        f.write(memoryview(out).cast("B"))


def _dictionary_bytes(tokens, counts, nwords) -> bytes:
    """fastText's dictionary entries, each its token, NUL, its count (int64) and its type (int8: 0
    a word, 1 a label), built with array operations: a struct per token took most of a second
    for a classifier of 380,000 words."""
    for token in tokens:
        if b"\0" in token or not token:
            raise ValueError(f"token {token!r} cannot be stored in a fastText model: it is empty or holds NUL")
    n = len(tokens)
    records = np.zeros(n, dtype=[("count", "<i8"), ("type", "i1")])
    records["count"] = np.asarray(counts, dtype=np.int64)
    records["type"][nwords:] = 1
    text = np.frombuffer(b"\0".join(tokens) + b"\0", dtype=np.uint8) if n else np.zeros(0, np.uint8)
    ends = np.cumsum([len(t) + 1 for t in tokens], dtype=np.int64)  # of each token and its NUL in text
    out = np.empty(len(text) + 9 * n, dtype=np.uint8)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(ends, prepend=0))  # the token of each text byte
    out[np.arange(len(text), dtype=np.int64) + 9 * owner] = text
    record_at = ends + 9 * np.arange(n, dtype=np.int64)  # where each token's record starts
    out[(record_at[:, None] + np.arange(9)).ravel()] = np.frombuffer(records.tobytes(), dtype=np.uint8)
    return out.tobytes()


def save_fasttext_bin(path, words, counts, input_parts, output_matrix, settings) -> None:
    """Writes a word-vectors model fastText 0.9 loads. input_parts: the input matrix as one array
    or as a list of arrays to be written one after the other (the words' rows, then the n-gram
    rows). `settings` holds fastText's names (see load_fasttext_bin; the missing ones get
    fastText's defaults)."""
    nwords = len(words)
    if np.shape(output_matrix)[0] != nwords or len(counts) != nwords:
        raise ValueError(f"need {nwords} words and counts and an output matrix of one row per word; got "
                         f"{len(counts)} counts and output {np.shape(output_matrix)}")
    s = {"ws": 5, "epoch": 5, "minCount": 5, "neg": 5, "wordNgrams": 1, "loss": "ns", "model": "skipgram",
         "minn": 3, "maxn": 6, "lrUpdateRate": 100, "t": 1e-4, **settings}
    s.setdefault("ntokens", int(np.sum(counts)))
    tokens = []
    for word in words:
        data = word.encode("utf-8")
        if b"\0" in data or not data:
            raise ValueError(f"word {word!r} cannot be stored in a fastText model: it is empty or holds NUL")
        tokens.append(data)
    write_model(path, tokens, counts, nwords, input_parts, output_matrix, s)
