"""The compiled operators: typed wrappers, fake (meta) kernels and autograd formulas (the fused-SGD
op's autograd is compiled too: csrc/fused_sgd_autograd.cpp).

The kernels live in csrc/; this package imports the compiled `wordembed._C` for its side effect of
registering them as `torch.ops.wordembed.*`. The lowest layer that needs the extension: nn,
training and distributed build on it; the argument rules it shares with the reference twin are in
wordembed/arguments.py, which loads nothing compiled. There is no fallback: without the
extension, importing this package fails and says how to build it.
"""
import torch
from torch import Tensor

from ..arguments import bag_offsets, check_tensors, mode_is_mean, padding_row

try:
    from .. import _C  # noqa: F401
except ImportError as error:
    raise ImportError(
        "wordembed's compiled extension (wordembed._C) is not built or does not load "
        f"({error}). Build it from the repository root with "
        "`pip install --no-build-isolation -e .` (or `bash scripts/setup.sh`), "
        "with the same torch installed that you run it with."
    ) from error

__all__ = ["context_sum", "context_sum_sgd_", "ns_step_", "ns_train_chunk_", "supervised_train_chunk_", "fill_uniform_"]


def context_sum(weight: Tensor, context: Tensor, mode: str = "mean", *, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None, padding_idx: int | None = None,
                include_last_offset: bool = False, sparse_grad: bool = False, fused_lr: float | None = None,
                deterministic: bool = True) -> Tensor:
    """Sum or mean of the rows of weight in each bag of indices, skipping padding; nn.EmbeddingBag's
    contract, on the compiled operator.

    weight: (V, D) floating. Bags, as nn.EmbeddingBag takes them: context (B, C) int64 or int32,
    bag b being row b; or context 1-D with offsets (int64 or int32), bag b being
    context[offsets[b]:offsets[b + 1]] (the last bag ends at len(context), or with
    include_last_offset=True, offsets has B + 1 entries and its last is len(context)). Entries
    equal to -1, or to padding_idx (a row; negative counts from the end, as nn.EmbeddingBag),
    are padding: they add nothing and count for no mean. Empty bags give zeros.
    per_sample_weights (shaped like context, mode "sum" only) weigh each entry. Returns (B, D).

    The gradient for weight is dense by default, sparse (COO) with sparse_grad=True; with fused_lr
    set, the backward instead applies weight[rows] -= fused_lr * gradient in place and weight gets
    no .grad (per_sample_weights still get theirs). deterministic=False lets the CUDA backward add
    with atomics (faster, not bit-reproducible) unless torch.use_deterministic_algorithms(True) is
    in force; CPU is always deterministic.
    """
    # types and devices here (before dispatch picks a kernel by them); the rest by the compiled op
    check_tensors(weight=weight, context=context, offsets=offsets, per_sample_weights=per_sample_weights)
    mean = mode_is_mean(mode)
    offsets = bag_offsets(context, offsets, include_last_offset)
    padding = padding_row(padding_idx, weight.shape[0])
    if fused_lr is None:
        return torch.ops.wordembed.context_sum.default(weight, context, mean, sparse_grad, deterministic, offsets,
                                                       per_sample_weights, padding)
    if sparse_grad:
        raise ValueError("sparse_grad and fused_lr exclude each other: the fused update makes no gradient")
    return torch.ops.wordembed.context_sum_fused_sgd.default(weight, context, mean, float(fused_lr), deterministic,
                                                             offsets, per_sample_weights, padding)


