"""The fused CBOW negative-sampling op (level 2): reference parity of one step, the chunk
trainer's determinism, and its sampling tables."""
import math

import pytest
import torch

from wordembed import ops, reference
from wordembed.text.vocab import Vocabulary, alias_table
from testing import CUDA_SKIP, chunk_inputs, devices, on, sgd_on_reference


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("full_context_update", [True, False])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_one_example_equals_reference_autograd_plus_sgd(device, dtype, full_context_update):
    g = torch.Generator().manual_seed(0)
    inp, out = torch.randn(12, 7, generator=g, dtype=dtype), torch.randn(12, 7, generator=g, dtype=dtype)
    context = torch.tensor([[3, 5, 5, -1, 8]])         # a repeated word and padding
    targets, negatives = torch.tensor([2]), torch.tensor([[9, 4, 9]])  # a repeated negative
    want_in, want_out, want_loss = sgd_on_reference(inp, out, context, targets, negatives, 0.3, full_context_update)
    inp, out, context, targets, negatives = on(device, inp, out, context, targets, negatives)
    loss = ops.ns_step_(inp, out, context, targets, negatives, 0.3, full_context_update=full_context_update)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    assert loss.device == inp.device
    torch.testing.assert_close(loss.cpu().to(dtype), want_loss, **tol)
    torch.testing.assert_close(inp.cpu(), want_in, **tol)
    torch.testing.assert_close(out.cpu(), want_out, **tol)


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("full_context_update", [True, False])
def test_batch_of_disjoint_examples_equals_reference(device, full_context_update):
    g = torch.Generator().manual_seed(1)
    inp, out = torch.randn(40, 16, generator=g, dtype=torch.float64), torch.randn(40, 16, generator=g, dtype=torch.float64)
    rows = torch.randperm(40, generator=g)
    context = rows[:24].view(6, 4)            # every example has its own rows
    targets, negatives = rows[24:30], rows[30:36].view(6, 1)
    want_in, want_out, want_loss = sgd_on_reference(inp, out, context, targets, negatives, 0.1, full_context_update)
    inp, out, context, targets, negatives = on(device, inp, out, context, targets, negatives)
    loss = ops.ns_step_(inp, out, context, targets, negatives, 0.1, full_context_update=full_context_update)
    torch.testing.assert_close(loss.cpu(), want_loss)
    torch.testing.assert_close(inp.cpu(), want_in)
    torch.testing.assert_close(out.cpu(), want_out)


@pytest.mark.parametrize("device", devices)
def test_empty_context_gives_the_reference_loss_and_moves_nothing_in_the_input_table(device):
    inp, out = on(device, torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64))
    before = inp.clone()
    loss = ops.ns_step_(inp, out, *on(device, torch.tensor([[-1, -1]]), torch.tensor([1]),
                                           torch.tensor([[2, 3]])), 0.5)
    assert loss.item() == pytest.approx(3 * torch.log(torch.tensor(2.0)).item())
    assert torch.equal(inp, before)


@pytest.mark.parametrize("device", devices)
def test_step_opcheck(device):
    inp, out = on(device, torch.randn(10, 4), torch.randn(10, 4))
    torch.library.opcheck(torch.ops.wordembed.ns_step_.default,
                          (inp, out, *on(device, torch.tensor([[1, 2, -1]]), torch.tensor([3]),
                                         torch.tensor([[4, 5]])), 0.1))


@pytest.mark.parametrize("device", devices)
def test_chunk_opcheck(device):
    inp, out, *rest = on(device, *chunk_inputs(words=300))
    torch.library.opcheck(torch.ops.wordembed.ns_train_chunk_.default,
                          (inp, out, *rest, 3, 2, 0.05, 0.04, 5, True))
    stats = ops.ns_train_chunk_(inp, out, *rest, window=3, negative=2, lr_start=0.05, lr_end=0.04, seed=5)
    assert stats.device.type == "cpu" and stats.dtype == torch.float64  # read by the host, on every device


@pytest.mark.parametrize("device", devices)
def test_step_rejects_bad_indices_with_clear_errors(device):
    inp, out = on(device, torch.randn(10, 4), torch.randn(10, 4))

    def step(table_out, context, targets, negatives):
        return ops.ns_step_(inp, table_out, *on(device, torch.tensor(context), torch.tensor(targets),
                                                     torch.tensor(negatives)), 0.1)

    with pytest.raises(IndexError, match="targets index 10 out of range for vocabulary of 10"):
        step(out, [[1]], [10], [[4]])
    with pytest.raises(IndexError, match="negatives index -1 is negative"):
        step(out, [[1]], [2], [[-1]])
    with pytest.raises(ValueError, match="same width"):
        step(torch.randn(10, 5, device=device), [[1]], [2], [[3]])
    with pytest.raises(IndexError, match="targets index 8 out of range for vocabulary of 8"):
        step(torch.randn(8, 4, device=device), [[9]], [8], [[3]])  # the context may use every input row


