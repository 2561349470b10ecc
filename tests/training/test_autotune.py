"""Autotune (wordembed/training/autotune.py): its metrics, its draws, and whole searches through
the Python module and the command line, as fastText's autotune is used."""
import math
import os
import subprocess
import sys

import pytest

import wordembed.fasttext as ours
from wordembed.classify import predictions
from wordembed.errors import TrainingError
from wordembed.training.autotune import SearchStrategy, metric_score
from wordembed.training.autotune_config import AutotuneConfig, parse_metric, parse_size
from wordembed.training.classifier_config import ClassifierConfig
from testing import planted_lines, write


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("autotune")
    lines = planted_lines(1500, seed=21)
    return (folder, write(folder / "train.txt", sorted(lines[:1000])), write(folder / "valid.txt", lines[1000:1250]),
            write(folder / "test.txt", lines[1250:]))


@pytest.mark.parametrize("metric,parsed", [("f1", ("f1", None, None)), ("f1:__label__t1", ("f1", None, "__label__t1")),
                                           ("precisionAtRecall:30", ("precisionAtRecall", 0.3, None)),
                                           ("recallAtPrecision:87.5:__label__x", ("recallAtPrecision", 0.875,
                                                                                  "__label__x"))])
def test_metrics_are_read_as_fasttext_spells_them(metric, parsed):
    assert parse_metric(metric) == parsed


@pytest.mark.parametrize("metric", ["f2", "f1:", "precisionAtRecall", "precisionAtRecall:x", "recallAtPrecision:30:",
                                    "precisionAtRecall:130", ""])
def test_a_bad_metric_is_refused(metric):
    with pytest.raises(TrainingError, match="unknown autotune metric"):
        parse_metric(metric)


def test_sizes_read_with_their_units():
    assert [parse_size(s) for s in ("2M", "500k", "1G", "123")] == [2_000_000, 500_000, 10**9, 123]
    for bad in ("2MB", "-1", "0", "1.5M", ""):
        with pytest.raises(TrainingError, match="model size"):
            parse_size(bad)


def test_the_precision_recall_curve_steps_at_each_distinct_score():
    points = predictions.precision_recall_curve([0.9, 0.8, 0.8, 0.1], [True, False, True, True], golds=4)
    assert points == [(1.0, 0.25), (2 / 3, 0.5), (0.75, 0.75)]
    assert predictions.precision_at_recall(points, 0.5) == 0.75
    assert predictions.recall_at_precision(points, 0.7) == 0.75
    assert predictions.recall_at_precision(points, 1.01) == 0.0


def test_the_metrics_agree_with_test_and_test_label(files):
    _, train, valid, _ = files
    model = ours.train_supervised(input=str(train), epoch=3, lr=0.5, dim=8, verbose=0).classifier
    n, precision, recall = model.test(str(valid))
    assert metric_score(model, valid, "f1", 1) == pytest.approx(2 * precision * recall / (precision + recall))
    label = model.labels[1]
    assert metric_score(model, valid, f"f1:{label}", 1) == pytest.approx(model.test_label(str(valid))[label][0])
    at_recall = metric_score(model, valid, "precisionAtRecall:50", 1)
    assert 0 < at_recall <= 1 and metric_score(model, valid, f"recallAtPrecision:50:{label}", 1) > 0
    with pytest.raises(ValueError, match="not a label"):
        metric_score(model, valid, "f1:__label__nope", 1)


def test_draws_keep_the_settings_given_and_stay_in_range():
    start = ClassifierConfig(dim=7, minn=2, maxn=5)
    strategy = SearchStrategy(start, {"dim", "loss"}, seed=3)
    assert strategy.ask(0.0) == (start, 2)
    for step in range(200):
        settings, dsub = strategy.ask(step / 200)
        settings.check()
        assert settings.dim == 7 and settings.loss == "softmax" and dsub in (2, 4, 8, 16)
        assert 1 <= settings.epochs <= 100 and 0.01 <= settings.lr <= 5 and 1 <= settings.word_ngrams <= 5
        assert settings.maxn == (settings.minn + 3 if settings.minn else 0)
        assert settings.bucket == 0 if settings.word_ngrams == 1 and settings.maxn == 0 else settings.bucket >= 10_000


def test_a_search_through_the_python_module_keeps_what_is_given(files):
    _, train, valid, test = files
    model = ours.train_supervised(input=str(train), autotuneValidationFile=str(valid), autotuneDuration=4, dim=8,
                                  verbose=0)
    assert model.get_dimension() == 8
    plain = ours.train_supervised(input=str(train), dim=8, verbose=0)
    assert metric_score(model.classifier, valid, "f1", 1) >= metric_score(plain.classifier, valid, "f1", 1) - 0.02
    assert model.test(str(test))[1] > 0.8


def run(*argv):
    done = subprocess.run([sys.executable, "-m", "wordembed", *map(str, argv)], capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def test_the_command_line_as_fasttext_spells_it(files, tmp_path):
    _, train, valid, _ = files
    code, _, err = run("supervised", "-input", train, "-output", tmp_path / "m", "-autotune-validation", valid,
                       "-autotune-duration", 3, "-dim", 8)
    assert code == 0, err
    assert "Trials" in err and "Best of" in err and sorted(os.listdir(tmp_path)) == ["m.bin", "m.vec"]
    code, _, err = run("supervised", "-input", train, "-output", tmp_path / "q", "-autotune-validation", valid,
                       "-autotune-duration", 5, "-autotune-modelsize", "60K", "-bucket", 3000, "-verbose", 0)
    assert code == 0, err
    assert os.path.getsize(tmp_path / "q.ftz") <= 60_000
    assert ours.load_model(str(tmp_path / "q.ftz")).is_quantized()


@pytest.mark.parametrize("extra", [["-autotune-metric", "f3"], ["-autotune-duration", "0"],
                                   ["-autotune-modelsize", "2MB"], ["-autotune-predictions", "0"]])
def test_bad_autotune_options_are_one_line_and_write_nothing(files, tmp_path, extra):
    _, train, valid, _ = files
    code, _, err = run("supervised", "-input", train, "-output", tmp_path / "m", "-autotune-validation", valid, *extra)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert os.listdir(tmp_path) == []


def test_word_vectors_are_not_autotuned(files, tmp_path):
    _, train, valid, _ = files
    code, _, err = run("skipgram", "-input", train, "-output", tmp_path / "v", "-autotune-validation", valid)
    assert code == 2 and "classifiers only" in err and os.listdir(tmp_path) == []


def test_too_short_a_budget_says_so(files):
    from wordembed.training.autotune import autotune
    _, train, valid, _ = files
    with pytest.raises(TrainingError, match="no trial|model size"):
        autotune(str(train), ClassifierConfig(dim=8), set(), AutotuneConfig(validation=str(valid), duration=1,
                                                                            model_size="1K"))
    assert math.isfinite(AutotuneConfig().duration)
