"""Trains CBOW or skip-gram vectors, with or without subwords, with wordembed, gensim, fastText
and a plain PyTorch loop on the same corpus and settings, one subprocess each, and prints speed, peak memory, quality and ratios.
"wordembed" trains as `wordembed train` does (on the CPU, skip-gram's pairs as minibatches that
share negatives); "wordembed per-pair" trains every example alone (--shared-negatives 0);
"wordembed shuffled" and "wordembed file-order" visit the sentences in a fresh order each epoch,
or in the file's order (--no-shuffle), whatever the default.

    .venv/bin/python benchmarks/bench_train.py                       # GCIDE, as prepared by scripts/run.sh
    .venv/bin/python benchmarks/bench_train.py --corpus FILE --epochs 5 --threads 2
    .venv/bin/python benchmarks/bench_train.py --systems wordembed gensim --seeds 5
    .venv/bin/python benchmarks/bench_train.py --model skipgram --systems wordembed gensim fastText
    .venv/bin/python benchmarks/bench_train.py --subwords --model skipgram --systems wordembed fastText
    .venv/bin/python benchmarks/bench_train.py --systems wordembed "wordembed per-pair" gensim --thread-scaling 1 2
    .venv/bin/python benchmarks/bench_train.py --systems wordembed --shared-negatives 4   # CBOW, 4 positions a draw
    .venv/bin/python benchmarks/bench_train.py --corpus data/concatenated.txt --seeds 3 \
        --systems "wordembed shuffled" "wordembed file-order"       # the order of epochs (see below)

Settings: dim 100, window 5, negative 5, min_count 5, sample 1e-3, alpha 0.05 (word2vec's CBOW
default), linear decay, the given epochs and threads. Each system is timed twice: its training
(words/s = corpus tokens x epochs / training seconds; vocabulary building excluded, except for
fastText, whose API trains in one call), and as a whole command, from the moment its process is
started to its vectors on disk in word2vec's binary format (interpreter start, imports, counting,
encoding, training, saving). gensim reads the file with corpus_file=, its fastest mode (a C++
reader per worker); wordembed is trained as `wordembed train` trains it. Memory: the process's
peak resident memory, and its growth above the process right after the library was imported
(the interpreter and torch or gensim's own imports are the platform's cost).
Quality: Google analogies over the 30,000 most frequent words (lower-cased), WordSim-353 and
SimLex-999 Spearman, all from gensim's test data, all scored by gensim's own functions. The plain
PyTorch loop (embedding_bag + embedding with sparse gradients + torch.optim.SGD, minibatches of
1024) can be given fewer epochs with --plain-epochs. With --seeds N each system trains N times
(seeds 1..N) and the table shows means, with the range of analogy scores: one run's analogy score
varies by about a point from seed to seed. (fastText's Python API takes no seed; its runs differ
through its threads' timing only.)
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CORPUS = os.path.join(HERE, "..", "data", "gcide-entries.txt")  # as examples/train_gcide.py writes it
SETTINGS = dict(dim=100, window=5, negative=5, min_count=5, sample=1e-3, alpha=0.05)
SUBWORDS = dict(minn=3, maxn=6, bucket=2_000_000)  # fastText's defaults, for --subwords


def configure(args):
    """The settings of this run: CBOW or skip-gram (alpha 0.025, word2vec's and gensim's skip-gram
    default), with or without fastText's subwords."""
    if args.model == "skipgram":
        SETTINGS["alpha"] = 0.025


def count_tokens(path):
    with open(path, "rb") as f:
        return sum(len(line.split()) for line in f)


