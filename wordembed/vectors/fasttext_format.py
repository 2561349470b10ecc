"""fastText's .bin model format (version 12, as fastText 0.9 writes it): read a model fastText
trained, with its words, counts, settings and both matrices, and write one that fastText loads.

Layout, little-endian: magic int32 793712314, version int32 12; the settings (int32 dim, ws,
epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, then float64
t); the dictionary (int32 size, nwords, nlabels; int64 ntokens, pruneidx_size; per entry the word's
UTF-8 bytes and a NUL, int64 count, int8 type; then pruneidx_size int32 pairs); bool quantized;
the input matrix (int64 rows, cols, float32 data); bool quantized; the output matrix.

A quantized model (.ftz, written by `fasttext quantize`) keeps that layout. Its dictionary may
be pruned: the words it kept, and pruneidx_size pairs (n-gram bucket, row among the kept n-gram
rows) (0 pairs: no n-gram row is kept; -1: not pruned). A quantized matrix is bool qnorm, int64
rows, cols, int32 code count, the codes (uint8, rows x slices), its product quantizer (int32
dim, slices, dsub, last slice's width, float32 centroids: dim x 256), and with qnorm the norms'
codes (uint8, rows) and their quantizer, laid out the same (vectors/quantized.py).
"""
import os
import struct

import numpy as np

import torch

from ..fileio import atomic_write
from .formats import VectorsFileError
from .quantized import CENTROIDS, ProductQuantizer, QuantizedTable, slice_widths

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
        if rows * cols * 4 > self.remaining():
            raise FastTextFormatError(f"{self.name}: the {what} matrix ({rows} x {cols}) is longer than the rest "
                                      "of the file: truncated?")
        return np.fromfile(self.f, dtype="<f4", count=rows * cols).reshape(rows, cols)

    def remaining(self) -> int:
        return os.fstat(self.f.fileno()).st_size - self.f.tell()

    def array(self, dtype, count, what):
        if count * np.dtype(dtype).itemsize > self.remaining():
            raise FastTextFormatError(f"{self.name}: the {what} is longer than the rest of the file: truncated?")
        return np.fromfile(self.f, dtype=dtype, count=count)

    def quantizer(self, what):
        dim, slices, dsub, last = self.take("<4i")
        if dim < 1 or dsub < 1 or len(slice_widths(dim, dsub)) != slices or dim - (slices - 1) * dsub != last:
            raise FastTextFormatError(f"{self.name}: the {what} quantizer's sizes do not agree (dim {dim}, {slices} "
                                      f"slices of {dsub}, the last of {last})")
        flat = self.array("<f4", dim * CENTROIDS, f"{what} quantizer")
        return ProductQuantizer.from_flat(dim, dsub, torch.from_numpy(flat.copy()))

    def quantized_matrix(self, what) -> QuantizedTable:
        qnorm, rows, cols, code_count = self.take("<?qqi")
        quantizer_at = self.f.tell() + max(code_count, 0)
        if rows < 0 or cols < 1 or code_count < 0:
            raise FastTextFormatError(f"{self.name}: the quantized {what} matrix has sizes out of range ({rows} x "
                                      f"{cols}, {code_count} codes)")
        codes = self.array("u1", code_count, f"{what} matrix's codes")
        quantizer = self.quantizer(what)
        if quantizer.dim != cols or code_count != rows * quantizer.slices:
            raise FastTextFormatError(f"{self.name}: the {what} matrix ({rows} x {cols}, {code_count} codes) does "
                                      f"not fit its quantizer (dim {quantizer.dim}, {quantizer.slices} slices) at "
                                      f"byte {quantizer_at}")
        table = QuantizedTable(torch.from_numpy(codes.reshape(rows, quantizer.slices).copy()), quantizer)
        if qnorm:
            table.norm_codes = torch.from_numpy(self.array("u1", rows, f"{what} matrix's norm codes").copy())
            table.norm_quantizer = self.quantizer(f"{what} norm")
            if table.norm_quantizer.dim != 1:
                raise FastTextFormatError(f"{self.name}: the {what} norms' quantizer should be 1 wide")
        return table

    def prune_index(self, count):
        """(buckets, rows) int64 of a pruned dictionary's pairs."""
        pairs = self.array("<i4", 2 * count, "dictionary's pruned n-gram index").reshape(count, 2).astype(np.int64)
        return pairs[:, 0], pairs[:, 1]


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
    """Any fastText model (.bin, or .ftz quantized), as stored: {'settings' (fastText's names;
    'model' and 'loss' as words), 'tokens' (bytes: the words, then the labels), 'counts',
    'nwords', 'nlabels', 'ntokens', 'prune' (None, or a pruned model's (buckets, rows) of its
    n-gram rows), 'input' and 'output' (float32 arrays, or QuantizedTables)}. Checks every size
    against the file before reading what it sizes."""
    name = os.path.basename(os.fspath(path))
    with open(path, "rb") as f:
        r = _Reader(f, name)
        settings = _read_settings(r)
        size, nwords, nlabels = r.take("<3i")
        ntokens, prune_size = r.take("<qq")
        if not 0 <= nwords <= size or nlabels < 0 or nwords + nlabels != size:
            raise FastTextFormatError(f"{name}: a dictionary of {size} entries cannot hold {nwords} words and "
                                      f"{nlabels} labels")
        if size * 10 > r.remaining():  # an entry takes at least 10 bytes
            raise FastTextFormatError(f"{name}: a dictionary of {size:,} entries is longer than the file: truncated?")
        tokens, counts, kinds = _read_entries(f, name, size)
        if (kinds[:nwords] != 0).any() or (kinds[nwords:] != 1).any():
            raise FastTextFormatError(f"{name}: the dictionary should hold {nwords} words, then {nlabels} labels")
        prune = r.prune_index(prune_size) if prune_size >= 0 else None
        (quantized,) = r.take("<?")
        inp = r.quantized_matrix("input") if quantized else r.matrix("input")
        (quantized_output,) = r.take("<?")  # fastText reads it as quantized only after a quantized input
        out = r.quantized_matrix("output") if quantized and quantized_output else r.matrix("output")
    model = {"settings": settings, "tokens": tokens, "counts": counts, "nwords": nwords, "nlabels": nlabels,
             "ntokens": ntokens, "prune": prune, "input": inp, "output": out}
    _check_tables(name, model)
    return model