def context_sum_sgd_(weight: Tensor, grad_out: Tensor, context: Tensor, mode: str = "mean", *, lr: float,
                     offsets: Tensor | None = None, per_sample_weights: Tensor | None = None,
                     padding_idx: int | None = None, include_last_offset: bool = False,
                     deterministic: bool = True) -> Tensor:
    """In place: weight[rows] -= lr * (gradient of context_sum for grad_out); returns weight."""
    check_tensors(weight=weight, grad_out=grad_out, context=context, offsets=offsets,
                  per_sample_weights=per_sample_weights)
    mean = mode_is_mean(mode)
    torch.ops.wordembed.context_sum_sgd_.default(weight, grad_out, context, mean, float(lr), deterministic,
                                                 bag_offsets(context, offsets, include_last_offset),
                                                 per_sample_weights, padding_row(padding_idx, weight.shape[0]))
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
                    bag_offsets: Tensor | None = None, bag_rows: Tensor | None = None,
                    shared_negatives: int = 0) -> Tensor:
    """Trains CBOW (or skip-gram) with negative sampling on a chunk of the id stream, in place;
    with bag_offsets and bag_rows (wordembed.subwords), each word trains its subword bag. With
    shared_negatives P >= 1 (CPU), P consecutive positions of a sentence share their negatives and
    train as one minibatch (Ji et al.'s HogBatch); 0 trains every example alone.
    Returns [loss sum, examples, words] (float64). See csrc/wordembed.cpp for the contract."""
    return torch.ops.wordembed.ns_train_chunk_.default(
        input_vectors, output_vectors, ids, sentence_starts, keep_prob, noise_prob, noise_alias,
        int(window), int(negative), float(lr_start), float(lr_end), int(seed), bool(deterministic),
        bool(full_context_update), bool(skipgram), bag_offsets, bag_rows, int(shared_negatives))


@torch.library.register_fake("wordembed::ns_step_")
def _ns_step_fake(input_vectors, output_vectors, context, targets, negatives, lr, full_context_update=True):
    return input_vectors.new_empty((context.shape[0],), dtype=torch.float64)


@torch.library.register_fake("wordembed::ns_train_chunk_")
def _ns_train_chunk_fake(input_vectors, output_vectors, ids, sentence_starts, keep_prob, noise_prob,
                         noise_alias, window, negative, lr_start, lr_end, seed, deterministic,
                         full_context_update=True, skipgram=False, bag_offsets=None, bag_rows=None,
                         shared_negatives=0):
    # [loss sum, examples, words]: read by the host, so every device's kernel returns it on the CPU
    return torch.empty((3,), dtype=torch.float64, device="cpu")


def fill_uniform_(table: Tensor, seed: int, bound: float) -> Tensor:
    """Fills a 2-D table in place with numbers uniform in [-bound, bound) that depend on the seed
    alone (not on the thread count); a table on another device is filled through the CPU."""
    if table.device.type == "cpu" and table.is_contiguous():
        torch.ops.wordembed.fill_uniform_.default(table, int(seed), float(bound))
    else:
        filled = torch.empty(table.shape, dtype=table.dtype)
        torch.ops.wordembed.fill_uniform_.default(filled, int(seed), float(bound))
        table.copy_(filled)
    return table


def supervised_train_chunk_(input_vectors: Tensor, output_vectors: Tensor, ids: Tensor, sentence_starts: Tensor, *,
                            loss: int, negative: int, label_cdf: Tensor, tree_offsets: Tensor, tree_nodes: Tensor,
                            tree_codes: Tensor, lr_start: float, lr_end: float, seed: int,
                            deterministic: bool = False, bag_offsets: Tensor | None = None,
                            bag_rows: Tensor | None = None) -> Tensor:
    """Trains fastText's classifier on a chunk of labelled lines (each its labels as -1 - label,
    then its input rows, or words standing for the bags bag_rows[bag_offsets[w]:bag_offsets[w + 1]]),
    in place; loss 0 softmax, 1 ns, 2 hs, 3 ova. Returns [loss sum, lines trained, ids] (float64).
    See csrc/wordembed.cpp for the contract."""
    return torch.ops.wordembed.supervised_train_chunk_.default(
        input_vectors, output_vectors, ids, sentence_starts, int(loss), int(negative), label_cdf, tree_offsets,
        tree_nodes, tree_codes, float(lr_start), float(lr_end), int(seed), bool(deterministic), bag_offsets, bag_rows)


