"""fastText's quantize (wordembed/training/quantize.py) and its .ftz, against fastText's own
module (the pip wheel): each loads what the other wrote and predicts the same labels."""
import os
import subprocess
import sys

import pytest
import torch

import wordembed.fasttext as ours
from wordembed import Classifier, quantize_classifier
from wordembed.errors import TrainingError
from wordembed.text import labelled
from testing import fasttext_supervised, planted_lines, write

fasttext = pytest.importorskip("fasttext")
SETTINGS = dict(epoch=5, lr=0.5, wordNgrams=2, dim=16, bucket=5000, thread=1)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantize")
    lines = planted_lines(1500, seed=11)
    texts = [" ".join(t for t in line.split() if not t.startswith("__label__")) for line in lines[1200:]]
    return (folder, write(folder / "train.txt", sorted(lines[:1200])), write(folder / "test.txt", lines[1200:]),
            texts)


def agreement(a, b, texts):
    return sum(a.predict(t)[0] == b.predict(t)[0] for t in texts) / len(texts)


@pytest.mark.parametrize("settings", [dict(cutoff=1000, retrain=True, qnorm=True), dict(cutoff=500),
                                      dict(dsub=4, qnorm=True), dict(cutoff=300, dsub=3)],
                         ids=["cutoff-retrain-qnorm", "cutoff", "dsub4-qnorm", "cutoff-dsub3"])
def test_fasttext_loads_our_ftz_and_predicts_as_we_do(files, settings):
    folder, train, test, texts = files
    model = ours.train_supervised(input=str(train), verbose=0, **SETTINGS)
    model.quantize(input=str(train), **settings)
    assert model.is_quantized()
    path = str(folder / "ours.ftz")
    model.save_model(path)
    theirs = fasttext.load_model(path)
    assert theirs.is_quantized() and theirs.get_words() == model.get_words()
    assert agreement(model, theirs, texts) >= 0.99
    assert theirs.test(str(test))[1] == pytest.approx(model.test(str(test))[1], abs=0.01)
    again = ours.load_model(path)
    assert again.is_quantized() and agreement(model, again, texts) == 1.0


@pytest.mark.parametrize("settings", [dict(cutoff=1000, retrain=True, qnorm=True), dict(dsub=2)],
                         ids=["cutoff-retrain-qnorm", "whole"])
def test_we_load_fasttexts_ftz_and_predict_as_it_does(files, settings):
    folder, train, test, texts = files
    theirs = fasttext_supervised(fasttext, train, **{k: v for k, v in SETTINGS.items() if k != "thread"})
    theirs.quantize(input=str(train), **settings)
    path = str(folder / "theirs.ftz")
    theirs.save_model(path)
    mine = ours.load_model(path)
    assert mine.is_quantized() and mine.get_words() == theirs.get_words()
    assert agreement(mine, theirs, texts) >= 0.99
    assert mine.test(str(test)) == pytest.approx(theirs.test(str(test)), abs=0.005)
    for word in mine.get_words()[:10] + ["neverseen"]:
        assert list(mine.get_subwords(word)[1]) == list(theirs.get_subwords(word)[1])
        assert torch.allclose(torch.from_numpy(mine.get_word_vector(word)),
                              torch.from_numpy(theirs.get_word_vector(word)), atol=1e-5)
    mine.save_model(str(folder / "again.ftz"))
    assert os.path.getsize(folder / "again.ftz") == os.path.getsize(path)


def test_the_ftz_is_no_larger_than_fasttexts_at_the_same_cutoff(files):
    folder, train, _, _ = files
    model = ours.train_supervised(input=str(train), verbose=0, **SETTINGS)
    theirs = fasttext_supervised(fasttext, train, **{k: v for k, v in SETTINGS.items() if k != "thread"})
    model.quantize(cutoff=800, qnorm=True)
    theirs.quantize(cutoff=800, qnorm=True)
    model.save_model(str(folder / "a.ftz"))
    theirs.save_model(str(folder / "b.ftz"))
    assert os.path.getsize(folder / "a.ftz") <= os.path.getsize(folder / "b.ftz") + 64  # the dictionary may differ


