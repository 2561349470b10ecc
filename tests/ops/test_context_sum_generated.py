"""The operator over generated cases: every combination of form (padded, offsets,
include_last_offset), layout of each tensor (contiguous, transposed, sliced, expanded), dtype,
index dtype, padding_idx, per-sample weights, empty bags, gradient kind (dense, sparse, fused)
and device, against the reference twin and torch's own F.embedding_bag. Each case's values are
those of the tensors as laid out; the expectations are computed on contiguous float64 copies.
Then the reported defects, each as an explicit case."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings, strategies as st

from testing import devices
from wordembed import ops, reference

GENERATED = settings(max_examples=1500, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
DTYPES = [torch.float64, torch.float32, torch.float16, torch.bfloat16]
TOLERANCE = {torch.float64: 1e-9, torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 6e-2}
LAYOUTS_2D = ["contiguous", "transposed", "sliced", "rows", "expanded"]
LAYOUTS_1D = ["contiguous", "sliced", "column", "expanded"]


def laid_out(t, layout):
    """t's values in the given memory layout (expanded: its first row, or entry, repeated)."""
    if layout == "contiguous" or t.numel() == 0:
        return t
    if layout == "transposed":
        return t.t().contiguous().t()
    if layout == "sliced":  # every other column of a wider tensor
        wide = t.new_zeros(*t.shape[:-1], 2 * t.shape[-1])
        wide[..., ::2] = t
        return wide[..., ::2]
    if layout == "rows":  # every other row of a taller tensor
        tall = t.new_zeros(2 * t.shape[0], *t.shape[1:])
        tall[::2] = t
        return tall[::2]
    if layout == "column":  # a column of a row-major matrix: stride 3
        matrix = t.new_zeros(t.shape[0], 3)
        matrix[:, 1] = t
        return matrix[:, 1]
    return t[:1].expand(t.shape)


@st.composite
def bag_cases(draw, device):
    V, D, B = draw(st.integers(0, 9)), draw(st.integers(0, 5)), draw(st.integers(0, 5))
    form = draw(st.sampled_from(["padded", "offsets", "include_last_offset"]))
    mode = draw(st.sampled_from(["sum", "mean"]))
    dtype = draw(st.sampled_from(DTYPES))
    index_dtype = draw(st.sampled_from([torch.int64, torch.int32]))
    padding_idx = draw(st.one_of(st.none(), st.integers(-V, V - 1))) if V else None
    entry = st.integers(-1, V - 1)
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    weight = laid_out(torch.randn(V, D, generator=g, dtype=torch.float64).to(device=device, dtype=dtype),
                      draw(st.sampled_from(LAYOUTS_2D)))
    if form == "padded":
        C = draw(st.integers(0, 4))
        ids = torch.tensor(draw(st.lists(entry, min_size=B * C, max_size=B * C)), dtype=torch.int64).reshape(B, C)
        layout, offsets = draw(st.sampled_from(LAYOUTS_2D)), None
    else:
        sizes = draw(st.lists(st.integers(0, 4), min_size=B, max_size=B))
        ids = torch.tensor(draw(st.lists(entry, min_size=sum(sizes), max_size=sum(sizes))), dtype=torch.int64)
        starts = np.cumsum([0] + sizes)
        offsets = torch.tensor(starts if form == "include_last_offset" else starts[:-1], dtype=index_dtype)
        offsets = laid_out(offsets.to(device), draw(st.sampled_from(["contiguous", "sliced"])))
        layout = draw(st.sampled_from(LAYOUTS_1D))
    context = laid_out(ids.to(device=device, dtype=index_dtype), layout)
    psw = None
    if mode == "sum" and draw(st.booleans()):
        psw = laid_out(torch.randn(ids.shape, generator=g, dtype=torch.float64).to(device=device, dtype=dtype),
                       layout)
    grad = draw(st.sampled_from(["dense", "sparse", "fused"]))
    return dict(weight=weight, context=context, mode=mode, offsets=offsets, psw=psw, padding_idx=padding_idx,
                include_last_offset=form == "include_last_offset", grad=grad, seed=draw(st.integers(0, 2**31)))


def close(actual, expected, dtype):
    torch.testing.assert_close(actual.double().cpu(), expected.double().cpu(), rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])


def twin_result(case, grad_out):
    """The twin on contiguous float64 copies: output, weight gradient, per-sample weights' gradient."""
    weight = case["weight"].detach().double().contiguous().requires_grad_()
    psw = None if case["psw"] is None else case["psw"].detach().double().contiguous().requires_grad_()
    offsets = None if case["offsets"] is None else case["offsets"].contiguous()
    out = reference.context_sum(weight, case["context"].contiguous(), case["mode"], offsets=offsets,
                                per_sample_weights=psw, padding_idx=case["padding_idx"],
                                include_last_offset=case["include_last_offset"])
    out.backward(grad_out)
    return out.detach(), weight.grad, None if psw is None else psw.grad


def torch_result(case, grad_out):
    """F.embedding_bag on the same copies (it has no -1 padding, so only cases without any)."""
    weight = case["weight"].detach().double().contiguous().requires_grad_()
    psw = None if case["psw"] is None else case["psw"].detach().double().contiguous().requires_grad_()
    out = F.embedding_bag(case["context"].contiguous(), weight,
                          None if case["offsets"] is None else case["offsets"].contiguous(), mode=case["mode"],
                          per_sample_weights=psw, include_last_offset=case["include_last_offset"],
                          padding_idx=case["padding_idx"])
    out.backward(grad_out)
    return out.detach(), weight.grad, None if psw is None else psw.grad


