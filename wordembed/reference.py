"""Pure-PyTorch twins of the operators in wordembed.ops: the oracle for tests and the baseline
for benchmarks. Nothing in the library calls these in place of the compiled operators."""
import torch
from torch import Tensor

from .arguments import bag_offsets, check_bags, check_context_sum_args, check_index_range, check_tensors, padding_row


def context_sum(weight: Tensor, context: Tensor, mode: str = "mean", *, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None, padding_idx: int | None = None,
                include_last_offset: bool = False) -> Tensor:
    """Same contract as wordembed.ops.context_sum, by embedding lookup and a masked (weighted) sum
    or mean; bags given by offsets are padded into a (B, longest) batch first."""
    check_tensors(weight=weight, context=context, offsets=offsets, per_sample_weights=per_sample_weights)
    offsets = bag_offsets(context, offsets, include_last_offset)
    mean = check_context_sum_args(weight, context, mode, offsets)
    check_bags(context, offsets, per_sample_weights, mean, weight.dtype)
    padding = padding_row(padding_idx, weight.shape[0])
    check_index_range(context, weight.shape[0])
    ids, weights = context, per_sample_weights
    if offsets is not None:  # the bags padded into a (B, longest) batch, their weights with 0
        ids = padded_bags(offsets.long(), context)
        weights = None if weights is None else padded_bags(offsets.long(), weights, fill=0)
    present = (ids != -1) & (ids != padding)
    if weight.shape[0] == 0:  # then every entry is padding: bags of nothing
        return weight.new_zeros(ids.shape[0], weight.shape[1]) + weight.sum()
    rows = torch.nn.functional.embedding(ids.clamp(min=0).long(), weight)  # (B, C, D)
    if weights is not None:
        rows = rows * weights.unsqueeze(-1)
    # Padding reads row 0, then counts as 0. Multiplying by 0 is the fast way, but a NaN or inf in
    # row 0 (or in a padding entry's weight) would survive it and reach bags that merely pad: then
    # the entries are zeroed instead.
    if bool(torch.isfinite(weight[0]).all()) and (weights is None or bool(torch.isfinite(weights).all())):
        summed = (rows * present.unsqueeze(-1).to(weight.dtype)).sum(dim=1)
    else:
        summed = rows.masked_fill(~present.unsqueeze(-1), 0).sum(dim=1)
    if mean:
        summed = summed / present.sum(dim=1, keepdim=True).clamp(min=1).to(weight.dtype)
    return summed


def ns_loss(input_vectors: Tensor, output_vectors: Tensor, context: Tensor, targets: Tensor,
                 negatives: Tensor) -> Tensor:
    """Each example's word2vec negative-sampling loss, the twin of ops.ns_step_:
    -log sigmoid(h . out[target]) - sum_k log sigmoid(-h . out[negative_k]), h = the mean of the
    context's input rows (a CBOW window, a skip-gram word, or a subword bag)."""
    hidden = context_sum(input_vectors, context, "mean")
    positive = (hidden * output_vectors[targets.long()]).sum(-1)
    negative = torch.einsum("bd,bkd->bk", hidden, output_vectors[negatives.long()])
    return -torch.nn.functional.logsigmoid(positive) - torch.nn.functional.logsigmoid(-negative).sum(-1)


def padded_bags(bag_offsets: Tensor, bag_rows: Tensor, fill=-1) -> Tensor:
    """Bags given by offsets (subword bags, or nn.EmbeddingBag's) as a (bags, longest) table of
    their values, `fill` where a bag is shorter; on the values' device, in their dtype."""
    sizes = bag_offsets.diff()
    device = bag_rows.device
    table = torch.full((len(sizes), int(sizes.max()) if len(sizes) else 0), fill, dtype=bag_rows.dtype,
                       device=device)
    bag = torch.repeat_interleave(torch.arange(len(sizes), device=device), sizes.to(device))
    table[bag, torch.arange(len(bag_rows), device=device) - bag_offsets.to(device)[:-1][bag]] = bag_rows
    return table


def _expand_bags(context: Tensor, bags: Tensor | None) -> Tensor:
    """Each word of context (E, C) replaced by its bag's rows: (E, C * longest), -1 padded."""
    if bags is None:
        return context
    rows = torch.where(context[..., None] >= 0, bags[context.clamp(min=0)], -1)
    return rows.reshape(context.shape[0], -1)


