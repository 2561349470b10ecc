"""Times context_sum's forward, backward and forward+backward+update against the baselines, in
one run, and prints ratios and the memory floor.

    .venv/bin/python benchmarks/bench_op.py                 # CPU shapes (and CUDA ones on a GPU)
    .venv/bin/python benchmarks/bench_op.py --device cuda   # only the GPU

Systems, each doing one training step of a (V, D) table on a batch of B bags of word indices with
mean pooling and plain SGD (lr 0.01). A batch is padded, (B, C), or ragged: document-length bags
of a few to a few hundred ids (log-uniform), given as nn.EmbeddingBag's 1-D input and offsets:
  fused            wordembed.ops.context_sum(..., fused_lr=lr): the update inside the backward
  ours sparse+SGD  context_sum(..., sparse_grad=True) + torch.optim.SGD
  ours dense+SGD   context_sum(...) + torch.optim.SGD
  bag sparse+SGD   torch.nn.functional.embedding_bag(sparse=True) + torch.optim.SGD
  bag dense+SGD    embedding_bag + torch.optim.SGD
  reference+SGD    wordembed.reference.context_sum (embedding + masked mean) + torch.optim.SGD
Indices are uniform over the vocabulary (no padding, so embedding_bag sees the same bags).
Every system's table lives in transparent huge pages on the CPU, as the tables of wordembed's
modules and trainer do (wordembed/memory.py); --small-pages puts them all in 4 KiB pages instead.
The floor is the time to copy the bytes the fused step must move: it reads B*C rows for the
forward, reads and writes them again for the update, and reads/writes the (B, D) activations.
"""
import argparse
import platform
import statistics
import time

import torch

from wordembed import ops, reference
from wordembed.memory import zeros_table

LR = 0.01
RAGGED = (3, 300)  # a C of (shortest, longest): ragged bags, lengths log-uniform between them
CPU_SHAPES = [(4096, 10, 100, 50_000), (4096, 10, 300, 200_000), (512, RAGGED, 100, 50_000),
              (512, RAGGED, 300, 200_000)]
CUDA_SHAPES = [(4096, 10, 100, 50_000), (65_536, 10, 128, 1_000_000), (8192, RAGGED, 128, 1_000_000)]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(run, setup=lambda: None, device=torch.device("cpu"), reps=5):
    """Seconds of each of reps calls of run(), with setup() untimed before each call."""
    times = []
    for _ in range(reps):
        setup()
        sync(device)
        start = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def measure_interleaved(cases, device, min_time):
    """Median seconds per case; cases (name -> (run, setup)) take turns in short rounds, so that
    a slow spell of a shared machine falls on all of them alike. A round is ten calls in a row,
    as a training loop makes them: the state each system keeps warm between steps (its table in
    cache) counts, for every system alike."""
    for run, setup in cases.values():  # warm-up
        measure(run, setup, device, reps=2)
    samples = {name: [] for name in cases}
    start = time.perf_counter()
    while time.perf_counter() - start < min_time * len(cases) or min(map(len, samples.values())) < 10:
        for name, (run, setup) in cases.items():
            samples[name] += measure(run, setup, device, reps=10)
    return {name: statistics.median(times) for name, times in samples.items()}


class System:
    """One way to train the table: forward(weight) -> out; step() applies the update after backward."""

    def __init__(self, name, weight, forward, optimizer=None):
        self.name, self.weight, self.forward, self.optimizer = name, weight, forward, optimizer

    def step(self):
        if self.optimizer is not None:
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)


def make_systems(weight0, context, offsets, huge_pages):
    def param():
        if not huge_pages:
            return torch.nn.Parameter(weight0.clone())
        return torch.nn.Parameter(zeros_table(weight0.shape, device=weight0.device).copy_(weight0))

    def sgd(p):
        return torch.optim.SGD([p], lr=LR)

    c, o, bag = context, offsets, torch.nn.functional.embedding_bag
    systems = []
    p = param()
    systems.append(System("fused", p, lambda p=p: ops.context_sum(p, c, "mean", offsets=o, fused_lr=LR)))
    p = param()
    systems.append(System("ours sparse+SGD", p, lambda p=p: ops.context_sum(p, c, "mean", offsets=o, sparse_grad=True),
                          sgd(p)))
    p = param()
    systems.append(System("ours dense+SGD", p, lambda p=p: ops.context_sum(p, c, "mean", offsets=o), sgd(p)))
    p = param()
    systems.append(System("bag sparse+SGD", p, lambda p=p: bag(c, p, o, mode="mean", sparse=True), sgd(p)))
    p = param()
    systems.append(System("bag dense+SGD", p, lambda p=p: bag(c, p, o, mode="mean"), sgd(p)))
    p = param()
    systems.append(System("reference+SGD", p, lambda p=p: reference.context_sum(p, c, "mean", offsets=o), sgd(p)))
    return systems


