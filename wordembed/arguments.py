"""Argument rules that Python decides: the mode and backend names the compiled operators never
see, the reference twin's checks, and the counts users give queries.

They live here rather than in wordembed/ops/ because importing anything in ops/ loads the
compiled extension, and the reference twin, the settings and the vectors must work where it is
not built. The compiled operators check their tensors themselves (csrc/checks.h), so that every
device and every caller gets the same errors; ops/ only translates the mode. The reference twin is plain
PyTorch and restates those checks here, with the same exception types and words: the tests run
one table of bad inputs through both (tests/test_context_sum.py), so the two cannot drift apart
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


def _dtype_name(dtype) -> str:
    return str(dtype)  # torch.float32, as the compiled checks print it


def check_context_sum_args(weight, context, mode) -> bool:
    """The twin's version of csrc/checks.h for context_sum; returns True for mode 'mean'."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if not isinstance(context, torch.Tensor):
        raise TypeError(f"context must be a torch.Tensor of word indices, got {type(context).__name__}")
    if not weight.is_floating_point():
        raise TypeError(f"weight must be a floating tensor, got {_dtype_name(weight.dtype)}")
    if weight.dim() != 2:
        raise ValueError(f"weight must be 2-D (words, dim), got {weight.dim()}-D")
    if context.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"context must be int64 or int32, got {_dtype_name(context.dtype)}")
    if context.dim() != 2:
        raise ValueError(f"context must be 2-D (batch, context width), got {context.dim()}-D")
    if weight.device != context.device:
        raise ValueError(f"weight is on {weight.device} but context is on {context.device}; "
                         "move them to the same device")
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
