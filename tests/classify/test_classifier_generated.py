"""The classifier's commands over generated hostile input: labelled files of any bytes, option
values of every kind, outputs that are folders, pipes, links or the input itself, and damaged
models. Every run ends as a trained model that loads and predicts finite probabilities, or as
exit status 2 with a one-line message and nothing written; never a traceback, a crash or a hang,
and never a changed input or special file."""
import contextlib
import io
import os
import re
import stat
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from wordembed import cli
from wordembed import Classifier

HOSTILE = settings(max_examples=120, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SMALL = ["--dim", "4", "--epoch", "1", "--threads", "1"]
TOKENS = [b"__label__a", b"__label__b", b"__label__", b"__label__\xc3\xa9t\xc3\xa9", b"x", b"y", b"z",
          b"\xc3\xa9t\xc3\xa9", b"w" * 3000, b"\x00", b"\xff\xfe", b"__lab", b"-", b"\xe2\x80\x8b"]
SEPARATORS = [b" ", b"\t", b"\n", b"\r\n", b"\r", b"\x0b", b"\x0c", b"  "]
GOOD_LINES = b"".join(b"__label__%c w%d x%d\n" % (97 + i % 3, i % 7, i % 3) for i in range(60))


def run(argv):
    """cli.main's exit status and its standard error (argparse's usage errors count as 2)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = cli.main([os.fspath(a) for a in argv])
        except SystemExit as e:
            status = e.code
    return status, err.getvalue()


def assert_refused_in_one_line(status, err):
    assert status == 2, err
    assert err.count("\n") == 1 and re.match(r"wordembed( [a-z-]+)?: error: ", err), err


def assert_trained_or_refused(status, err, output):
    """A model that loads and scores its own file with finite probabilities, or a one-line
    refusal that left neither the output nor a work folder behind."""
    if status == 0:
        model = Classifier.load(output)
        labels, probabilities = model.predict(["x y w1", ""], k=-1)
        assert all(0 <= p <= 1.0001 for row in probabilities for p in row)
        assert all(label in model.labels for row in labels for label in row)
    else:
        assert_refused_in_one_line(status, err)
        assert not os.path.exists(output)
    assert not os.path.exists(f"{output}.work")


@st.composite
def labelled_bytes(draw):
    tokens = draw(st.lists(st.sampled_from(TOKENS), max_size=60))
    separators = draw(st.lists(st.sampled_from(SEPARATORS), min_size=len(tokens), max_size=len(tokens)))
    body = b"".join(t + s for t, s in zip(tokens, separators))
    return draw(st.sampled_from([b"", GOOD_LINES])) + body


@HOSTILE
@given(data=labelled_bytes(), options=st.sampled_from([[], ["--word-ngrams", "2", "--bucket", "1000"],
                                                       ["--minn", "2", "--maxn", "4", "--bucket", "500"],
                                                       ["--loss", "ns"], ["--loss", "hs"], ["--loss", "ova"]]))
def test_any_labelled_file_trains_or_is_refused_in_one_line(tmp_path, data, options):
    (tmp_path / "t.txt").write_bytes(data)
    output = tmp_path / "m.bin"
    if output.exists():
        output.unlink()
    status, err = run(["supervised", tmp_path / "t.txt", "-o", output] + SMALL + options)
    assert_trained_or_refused(status, err, output)
    assert (tmp_path / "t.txt").read_bytes() == data


BAD_VALUES = ["-1", "0", "nan", "inf", "-inf", "1e400", str(10**30), "x", "", "1.5", "-0", "1e6"]
SUPERVISED_OPTIONS = {
    "--lr": BAD_VALUES + ["0.5"], "--dim": BAD_VALUES + ["3"], "--epoch": ["-1", "0", "x", "", "1.5", "2"],
    "--word-ngrams": BAD_VALUES + ["3"], "--bucket": BAD_VALUES + ["50"], "--minn": BAD_VALUES + ["2"],
    "--maxn": BAD_VALUES + ["3"], "--min-count": BAD_VALUES + ["2"], "--min-count-label": BAD_VALUES + ["1"],
    "--neg": BAD_VALUES + ["2"], "--loss": ["softmax", "ns", "hs", "ova", "", "hinge"],
    "--label-prefix": ["__label__", "", " ", "x", "__lab", "\t"], "--threads": BAD_VALUES + ["2", "5000"],
    "--seed": BAD_VALUES + ["7"], "--checkpoint-seconds": BAD_VALUES + ["0"],
}


@HOSTILE
@given(options=st.dictionaries(st.sampled_from(sorted(SUPERVISED_OPTIONS)), st.data(), max_size=4))
def test_any_option_values_train_or_are_refused_in_one_line(tmp_path, options):
    (tmp_path / "t.txt").write_bytes(GOOD_LINES)
    output = tmp_path / "m.bin"
    if output.exists():
        output.unlink()
    argv = ["supervised", tmp_path / "t.txt", "-o", output, "--dim", "4", "--epoch", "1"]
    for name, data in options.items():
        argv += [name, data.draw(st.sampled_from(SUPERVISED_OPTIONS[name]))]
    status, err = run(argv)
    assert_trained_or_refused(status, err, output)


@contextlib.contextmanager
def reader(fifo):
    """A thread that reads the named pipe to its end; yields the bytes it got (after the block)."""
    got = bytearray()

    def read():
        with open(fifo, "rb") as f:
            got.extend(f.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    yield got
    thread.join(timeout=60)
    assert not thread.is_alive()


@pytest.mark.parametrize("output", ["folder", "missing/m.bin", "t.txt", "", "link", "fifo", "read fifo",
                                    "link to fifo", "dangling link", "new\nline.bin"])
def test_any_output_is_written_where_it_points_or_refused_and_kept(tmp_path, output):
    (tmp_path / "t.txt").write_bytes(GOOD_LINES)
    (tmp_path / "folder").mkdir()
    (tmp_path / "target.bin").write_bytes(b"old")
    os.symlink(tmp_path / "target.bin", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    os.mkfifo(tmp_path / "read fifo")
    os.symlink(tmp_path / "read fifo", tmp_path / "link to fifo")
    os.symlink(tmp_path / "nowhere" / "m.bin", tmp_path / "dangling link")
    path = tmp_path / output if output else ""
    reading = reader(tmp_path / "read fifo") if "fifo" in output and output != "fifo" else contextlib.nullcontext()
    with reading as got:
        status, err = run(["supervised", tmp_path / "t.txt", "-o", path] + SMALL)
    assert (tmp_path / "t.txt").read_bytes() == GOOD_LINES
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode) and stat.S_ISFIFO(os.lstat(tmp_path / "read fifo").st_mode)
    assert os.path.islink(tmp_path / "link") and os.path.islink(tmp_path / "link to fifo")
    if output == "fifo":  # found when the model is written: after the progress lines
        assert status == 2 and err.splitlines()[-1].endswith("is a pipe that nothing reads"), err
        assert "Traceback" not in err
    elif output in ("folder", "missing/m.bin", "t.txt", "", "dangling link"):
        assert_refused_in_one_line(status, err)
    else:
        assert status == 0, err
        written = bytes(got) if got is not None else (tmp_path / ("target.bin" if output == "link" else output)).read_bytes()
        assert written[:4] == (0x2F4F16BA).to_bytes(4, "little")  # fastText's magic number
    if output != "fifo":  # a model that could not be written keeps its checkpoint for --resume
        assert not any(name.endswith(".work") for name in os.listdir(tmp_path))


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    (folder / "t.txt").write_bytes(GOOD_LINES)
    status, err = run(["supervised", folder / "t.txt", "-o", folder / "m.bin", "--word-ngrams", "2",
                       "--bucket", "64"] + SMALL)
    assert status == 0, err
    return (folder / "m.bin").read_bytes()


@HOSTILE
@given(position=st.integers(0, 10**6), value=st.integers(0, 255), cut=st.booleans(),
       command=st.sampled_from([["test"], ["predict"], ["predict-prob"], ["predict", "--k", "-1"]]))
def test_a_damaged_model_predicts_or_is_refused_in_one_line(tmp_path, model_bytes, position, value, cut, command):
    assert_damaged_model_answers_or_is_refused(tmp_path / "m.bin", model_bytes, position, value, cut, command)


def assert_damaged_model_answers_or_is_refused(path, model, position, value, cut, command):
    """The model's bytes cut at position, or with that byte changed to value, then the command."""
    data = bytearray(model)
    if cut:
        data = data[:position % len(data)]
    else:
        data[position % len(data)] = value
    path.write_bytes(bytes(data))
    (path.parent / "t.txt").write_bytes(GOOD_LINES)
    status, err = run([command[0], path, path.parent / "t.txt"] + command[1:])
    assert status == 0 or (status == 2 and err.count("\n") == 1), err


@pytest.fixture(scope="module")
def quantized_bytes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantized")
    (folder / "t.txt").write_bytes(GOOD_LINES)
    status, err = run(["supervised", folder / "t.txt", "-output", folder / "m", "--word-ngrams", "2",
                       "--bucket", "400", "-verbose", "0"] + SMALL)
    assert status == 0, err
    status, err = run(["quantize", "-output", folder / "m", "-input", folder / "t.txt", "-cutoff", "300", "-qnorm",
                       "-retrain", "-dsub", "3"])
    assert status == 0, err
    return (folder / "m.ftz").read_bytes()


@HOSTILE
@given(position=st.integers(0, 10**6), value=st.integers(0, 255), cut=st.booleans(),
       command=st.sampled_from([["test"], ["predict-prob"], ["test-label"]]))
def test_a_damaged_quantized_model_predicts_or_is_refused_in_one_line(tmp_path, quantized_bytes, position, value,
                                                                      cut, command):
    assert_damaged_model_answers_or_is_refused(tmp_path / "m.ftz", quantized_bytes, position, value, cut, command)


@HOSTILE
@given(k=st.sampled_from(["-2", "-1", "0", "1", "3", "x", "1e9", ""]),
       threshold=st.sampled_from(["-1", "0", "0.5", "1", "2", "nan", "inf", "x"]),
       data=labelled_bytes(), command=st.sampled_from(["test", "predict", "predict-prob"]))
def test_any_k_threshold_and_text_answer_or_are_refused_in_one_line(tmp_path, model_bytes, k, threshold, data,
                                                                     command):
    (tmp_path / "m.bin").write_bytes(model_bytes)
    (tmp_path / "t.txt").write_bytes(data)
    status, err = run([command, tmp_path / "m.bin", tmp_path / "t.txt", "--k", k, "--threshold", threshold])
    assert status == 0 or (status == 2 and err.count("\n") == 1), err
