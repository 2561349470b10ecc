"""Argument checks shared by the operators and their reference twins, so both fail alike."""
import torch

MODES = ("sum", "mean")


def check_context_sum_args(weight, context, mode) -> bool:
    """Raises a clear exception for bad arguments of context_sum; returns True for mode 'mean'."""
    if not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight must be a torch.Tensor, got {type(weight).__name__}")
    if not isinstance(context, torch.Tensor):
        raise TypeError(f"context must be a torch.Tensor of word indices, got {type(context).__name__}")
    if not weight.is_floating_point():
        raise TypeError(f"weight must be a floating tensor, got {weight.dtype}")
    if weight.dim() != 2:
        raise ValueError(f"weight must be 2-D (words, dim), got shape {tuple(weight.shape)}")
    if context.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"context must be an int64 or int32 tensor of word indices, got {context.dtype}")
    if context.dim() != 2:
        raise ValueError(f"context must be 2-D (batch, context width), got shape {tuple(context.shape)}")
    if weight.device != context.device:
        raise ValueError(f"weight is on {weight.device} but context is on {context.device}; "
                         "move them to the same device")
    if mode not in MODES:
        raise ValueError(f"mode must be 'sum' or 'mean', got {mode!r}")
    return mode == "mean"


def check_index_range(context, num_words) -> None:
    """Every entry must be a row of the table or -1 (padding); eager only (reads values)."""
    if context.numel() == 0:
        return
    low, high = int(context.min()), int(context.max())
    if high >= num_words:
        raise IndexError(f"context index {high} out of range for vocabulary of {num_words} words")
    if low < -1:
        raise IndexError(f"context index {low} is negative; only -1 (padding) is allowed")
