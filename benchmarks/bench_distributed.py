"""Data-parallel training against one process, on one machine: 1 process x 2 threads against
2 processes x 1 thread (torchrun, gloo over the loopback), with each choice of the sync scheme
(sync.py) side by side, and prints speed, communication and quality.

    .venv/bin/python benchmarks/bench_distributed.py --seeds 3                  # GCIDE, CBOW, as scripts/run.sh prepares it
    .venv/bin/python benchmarks/bench_distributed.py --seeds 3 --model skipgram --runs 1x2 2x1-deltas
    .venv/bin/python benchmarks/bench_distributed.py --seeds 3 --corpus FILE --round-words 65536   # a sweep

Settings are bench_train.py's (dim 100, window 5, negative 5, min_count 5, sample 1e-3, alpha
0.05 for CBOW and 0.025 for skip-gram, 5 epochs). Runs: 2x1-deltas is the default scheme (tiers,
overlapped with the next round, bfloat16 on the wire); -blocking waits for each exchange;
-fp32 sends float32; -hot-only sends the hot rows every round and every changed row every
--full-every rounds (the scheme before the tiers); -average is model averaging; -4x-shorter and
-4x-longer change the round; 1x1 is one process with one thread, and 1x1-rounds the same in
chunks of --round-words. Each run is one command: a `wordembed train`-equivalent for 1 x 2,
`python -m torch.distributed.run --nproc-per-node 2 ...` for 2 x 1.
- whole s: from the command's start to its vectors on disk; whole M words/s: corpus words x
  epochs / whole s (the issue's measure); launch s: until rank 0's Python starts (torchrun's own
  start, before any of wordembed's work); train M words/s: words / the epochs' seconds.
- Sent: what each rank put on the wire for its syncs, by the trainer's count (the ring
  algorithm's arithmetic), per epoch and per round (the epoch's end included); sync s: rank 0's
  seconds inside the syncs (waits for the other rank included); lo: the bytes the loopback
  interface carried during the whole command (both directions, every rank, the rendezvous and
  the shards included), read from /proc/net/dev.
- Quality: Google analogies over the 30,000 most frequent words, WordSim-353 and SimLex-999
  Spearman, scored as bench_train.py scores them."""
import time

STARTED = time.time()  # this process's start, before its imports: a launcher's own start shows

import argparse  # noqa: E402
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_train import DEFAULT_CORPUS, SETTINGS, configure, count_tokens, quality  # noqa: E402
from wordembed.training.config import TrainConfig  # noqa: E402  (imports no compiled code)
from wordembed.distributed.strategy import DISTRIBUTED_CPU_CHUNK  # noqa: E402

# name: (processes, threads each, sync scheme, words per rank between syncs as a multiple of
# --round-words (the single process trains its default chunks), settings of
# wordembed.distributed.sync that differ from its defaults)
RUNS = {"1x2": (1, 2, None, None, {}),
        "1x1": (1, 1, None, None, {}),
        "1x1-rounds": (1, 1, None, 1, {}),  # one thread, in chunks as long as the ranks' rounds
        "2x1-deltas": (2, 1, "deltas", 1, {}),
        "2x1-deltas-blocking": (2, 1, "deltas", 1, {"OVERLAP": False}),
        "2x1-deltas-fp32": (2, 1, "deltas", 1, {"WIRE_DTYPE": "float32"}),
        "2x1-deltas-hot-only": (2, 1, "deltas", 1, {"TIERS": False}),
        "2x1-average": (2, 1, "average", 1, {}),
        "2x1-deltas-4x-shorter": (2, 1, "deltas", 1 / 4, {}),
        "2x1-deltas-4x-longer": (2, 1, "deltas", 4, {})}
DEFAULT_RUNS = ["1x2", "2x1-deltas", "2x1-deltas-blocking", "2x1-deltas-hot-only", "2x1-average"]


