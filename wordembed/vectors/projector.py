"""TensorBoard's embedding projector: tensors.tsv (one vector a line, tab-separated),
metadata.tsv (a header, then each word and its count) and projector_config.pbtxt naming both, so
that `tensorboard --logdir FOLDER` (or the standalone projector, given the two .tsv files) shows
the vectors. Each file is written whole or not at all."""
import os

from ..arguments import check_count
from ..fileio import atomic_write

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
    os.makedirs(folder, exist_ok=True)
    table = vectors.vectors[:n].detach().float().cpu().numpy()
    with atomic_write(os.path.join(folder, "tensors.tsv"), "w") as f:
        for row in table:
            f.write("\t".join(f"{x:.6g}" for x in row) + "\n")
    counts = vectors.counts.tolist() if vectors.counts is not None else [""] * n
    with atomic_write(os.path.join(folder, "metadata.tsv"), "w") as f:
        f.write("word\tcount\n")
        for word, count in zip(vectors.index_to_key[:n], counts):
            f.write(f"{escape(word)}\t{count}\n")
    with atomic_write(os.path.join(folder, "projector_config.pbtxt"), "w") as f:
        f.write('embeddings {\n  tensor_name: "wordembed"\n  tensor_path: "tensors.tsv"\n'
                '  metadata_path: "metadata.tsv"\n}\n')
