"""Times the corpus preparation, counting the vocabulary and encoding the id stream, of the
compiled pipeline (csrc/corpus) against its Python twin, on the same corpus and threads, side by
side, and checks that both give the same vocabulary and byte-identical encoded files.

    .venv/bin/python benchmarks/bench_prep.py                          # GCIDE, 2 threads
    .venv/bin/python benchmarks/bench_prep.py --corpus data/gcide-20x.txt --pipelines native

Times are medians over --repeats runs (the file in the page cache: the second pass onwards).
tokens/s = the corpus's tokens / (count + encode seconds); the target is 20 M tokens/s on 2 cores.
"""
import argparse
import filecmp
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from wordembed import ops  # noqa: E402,F401  (loads the compiled library before timing)
from wordembed.text.corpus import encode_corpus  # noqa: E402
from wordembed.text.vocab import Vocabulary  # noqa: E402

DEFAULT_CORPUS = os.path.join(HERE, "..", "data", "gcide-entries.txt")


def prepare(corpus, pipeline, threads, prefix):
    start = time.perf_counter()
    vocab = Vocabulary.from_corpus(corpus, min_count=5, pipeline=pipeline, threads=threads)
    counted = time.perf_counter()
    encode_corpus(corpus, vocab, prefix, pipeline=pipeline, threads=threads)
    return vocab, counted - start, time.perf_counter() - counted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipelines", nargs="+", default=["native", "python"], choices=["native", "python"])
    args = parser.parse_args()
    if not os.path.exists(args.corpus):
        raise SystemExit(f"{args.corpus} not found: run scripts/run.sh first, or pass --corpus FILE")
    print(f"corpus {args.corpus} ({os.path.getsize(args.corpus) / 2**20:.0f} MB), {args.threads} threads, "
          f"min_count 5, medians of {args.repeats} runs", flush=True)
    results, vocabs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for pipeline in args.pipelines:
            runs = []
            for _ in range(args.repeats):
                vocab, count_s, encode_s = prepare(args.corpus, pipeline, args.threads, os.path.join(tmp, pipeline))
                runs.append((count_s, encode_s))
            vocabs[pipeline] = vocab
            count_s, encode_s = (statistics.median(r[i] for r in runs) for i in (0, 1))
            results[pipeline] = dict(count=count_s, encode=encode_s, tokens=vocab.total_tokens)
            print(f"  {pipeline}: count {count_s:.2f} s, encode {encode_s:.2f} s", flush=True)
        if len(results) == 2:
            same = (vocabs["native"].ix_to_word == vocabs["python"].ix_to_word
                    and vocabs["native"].counts.equal(vocabs["python"].counts)
                    and all(filecmp.cmp(os.path.join(tmp, "native" + s), os.path.join(tmp, "python" + s), shallow=False)
                            for s in (".ids", ".starts")))
    tokens = next(iter(results.values()))["tokens"]
    print(f"\n{tokens:,} tokens, {len(next(iter(vocabs.values()))):,} words kept")
    print(f"{'pipeline':<10}{'count s':>9}{'encode s':>10}{'M tokens/s':>12}")
    for name, r in results.items():
        print(f"{name:<10}{r['count']:>9.2f}{r['encode']:>10.2f}{tokens / (r['count'] + r['encode']) / 1e6:>12.1f}")
    if len(results) == 2:
        ratio = (results["python"]["count"] + results["python"]["encode"]) / (results["native"]["count"] + results["native"]["encode"])
        print(f"native vs python: {ratio:.1f}x faster; vocabulary and encoded files identical: {same}")
        if not same:
            raise SystemExit("the pipelines disagree")


if __name__ == "__main__":
    main()
