"""Argument rules that Python decides: the mode and backend names the compiled operators never
see, the reference twin's checks, and the counts users give queries.

They live here rather than in wordembed/ops/ because importing anything in ops/ loads the
compiled extension, and the reference twin, the settings and the vectors must work where it is
not built. The compiled operators check their tensors themselves (csrc/checks.h), so that every
device and every caller gets the same errors; ops/ only translates the mode. The reference twin is plain
PyTorch and restates those checks here, with the same exception types and words: the tests run
one table of bad inputs through both (tests/ops/test_context_sum.py), so the two cannot drift apart
unnoticed."""
import torch

MODES = ("sum", "mean")
BACKENDS = ("fused", "reference")  # the compiled operators, or their plain-PyTorch twins


def mode_is_mean(mode) -> bool:
    if mode not in MODES:
        raise ValueError(f"mode must be 'sum' or 'mean', got {mode!r}")
    return mode == "mean"


def check_backend(backend) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'fused' or 'reference', got {backend!r}")


def check_count(name, value) -> None:
    """A count given by the user (topn, limit, restrict_vocab, neighbours): a whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


def check_tensors(**named) -> None:
    """The tensors of one call: each a torch.Tensor (or None, for an optional one), all on the
    first one's device. Checked before dispatch, where the compiled kernels cannot: a meta
    tensor among CPU ones would send the call to the shape-only kernel, and a list or an array
    to the dispatcher's own message."""
    first_name, first = next(iter(named.items()))
    for name, value in named.items():
        if value is None and name != first_name:
            continue
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__} "
                            "(torch.as_tensor makes one)")
        if value.device != first.device:
            raise ValueError(f"{name} is on {value.device} but {first_name} is on {first.device}; "
                             "move them to the same device")


def _dtype_name(dtype) -> str:
    return str(dtype)  # torch.float32, as the compiled checks print it


def bag_offsets(context, offsets, include_last_offset: bool):
    """nn.EmbeddingBag's offsets as the compiled op takes them: B + 1 bag boundaries, the last
    being len(context) (appended unless include_last_offset says it is there); None for a padded
    batch. Their values are checked by the op (csrc/batch.h)."""
    if offsets is None:
        return None
    if not isinstance(offsets, torch.Tensor):
        raise TypeError(f"offsets must be a torch.Tensor, got {type(offsets).__name__}")
    if offsets.dim() != 1:
        raise ValueError(f"offsets must be 1-D with one entry per bag, got shape {tuple(offsets.shape)}")
    if include_last_offset:
        return offsets
    return torch.cat([offsets, offsets.new_full((1,), context.numel())])


def padding_row(padding_idx, num_rows) -> int:
    """The op's padding_idx: -1 for none, else a row (negative counts from the end, as nn.EmbeddingBag)."""
    if padding_idx is None:
        return -1
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
        raise TypeError(f"padding_idx must be an int or None, got {type(padding_idx).__name__}")
    if not -num_rows <= padding_idx < num_rows:
        raise ValueError(f"padding_idx must be a row of the table's {num_rows} rows (from {-num_rows} to "
                         f"{num_rows - 1}), got {padding_idx}")
    return padding_idx % num_rows


def check_bags(context, offsets, per_sample_weights, mean, value_dtype) -> None:
    """The twin's version of csrc/batch.h's checks of offsets (already in the op's B + 1 form) and
    per_sample_weights; reads the offsets' values (eager only)."""
    if offsets is not None:
        if offsets.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"offsets must be int64 or int32, got {_dtype_name(offsets.dtype)}")
        if offsets.dim() != 1 or offsets.numel() < 1:
            raise ValueError(f"offsets must be 1-D with one entry per bag and one more, got shape "
                             f"{list(offsets.shape)}")
        o, n = offsets.long().tolist(), context.numel()
        if o[0] != 0:
            raise ValueError(f"offsets must start at 0, got {o[0]}")
        if max(o) > n:
            raise IndexError(f"offsets reach {max(o)}, past the end of the input's {n} entries")
        for k in range(len(o) - 1):
            if o[k + 1] < o[k]:
                raise ValueError(f"offsets must not decrease: offsets[{k + 1}] = {o[k + 1]} comes after "
                                 f"offsets[{k}] = {o[k]}")
        if o[-1] != n:
            raise ValueError(f"the last offset must be len(input) = {n} (the end of the last bag), got {o[-1]}")
    if per_sample_weights is not None:
        if mean:
            raise ValueError("per_sample_weights are only supported with mode 'sum' (as in nn.EmbeddingBag)")
        if per_sample_weights.dtype != value_dtype:
            raise TypeError(f"per_sample_weights must have the weight's dtype {_dtype_name(value_dtype)}, got "
                            f"{_dtype_name(per_sample_weights.dtype)}")
        if per_sample_weights.shape != context.shape:
            raise ValueError(f"per_sample_weights must have the input's shape {list(context.shape)}, got "
                             f"{list(per_sample_weights.shape)}")


def check_context_sum_args(weight, context, mode, offsets=None) -> bool:
    """The twin's version of csrc/checks.h for context_sum (after check_tensors); returns True for
    mode 'mean'."""
    if not weight.is_floating_point():
        raise TypeError(f"weight must be a floating tensor, got {_dtype_name(weight.dtype)}")
    if weight.dim() != 2:
        raise ValueError(f"weight must be 2-D (words, dim), got {weight.dim()}-D")
    if context.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"context must be int64 or int32, got {_dtype_name(context.dtype)}")
    if offsets is not None and context.dim() != 1:
        raise ValueError(f"with offsets, the input must be 1-D (the bags one after another), got {context.dim()}-D")
    if offsets is None and context.dim() != 2:
        raise ValueError(f"context must be 2-D (batch, context width), got {context.dim()}-D")
    return mode_is_mean(mode)


def check_index_range(context, num_words) -> None:
    """Every entry must be a row of the table or -1 (padding); eager only (reads values)."""
    if context.numel() == 0:
        return
    low, high = int(context.min()), int(context.max())
    if high >= num_words:
        raise IndexError(f"context index {high} out of range for vocabulary of {num_words} words")
    if low < -1:
        raise IndexError(f"context index {low} is negative; only -1 (padding) is allowed")
