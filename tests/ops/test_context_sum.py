"""context_sum against its reference twin: values, gradients (dense, sparse, fused SGD),
gradcheck, opcheck, torch.compile, determinism, and bad input."""
import pytest
import torch

import wordembed
from wordembed import ops, reference
from testing import CUDA_SKIP, devices, make_context, sample_inputs, tolerance

MODES = {False: "sum", True: "mean"}


def reference_in_float64(weight, context, mode):
    return reference.context_sum(weight.detach().double(), context, mode)


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_forward_and_dense_gradient_match_reference(device, dtype):
    g = torch.Generator().manual_seed(1)
    for weight, context, mean in sample_inputs(device, requires_grad=True, dtype=dtype):
        mode = MODES[mean]
        out = ops.context_sum(weight, context, mode)
        expected = reference_in_float64(weight, context, mode)
        assert out.dtype == dtype and out.shape == expected.shape and out.device == weight.device
        torch.testing.assert_close(out.double(), expected, **tolerance(dtype))

        grad_out = torch.randn(out.shape, generator=g).to(out)
        (grad,) = torch.autograd.grad(out, weight, grad_out)
        ref_weight = weight.detach().double().requires_grad_()
        (ref_grad,) = torch.autograd.grad(reference.context_sum(ref_weight, context, mode), ref_weight,
                                          grad_out.double())
        assert grad.layout == torch.strided and grad.dtype == dtype
        # A row's gradient sums up to 240 entries: float32 rounding reaches a few 1e-5 there.
        grad_tolerance = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else tolerance(dtype)
        torch.testing.assert_close(grad.double(), ref_grad, **grad_tolerance)


@pytest.mark.parametrize("device", devices)
def test_known_values_by_hand(device):
    weight = torch.tensor([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]], device=device)
    context = torch.tensor([[0, 2, -1], [1, 1, 1], [-1, -1, -1], [2, -1, 0]], device=device)
    torch.testing.assert_close(ops.context_sum(weight, context, "sum").cpu(),
                               torch.tensor([[5.0, 50.0], [6.0, 60.0], [0.0, 0.0], [5.0, 50.0]]))
    torch.testing.assert_close(ops.context_sum(weight, context, "mean").cpu(),
                               torch.tensor([[2.5, 25.0], [2.0, 20.0], [0.0, 0.0], [2.5, 25.0]]))


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("mean", [False, True])
def test_gradcheck_float64(device, mean):
    g = torch.Generator().manual_seed(1)
    weight = torch.randn(13, 5, dtype=torch.float64, generator=g).to(device).requires_grad_()
    context = make_context(7, 6, 13, device, generator=g)
    # gradcheck wants gradients in the input's layout; the sparse one is compared with this
    # dense one in test_sparse_gradient_equals_dense.
    assert torch.autograd.gradcheck(lambda w: ops.context_sum(w, context, MODES[mean]), (weight,))


@pytest.mark.parametrize("device", devices)
def test_opcheck_every_sample(device):
    for weight, context, mean in sample_inputs(device, requires_grad=True):
        grad_out = torch.randn(context.shape[0], weight.shape[1], device=device)
        for deterministic in (True, False):
            torch.library.opcheck(torch.ops.wordembed.context_sum.default,
                                  (weight, context, mean, False, deterministic))
            torch.library.opcheck(torch.ops.wordembed.context_sum_backward.default,
                                  (grad_out, context, weight.shape[0], mean, deterministic))
            torch.library.opcheck(torch.ops.wordembed.context_sum_sgd_.default,
                                  (weight.detach().clone(), grad_out, context, mean, 0.1, deterministic))
            torch.library.opcheck(torch.ops.wordembed.context_sum_fused_sgd.default,
                                  (weight, context, mean, 0.1, deterministic))