def loopback_bytes():
    with open("/proc/net/dev") as f:
        for line in f:
            name, _, data = line.partition(":")
            if name.strip() == "lo":
                fields = data.split()
                return int(fields[0]) + int(fields[8])  # received + sent
    return 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(args):
    """One rank (or the single process): trains as `wordembed train` does; rank 0 prints the run's
    history as one JSON line."""
    from wordembed import train_vectors
    from wordembed.distributed import sync
    for name, value in RUNS[args.variant][4].items():
        setattr(sync, name, getattr(torch, value) if name == "WIRE_DTYPE" else value)
    cfg = TrainConfig(model=args.model, epochs=args.epochs, threads=args.threads, seed=args.seed, chunk_words=args.chunk_words,
                      sync=args.sync or "deltas", sync_hot_rows=args.hot_rows, sync_full_every=args.full_every,
                      **SETTINGS)
    vectors = train_vectors(args.corpus, args.out, cfg, log=open(os.devnull, "w"))
    if int(os.environ.get("RANK", "0")) == 0:
        print("RESULT " + json.dumps({"started": STARTED, "saved": time.time(), "history": vectors.history}),
              flush=True)


def run(name, seed, args, tmp):
    processes, threads, sync, share, _ = RUNS[name]
    out = os.path.join(tmp, f"{name}-{seed}.bin")
    launch = [sys.executable]
    if processes > 1:
        launch += ["-m", "torch.distributed.run", "--nproc-per-node", str(processes), "--master-addr", "127.0.0.1",
                   "--master-port", str(free_port())]
    cmd = launch + [__file__, "--worker", "--corpus", args.corpus, "--out", out, "--epochs", str(args.epochs),
                    "--threads", str(threads), "--seed", str(seed), "--model", args.model, "--variant", name]
    cmd += ["--chunk-words", str(int(share * args.round_words))] if share else []
    cmd += ["--sync", sync] if sync else []
    cmd += ["--hot-rows", str(args.hot_rows), "--full-every", str(args.full_every)]
    lo, started = loopback_bytes(), time.time()
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lo = loopback_bytes() - lo
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise SystemExit(f"{name} (seed {seed}) failed:\n{proc.stderr[-3000:]}")
    result = json.loads(line[len("RESULT "):])
    history = result["history"]
    seconds, words = sum(h["seconds"] for h in history), sum(h["words"] for h in history)
    rounds = sum(h.get("sync_rounds", 0) for h in history)
    sent = sum(h.get("sync_bytes", 0) for h in history)
    r = dict(whole_seconds=result["saved"] - started, launch_seconds=result["started"] - started,
             whole_words_per_s=words / (result["saved"] - started), words_per_s=words / seconds,
             sent_mb=sent / len(history) / 2**20, round_kb=sent / max(rounds, 1) / 2**10,
             sync_seconds=sum(h.get("sync_seconds", 0.0) for h in history), lo_mb=lo / 2**20, **quality(out, args))
    os.unlink(out)
    return r


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="train each run with seeds 1..N")
    parser.add_argument("--model", choices=("cbow", "skipgram"), default="cbow")
    parser.add_argument("--runs", nargs="+", default=DEFAULT_RUNS, choices=list(RUNS))
    parser.add_argument("--round-words", type=int, default=DISTRIBUTED_CPU_CHUNK,
                        help="words each rank trains between two syncs (the trainer's default on the CPU)")
    defaults = TrainConfig()
    parser.add_argument("--hot-rows", type=int, default=defaults.sync_hot_rows,
                        help="deltas: the most frequent words' rows summed after every round")
    parser.add_argument("--full-every", type=int, default=defaults.sync_full_every,
                        help="deltas: every changed row summed every this many rounds (the -hot-only runs, and "
                             "a subword model's n-gram rows)")
    parser.add_argument("--analogies", help="Google analogy file (default: gensim's test data)")
    parser.add_argument("--wordsim", help="WordSim-353 file (default: gensim's test data)")
    parser.add_argument("--simlex", help="SimLex-999 file (default: gensim's test data)")
    for hidden, kind in (("--worker", "store_true"), ("--out", None), ("--threads", int), ("--seed", int),
                         ("--chunk-words", int), ("--sync", None), ("--variant", None)):
        if kind == "store_true":
            parser.add_argument(hidden, action=kind, help=argparse.SUPPRESS)
        else:
            parser.add_argument(hidden, type=kind, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.subwords = False  # what bench_train.quality reads
    configure(args)
    if args.worker:
        return worker(args)
    if not os.path.exists(args.corpus):
        raise SystemExit(f"{args.corpus} not found: run scripts/run.sh first, or pass --corpus FILE")
    print(f"corpus {args.corpus}: {count_tokens(args.corpus):,} tokens; {os.cpu_count()} cores; {args.model}, settings "
          f"{SETTINGS}, {args.epochs} epochs, seeds 1..{args.seeds}; deltas: hot rows {args.hot_rows} (then tiers), full "
          f"syncs every {args.full_every} rounds (-hot-only); {args.round_words:,} words per rank per round", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(1, args.seeds + 1):  # seeds outside, so that drifts of the machine hit every run alike
            for name in args.runs:
                r = run(name, seed, args, tmp)
                results.setdefault(name, []).append(r)
                print(f"  {name} (seed {seed}): whole {r['whole_seconds']:.1f} s (launch {r['launch_seconds']:.1f} s), "
                      f"{r['words_per_s'] / 1e6:.2f} M words/s trained, "
                      f"syncs {r['sync_seconds']:.1f} s, analogy {100 * r['analogy']:.1f}%", flush=True)
    means = {name: {k: statistics.mean(r[k] for r in runs) for k in runs[0]} for name, runs in results.items()}
    base = means.get("1x2")

    def versus(m, key, form):
        return form.format(m[key] / base[key]) if base else "-"

    def points(m, key, scale, form):
        return form.format(scale * (m[key] - base[key])) if base else "-"

    print(f"\n{'run':<23}{'whole s':>8}{'launch s':>9}{'whole Mw/s':>11}{'vs 1x2':>7}{'train Mw/s':>11}{'vs 1x2':>7}"
          f"{'MiB/epoch':>10}{'KiB/round':>10}{'sync s':>7}{'lo MiB':>7}{'analogy':>9}{'(range)':>12}{'vs 1x2':>7}"
          f"{'WS353':>7}{'vs':>7}{'SL999':>7}{'vs':>7}" + ("  (means over seeds)" if args.seeds > 1 else ""))
    for name, m in means.items():
        runs = results[name]
        low, high = min(r["analogy"] for r in runs), max(r["analogy"] for r in runs)
        print(f"{name:<23}{m['whole_seconds']:>8.1f}{m['launch_seconds']:>9.1f}{m['whole_words_per_s'] / 1e6:>11.2f}"
              f"{versus(m, 'whole_words_per_s', '{:.0%}'):>7}{m['words_per_s'] / 1e6:>11.2f}"
              f"{versus(m, 'words_per_s', '{:.0%}'):>7}{m['sent_mb']:>10.1f}{m['round_kb']:>10.0f}"
              f"{m['sync_seconds']:>7.1f}{m['lo_mb']:>7.0f}{100 * m['analogy']:>8.1f}%"
              f"{f'{100 * low:.1f}-{100 * high:.1f}%':>12}{points(m, 'analogy', 100, '{:+.1f}'):>7}"
              f"{m['wordsim']:>7.3f}{points(m, 'wordsim', 1, '{:+.3f}'):>7}{m['simlex']:>7.3f}"
              f"{points(m, 'simlex', 1, '{:+.3f}'):>7}")
    print("targets: 2x1's whole-command words/s at least 90% of 1x2's; analogy within 0.5 points and word pairs "
          "within 0.01 of 1x2's")

if __name__ == "__main__":
    main()
