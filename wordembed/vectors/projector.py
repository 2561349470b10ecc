"""TensorBoard's embedding projector: tensors.tsv (one vector a line, tab-separated),
metadata.tsv (a header, then each word and its count) and projector_config.pbtxt naming both, so
that `tensorboard --logdir FOLDER` (or the standalone projector, given the two .tsv files) shows
the vectors. The three files are written together or not at all."""
import os

from ..arguments import check_count
from ..fileio import atomic_files

# The projector splits metadata on tabs and lines on newlines: a word holding either would shift
# every later row. They are escaped, with the backslash that escapes them.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def escape(word: str) -> str:
    return word.translate(_ESCAPES)


def save_projector(vectors, folder, limit=None) -> None:
    if limit is not None:
        check_count("limit", limit)
    n = len(vectors) if limit is None else min(limit, len(vectors))
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{folder} exists and is not a folder: the projector's files need a folder")
    table = vectors.vectors[:n].detach().float().cpu().numpy()
    counts = vectors.counts.tolist() if vectors.counts is not None else [""] * n
    with atomic_files(folder) as staging:
        with open(os.path.join(staging, "tensors.tsv"), "w", encoding="utf-8") as f:
            for row in table:
                f.write("\t".join(f"{x:.6g}" for x in row) + "\n")
        with open(os.path.join(staging, "metadata.tsv"), "w", encoding="utf-8") as f:
            f.write("word\tcount\n")
            for k, (word, count) in enumerate(zip(vectors.index_to_key[:n], counts)):
                f.write(f"{_utf8(escape(word), k)}\t{count}\n")
        with open(os.path.join(staging, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
            f.write('embeddings {\n  tensor_name: "wordembed"\n  tensor_path: "tensors.tsv"\n'
                    '  metadata_path: "metadata.tsv"\n}\n')


def _utf8(word: str, row: int) -> str:
    try:
        word.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"word {row} ({word!r}) cannot be written as UTF-8 (it holds a lone surrogate)") from None
    return word
