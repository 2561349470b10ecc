"""wordembed's classifier against fastText's (the pip wheel), side by side on the same files,
threads and settings (fastText's supervised defaults otherwise), over several seeds, on files in
their sources' own order as well as shuffled.

    .venv/bin/python benchmarks/bench_classify.py [--seeds 3] [--threads 1 2] [--sets langid packages ...]
        [--orders file shuffled] [--systems fastText wordembed "wordembed --no-shuffle"]

Data, made on a fresh machine from Debian's packages into data/ (`apt-get install wordnet-base
debtags fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru fortunes-pl
fortunes-eo fortunes-cs fortunes-bg`; the package lists come with `apt-get update`):
  glosses-50k    WordNet's glosses labelled by lexicographer file, 45 classes (wordembed.datasets.
                 prepare_wordnet_glosses), shuffled with a fixed seed: 50,000 training and 10,000
                 test glosses
  glosses        the same in WordNet's own order (nouns, verbs, adjectives, adverbs; within each,
                 by lexicographer file: one class after another)
  langid         fortunes in 9 languages labelled by language, one language after another
                 (prepare_fortune_languages; char n-grams 2-4, dim 16, as a language identifier)
  packages       Debian's packages labelled by section, in apt's order (by name)
                 (prepare_debian_packages)
  debtags        the same packages labelled by their debtags: multi-label, loss ova, P@5/R@5
  senses         WordNet's words labelled by all their senses' lexicographer files (multi-label,
                 loss ova; prepare_wordnet_senses), shuffled: 125,287 training and 30,000 test
For the sets in their own order, the test lines are a seeded sample (a fifth, at most 10,000), and
the training file is every other line in the source's order ("file"), or the same lines shuffled
("shuffled"). Each run is two fresh processes per system, so that neither's import or memory
counts for the other:
  train     the call alone, timed around it: wordembed.train_classifier(...) against
            fasttext.train_supervised(...), then the test (P@1, and P@5/R@5 for ova), and the
            peak memory above the process after its import (fastText: its whole process)
  command   the whole command, the interpreter's start and every import included:
            `wordembed supervised TRAIN -o MODEL` against `python -c "import fasttext;
            fasttext.train_supervised(...).save_model(MODEL)"` (the wheel has no command line)
The systems take turns seed by seed. Prints each run and the medians, with wordembed's ratio to
fastText. "wordembed --no-shuffle" trains in file order, as wordembed did before epochs were
shuffled.
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

LANGID = {"minn": 2, "maxn": 4, "dim": 16}
CASES = {  # set -> [(name, settings in fastText's names, k for P/R)]
    "glosses-50k": [("ngrams 1", {}, 1), ("ngrams 2", {"wordNgrams": 2}, 1)],
    "glosses": [("ngrams 1", {}, 1)],
    "langid": [("char 2-4 dim 16", LANGID, 1)],
    "packages": [("ngrams 1", {}, 1), ("ngrams 2", {"wordNgrams": 2}, 1)],
    "debtags": [("ova", {"loss": "ova"}, 5)],
    "senses": [("ova", {"loss": "ova"}, 5), ("ova ngrams 2", {"loss": "ova", "wordNgrams": 2}, 5)],
}
SHUFFLED_SETS = ("glosses-50k", "senses")  # shuffled at the source: their file order is random
OURS = {"wordNgrams": "word_ngrams", "loss": "loss", "epoch": "epochs", "thread": "threads", "seed": "seed",
        "minn": "minn", "maxn": "maxn", "dim": "dim"}
SYSTEMS = ("fastText", "wordembed", "wordembed --no-shuffle")


def _write_lines(path, lines):
    from wordembed.fileio import atomic_write
    with atomic_write(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return len(lines)


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def shuffled_split(name, source, train_size, test_size):
    """data/NAME-train.txt and data/NAME-test.txt: source's lines shuffled (seed 0) and cut."""
    from corpora import _made

    def write(path, part):
        lines = _read_lines(source)
        random.Random(0).shuffle(lines)
        return _write_lines(path, lines[:train_size] if part == "train" else lines[train_size:train_size + test_size])
    return tuple(_made(f"{name}-{part}.txt", functools.partial(write, part=part), "examples")
                 for part in ("train", "test"))


