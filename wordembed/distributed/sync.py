"""How the ranks of a distributed run keep their tables in agreement. A round is chunk_words words
trained by each rank on its own shard; after it, one of two schemes brings the ranks' tables
together again.

- "deltas" (the default): every rank's changes since it last sent them are summed into every
  rank's tables, so that every rank's SGD steps count whole, as the threads of one process count
  theirs (Hogwild). A row costs quality by the other ranks' updates it has not seen yet, and a
  row's updates per round fall with its rank in the vocabulary (sorted by count, Zipf), so rows
  travel in tiers: the `hot_rows` (H) most frequent after every round, then the next H every 2
  rounds, the next 2H every 4, and so on (RowDeltas.spans). The exchange of a round travels while the next
  round trains; a rank sees the others' changes a round later. Its differences travel in
  bfloat16, and what the rounding leaves out stays in the table and leaves with that row's next
  difference (error feedback). At the end of every epoch, when a rank asks for it (a checkpoint,
  Ctrl-C; seen by every rank a round later) and every `full_every` rounds for a subword model's
  n-gram rows, which no tier holds, every changed row of both tables is summed in float32: only
  the rows that changed, unless most did (then the whole difference table, which is cheaper).
  It keeps a snapshot of both tables: the sums every rank has added so far.
- "average": local SGD's model averaging: after every round both tables are summed across the
  ranks and divided by their number. A step that only one rank took (a rarer word's) is divided
  by the number of ranks: with N ranks a word seen on one of them learns at 1/N of the rate.

Everything travels by all-reduce, which gloo does several times faster than all-gather; the
changed rows of a whole sync travel in one slot per rank, zeros elsewhere, so that the sum is
each rank's rows exactly. An all-reduce hands every rank the same sum, and every rank adds the
same numbers in the same order to its snapshot: after a whole sync the tables are the same on
every rank. The loss, examples, words, Ctrl-C and checkpoint flags of every rank ride along in a
small header. `bytes_sent` counts what this rank put on the wire by the ring algorithm's
arithmetic (2 (N - 1) / N times the buffer)."""
import time

import torch

_SCAN_ROWS = 1 << 16  # rows compared at a time: the comparison's temporary stays small
_HEADER = ("loss", "examples", "words", "stop", "whole")
# How RowDeltas exchanges its tiers; module settings, so that benchmarks/bench_distributed.py can
# measure each choice against the others.
WIRE_DTYPE = torch.bfloat16  # the deltas of a round's tiers as they travel (rounding stays behind)
OVERLAP = True               # the next round trains while they travel
TIERS = True                 # False: the hot rows only, every round (the rest at whole syncs)


class Sync:
    """The exchange after a round, blocking; with one rank, only its own figures."""

    def __init__(self, world, input_vectors, output_vectors, bags=None):
        self.world, self.input, self.output, self.bags = world, input_vectors, output_vectors, bags
        self.bytes_sent, self.seconds, self.count = 0, 0.0, 0

    def round(self, index, stats, stop, ids, last, checkpoint):
        """After round `index` of the epoch. stats: this rank's [loss sum, examples, words]
        (float64, CPU); stop: Ctrl-C was pressed here; ids: the word ids this rank trained this
        round, or None; last: the epoch's last round (the same on every rank); checkpoint: this
        rank asks for whole tables (the lead, when a checkpoint is due). Returns every rank's
        [loss, examples, words] not returned before (size x 3), whether to stop (the same on
        every rank), and whether the tables are now whole and the same on every rank (a
        checkpoint may be taken)."""
        started = time.perf_counter()
        self.count += 1
        header = self._header(stats, stop, checkpoint)
        if self.world.size > 1:
            self._all_reduce(header, "the sync of the loss and word counts")
        self._exchange(index, last or bool(header[:, 3:].any()))
        self.seconds += time.perf_counter() - started
        return header[:, :3], bool(header[:, 3].any()), True

    def _header(self, stats, stop, whole):
        header = torch.zeros((self.world.size, len(_HEADER)), dtype=torch.float64)
        header[self.world.rank] = torch.cat([stats, torch.tensor([float(stop), float(whole)], dtype=torch.float64)])
        return header

    def _exchange(self, index, whole):
        pass

    def _all_reduce(self, tensor, what):
        self.world.all_reduce_sum(tensor, what)
        self.bytes_sent += self._ring_bytes(tensor)

    def _ring_bytes(self, tensor):
        n = self.world.size
        return 2 * (n - 1) * tensor.numel() * tensor.element_size() // n


class TableAverage(Sync):
    """Model averaging: every table is the mean of the ranks' tables after each round."""

    def _exchange(self, index, whole):
        for table in (self.input, self.output):
            self._all_reduce(table, "the averaging of the tables")
            table.div_(self.world.size)


