"""torch.nn modules built on the compiled operators."""
import torch

from . import ops
from .arguments import mode_is_mean, padding_row
from .memory import zeros_table


class ContextSum(torch.nn.Module):
    """An embedding table whose forward sums (or averages) the rows of each bag of word indices:
    nn.EmbeddingBag's contract on wordembed's fused operator.

    forward(input, offsets=None, per_sample_weights=None) takes the bags as nn.EmbeddingBag does:
    a padded (B, C) batch, or a 1-D input with offsets (include_last_offset as nn.EmbeddingBag), and
    per_sample_weights with mode "sum". Entries equal to -1 or to padding_idx are skipped; empty
    bags give zeros. The gradient is dense, or sparse with sparse=True (for torch.optim.SGD or
    SparseAdam); with fused_lr set, backward applies plain SGD to the rows it touched and no
    optimizer is needed for this table. deterministic=False allows the faster atomic backward on
    CUDA (see ops.context_sum).
    """

    def __init__(self, num_words: int, dim: int, mode: str = "mean", sparse: bool = False,
                 fused_lr: float | None = None, *, deterministic: bool = True, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None, _weight: torch.Tensor | None = None):
        super().__init__()
        if num_words < 1 or dim < 1:
            raise ValueError(f"num_words and dim must be positive, got {num_words} and {dim}")
        mode_is_mean(mode)  # raises for an unknown mode
        if sparse and fused_lr is not None:
            raise ValueError("sparse and fused_lr exclude each other: the fused update makes no gradient")
        self.num_words, self.dim, self.mode = num_words, dim, mode
        self.sparse, self.fused_lr, self.deterministic = sparse, fused_lr, deterministic
        self.include_last_offset = include_last_offset
        self.padding_idx = None if padding_idx is None else padding_row(padding_idx, num_words)
        if _weight is not None:  # from_pretrained: the given table itself, as nn.EmbeddingBag keeps it
            if tuple(_weight.shape) != (num_words, dim):
                raise ValueError(f"the table must be ({num_words}, {dim}), got {tuple(_weight.shape)}")
            self.weight = torch.nn.Parameter(_weight)
            return
        # in huge pages on the CPU: rows are read at random (see memory.py)
        dtype = torch.get_default_dtype() if dtype is None else dtype
        self.weight = torch.nn.Parameter(zeros_table((num_words, dim), dtype, device))
        self.reset_parameters()

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, mode: str = "mean", sparse: bool = False,
                        padding_idx: int | None = None, *, include_last_offset: bool = False,
                        fused_lr: float | None = None, deterministic: bool = True) -> "ContextSum":
        """A ContextSum over given rows, as nn.EmbeddingBag.from_pretrained: a (V, D) floating
        tensor (used as it is, not copied), or a WordVectors (a copy of its vectors, in its rows'
        order, so that training the module leaves the vectors as they were). freeze=True: the
        table gets no gradient."""
        if hasattr(embeddings, "vectors") and hasattr(embeddings, "index_to_key"):  # WordVectors
            embeddings = embeddings.vectors.detach().clone()
        if not isinstance(embeddings, torch.Tensor) or embeddings.dim() != 2 or not embeddings.is_floating_point():
            raise ValueError("embeddings must be a 2-D floating tensor (words, dim) or a WordVectors, got "
                             f"{type(embeddings).__name__}{tuple(getattr(embeddings, 'shape', ()))}")
        module = cls(embeddings.shape[0], embeddings.shape[1], mode, sparse, fused_lr, deterministic=deterministic,
                     include_last_offset=include_last_offset, padding_idx=padding_idx, _weight=embeddings)
        module.weight.requires_grad = not freeze
        return module

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.weight)  # as nn.Embedding does
        if self.padding_idx is not None:
            with torch.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: torch.Tensor, offsets: torch.Tensor | None = None,
                per_sample_weights: torch.Tensor | None = None) -> torch.Tensor:
        return ops.context_sum(self.weight, input, self.mode, offsets=offsets, per_sample_weights=per_sample_weights,
                               padding_idx=self.padding_idx, include_last_offset=self.include_last_offset,
                               sparse_grad=self.sparse, fused_lr=self.fused_lr, deterministic=self.deterministic)

    def extra_repr(self) -> str:
        extra = ", sparse=True" if self.sparse else ""
        extra += f", fused_lr={self.fused_lr}" if self.fused_lr is not None else ""
        extra += ", include_last_offset=True" if self.include_last_offset else ""
        extra += f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_words}, {self.dim}, mode={self.mode!r}{extra}"