def quality(vectors_path, args):
    """Scores by gensim's functions when gensim is installed, else by wordembed's (which give
    the same numbers: tests/vectors/test_word_vectors.py); a missing evaluation set scores nan. Subword models
    (fastText .bin files) are scored by wordembed's, which also scores the word pairs with an
    unseen word by the vectors their n-grams give, as fastText does ('wordsim_oov', 'simlex_oov';
    and with those pairs scored 0, gensim's dummy4unknown: 'wordsim_zero', 'simlex_zero')."""
    from wordembed.vectors.evaluation import default_test_data
    sets = {"analogy": args.analogies or default_test_data("questions-words.txt"),
            "wordsim": args.wordsim or default_test_data("wordsim353.tsv"),
            "simlex": args.simlex or default_test_data("simlex999.txt")}
    nan = float("nan")
    if args.subwords:
        from wordembed import WordVectors
        wv = WordVectors.load(vectors_path)
        result = dict(analogy=wv.evaluate_word_analogies(sets["analogy"], restrict_vocab=30_000)[0], vocab=len(wv))
        for name in ("wordsim", "simlex"):
            result[name] = wv.evaluate_word_pairs(sets[name], oov_by_subwords=False).spearman.statistic
            result[name + "_zero"] = wv.evaluate_word_pairs(sets[name], oov_by_subwords=False,
                                                            dummy4unknown=True).spearman.statistic
            scored = wv.evaluate_word_pairs(sets[name])
            result[name + "_oov"], result[name + "_oov_ratio"] = scored.spearman.statistic, scored.oov_ratio
        return result
    try:
        from gensim.models import KeyedVectors
        kv = KeyedVectors.load_word2vec_format(vectors_path, binary=True)
        analogies = lambda path: kv.evaluate_word_analogies(path, restrict_vocab=30_000)[0]  # noqa: E731
        spearman = lambda path: float(kv.evaluate_word_pairs(path)[1].statistic)  # noqa: E731
    except ImportError:
        from wordembed import WordVectors
        kv = WordVectors.load(vectors_path)
        analogies = lambda path: kv.evaluate_word_analogies(path, restrict_vocab=30_000)[0]  # noqa: E731
        spearman = lambda path: kv.evaluate_word_pairs(path).spearman.statistic  # noqa: E731
    nan = float("nan")
    return dict(analogy=analogies(sets["analogy"]) if sets["analogy"] else nan,
                wordsim=spearman(sets["wordsim"]) if sets["wordsim"] else nan,
                simlex=spearman(sets["simlex"]) if sets["simlex"] else nan, vocab=len(kv))


