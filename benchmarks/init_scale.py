"""How the scale of the initial input vectors changes the quality of the trained vectors.

    .venv/bin/python benchmarks/init_scale.py                              # GCIDE, scales 0.5 1 4, seeds 1-5
    .venv/bin/python benchmarks/init_scale.py --corpus FILE --scales 0.5 1 2 4 8 --seeds 3

Trains wordembed's CBOW or skip-gram (--model; the settings of bench_train.py) once per scale and seed, with input
vectors uniform in [-scale/dim, scale/dim): word2vec's scale is 0.5, gensim 4's is 1.0. Prints,
per scale, the mean over seeds of the analogy accuracy (top 30,000 words), WordSim-353 and
SimLex-999 Spearman, and the range of analogy scores. A second corpus to check a choice on:
`apt-get install dict-wn`, then `python -c "from wordembed.datasets import prepare_gcide;
prepare_gcide('wn.txt', source='/usr/share/dictd/wn.dict.dz')"`.
"""
import argparse
import os
import statistics
import tempfile

from bench_train import DEFAULT_CORPUS, SETTINGS


def add_arguments(parser, seeds):
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)


def quality_over_seeds(args, label, **settings):
    """Trains once per seed with bench_train's settings (and these) and returns the means over
    seeds: (analogy, lowest analogy, highest analogy, WordSim-353, SimLex-999)."""
    if not os.path.exists(args.corpus):
        raise SystemExit(f"{args.corpus} not found: run scripts/run.sh first, or pass --corpus FILE")
    from wordembed.vectors.evaluation import default_test_data
    from wordembed.training import TrainConfig
    from wordembed.training.trainer import Trainer
    sets = [default_test_data(name) for name in ("questions-words.txt", "wordsim353.tsv", "simlex999.txt")]
    if not all(sets):
        raise SystemExit("the evaluation sets ship with gensim's test data: pip install gensim")
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.seeds + 1):
            config = TrainConfig(epochs=args.epochs, threads=args.threads, seed=seed, **{**SETTINGS, **settings})
            trainer = Trainer(args.corpus, config, os.path.join(tmp, "work"), log=open(os.devnull, "w"))
            vectors = trainer.train()
            trainer.work.cleanup()
            scores.append((vectors.evaluate_word_analogies(sets[0], restrict_vocab=30_000)[0],
                           vectors.evaluate_word_pairs(sets[1]).spearman.statistic,
                           vectors.evaluate_word_pairs(sets[2]).spearman.statistic))
            print(f"  {label} seed {seed}: analogy {100 * scores[-1][0]:.1f}%", flush=True)
    analogy = [s[0] for s in scores]
    return (statistics.mean(analogy), min(analogy), max(analogy),
            statistics.mean(s[1] for s in scores), statistics.mean(s[2] for s in scores))


def print_table(title, rows):
    print(f"\n{title:>12}{'analogy':>9}{'range':>14}{'WS353':>8}{'SL999':>8}   (means over seeds)")
    for label, (mean, low, high, wordsim, simlex) in rows:
        print(f"{label:>12}{100 * mean:>8.1f}%{f'{100 * low:.1f}-{100 * high:.1f}%':>14}{wordsim:>8.3f}{simlex:>8.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_arguments(parser, seeds=5)
    parser.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 4.0])
    parser.add_argument("--model", choices=["cbow", "skipgram"], default="cbow",
                        help="skipgram: with alpha 0.025, as bench_train.py --model skipgram")
    args = parser.parse_args()
    model = {"model": args.model, **({"alpha": 0.025} if args.model == "skipgram" else {})}
    print(f"corpus {args.corpus}; {args.model}, settings {SETTINGS}, {args.epochs} epochs, {args.threads} threads, "
          f"seeds 1..{args.seeds}", flush=True)
    rows = [(f"{scale:g}", quality_over_seeds(args, f"scale {scale:g}", init_scale=scale, **model))
            for scale in args.scales]
    print_table("init_scale", rows)


if __name__ == "__main__":
    main()