@torch.library.register_fake("wordembed::supervised_train_chunk_")
def _supervised_train_chunk_fake(input_vectors, output_vectors, ids, sentence_starts, loss, negative, label_cdf,
                                 tree_offsets, tree_nodes, tree_codes, lr_start, lr_end, seed, deterministic,
                                 bag_offsets=None, bag_rows=None):
    return torch.empty((3,), dtype=torch.float64, device="cpu")


def _bags_of(context, offsets):
    return offsets.shape[0] - 1 if offsets is not None else context.shape[0]


@torch.library.register_fake("wordembed::context_sum")
def _context_sum_fake(weight, context, mean, sparse_grad=False, deterministic=True, offsets=None,
                      per_sample_weights=None, padding_idx=-1):
    # the meta kernel: it runs for every call with a meta tensor among its arguments
    check_tensors(weight=weight, context=context, offsets=offsets, per_sample_weights=per_sample_weights)
    torch._check(weight.dim() == 2, lambda: "weight must be 2-D")
    torch._check(context.dim() == (1 if offsets is not None else 2),
                 lambda: "context must be 1-D with offsets, 2-D without")
    return weight.new_empty((_bags_of(context, offsets), weight.shape[1]))


@torch.library.register_fake("wordembed::context_sum_backward")
def _context_sum_backward_fake(grad_out, context, num_weights, mean, deterministic=True, offsets=None,
                               per_sample_weights=None, padding_idx=-1):
    check_tensors(grad_out=grad_out, context=context, offsets=offsets, per_sample_weights=per_sample_weights)
    return grad_out.new_empty((num_weights, grad_out.shape[1]))


@torch.library.register_fake("wordembed::context_sum_backward_sparse")
def _context_sum_backward_sparse_fake(grad_out, context, num_weights, mean, offsets=None, per_sample_weights=None,
                                      padding_idx=-1):
    check_tensors(grad_out=grad_out, context=context, offsets=offsets, per_sample_weights=per_sample_weights)
    num_rows = torch.library.get_ctx().new_dynamic_size()
    rows = grad_out.new_empty((num_rows,), dtype=torch.int64)
    return rows, grad_out.new_empty((num_rows, grad_out.shape[1]))


@torch.library.register_fake("wordembed::context_sum_fused_sgd")
def _context_sum_fused_sgd_fake(weight, context, mean, lr, deterministic=True, offsets=None,
                                per_sample_weights=None, padding_idx=-1):
    return _context_sum_fake(weight, context, mean, False, deterministic, offsets)


@torch.library.register_fake("wordembed::context_sum_sgd_")
def _context_sum_sgd_fake(weight, grad_out, context, mean, lr, deterministic=True, offsets=None,
                          per_sample_weights=None, padding_idx=-1):
    check_tensors(weight=weight, grad_out=grad_out, context=context, offsets=offsets,
                  per_sample_weights=per_sample_weights)
    return None


# Autograd. The arguments after weight and context, in the schema's order: mean, sparse_grad,
# deterministic, offsets, per_sample_weights (index 6), padding_idx.
_NO_GRADS = (None,) * 5


def _setup_context(ctx, inputs, output):
    weight, context, mean, sparse_grad, deterministic, offsets, per_sample_weights, padding_idx = inputs
    # weight only when per_sample_weights need their gradient (it reads the rows)
    ctx.save_for_backward(context, offsets, per_sample_weights,
                          weight if per_sample_weights is not None and ctx.needs_input_grad[6] else None)
    ctx.num_weights, ctx.mean, ctx.sparse_grad = weight.shape[0], mean, sparse_grad
    ctx.deterministic, ctx.padding_idx = deterministic, padding_idx


