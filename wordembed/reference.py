"""Pure-PyTorch twins of the operators in wordembed.ops: the oracle for tests and the baseline
for benchmarks. Nothing in the library calls these in place of the compiled operators."""
import torch
from torch import Tensor

from ._checks import check_context_sum_args, check_index_range


def context_sum(weight: Tensor, context: Tensor, mode: str = "mean") -> Tensor:
    """Same contract as wordembed.ops.context_sum, by embedding lookup and a masked sum or mean."""
    mean = check_context_sum_args(weight, context, mode)
    check_index_range(context, weight.shape[0])
    present = context != -1
    rows = torch.nn.functional.embedding(context.clamp(min=0).long(), weight)  # (B, C, D)
    summed = (rows * present.unsqueeze(-1).to(weight.dtype)).sum(dim=1)
    if mean:
        summed = summed / present.sum(dim=1, keepdim=True).clamp(min=1).to(weight.dtype)
    return summed


def cbow_ns_loss(input_vectors: Tensor, output_vectors: Tensor, context: Tensor, targets: Tensor,
                 negatives: Tensor) -> Tensor:
    """Each example's word2vec CBOW negative-sampling loss, the twin of ops.cbow_ns_step_:
    -log sigmoid(h . out[target]) - sum_k log sigmoid(-h . out[negative_k]), h = context mean."""
    hidden = context_sum(input_vectors, context, "mean")
    positive = (hidden * output_vectors[targets.long()]).sum(-1)
    negative = torch.einsum("bd,bkd->bk", hidden, output_vectors[negatives.long()])
    return -torch.nn.functional.logsigmoid(positive) - torch.nn.functional.logsigmoid(-negative).sum(-1)