def _read_settings(r):
    magic, version = r.take("<ii")
    if magic != MAGIC:
        raise FastTextFormatError(f"{r.name}: not a fastText model (no fastText magic number)")
    if version != VERSION:
        raise FastTextFormatError(f"{r.name}: fastText model format version {version}; this reader takes "
                                  f"version {VERSION} (fastText 0.9)")
    settings = dict(zip(_SETTINGS, r.take("<12i")))
    (settings["t"],) = r.take("<d")
    settings["model"] = MODELS.get(settings["model"], settings["model"])
    settings["loss"] = LOSSES.get(settings["loss"], settings["loss"])
    return settings


def _check_tables(name, model):
    """The matrices fit the dictionary and the settings; a pruned one is quantized (as fastText
    requires); a pruned index names buckets that exist and each kept row once."""
    settings, nwords, prune, inp, out = (model[k] for k in ("settings", "nwords", "prune", "input", "output"))
    bucket, dim = settings["bucket"], settings["dim"]
    if prune is not None and not isinstance(inp, QuantizedTable):
        raise FastTextFormatError(f"{name}: a pruned dictionary with an input matrix that is not quantized")
    ngram_rows = bucket if prune is None else len(prune[0])
    if tuple(inp.shape) != (nwords + ngram_rows, dim) or out.shape[1] != dim:
        raise FastTextFormatError(f"{name}: matrices of {tuple(inp.shape)} and {tuple(out.shape)} do not fit "
                                  f"{nwords} words, {ngram_rows} n-gram rows and dim {dim}")
    if prune is not None:
        buckets, rows = prune
        if len(buckets) and (buckets.min() < 0 or buckets.max() >= bucket or len(np.unique(buckets)) != len(buckets)
                             or not np.array_equal(np.sort(rows), np.arange(len(rows)))):
            raise FastTextFormatError(f"{name}: the pruned n-gram index does not map {len(rows)} distinct buckets "
                                      f"below {bucket} to rows 0..{len(rows) - 1}")


