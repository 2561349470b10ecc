"""The operators against their reference twin over random shapes, dtypes, strides, padding and
empty sizes (hypothesis): each property says what must hold for every input."""

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from wordembed import ops, reference

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def context_sum_cases(draw):
    V = draw(st.integers(0, 12))
    D = draw(st.integers(0, 9))
    B = draw(st.integers(0, 6))
    C = draw(st.integers(0, 5))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    layout = draw(st.sampled_from(["contiguous", "column slice", "transposed", "row slice"]))
    seed = draw(st.integers(0, 2**31))
    g = torch.Generator().manual_seed(seed)
    # the table in the requested layout, its values fixed by the seed
    if layout == "column slice":
        weight = torch.randn(V, 2 * D, generator=g, dtype=torch.float64)[:, ::2]
    elif layout == "transposed":
        weight = torch.randn(D, V, generator=g, dtype=torch.float64).t()
    elif layout == "row slice":
        weight = torch.randn(2 * V, D, generator=g, dtype=torch.float64)[::2]
    else:
        weight = torch.randn(V, D, generator=g, dtype=torch.float64)
    weight = weight.to(dtype)
    low = -1 if V > 0 else -1
    entries = draw(st.lists(st.integers(low, max(V - 1, -1)), min_size=B * C, max_size=B * C))
    context = torch.tensor(entries, dtype=draw(st.sampled_from([torch.int64, torch.int32]))).reshape(B, C)
    return weight, context, draw(st.sampled_from(["sum", "mean"]))


def tolerances(dtype):
    return dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4)


@FAST
@given(case=context_sum_cases(), sparse=st.booleans())
def test_context_sum_and_its_gradients_equal_the_twin(case, sparse):
    weight, context, mode = case
    ours_w = weight.clone().requires_grad_()
    twin_w = weight.double().requires_grad_()
    out = ops.context_sum(ours_w, context, mode, sparse_grad=sparse)
    expected = reference.context_sum(twin_w, context, mode)
    assert out.shape == expected.shape and out.dtype == weight.dtype
    torch.testing.assert_close(out.double(), expected, **tolerances(weight.dtype))
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    out.backward(grad_out.to(out.dtype))
    expected.backward(grad_out)
    grad = ours_w.grad.to_dense() if ours_w.grad.is_sparse else ours_w.grad
    torch.testing.assert_close(grad.double(), twin_w.grad, **tolerances(weight.dtype))


@FAST
@given(case=context_sum_cases(), lr=st.floats(-2.0, 2.0))
def test_fused_update_equals_twin_autograd_plus_sgd(case, lr):
    weight, context, mode = case
    ours = weight.contiguous().clone().requires_grad_()
    twin = weight.double().requires_grad_()
    grad_out = torch.randn(context.shape[0], weight.shape[1], generator=torch.Generator().manual_seed(3),
                           dtype=torch.float64)
    ops.context_sum(ours, context, mode, fused_lr=lr).backward(grad_out.to(weight.dtype))
    reference.context_sum(twin, context, mode).backward(grad_out)
    assert ours.grad is None
    torch.testing.assert_close(ours.detach().double(), weight.double() - lr * twin.grad, **tolerances(weight.dtype))


@FAST
@given(case=context_sum_cases())
def test_expanded_tables_are_read_right_and_never_updated(case):
    weight, context, mode = case
    V, D = weight.shape
    assume(V > 1 and D > 0)
    expanded = weight.contiguous()[:1].expand(V, D)  # every row the same memory
    torch.testing.assert_close(ops.context_sum(expanded, context, mode).double(),
                               reference.context_sum(expanded.double(), context, mode), **tolerances(weight.dtype))
    with pytest.raises(ValueError, match="share memory"):
        ops.context_sum_sgd_(expanded, torch.zeros(context.shape[0], D, dtype=weight.dtype), context, lr=0.1)


@FAST
@given(V=st.integers(1, 10), bad=st.integers(-2**40, 2**40), mode=st.sampled_from(["sum", "mean"]))
def test_every_index_outside_the_table_is_an_index_error_in_op_and_twin(V, bad, mode):
    assume(not (-1 <= bad < V))
    weight = torch.randn(V, 3)
    context = torch.tensor([[0, bad]])
    for fn in (ops.context_sum, reference.context_sum):
        with pytest.raises(IndexError):
            fn(weight, context, mode)
    before = weight.clone()
    with pytest.raises(IndexError):
        ops.context_sum_sgd_(weight, torch.ones(1, 3), context, lr=1.0)
    assert torch.equal(weight, before)