def our_result(case, grad_out, lr=0.5):
    """Ours on the tensors as laid out: output, weight gradient (for fused: the change the update
    made, over -lr), per-sample weights' gradient."""
    before = case["weight"].detach().clone()
    weight = case["weight"].detach().requires_grad_()
    psw = None if case["psw"] is None else case["psw"].detach().requires_grad_()
    out = ops.context_sum(weight, case["context"], case["mode"], offsets=case["offsets"], per_sample_weights=psw,
                          padding_idx=case["padding_idx"], include_last_offset=case["include_last_offset"],
                          sparse_grad=case["grad"] == "sparse", fused_lr=lr if case["grad"] == "fused" else None)
    assert out.dtype == weight.dtype and out.device == weight.device
    out.backward(grad_out.to(out.dtype))
    if case["grad"] == "fused":
        assert weight.grad is None
        grad = (weight.detach().double() - before.double()) / -lr
    else:
        grad = weight.grad.to_dense() if weight.grad.is_sparse else weight.grad
    return out.detach(), grad, None if psw is None else psw.grad


def writable(weight):
    """Whether the fused update can write this table in place (csrc/checks.h, check_writable_table)."""
    V, D = weight.shape
    return weight.numel() == 0 or ((D <= 1 or weight.stride(1) == 1) and (V <= 1 or weight.stride(0) >= D))


@pytest.mark.parametrize("device", devices)
@GENERATED
@given(data=st.data())
def test_every_form_layout_and_gradient_agrees_with_the_twin_and_embedding_bag(device, data):
    case = data.draw(bag_cases(device))
    weight, dtype = case["weight"], case["weight"].dtype
    B = (case["offsets"].numel() - case["include_last_offset"]) if case["offsets"] is not None \
        else case["context"].shape[0]
    grad_out = torch.randn(B, weight.shape[1], generator=torch.Generator().manual_seed(case["seed"]),
                           dtype=torch.float64).to(device)
    if case["grad"] == "fused" and not writable(weight):
        with pytest.raises(ValueError, match="in-place update|share memory"):
            our_result(case, grad_out)
        return
    expectations = [twin_result(case, grad_out.to(dtype).double())]
    if case["context"].numel() and bool((case["context"] >= 0).all()):  # F.embedding_bag's domain
        expectations.append(torch_result(case, grad_out.to(dtype).double()))
    ours = our_result(case, grad_out)  # last: the fused update changes the table in place
    for expected in expectations:
        for mine, value in zip(ours, expected):
            if value is not None:
                close(mine, value, dtype)


# The defects a generated hostile run found, each as the case it found.

def test_a_transposed_context_with_a_padding_row_sums_the_right_rows():
    g = torch.Generator().manual_seed(0)
    weight = torch.randn(10, 4, generator=g, dtype=torch.float64)
    context = torch.randint(0, 10, (3, 5), generator=g).t()
    expected = F.embedding_bag(context.contiguous(), weight, mode="sum", padding_idx=5)
    torch.testing.assert_close(ops.context_sum(weight, context, "sum", padding_idx=5), expected)
    updated = weight.clone().requires_grad_()
    ops.context_sum(updated, context, "sum", padding_idx=5, fused_lr=1.0).sum().backward()
    twin = weight.clone().requires_grad_()
    F.embedding_bag(context.contiguous(), twin, mode="sum", padding_idx=5).sum().backward()
    torch.testing.assert_close(updated.detach(), weight - twin.grad)


@pytest.mark.parametrize("meta", ["context", "offsets", "per_sample_weights", "weight"])
def test_a_meta_tensor_among_cpu_tensors_is_refused_naming_both(meta):
    on = {name: "meta" if name == meta else "cpu" for name in ("weight", "context", "offsets", "per_sample_weights")}
    weight = torch.randn(6, 3, device=on["weight"])
    args = dict(offsets=torch.tensor([0, 2], device=on["offsets"]),
                per_sample_weights=torch.ones(4, device=on["per_sample_weights"]))
    with pytest.raises(ValueError, match=f"is on (meta|cpu) but .* is on (cpu|meta); move them"):
        ops.context_sum(weight, torch.tensor([1, 2, 3, 4], device=on["context"]), "sum", **args)


def test_all_meta_tensors_give_a_meta_result_of_the_right_shape():
    out = ops.context_sum(torch.empty(6, 3, device="meta"), torch.empty(5, 2, dtype=torch.long, device="meta"))
    assert out.device.type == "meta" and out.shape == (5, 3)


def test_a_table_of_no_rows_has_per_sample_weight_gradients_of_zero():
    weight = torch.zeros(0, 4, requires_grad=True)
    psw = torch.ones(2, 3, requires_grad=True)
    ops.context_sum(weight, torch.full((2, 3), -1), "sum", per_sample_weights=psw).sum().backward()
    assert torch.equal(psw.grad, torch.zeros(2, 3)) and torch.equal(weight.grad, torch.zeros(0, 4))


@pytest.mark.parametrize("argument", ["weight", "context", "offsets", "per_sample_weights"])
@pytest.mark.parametrize("kind", [list, np.array])
def test_lists_and_arrays_are_refused_naming_the_argument(argument, kind):
    args = dict(weight=torch.randn(6, 3), context=torch.tensor([1, 2, 3, 4]), offsets=torch.tensor([0, 2]),
                per_sample_weights=torch.ones(4))
    args[argument] = kind(args[argument].tolist())
    for op in (ops.context_sum, reference.context_sum):
        with pytest.raises(TypeError, match=f"^{argument} must be a torch.Tensor, got (list|ndarray)"):
            op(args["weight"], args["context"], "sum", offsets=args["offsets"],
               per_sample_weights=args["per_sample_weights"])
