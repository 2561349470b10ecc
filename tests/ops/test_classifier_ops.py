"""The classifier's compiled ops against their twins: a chunk of labelled lines trained by
supervised_train_chunk_ (every loss) equals the reference twin line by line, in float64 and
float32; the registrations pass opcheck; bad input changes nothing; fill_uniform_ draws what the
twin's stream draws, whatever the thread count."""
import pytest
import torch

from wordembed import ops, reference
from wordembed.classify.tree import huffman_paths, noise_cdf

LOSSES = {"softmax": 0, "ns": 1, "hs": 2, "ova": 3}
COUNTS = [10, 8, 5, 3, 2, 1]


def chunk(rows=50, labels=len(COUNTS), lines=40, seed=1):
    """Lines of 1-2 labels (possibly repeated) then 0-5 rows (possibly repeated); some have no row."""
    g = torch.Generator().manual_seed(seed)
    ids, starts = [], [0]
    for _ in range(lines):
        nl, nr = int(torch.randint(1, 3, (1,), generator=g)), int(torch.randint(0, 6, (1,), generator=g))
        ids += [-1 - int(x) for x in torch.randint(0, labels, (nl,), generator=g)]
        ids += torch.randint(0, rows, (nr,), generator=g).tolist()
        starts.append(len(ids))
    return torch.tensor(ids, dtype=torch.int32), torch.tensor(starts)


def settings(loss, counts=COUNTS):
    offsets, nodes, codes = huffman_paths(counts)
    return dict(loss=LOSSES[loss], negative=3, label_cdf=noise_cdf(counts), tree_offsets=offsets, tree_nodes=nodes,
                tree_codes=codes, lr_start=0.5, lr_end=0.1, seed=7, deterministic=True)


def tables(dtype, rows=50, labels=len(COUNTS), dim=8):
    g = torch.Generator().manual_seed(0)
    return torch.rand(rows, dim, generator=g, dtype=dtype) - 0.5, torch.rand(labels, dim, generator=g, dtype=dtype) - 0.5


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_chunk_trains_as_the_twin_does(loss, dtype):
    ids, starts = chunk()
    fused, twin = tables(dtype), tables(dtype)
    a = ops.supervised_train_chunk_(*fused, ids, starts, **settings(loss))
    b = reference.supervised_train_chunk(*twin, ids, starts, **settings(loss))
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a, b, **tol)
    torch.testing.assert_close(fused[0], twin[0], **tol)
    torch.testing.assert_close(fused[1], twin[1], **tol)
    assert a[1] == sum(1 for s in range(len(starts) - 1) if (ids[starts[s]:starts[s + 1]] >= 0).any())


def bags(words=20, rows=50, seed=2):
    """Words 0..words-1 as bags of their own row and 0-4 other rows (with repeats)."""
    g = torch.Generator().manual_seed(seed)
    offsets, members = [0], []
    for w in range(words):
        members += [w] + torch.randint(words, rows, (int(torch.randint(0, 5, (1,), generator=g)),), generator=g).tolist()
        offsets.append(len(members))
    return torch.tensor(offsets), torch.tensor(members)


