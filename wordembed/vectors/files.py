"""WordVectors in and out of files: word2vec text and binary, wordembed's native file (which keeps
counts and subword rows), and fastText's .bin model; the format is chosen by name on the way out
and detected from the first bytes on the way in (formats.py, fasttext_format.py)."""
import contextlib
import os
import warnings

import torch

from ..arguments import check_count
from ..fileio import check_input_file
from ..text.subwords import Subwords
from ..text.tokenizing import Tokenizer
from . import fasttext_format, formats


def save(vectors, path, format=None) -> None:
    """See WordVectors.save."""
    format = format or formats.format_for_path(path)
    if format == "native":
        formats.save_native(path, vectors.index_to_key, vectors.vectors, vectors.counts, vectors.subwords,
                            vectors.tokenizer, vectors.output_vectors)
    elif format == "fasttext":
        if vectors.subwords is None:
            raise ValueError("the fastText format is for subword models; these vectors have no n-gram rows")
        sw = vectors.subwords
        counts = vectors.counts if vectors.counts is not None else torch.ones(len(vectors), dtype=torch.int64)
        output = sw.output_rows if sw.output_rows is not None else torch.zeros_like(sw.word_rows)
        fasttext_format.save_fasttext_bin(
            path, vectors.index_to_key, counts.numpy(),
            [rows.detach().float().cpu().numpy() for rows in (sw.word_rows, sw.ngram_rows)],
            output.detach().float().cpu().numpy(), {**sw.settings, "minn": sw.minn, "maxn": sw.maxn})
    elif format in ("text", "binary"):
        array = vectors.vectors.detach().float().cpu().numpy()
        formats.save_word2vec(path, vectors.index_to_key, array, binary=format == "binary")
    else:
        raise ValueError(f"format must be 'text', 'binary', 'native' or 'fasttext', got {format!r}")


def load(cls, path, limit=None, binary=None):
    """See WordVectors.load; cls: the class to make (WordVectors or a subclass)."""
    if limit is not None:
        check_count("limit", limit)
    check_input_file(path, "vectors")
    if formats.is_native(path):
        payload = formats.load_native(path)
        with _file_errors(path):
            vectors = _from_native(cls, payload, limit)
    elif formats.is_fasttext(path):
        model = fasttext_format.load_fasttext_bin(path)
        with _file_errors(path):
            vectors = _from_fasttext(cls, model, limit)
    else:
        words, array = formats.load_word2vec(path, binary=binary, limit=limit)
        vectors = cls(words, torch.from_numpy(array))
    bad = vectors.non_finite_words()
    if bad:
        warnings.warn(f"{path}: {len(bad)} vectors hold NaN or inf (first: {bad[0]!r}); queries leave "
                      "those words out", RuntimeWarning, stacklevel=3)
    return vectors


def _from_native(cls, payload, limit):
    n = len(payload["words"]) if limit is None else limit
    counts = payload["counts"][:n] if payload.get("counts") is not None else None
    subwords = payload.get("subwords")
    if subwords is not None:
        subwords = Subwords(**{**subwords, "word_rows": subwords["word_rows"][:n],
                               "output_rows": None if subwords.get("output_rows") is None
                               else subwords["output_rows"][:n]})
    tokenizer = Tokenizer(**payload["tokenizer"]) if payload.get("tokenizer") else None
    output = payload["output_vectors"][:n] if payload.get("output_vectors") is not None else None
    return cls(payload["words"][:n], payload["vectors"][:n], counts, subwords, tokenizer, output)


@contextlib.contextmanager
def _file_errors(path):
    """A file's parts may each be well formed and still disagree (a changed byte in a setting):
    the checks of the classes they make then speak for the file."""
    try:
        yield
    except formats.VectorsFileError:
        raise
    except (ValueError, TypeError) as e:
        raise formats.VectorsFileError(f"{os.path.basename(path)}: {e}") from None


def _from_fasttext(cls, model, limit):
    s, words = model["settings"], model["words"]
    n = len(words) if limit is None else min(limit, len(words))
    table = torch.from_numpy(model["input"])
    V = len(words)
    if not s["maxn"] or not s["bucket"]:  # no subwords: a word's vector is its own row
        return cls(words[:n], table[:n].clone(), torch.from_numpy(model["counts"][:n]))
    settings = {k: v for k, v in s.items() if k not in ("minn", "maxn", "bucket", "dim")}
    subwords = Subwords(s["minn"], s["maxn"], s["bucket"], word_rows=table[:n], ngram_rows=table[V:],
                        output_rows=torch.from_numpy(model["output"][:n]),
                        settings={**settings, "ntokens": model["ntokens"]})
    return cls.from_subwords(words[:n], subwords, torch.from_numpy(model["counts"][:n]))
