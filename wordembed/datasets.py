"""Real corpora that a fresh Linux machine can get from its package manager."""
import gzip
import os
import re

from .fileio import atomic_write

GCIDE_DICT = "/usr/share/dictd/gcide.dict.dz"  # Debian/Ubuntu package dict-gcide
_WORD = re.compile(r"[a-z]+")


def prepare_gcide(out_path, source=GCIDE_DICT) -> int:
    """Writes the GCIDE dictionary (the Collaborative International Dictionary of English) as
    text: lower-cased [a-z]+ words, one source line per line, empty lines dropped. Returns the
    number of words."""
    if not os.path.exists(source):
        raise FileNotFoundError(f"{source} not found: install it with `apt-get install dict-gcide`")
    words = 0
    with gzip.open(source, "rt", encoding="utf-8", errors="replace") as src, atomic_write(out_path, "w") as out:
        for line in src:
            tokens = _WORD.findall(line.lower())
            if tokens:
                out.write(" ".join(tokens) + "\n")
                words += len(tokens)
    return words