def _backward(ctx, grad):
    context, offsets, per_sample_weights, weight = ctx.saved_tensors
    grad_psw = None
    if weight is not None:
        grad_psw = torch.ops.wordembed.context_sum_per_sample_weights_backward.default(
            grad, weight, context, offsets, ctx.padding_idx)
    if not ctx.needs_input_grad[0]:
        return (None, *_NO_GRADS, grad_psw, None)
    bags = (offsets, per_sample_weights, ctx.padding_idx)
    if not ctx.sparse_grad:
        grad_weight = torch.ops.wordembed.context_sum_backward.default(
            grad, context, ctx.num_weights, ctx.mean, ctx.deterministic, *bags)
        return (grad_weight, *_NO_GRADS, grad_psw, None)
    rows, values = torch.ops.wordembed.context_sum_backward_sparse.default(
        grad, context, ctx.num_weights, ctx.mean, *bags)
    grad_weight = torch.sparse_coo_tensor(rows.unsqueeze(0), values, (ctx.num_weights, grad.shape[1]),
                                          is_coalesced=True,  # rows come sorted and distinct
                                          check_invariants=False)
    return (grad_weight, *_NO_GRADS, grad_psw, None)


torch.library.register_autograd("wordembed::context_sum", _backward, setup_context=_setup_context)


# Double backward. context_sum is linear in weight, so its backward is linear in grad_out, and the
# gradient of that backward with respect to grad_out is context_sum itself, applied to the
# incoming gradient (a table of V rows; for the sparse backward, the table of its touched rows).
# The backward is linear in per_sample_weights too: their gradient pairs grad_out with the
# incoming gradient's rows, as the forward's pairs grad_out with weight's.
def _setup_backward_context(ctx, inputs, output):
    grad_out, context, _num_weights, mean, deterministic, offsets, per_sample_weights, padding_idx = inputs
    ctx.save_for_backward(context, offsets, per_sample_weights, grad_out)
    ctx.mean, ctx.deterministic, ctx.padding_idx = mean, deterministic, padding_idx


def _backward_backward(ctx, grad_grad_weight):
    context, offsets, per_sample_weights, grad_out = ctx.saved_tensors
    grad_grad_out = torch.ops.wordembed.context_sum.default(grad_grad_weight, context, ctx.mean, False,
                                                            ctx.deterministic, offsets, per_sample_weights,
                                                            ctx.padding_idx)
    grad_psw = None
    if per_sample_weights is not None and ctx.needs_input_grad[6]:
        grad_psw = torch.ops.wordembed.context_sum_per_sample_weights_backward.default(
            grad_out, grad_grad_weight, context, offsets, ctx.padding_idx)
    return grad_grad_out, None, None, None, None, None, grad_psw, None


torch.library.register_autograd("wordembed::context_sum_backward", _backward_backward,
                                setup_context=_setup_backward_context)


def _setup_sparse_backward_context(ctx, inputs, output):
    grad_out, context, _num_weights, mean, offsets, per_sample_weights, padding_idx = inputs
    ctx.save_for_backward(context, output[0], offsets, per_sample_weights, grad_out)
    ctx.mean, ctx.padding_idx = mean, padding_idx


def _sparse_backward_backward(ctx, _grad_rows, grad_values):
    context, rows, offsets, per_sample_weights, grad_out = ctx.saved_tensors
    if grad_values is None:
        return None, None, None, None, None, None, None
    # values[k] belongs to rows[k] (sorted): each context entry reads the slot of its row
    slots = torch.searchsorted(rows, context.long().clamp(min=0))
    kept = (context >= 0) & (context != ctx.padding_idx)
    slots = torch.where(kept, slots, torch.full_like(slots, -1))
    grad_grad_out = torch.ops.wordembed.context_sum.default(grad_values, slots, ctx.mean, False, True, offsets,
                                                            per_sample_weights, -1)
    grad_psw = None
    if per_sample_weights is not None and ctx.needs_input_grad[5]:
        grad_psw = torch.ops.wordembed.context_sum_per_sample_weights_backward.default(
            grad_out, grad_values, slots, offsets, -1)
    return grad_grad_out, None, None, None, None, grad_psw, None


torch.library.register_autograd("wordembed::context_sum_backward_sparse", _sparse_backward_backward,
                                setup_context=_setup_sparse_backward_context)
