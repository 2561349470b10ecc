"""The Huffman tree of the labels that hierarchical softmax ("hs") walks, built exactly as
fastText builds it from the label counts (most frequent first), so that a model file gives the
same tree here and there. Leaves are labels 0..L-1, inner nodes L..2L-2 (the root last); inner
node n is output row n - L. A label's path is the inner nodes from its parent up to the root,
each with its code: 1 where the path comes up from the node's right child."""
import numpy as np
import torch


def huffman_paths(counts):
    """(offsets (L + 1), nodes, codes) int64/int64/uint8 tensors: label l's path is
    nodes[offsets[l]:offsets[l + 1]] (output rows) with codes at the same places."""
    counts = [int(c) for c in counts]
    L = len(counts)
    size = max(2 * L - 1, 0)
    count = counts + [10**15] * (size - L)
    parent, right_child = [-1] * size, [False] * size
    leaf, node = L - 1, L
    for i in range(L, size):  # two queues: leaves (sorted by count) and the inner nodes made so far
        picked = []
        for _ in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                picked.append(leaf)
                leaf -= 1
            else:
                picked.append(node)
                node += 1
        count[i] = count[picked[0]] + count[picked[1]]
        parent[picked[0]] = parent[picked[1]] = i
        right_child[picked[1]] = True
    offsets, nodes, codes = [0], [], []
    for label in range(L):
        j = label
        while parent[j] != -1:
            nodes.append(parent[j] - L)
            codes.append(int(right_child[j]))
            j = parent[j]
        offsets.append(len(nodes))
    return (torch.tensor(offsets, dtype=torch.int64), torch.tensor(nodes, dtype=torch.int64),
            torch.tensor(codes, dtype=torch.uint8))


def padded_paths(counts):
    """(nodes, codes, mask) as (L, depth) tensors, for scoring every label at once."""
    offsets, nodes, codes = huffman_paths(counts)
    L, lengths = len(offsets) - 1, offsets.diff()
    depth = int(lengths.max()) if L else 0
    mask = torch.arange(depth)[None, :] < lengths[:, None]
    padded_nodes = torch.zeros(L, depth, dtype=torch.int64)
    padded_codes = torch.zeros(L, depth, dtype=torch.bool)
    padded_nodes[mask], padded_codes[mask] = nodes, codes.bool()
    return padded_nodes, padded_codes, mask


def noise_cdf(counts):
    """The negatives' distribution of loss "ns", as fastText's: counts^0.5, cumulative (float64)."""
    weights = np.sqrt(np.asarray(counts, dtype=np.float64))
    total = weights.sum()
    return torch.from_numpy(np.cumsum(weights) / total if total > 0 else np.zeros_like(weights))
