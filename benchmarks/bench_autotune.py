"""Autotune: wordembed's against fastText's (the pip wheel), the same files, duration, metric and
threads, side by side. The training file is cut into a training part and a validation part (every
tenth line, so that a file in its source's order keeps that order in both); each system searches
for the settings that score best on the validation part within the duration, and its model is
then scored on the set's test file. Printed: the validation score, the test P@1, the wall time
(fastText's includes its training once more with the best settings, after the duration), and
wordembed's difference.

    .venv/bin/python benchmarks/bench_autotune.py [--sets packages glosses-50k langid] [--duration 60]
        [--threads 2] [--metric f1] [--orders file shuffled]

The sets are those of bench_classify.py (files in their sources' own order as well as shuffled).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_classify import data  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["packages", "glosses-50k", "langid"])
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--metric", default="f1")
    p.add_argument("--orders", nargs="+", default=["file", "shuffled"])
    return p.parse_args()


def split(train, folder):
    """(training part, validation part): every tenth line of the file is validation."""
    with open(train, encoding="utf-8") as f:
        lines = f.readlines()
    parts = (os.path.join(folder, "train.txt"), os.path.join(folder, "valid.txt"))
    for path, keep in zip(parts, (lambda i: i % 10 != 9, lambda i: i % 10 == 9)):
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(line for i, line in enumerate(lines) if keep(i))
    return parts


def tune(module, train, valid, test, args):
    """(validation score by the metric, test P@1, seconds) of a system's autotuned model."""
    from wordembed.training.autotune import metric_score
    start = time.perf_counter()
    model = module.train_supervised(input=train, autotuneValidationFile=valid, autotuneDuration=args.duration,
                                    autotuneMetric=args.metric, thread=args.threads, verbose=0)
    seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:  # both scored by one scorer: wordembed's, on the saved file
        from wordembed import Classifier
        model.save_model(os.path.join(folder, "m.bin"))
        classifier = Classifier.load(os.path.join(folder, "m.bin"))
    return metric_score(classifier, valid, args.metric, 1), classifier.test(test)[1], seconds


def main():
    import fasttext

    import wordembed.fasttext as ours
    args = parse_args()
    print(f"{'set':12} {'order':8} {'system':10} {args.metric + ' valid':>12} {'P@1 test':>8} {'seconds':>8}")
    for name in args.sets:
        trains, test = data(name)
        for order, train in trains.items():
            if order not in args.orders:
                continue
            with tempfile.TemporaryDirectory() as folder:
                part, valid = split(train, folder)
                found = {system: tune(module, part, valid, str(test), args)
                         for system, module in (("fastText", fasttext), ("wordembed", ours))}
            for system, (score, p1, seconds) in found.items():
                print(f"{name:12} {order:8} {system:10} {score:12.4f} {p1:8.4f} {seconds:8.1f}")
            (a, b, _), (c, d, _) = found["wordembed"], found["fastText"]
            print(f"{'':12} {'':8} {'ours less':10} {100 * (a - c):+11.2f}p {100 * (b - d):+7.2f}p", flush=True)


if __name__ == "__main__":
    main()
