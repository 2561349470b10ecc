"""How the ranks of a distributed run keep their tables in agreement. A round is chunk_words words
trained by each rank on its own shard; after it, one of two schemes brings the ranks' tables
together again.

- "deltas" (the default): every rank's changes since the last sync are summed into the tables of
  that sync (the snapshot), so that every rank's SGD steps count whole, as the threads of one
  process count theirs (Hogwild). The rows of the most frequent words (`hot_rows` of them: the
  vocabulary is sorted by count) change in every round on every rank, and a stale view of them
  costs quality, so they are summed after every round; all other changed rows every
  `full_every` rounds, at the end of every epoch, before every checkpoint and when the run stops.
  That full sync sends only the rows that changed, unless most did: then the whole difference
  table, which is then cheaper. It costs a snapshot of both tables in memory.
- "average": local SGD's model averaging: after every round both tables are summed across the
  ranks and divided by their number. A step that only one rank took (a rarer word's) is divided
  by the number of ranks: with N ranks a word seen on one of them learns at 1/N of the rate.

Everything travels by all-reduce, which gloo does several times faster than all-gather; the
changed rows of a full sync travel in one slot per rank, zeros elsewhere, so that the sum is
each rank's rows exactly. An all-reduce hands every rank the same sum, and every rank adds the
same numbers in the same order: after a full sync the tables are the same on every rank. The loss, examples, words, Ctrl-C and checkpoint flags of every rank ride
along in a small header. `bytes_sent` counts what this rank put on the wire by the ring
algorithm's arithmetic (2 (N - 1) / N times the buffer)."""
import time

import torch

_SCAN_ROWS = 1 << 16  # rows compared at a time: the comparison's temporary stays small
_HEADER = ("loss", "examples", "words", "stop", "full")


class Sync:
    """The exchange after a round; with one rank, only its own figures."""

    def __init__(self, world, input_vectors, output_vectors, bags=None):
        self.world, self.input, self.output, self.bags = world, input_vectors, output_vectors, bags
        self.bytes_sent, self.seconds = 0, 0.0

    def round(self, index, stats, stop, ids, full):
        """index: the round's number in its epoch; stats: this rank's [loss sum, examples, words]
        (float64, CPU); stop: Ctrl-C was pressed here; ids: the word ids this rank trained this
        round, or None; full: this rank needs the tables whole now (the epoch's end, or a
        checkpoint). Returns every rank's [loss, examples, words] (size x 3), whether any rank
        stopped, and whether the tables are now whole and the same on every rank (a checkpoint
        may be taken)."""
        started = time.perf_counter()
        header = torch.zeros((self.world.size, len(_HEADER)), dtype=torch.float64)
        header[self.world.rank] = torch.cat([stats, torch.tensor([float(stop), float(full)], dtype=torch.float64)])
        if self.world.size > 1:
            self._all_reduce(header, "the sync of the loss and word counts")
        stop, full = bool(header[:, 3].any()), bool(header[:, 4].any())
        whole = self._exchange(index, full or stop)
        self.seconds += time.perf_counter() - started
        return header[:, :3], stop, whole

    def _exchange(self, index, full):
        return True

    def _all_reduce(self, tensor, what):
        n = self.world.size
        self.world.all_reduce_sum(tensor, what)
        self.bytes_sent += 2 * (n - 1) * tensor.numel() * tensor.element_size() // n


class TableAverage(Sync):
    """Model averaging: every table is the mean of the ranks' tables after each round."""

    def _exchange(self, index, full):
        for table in (self.input, self.output):
            self._all_reduce(table, "the averaging of the tables")
            table.div_(self.world.size)
        return True


