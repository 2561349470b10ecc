"""Skip-gram and subword bags on the fused negative-sampling ops: each step variant against its
reference twin (values, gradients, gradcheck, opcheck), the chunk trainer against the twin where
the samples are fixed, and bad bags."""
import pytest
import torch

from wordembed import ops, reference
from testing import devices
from testing import chunk_inputs, on, sgd_on_reference


def bag_tables(V=10, buckets=6, D=5, dtype=torch.float64, seed=0):
    """A subword model's tables: V word rows then the bucket rows in the input table, V rows in
    the output table."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(V + buckets, D, generator=g, dtype=dtype),
            torch.randn(V, D, generator=g, dtype=dtype))


def sgd_on_bag_reference(inp, out, context, targets, negatives, lr):
    """Autograd on the reference loss, then SGD with word2vec's and fastText's rule: every row of a
    bag gets the whole gradient of the mean, that is n times its share (n counted with repeats,
    as a row listed twice is updated twice)."""
    inp_, out_ = inp.clone().requires_grad_(), out.clone().requires_grad_()
    losses = reference.ns_loss(inp_, out_, context, targets, negatives)
    losses.sum().backward()
    n = float((context >= 0).sum())  # one example
    with torch.no_grad():
        return inp - lr * n * inp_.grad, out - lr * out_.grad, losses.detach()


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("variant", ["skipgram", "subword bag", "subword bag with a repeated row"])
def test_step_variant_equals_reference_autograd_plus_sgd(device, variant):
    inp, out = bag_tables()
    context = {"skipgram": [[4]],                                # a bag of one word
               "subword bag": [[4, 11, 13, 15]],                # the word's row and three bucket rows
               "subword bag with a repeated row": [[2, 12, 12, -1]]}[variant]
    context, targets, negatives = torch.tensor(context), torch.tensor([7]), torch.tensor([[1, 3]])
    want_in, want_out, want_loss = sgd_on_bag_reference(inp, out, context, targets, negatives, 0.2)
    inp, out, context, targets, negatives = on(device, inp, out, context, targets, negatives)
    if device == "cuda":
        inp, out = inp.float(), out.float()
    loss = ops.ns_step_(inp, out, context, targets, negatives, 0.2)
    tol = dict(rtol=1e-12, atol=1e-12) if inp.dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(loss.cpu(), want_loss, **tol)
    torch.testing.assert_close(inp.cpu().double(), want_in, **tol)
    torch.testing.assert_close(out.cpu().double(), want_out, **tol)


def test_twin_loss_gradcheck_on_a_subword_bag():
    inp, out = bag_tables(V=6, buckets=4, D=3)
    context, targets, negatives = torch.tensor([[1, 7, 9, -1], [6, -1, -1, -1]]), torch.tensor([2, 0]), torch.tensor([[3], [5]])
    assert torch.autograd.gradcheck(
        lambda i, o: reference.ns_loss(i, o, context, targets, negatives),
        (inp.requires_grad_(), out.requires_grad_()))


@pytest.mark.parametrize("device", devices)
def test_step_opcheck_with_a_larger_input_table(device):
    inp, out = on(device, *bag_tables(dtype=torch.float32))
    torch.library.opcheck(torch.ops.wordembed.ns_step_.default,
                          (inp, out, *on(device, torch.tensor([[1, 12, -1]]), torch.tensor([3]),
                                         torch.tensor([[4, 5]])), 0.1))


def toy_bags(V, buckets, seed=0):
    """Word w's bag: its own row, then 0-3 bucket rows (a repeat now and then), as CSR."""
    g = torch.Generator().manual_seed(seed)
    rows, offsets = [], [0]
    for w in range(V):
        extra = torch.randint(0, buckets, (int(torch.randint(0, 4, (1,), generator=g)),), generator=g)
        rows += [w] + (V + extra).tolist()
        offsets.append(len(rows))
    return torch.tensor(offsets), torch.tensor(rows)