def check_agreement(systems, grad_out):
    """Every system computes the same forward and the same one-step update before any timing."""
    start = {s.name: s.weight.detach().clone() for s in systems}
    outs = {}
    for s in systems:
        out = s.forward()
        outs[s.name] = out.detach()
        out.backward(grad_out)
        s.step()
    base = systems[-1].name  # the reference
    for s in systems:
        torch.testing.assert_close(outs[s.name], outs[base], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(s.weight.detach() - start[s.name], systems[-1].weight.detach() - start[base],
                                   rtol=1e-3, atol=1e-6)


def make_batch(B, C, V, g):
    """(context, offsets, ids): a padded (B, C) batch, or ragged bags of C = (shortest, longest) ids."""
    if not isinstance(C, tuple):
        return torch.randint(0, V, (B, C), generator=g), None, B * C
    low, high = torch.tensor(C, dtype=torch.float64).log()
    sizes = (low + (high - low) * torch.rand(B, generator=g, dtype=torch.float64)).exp().round().long()
    return torch.randint(0, V, (int(sizes.sum()),), generator=g), torch.cumsum(sizes, 0) - sizes, int(sizes.sum())


def bench_shape(B, C, D, V, device, min_time, huge_pages):
    g = torch.Generator().manual_seed(0)
    weight0 = (torch.randn(V, D, generator=g) * 0.1).to(device)
    context, offsets, ids = make_batch(B, C, V, g)
    context, offsets = context.to(device), None if offsets is None else offsets.to(device)
    grad_out = torch.randn(B, D, generator=g).to(device)
    systems = make_systems(weight0, context, offsets, huge_pages)
    check_agreement(systems, grad_out)

    holders = {s.name: {} for s in systems}

    def forward_of(s):
        def run():
            holders[s.name]["out"] = s.forward()
        return run

    def backward_of(s):
        def run():
            holders[s.name]["out"].backward(grad_out)
        return run

    def step_of(s):
        def run():
            s.forward().backward(grad_out)
            s.step()
        return run

    def no_setup():
        pass

    def fresh_forward_of(s):
        def setup():
            s.step()  # applies (and clears) the previous gradient
            forward_of(s)()
        return setup

    t_fwd = measure_interleaved({s.name: (forward_of(s), no_setup) for s in systems}, device, min_time)
    t_bwd = measure_interleaved({s.name: (backward_of(s), fresh_forward_of(s)) for s in systems}, device, min_time)
    for s in systems:
        s.step()
        holders[s.name].clear()
    t_step = measure_interleaved({s.name: (step_of(s), no_setup) for s in systems}, device, min_time)
    rows = [(s.name, t_fwd[s.name], t_bwd[s.name], t_step[s.name]) for s in systems]

    elem = weight0.element_size()
    moved = (3 * ids * D + 2 * B * D) * elem
    src = torch.empty(moved // (2 * elem), device=device, dtype=weight0.dtype).uniform_()
    dst = torch.empty_like(src)
    t_copy = measure_interleaved({"copy": (lambda: dst.copy_(src), no_setup)}, device, min_time)["copy"]
    del src, dst
    return rows, moved, t_copy, ids


def machine(device):
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA {torch.version.cuda}"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda", "all"], default="all")
    parser.add_argument("--min-time", type=float, default=1.0,
                        help="seconds spent timing each system, per column")
    parser.add_argument("--small-pages", action="store_true",
                        help="CPU tables in 4 KiB pages instead of transparent huge pages")
    args = parser.parse_args()
    devices = ["cpu", "cuda"] if args.device == "all" else [args.device]
    if "cuda" in devices and not torch.cuda.is_available():
        if args.device == "cuda":
            raise SystemExit("--device cuda: no CUDA GPU is visible to torch")
        devices.remove("cuda")

    summary = []
    for dev in devices:
        device = torch.device(dev)
        print(f"\n== {dev}: {machine(device)}")
        for B, C, D, V in (CPU_SHAPES if dev == "cpu" else CUDA_SHAPES):
            rows, moved, t_copy, ids = bench_shape(B, C, D, V, device, args.min_time, not args.small_pages)
            pages = "" if dev == "cuda" else ", tables in 4 KiB pages" if args.small_pages else ", tables in huge pages"
            bags = f"C={C}" if not isinstance(C, tuple) else f"ragged {C[0]}-{C[1]} ids ({ids:,} in all)"
            print(f"\nB={B} {bags} D={D} V={V} float32, mean, SGD lr={LR}{pages}; times are medians in ms")
            print(f"{'system':<18}{'forward':>10}{'backward':>10}{'fwd+bwd+upd':>13}{'fused is':>11}")
            fused_step = rows[0][3]
            for name, f, b, s in rows:
                print(f"{name:<18}{f * 1e3:>10.3f}{b * 1e3:>10.3f}{s * 1e3:>13.3f}{s / fused_step:>10.1f}x")
            print(f"{'copy (floor)':<18}{'':>10}{'':>10}{t_copy * 1e3:>13.3f}   "
                  f"{moved / 1e6:.1f} MB; fused moves them at {moved / fused_step / 1e9:.1f} GB/s, "
                  f"{100 * t_copy / fused_step:.0f}% of copy speed")
            by_name = {r[0]: r[3] for r in rows}
            summary.append((dev, "ragged" if isinstance(C, tuple) else "padded", D, V, B,
                            by_name["bag sparse+SGD"] / fused_step,
                            by_name["reference+SGD"] / fused_step, 100 * t_copy / fused_step))
    print("\nsummary: fused fwd+bwd+update speed-up (targets: >= 3x embedding_bag sparse+SGD, "
          ">= 10x reference dense+SGD)")
    for dev, form, D, V, B, vs_bag, vs_ref, pct in summary:
        print(f"  {dev:<5} {form:<7} B={B:<6} D={D:<4} V={V:<8} vs bag sparse+SGD {vs_bag:5.1f}x   "
              f"vs reference+SGD {vs_ref:6.1f}x   {pct:3.0f}% of copy bandwidth")


if __name__ == "__main__":
    main()
