"""The data the benchmarks share, made on a fresh machine from Debian's packages (`apt-get
install dict-gcide wordnet-base`) into data/ once, and the GCIDE vectors two of them start from."""
import os
import re

from wordembed import WordVectors, train_vectors
from wordembed.datasets import prepare_gcide, prepare_wordnet_glosses, prepare_wordnet_senses, wordnet_glosses
from wordembed.fileio import atomic_write
from wordembed.text.labelled_sets import debian_packages, fortunes_by_language

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")


def _made(name, make, what):
    os.makedirs(DATA, exist_ok=True)
    path = os.path.join(DATA, name)
    if not os.path.exists(path):
        print(f"preparing {path}: {make(path):,} {what}", flush=True)
    return path


def gcide():
    """GCIDE, one dictionary entry a line (the main job's corpus, 5.4 million words)."""
    return _made("gcide-entries.txt", prepare_gcide, "words")


def labelled_glosses():
    """WordNet's glosses in fastText's format, labelled by lexicographer file (45 classes)."""
    return _made("wordnet-glosses.txt", prepare_wordnet_glosses, "glosses")


def labelled_senses():
    """WordNet's words in fastText's format, labelled by all their senses' lexicographer files."""
    return _made("wordnet-senses.txt", prepare_wordnet_senses, "words")


def gloss_text():
    """WordNet's glosses without labels, one a line."""
    def write(path):
        lines = 0
        with atomic_write(path, "w") as f:
            for _, gloss in wordnet_glosses():
                f.write(gloss + "\n")
                lines += 1
        return lines
    return _made("wordnet-glosses-text.txt", write, "glosses")


def gcide_vectors(threads=None):
    """CBOW vectors of GCIDE (dim 100, min_count 5, 5 epochs), trained once and kept in data/."""
    path = os.path.join(DATA, "bench-downstream-gcide.pt")
    if not os.path.exists(path):
        print("training the vectors on GCIDE ...", flush=True)
        train_vectors(gcide(), path, dim=100, epochs=5, min_count=5, threads=threads, log=open(os.devnull, "w"))
    return WordVectors.load(path)


def concatenated():
    """Four differently sourced texts one after another, as [a-z]+ words, one document a line:
    GCIDE's entries (alphabetical), WordNet's glosses (in WordNet's order), the English fortunes,
    then Debian's package descriptions (by name). For the order of epochs (bench_train.py)."""
    def write(path):
        words = 0
        with atomic_write(path, "w") as out:
            def put(text):
                nonlocal words
                tokens = re.findall(r"[a-z]+", text.lower())
                if tokens:
                    out.write(" ".join(tokens) + "\n")
                    words += len(tokens)
            with open(gcide(), encoding="utf-8") as f:
                for line in f:
                    put(line)
            for _, gloss in wordnet_glosses():
                put(gloss)
            for lang, fortune in fortunes_by_language():
                if lang == "en":
                    put(fortune)
            for fields in debian_packages():
                put(fields.get("Description", ""))
        return words
    return _made("concatenated.txt", write, "words")
