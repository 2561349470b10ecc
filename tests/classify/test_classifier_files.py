"""The classifier and fastText, both ways: fastText reads and predicts with what wordembed writes,
wordembed reads and predicts with what fastText writes; and the command line answers as
`fasttext test` and `fasttext predict` do."""
import subprocess
import sys

import numpy as np
import pytest

from wordembed import Classifier, train_classifier
from testing import CLASSIFY_SMALL as SMALL, planted_lines, write
from testing import fasttext_supervised

fasttext = pytest.importorskip("fasttext", reason="fastText is a test peer (requirements.txt)")
LOSSES = ["softmax", "ns", "hs", "ova"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify_files")
    test_lines = planted_lines(300, 1, multi=True) + ["t1w1 unseen-word caf\u00e9", "", "__label__t2"]
    return write(folder / "train.txt", planted_lines(1500, 0, multi=True)), write(folder / "test.txt", test_lines)


def texts_of(path):
    return [" ".join(t for t in line.split(" ") if not t.startswith("__label__"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def agree(ours, theirs_model, texts, k):
    """The share of texts whose best label is the same; every probability of a label both give
    within 1e-4, or within one step of fastText's sigmoid table (512 entries over [-8, 8], read
    without interpolation: a score a rounding away from a step's edge reads the next entry,
    which moves p by up to p(1 - p) x 16/512)."""
    labels, probabilities = ours.predict(texts, k=k)
    same = 0
    for text, mine, p in zip(texts, labels, probabilities):
        their_labels, their_p = theirs_model.predict(text, k=k)
        same += mine[:1] == their_labels[:1]
        both = dict(zip(their_labels, their_p))
        for label, value in zip(mine, p):
            if label in both:
                step = 16 / 512 * value * (1 - value)
                assert abs(value - both[label]) < max(1e-4, 1.05 * step), (text, label)
    return same / len(texts)


@pytest.mark.parametrize("loss", LOSSES)
def test_fasttext_reads_and_predicts_with_our_model(data, tmp_path, loss):
    model = train_classifier(data[0], loss=loss, word_ngrams=2, bucket=20011, minn=2, maxn=4, **SMALL)
    model.save(tmp_path / "m.bin")
    theirs = fasttext.load_model(str(tmp_path / "m.bin"))
    assert list(theirs.get_labels()) == model.labels and theirs.get_dimension() == 16
    assert agree(model, theirs, texts_of(data[1]), k=3) >= 0.99
    n, p, r = theirs.test(str(data[1]), k=2)
    assert (n, pytest.approx(p), pytest.approx(r)) == model.test(data[1], k=2)


@pytest.mark.parametrize("loss", LOSSES)
def test_we_read_and_predict_with_fasttexts_model(data, tmp_path, loss):
    theirs = fasttext_supervised(fasttext, data[0], dim=16, loss=loss, wordNgrams=2, bucket=20011, minn=2, maxn=4,
                                 epoch=5, thread=2)
    theirs.save_model(str(tmp_path / "ft.bin"))
    model = Classifier.load(tmp_path / "ft.bin")
    assert model.loss == loss and model.labels == list(theirs.get_labels())
    assert agree(model, theirs, texts_of(data[1]), k=-1) >= 0.99
    n, p, r = theirs.test(str(data[1]), k=1)
    assert (n, pytest.approx(p), pytest.approx(r)) == model.test(data[1], k=1)
    for text in texts_of(data[1])[:20]:
        expected = theirs.get_sentence_vector(text)  # float32 sums: the error scales with the rows' size
        np.testing.assert_allclose(model.sentence_vector(text).numpy(), expected, rtol=1e-5,
                                   atol=1e-6 * max(1.0, float(np.abs(expected).max())))


def run_cli(*args, stdin=None):
    out = subprocess.run([sys.executable, "-m", "wordembed", *map(str, args)], input=stdin, capture_output=True)
    return out.returncode, out.stdout.decode(), out.stderr.decode()


def test_the_command_line_trains_tests_and_predicts_as_fasttext(data, tmp_path):
    code, _, err = run_cli("supervised", data[0], "-o", tmp_path / "m.bin", "--dim", 16, "--epoch", 5, "--lr", 0.5,
                           "--wordNgrams", 2, "--bucket", 10007, "--thread", 2)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]  # exactly the path asked for, nothing else
    theirs = fasttext.load_model(str(tmp_path / "m.bin"))
    n, p, r = theirs.test(str(data[1]), k=2)
    code, out, err = run_cli("test", tmp_path / "m.bin", data[1], "--k", 2)
    assert code == 0, err
    assert out == f"N\t{n}\nP@2\t{p:.3g}\nR@2\t{r:.3g}\n"
    assert run_cli("test", tmp_path / "m.bin", data[1], 2)[1] == out  # fastText's positional k
    texts = texts_of(data[1])
    code, out, err = run_cli("predict-prob", tmp_path / "m.bin", "-", 2, stdin="\n".join(texts).encode() + b"\n")
    assert code == 0, err
    lines = out.split("\n")[:-1]
    assert len(lines) == len(texts)
    for text, line in zip(texts, lines):
        labels, probabilities = theirs.predict(text, k=2)
        fields = line.split(" ")
        assert fields[0::2] == list(labels)
        np.testing.assert_allclose([float(x) for x in fields[1::2]], probabilities, rtol=1e-4, atol=1e-5)
    code, out, _ = run_cli("predict", tmp_path / "m.bin", data[1], "--k", 1)
    assert out.split("\n")[:-1] == [theirs.predict(t)[0][0] for t in texts]


def test_the_command_line_says_what_is_wrong(data, tmp_path):
    (tmp_path / "nolabel.txt").write_text("just words\n")
    for args, message in [(("supervised", tmp_path / "nolabel.txt", "-o", tmp_path / "m.bin"), "no label"),
                          (("supervised", data[0], "-o", data[0]), "output"),
                          (("supervised", data[0], "-o", tmp_path / "m.bin", "--loss", "nope"), "invalid choice"),
                          (("test", tmp_path / "missing.bin", data[1]), "not found"),
                          (("test", data[0], data[1]), "not a fastText model"),
                          (("predict", tmp_path / "missing.bin", "-"), "not found")]:
        code, _, err = run_cli(*args)
        assert code == 2 and message in err, err
        assert "Traceback" not in err
    assert not (tmp_path / "m.bin").exists() and not (tmp_path / "m.bin.work").exists()
