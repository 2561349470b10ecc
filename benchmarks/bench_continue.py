"""Continued training, measured: vectors trained on a new corpus alone against vectors that
continue from older ones (train_vectors(init=...), `wordembed train --init`) on the same new
corpus, same settings and seeds; scored on the analogy and word-pair sets.

    .venv/bin/python benchmarks/bench_continue.py [--seeds 3] [--threads 2]

Data, made on a fresh machine from Debian packages (`apt-get install dict-gcide wordnet-base`):
  old vectors  CBOW, dim 100, 5 epochs on GCIDE (data/gcide-entries.txt, 5.4 million words;
               wordembed.datasets.prepare_gcide), as bench_downstream.py trains them
  new corpus   WordNet's glosses without their labels, one per line (1.6 million words;
               wordembed.datasets.wordnet_glosses)
Both runs: CBOW, dim 100, min_count 5, 5 epochs on the new corpus. Scores: Google analogies
over the 30,000 most frequent words, WordSim-353 and SimLex-999 Spearman (gensim's test data),
by wordembed's evaluation (the same numbers as gensim's).
"""
import argparse
import os
import statistics
import sys

from wordembed import WordVectors, train_vectors
from wordembed.datasets import prepare_gcide, wordnet_glosses
from wordembed.fileio import atomic_write
from wordembed.vectors.evaluation import default_test_data

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
SETTINGS = dict(dim=100, epochs=5, min_count=5)


def prepared():
    os.makedirs(DATA, exist_ok=True)
    gcide, glosses = os.path.join(DATA, "gcide-entries.txt"), os.path.join(DATA, "wordnet-glosses-text.txt")
    if not os.path.exists(gcide):
        print(f"preparing {gcide}: {prepare_gcide(gcide):,} words", flush=True)
    if not os.path.exists(glosses):
        with atomic_write(glosses, "w") as f:
            for _, gloss in wordnet_glosses():
                f.write(gloss + "\n")
    return gcide, glosses


def scores(vectors, sets):
    analogies, wordsim, simlex = sets
    return (100 * vectors.evaluate_word_analogies(analogies, restrict_vocab=30_000)[0],
            vectors.evaluate_word_pairs(wordsim).spearman.statistic,
            vectors.evaluate_word_pairs(simlex).spearman.statistic)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    sets = [default_test_data(name) for name in ("questions-words.txt", "wordsim353.tsv", "simlex999.txt")]
    if not all(sets):
        raise SystemExit("the evaluation sets ship with gensim's test data: pip install gensim")
    gcide, glosses = prepared()
    quiet = open(os.devnull, "w")
    old_path = os.path.join(DATA, "bench-downstream-gcide.pt")
    if not os.path.exists(old_path):
        train_vectors(gcide, old_path, threads=args.threads, log=quiet, **SETTINGS)
    old = WordVectors.load(old_path)
    print(f"old vectors: {len(old):,} words (GCIDE); new corpus: WordNet glosses; "
          f"{args.seeds} seeds, {args.threads or 'all'} threads\n")
    print(f"{'run':<34}{'words':>9}{'analogy':>10}{'WS353':>8}{'SL999':>8}   analogy per seed")
    rows = {"old vectors, as they are": [scores(old, sets)] * args.seeds}
    for name, init in (("new corpus alone", None), ("continued from the old vectors", old_path)):
        rows[name] = []
        for seed in range(1, args.seeds + 1):
            vectors = train_vectors(glosses, None, init=init, seed=seed, threads=args.threads, log=quiet, **SETTINGS)
            rows[name].append(scores(vectors, sets))
        rows[name + " "] = len(vectors)
    for name in ("old vectors, as they are", "new corpus alone", "continued from the old vectors"):
        runs = rows[name]
        words = len(old) if name.startswith("old") else rows[name + " "]
        mean = [statistics.mean(r[k] for r in runs) for k in range(3)]
        print(f"{name:<34}{words:>9,}{mean[0]:>9.1f}%{mean[1]:>8.3f}{mean[2]:>8.3f}   "
              + " ".join(f"{r[0]:.1f}" for r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
