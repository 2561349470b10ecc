"""context_sum with nn.EmbeddingBag's input forms: a 1-D input with offsets (include_last_offset),
per_sample_weights, padding_idx and -1, empty bags; values and gradients (dense, sparse, fused SGD,
per-sample weights) against nn.EmbeddingBag and the reference twin, gradcheck, opcheck,
torch.compile, bad input, and ContextSum.from_pretrained."""
import pytest
import torch

from wordembed import WordVectors, ops, reference
from wordembed.nn import ContextSum
from testing import devices


def ragged(num_bags, num_words, device, seed=0, longest=12, empty_every=4, dtype=torch.int64):
    """A 1-D input of ragged bags (every empty_every-th bag empty) and its bag starts."""
    g = torch.Generator().manual_seed(seed)
    sizes = torch.randint(1, longest + 1, (num_bags,), generator=g)
    sizes[::empty_every] = 0
    input = torch.randint(0, num_words, (int(sizes.sum()),), generator=g)
    offsets = torch.cumsum(sizes, 0) - sizes
    return input.to(device=device, dtype=dtype), offsets.to(device=device, dtype=dtype)


def bag_pair(num_words, dim, mode, device, dtype=torch.float64, padding_idx=None, seed=1, sparse=False):
    """An nn.EmbeddingBag and a ContextSum over the same table."""
    g = torch.Generator().manual_seed(seed)
    table = torch.randn(num_words, dim, generator=g, dtype=dtype).to(device)
    theirs = torch.nn.EmbeddingBag.from_pretrained(table.clone(), freeze=False, mode=mode, sparse=sparse,
                                                   padding_idx=padding_idx)
    ours = ContextSum.from_pretrained(table.clone(), freeze=False, mode=mode, sparse=sparse, padding_idx=padding_idx)
    return theirs, ours


CASES = [  # mode, per-sample weights, padding_idx, include_last_offset
    ("sum", False, None, False), ("mean", False, None, False), ("sum", True, None, False),
    ("sum", False, 3, False), ("mean", False, 3, True), ("sum", True, 5, True), ("mean", False, -2, False),
]


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("mode, weighted, padding_idx, last", CASES)
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
def test_offsets_form_equals_embedding_bag_in_values_and_gradients(device, mode, weighted, padding_idx, last,
                                                                  index_dtype):
    input, offsets = ragged(37, 20, device, dtype=index_dtype)
    if last:
        offsets = torch.cat([offsets, offsets.new_tensor([input.numel()])])
    theirs, ours = bag_pair(20, 6, mode, device, padding_idx=padding_idx)
    theirs.include_last_offset = ours.include_last_offset = last
    psw = torch.rand(input.shape, dtype=torch.float64, device=device, requires_grad=True) if weighted else None
    psw_ours = psw.detach().clone().requires_grad_() if weighted else None
    expected, out = theirs(input, offsets, psw), ours(input, offsets, psw_ours)
    torch.testing.assert_close(out, expected)
    grad_out = torch.randn_like(out)
    expected.backward(grad_out)
    out.backward(grad_out)
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad)
    if weighted:
        torch.testing.assert_close(psw_ours.grad, psw.grad)
    torch.testing.assert_close(reference.context_sum(ours.weight.detach(), input, mode, offsets=offsets,
                                                     per_sample_weights=psw_ours, padding_idx=padding_idx,
                                                     include_last_offset=last), out.detach())


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("mode, weighted, padding_idx, last", CASES)
def test_sparse_and_fused_sgd_backwards_equal_embedding_bags(device, mode, weighted, padding_idx, last):
    input, offsets = ragged(25, 15, device, seed=4)
    if last:
        offsets = torch.cat([offsets, offsets.new_tensor([input.numel()])])
    psw = torch.rand(input.shape, dtype=torch.float64, device=device) if weighted else None
    theirs, ours = bag_pair(15, 5, mode, device, padding_idx=padding_idx, sparse=True)
    theirs.include_last_offset = ours.include_last_offset = last
    grad_out = torch.randn(25, 5, dtype=torch.float64, device=device)
    theirs(input, offsets, psw).backward(grad_out)
    ours(input, offsets, psw).backward(grad_out)
    assert ours.weight.grad.layout == torch.sparse_coo
    torch.testing.assert_close(ours.weight.grad.to_dense(), theirs.weight.grad.to_dense())
    # the fused update: one SGD step in the backward, no gradient kept
    fused = ContextSum.from_pretrained(theirs.weight.detach().clone(), freeze=False, mode=mode,
                                       padding_idx=padding_idx, include_last_offset=last, fused_lr=0.5)
    fused(input, offsets, psw).backward(grad_out)
    assert fused.weight.grad is None
    torch.testing.assert_close(fused.weight.detach(), theirs.weight.detach() - 0.5 * theirs.weight.grad.to_dense())


