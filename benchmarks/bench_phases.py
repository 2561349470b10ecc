"""Where the whole `wordembed train` command spends its time outside the epochs: runs the command's
own path (train_vectors, as `wordembed train` calls it) in a fresh process with each phase's
function timed from outside (the library is not changed), and prints the phase table.

    .venv/bin/python benchmarks/make_large_corpus.py --passes 4    # data/gcide-4x.txt, 21.7 M tokens
    .venv/bin/python benchmarks/bench_phases.py --corpus data/gcide-4x.txt
    .venv/bin/python benchmarks/bench_phases.py --corpus data/gcide-4x.txt --model skipgram --epochs 1

Phases: starting Python and importing wordembed (torch with it); the corpus's fingerprint; counting
the vocabulary; encoding the id stream; the id stream's fingerprint; allocating and starting the
tables; the checkpoints (how many, their total); the epochs; making the vectors from the tables;
writing them; and what is left (the work directory, the lock, the rest of the stages).
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "data", "gcide-entries.txt")


def timed(owner, name, totals, phase):
    """Replaces owner.name by a wrapper that adds its seconds to totals[phase]."""
    original = getattr(owner, name)
    is_class_method = isinstance(owner.__dict__.get(name), classmethod)
    function = original.__func__ if is_class_method else original

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[phase][0] += time.perf_counter() - start
            totals[phase][1] += 1
    setattr(owner, name, classmethod(wrapper) if is_class_method else wrapper)


def child(args):
    import wordembed  # noqa: F401  (and torch)
    imported = time.time()
    from wordembed import TrainConfig, train_vectors
    from wordembed.text.corpus import EncodedCorpus
    from wordembed.text.vocab import Vocabulary
    from wordembed.training import checkpoint, preparation, trainer, word2vec
    from wordembed.vectors import WordVectors
    totals = collections.defaultdict(lambda: [0.0, 0])
    timed(trainer, "corpus_fingerprint_of", totals, "corpus fingerprint")
    timed(Vocabulary, "from_corpus", totals, "count")
    timed(preparation, "encode_corpus", totals, "encode")
    timed(EncodedCorpus, "fingerprint", totals, "id stream fingerprint")
    timed(preparation, "allocate_tables", totals, "tables")
    timed(word2vec.Word2Vec, "start_tables", totals, "tables")
    timed(checkpoint.Checkpoints, "save", totals, "checkpoints")
    timed(word2vec.Word2Vec, "result", totals, "vectors from the tables")
    timed(WordVectors, "save", totals, "write the vectors")
    config = TrainConfig(model=args.model, epochs=args.epochs, threads=args.threads,
                         shared_negatives=args.shared_negatives)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        vectors = train_vectors(args.corpus, os.path.join(tmp, "vectors.bin"), config, log=open(os.devnull, "w"))
        done = time.time()
    epochs = sum(h["seconds"] for h in vectors.history)
    rows = [("start Python, import wordembed and torch", imported - args.launched, 1)]
    rows += [(phase, seconds, calls) for phase, (seconds, calls) in totals.items()]
    rows += [(f"epochs ({len(vectors.history)})", epochs, len(vectors.history))]
    rows += [("the rest (work directory, lock, stages)", (done - started) - epochs - sum(s for s, _ in totals.values()), 1)]
    whole = done - args.launched
    print(f"{'phase':<45}{'seconds':>9}{'share':>8}{'calls':>7}")
    for phase, seconds, calls in rows:
        print(f"{phase:<45}{seconds:>9.2f}{100 * seconds / whole:>7.1f}%{calls:>7}")
    print(f"{'whole command':<45}{whole:>9.2f}{100.0:>7.1f}%")
    print(f"outside the epochs: {whole - epochs:.2f} s ({100 * (whole - epochs) / whole:.1f}%)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--model", choices=["cbow", "skipgram"], default="cbow")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shared-negatives", type=int, default=None, help="default: the model's")
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.launched is not None:
        return child(args)
    if not os.path.exists(args.corpus):
        raise SystemExit(f"{args.corpus} not found: see the commands above")
    print(f"corpus {args.corpus}, {args.model}, {args.epochs} epochs, {args.threads} threads", flush=True)
    subprocess.run([sys.executable, __file__, *sys.argv[1:], "--launched", repr(time.time())], check=True)


if __name__ == "__main__":
    main()
