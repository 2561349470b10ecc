"""The command line over hostile option values (hypothesis): every value is a result, or one line
and exit status 2, and the corpus is unchanged."""
import contextlib
import io
import os
import tempfile

import torch
from hypothesis import given, settings, strategies as st

from wordembed import WordVectors, cli


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


VECTORS = WordVectors(["king", "queen", "naïve", "日本", "a"], torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))
QUERY_OPTIONS = {"--topn": BAD_NUMBERS + ["1", "3"], "--limit": BAD_NUMBERS + ["2", "4"]}


@settings(max_examples=150, deadline=None)
@given(command=st.sampled_from(["similar", "analogy", "plot"]),
       options=st.dictionaries(st.sampled_from(sorted(QUERY_OPTIONS)), st.integers(0, 100), max_size=2),
       word=st.sampled_from(["king", "queen", "KING", "", "naïve", "zzz"]))
def test_query_options_are_a_result_or_a_message(command, options, word):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "v.bin")
        VECTORS.save(path)
        argv = {"similar": ["similar", path, word], "analogy": ["analogy", path, "king", "queen", word],
                "plot": ["plot", path, word, "-o", os.path.join(folder, "m.png")]}[command]
        for option, pick in options.items():
            if command == "plot" and option == "--topn":
                option = "--neighbours"
            values = QUERY_OPTIONS.get(option, QUERY_OPTIONS["--topn"])
            argv += [option, values[pick % len(values)]]
        status, err = run_main(argv)
        assert status in (0, 2) and "Traceback" not in err, err
