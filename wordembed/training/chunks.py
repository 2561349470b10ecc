"""The rounds of an epoch: which of this rank's sentences each round trains, in what order, and
the chunks brought to the device one at a time (only the chunk being trained is in memory; the
rest stays on disk).

Real files are grouped by class, sorted by date or id, concatenated from sources; trained in
file order, the last groups of every epoch dominate (a classifier then predicts mostly the
labels at the file's end). So each epoch visits the sentences in a fresh order drawn from the
seed, the epoch and the rank, in two stages that never hold more than a chunk in memory:
1. the shard is cut once into blocks of whole sentences, about 1/BLOCKS_PER_CHUNK of a chunk
   each; every epoch permutes the blocks, and a round's chunk is the next blocks up to its
   chunk_words words (about BLOCKS_PER_CHUNK of them), each read from wherever it lies in the
   encoded file;
2. the chunk's sentences are then shuffled among themselves.
Every chunk is so a sample of the whole shard, and neighbouring sentences of the file end up
apart. It costs 8 bytes per block, two positioned reads per block and one copy of each chunk.
The order depends on nothing else (not on the rounds before it): a run resumed mid-epoch
visits the rest of the epoch as an uninterrupted run would. shuffle=False keeps file order:
the shard cut into consecutive chunks of whole sentences."""
import numpy as np
import torch

# Lines of one block stay in one chunk: the more blocks a chunk holds, the closer its labels'
# mix is to the whole file's. WordNet's glosses in WordNet's order (one class after another,
# about 50 glosses a block at 256) scored P@1 0.716 at 256 and 1,024 blocks a chunk, as the same
# file shuffled did, and 0.707 at 64 (medians of 3 seeds), for the same epoch time.
BLOCKS_PER_CHUNK = 256
_BLOCK_ORDER, _SENTENCE_ORDER = 0, 1  # which draw a random stream is for


class EpochOrder:
    """The chunks of this rank's shard, epoch by epoch: for each round the blocks it reads."""

    def __init__(self, shard, chunk_words, seed, shuffle, rank=0):
        self.encoded, first, end = shard
        self.seed, self.shuffle, self.rank, self.chunk_words = seed, shuffle, rank, chunk_words
        if shuffle:
            self.bounds, offsets = self.encoded.block_bounds(max(1, chunk_words // BLOCKS_PER_CHUNK), first, end)
        else:  # a block a chunk
            cuts = [last for _, last in self.encoded.chunk_bounds(chunk_words, first, end)]
            self.bounds = np.array([first] + cuts, dtype=np.int64)
            offsets = np.asarray(self.encoded.starts[self.bounds], dtype=np.int64)
        self.block_words = np.diff(offsets)

    def _random(self, *stream):
        return np.random.default_rng([self.seed, self.rank, *stream])

    def chunks(self, epoch):
        """This epoch's chunks, in the order they train: each an array of block numbers. Shuffled,
        a chunk is the blocks (in the epoch's order) that start within its chunk_words of the
        epoch's words: about chunk_words words, whatever the sentences' lengths, so that their
        number may differ by one from epoch to epoch."""
        blocks = len(self.block_words)
        if not self.shuffle:
            return [np.array([b]) for b in range(blocks)]
        order = self._random(_BLOCK_ORDER, epoch).permutation(blocks)
        before = np.cumsum(self.block_words[order]) - self.block_words[order]  # the epoch's words before each
        chunk_of = before // self.chunk_words
        return np.split(order, np.flatnonzero(np.diff(chunk_of)) + 1) if blocks else []

    def words(self, chunks):
        """The words of each chunk."""
        return [int(self.block_words[blocks].sum()) for blocks in chunks]

    def load(self, epoch, index, blocks):
        """(ids, sentence_starts) of the index-th chunk of the epoch, as numpy arrays."""
        ranges = np.stack([self.bounds[blocks], self.bounds[blocks + 1]], axis=1)
        order = None
        if self.shuffle:
            sentences = int((ranges[:, 1] - ranges[:, 0]).sum())
            order = self._random(_SENTENCE_ORDER, epoch, index).permutation(sentences)
        return self.encoded.gather(ranges, order)


def plan_rounds(words, strategy):
    """For each round of an epoch whose chunks on this rank have `words` words, the words all
    ranks together have trained before it in the epoch (one more entry: the epoch's words)."""
    every = strategy.gather_plan(words)
    before = [0]
    for i in range(max(map(len, every))):
        before.append(before[-1] + sum(w[i] for w in every if i < len(w)))
    return before


def chunks_on(device, order, epoch, chunks, first, rounds):
    """(ids, sentence_starts) of this rank's chunks first.. of the epoch on the device, then None
    for the rounds left after its shard ran out. On CUDA the next chunk is copied from pinned
    memory on a side stream while the current one trains."""
    def load(i):
        return tuple(torch.from_numpy(a) for a in order.load(epoch, i, chunks[i]))

    if device.type != "cuda":
        for i in range(first, rounds):
            yield load(i) if i < len(chunks) else None
        return
    copy_stream = torch.cuda.Stream(device)

    def upload(i):
        if i >= len(chunks):
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
