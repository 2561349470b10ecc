"""Property-based tests (hypothesis): every public op against its reference twin over random
shapes, dtypes, strides, padding and empty sizes; the vectors loader over random and mutated
files; the command line over hostile option values. Each property says what must hold for every
input, not for a list of examples."""
import contextlib
import io
import os
import tempfile
import warnings

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from wordembed import WordVectors, cli, ops, reference, train_vectors
from wordembed.vectors.formats import VectorsFileError

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def context_sum_cases(draw):
    V = draw(st.integers(0, 12))
    D = draw(st.integers(0, 9))
    B = draw(st.integers(0, 6))
    C = draw(st.integers(0, 5))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    layout = draw(st.sampled_from(["contiguous", "column slice", "transposed", "row slice"]))
    seed = draw(st.integers(0, 2**31))
    g = torch.Generator().manual_seed(seed)
    # the table in the requested layout, its values fixed by the seed
    if layout == "column slice":
        weight = torch.randn(V, 2 * D, generator=g, dtype=torch.float64)[:, ::2]
    elif layout == "transposed":
        weight = torch.randn(D, V, generator=g, dtype=torch.float64).t()
    elif layout == "row slice":
        weight = torch.randn(2 * V, D, generator=g, dtype=torch.float64)[::2]
    else:
        weight = torch.randn(V, D, generator=g, dtype=torch.float64)
    weight = weight.to(dtype)
    low = -1 if V > 0 else -1
    entries = draw(st.lists(st.integers(low, max(V - 1, -1)), min_size=B * C, max_size=B * C))
    context = torch.tensor(entries, dtype=draw(st.sampled_from([torch.int64, torch.int32]))).reshape(B, C)
    return weight, context, draw(st.sampled_from(["sum", "mean"]))


def tolerances(dtype):
    return dict(rtol=1e-9, atol=1e-9) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4)


@FAST
@given(case=context_sum_cases(), sparse=st.booleans())
def test_context_sum_and_its_gradients_equal_the_twin(case, sparse):
    weight, context, mode = case
    ours_w = weight.clone().requires_grad_()
    twin_w = weight.double().requires_grad_()
    out = ops.context_sum(ours_w, context, mode, sparse_grad=sparse)
    expected = reference.context_sum(twin_w, context, mode)
    assert out.shape == expected.shape and out.dtype == weight.dtype
    torch.testing.assert_close(out.double(), expected, **tolerances(weight.dtype))
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    out.backward(grad_out.to(out.dtype))
    expected.backward(grad_out)
    grad = ours_w.grad.to_dense() if ours_w.grad.is_sparse else ours_w.grad
    torch.testing.assert_close(grad.double(), twin_w.grad, **tolerances(weight.dtype))


@FAST
@given(case=context_sum_cases(), lr=st.floats(-2.0, 2.0))
def test_fused_update_equals_twin_autograd_plus_sgd(case, lr):
    weight, context, mode = case
    ours = weight.contiguous().clone().requires_grad_()
    twin = weight.double().requires_grad_()
    grad_out = torch.randn(context.shape[0], weight.shape[1], generator=torch.Generator().manual_seed(3),
                           dtype=torch.float64)
    ops.context_sum(ours, context, mode, fused_lr=lr).backward(grad_out.to(weight.dtype))
    reference.context_sum(twin, context, mode).backward(grad_out)
    assert ours.grad is None
    torch.testing.assert_close(ours.detach().double(), weight.double() - lr * twin.grad, **tolerances(weight.dtype))


@FAST
@given(case=context_sum_cases())
def test_expanded_tables_are_read_right_and_never_updated(case):
    weight, context, mode = case
    V, D = weight.shape
    assume(V > 1 and D > 0)
    expanded = weight.contiguous()[:1].expand(V, D)  # every row the same memory
    torch.testing.assert_close(ops.context_sum(expanded, context, mode).double(),
                               reference.context_sum(expanded.double(), context, mode), **tolerances(weight.dtype))
    with pytest.raises(ValueError, match="share memory"):
        ops.context_sum_sgd_(expanded, torch.zeros(context.shape[0], D, dtype=weight.dtype), context, lr=0.1)


@FAST
@given(V=st.integers(1, 10), bad=st.integers(-2**40, 2**40), mode=st.sampled_from(["sum", "mean"]))
def test_every_index_outside_the_table_is_an_index_error_in_op_and_twin(V, bad, mode):
    assume(not (-1 <= bad < V))
    weight = torch.randn(V, 3)
    context = torch.tensor([[0, bad]])
    for fn in (ops.context_sum, reference.context_sum):
        with pytest.raises(IndexError):
            fn(weight, context, mode)
    before = weight.clone()
    with pytest.raises(IndexError):
        ops.context_sum_sgd_(weight, torch.ones(1, 3), context, lr=1.0)
    assert torch.equal(weight, before)


# ---- the vectors loader: random bytes, truncations and mutated headers of valid files

def valid_files():
    words = ["king", "queen", "naïve", "日本", "a"]
    vectors = WordVectors(words, torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))
    subwords = train_vectors([words] * 20, dim=3, min_count=1, bucket=40, minn=2, maxn=3, epochs=1, threads=1)
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, saved, output_format in (("v.bin", vectors, None), ("v.txt", vectors, None), ("v.pt", vectors, None),
                                           ("ft.bin", subwords, "fasttext"), ("sw.pt", subwords, None)):
            saved.save(os.path.join(folder, name), output_format)
            with open(os.path.join(folder, name), "rb") as f:
                files[name] = f.read()
    return files


VALID = valid_files()