def test_alias_table_reproduces_the_distribution():
    p = torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625], dtype=torch.float64)
    prob, alias = alias_table(p)
    n = len(p)
    rebuilt = prob / n
    rebuilt = rebuilt.index_add(0, alias, (1 - prob) / n)
    torch.testing.assert_close(rebuilt, p)


def run_chunk(inputs, seed=7, deterministic=True):
    inp, out, ids, starts, keep, prob, alias = (t.clone() for t in inputs)
    stats = ops.ns_train_chunk_(inp, out, ids, starts, keep, prob, alias, window=5, negative=5,
                                     lr_start=0.05, lr_end=0.04, seed=seed, deterministic=deterministic)
    return inp, out, stats


def test_deterministic_chunk_training_is_bit_identical():
    inputs = chunk_inputs()
    a, b, c = run_chunk(inputs), run_chunk(inputs), run_chunk(inputs, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])
    assert not torch.equal(a[0], c[0])
    loss, examples, words = a[2].tolist()
    assert words == 3000 and 0 < examples <= 3000 and loss > 0


def test_hogwild_chunk_training_runs_and_learns():
    inputs = chunk_inputs()
    first = run_chunk(inputs, deterministic=False)[2]
    inp, out, *rest = inputs
    for _ in range(5):
        stats = ops.ns_train_chunk_(inp, out, *rest, window=5, negative=5, lr_start=0.05,
                                         lr_end=0.05, seed=1, deterministic=False)
    assert stats[0] / stats[1] < first[0] / first[1]  # mean loss per example falls


@pytest.mark.parametrize("device", devices)
def test_chunk_rejects_bad_input(device):
    inp, out, ids, starts, keep, prob, alias = on(device, *chunk_inputs())
    with pytest.raises(ValueError, match="sentence_starts"):
        ops.ns_train_chunk_(inp, out, ids, starts[:-1], keep, prob, alias, window=5, negative=5,
                                 lr_start=0.05, lr_end=0.05, seed=0)
    with pytest.raises(IndexError, match="ids index 50 out of range"):
        ops.ns_train_chunk_(inp, out, torch.full_like(ids, 50), starts, keep, prob, alias, window=5,
                                 negative=5, lr_start=0.05, lr_end=0.05, seed=0)
    with pytest.raises(ValueError, match="window"):
        ops.ns_train_chunk_(inp, out, ids, starts, keep, prob, alias, window=0, negative=5,
                                 lr_start=0.05, lr_end=0.05, seed=0)


@pytest.mark.parametrize("device", devices)
def test_empty_batches_and_chunks_change_nothing(device):
    inp, out, ids, starts, keep, prob, alias = on(device, *chunk_inputs())
    before = inp.clone(), out.clone()
    empty = torch.empty(0, 3, dtype=torch.long, device=device)
    losses = ops.ns_step_(inp, out, empty, empty[:, 0], empty, 0.1)
    assert losses.shape == (0,)
    stats = ops.ns_train_chunk_(inp, out, ids[:0], torch.zeros(1, dtype=torch.long, device=device), keep, prob,
                                     alias, window=5, negative=5, lr_start=0.05, lr_end=0.05, seed=0)
    assert stats.tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(inp, before[0]) and torch.equal(out, before[1])


@pytest.mark.parametrize("device", devices)
def test_tables_that_share_memory_or_overlap_are_refused(device):
    inp, out, ids, starts, keep, prob, alias = on(device, *chunk_inputs())
    storage = torch.zeros(inp.numel() + 1, device=device)
    shifted = (storage[:-1].view(inp.shape), storage[1:].view(inp.shape))  # overlapping by all but one
    for tables in ((inp, inp), shifted, (inp[:1].expand_as(inp), out)):
        with pytest.raises(ValueError, match="share memory|contiguous"):
            ops.ns_train_chunk_(*tables, ids, starts, keep, prob, alias, window=5, negative=5,
                                     lr_start=0.05, lr_end=0.05, seed=0)
    with pytest.raises(ValueError, match="share memory"):
        ops.ns_step_(inp, inp, *on(device, torch.tensor([[1, 2]]), torch.tensor([3]), torch.tensor([[4]])), 0.1)


