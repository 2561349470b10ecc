"""Quantized classifiers (.ftz): wordembed's quantize against fastText's (the pip wheel), side by
side on the same files, settings and threads. Each system trains its own model, then quantizes
it with the same settings; printed: P@1 before and after, the .ftz's size, the seconds quantize
took, and wordembed's P@1 less fastText's. The sets are those of bench_classify.py, in their
sources' own order (grouped by label or sorted by name) as well as shuffled.

    .venv/bin/python benchmarks/bench_quantize.py [--sets glosses-50k packages langid glosses]
        [--cutoff 100000] [--threads 2] [--no-retrain]

Settings: fastText's supervised defaults, wordNgrams 2 (langid: char n-grams 2-4, dim 16), and
fastText's recipe for a small model: -cutoff 100000 -retrain -qnorm (the retraining's epochs and
lr: the training's).
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_classify import LANGID, data  # noqa: E402

SETTINGS = {"langid": LANGID, "glosses": {}}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", default=["glosses-50k", "packages", "langid", "glosses"])
    p.add_argument("--cutoff", type=int, default=100_000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--no-retrain", dest="retrain", action="store_false")
    return p.parse_args()


def train(module, path, threads, settings):
    """module.train_supervised; for the wheel, again with the next seed where it stops with
    "Encountered NaN" (fastText 0.9.2 does so at random on some files)."""
    for seed in range(10):
        try:
            return module.train_supervised(input=path, thread=threads, verbose=0, seed=seed, **settings)
        except RuntimeError as e:
            if "NaN" not in str(e):
                raise
            print(f"  ({module.__name__} stopped with NaN at seed {seed}: trained again)", flush=True)
    return None


def quantize_both(train_file, test, settings, args, folder):
    """{system: (P@1 dense, P@1 quantized, .ftz bytes, quantize seconds)}."""
    import fasttext

    import wordembed.fasttext as ours
    quantize = dict(input=train_file, cutoff=args.cutoff, retrain=args.retrain, qnorm=True, thread=args.threads)
    found = {}
    for system, module in (("fastText", fasttext), ("wordembed", ours)):
        model = train(module, train_file, args.threads, settings)
        if model is None:
            print(f"  ({module.__name__} stopped with NaN at 10 seeds: this case is left out)", flush=True)
            return None
        dense = model.test(test)[1]
        start = time.perf_counter()
        model.quantize(**quantize)
        seconds = time.perf_counter() - start
        path = os.path.join(folder, f"{system}.ftz")
        model.save_model(path)
        found[system] = (dense, model.test(test)[1], os.path.getsize(path), seconds)
    return found


def main():
    args = parse_args()
    print(f"{'set':12} {'order':8} {'system':10} {'P@1 .bin':>8} {'P@1 .ftz':>8} {'.ftz MB':>8} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.sets:
            trains, test = data(name)
            settings = SETTINGS.get(name, {"wordNgrams": 2})
            for order, train in trains.items():
                found = quantize_both(str(train), str(test), settings, args, folder)
                if found is None:
                    continue
                for system, (dense, quantized, size, seconds) in found.items():
                    print(f"{name:12} {order:8} {system:10} {dense:8.4f} {quantized:8.4f} {size / 1e6:8.2f} "
                          f"{seconds:8.1f}")
                ours, theirs = found["wordembed"], found["fastText"]
                print(f"{'':12} {'':8} {'ratio':10} P@1 .ftz {100 * (ours[1] - theirs[1]):+.2f} points, size "
                      f"{ours[2] / theirs[2]:.3f}x, quantize {theirs[3] / ours[3]:.2f}x faster", flush=True)


if __name__ == "__main__":
    main()
