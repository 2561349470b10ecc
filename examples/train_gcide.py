"""The main job: train CBOW vectors on the GCIDE dictionary (about 5 million words of English),
then show nearest neighbours and the analogy score.

    .venv/bin/python examples/train_gcide.py [--epochs 5] [--threads N]

Needs the Debian package dict-gcide (scripts/run.sh installs it)."""
import argparse
import os
import sys

from wordembed.datasets import prepare_gcide
from wordembed.vectors.evaluation import default_test_data
from wordembed import train_vectors

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
PROBES = ["king", "water", "horse", "red", "music", "three"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    os.makedirs(DATA, exist_ok=True)
    corpus = os.path.join(DATA, "gcide-entries.txt")  # one entry per line (gcide.txt, of old, had lines)
    if not os.path.exists(corpus):
        print(f"preparing {corpus} ...", flush=True)
        print(f"  {prepare_gcide(corpus):,} words", flush=True)
    out = os.path.join(DATA, "gcide.bin")
    vectors = train_vectors(corpus, out, epochs=args.epochs, threads=args.threads)
    for entry in vectors.history:
        print(f"epoch {entry['epoch']}: mean loss {entry['loss']:.4f}, "
              f"{entry['words_per_second'] / 1e6:.2f} M words/s")
    print(f"\nwrote {out}: {len(vectors):,} words, dim {vectors.vector_size}\n")
    for word in PROBES:
        if word in vectors:
            print(f"{word:>8}: " + ", ".join(w for w, _ in vectors.most_similar(word, topn=8)))
    analogies = default_test_data("questions-words.txt")
    if analogies:
        score, _ = vectors.evaluate_word_analogies(analogies, restrict_vocab=30_000)
        print(f"\nGoogle analogy accuracy (top 30,000 words, lower-cased): {100 * score:.1f}%")
    print(f"\nquery it yourself: .venv/bin/wordembed similar {os.path.relpath(out)} king")
    return 0


if __name__ == "__main__":
    sys.exit(main())
