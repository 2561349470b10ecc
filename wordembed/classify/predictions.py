"""What a classifier predicts from the hidden vectors of its inputs, as fastText predicts it, and
how `test` scores the predictions (fastText's Meter).

fastText ranks labels by s = log(p + 1e-5), with p the softmax (loss "softmax") or each label's
sigmoid ("ns", "ova"); hierarchical softmax ("hs") sums log(f + 1e-5) along the label's path of
sigmoid decisions f. It keeps the labels with p >= threshold (hs: s >= log(threshold + 1e-5)),
the k best, and reports exp(s) as the probability (so p + 1e-5 for the flat losses)."""
import math

import torch

EPSILON = 1e-5


def label_scores(loss: str, hidden: torch.Tensor, output_vectors: torch.Tensor, paths=None) -> torch.Tensor:
    """(B, L) log scores; paths: (nodes, codes, mask) from tree.padded_paths (hs only)."""
    logits = hidden @ output_vectors.T
    if loss == "softmax":
        return torch.log(torch.softmax(logits, dim=1) + EPSILON)
    if loss in ("ns", "ova"):
        return torch.log(torch.sigmoid(logits) + EPSILON)
    nodes, codes, mask = (t.to(hidden.device) for t in paths)
    f = torch.sigmoid(logits)[:, nodes]                     # (B, L, depth)
    steps = torch.log(torch.where(codes, f, 1 - f) + EPSILON)
    return (steps * mask).sum(-1)


def threshold_score(threshold: float) -> float:
    """The least log score a kept label has (for the flat losses: p >= threshold)."""
    if threshold <= 0:
        return -math.inf
    return math.log(threshold + EPSILON)


def best_labels(scores: torch.Tensor, k: int, threshold: float, empty: torch.Tensor | None = None):
    """Per row, the k best labels (k -1: all) of at least the threshold, best first, as
    (label indices, probabilities) lists of tensors. empty: rows with no input (no prediction)."""
    L = scores.shape[1]
    k = L if k == -1 else min(k, L)
    values, indices = torch.topk(scores, k, dim=1) if k else (scores[:, :0], scores[:, :0].long())
    keep = values >= threshold_score(threshold)
    if empty is not None:
        keep &= ~empty[:, None]
    probabilities = torch.exp(values)
    counts = keep.sum(1).tolist()
    return ([row[:n] for row, n in zip(indices, counts)], [row[:n] for row, n in zip(probabilities, counts)])


def precision_recall(predicted, gold):
    """fastText's Meter over (predicted label lists, gold label lists): (N, precision, recall),
    precision = right predictions / predictions, recall = right predictions / gold labels."""
    n_predicted = n_gold = right = 0
    for labels, truth in zip(predicted, gold):
        truth_set = set(truth)
        n_predicted += len(labels)
        n_gold += len(truth)
        right += sum(1 for label in labels if label in truth_set)
    return (len(gold), right / n_predicted if n_predicted else math.nan, right / n_gold if n_gold else math.nan)