def fixed_sample_inputs(buckets):
    """window 1, every word kept, and a noise distribution that is word 3 alone (the alias table
    always sends the draw to 3): the examples do not depend on any draw."""
    inp, out, ids, starts, _, prob, alias = chunk_inputs(V=30, D=12, words=420, seed=2)
    inp, out = inp.double(), torch.randn(30, 12, dtype=torch.float64) * 0.1
    if buckets:
        inp = torch.cat([inp, torch.randn(buckets, 12, dtype=torch.float64) * 0.1])
    prob, alias = torch.zeros_like(prob), torch.full_like(alias, 3)
    return inp, out, ids, starts, torch.ones(30, dtype=torch.float64), prob, alias


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("skipgram", [False, True], ids=["cbow", "skipgram"])
@pytest.mark.parametrize("buckets", [0, 7], ids=["words", "subwords"])
def test_chunk_equals_the_twin_when_the_samples_are_fixed(device, skipgram, buckets):
    """The twin trains one example at a time (batch=1) in the order the fused op walks them."""
    inputs = fixed_sample_inputs(buckets)
    bags = toy_bags(30, buckets) if buckets else (None, None)
    kwargs = dict(window=1, negative=2, lr_start=0.05, lr_end=0.05, seed=0, skipgram=skipgram)
    want_in, want_out = inputs[0].clone(), inputs[1].clone()
    want = reference.ns_train_chunk(want_in, want_out, *inputs[2:], batch=1, bag_offsets=bags[0],
                                    bag_rows=bags[1], **kwargs)
    dtype = torch.float32 if device == "cuda" else torch.float64
    inp, out = (t.to(device, dtype) for t in inputs[:2])
    got = ops.ns_train_chunk_(inp, out, *on(device, *inputs[2:]), deterministic=True,
                              bag_offsets=None if bags[0] is None else bags[0].to(device),
                              bag_rows=None if bags[1] is None else bags[1].to(device), **kwargs)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(inp.cpu().double(), want_in, **tol)
    torch.testing.assert_close(out.cpu().double(), want_out, **tol)
    assert got[1] == want[1] and got[2] == want[2]  # the same examples, the same words
    torch.testing.assert_close(got[0], want[0], rtol=1e-4 if device == "cuda" else 1e-10, atol=0)


@pytest.mark.parametrize("device", devices)
def test_chunk_opcheck_skipgram_with_bags(device):
    inp, out, *rest = chunk_inputs(words=300)
    inp = torch.cat([inp, torch.randn(5, inp.shape[1])])
    offsets, rows = toy_bags(50, 5)
    inp, out, *rest = on(device, inp, out, *rest, offsets, rows)
    torch.library.opcheck(torch.ops.wordembed.ns_train_chunk_.default,
                          (inp, out, *rest[:5], 3, 2, 0.05, 0.04, 5, True, True, True, *rest[5:]))


@pytest.mark.parametrize("skipgram", [False, True], ids=["cbow", "skipgram"])
def test_hogwild_skipgram_and_subword_training_learns(skipgram):
    inp, out, *rest = chunk_inputs()
    inp = torch.cat([inp, torch.zeros(9, inp.shape[1])])
    offsets, rows = toy_bags(50, 9)
    losses = []
    for epoch in range(6):
        stats = ops.ns_train_chunk_(inp, out, *rest, window=5, negative=5, lr_start=0.05, lr_end=0.05,
                                    seed=epoch, skipgram=skipgram, bag_offsets=offsets, bag_rows=rows)
        losses.append(float(stats[0] / stats[1]))
    # the ids are drawn independently: only their frequencies can be learnt
    assert sum(losses[-3:]) / 3 < 0.99 * losses[0]
    assert inp[50:].abs().sum() > 0  # the bucket rows trained


def test_skipgram_trains_one_example_per_pair():
    """window 1 and every word kept: each word has one example per neighbour in its sentence."""
    inp, out, ids, starts, _, prob, alias = chunk_inputs(words=300)
    keep = torch.ones(50, dtype=torch.float64)
    stats = ops.ns_train_chunk_(inp, out, ids, starts, keep, prob, alias, window=1, negative=2, lr_start=0.05,
                                lr_end=0.05, seed=0, skipgram=True)
    sentences = len(starts) - 1
    assert stats[1] == 2 * (300 - sentences)  # each sentence of L words has 2 (L - 1) ordered pairs


