"""What a classifier predicts from the hidden vectors of its inputs, as fastText predicts it, and
how `test` scores the predictions (fastText's Meter).

fastText ranks labels by s = log(p + 1e-5), with p the softmax (loss "softmax") or each label's
sigmoid ("ns", "ova"; fastText reads that sigmoid from a table of 513 steps over [-8, 8], the
step below x, up to 1/128 under the exact sigmoid: so this does too, and its probabilities match
fastText's to 1e-4); hierarchical softmax ("hs") sums log(f + 1e-5) along the label's path of
(exact) sigmoid decisions f. It keeps the labels with p >= threshold (hs: s >= log(threshold + 1e-5)),
the k best, and reports exp(s) as the probability (so p + 1e-5 for the flat losses)."""
import math

import torch

EPSILON = 1e-5
_SIGMOID_STEPS, _SIGMOID_REACH = 512, 8


def table_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """fastText's sigmoid: the table entry at the step below x, 0 below -8 and 1 above 8."""
    steps = torch.arange(_SIGMOID_STEPS + 1, dtype=torch.float32, device=x.device)
    table = torch.sigmoid((steps * (2 * _SIGMOID_REACH) / _SIGMOID_STEPS - _SIGMOID_REACH).double()).float()
    x = x.float()
    index = ((x + _SIGMOID_REACH) * _SIGMOID_STEPS / _SIGMOID_REACH / 2).clamp(0, _SIGMOID_STEPS).long()
    return torch.where(x < -_SIGMOID_REACH, 0.0, torch.where(x > _SIGMOID_REACH, 1.0, table[index]))


def label_scores(loss: str, hidden: torch.Tensor, output_vectors: torch.Tensor, paths=None) -> torch.Tensor:
    """(B, L) log scores; paths: (nodes, codes, mask) from tree.padded_paths (hs only)."""
    logits = hidden @ output_vectors.T
    if loss == "softmax":
        return torch.log(torch.softmax(logits, dim=1) + EPSILON)
    if loss in ("ns", "ova"):
        return torch.log(table_sigmoid(logits) + EPSILON)
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
    (label indices, probabilities) lists of tensors. empty: rows with no input (no prediction).
    Labels of equal score come in the order fastText's heap leaves them (fasttext_k_best): its
    saturated sigmoids (ns, ova) make such ties common."""
    L = scores.shape[1]
    k = L if k == -1 else min(k, L)
    lowest = threshold_score(threshold)
    values, indices = torch.topk(scores, min(k + 1, L), dim=1)
    tied = (values[:, :-1] == values[:, 1:]).any(1) if values.shape[1] > 1 else torch.zeros(len(scores), dtype=bool)
    values, indices = values[:, :k], indices[:, :k]
    keep = values >= lowest
    if empty is not None:
        keep &= ~empty[:, None]
    counts = keep.sum(1).tolist()
    chosen, probabilities = [], []
    for row in range(len(scores)):
        picked = indices[row, :counts[row]]
        if tied[row] and counts[row]:
            picked = torch.tensor(fasttext_k_best(scores[row].tolist(), k, lowest), dtype=torch.int64)
        chosen.append(picked)
        probabilities.append(torch.exp(scores[row, picked]))
    return chosen, probabilities


def fasttext_k_best(scores, k, lowest):
    """fastText's findKBest and sort_heap, step for step (libstdc++'s heap algorithms), for a row
    with ties: the labels it keeps, best first."""
    def worse(a, b):  # fastText's comparePairs: the heap's front is its worst entry
        return a[0] > b[0]

    def sift_up(h, hole, top, value):
        parent = (hole - 1) // 2
        while hole > top and worse(h[parent], value):
            h[hole], hole, parent = h[parent], parent, (parent - 1) // 2
        h[hole] = value

    def pop(h, n):  # moves the front to h[n - 1] and keeps h[:n - 1] a heap
        if n < 2:
            return
        value, h[n - 1], hole, child, length = h[n - 1], h[0], 0, 0, n - 1
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if worse(h[child], h[child - 1]):
                child -= 1
            h[hole], hole = h[child], child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            h[hole], hole = h[child - 1], child - 1
        sift_up(h, hole, 0, value)

    heap = []
    for i, score in enumerate(scores):
        if score < lowest or (len(heap) == k and score < heap[0][0]):
            continue
        heap.append((score, i))
        sift_up(heap, len(heap) - 1, 0, heap[-1])
        if len(heap) > k:
            pop(heap, len(heap))
            heap.pop()
    for n in range(len(heap), 1, -1):
        pop(heap, n)
    return [i for _, i in heap]


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


def label_scores_table(predicted, gold, labels):
    """fastText's per-label Meter: {label: (F1, precision, recall)}, with precision = right / times
    predicted, recall = right / times in the gold labels, F1 = 2 right / (predicted + gold), each
    NaN where its denominator is 0."""
    counts = [[0, 0, 0] for _ in labels]  # predicted, gold, right
    for labels_predicted, truth in zip(predicted, gold):
        truth_set = set(truth)
        for label in labels_predicted:
            counts[label][0] += 1
            counts[label][2] += label in truth_set
        for label in truth:
            counts[label][1] += 1

    def ratio(a, b):
        return a / b if b else math.nan
    return {name: (ratio(2 * right, p + g), ratio(right, p), ratio(right, g))
            for name, (p, g, right) in zip(labels, counts)}


def precision_recall_curve(scores, right, golds: int):
    """(precision, recall) after each distinct score, highest first, of predictions with these
    scores, right or not, against `golds` gold labels in all (fastText's Meter curve)."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    points, hits = [], 0
    for rank, i in enumerate(order):
        hits += bool(right[i])
        if rank + 1 == len(order) or scores[order[rank + 1]] != scores[i]:
            points.append((hits / (rank + 1), hits / golds if golds else math.nan))
    return points


def precision_at_recall(points, recall: float) -> float:
    """The best precision among the curve's points of at least this recall (0 where none)."""
    return max((p for p, r in points if r >= recall), default=0.0)


def recall_at_precision(points, precision: float) -> float:
    """The best recall among the curve's points of at least this precision (0 where none)."""
    return max((r for p, r in points if p >= precision), default=0.0)