@pytest.mark.parametrize("device", devices)
def test_minus_one_is_padding_in_both_forms_and_empty_bags_give_zeros(device):
    weight = torch.tensor([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]], device=device)
    input = torch.tensor([0, -1, 2, 1, -1, -1], device=device)
    offsets = torch.tensor([0, 3, 3, 4], device=device)  # bags [0 -1 2], [], [1], [-1 -1]
    for mode, expected in (("sum", [[5.0, 50.0], [0, 0], [2.0, 20.0], [0, 0]]),
                           ("mean", [[2.5, 25.0], [0, 0], [2.0, 20.0], [0, 0]])):
        torch.testing.assert_close(ops.context_sum(weight, input, mode, offsets=offsets).cpu(), torch.tensor(expected))
        torch.testing.assert_close(ops.context_sum(weight, input, mode, offsets=offsets, padding_idx=1).cpu()[2],
                                   torch.zeros(2))  # row 1 is padding too now
        padded = torch.tensor([[0, -1, 2], [-1, -1, -1], [1, -1, -1], [-1, -1, -1]], device=device)
        torch.testing.assert_close(ops.context_sum(weight, padded, mode), ops.context_sum(weight, input, mode,
                                                                                         offsets=offsets))


@pytest.mark.parametrize("device", devices)
def test_padded_form_takes_per_sample_weights_and_padding_idx_as_embedding_bag(device):
    g = torch.Generator().manual_seed(2)
    input = torch.randint(0, 12, (9, 4), generator=g).to(device)
    psw = torch.rand(9, 4, dtype=torch.float64, generator=g).to(device)
    theirs, ours = bag_pair(12, 3, "sum", device, padding_idx=7)
    torch.testing.assert_close(ours(input, per_sample_weights=psw), theirs(input, per_sample_weights=psw))
    theirs, ours = bag_pair(12, 3, "mean", device, padding_idx=7)
    torch.testing.assert_close(ours(input), theirs(input))


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("mode, weighted", [("sum", False), ("mean", False), ("sum", True)])
def test_gradcheck_float64_for_weight_and_per_sample_weights(device, mode, weighted):
    input, offsets = ragged(9, 11, device, seed=7, longest=5, empty_every=3)
    weight = torch.randn(11, 4, dtype=torch.float64, device=device, requires_grad=True)
    psw = torch.rand(input.shape, dtype=torch.float64, device=device, requires_grad=True) if weighted else None

    def fn(w, p=None):
        return ops.context_sum(w, input, mode, offsets=offsets, per_sample_weights=p, padding_idx=2)

    assert torch.autograd.gradcheck(fn, (weight, psw) if weighted else (weight,))
    assert torch.autograd.gradgradcheck(fn, (weight, psw) if weighted else (weight,))