def ns_examples(ids: Tensor, sentence_starts: Tensor, keep_prob: Tensor, noise_prob: Tensor,
                noise_alias: Tensor, window: int, negative: int, generator: torch.Generator,
                skipgram: bool = False, bags: Tensor | None = None, return_centres: bool = False):
    """The training examples of a chunk, drawn as the fused op draws them (subsampling, shrinking
    window within the sentence, negatives from the alias table), in plain PyTorch. CBOW: the words
    around a kept position predict it; skip-gram: each word around a kept position predicts it
    alone (word2vec's skip-gram), all against the position's negatives.
    bags (V, longest), from padded_bags: each word stands for its subword rows. Returns context
    (E, C) of input rows with -1 padding, targets (E,), negatives (E, negative) and each
    example's sentence start in the chunk (E,); with return_centres, also each example's position
    among the kept words (E,)."""
    V = len(keep_prob)
    ids, starts = ids.long(), sentence_starts.long()
    N = len(ids)
    sentence = torch.repeat_interleave(torch.arange(len(starts) - 1), starts.diff())
    kept = keep_prob[ids] > torch.rand(N, generator=generator, dtype=torch.float64)
    words, sentence = ids[kept], sentence[kept]
    reach = window - torch.randint(0, window, (len(words),), generator=generator)
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
    where = torch.arange(len(words))[:, None] + offsets[None, :]
    inside = (where >= 0) & (where < len(words)) & (offsets.abs()[None, :] <= reach[:, None])
    where = where.clamp(0, max(len(words) - 1, 0))
    inside &= sentence[where] == sentence[:, None]
    if skipgram:  # one example per (centre, word around it): the word around predicts the centre
        centre, slot = inside.nonzero(as_tuple=True)
    else:
        centre = inside.any(1).nonzero().flatten()
    # negatives: drawn for each example; in skip-gram those of a centre's first pair serve all its
    # pairs, as the fused op shares a centre's negatives
    picks = torch.randint(0, V, (len(centre), negative), generator=generator)
    flips = torch.rand(len(centre), negative, generator=generator, dtype=torch.float64) >= noise_prob[picks]
    negatives = torch.where(flips, noise_alias[picks], picks)
    if skipgram:
        negatives = negatives[torch.searchsorted(centre, centre)]  # centre is sorted: its first pair
        context = words[where[centre, slot], None]
    else:
        context = torch.where(inside, words[where], torch.full_like(where, -1))[centre]
    target, sentence = words[centre], sentence[centre]
    if not return_centres:
        return _expand_bags(context, bags), target, negatives, starts[sentence]
    return _expand_bags(context, bags), target, negatives, starts[sentence], centre


def ns_train_chunk(input_vectors: Tensor, output_vectors: Tensor, ids: Tensor, sentence_starts: Tensor,
                   keep_prob: Tensor, noise_prob: Tensor, noise_alias: Tensor, *, window: int,
                   negative: int, lr_start: float, lr_end: float, seed: int, batch: int = 256,
                   deterministic: bool = True, full_context_update: bool = True, skipgram: bool = False,
                   bag_offsets: Tensor | None = None, bag_rows: Tensor | None = None,
                   shared_negatives: int = 0) -> Tensor:
    """The twin of ops.ns_train_chunk_ in plain PyTorch: the same kind of examples (ns_examples,
    from its own random stream), then autograd on ns_loss and plain SGD over minibatches of
    `batch` examples. With shared_negatives P >= 1, the minibatches are the fused op's blocks
    instead: the examples of P consecutive positions of a sentence, with the negatives of the
    block's first example. Slow; for tests and benchmarks."""
    if (bag_offsets is None) != (bag_rows is None):
        raise ValueError("bag_offsets and bag_rows go together: pass both or neither")
    bags = None if bag_offsets is None else padded_bags(bag_offsets.long(), bag_rows.long())
    g = torch.Generator().manual_seed(seed)
    N = len(ids)
    context, target, negatives, positions, centres = ns_examples(
        ids, sentence_starts, keep_prob, noise_prob, noise_alias, window, negative, g, skipgram, bags,
        return_centres=True)
    if shared_negatives:
        bounds = _block_bounds(positions, centres, shared_negatives)
        negatives = negatives[torch.repeat_interleave(bounds[:-1], bounds.diff())]
    else:
        bounds = torch.arange(0, len(target) + batch, batch).clamp(max=len(target)).unique()
    total = 0.0
    for b0, b1 in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        sl = slice(b0, b1)
        lr = lr_start + (lr_end - lr_start) * float(positions[b0]) / max(N, 1)
        inp = input_vectors.detach().requires_grad_()
        out = output_vectors.detach().requires_grad_()
        # negatives equal to the target are left out, as the fused op does
        mask = (negatives[sl] != target[sl, None]).to(input_vectors.dtype)
        hidden = context_sum(inp, context[sl], "mean")
        if full_context_update:  # the value of the mean, the gradient of the sum (word2vec's rule)
            summed = context_sum(inp, context[sl], "sum")
            hidden = hidden.detach() + summed - summed.detach()
        pos = (hidden * out[target[sl]]).sum(-1)
        neg = torch.einsum("bd,bkd->bk", hidden, out[negatives[sl]])
        losses = -torch.nn.functional.logsigmoid(pos) - (torch.nn.functional.logsigmoid(-neg) * mask).sum(-1)
        losses.sum().backward()
        with torch.no_grad():
            input_vectors.sub_(lr * inp.grad)
            output_vectors.sub_(lr * out.grad)
        total += float(losses.detach().double().sum())
    return torch.tensor([total, float(len(target)), float(N)], dtype=torch.float64)