def ordered_split(name, source):
    """data/NAME-train.txt (the source's order), NAME-shuffled.txt (the same lines shuffled) and
    NAME-test.txt (a seeded sample of a fifth of the lines, at most 10,000, in the source's order)."""
    from corpora import _made

    def write(path, part):
        lines = _read_lines(source)
        test = set(random.Random(0).sample(range(len(lines)), min(len(lines) // 5, 10_000)))
        if part == "test":
            return _write_lines(path, [line for i, line in enumerate(lines) if i in test])
        train = [line for i, line in enumerate(lines) if i not in test]
        if part == "shuffled":
            random.Random(1).shuffle(train)
        return _write_lines(path, train)
    train, shuffled, test = (_made(f"{name}-{part}.txt", functools.partial(write, part=part), "examples")
                             for part in ("train", "shuffled", "test"))
    return {"file": train, "shuffled": shuffled}, test


def data(name):
    """({order: training file}, test file) of a set."""
    import corpora
    from wordembed.text.labelled_sets import prepare_debian_packages, prepare_fortune_languages
    if name == "senses":
        train, test = shuffled_split(name, corpora.labelled_senses(), 125_287, 30_000)
        return {"file": train}, test
    if name == "glosses-50k":
        train, test = shuffled_split(name, corpora.labelled_glosses(), 50_000, 10_000)
        return {"file": train}, test
    sources = {
        "glosses": corpora.labelled_glosses,
        "langid": lambda: corpora._made("fortune-languages.txt", prepare_fortune_languages, "fortunes"),
        "packages": lambda: corpora._made("debian-sections.txt", prepare_debian_packages, "packages"),
        "debtags": lambda: corpora._made("debian-tags.txt", functools.partial(prepare_debian_packages, labels="tags"),
                                         "packages"),
    }
    return ordered_split(name, sources[name]())


def peak_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def resident_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def child(args):
    """One system's training call and test in this process; prints one JSON line."""
    settings, k = json.loads(args.settings), args.k
    if args.system == "fastText":
        import fasttext
        start = time.perf_counter()
        model = fasttext.train_supervised(args.train, verbose=0, **settings)
        seconds = time.perf_counter() - start
        peak = peak_mb()
    else:
        import wordembed  # noqa: F401  (the baseline: the library imported, nothing done yet)
        base = resident_mb()
        from wordembed import train_classifier
        ours = {OURS[key]: v for key, v in settings.items()}
        start = time.perf_counter()
        model = train_classifier(args.train, log=open(os.devnull, "w"), shuffle=args.system == "wordembed", **ours)
        seconds = time.perf_counter() - start
        peak = peak_mb() - base
    n, p1, _ = model.test(args.test, k=1)
    _, pk, rk = model.test(args.test, k=k)
    print("RESULT " + json.dumps(dict(seconds=seconds, memory_mb=peak, n=n, p1=p1, pk=pk, rk=rk)), flush=True)


def command(system, train, settings, model_path):
    """Seconds of the whole command, from the interpreter's start to the model written."""
    if system == "fastText":
        code = (f"import fasttext; fasttext.train_supervised({train!r}, verbose=0, **{settings!r})"
                f".save_model({model_path!r})")
        argv = [sys.executable, "-c", code]
    else:
        argv = [sys.executable, "-m", "wordembed", "supervised", train, "-o", model_path]
        argv += ["--no-shuffle"] if system != "wordembed" else []
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


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--sets", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--orders", nargs="+", default=["file", "shuffled"], choices=["file", "shuffled"],
                        help="the training file in its source's order, or shuffled (sets in their own order)")
    parser.add_argument("--systems", nargs="+", default=["fastText", "wordembed"], choices=SYSTEMS)
    parser.add_argument("--no-command", action="store_true", help="time the training call alone")
    for hidden in ("--child", "--train", "--test", "--settings"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--k", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.child:
        args.system = args.child
        return child(args)
    print(f"threads {args.threads}, {args.seeds} seeds, systems {args.systems}; fastText's supervised defaults "
          "otherwise", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            trains, test = data(name)
            for order in [o for o in args.orders if o in trains]:
                for case, settings, k in CASES[name]:
                    for threads in args.threads:
                        measure(args, tmp, f"{name} ({order} order)", case, settings, k, threads, trains[order], test)


def measure(args, tmp, name, case, settings, k, threads, train, test):
    rows = {system: [] for system in args.systems}
    for seed in range(args.seeds):
        full = dict(settings, thread=threads, seed=seed)
        for system in rows:
            result = run(system, train, test, full, k)
            result["command"] = (float("nan") if args.no_command else
                                 command(system, train, full, os.path.join(tmp, "model.bin")))
            rows[system].append(result)
            print(f"  {name} {case} {threads} threads seed {seed} {system:9s}: train {result['seconds']:6.2f} s, "
                  f"command {result['command']:6.2f} s, P@1 {result['p1']:.4f}"
                  + (f", P@{k} {result['pk']:.4f} R@{k} {result['rk']:.4f}" if k > 1 else "")
                  + f", memory {result['memory_mb']:7.1f} MiB", flush=True)
    report(f"{name}, {case}, {threads} threads", k, rows, train)


def report(title, k, rows, train):
    with open(train, encoding="utf-8") as f:
        examples = sum(1 for _ in f)

    def median(system, key):
        return statistics.median(r[key] for r in rows[system])

    print(f"{title} ({examples:,} training examples), medians over {len(next(iter(rows.values())))} seeds:")
    systems = list(rows)
    base = "fastText" if "fastText" in rows else systems[0]
    for key, what in (("seconds", "training call, s"), ("command", "whole command, s"), ("p1", "P@1"),
                      ("pk", f"P@{k}"), ("rk", f"R@{k}"), ("memory_mb", "memory, MiB")):
        if key in ("pk", "rk") and k == 1:
            continue
        line = "  ".join(f"{s} {median(s, key):8.4f}" if key in ("p1", "pk", "rk") else f"{s} {median(s, key):7.2f}"
                         for s in systems)
        for s in systems:
            if s == base:
                continue
            a, b = median(base, key), median(s, key)
            line += (f"  {s}: {100 * (b - a):+.2f} points" if key in ("p1", "pk", "rk") else
                     f"  {base} / {s} {a / b:5.2f}x" if key in ("seconds", "command") else "")
        print(f"  {what:18s} {line}", flush=True)


if __name__ == "__main__":
    main()