@pytest.mark.parametrize("loss", LOSSES)
def test_words_given_as_bags_train_as_the_twin_and_as_their_rows_written_out(loss):
    ids, starts = chunk()
    offsets, members = bags()
    with_bags = dict(settings(loss), bag_offsets=offsets, bag_rows=members)
    fused, twin, written = tables(torch.float64), tables(torch.float64), tables(torch.float64)
    a = ops.supervised_train_chunk_(*fused, ids, starts, **with_bags)
    b = reference.supervised_train_chunk(*twin, ids, starts, **with_bags)
    tol = dict(rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(a[:2], b[:2], **tol)
    torch.testing.assert_close(fused, twin, **tol)
    # the same lines with each bag written out in the stream
    lines = [ids[starts[s]:starts[s + 1]].tolist() for s in range(len(starts) - 1)]
    out = [[r for i in line for r in (members[offsets[i]:offsets[i + 1]].tolist() if 0 <= i < 20 else [i])]
           for line in lines]
    flat = torch.tensor([i for line in out for i in line], dtype=torch.int32)
    flat_starts = torch.tensor([0] + [len(line) for line in out]).cumsum(0)
    # (the learning rate follows the position in the stream, which bags shorten: held constant)
    bagged = tables(torch.float64)
    c = ops.supervised_train_chunk_(*written, flat, flat_starts, **dict(settings(loss), lr_end=0.5))
    d = ops.supervised_train_chunk_(*bagged, ids, starts, **dict(with_bags, lr_end=0.5))
    torch.testing.assert_close(c[:2], d[:2], **tol)
    torch.testing.assert_close(written, bagged, **tol)


def test_bags_are_checked_before_anything_moves():
    ids, starts = chunk()
    inp, out = tables(torch.float32)
    before = inp.clone()
    offsets, members = bags()
    for bad, message in (((offsets, None), "go together"), ((offsets[:-1] * 0, members), "bag_offsets must begin"),
                         ((offsets, members + 1000), "out of range"),
                         ((torch.arange(60), torch.arange(59)), "at most 51")):
        with pytest.raises((ValueError, IndexError), match=message):
            ops.supervised_train_chunk_(inp, out, ids, starts, **dict(settings("softmax"), bag_offsets=bad[0],
                                                                         bag_rows=bad[1]))
    assert torch.equal(inp, before)


def test_hogwild_threads_train_every_line_once():
    ids, starts = chunk(lines=400)
    inp, out = tables(torch.float32)
    stats = ops.supervised_train_chunk_(inp, out, ids, starts, **dict(settings("softmax"), deterministic=False))
    assert stats[2] == len(ids) and torch.isfinite(inp).all() and torch.isfinite(out).all()


@pytest.mark.parametrize("loss", LOSSES)
def test_opcheck(loss):
    ids, starts = chunk(lines=8)
    torch.library.opcheck(torch.ops.wordembed.supervised_train_chunk_.default,
                          (*tables(torch.float32), ids, starts, LOSSES[loss], 3, *list(settings(loss).values())[2:6],
                           0.1, 0.01, 3, True))
    torch.library.opcheck(torch.ops.wordembed.fill_uniform_.default, (torch.empty(5, 3), 4, 0.5))


def test_bad_input_is_an_error_that_changes_nothing():
    ids, starts = chunk(lines=8)
    for bad_ids, message in [(torch.cat([ids, torch.tensor([-99], dtype=torch.int32)]), "label"),
                             (torch.cat([ids, torch.tensor([50], dtype=torch.int32)]), "row")]:
        inp, out = tables(torch.float32)
        before = inp.clone(), out.clone()
        with pytest.raises(IndexError, match=message):
            ops.supervised_train_chunk_(inp, out, bad_ids, torch.cat([starts, torch.tensor([len(bad_ids)])]),
                                        **settings("softmax"))
        assert torch.equal(inp, before[0]) and torch.equal(out, before[1])
    with pytest.raises(ValueError, match="label_cdf"):
        ops.supervised_train_chunk_(*tables(torch.float32), ids, starts, **dict(settings("ns"), label_cdf=torch.ones(2)))
    with pytest.raises(ValueError, match="tree"):
        ops.supervised_train_chunk_(*tables(torch.float32), ids, starts,
                                    **dict(settings("hs"), tree_offsets=torch.zeros(3, dtype=torch.int64)))
    with pytest.raises(ValueError, match="sentence_starts"):
        ops.supervised_train_chunk_(*tables(torch.float32), ids, starts[:-1], **settings("softmax"))


def test_negatives_are_never_the_label_and_one_label_trains():
    ids = torch.tensor([-1, 0, 1], dtype=torch.int32)
    starts = torch.tensor([0, 3])
    inp, out = tables(torch.float64, labels=1)
    stats = ops.supervised_train_chunk_(inp, out, ids, starts, **settings("ns", counts=[4]))
    assert stats[1] == 1 and torch.isfinite(inp).all()  # no other label to draw: no negative, no hang


def test_fill_uniform_draws_the_twins_stream_on_any_thread_count():
    table = torch.empty(3000, 7, dtype=torch.float64)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        ops.fill_uniform_(table, 11, 0.25)
        torch.set_num_threads(max(2, threads))
        again = ops.fill_uniform_(torch.empty(3000, 7, dtype=torch.float64), 11, 0.25)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(table, again)
    draws = reference.counter_uniforms(11, 2999)
    expected = torch.tensor([(2 * next(draws) - 1) * 0.25 for _ in range(7)], dtype=torch.float64)
    torch.testing.assert_close(table[2999], expected, rtol=0, atol=1e-15)
    assert table.abs().max() <= 0.25 and abs(float(table.mean())) < 0.01
