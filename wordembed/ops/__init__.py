"""The compiled operators: typed wrappers, fake (meta) kernels and autograd formulas (the fused-SGD
op's autograd is compiled too: csrc/fused_sgd_autograd.cpp).

The kernels live in csrc/; this package imports the compiled `wordembed._C` for its side effect of
registering them as `torch.ops.wordembed.*`. The lowest layer that needs the extension: nn,
training and distributed build on it; the argument rules it shares with the reference twin are in
wordembed/arguments.py, which loads nothing compiled. There is no fallback: without the extension, importing
this module fails and says how to build it.
"""
import torch
from torch import Tensor

from ..arguments import mode_is_mean

try:
    from .. import _C  # noqa: F401
except ImportError as error:
    raise ImportError(
        "wordembed's compiled extension (wordembed._C) is not built or does not load "
        f"({error}). Build it from the repository root with "
        "`pip install --no-build-isolation -e .` (or `bash scripts/setup.sh`), "
        "with the same torch installed that you run it with."
    ) from error

__all__ = ["context_sum", "context_sum_sgd_", "ns_step_", "ns_train_chunk_"]


def context_sum(weight: Tensor, context: Tensor, mode: str = "mean", *, sparse_grad: bool = False,
                fused_lr: float | None = None, deterministic: bool = True) -> Tensor:
    """Sum or mean of the rows weight[context[b, j]] per bag b, skipping entries equal to -1.

    weight: (V, D) floating; context: (B, C) int64 or int32; returns (B, D). The gradient for
    weight is dense by default, sparse (COO) with sparse_grad=True; with fused_lr set, the backward
    instead applies weight[rows] -= fused_lr * gradient in place and weight gets no .grad.
    deterministic=False lets the CUDA backward add with atomics (faster, not bit-reproducible)
    unless torch.use_deterministic_algorithms(True) is in force; CPU is always deterministic.
    """
    mean = mode_is_mean(mode)  # the tensors are checked by the compiled op (csrc/checks.h)
    if fused_lr is None:
        return torch.ops.wordembed.context_sum.default(weight, context, mean, sparse_grad, deterministic)
    if sparse_grad:
        raise ValueError("sparse_grad and fused_lr exclude each other: the fused update makes no gradient")
    return torch.ops.wordembed.context_sum_fused_sgd.default(weight, context, mean, float(fused_lr),
                                                             deterministic)


def context_sum_sgd_(weight: Tensor, grad_out: Tensor, context: Tensor, mode: str = "mean", *,
                     lr: float, deterministic: bool = True) -> Tensor:
    """In place: weight[rows] -= lr * (gradient of context_sum for grad_out); returns weight."""
    mean = mode_is_mean(mode)  # the tensors are checked by the compiled op (csrc/checks.h)
    torch.ops.wordembed.context_sum_sgd_.default(weight, grad_out, context, mean, float(lr), deterministic)
    return weight


def ns_step_(input_vectors: Tensor, output_vectors: Tensor, context: Tensor, targets: Tensor,
             negatives: Tensor, lr: float, *, full_context_update: bool = True) -> Tensor:
    """One word2vec negative-sampling SGD step per example, in order, on given samples: context
    (B, C), rows of input_vectors with -1 padding, whose mean predicts targets (B,) against
    negatives (B, K), rows of output_vectors. A CBOW example's context is the words around a
    position, a skip-gram example's a single word, a subword example's a word's row and its n-gram
    rows. Updates both tables in place; returns each example's loss (float64).
    full_context_update: each context row gets the whole gradient of the mean, as word2vec, gensim
    and fastText do; False gives it the exact 1/n share."""
    return torch.ops.wordembed.ns_step_.default(input_vectors, output_vectors, context, targets,
                                               negatives, float(lr), full_context_update)


def ns_train_chunk_(input_vectors: Tensor, output_vectors: Tensor, ids: Tensor,
                    sentence_starts: Tensor, keep_prob: Tensor, noise_prob: Tensor,
                    noise_alias: Tensor, *, window: int, negative: int, lr_start: float,
                    lr_end: float, seed: int, deterministic: bool = False,
                    full_context_update: bool = True, skipgram: bool = False,
                    bag_offsets: Tensor | None = None, bag_rows: Tensor | None = None) -> Tensor:
    """Trains CBOW (or skip-gram) with negative sampling on a chunk of the id stream, in place;
    with bag_offsets and bag_rows (wordembed.subwords), each word trains its subword bag.
    Returns [loss sum, examples, words] (float64). See csrc/wordembed.cpp for the contract."""
    return torch.ops.wordembed.ns_train_chunk_.default(
        input_vectors, output_vectors, ids, sentence_starts, keep_prob, noise_prob, noise_alias,
        int(window), int(negative), float(lr_start), float(lr_end), int(seed), bool(deterministic),
        bool(full_context_update), bool(skipgram), bag_offsets, bag_rows)