def load_fasttext_bin(path) -> dict:
    """A fastText .bin model's word vectors: {'words', 'counts', 'ntokens', 'settings', 'input'
    (nwords + bucket, dim) and 'output' float32 arrays}."""
    model = read_model(path)
    if model["prune"] is not None or isinstance(model["input"], QuantizedTable):
        raise FastTextFormatError(f"{os.path.basename(os.fspath(path))}: a quantized model; fastText quantizes "
                                  "classifiers only: load it with wordembed.Classifier.load")
    nwords = model["nwords"]
    words = [t.decode("utf-8", "replace") for t in model["tokens"][:nwords]]
    return {"words": words, "counts": model["counts"][:nwords], "ntokens": model["ntokens"],
            "settings": model["settings"], "input": model["input"], "output": model["output"]}


def write_model(path, tokens, counts, nwords, input_parts, output_matrix, settings, prune=None) -> None:
    """Writes a model fastText 0.9 loads: tokens (bytes) are the words, then the labels (from
    entry nwords on). input_parts: the input matrix as one array or a list of arrays written one
    after the other (no copy of a large table is made), or a QuantizedTable; output_matrix: an
    array or a QuantizedTable. settings: fastText's names, all of them but dim (which the
    matrices give), and 'ntokens'; and bucket where prune, a pruned dictionary's (buckets, rows),
    is given (otherwise the input rows give it)."""
    quantized_input = isinstance(input_parts, QuantizedTable)
    parts = [input_parts] if isinstance(input_parts, (np.ndarray, QuantizedTable)) else list(input_parts)
    parts = [p if quantized_input else np.ascontiguousarray(p, dtype="<f4") for p in parts]
    out = output_matrix if isinstance(output_matrix, QuantizedTable) else np.ascontiguousarray(output_matrix, "<f4")
    dim = out.shape[1] if len(out.shape) == 2 else -1
    rows, nlabels = sum(p.shape[0] for p in parts), len(tokens) - nwords
    s = dict(settings, dim=dim) if prune is not None else dict(settings, dim=dim, bucket=rows - nwords)
    ngram_rows = rows - nwords if prune is None else len(prune[0])
    if (rows - nwords != ngram_rows or ngram_rows < 0 or len(counts) != len(tokens)
            or any(len(p.shape) != 2 or p.shape[1] != dim for p in parts)):
        raise ValueError(f"need one count per token, an input of {nwords} word rows and {ngram_rows} n-gram rows "
                         f"and matrices of one width; got {len(counts)} counts for {len(tokens)} tokens, input "
                         f"parts {[tuple(p.shape) for p in parts]} and output {tuple(out.shape)}")
    if isinstance(out, QuantizedTable) and not quantized_input:
        raise ValueError("fastText's files quantize the output matrix only with the input matrix")
    codes = {"model": {v: k for k, v in MODELS.items()}, "loss": {v: k for k, v in LOSSES.items()}}
    values = [codes[k][s[k]] if k in codes else int(s[k]) for k in _SETTINGS]
    with atomic_write(path) as f:
        f.write(struct.pack("<ii", MAGIC, VERSION))
        f.write(struct.pack("<12i", *values) + struct.pack("<d", float(s["t"])))
        pruned = -1 if prune is None else ngram_rows
        f.write(struct.pack("<3iqq", len(tokens), nwords, nlabels, int(s["ntokens"]), pruned))
        f.write(_dictionary_bytes(tokens, counts, nwords))
        if prune is not None:
            f.write(np.stack([np.asarray(prune[0]), np.asarray(prune[1])], axis=1).astype("<i4").tobytes())
        _write_matrix(f, parts, quantized_input, dim)
        _write_matrix(f, [out], isinstance(out, QuantizedTable), dim)


def _write_matrix(f, parts, quantized, dim):
    """The flag, then a quantized table or the rows of the parts, one after the other."""
    f.write(struct.pack("<?", quantized))
    if quantized:
        (table,) = parts
        f.write(struct.pack("<?qqi", table.qnorm, *table.shape, table.codes.numel()))
        f.write(table.codes.contiguous().numpy().tobytes())
        _write_quantizer(f, table.quantizer)
        if table.qnorm:
            f.write(table.norm_codes.contiguous().numpy().tobytes())
            _write_quantizer(f, table.norm_quantizer)
        return
    f.write(struct.pack("<qq", sum(p.shape[0] for p in parts), dim))
    for part in parts:
        f.write(memoryview(part).cast("B"))


def _write_quantizer(f, quantizer):
    f.write(struct.pack("<4i", quantizer.dim, quantizer.slices, quantizer.dsub, quantizer.last_width))
    f.write(quantizer.flat_centroids().to(torch.float32).numpy().astype("<f4").tobytes())


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