def _status_mb(key):
    """A memory line of /proc/self/status, read here rather than through wordembed, which would
    import torch into the peers' processes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key)) / 1024


def peak_mb():
    return _status_mb("VmHWM:")  # not getrusage: across fork and exec it carries the parent's peak


def resident_mb():
    return _status_mb("VmRSS:")


def imported(args):
    """Marks the baseline: the library is imported, nothing else is done yet."""
    args.import_mb = resident_mb()


def run_wordembed(args, out, backend="fused", epochs=None, device="cpu", shared_negatives=None, shuffle=None):
    import wordembed  # noqa: F401
    imported(args)
    from wordembed import TrainConfig, train_vectors  # what `wordembed train` runs
    order = {} if shuffle is None else {"shuffle": shuffle}
    cfg = TrainConfig(epochs=epochs or args.epochs, threads=args.threads, backend=backend, device=device,
                      model=args.model, shared_negatives=shared_negatives, **order,
                      **{**SETTINGS, "seed": args.seed, **(SUBWORDS if args.subwords else {})})
    vectors = train_vectors(args.corpus, out, cfg, log=open(os.devnull, "w"),
                            output_format="fasttext" if args.subwords else None)
    args.saved = time.time()
    return sum(h["seconds"] for h in vectors.history), cfg.epochs


def run_gensim(args, out):
    from gensim.models import Word2Vec
    imported(args)
    model = Word2Vec(sg=int(args.model == "skipgram"), vector_size=SETTINGS["dim"], window=SETTINGS["window"], negative=SETTINGS["negative"],
                     min_count=SETTINGS["min_count"], sample=SETTINGS["sample"], alpha=SETTINGS["alpha"],
                     workers=args.threads, seed=args.seed)
    model.build_vocab(corpus_file=args.corpus)
    start = time.perf_counter()
    model.train(corpus_file=args.corpus, total_words=model.corpus_total_words, epochs=args.epochs)
    seconds = time.perf_counter() - start
    model.wv.save_word2vec_format(out, binary=True)
    args.saved = time.time()
    return seconds, args.epochs


def run_fasttext(args, out):
    import fasttext
    imported(args)
    start = time.perf_counter()
    subwords = SUBWORDS if args.subwords else dict(minn=0, maxn=0)
    model = fasttext.train_unsupervised(args.corpus, model=args.model, dim=SETTINGS["dim"], ws=SETTINGS["window"],
                                        neg=SETTINGS["negative"], minCount=SETTINGS["min_count"],
                                        t=SETTINGS["sample"], lr=SETTINGS["alpha"], epoch=args.epochs,
                                        thread=args.threads, verbose=0, **subwords)
    seconds = time.perf_counter() - start
    if args.subwords:  # its own .bin, which keeps the n-gram rows for unseen words
        model.save_model(out)
        args.saved = time.time()
        return seconds, args.epochs
    # word2vec's binary format, as the others write it; with maxn=0 the input matrix's rows are
    # the words, in model.words order ("</s>", fastText's line end, is left out)
    matrix = model.get_input_matrix()
    keep = [i for i, w in enumerate(model.words) if w != "</s>"]
    with open(out, "wb") as f:
        f.write(f"{len(keep)} {matrix.shape[1]}\n".encode())
        for i in keep:
            f.write(model.words[i].encode("utf-8") + b" " + matrix[i].astype("<f4").tobytes() + b"\n")
    args.saved = time.time()
    return seconds, args.epochs


def run_plain_pytorch(args, out):
    """What a user would write by hand: embedding_bag and embedding with sparse gradients,
    torch.optim.SGD, minibatches of 1024 examples (drawn by wordembed.reference.ns_examples)."""
    import torch
    import torch.nn.functional as F
    from wordembed import reference
    from wordembed.text.corpus import encode_corpus
    from wordembed.memory import zeros_table
    from wordembed.training.config import TrainConfig
    from wordembed.training.tables import alpha_at, initial_input_vectors
    from wordembed import WordVectors
    from wordembed.text.vocab import Vocabulary
    imported(args)
    torch.set_num_threads(args.threads)
    vocab = Vocabulary.from_file(args.corpus, SETTINGS["min_count"])
    corpus = encode_corpus(args.corpus, vocab, out + ".corpus")
    keep, (prob, alias) = vocab.keep_probabilities(SETTINGS["sample"]), vocab.noise_alias_table()
    V, D, epochs = len(vocab), SETTINGS["dim"], args.plain_epochs
    g = torch.Generator().manual_seed(args.seed)
    cfg = TrainConfig(**{**SETTINGS, "seed": args.seed})  # the schedule and chunks of wordembed's runs
    # wordembed's initialisation, so that only the training loop differs
    inp = torch.nn.Parameter(initial_input_vectors(V, D, cfg.init_scale, g))
    outp = torch.nn.Parameter(zeros_table((V, D)))
    opt = torch.optim.SGD([inp, outp], lr=SETTINGS["alpha"])
    total, done = corpus.num_words * epochs, 0
    start = time.perf_counter()
    for _ in range(epochs):
        for ids, starts in corpus.chunks(cfg.words_per_chunk):
            context, target, negatives, _ = reference.ns_examples(
                torch.from_numpy(ids), torch.from_numpy(starts), keep, prob, alias, SETTINGS["window"],
                SETTINGS["negative"], g)
            for group in opt.param_groups:
                group["lr"] = alpha_at(cfg, done, total)
            for b in range(0, len(target), 1024):
                ctx = context[b:b + 1024]
                present = ctx >= 0
                offsets = torch.cat([torch.zeros(1, dtype=torch.long), present.sum(1).cumsum(0)[:-1]])
                hidden = F.embedding_bag(ctx[present], inp, offsets, mode="mean", sparse=True)
                outputs = torch.cat([target[b:b + 1024, None], negatives[b:b + 1024]], 1)
                scores = torch.einsum("bd,bkd->bk", hidden, F.embedding(outputs, outp, sparse=True))
                labels = torch.zeros_like(scores)
                labels[:, 0] = 1
                loss = F.binary_cross_entropy_with_logits(scores, labels, reduction="sum")
                opt.zero_grad()
                loss.backward()
                opt.step()
            done += len(ids)
    seconds = time.perf_counter() - start
    WordVectors(vocab.ix_to_word, inp.detach(), vocab.counts).save(out)
    args.saved = time.time()
    return seconds, epochs


DEFAULT_SYSTEMS = ("wordembed", "wordembed per-pair", "gensim", "fastText", "plain PyTorch")
SYSTEMS = {
    "wordembed": lambda a, o: run_wordembed(a, o, shared_negatives=a.shared_negatives),  # its defaults
    "wordembed per-pair": lambda a, o: run_wordembed(a, o, shared_negatives=0),  # every example alone
    "wordembed-cuda": lambda a, o: run_wordembed(a, o, device="cuda"),
    # each epoch in a fresh order (training/chunks.py), and in the file's order
    "wordembed shuffled": lambda a, o: run_wordembed(a, o, shared_negatives=a.shared_negatives, shuffle=True),
    "wordembed file-order": lambda a, o: run_wordembed(a, o, shared_negatives=a.shared_negatives, shuffle=False),
    "gensim": run_gensim,
    "fastText": run_fasttext,
    "plain PyTorch": run_plain_pytorch,
}


def child(args):
    """Runs one system in this process and prints one JSON line."""
    out = os.path.join(args.tmp, args.system.replace(" ", "_") + ".bin")
    seconds, epochs = SYSTEMS[args.system](args, out)
    peak = peak_mb()  # before the evaluation below, which loads gensim
    result = dict(system=args.system, seconds=seconds, epochs=epochs, whole_seconds=args.saved - args.launched,
                  peak_mb=peak, growth_mb=peak - args.import_mb, **quality(out, args))
    print("RESULT " + json.dumps(result), flush=True)


def child_command(args, system, tmp, threads, seed):
    """The command line that trains one system once, in its own process (child())."""
    cmd = [sys.executable, __file__, "--system", system, "--tmp", tmp, "--corpus", args.corpus,
           "--epochs", str(args.epochs), "--threads", str(threads), "--plain-epochs", str(args.plain_epochs),
           "--seed", str(seed), "--model", args.model]
    cmd += ["--subwords"] if args.subwords else []
    if args.shared_negatives is not None:
        cmd += ["--shared-negatives", str(args.shared_negatives)]
    for name in ("analogies", "wordsim", "simlex"):
        if getattr(args, name):
            cmd += [f"--{name}", getattr(args, name)]
    return cmd


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--plain-epochs", type=int, default=None, help="default: --epochs")
    parser.add_argument("--model", choices=["cbow", "skipgram"], default="cbow")
    parser.add_argument("--subwords", action="store_true",
                        help="fastText's subwords (minn 3, maxn 6, bucket 2,000,000); models are saved as "
                             "fastText .bin files and scored with unseen words' pairs too")
    parser.add_argument("--seeds", type=int, default=1, help="train each system with seeds 1..N")
    parser.add_argument("--shared-negatives", type=int, default=None, metavar="P",
                        help="the 'wordembed' system's --shared-negatives (default: its own default)")
    parser.add_argument("--thread-scaling", type=int, nargs="+", metavar="THREADS",
                        help="then train each system once per thread count given (e.g. 1 2), and print "
                             "their training speeds side by side")
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--systems", nargs="+", default=[s for s in SYSTEMS if s in DEFAULT_SYSTEMS],
                        choices=list(SYSTEMS), help=f"default: {', '.join(DEFAULT_SYSTEMS)}")
    parser.add_argument("--analogies", help="Google analogy file (default: gensim's test data)")
    parser.add_argument("--wordsim", help="WordSim-353 file (default: gensim's test data)")
    parser.add_argument("--simlex", help="SimLex-999 file (default: gensim's test data)")
    parser.add_argument("--system", help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.plain_epochs = args.plain_epochs or args.epochs
    configure(args)
    if (args.model != "cbow" or args.subwords) and "plain PyTorch" in args.systems:
        args.systems.remove("plain PyTorch")  # its loop is CBOW's alone
    if args.subwords and "gensim" in args.systems:
        args.systems.remove("gensim")  # the subword peer is fastText (gensim's FastText is another program)
    if args.seeds < 1:
        raise SystemExit("--seeds must be at least 1")
    if args.system:
        return child(args)
    if not os.path.exists(args.corpus):
        raise SystemExit(f"{args.corpus} not found: run scripts/run.sh first, or pass --corpus FILE")
    tokens = count_tokens(args.corpus)
    print(f"corpus {args.corpus}: {tokens:,} tokens; {platform.processor() or platform.machine()}, "
          f"{args.threads} threads; {args.model}, settings {SETTINGS}{', subwords ' + str(SUBWORDS) if args.subwords else ''}, "
          f"{args.epochs} epochs, seeds 1..{args.seeds}",
          flush=True)
    results, failed = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for system in args.systems:
            runs = []
            for seed in range(1, args.seeds + 1):
                cmd = child_command(args, system, tmp, args.threads, seed)
                proc = subprocess.run(cmd + ["--launched", repr(time.time())], capture_output=True, text=True)
                line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
                if proc.returncode or line is None:
                    print(f"{system} (seed {seed}): failed\n{proc.stderr[-2000:]}", flush=True)
                    break
                r = json.loads(line[len("RESULT "):])
                r["words_per_s"] = tokens * r["epochs"] / r["seconds"]
                runs.append(r)
                print(f"  {system} (seed {seed}): trained in {r['seconds']:.1f} s, whole command "
                      f"{r['whole_seconds']:.1f} s, analogy {100 * r['analogy']:.1f}%", flush=True)
            if len(runs) < args.seeds:
                failed.append(system)
                continue
            results[system] = {key: statistics.mean(r[key] for r in runs) for key in runs[0]
                               if isinstance(runs[0][key], float) and key not in ("seconds",)}
            results[system].update(epochs=runs[0]["epochs"], analogy_low=min(r["analogy"] for r in runs),
                                   analogy_high=max(r["analogy"] for r in runs))
    means = " (means over seeds)" if args.seeds > 1 else ""
    print(f"\n{'system':<20}{'epochs':>7}{'whole s':>9}{'M words/s':>11}{'peak MB':>9}{'(growth)':>9}{'analogy':>9}"
          f"{'WS353':>8}{'SL999':>8}{'   analogy range' if args.seeds > 1 else ''}{means}")
    for name, r in results.items():
        spread = (f"   {100 * r['analogy_low']:.1f}-{100 * r['analogy_high']:.1f}%" if args.seeds > 1 else "")
        print(f"{name:<20}{r['epochs']:>7}{r['whole_seconds']:>9.1f}{r['words_per_s'] / 1e6:>11.2f}{r['peak_mb']:>9.0f}"
              f"{r['growth_mb']:>9.0f}{100 * r['analogy']:>8.1f}%{r['wordsim']:>8.3f}{r['simlex']:>8.3f}{spread}")
    print("whole s: from the process's start to its vectors on disk; M words/s: training only; peak MB: the "
          "process's peak resident memory; (growth): its peak above the process after the library's import")
    if args.subwords:
        print("\nword pairs with an unseen word (Spearman): left out / scored 0 / scored by subwords (fastText's way)")
        for name, r in results.items():
            print(f"  {name:<13} WS353 {r['wordsim']:.3f} / {r['wordsim_zero']:.3f} / {r['wordsim_oov']:.3f} "
                  f"({r['wordsim_oov_ratio']:.1f}% of pairs unseen)   SL999 {r['simlex']:.3f} / {r['simlex_zero']:.3f} / "
                  f"{r['simlex_oov']:.3f} ({r['simlex_oov_ratio']:.1f}%)")
    if "wordembed" in results and "wordembed-cuda" in results:
        cpu, gpu = results["wordembed"], results["wordembed-cuda"]
        print(f"\nwordembed-cuda vs wordembed (CPU): {gpu['words_per_s'] / cpu['words_per_s']:.1f}x speed, "
              f"analogy {100 * (gpu['analogy'] - cpu['analogy']):+.1f} points (target: within 1 point; "
              f">= 25 M words/s on an H100)")
    if "wordembed" in results and len(results) > 1:
        ours = results["wordembed"]
        print("\nwordembed vs   whole command   training   memory growth   analogy (points)")
        for name, r in results.items():
            if name not in ("wordembed", "wordembed-cuda"):
                print(f"  {name:<20}{r['whole_seconds'] / ours['whole_seconds']:>11.2f}x {ours['words_per_s'] / r['words_per_s']:>9.2f}x"
                      f" {ours['growth_mb'] / r['growth_mb']:>11.2f}x {100 * (ours['analogy'] - r['analogy']):>+14.1f}")
        print("(whole command and training: how many times faster wordembed is; memory growth: wordembed's over "
              "theirs. Targets vs gensim and fastText: whole command >= 2.5x on GCIDE and >= 3x on the 20x "
              "corpus, memory growth <= 1x, analogy >= theirs)")
    if args.thread_scaling:
        print_thread_scaling(args, tokens)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


def print_thread_scaling(args, tokens):
    """Each of --systems again, once per thread count of --thread-scaling (seed 1): training
    words/s and the speed-up over the first count."""
    print(f"\nthread scaling (seed 1): training M words/s, and x the {args.thread_scaling[0]}-thread speed")
    print(f"{'system':<20}" + "".join(f"{str(t) + ' threads':>18}" for t in args.thread_scaling))
    with tempfile.TemporaryDirectory() as tmp:
        for system in args.systems:
            speeds = []
            for threads in args.thread_scaling:
                cmd = child_command(args, system, tmp, threads, 1)
                proc = subprocess.run(cmd + ["--launched", repr(time.time())], capture_output=True, text=True)
                line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
                if proc.returncode or line is None:
                    speeds.append(float("nan"))
                    continue
                r = json.loads(line[len("RESULT "):])
                speeds.append(tokens * r["epochs"] / r["seconds"] / 1e6)
            print(f"{system:<20}" + "".join(f"{v:>10.2f} ({v / speeds[0]:.2f}x)" for v in speeds))


if __name__ == "__main__":
    main()
