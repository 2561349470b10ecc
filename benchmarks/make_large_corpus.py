"""Writes the large corpus of the scale benchmark: the GCIDE entries (one dictionary entry per
line, as scripts/run.sh prepares them) repeated PASSES times, each pass in its own order (pass k
shuffled by random.Random(k)), so that no two passes repeat a stretch of text. The result is the
same file on every machine.

    .venv/bin/python benchmarks/make_large_corpus.py            # data/gcide-20x.txt, about 590 MB
    .venv/bin/python benchmarks/bench_train.py --corpus data/gcide-20x.txt --seeds 1 \\
        --systems wordembed gensim fastText
"""
import argparse
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from wordembed.fileio import atomic_write  # noqa: E402

SOURCE = os.path.join(HERE, "..", "data", "gcide-entries.txt")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default=SOURCE)
    parser.add_argument("--passes", type=int, default=20)
    parser.add_argument("--output", default=None, help="default: data/gcide-<passes>x.txt")
    args = parser.parse_args()
    if not os.path.exists(args.source):
        raise SystemExit(f"{args.source} not found: run scripts/run.sh first, or pass --source FILE")
    output = args.output or os.path.join(os.path.dirname(args.source), f"gcide-{args.passes}x.txt")
    with open(args.source, "rb") as f:
        lines = [line if line.endswith(b"\n") else line + b"\n" for line in f]
    with atomic_write(output) as out:
        for k in range(args.passes):
            order = list(range(len(lines)))
            random.Random(k).shuffle(order)
            out.writelines(lines[i] for i in order)
    print(f"wrote {output}: {args.passes} passes of {len(lines):,} lines, {os.path.getsize(output) / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
