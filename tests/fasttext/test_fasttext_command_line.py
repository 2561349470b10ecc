"""fastText's command lines, run letter for letter as `wordembed ...`: the files they write, what
they print, and their bad forms (one line, exit 2, nothing written). fastText's pip wheel reads
what they write and scores the same models."""
import contextlib
import io
import subprocess
import sys

import numpy as np
import pytest

from testing import planted_corpus, planted_lines, write
from wordembed import WordVectors, cli
from wordembed.fasttext import load_model

fasttext = pytest.importorskip("fasttext")


def run(*args, stdin=""):
    """(exit status, stdout, stderr) of `wordembed ARGS` in this process."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main([str(a) for a in args])
            except SystemExit as e:
                status = e.code
    finally:
        sys.stdin = old_stdin
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labelled")
    lines = planted_lines(1200, seed=3)
    train = write(folder / "train.txt", sorted(lines[:1000]))  # grouped by label, as files often are
    test = write(folder / "test.txt", lines[1000:])
    status, _, err = run("supervised", "-input", train, "-output", folder / "m", "-lr", "0.5", "-epoch", "5",
                         "-wordNgrams", "2", "-bucket", "5000", "-dim", "16", "-thread", "1", "-saveOutput")
    assert status == 0, err
    return folder, train, test, err


def test_supervised_as_fasttext_spells_it_writes_bin_vec_and_output(labelled):
    folder, _, test, err = labelled
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("m.")) == ["m.bin", "m.output", "m.vec"]
    assert "Number of words:" in err and "Number of labels:" in err and "Progress: 100.0%" in err
    model = load_model(folder / "m.bin")
    vec = WordVectors.load(folder / "m.vec")
    assert vec.index_to_key == model.get_words()
    for word in model.get_words()[:20]:
        assert np.allclose(vec[word].numpy(), model.get_word_vector(word), rtol=1e-4, atol=1e-5)
    header, *rows = (folder / "m.output").read_text().splitlines()
    assert header == f"{len(model.get_labels())} 16" and [r.split()[0] for r in rows] == model.get_labels()
    theirs = fasttext.load_model(str(folder / "m.bin"))
    texts = [line.split(" ", 1)[1] for line in test.read_text().splitlines()]
    agree = np.mean([a == b for a, b in zip(theirs.predict(texts)[0], model.predict(texts)[0])])
    assert agree >= 0.99


def test_each_spelling_of_a_setting_gives_the_same_model(tmp_path):
    train = write(tmp_path / "t.txt", planted_lines(300, seed=1))
    common = ["--deterministic", "-bucket", "1000"]
    spellings = {"a": ["-lr", "0.3", "-epoch", "3", "-wordNgrams", "2", "-dim", "8", "-minCount", "1"],
                 "b": ["--lr", "0.3", "--epochs", "3", "--word-ngrams", "2", "--dim", "8", "--min-count", "1"],
                 "c": ["--lr", "0.3", "--epoch", "3", "--wordNgrams", "2", "--dim", "8", "--minCount", "1"]}
    for name, options in spellings.items():
        assert run("supervised", train, "-o", tmp_path / f"{name}.bin", *common, *options)[0] == 0
    data = {name: (tmp_path / f"{name}.bin").read_bytes() for name in spellings}
    assert data["a"] == data["b"] == data["c"]


def test_test_label_prints_fasttexts_numbers(labelled):
    folder, _, test, _ = labelled
    status, out, _ = run("test-label", folder / "m.bin", test, "2")
    assert status == 0
    theirs = fasttext.load_model(str(folder / "m.bin")).test_label(str(test), k=2)
    lines = out.splitlines()
    assert [line.split()[-1] for line in lines[:-3]] == load_model(folder / "m.bin").get_labels()  # the model's order
    for line in lines[:-3]:
        scores = theirs[line.split()[-1]]
        expected = "  ".join(f"{name} : {scores[key]:.6f}" for name, key in
                             (("F1-Score", "f1score"), ("Precision", "precision"), ("Recall", "recall")))
        assert line == expected + "   " + line.split()[-1]
    n, p, r = fasttext.load_model(str(folder / "m.bin")).test(str(test), k=2)
    assert lines[-3:] == [f"N\t{n}", f"P@2\t{p:.3f}", f"R@2\t{r:.3f}"]


def test_skipgram_writes_a_bin_fasttext_reads_and_a_vec(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 400)
    status, _, err = run("skipgram", "-input", corpus, "-output", tmp_path / "v", "-dim", "12", "-epoch", "2",
                         "-bucket", "2000", "-minCount", "2", "-thread", "1")
    assert status == 0, err
    theirs = fasttext.load_model(str(tmp_path / "v.bin"))
    ours = load_model(tmp_path / "v.bin")
    for word in ours.get_words()[:10] + ["wordnotseen"]:
        assert np.allclose(theirs.get_word_vector(word), ours.get_word_vector(word), atol=1e-6)
    assert WordVectors.load(tmp_path / "v.vec").index_to_key == ours.get_words()


def test_queries_print_what_fasttext_computes(labelled):
    folder = labelled[0]
    theirs, ours = fasttext.load_model(str(folder / "m.bin")), load_model(folder / "m.bin")
    word = ours.get_words()[3]
    _, out, _ = run("print-word-vectors", folder / "m.bin", stdin=f"{word}\n")
    assert np.allclose([float(v) for v in out.split()[1:]], theirs.get_word_vector(word), rtol=1e-4, atol=1e-6)
    _, out, _ = run("print-sentence-vectors", folder / "m.bin", stdin=f"{word} {word}\n")
    assert np.allclose([float(v) for v in out.split()], theirs.get_sentence_vector(f"{word} {word}"), rtol=1e-4,
                       atol=1e-6)
    _, out, _ = run("nn", folder / "m.bin", "3", stdin=f"{word}\n")
    answers = [line.split() for line in out.split("Query word? ")[1].splitlines()]
    assert [a[0] for a in answers] == [w for _, w in theirs.get_nearest_neighbors(word, k=3)]
    _, out, _ = run("dump", folder / "m.bin", "args")
    assert "model sup\n" in out and "loss softmax\n" in out and "wordNgrams 2\n" in out
    _, out, _ = run("dump", folder / "m.bin", "dict")
    assert out.splitlines()[0] == str(len(theirs.get_words()) + len(theirs.get_labels()))


BAD = [
    ["supervised", "{train}", "-output"],            # fastText's -output with no prefix: never -o utput
    ["supervised", "-inptu", "{train}", "-output", "{out}"],
    ["supervised", "-input", "{train}", "-output", "{out}", "-lr"],
    ["supervised", "-input", "{train}", "-output", "{out}", "-loss", "nope"],
    ["supervised", "-input", "{train}", "-o", "{out}.bin", "-output", "{out}"],
    ["supervised", "{train}", "-input", "{train}", "-output", "{out}"],
    ["supervised", "-input", "{train}", "-output", "{out}", "-epoch", "0"],
    ["supervised", "-input", "{train}", "-output", "{out}", "-autotune-validation", "{train}", "-autotune-metric",
     "f2"],
    ["supervised", "-input", "{train}", "-output", "{out}", "-autotune-validation", "{out}.missing"],
    ["supervised", "-input", "{train}", "-o", "{out}.bin", "-saveOutput"],
    ["supervised", "-input", "{train}", "-outp", "{out}"],
    ["skipgram", "-input", "{train}", "-output", "{out}", "-loss", "hs"],
    ["quantize", "-output", "{out}"],
    ["test-label", "{out}.bin"],
]


@pytest.mark.parametrize("argv", BAD, ids=[" ".join(a) for a in BAD])
def test_a_bad_command_line_is_one_line_exit_2_and_writes_nothing(tmp_path, argv):
    train = write(tmp_path / "t.txt", planted_lines(50))
    argv = [a.format(train=train, out=tmp_path / "m") for a in argv]
    result = subprocess.run([sys.executable, "-m", "wordembed", *argv], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.txt"]


def test_an_unknown_option_is_named_with_the_closest_one():
    status, _, err = run("supervised", "-inptu", "x", "-output", "m")
    assert status == 2 and "unknown option -inptu (did you mean -input?)" in err and "wordembed supervised" in err


def test_the_compiled_vec_writer_reads_back_exactly_as_the_python_one(tmp_path):
    from wordembed.cli.fasttext_commands import save_text_vectors
    from wordembed.vectors.formats import save_word2vec
    rng = np.random.default_rng(0)
    matrix = (rng.standard_normal((700, 7)) * 10.0 ** rng.integers(-40, 38, (700, 7))).astype(np.float32)
    matrix[0] = [0.0, -0.0, 1.0, -1.5, 3.4028235e38, 1e-45, np.float32(0.1)]
    words = [f"w{i}é日" for i in range(700)]
    save_text_vectors(tmp_path / "fast.vec", words, matrix, rows_per_call=256)
    save_word2vec(tmp_path / "python.vec", words, matrix, binary=False)
    fast, python = WordVectors.load(tmp_path / "fast.vec"), WordVectors.load(tmp_path / "python.vec")
    assert fast.index_to_key == python.index_to_key == words
    assert np.array_equal(fast.vectors.numpy(), matrix) and np.array_equal(python.vectors.numpy(), matrix)
    with pytest.raises(ValueError, match="whitespace"):
        save_text_vectors(tmp_path / "bad.vec", ["a b"], matrix[:1])
