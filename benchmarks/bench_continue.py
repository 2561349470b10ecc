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

from corpora import gcide_vectors, gloss_text
from wordembed import train_vectors
from wordembed.vectors.evaluation import default_test_data

SETTINGS = dict(dim=100, epochs=5, min_count=5)


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
    glosses, old = gloss_text(), gcide_vectors(args.threads)
    quiet = open(os.devnull, "w")
    print(f"old vectors: {len(old):,} words (GCIDE); new corpus: WordNet glosses; "
          f"{args.seeds} seeds, {args.threads or 'all'} threads\n")
    print(f"{'run':<34}{'words':>9}{'analogy':>10}{'WS353':>8}{'SL999':>8}   analogy per seed")
    runs = {"old vectors, as they are": (len(old), [scores(old, sets)])}
    for name, init in (("new corpus alone", None), ("continued from the old vectors", old)):
        trained = [train_vectors(glosses, None, init=init, seed=seed, threads=args.threads, log=quiet, **SETTINGS)
                   for seed in range(1, args.seeds + 1)]
        runs[name] = (len(trained[0]), [scores(vectors, sets) for vectors in trained])
    for name, (words, results) in runs.items():
        mean = [statistics.mean(r[k] for r in results) for k in range(3)]
        print(f"{name:<34}{words:>9,}{mean[0]:>9.1f}%{mean[1]:>8.3f}{mean[2]:>8.3f}   "
              + " ".join(f"{r[0]:.1f}" for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
