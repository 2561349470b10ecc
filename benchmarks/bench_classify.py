"""wordembed's classifier against fastText's (the pip wheel), side by side on the same files,
threads and settings (fastText's supervised defaults otherwise), over several seeds.

    .venv/bin/python benchmarks/bench_classify.py [--seeds 3] [--threads 2] [--sets glosses-50k ...]

Data, made on a fresh machine from Debian's wordnet-base (`apt-get install wordnet-base`) into
data/, each shuffled with a fixed seed and split into a training and a test file:
  glosses-50k    WordNet's glosses labelled by lexicographer file, 45 classes (wordembed.datasets.
                 prepare_wordnet_glosses): 50,000 training and 10,000 test glosses
  glosses-all    the same, all of it: 97,659 training and 20,000 test glosses
  senses         WordNet's words labelled by the lexicographer files of all their senses, their text
                 the word and its senses' glosses (prepare_wordnet_senses; multi-label, loss ova):
                 125,287 training and 30,000 test words
Each run is two fresh processes per system, so that neither's import or memory counts for the
other:
  train     the call alone, timed around it: wordembed.train_classifier(...) against
            fasttext.train_supervised(...), then the test (P@1, and P@5/R@5 for ova), and the
            peak memory above the process after its import (fastText: its whole process)
  command   the whole command, the interpreter's start and every import included:
            `wordembed supervised TRAIN -o MODEL` against `python -c "import fasttext;
            fasttext.train_supervised(...).save_model(MODEL)"` (the wheel has no command line)
Prints each run and the medians, with wordembed's ratio to fastText.
"""
import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

# corpora imports wordembed, and so torch: only the parent may (the children measure memory)

CASES = {  # set -> [(name, settings in fastText's names, k for P/R)]
    "glosses-50k": [("ngrams 1", {}, 1), ("ngrams 2", {"wordNgrams": 2}, 1)],
    "glosses-all": [("ngrams 1", {}, 1), ("ngrams 2", {"wordNgrams": 2}, 1)],
    "senses": [("ova", {"loss": "ova"}, 5), ("ova ngrams 2", {"loss": "ova", "wordNgrams": 2}, 5)],
}
OURS = {"wordNgrams": "word_ngrams", "loss": "loss", "epoch": "epochs", "thread": "threads", "seed": "seed"}


def split(name, source, train_size, test_size):
    """data/NAME-train.txt and data/NAME-test.txt: source's lines shuffled (seed 0) and cut."""
    from corpora import _made
    from wordembed.fileio import atomic_write

    def write(path, part):
        with open(source, encoding="utf-8") as f:
            lines = f.read().splitlines()
        random.Random(0).shuffle(lines)
        chosen = lines[:train_size] if part == "train" else lines[train_size:train_size + test_size]
        with atomic_write(path, "w") as f:
            f.write("".join(line + "\n" for line in chosen))
        return len(chosen)
    return tuple(_made(f"{name}-{part}.txt", functools.partial(write, part=part), "examples")
                 for part in ("train", "test"))


def data(name):
    from corpora import labelled_glosses, labelled_senses
    if name == "senses":
        return split(name, labelled_senses(), 125_287, 30_000)
    sizes = {"glosses-50k": (50_000, 10_000), "glosses-all": (97_659, 20_000)}[name]
    return split(name, labelled_glosses(), *sizes)