@torch.library.register_fake("wordembed::ns_step_")
def _ns_step_fake(input_vectors, output_vectors, context, targets, negatives, lr, full_context_update=True):
    return input_vectors.new_empty((context.shape[0],), dtype=torch.float64)


@torch.library.register_fake("wordembed::ns_train_chunk_")
def _ns_train_chunk_fake(input_vectors, output_vectors, ids, sentence_starts, keep_prob, noise_prob,
                         noise_alias, window, negative, lr_start, lr_end, seed, deterministic,
                         full_context_update=True, skipgram=False, bag_offsets=None, bag_rows=None):
    # [loss sum, examples, words]: read by the host, so every device's kernel returns it on the CPU
    return torch.empty((3,), dtype=torch.float64, device="cpu")


@torch.library.register_fake("wordembed::context_sum")
def _context_sum_fake(weight, context, mean, sparse_grad=False, deterministic=True):
    torch._check(weight.dim() == 2, lambda: "weight must be 2-D")
    torch._check(context.dim() == 2, lambda: "context must be 2-D")
    return weight.new_empty((context.shape[0], weight.shape[1]))


@torch.library.register_fake("wordembed::context_sum_backward")
def _context_sum_backward_fake(grad_out, context, num_weights, mean, deterministic=True):
    return grad_out.new_empty((num_weights, grad_out.shape[1]))


@torch.library.register_fake("wordembed::context_sum_backward_sparse")
def _context_sum_backward_sparse_fake(grad_out, context, num_weights, mean):
    num_rows = torch.library.get_ctx().new_dynamic_size()
    rows = grad_out.new_empty((num_rows,), dtype=torch.int64)
    return rows, grad_out.new_empty((num_rows, grad_out.shape[1]))


@torch.library.register_fake("wordembed::context_sum_fused_sgd")
def _context_sum_fused_sgd_fake(weight, context, mean, lr, deterministic=True):
    return _context_sum_fake(weight, context, mean)


@torch.library.register_fake("wordembed::context_sum_sgd_")
def _context_sum_sgd_fake(weight, grad_out, context, mean, lr, deterministic=True):
    return None


def _setup_context(ctx, inputs, output):
    weight, context, mean, sparse_grad, deterministic = inputs
    ctx.save_for_backward(context)
    ctx.num_weights, ctx.mean, ctx.sparse_grad = weight.shape[0], mean, sparse_grad
    ctx.deterministic = deterministic


def _backward(ctx, grad):
    if not ctx.needs_input_grad[0]:
        return None, None, None, None, None
    (context,) = ctx.saved_tensors
    if not ctx.sparse_grad:
        grad_weight = torch.ops.wordembed.context_sum_backward.default(
            grad, context, ctx.num_weights, ctx.mean, ctx.deterministic)
        return grad_weight, None, None, None, None
    rows, values = torch.ops.wordembed.context_sum_backward_sparse.default(
        grad, context, ctx.num_weights, ctx.mean)
    grad_weight = torch.sparse_coo_tensor(rows.unsqueeze(0), values, (ctx.num_weights, grad.shape[1]),
                                          is_coalesced=True,  # rows come sorted and distinct
                                          check_invariants=False)
    return grad_weight, None, None, None, None


torch.library.register_autograd("wordembed::context_sum", _backward, setup_context=_setup_context)


# Double backward. context_sum is linear in weight, so its backward is linear in grad_out, and the
# gradient of that backward with respect to grad_out is context_sum itself, applied to the
# incoming gradient (a table of V rows; for the sparse backward, the table of its touched rows).
def _setup_backward_context(ctx, inputs, output):
    _grad_out, context, _num_weights, mean, deterministic = inputs
    ctx.save_for_backward(context)
    ctx.mean, ctx.deterministic = mean, deterministic


def _backward_backward(ctx, grad_grad_weight):
    (context,) = ctx.saved_tensors
    grad_grad_out = torch.ops.wordembed.context_sum.default(grad_grad_weight, context, ctx.mean, False,
                                                            ctx.deterministic)
    return grad_grad_out, None, None, None, None


torch.library.register_autograd("wordembed::context_sum_backward", _backward_backward,
                                setup_context=_setup_backward_context)


def _setup_sparse_backward_context(ctx, inputs, output):
    _grad_out, context, _num_weights, mean = inputs
    ctx.save_for_backward(context, output[0])
    ctx.mean = mean


def _sparse_backward_backward(ctx, _grad_rows, grad_values):
    context, rows = ctx.saved_tensors
    if grad_values is None:
        return None, None, None, None
    # values[k] belongs to rows[k] (sorted): each context entry reads the slot of its row
    slots = torch.searchsorted(rows, context.long().clamp(min=0))
    slots = torch.where(context >= 0, slots, torch.full_like(slots, -1))
    grad_grad_out = torch.ops.wordembed.context_sum.default(grad_values, slots, ctx.mean, False, True)
    return grad_grad_out, None, None, None


torch.library.register_autograd("wordembed::context_sum_backward_sparse", _sparse_backward_backward,
                                setup_context=_setup_sparse_backward_context)