@pytest.mark.parametrize("device", devices)
def test_bad_bags_are_refused_with_clear_errors(device):
    inp, out, *rest = chunk_inputs()
    big = torch.cat([inp, torch.zeros(4, inp.shape[1])])
    offsets, rows = toy_bags(50, 4)
    kwargs = dict(window=2, negative=2, lr_start=0.05, lr_end=0.05, seed=0)

    def chunk(table, offsets, rows):
        return ops.ns_train_chunk_(*on(device, table, out, *rest), **kwargs,
                                   bag_offsets=None if offsets is None else offsets.to(device),
                                   bag_rows=None if rows is None else rows.to(device))

    with pytest.raises(ValueError, match="go together"):
        chunk(big, offsets, None)
    with pytest.raises(ValueError, match="same shape"):
        chunk(big, None, None)
    with pytest.raises(ValueError, match="one entry per word plus one"):
        chunk(big, offsets[:-1], rows)
    with pytest.raises(ValueError, match="end at len"):
        chunk(big, offsets, rows[:-1])
    empty = offsets.clone()
    empty[3] = empty[2]
    with pytest.raises(ValueError, match="word 2 has none"):
        chunk(big, empty, rows)
    with pytest.raises(IndexError, match="bag_rows index 54 out of range"):
        chunk(big, offsets, torch.where(rows == rows.max(), 54, rows))
    assert torch.equal(big[:50], inp)  # nothing was trained by a refused call


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("positions", [1, 3])
@pytest.mark.parametrize("skipgram", [False, True], ids=["cbow", "skipgram"])
@pytest.mark.parametrize("buckets", [0, 7], ids=["words", "subwords"])
def test_shared_negative_blocks_equal_the_twin_when_the_samples_are_fixed(dtype, positions, skipgram, buckets):
    """With shared_negatives, the fused op trains blocks of positions as minibatches (every score
    from the rows as they were before the block); the twin does the same with autograd."""
    inputs = fixed_sample_inputs(buckets)
    bags = toy_bags(30, buckets) if buckets else (None, None)
    kwargs = dict(window=1, negative=2, lr_start=0.05, lr_end=0.02, seed=0, skipgram=skipgram,
                  bag_offsets=bags[0], bag_rows=bags[1], shared_negatives=positions)
    want_in, want_out = inputs[0].clone(), inputs[1].clone()
    want = reference.ns_train_chunk(want_in, want_out, *inputs[2:], **kwargs)
    inp, out = (t.to(dtype) for t in inputs[:2])
    got = ops.ns_train_chunk_(inp, out, *inputs[2:], deterministic=True, **kwargs)
    tol = dict(rtol=1e-10, atol=1e-10) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(inp.double(), want_in, **tol)
    torch.testing.assert_close(out.double(), want_out, **tol)
    assert got[1] == want[1] and got[2] == want[2]
    torch.testing.assert_close(got[0], want[0], rtol=1e-10 if dtype == torch.float64 else 1e-5, atol=0)


def test_blocks_differ_from_per_example_training():
    """The block is a real minibatch: with several positions per block the result is not the
    per-example one (the fixed-sample test above would pass for a kernel that ignored blocks)."""
    inputs = fixed_sample_inputs(0)
    results = []
    for positions in (0, 4):
        inp, out = inputs[0].clone(), inputs[1].clone()
        ops.ns_train_chunk_(inp, out, *inputs[2:], window=1, negative=2, lr_start=0.05, lr_end=0.05, seed=0,
                            deterministic=True, shared_negatives=positions)
        results.append(inp)
    assert (results[0] - results[1]).abs().max() > 1e-6


@pytest.mark.parametrize("skipgram", [False, True], ids=["cbow", "skipgram"])
def test_shared_negatives_deterministic_runs_are_bit_identical(skipgram):
    inp, out, *rest = chunk_inputs(words=3000)
    tables = []
    for _ in range(2):
        i, o = inp.clone(), out.clone()
        stats = ops.ns_train_chunk_(i, o, *rest, window=5, negative=5, lr_start=0.05, lr_end=0.01, seed=3,
                                    deterministic=True, skipgram=skipgram, shared_negatives=8)
        tables.append((i, o, stats))
    assert torch.equal(tables[0][0], tables[1][0]) and torch.equal(tables[0][1], tables[1][1])
    assert torch.equal(tables[0][2], tables[1][2])


def test_shared_negatives_opcheck_and_bad_values():
    inp, out, *rest = chunk_inputs(words=300)
    torch.library.opcheck(torch.ops.wordembed.ns_train_chunk_.default,
                          (inp, out, *rest, 3, 2, 0.05, 0.04, 5, True, True, False, None, None, 4))
    with pytest.raises(ValueError, match="shared_negatives must be >= 0"):
        ops.ns_train_chunk_(inp, out, *rest, window=3, negative=2, lr_start=0.05, lr_end=0.04, seed=5,
                            shared_negatives=-1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_shared_negatives_are_refused_on_cuda():
    inp, out, *rest = on("cuda", *chunk_inputs(words=300))
    with pytest.raises(ValueError, match="CPU trainer"):
        ops.ns_train_chunk_(inp, out, *rest, window=3, negative=2, lr_start=0.05, lr_end=0.04, seed=5,
                            shared_negatives=2)