class RowDeltas(Sync):
    """Every rank's changes since the last sync, summed into the snapshot: the hot rows after
    every round, all rows every full_every rounds and whenever a rank asks for it."""

    def __init__(self, world, input_vectors, output_vectors, bags=None, hot_rows=4096, full_every=8):
        super().__init__(world, input_vectors, output_vectors, bags)
        self.hot, self.full_every = min(hot_rows, output_vectors.shape[0]), full_every
        self._trained = []  # a subword model's word ids trained since the last full sync
        # the tables as every rank has them after the last sync (they are the same on every
        # rank when training starts or resumes)
        self.snapshot_input, self.snapshot_output = input_vectors.clone(), output_vectors.clone()

    def _exchange(self, index, full):
        # by the round's number, not this process's count: a resumed run keeps the schedule
        if full or (index + 1) % self.full_every == 0:
            self._full()
            return True
        k, pairs = self.hot, ((self.input, self.snapshot_input), (self.output, self.snapshot_output))
        deltas = torch.cat([table[:k] - snapshot[:k] for table, snapshot in pairs])
        self._all_reduce(deltas, "the sync of the frequent words' rows")
        for (table, snapshot), delta in zip(pairs, deltas.split(k)):
            snapshot[:k] += delta
            table[:k] = snapshot[:k]
        return False

    def _input_candidates(self):
        """Input rows a subword model may have changed since the last full sync: the bags of the
        words trained; None (every row) for a word table, which is cheaper to compare whole."""
        if self.bags is None:
            return None
        offsets, rows = self.bags
        words = torch.unique(torch.cat(self._trained)) if self._trained else offsets.new_zeros(0)
        begin, lengths = offsets[words], offsets[words + 1] - offsets[words]
        starts = torch.repeat_interleave(begin - torch.cumsum(lengths, 0) + lengths, lengths)
        return torch.unique(rows[starts + torch.arange(int(lengths.sum()), device=rows.device)])

    def round(self, index, stats, stop, ids, full):
        if self.bags is not None and ids is not None:  # a subword model's full sync compares these bags only
            self._trained.append(torch.unique(ids.long()))
        return super().round(index, stats, stop, ids, full)

    def _full(self):
        tables = ((self.input, self.snapshot_input, self._input_candidates()),
                  (self.output, self.snapshot_output, None))
        self._trained = []
        changes = [_changes(table, snapshot, candidates) for table, snapshot, candidates in tables]
        counts = torch.zeros((self.world.size, 2), dtype=torch.int64)
        counts[self.world.rank] = torch.tensor([len(change.rows) for change in changes])
        self._all_reduce(counts, "the counting of changed rows")
        for (table, snapshot, _), change, column in zip(tables, changes, counts.t().tolist()):
            width = max(column)
            if width == 0:
                continue
            if self.world.size * width * 2 >= table.shape[0]:  # most rows changed: the whole table is cheaper
                delta = change.whole()
                self._all_reduce(delta, "the sync of the tables")
                snapshot += delta
                table.copy_(snapshot)
                continue
            slot_rows = torch.zeros((self.world.size, width), dtype=torch.int64, device=table.device)
            slot_rows[self.world.rank, :len(change.rows)] = change.rows
            slots = torch.zeros((self.world.size, width, table.shape[1]), dtype=table.dtype, device=table.device)
            slots[self.world.rank, :len(change.rows)] = change.deltas()
            self._all_reduce(slot_rows, "the exchange of changed rows")
            self._all_reduce(slots, "the exchange of changed rows")
            touched = []
            for rank, n in enumerate(column):  # rank order: the same sums on every rank
                snapshot.index_add_(0, slot_rows[rank, :n], slots[rank, :n])
                touched.append(slot_rows[rank, :n])
            touched = torch.unique(torch.cat(touched))
            table.index_copy_(0, touched, snapshot.index_select(0, touched))


class _Changes:
    """The rows of a table that moved since the snapshot, with their differences: as a whole
    difference table (for a dense all-reduce) or as rows and their differences (for a sparse one)."""

    def __init__(self, table, rows, delta=None, row_deltas=None):
        self.table, self.rows, self._delta, self._row_deltas = table, rows, delta, row_deltas

    def whole(self):
        if self._delta is not None:
            return self._delta
        delta = torch.zeros_like(self.table)
        delta[self.rows] = self._row_deltas
        return delta

    def deltas(self):
        return self._row_deltas if self._row_deltas is not None else self._delta.index_select(0, self.rows)


def _changes(table, snapshot, candidates):
    """The rows of candidates (None: every row, compared in one pass) where the table moved since
    the snapshot; candidates are compared a block at a time, so the temporaries stay small."""
    if candidates is None:
        delta = table - snapshot
        return _Changes(table, torch.nonzero(delta.abs().amax(1) != 0).view(-1), delta=delta)  # (NaN moved too)
    rows, deltas = [], []
    for begin in range(0, len(candidates), _SCAN_ROWS):
        block = candidates[begin:begin + _SCAN_ROWS]
        delta = table.index_select(0, block) - snapshot.index_select(0, block)
        moved = torch.nonzero(delta.abs().amax(1) != 0).view(-1)
        rows.append(block.index_select(0, moved))
        deltas.append(delta.index_select(0, moved))
    if not rows:
        return _Changes(table, candidates.new_zeros(0), row_deltas=table.new_zeros((0, table.shape[1])))
    return _Changes(table, torch.cat(rows), row_deltas=torch.cat(deltas))


def sync_for(world, config, input_vectors, output_vectors, bags=None):
    if world.size == 1:
        return Sync(world, input_vectors, output_vectors, bags)
    if config.sync == "average":
        return TableAverage(world, input_vectors, output_vectors, bags)
    return RowDeltas(world, input_vectors, output_vectors, bags, config.sync_hot_rows, config.sync_full_every)