@pytest.mark.parametrize("device", devices)
def test_opcheck_with_offsets_weights_and_padding(device):
    input, offsets = ragged(10, 9, device, seed=3, longest=6)
    ends = torch.cat([offsets, offsets.new_tensor([input.numel()])])
    weight = torch.randn(9, 5, device=device, requires_grad=True)
    psw = torch.rand(input.shape, device=device, requires_grad=True)
    grad_out = torch.randn(10, 5, device=device)
    for mean, weights, padding in ((False, psw, 4), (True, None, 4), (False, None, -1)):
        for deterministic in (True, False):
            torch.library.opcheck(torch.ops.wordembed.context_sum.default,
                                  (weight, input, mean, False, deterministic, ends, weights, padding))
            torch.library.opcheck(torch.ops.wordembed.context_sum_backward.default,
                                  (grad_out, input, 9, mean, deterministic, ends, weights, padding))
            torch.library.opcheck(torch.ops.wordembed.context_sum_sgd_.default,
                                  (weight.detach().clone(), grad_out, input, mean, 0.1, deterministic, ends,
                                   None if weights is None else weights.detach(), padding))
            torch.library.opcheck(torch.ops.wordembed.context_sum_fused_sgd.default,
                                  (weight, input, mean, 0.1, deterministic, ends, weights, padding))
        torch.library.opcheck(torch.ops.wordembed.context_sum_backward_sparse.default,
                              (grad_out, input, 9, mean, ends, weights, padding),
                              test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


@pytest.mark.parametrize("device", devices)
def test_compiles_fullgraph_with_offsets_and_weights(device):
    torch._dynamo.reset()
    module = ContextSum(30, 8, mode="sum", padding_idx=0, device=device)
    input, offsets = ragged(12, 30, device, seed=5)
    psw = torch.rand(input.shape, device=device, requires_grad=True)
    eager = module(input, offsets, psw)
    eager_grads = torch.autograd.grad(eager.pow(2).sum(), (module.weight, psw))
    compiled = torch.compile(module, fullgraph=True)(input, offsets, psw)
    compiled_grads = torch.autograd.grad(compiled.pow(2).sum(), (module.weight, psw))
    torch.testing.assert_close(compiled, eager)
    for ours, expected in zip(compiled_grads, eager_grads):
        torch.testing.assert_close(ours, expected)


@pytest.mark.parametrize("device", devices)
def test_compiles_fullgraph_with_the_fused_update_on_offsets(device):
    torch._dynamo.reset()
    input, offsets = ragged(12, 30, device, seed=6)
    weight = torch.randn(30, 8, device=device)
    target = torch.randn(12, 8, device=device)

    def step(w):
        return (ops.context_sum(w, input, "mean", offsets=offsets, fused_lr=0.5) - target).pow(2).sum()

    eager, compiled = weight.clone().requires_grad_(), weight.clone().requires_grad_()
    step(eager).backward()
    torch.compile(step, fullgraph=True)(compiled).backward()
    assert not torch.equal(eager.detach(), weight) and eager.grad is None and compiled.grad is None
    torch.testing.assert_close(compiled.detach(), eager.detach())


BAD_BAGS = [
    # (description, input, offsets, per_sample_weights, mode, exception, words the message must contain)
    ("offsets decrease", [0, 1, 2, 3], [0, 3, 1], None, "sum", ValueError, ["must not decrease", "offsets[2] = 1"]),
    ("offsets past the end", [0, 1, 2], [0, 5], None, "sum", IndexError, ["reach 5", "past the end"]),
    ("offsets do not start at 0", [0, 1, 2], [1, 2], None, "sum", ValueError, ["start at 0", "1"]),
    ("2-D offsets", [0, 1, 2], [[0, 1]], None, "sum", ValueError, ["offsets", "1-D"]),
    ("float offsets", [0, 1, 2], [0.0, 1.0], None, "sum", TypeError, ["offsets", "int64 or int32"]),
    ("2-D input with offsets", [[0, 1], [2, 3]], [0, 1], None, "sum", ValueError, ["input must be 1-D"]),
    ("weights of the wrong shape", [0, 1, 2], [0, 1], [1.0, 2.0], "sum", ValueError, ["per_sample_weights", "shape"]),
    ("weights with mode mean", [0, 1, 2], [0, 1], [1.0, 2.0, 3.0], "mean", ValueError, ["only supported", "'sum'"]),
    ("weights of another dtype", [0, 1, 2], [0, 1], "float64", "sum", TypeError, ["per_sample_weights", "dtype"]),
    ("index out of range", [0, 9, 2], [0, 1], None, "sum", IndexError, ["9", "vocabulary of 5 words"]),
]


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("case", BAD_BAGS, ids=[c[0] for c in BAD_BAGS])
@pytest.mark.parametrize("implementation", ["ops", "reference"])
def test_bad_bags_raise_clear_errors_before_any_kernel_runs(device, case, implementation):
    _, input, offsets, psw, mode, error, words = case
    weight = torch.randn(5, 3, device=device)
    offsets = torch.tensor(offsets, device=device)
    input = torch.tensor(input, device=device)
    if psw == "float64":
        psw = torch.ones(input.shape, dtype=torch.float64, device=device)
    elif psw is not None:
        psw = torch.tensor(psw, device=device)
    fn = ops.context_sum if implementation == "ops" else reference.context_sum
    with pytest.raises(error) as info:
        fn(weight, input, mode, offsets=offsets, per_sample_weights=psw)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("device", devices)
def test_a_rejected_update_leaves_every_row_as_it_was(device):
    weight = torch.randn(5, 3, device=device)
    before = weight.clone()
    for input, offsets in (([0, 1, 2], [0, 2, 1, 3]), ([0, 1, 7], [0, 1, 3])):
        with pytest.raises((ValueError, IndexError)):
            torch.ops.wordembed.context_sum_sgd_(weight, torch.ones(len(offsets) - 1, 3, device=device),
                                                 torch.tensor(input, device=device), False, 0.1, True,
                                                 torch.tensor(offsets, device=device))
    assert torch.equal(weight, before)


def test_padding_idx_out_of_range_is_refused():
    for bad in (5, -6):
        with pytest.raises(ValueError, match="padding_idx must be a row"):
            ops.context_sum(torch.randn(5, 3), torch.tensor([[0]]), padding_idx=bad)
        with pytest.raises(ValueError, match="padding_idx must be a row"):
            ContextSum(5, 3, padding_idx=bad)
    with pytest.raises(ValueError, match="padding_idx must be -1"):
        torch.ops.wordembed.context_sum(torch.randn(5, 3), torch.tensor([[0]]), True, False, True, None, None, 7)


# ---- from_pretrained
def test_from_pretrained_takes_a_tensor_or_word_vectors_as_embedding_bag_does():
    table = torch.randn(6, 4)
    module = ContextSum.from_pretrained(table)
    assert module.weight.data_ptr() == table.data_ptr() and not module.weight.requires_grad  # shared, frozen
    input, offsets = torch.tensor([0, 5, 2, 2]), torch.tensor([0, 1])
    torch.testing.assert_close(module(input, offsets), torch.nn.EmbeddingBag.from_pretrained(table)(input, offsets))
    vectors = WordVectors(["a", "b", "c"], torch.randn(3, 4))
    from_vectors = ContextSum.from_pretrained(vectors, freeze=False, mode="sum", padding_idx=1)
    assert from_vectors.weight.requires_grad and from_vectors.padding_idx == 1
    input, offsets = vectors.encode_batch(["a c", "b a"])
    torch.testing.assert_close(from_vectors(input, offsets), torch.stack([vectors["a"] + vectors["c"], vectors["a"]]))
    from_vectors(input, offsets).sum().backward()
    assert from_vectors.weight.grad is not None and vectors.vectors.grad is None  # the vectors stay as they were
    with pytest.raises(ValueError, match="2-D floating tensor"):
        ContextSum.from_pretrained(torch.arange(6).reshape(3, 2))
    assert "padding_idx=1" in repr(from_vectors)


def test_a_new_module_zeroes_its_padding_row():
    module = ContextSum(10, 4, padding_idx=-1)
    assert module.padding_idx == 9 and not module.weight[9].any() and module.weight[0].any()