def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def resident_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def child(args):
    """One system's training call and test in this process; prints one JSON line."""
    settings, k = json.loads(args.settings), args.k
    if args.system == "fasttext":
        import fasttext
        start = time.perf_counter()
        model = fasttext.train_supervised(args.train, verbose=0, **settings)
        seconds = time.perf_counter() - start
        peak = peak_mb()
        n, p1, _ = model.test(args.test, k=1)
        _, pk, rk = model.test(args.test, k=k)
    else:
        import wordembed  # noqa: F401  (the baseline: the library imported, nothing done yet)
        base = resident_mb()
        from wordembed import train_classifier
        start = time.perf_counter()
        model = train_classifier(args.train, log=open(os.devnull, "w"), **{OURS[key]: v for key, v in settings.items()})
        seconds = time.perf_counter() - start
        peak = peak_mb() - base
        n, p1, _ = model.test(args.test, k=1)
        _, pk, rk = model.test(args.test, k=k)
    print("RESULT " + json.dumps(dict(seconds=seconds, memory_mb=peak, n=n, p1=p1, pk=pk, rk=rk)), flush=True)


def command(system, train, settings, model_path):
    """Seconds of the whole command, from the interpreter's start to the model written."""
    if system == "fasttext":
        code = (f"import fasttext; fasttext.train_supervised({train!r}, verbose=0, **{settings!r})"
                f".save_model({model_path!r})")
        argv = [sys.executable, "-c", code]
    else:
        argv = [sys.executable, "-m", "wordembed", "supervised", train, "-o", model_path]
        for key, value in settings.items():
            argv += [f"--{OURS[key].replace('_', '-')}", str(value)]
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def run(system, train, test, settings, k):
    out = subprocess.run([sys.executable, __file__, "--child", system, "--train", train, "--test", test,
                          "--settings", json.dumps(settings), "--k", str(k)], capture_output=True, text=True)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        raise SystemExit(f"{system} failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sets", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--test", help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.system = args.child
        return child(args)
    print(f"{args.threads} threads, {args.seeds} seeds; fastText's supervised defaults otherwise", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            train, test = data(name)
            for case, settings, k in CASES[name]:
                rows = {"fasttext": [], "wordembed": []}
                for seed in range(args.seeds):
                    full = dict(settings, thread=args.threads, seed=seed)
                    for system in rows:
                        result = run(system, train, test, full, k)
                        result["command"] = command(system, train, full, os.path.join(tmp, f"{system}.bin"))
                        rows[system].append(result)
                        print(f"  {name} {case} seed {seed} {system:9s}: train {result['seconds']:6.2f} s, command "
                              f"{result['command']:6.2f} s, P@1 {result['p1']:.4f}"
                              + (f", P@{k} {result['pk']:.4f} R@{k} {result['rk']:.4f}" if k > 1 else "")
                              + f", memory {result['memory_mb']:7.1f} MiB", flush=True)
                report(name, case, k, rows, train)


def report(name, case, k, rows, train):
    with open(train, encoding="utf-8") as f:
        examples = sum(1 for _ in f)

    def median(system, key):
        return statistics.median(r[key] for r in rows[system])

    ft, we = rows["fasttext"], rows["wordembed"]
    print(f"{name} ({examples:,} training examples), {case}, medians over {len(ft)} seeds:")
    for key, what in (("seconds", "training call, s"), ("command", "whole command, s")):
        a, b = median("fasttext", key), median("wordembed", key)
        print(f"  {what:18s} fastText {a:7.2f}  wordembed {b:7.2f}  fastText / wordembed {a / b:5.2f}x")
    a, b = median("fasttext", "seconds"), median("wordembed", "seconds")
    print(f"  {'examples/s':18s} fastText {5 * examples / a:9,.0f}  wordembed {5 * examples / b:9,.0f}  (5 epochs)")
    for key, what in (("p1", "P@1"),) + ((("pk", f"P@{k}"), ("rk", f"R@{k}")) if k > 1 else ()):
        a, b = median("fasttext", key), median("wordembed", key)
        print(f"  {what:18s} fastText {a:.4f}  wordembed {b:.4f}  difference {100 * (b - a):+.2f} points")
    a, b = median("fasttext", "memory_mb"), median("wordembed", "memory_mb")
    print(f"  {'memory, MiB':18s} fastText {a:7.1f} (whole process)  wordembed {b:7.1f} (above import)", flush=True)


if __name__ == "__main__":
    main()