def test_pruned_lines_keep_only_the_buckets_kept():
    ids = torch.tensor([-1, 0, 5, 7, -2, 1, 6], dtype=torch.int32)
    starts = torch.tensor([0, 4, 7])
    bucket_rows = torch.tensor([-1, 0, -1, 1])  # nwords 4: ids 4..7 are buckets 0..3
    kept, kept_starts = labelled.keep_bucket_rows(ids, starts, 4, bucket_rows)
    assert kept.tolist() == [-1, 0, 4, 5, -2, 1] and kept_starts.tolist() == [0, 4, 6]


def test_quantize_refuses_what_fasttext_cannot_do(files):
    _, train, _, _ = files
    model = ours.train_supervised(input=str(train), verbose=0, **SETTINGS)
    classifier = model.classifier
    with pytest.raises(TrainingError, match="at least 256 labels"):
        quantize_classifier(classifier, qout=True)
    with pytest.raises(TrainingError, match="at least 256 input rows"):
        quantize_classifier(classifier, cutoff=100)
    with pytest.raises(TrainingError, match="needs the labelled file"):
        quantize_classifier(classifier, cutoff=1000, retrain=True)
    with pytest.raises(TrainingError, match="cutoff"):
        quantize_classifier(classifier, cutoff=-1)
    with pytest.raises(TrainingError, match="quantized already"):
        quantize_classifier(quantize_classifier(classifier, cutoff=1000))
    with pytest.raises(TypeError):
        quantize_classifier(classifier, cutof=1000)
    with pytest.raises(ValueError, match="quantized model's matrices"):
        model.quantize(cutoff=1000) or model.get_input_matrix()


def run(*argv, cwd=None):
    done = subprocess.run([sys.executable, "-m", "wordembed", *map(str, argv)], capture_output=True, text=True,
                          cwd=cwd)
    return done.returncode, done.stdout, done.stderr


def test_the_command_line_as_fasttext_spells_it(files, tmp_path):
    _, train, test, _ = files
    prefix = tmp_path / "m"
    assert run("supervised", "-input", train, "-output", prefix, "-dim", 16, "-bucket", 5000, "-wordNgrams", 2,
               "-lr", 0.5, "-verbose", 0)[0] == 0
    code, _, err = run("quantize", "-output", prefix, "-input", train, "-qnorm", "-retrain", "-epoch", 1,
                       "-cutoff", 1000)
    assert code == 0, err
    assert os.path.getsize(f"{prefix}.ftz") < os.path.getsize(f"{prefix}.bin")
    code, out, err = run("test", f"{prefix}.ftz", test)
    assert code == 0, err
    assert fasttext.load_model(f"{prefix}.ftz").test(str(test))[0] == int(out.split()[1])
    code, _, err = run("quantize", f"{prefix}.bin", "-o", tmp_path / "other.ftz", "--cutoff", 600, "--dsub", 4)
    assert code == 0 and Classifier.load(tmp_path / "other.ftz").is_quantized, err


@pytest.mark.parametrize("argv", [["-output", "{p}", "-retrain", "-cutoff", "1000"],
                                  ["-output", "{p}", "-cutoff", "1000", "-cutof", "5"],
                                  ["-output", "{p}", "-qout"],
                                  ["{p}.bin"],
                                  ["-output", "{p}", "-dsub", "0"],
                                  ["-output", "{p}x"]])
def test_a_bad_quantize_command_is_one_line_and_writes_nothing(files, tmp_path, argv):
    _, train, _, _ = files
    prefix = tmp_path / "m"
    ours.train_supervised(input=str(train), verbose=0, **SETTINGS).save_model(f"{prefix}.bin")
    code, out, err = run("quantize", *[a.replace("{p}", str(prefix)) for a in argv])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert sorted(os.listdir(tmp_path)) == ["m.bin"]


def test_an_ftz_is_no_word_vectors_file(files, tmp_path):
    from wordembed import WordVectors
    from wordembed.vectors import VectorsFileError
    _, train, _, _ = files
    model = ours.train_supervised(input=str(train), verbose=0, **SETTINGS)
    model.quantize(cutoff=400)
    model.save_model(str(tmp_path / "m.ftz"))
    with pytest.raises(VectorsFileError, match="Classifier.load"):
        WordVectors.load(tmp_path / "m.ftz")