def load_bytes(data, name="f.bin"):
    """Loads the bytes as a vectors file: either vectors or VectorsFileError, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-finite vectors and torch's pickle notes are allowed
            try:
                vectors = WordVectors.load(path)
            except VectorsFileError as e:
                assert "\n" not in str(e), str(e)  # one line, whatever broke
                return None
            assert vectors.vectors.shape == (len(vectors), vectors.vector_size)
            return vectors


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_load_or_raise_vectors_file_error(data):
    load_bytes(data)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(VALID)), cut=st.integers(0, 10_000))
def test_every_truncation_of_a_valid_file_loads_a_prefix_or_raises(name, cut):
    data = VALID[name]
    loaded = load_bytes(data[:cut % (len(data) + 1)], name)
    if loaded is not None and cut % (len(data) + 1) < len(data) and name != "v.pt":
        assert len(loaded) <= 5


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["v.bin", "v.txt"]),
       count=st.one_of(st.integers(-5, 10), st.integers(10**6, 10**15), st.just("x")),
       dim=st.one_of(st.integers(-5, 10), st.integers(10**6, 10**15), st.just("1.5")),
       extra=st.sampled_from(["", " 7", "\r", "  "]))
def test_mutated_headers_load_or_raise_vectors_file_error(name, count, dim, extra):
    data = VALID[name]
    body = data[data.index(b"\n"):]
    loaded = load_bytes(f"{count} {dim}{extra}".encode() + body, name)
    if loaded is not None:
        assert loaded.vector_size == int(dim) and len(loaded) == min(int(count), 5)


@settings(max_examples=3000, deadline=None)
@given(name=st.sampled_from(sorted(VALID)), position=st.integers(0, 10**6), value=st.integers(0, 255))
def test_a_flipped_byte_in_any_file_loads_or_raises_in_one_line(name, position, value):
    data = bytearray(VALID[name])
    data[position % len(data)] = value
    load_bytes(bytes(data), name)


# ---- the command line's options: every hostile value is a message and exit 2, or a good run

BAD_NUMBERS = ["-1", "0", "nan", "inf", "-inf", "1e400", str(10**30), "x", "", "1.5", "-0"]
TRAIN_OPTIONS = {
    "--dim": BAD_NUMBERS + ["8"], "--window": BAD_NUMBERS + ["2", "20000"], "--negative": BAD_NUMBERS + ["3"],
    "--min-count": BAD_NUMBERS + ["1"], "--max-vocab-size": BAD_NUMBERS + ["10"],
    "--max-final-vocab": BAD_NUMBERS + ["5"],
    "--sample": BAD_NUMBERS + ["0", "1e-3"], "--epochs": [v for v in BAD_NUMBERS if v != str(10**30)] + ["1", "2"], "--alpha": BAD_NUMBERS + ["0.05"],
    "--threads": BAD_NUMBERS + ["1", "5000"], "--seed": BAD_NUMBERS + ["3"], "--init-scale": BAD_NUMBERS + ["4"],
    "--chunk-words": BAD_NUMBERS + ["100"], "--checkpoint-seconds": BAD_NUMBERS + ["0"],
    "--device": ["cpu", "cuda", "tpu", "cuda:99", ""],
}  # (a huge but valid number of epochs would train for that long: not among them)
CORPUS = "\n".join(" ".join(f"w{(i * 7 + j) % 13}" for j in range(9)) for i in range(60)) + "\n"


def run_main(argv):
    """cli.main's exit status; argparse's own usage errors count as 2 as well."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli.main(argv)
        except SystemExit as e:
            status = e.code
    return status, err.getvalue()


@settings(max_examples=150, deadline=None)
@given(options=st.dictionaries(st.sampled_from(sorted(TRAIN_OPTIONS)), st.integers(0, 100), max_size=4))
def test_train_options_are_checked_before_work_and_never_crash(options):
    with tempfile.TemporaryDirectory() as folder:
        corpus = os.path.join(folder, "c.txt")
        with open(corpus, "w") as f:
            f.write(CORPUS)
        argv = ["train", corpus, "-o", os.path.join(folder, "v.bin"), "--min-count", "1", "--epochs", "1"]
        for option, pick in options.items():
            values = TRAIN_OPTIONS[option]
            argv += [option, values[pick % len(values)]]
        status, err = run_main(argv)
        assert status in (0, 2), (argv, err)
        assert "Traceback" not in err
        if status == 2:
            assert err.strip() and not os.path.exists(os.path.join(folder, "v.bin"))
            assert sorted(os.listdir(folder)) == ["c.txt"], (argv, err)
        else:
            assert WordVectors.load(os.path.join(folder, "v.bin")).vector_size >= 1
        with open(corpus) as f:
            assert f.read() == CORPUS


QUERY_OPTIONS = {"--topn": BAD_NUMBERS + ["1", "3"], "--limit": BAD_NUMBERS + ["2", "4"]}


@settings(max_examples=150, deadline=None)
@given(command=st.sampled_from(["similar", "analogy", "plot"]),
       options=st.dictionaries(st.sampled_from(sorted(QUERY_OPTIONS)), st.integers(0, 100), max_size=2),
       word=st.sampled_from(["king", "queen", "KING", "", "naïve", "zzz"]))
def test_query_options_are_a_result_or_a_message(command, options, word):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.bin")
        with open(path, "wb") as f:
            f.write(VALID["v.bin"])
        argv = {"similar": ["similar", path, word], "analogy": ["analogy", path, "king", "queen", word],
                "plot": ["plot", path, word, "-o", os.path.join(folder, "m.png")]}[command]
        for option, pick in options.items():
            if command == "plot" and option == "--topn":
                option = "--neighbours"
            values = QUERY_OPTIONS.get(option, QUERY_OPTIONS["--topn"])
            argv += [option, values[pick % len(values)]]
        status, err = run_main(argv)
        assert status in (0, 2) and "Traceback" not in err, err