@pytest.mark.parametrize("device", devices)
def test_opcheck_sparse_backward(device):
    for weight, context, mean in sample_inputs(device)[:4]:
        grad_out = torch.randn(context.shape[0], weight.shape[1], device=device)
        # Its output size depends on the data, which rules out the AOT-dispatch checks.
        torch.library.opcheck(torch.ops.wordembed.context_sum_backward_sparse.default,
                              (grad_out, context, weight.shape[0], mean),
                              test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sparse_gradient_equals_dense(device, dtype):
    for weight, context, mean in sample_inputs(device, requires_grad=True, dtype=dtype):
        grad_out = torch.randn(context.shape[0], weight.shape[1], device=device, dtype=dtype)
        (dense,) = torch.autograd.grad(ops.context_sum(weight, context, MODES[mean]), weight, grad_out)
        (sparse,) = torch.autograd.grad(ops.context_sum(weight, context, MODES[mean], sparse_grad=True),
                                        weight, grad_out)
        assert sparse.layout == torch.sparse_coo and sparse.is_coalesced()
        touched = context[context >= 0].unique()
        assert torch.equal(sparse.indices()[0].sort().values, touched.long())
        torch.testing.assert_close(sparse.to_dense(), dense, **tolerance(dtype))


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("optimizer", ["SGD", "SparseAdam"])
def test_sparse_gradient_trains_with_torch_optimizers(device, optimizer):
    torch.manual_seed(0)
    context = make_context(16, 5, 30, device)
    target = torch.randn(16, 8, device=device)
    ours = wordembed.nn.ContextSum(30, 8, "mean", sparse=True, device=device)
    ref_weight = torch.nn.Parameter(ours.weight.detach().clone())
    make = {"SGD": lambda p: torch.optim.SGD(p, lr=0.5), "SparseAdam": lambda p: torch.optim.SparseAdam(p, lr=0.05)}
    opt_ours, opt_ref = make[optimizer]([ours.weight]), make[optimizer]([ref_weight])
    for _ in range(3):
        for model_out, opt in ((ours(context), opt_ours), (None, opt_ref)):
            if model_out is None:
                ref_emb = torch.nn.functional.embedding(context.clamp(min=0), ref_weight, sparse=True)
                present = (context >= 0).unsqueeze(-1).float()
                model_out = (ref_emb * present).sum(1) / present.sum(1).clamp(min=1)
            opt.zero_grad()
            ((model_out - target) ** 2).sum().backward()
            opt.step()
    torch.testing.assert_close(ours.weight, ref_weight, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_update_equals_reference_autograd_plus_sgd(device, dtype):
    lr = 0.3
    for weight, context, mean in sample_inputs(device, dtype=dtype):
        grad_out = torch.randn(context.shape[0], weight.shape[1], device=device, dtype=dtype)
        fused = weight.clone().requires_grad_()
        ops.context_sum(fused, context, MODES[mean], fused_lr=lr).backward(grad_out)
        assert fused.grad is None

        plain = weight.clone().requires_grad_()
        sgd = torch.optim.SGD([plain], lr=lr)
        reference.context_sum(plain, context, MODES[mean]).backward(grad_out)
        sgd.step()
        torch.testing.assert_close(fused.detach(), plain.detach(), **tolerance(dtype))
        untouched = torch.ones(weight.shape[0], dtype=torch.bool, device=device)
        untouched[context[context >= 0].long()] = False
        assert torch.equal(fused.detach()[untouched], weight[untouched])  # bit-identical


@pytest.mark.parametrize("device", devices)
def test_fused_module_trains_like_reference_plus_sgd(device):
    """A tutorial-style model (context sum, linear, softmax) trained 30 steps both ways."""
    torch.manual_seed(0)
    vocab, dim, lr = 40, 16, 0.5
    contexts = make_context(64, 4, vocab, device, pad_fraction=0.2)
    targets = torch.randint(0, vocab, (64,), device=device)
    embed = wordembed.nn.ContextSum(vocab, dim, "sum", fused_lr=lr, device=device)
    ref_weight = torch.nn.Parameter(embed.weight.detach().clone())
    linear = torch.nn.Linear(dim, vocab, device=device)
    ref_linear = torch.nn.Linear(dim, vocab, device=device)
    ref_linear.load_state_dict(linear.state_dict())
    opt = torch.optim.SGD(linear.parameters(), lr=lr)
    ref_opt = torch.optim.SGD([ref_weight, *ref_linear.parameters()], lr=lr)
    losses, ref_losses = [], []
    for _ in range(30):
        opt.zero_grad()
        ref_opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(linear(embed(contexts)), targets)
        ref_loss = torch.nn.functional.cross_entropy(
            ref_linear(reference.context_sum(ref_weight, contexts, "sum")), targets)
        loss.backward()
        ref_loss.backward()
        opt.step()
        ref_opt.step()
        losses.append(loss.item())
        ref_losses.append(ref_loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert embed.weight.grad is None
    torch.testing.assert_close(losses, ref_losses, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(embed.weight.detach(), ref_weight.detach(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("device", devices)
def test_torch_compile_fullgraph_matches_eager(device):
    torch._dynamo.reset()
    torch.manual_seed(0)
    embed = wordembed.nn.ContextSum(50, 12, "mean", device=device)
    linear = torch.nn.Linear(12, 50, device=device)

    def step(context, target):
        return torch.nn.functional.cross_entropy(linear(embed(context)), target)

    context, target = make_context(20, 6, 50, device), torch.randint(0, 50, (20,), device=device)
    eager_loss = step(context, target)
    eager_grad = torch.autograd.grad(eager_loss, embed.weight)[0]
    compiled = torch.compile(step, fullgraph=True)
    compiled_loss = compiled(context, target)
    compiled_grad = torch.autograd.grad(compiled_loss, embed.weight)[0]
    torch.testing.assert_close(compiled_loss, eager_loss)
    torch.testing.assert_close(compiled_grad, eager_grad)


@pytest.mark.parametrize("device", devices)
def test_torch_compile_fullgraph_fused_update_matches_eager(device):
    torch._dynamo.reset()
    g = torch.Generator().manual_seed(3)
    weight = torch.randn(50, 12, generator=g).to(device)
    context = make_context(20, 6, 50, device, generator=g)
    target = torch.randn(20, 12, generator=g).to(device)

    def step(w):
        return (ops.context_sum(w, context, "mean", fused_lr=0.5) - target).pow(2).sum()

    eager, compiled = weight.clone().requires_grad_(), weight.clone().requires_grad_()
    eager_loss = step(eager)
    eager_loss.backward()
    compiled_loss = torch.compile(step, fullgraph=True)(compiled)
    compiled_loss.backward()
    torch.testing.assert_close(compiled_loss, eager_loss)
    assert not torch.equal(eager.detach(), weight)  # the update happened
    torch.testing.assert_close(compiled.detach(), eager.detach())
    assert eager.grad is None and compiled.grad is None


@pytest.mark.parametrize("device", devices)
def test_fused_update_forward_alone_under_inference_mode_and_no_grad(device):
    weight = torch.randn(30, 4, device=device, requires_grad=True)
    context = make_context(5, 3, 30, device)
    expected = reference.context_sum(weight.detach(), context, "mean")
    for mode in (torch.inference_mode, torch.no_grad):
        with mode():
            out = ops.context_sum(weight, context, "mean", fused_lr=0.1)
        assert not out.requires_grad
        torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("deterministic,torch_deterministic", [(True, False), (False, True), (False, False)])
def test_backward_bit_identical_across_runs_and_thread_counts(device, deterministic, torch_deterministic):
    g = torch.Generator().manual_seed(3)
    V, D = 200, 33
    weight = torch.randn(V, D, generator=g).to(device)
    context = torch.randint(0, 20, (3000, 8), generator=g).to(device)  # many repeats of few rows
    grad_out = torch.randn(3000, D, generator=g).to(device)
    threads = torch.get_num_threads()
    before = torch.are_deterministic_algorithms_enabled()
    results = []
    try:
        torch.use_deterministic_algorithms(torch_deterministic)
        for n in (1, max(2, threads), 1):
            torch.set_num_threads(n)
            dense = torch.ops.wordembed.context_sum_backward(grad_out, context, V, True, deterministic)
            rows, values = torch.ops.wordembed.context_sum_backward_sparse(grad_out, context, V, True)
            w = weight.clone()
            torch.ops.wordembed.context_sum_sgd_(w, grad_out, context, True, 0.1, deterministic)
            results.append((dense, values, w))
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(before)
    exact = device == "cpu" or deterministic or torch_deterministic  # else CUDA may use atomics
    for other in results[1:]:
        for a, b in zip(results[0], other):
            if exact:
                assert torch.equal(a, b)
            else:
                torch.testing.assert_close(a, b)


@CUDA_SKIP
def test_atomic_backward_matches_reference():
    """deterministic=False (CUDA's atomic variant) computes the same gradient and update. (The
    CPU has no atomic variant: its backward is always the deterministic one.)"""
    device = "cuda"
    for weight, context, mean in sample_inputs(device, requires_grad=True):
        mode = MODES[mean]
        grad_out = torch.randn(context.shape[0], weight.shape[1], device=device)
        (grad,) = torch.autograd.grad(ops.context_sum(weight, context, mode, deterministic=False), weight, grad_out)
        (ref_grad,) = torch.autograd.grad(reference.context_sum(weight, context, mode), weight, grad_out)
        torch.testing.assert_close(grad, ref_grad, **tolerance(torch.float32))
        fused = weight.detach().clone().requires_grad_()
        ops.context_sum(fused, context, mode, fused_lr=0.5, deterministic=False).backward(grad_out)
        torch.testing.assert_close(fused.detach(), weight.detach() - 0.5 * ref_grad, **tolerance(torch.float32))


@pytest.mark.parametrize("device", devices)
def test_non_contiguous_inputs_match_contiguous(device):
    g = torch.Generator().manual_seed(4)
    wide = torch.randn(30, 16, generator=g).to(device)
    weight_t = wide.t().contiguous().t()                 # column-major
    weight_sliced = torch.randn(30, 32, generator=g).to(device)[:, ::2]  # strided columns
    context = make_context(12, 10, 30, device, generator=g)
    ctx_t = context.t().contiguous().t()
    ctx_sliced = make_context(12, 20, 30, device, generator=g)[:, ::2]
    for weight in (weight_t, weight_sliced):
        for ctx in (ctx_t, ctx_sliced):
            assert not (weight.is_contiguous() and ctx.is_contiguous())
            for mode in ("sum", "mean"):
                w = weight.clone().requires_grad_()
                out = ops.context_sum(w, ctx, mode)
                wc = weight.contiguous().requires_grad_()
                out_c = ops.context_sum(wc, ctx.contiguous(), mode)
                torch.testing.assert_close(out, out_c, rtol=0, atol=0)
                grad_out = torch.randn(out.shape[1], out.shape[0], device=device).t()  # strided too
                torch.testing.assert_close(torch.autograd.grad(out, w, grad_out)[0],
                                           torch.autograd.grad(out_c, wc, grad_out.contiguous())[0])


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_empty_batch_and_empty_context(device, mode):
    weight = torch.randn(10, 4, device=device, requires_grad=True)
    for shape in ((0, 5), (0, 0), (3, 0)):
        context = torch.empty(shape, dtype=torch.long, device=device)
        for sparse_grad in (False, True):
            out = ops.context_sum(weight, context, mode, sparse_grad=sparse_grad)
            assert out.shape == (shape[0], 4)
            assert torch.equal(out, torch.zeros_like(out))
            (grad,) = torch.autograd.grad(out.sum(), weight)
            assert torch.equal(grad.to_dense(), torch.zeros_like(weight))
        before = weight.detach().clone()
        ops.context_sum(weight, context, mode, fused_lr=0.1).sum().backward()
        assert torch.equal(weight.detach(), before) and weight.grad is None  # no entry: no update
        assert torch.equal(reference.context_sum(weight, context, mode), torch.zeros(shape[0], 4, device=device))


BAD_INPUTS = [
    # (description, weight, context, mode, exception, words the message must contain)
    ("index >= V", (5, 3), torch.tensor([[0, 5]]), "mean", IndexError, ["5", "vocabulary of 5 words"]),
    ("index < -1", (5, 3), torch.tensor([[0, -2]]), "sum", IndexError, ["-2", "-1"]),
    ("floating context", (5, 3), torch.tensor([[0.0, 1.0]]), "mean", TypeError, ["context", "float"]),
    ("bool context", (5, 3), torch.tensor([[True, False]]), "mean", TypeError, ["context", "bool"]),
    ("1-D context", (5, 3), torch.tensor([0, 1]), "mean", ValueError, ["context", "2-D"]),
    ("3-D weight", (5, 3, 2), torch.tensor([[0, 1]]), "mean", ValueError, ["weight", "2-D"]),
    ("1-D weight", (5,), torch.tensor([[0, 1]]), "mean", ValueError, ["weight", "2-D"]),
    ("integer weight", "int", torch.tensor([[0, 1]]), "mean", TypeError, ["weight", "floating"]),
    ("unknown mode", (5, 3), torch.tensor([[0, 1]]), "max", ValueError, ["mode", "'max'"]),
]


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
@pytest.mark.parametrize("implementation", ["ops", "reference"])
def test_bad_input_raises_clear_error(device, case, implementation):
    _, weight_shape, context, mode, error, words = case
    weight = (torch.arange(15, device=device).reshape(5, 3) if weight_shape == "int"
              else torch.randn(*weight_shape, device=device))
    fn = ops.context_sum if implementation == "ops" else reference.context_sum
    with pytest.raises(error) as info:
        fn(weight, context.to(device), mode)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


@pytest.mark.parametrize("bad_index, message", [(7, "context index 7 out of range for vocabulary of 5 words"),
                                                 (-2, "context index -2 is negative")])
@pytest.mark.parametrize("device", devices)
def test_bad_index_is_caught_by_the_compiled_op_itself(device, bad_index, message):
    weight, grad_out = torch.randn(5, 3, device=device), torch.randn(3, 3, device=device)
    bad = torch.tensor([[0, 1], [2, 3], [4, bad_index]], device=device)  # valid entries come first
    for table in (weight, weight[:, :0]):  # a table of dim 0 too: no rows read, indices checked
        with pytest.raises(IndexError, match=message):
            torch.ops.wordembed.context_sum(table, bad, True)
    for op in (torch.ops.wordembed.context_sum_backward, torch.ops.wordembed.context_sum_backward_sparse):
        with pytest.raises(IndexError, match=message):
            op(grad_out, bad, 5, True)
    before = weight.clone()
    with pytest.raises(IndexError, match=message):
        torch.ops.wordembed.context_sum_sgd_(weight, grad_out, bad, True, 0.1)
    assert torch.equal(weight, before), "a rejected update must leave every row as it was"


@CUDA_SKIP
def test_weight_and_context_on_different_devices():
    weight = torch.randn(5, 3, device="cuda")
    for fn in (ops.context_sum, reference.context_sum):
        with pytest.raises(ValueError, match="same device"):
            fn(weight, torch.tensor([[0, 1]]), "mean")
    with pytest.raises(ValueError, match="same device"):  # the compiled op says it alike
        torch.ops.wordembed.context_sum(weight, torch.tensor([[0, 1]]), True)


def test_fused_and_sparse_exclude_each_other():
    with pytest.raises(ValueError, match="exclude"):
        wordembed.nn.ContextSum(5, 3, sparse=True, fused_lr=0.1)
    with pytest.raises(ValueError, match="exclude"):
        ops.context_sum(torch.randn(5, 3), torch.tensor([[0]]), sparse_grad=True, fused_lr=0.1)


def test_fused_update_refuses_weight_with_strided_rows():
    weight = torch.randn(3, 10)[:, ::2]
    with pytest.raises(ValueError, match="stride"):
        ops.context_sum_sgd_(weight, torch.randn(1, 5), torch.tensor([[0]]), lr=0.1)


# ---- inputs that once hung, overlapped or lost precision silently (the reliability issue)

ZERO_WIDTH_SCRIPT = """
import torch, wordembed
from wordembed import ops
context = torch.tensor([[1, 2, -1]], device="{device}")
for kwargs in (dict(), dict(sparse_grad=True), dict(fused_lr=0.1)):
    w = torch.zeros(10, 0, device="{device}", requires_grad=True)
    ops.context_sum(w, context, "mean", **kwargs).sum().backward()
ops.context_sum_sgd_(torch.zeros(10, 0, device="{device}"), torch.zeros(1, 0, device="{device}"), context, lr=0.1)
print("done")
"""


@pytest.mark.parametrize("device", devices)
def test_zero_width_tables_finish_every_backward(device):
    # In a child process with a time limit: the bug was an endless loop that ignored Ctrl-C.
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-c", ZERO_WIDTH_SCRIPT.format(device=device)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0 and "done" in run.stdout, run.stderr


@pytest.mark.parametrize("device", devices)
def test_tables_whose_rows_share_memory_are_refused_for_in_place_updates(device):
    expanded = torch.randn(1, 4, device=device).expand(10, 4)
    overlapping = torch.randn(40, device=device).as_strided((10, 4), (2, 1))  # rows 2 apart, 4 wide
    context, grad_out = torch.tensor([[1, 3]], device=device), torch.randn(1, 4, device=device)
    for weight in (expanded, overlapping):
        with pytest.raises(ValueError, match="share memory"):
            ops.context_sum_sgd_(weight, grad_out, context, lr=0.1)
        with pytest.raises(ValueError, match="share memory"):
            ops.context_sum(weight.detach().requires_grad_(), context, fused_lr=0.1)
        with torch.no_grad():  # no update follows: reading an expanded table is fine
            torch.testing.assert_close(ops.context_sum(weight, context, "sum", fused_lr=0.1),
                                       reference.context_sum(weight, context, "sum"))
    with pytest.raises(ValueError, match="lr must be a finite"):
        ops.context_sum_sgd_(torch.randn(10, 4, device=device), grad_out, context, lr=float("nan"))


@pytest.mark.parametrize("device", devices)
@pytest.mark.parametrize("sparse_grad", [False, True])
@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_double_backward_matches_the_reference(device, sparse_grad, mode):
    """A gradient penalty: d/dw of sum(grad_w(loss)^3). The op's backward is linear in grad_out,
    so the second derivative goes back through context_sum itself."""
    g = torch.Generator().manual_seed(3)
    weight = torch.randn(9, 4, dtype=torch.float64, generator=g).to(device).requires_grad_()
    context = make_context(6, 5, 9, device, generator=g)

    def penalty_gradient(fn):
        (grad,) = torch.autograd.grad(fn(weight).pow(2).sum(), weight, create_graph=True)
        grad = grad.to_dense() if grad.is_sparse else grad
        (second,) = torch.autograd.grad(grad.pow(3).sum(), weight)
        return second.to_dense() if second.is_sparse else second

    ours = penalty_gradient(lambda w: ops.context_sum(w, context, mode, sparse_grad=sparse_grad))
    expected = penalty_gradient(lambda w: reference.context_sum(w, context, mode))
    assert expected.abs().sum() > 0
    torch.testing.assert_close(ours, expected)
    if not sparse_grad:
        assert torch.autograd.gradgradcheck(lambda w: ops.context_sum(w, context, mode), (weight,))


@pytest.mark.parametrize("device", devices)
def test_reference_twin_ignores_non_finite_rows_that_only_pad(device):
    weight = torch.randn(4, 3, device=device)
    weight[0] = float("nan")  # padding reads row 0 before it is masked out
    context = torch.tensor([[1, -1], [2, 3], [-1, -1]], device=device)
    for mode in ("sum", "mean"):
        expected = ops.context_sum(weight, context, mode)
        assert torch.isfinite(expected).all()
        torch.testing.assert_close(reference.context_sum(weight, context, mode), expected)
    empty_table = torch.zeros(0, 3, device=device, requires_grad=True)
    out = reference.context_sum(empty_table, torch.full((2, 3), -1, device=device), "mean")
    assert torch.equal(out, torch.zeros(2, 3, device=device))
    out.sum().backward()
    assert empty_table.grad.shape == (0, 3)
    with pytest.raises(IndexError):
        reference.context_sum(empty_table, torch.tensor([[0]], device=device), "mean")
