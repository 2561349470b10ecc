"""torch.nn modules built on the compiled operators."""
import torch

from . import ops
from .memory import zeros_table
from .arguments import mode_is_mean


class ContextSum(torch.nn.Module):
    """An embedding table whose forward sums (or averages) the rows of each bag of word indices.

    Like nn.EmbeddingBag over a padded (B, C) batch with -1 as padding. The gradient is dense, or
    sparse with sparse=True (for torch.optim.SGD or SparseAdam); with fused_lr set, backward
    applies plain SGD to the rows it touched and no optimizer is needed for this table.
    deterministic=False allows the faster atomic backward on CUDA (see ops.context_sum).
    """

    def __init__(self, num_words: int, dim: int, mode: str = "mean", sparse: bool = False,
                 fused_lr: float | None = None, *, deterministic: bool = True, device=None, dtype=None):
        super().__init__()
        if num_words < 1 or dim < 1:
            raise ValueError(f"num_words and dim must be positive, got {num_words} and {dim}")
        mode_is_mean(mode)  # raises for an unknown mode
        if sparse and fused_lr is not None:
            raise ValueError("sparse and fused_lr exclude each other: the fused update makes no gradient")
        self.num_words, self.dim, self.mode = num_words, dim, mode
        self.sparse, self.fused_lr, self.deterministic = sparse, fused_lr, deterministic
        # in huge pages on the CPU: rows are read at random (see memory.py)
        dtype = torch.get_default_dtype() if dtype is None else dtype
        self.weight = torch.nn.Parameter(zeros_table((num_words, dim), dtype, device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.weight)  # as nn.Embedding does

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return ops.context_sum(self.weight, context, self.mode, sparse_grad=self.sparse,
                               fused_lr=self.fused_lr, deterministic=self.deterministic)

    def extra_repr(self) -> str:
        extra = ", sparse=True" if self.sparse else ""
        extra += f", fused_lr={self.fused_lr}" if self.fused_lr is not None else ""
        return f"{self.num_words}, {self.dim}, mode={self.mode!r}{extra}"