class RowDeltas(Sync):
    """Every rank's changes since it last sent them, summed into every rank's tables: the tiers
    of word rows after each round, overlapped with the next one; every changed row when the
    tables must be whole (the module's docstring)."""

    def __init__(self, world, input_vectors, output_vectors, bags=None, hot_rows=1024, full_every=32):
        super().__init__(world, input_vectors, output_vectors, bags)
        self.hot, self.full_every = hot_rows, full_every
        self.word_rows = output_vectors.shape[0]  # the first rows of both tables, by count
        self._trained = []  # a subword model's word ids trained since the last full sync
        self._pending = None  # the exchange in flight: (spans, header, wire, mine, handles)
        # the tables as every rank has them after the last sync (they are the same on every
        # rank when training starts or resumes)
        self.snapshot_input, self.snapshot_output = input_vectors.clone(), output_vectors.clone()

    def _pairs(self):
        return (self.input, self.snapshot_input), (self.output, self.snapshot_output)

    def spans(self, index):
        """The word rows [begin, end) that travel after round `index`: tier 0, the hot_rows most
        frequent, after every round; then tier t >= 1, rows [H 2^(t-1), H 2^t), one slice of
        H / 2 rows a round, so each of its rows every 2^t rounds. A row's interval grows with its
        rank as its frequency falls (Zipf), so every row misses about the same number of the
        other ranks' updates between two syncs, and every round sends the same amount."""
        h, rows = self.hot, self.word_rows
        if h == 0:
            return []
        spans = [(0, min(h, rows))]
        if not TIERS:
            return spans
        half, begin, tier = max(1, h // 2), h, 1
        while begin < rows:
            end = min(begin + (h << (tier - 1)), rows)
            first = begin + (index % (1 << tier)) * half
            if first < end:
                spans.append((first, min(first + half, end)))
            begin, tier = end, tier + 1
        return spans

    def round(self, index, stats, stop, ids, last, checkpoint):
        if self.bags is not None and ids is not None:  # a subword model's full sync compares these bags only
            self._trained.append(torch.unique(ids.long()))
        started = time.perf_counter()
        self.count += 1
        earlier = self._settle()
        header = self._header(stats, stop, checkpoint)
        # by the round's number in its epoch, not this process's count: a resumed run keeps the schedule
        periodic = (self.bags is not None or not TIERS) and (index + 1) % self.full_every == 0
        if last or periodic or (earlier is not None and bool(earlier[:, 3:].any())):
            # everyone knows this round must end whole: the same on every rank
            self._all_reduce(header, "the sync of the loss and word counts")
            self._full()
            if earlier is not None:
                header = header + earlier  # its figures were not returned yet; its stop is this one's
            figures, stop, whole = header[:, :3], bool(header[:, 3].any()), True
        else:
            self._launch(index, header)
            if not OVERLAP:
                earlier = self._settle()
            figures = earlier[:, :3] if earlier is not None else torch.zeros((self.world.size, 3), dtype=torch.float64)
            stop, whole = False, False
        self.seconds += time.perf_counter() - started
        return figures, stop, whole

    def _launch(self, index, header):
        """Starts the exchange of this round's header and the differences of its spans' rows; the
        next round trains meanwhile."""
        spans, dim = self.spans(index), self.input.shape[1]
        mine = self.input.new_empty(2 * sum(b - a for a, b in spans) * dim)
        self._each_span(spans, mine, lambda table, snapshot, part: torch.sub(table, snapshot, out=part))
        wire = mine.to(WIRE_DTYPE, copy=True)
        mine.copy_(wire)  # what this rank adds to the sum, as it travels; the rounding stays behind
        what = "the sync of the frequent words' rows"
        handles = [self.world.all_reduce_sum_async(header, what), self.world.all_reduce_sum_async(wire, what)]
        self.bytes_sent += self._ring_bytes(header) + self._ring_bytes(wire)
        self._pending = (spans, header, wire, mine, handles)

    def _settle(self):
        """Waits for the exchange in flight and adds the other ranks' part of it to this rank's
        tables; returns its header, or None."""
        if self._pending is None:
            return None
        spans, header, wire, mine, handles = self._pending
        self._pending = None
        for handle in handles:
            handle.wait()
        # The snapshot takes the sum as it came (the same numbers on every rank); the table, which
        # holds this rank's part already, the others' part.
        total = wire.to(mine.dtype)
        self._each_span(spans, total, lambda table, snapshot, summed: snapshot.add_(summed))
        others = total.sub_(mine)
        self._each_span(spans, others, lambda table, snapshot, part: table.add_(part))
        return header

    def _each_span(self, spans, flat, fn):
        """fn(table rows, snapshot rows, their part of flat) for every span of both tables, in the
        order _launch lays them out."""
        offset, dim = 0, self.input.shape[1]
        for table, snapshot in self._pairs():
            for a, b in spans:
                fn(table[a:b], snapshot[a:b], flat[offset:offset + (b - a) * dim].view(b - a, dim))
                offset += (b - a) * dim

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