@pytest.mark.parametrize("device", devices)
def test_decreasing_sentence_starts_are_refused(device):
    inp, out, ids, starts, keep, prob, alias = on(device, *chunk_inputs())
    bad = starts.clone()
    bad[1] = bad[2] + 1
    with pytest.raises(ValueError, match="must not decrease"):
        ops.ns_train_chunk_(inp, out, ids, bad, keep, prob, alias, window=5, negative=5,
                                 lr_start=0.05, lr_end=0.05, seed=0)
    if device == "cuda":  # a table on another device never reaches a kernel
        with pytest.raises(ValueError, match="same device"):
            ops.ns_train_chunk_(inp, out.cpu(), ids, starts, keep, prob, alias, window=5, negative=5,
                                     lr_start=0.05, lr_end=0.05, seed=0)


def test_tables_of_dim_zero_train_to_the_end():
    inp, out, ids, starts, keep, prob, alias = chunk_inputs()
    empty_in, empty_out = inp[:, :0].contiguous(), out[:, :0].contiguous()
    stats = ops.ns_train_chunk_(empty_in, empty_out, ids, starts, keep, prob, alias, window=5, negative=5,
                                     lr_start=0.05, lr_end=0.05, seed=0, deterministic=True)
    loss, examples, words = stats.tolist()
    # every score is 0: each output (the target and up to 5 negatives) costs log 2
    assert words == len(ids) and examples > 0
    assert examples * math.log(2) * (1 - 1e-6) <= loss <= examples * 6 * math.log(2) * (1 + 1e-6)


@CUDA_SKIP
def test_cuda_chunk_equals_cpu_chunk_when_the_samples_are_fixed():
    """window 1, no subsampling, no negatives: every example is fixed, and deterministic mode
    walks them in order on both devices."""
    inp, out, ids, starts, _, prob, alias = chunk_inputs(V=30, D=40, words=600, seed=2)
    out = torch.randn_like(out) * 0.1
    keep = torch.ones(30, dtype=torch.float64)
    results = {}
    for device in ("cpu", "cuda"):
        i, o = inp.clone().to(device), out.clone().to(device)
        stats = ops.ns_train_chunk_(i, o, ids.to(device), starts.to(device), keep.to(device), prob.to(device),
                                         alias.to(device), window=1, negative=0, lr_start=0.05, lr_end=0.05,
                                         seed=0, deterministic=True)
        results[device] = (i.cpu(), o.cpu(), stats)
    torch.testing.assert_close(results["cuda"][0], results["cpu"][0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(results["cuda"][1], results["cpu"][1], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(results["cuda"][2], results["cpu"][2], rtol=1e-5, atol=1e-3)


@CUDA_SKIP
def test_cuda_deterministic_chunk_is_bit_identical():
    inputs = [t.cuda() for t in chunk_inputs()]
    runs = []
    for _ in range(2):
        inp, out, *rest = (t.clone() for t in inputs)
        stats = ops.ns_train_chunk_(inp, out, *rest, window=5, negative=5, lr_start=0.05, lr_end=0.04,
                                         seed=3, deterministic=True)
        runs.append((inp, out, stats))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


@CUDA_SKIP
def test_cuda_chunk_rejects_bad_input():
    inp, out, ids, starts, keep, prob, alias = (t.cuda() for t in chunk_inputs())
    with pytest.raises(IndexError, match="ids index 50 out of range"):
        ops.ns_train_chunk_(inp, out, torch.full_like(ids, 50), starts, keep, prob, alias, window=5,
                                 negative=5, lr_start=0.05, lr_end=0.05, seed=0)
    with pytest.raises(TypeError, match="float32"):
        ops.ns_train_chunk_(inp.double(), out.double(), ids, starts, keep, prob, alias, window=5,
                                 negative=5, lr_start=0.05, lr_end=0.05, seed=0)


@CUDA_SKIP
def test_cuda_training_at_real_settings_follows_the_cpu():
    """window 5, 5 negatives, subsampling, several chunks, deterministic on both devices. The two
    draw their samples differently (a counter-based hash on CUDA, a stream per thread on the
    CPU), so the values differ; the loss of every chunk must agree within a few percent."""
    inputs = chunk_inputs(V=200, D=64, words=20_000, seed=4)
    losses = {}
    for device in ("cpu", "cuda"):
        inp, out, ids, starts, keep, prob, alias = on(device, *inputs)
        losses[device] = []
        for chunk in range(6):
            stats = ops.ns_train_chunk_(inp, out, ids, starts, keep, prob, alias, window=5, negative=5,
                                             lr_start=0.05 * (1 - chunk / 6), lr_end=0.05 * (1 - (chunk + 1) / 6),
                                             seed=chunk, deterministic=True)
            losses[device].append(stats[0] / stats[1])
    for cpu, cuda in zip(losses["cpu"], losses["cuda"]):
        assert cuda == pytest.approx(cpu, rel=0.05)
    assert losses["cuda"][-1] < losses["cuda"][0]