def _block_bounds(sentence_of: Tensor, centres: Tensor, shared_negatives: int) -> Tensor:
    """Where the fused op's blocks begin in the list of examples (and its end): a block is the
    examples of shared_negatives consecutive positions (centres) of one sentence."""
    E = len(centres)
    if E == 0:
        return torch.zeros(1, dtype=torch.int64)
    new_position = torch.ones(E, dtype=torch.bool)
    new_position[1:] = centres[1:] != centres[:-1]
    new_sentence = torch.ones(E, dtype=torch.bool)
    new_sentence[1:] = sentence_of[1:] != sentence_of[:-1]
    rank = torch.cumsum(new_position.long(), 0) - 1                  # the position's number overall
    first = torch.cummax(torch.where(new_sentence, rank, torch.zeros_like(rank)), 0).values
    local = rank - first                                             # its number in its sentence
    starts = new_sentence | (new_position & (local % shared_negatives == 0))
    return torch.cat([starts.nonzero().flatten(), torch.tensor([E])])


_MASK64, _GOLDEN_GAMMA = (1 << 64) - 1, 0x9E3779B97F4A7C15


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def counter_uniforms(seed: int, position: int):
    """The compiled ops' counter-based stream (csrc/ns_math.h, CounterRandom): draws 0, 1, ... of a position."""
    base, k = _mix64((seed + _GOLDEN_GAMMA * (position + 1)) & _MASK64), 0
    while True:
        yield (_mix64((base + k) & _MASK64) >> 11) * 2.0**-53
        k += 1


def _line_rows(rows: Tensor, bag_offsets: Tensor, bag_rows: Tensor) -> Tensor:
    """A line's ids, each below len(bag_offsets) - 1 replaced by its bag's rows, any other kept."""
    words = len(bag_offsets) - 1
    pieces = [bag_rows[bag_offsets[r]:bag_offsets[r + 1]].long() if r < words else torch.tensor([r])
              for r in rows.tolist()]
    return torch.cat(pieces) if pieces else rows


def supervised_train_chunk(input_vectors: Tensor, output_vectors: Tensor, ids: Tensor, sentence_starts: Tensor, *,
                           loss: int, negative: int, label_cdf: Tensor, tree_offsets: Tensor, tree_nodes: Tensor,
                           tree_codes: Tensor, lr_start: float, lr_end: float, seed: int,
                           deterministic: bool = True, bag_offsets: Tensor | None = None,
                           bag_rows: Tensor | None = None) -> Tensor:
    """The twin of ops.supervised_train_chunk_, line by line in order: the same draws (one stream
    per line), then autograd on the line's loss and plain SGD. Slow; for tests and benchmarks."""
    starts, L, N = sentence_starts.tolist(), output_vectors.shape[0], len(ids)
    total, lines = 0.0, 0
    for s in range(len(starts) - 1):
        line = ids[starts[s]:starts[s + 1]].long()
        labels, rows = (-1 - line[line < 0]).tolist(), line[line >= 0]
        if bag_offsets is not None:
            rows = _line_rows(rows, bag_offsets, bag_rows)
        if not labels or not len(rows):
            continue
        draws = counter_uniforms(seed, s)
        target = None if loss == 3 else labels[int(next(draws) * len(labels))]
        inp, out = input_vectors.detach().requires_grad_(), output_vectors.detach().requires_grad_()
        hidden = inp[rows].mean(0)
        if loss == 0:
            value = torch.nn.functional.cross_entropy((out @ hidden)[None], torch.tensor([target]), reduction="sum")
        else:
            if loss == 3:
                outputs, positive = list(range(L)), [label in labels for label in range(L)]
            elif loss == 2:
                a, b = int(tree_offsets[target]), int(tree_offsets[target + 1])
                outputs, positive = tree_nodes[a:b].tolist(), [bool(c) for c in tree_codes[a:b].tolist()]
            else:
                outputs, positive = [target], [True]
                for _ in range(negative):
                    for _attempt in range(64):
                        label = min(int(torch.searchsorted(label_cdf, torch.tensor([next(draws)], dtype=label_cdf.dtype),
                                                           right=True)), L - 1)
                        if label != target:
                            outputs.append(label), positive.append(False)
                            break
            scores = out[outputs] @ hidden
            value = torch.nn.functional.softplus(torch.where(torch.tensor(positive), -scores, scores)).sum()
        value.backward()
        lr = lr_start + (lr_end - lr_start) * starts[s] / max(N, 1)
        with torch.no_grad():
            input_vectors.sub_(lr * inp.grad)
            output_vectors.sub_(lr * out.grad)
        total, lines = total + float(value.detach()), lines + 1
    return torch.tensor([total, float(lines), float(N)], dtype=torch.float64)


def nearest_centroids(points: Tensor, centroids: Tensor) -> Tensor:
    """The twin of torch.ops.wordembed.nearest_centroids: each point's nearest centroid of its
    slice by squared distance, (slices, rows) int64; the first of equal ones."""
    distances = ((points[:, :, None, :] - centroids[:, None, :, :]) ** 2).sum(-1)
    return distances.argmin(-1)
