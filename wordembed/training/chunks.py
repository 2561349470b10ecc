"""The rounds of an epoch: this rank's part of the encoded corpus cut into chunks of whole
sentences, and the chunks brought to the device one at a time (only the chunk being trained is
in memory; the rest stays on disk)."""
import torch


def plan_rounds(shard, chunk_words, strategy):
    """This rank's chunks (sentence bounds in its shard) and, for each round, the words all ranks
    together have trained before it in the epoch (one more entry: the epoch's words)."""
    encoded, first, last = shard
    bounds = encoded.chunk_bounds(chunk_words, first, last)
    words = [int(encoded.starts[b]) - int(encoded.starts[a]) for a, b in bounds]
    every = strategy.gather_plan(words)
    before = [0]
    for i in range(max(map(len, every))):
        before.append(before[-1] + sum(w[i] for w in every if i < len(w)))
    return bounds, before


def chunks_on(device, encoded, bounds, first, rounds):
    """(ids, sentence_starts) of this rank's chunks first.. on the device, then None for the
    rounds left after its shard ran out. On CUDA the next chunk is copied from pinned memory on a
    side stream while the current one trains."""
    def load(i):
        return tuple(torch.from_numpy(a) for a in encoded.chunk(*bounds[i]))

    if device.type != "cuda":
        for i in range(first, rounds):
            yield load(i) if i < len(bounds) else None
        return
    copy_stream = torch.cuda.Stream(device)

    def upload(i):
        if i >= len(bounds):
            return None
        with torch.cuda.stream(copy_stream):
            return tuple(t.pin_memory().to(device, non_blocking=True) for t in load(i))

    pending = upload(first) if first < rounds else None
    for i in range(first, rounds):
        current = pending
        torch.cuda.current_stream(device).wait_stream(copy_stream)
        for t in current or ():
            t.record_stream(torch.cuda.current_stream(device))
        pending = upload(i + 1) if i + 1 < rounds else None
        yield current
