"""fastText's Python module, on wordembed: `import wordembed.fasttext as fasttext` runs a fastText
script unchanged. train_supervised, train_unsupervised and load_model take fastText's argument
names and defaults and return a FastTextModel (model.py), whose methods return what fastText's
return. fastText's camelCase names live here and in the command line's fastText spellings; each
maps to the wordembed setting that declares it (wordembed/training/settings.py)."""
import dataclasses
import io
import os
import re
import sys
import tempfile

from ..text.subwords import EOS
from ..training.autotune_config import AutotuneConfig
from ..training.classifier_config import ClassifierConfig
from ..training.config import TrainConfig
from ..training.settings import fasttext_names
from .model import FastTextModel

__all__ = ["train_supervised", "train_unsupervised", "load_model", "tokenize", "FastTextModel"]

# fastText's keywords of autotune's settings (its command line spells them -autotune-validation, ...)
_AUTOTUNE = {"autotuneValidationFile": "validation", "autotuneMetric": "metric", "autotunePredictions": "predictions",
             "autotuneDuration": "duration", "autotuneModelSize": "model_size"}
_UNSUPERVISED_DEFAULTS = {"model": "skipgram", "lr": 0.05, "dim": 100, "ws": 5, "epoch": 5, "minCount": 5,
                          "minn": 3, "maxn": 6, "neg": 5, "bucket": 2_000_000, "t": 1e-4, "loss": "ns"}
_SUPERVISED_ORDER = ("input", "lr", "dim", "ws", "epoch", "minCount", "minCountLabel", "minn", "maxn", "neg",
                     "wordNgrams", "loss", "bucket", "thread", "lrUpdateRate", "t", "label", "verbose",
                     "pretrainedVectors", "seed") + tuple(_AUTOTUNE)
_UNSUPERVISED_ORDER = ("input", "model") + _SUPERVISED_ORDER[1:20]


def train_supervised(*args, **kwargs) -> FastTextModel:
    """fastText's supervised classifier on a file of labelled lines (its arguments: input, lr=0.1,
    dim=100, ws=5, epoch=5, minCount=1, minCountLabel=0, minn=0, maxn=0, neg=5, wordNgrams=1,
    loss="softmax", bucket=2000000, thread, lrUpdateRate=100, t=1e-4, label="__label__",
    verbose=2, pretrainedVectors="", seed=0)."""
    from ..train import train_classifier
    given = _arguments("train_supervised", _SUPERVISED_ORDER, args, kwargs)
    settings = _settings(ClassifierConfig, given)
    if settings.get("loss") == "one-vs-all":
        settings["loss"] = "ova"
    if given.get("autotuneValidationFile"):
        return _autotuned(given, settings)
    with tempfile.TemporaryDirectory(prefix="wordembed-fasttext-") as work:
        classifier = train_classifier(given["input"], None, log=_log(given), work_dir=os.path.join(work, "run"),
                                      pretrained_vectors=given.get("pretrainedVectors") or None, **settings)
    return FastTextModel(classifier=classifier)


def _autotuned(given, settings) -> FastTextModel:
    """fastText's autotune (training/autotune.py): the settings given stay as they are."""
    from ..training.autotune import TUNED, autotune
    tune = AutotuneConfig(**{name: given[keyword] for keyword, name in _AUTOTUNE.items()
                             if given.get(keyword) not in (None, "")})
    config = ClassifierConfig(**settings)
    config.check()
    log = None if given.get("verbose", 2) == 0 else sys.stderr
    best, _ = autotune(given["input"], config, set(settings) & set(TUNED), tune, log,
                       given.get("pretrainedVectors") or None)
    return FastTextModel(classifier=best.model)


def train_unsupervised(*args, **kwargs) -> FastTextModel:
    """fastText's word vectors with subwords (its arguments: input, model="skipgram" or "cbow",
    lr=0.05, dim=100, ws=5, epoch=5, minCount=5, minn=3, maxn=6, neg=5, loss="ns", bucket=2000000,
    thread, lrUpdateRate=100, t=1e-4, verbose=2, pretrainedVectors="", seed=0)."""
    from ..train import train_vectors
    given = {**_UNSUPERVISED_DEFAULTS, **_arguments("train_unsupervised", _UNSUPERVISED_ORDER, args, kwargs)}
    if given["loss"] != "ns":
        raise ValueError(f"wordembed trains word vectors with negative sampling (loss 'ns'), not {given['loss']!r}")
    settings = _settings(TrainConfig, given)
    with tempfile.TemporaryDirectory(prefix="wordembed-fasttext-") as work:
        vectors = train_vectors(given["input"], None, log=_log(given), work_dir=os.path.join(work, "run"),
                                init=given.get("pretrainedVectors") or None, min_alpha=0.0, **settings)
    return FastTextModel(vectors=vectors)


def load_model(path) -> FastTextModel:
    """A model fastText or wordembed wrote: a supervised .bin (a classifier), a word-vectors .bin,
    or any vectors file wordembed reads (word2vec text or binary, .vec, wordembed's .pt)."""
    from ..classify.model import Classifier
    from ..vectors import WordVectors
    from ..vectors.fasttext_format import read_model_kind
    if read_model_kind(path) == "supervised":
        return FastTextModel(classifier=Classifier.load(path))
    return FastTextModel(vectors=WordVectors.load(path))


def tokenize(text) -> list:
    """fastText's tokens of a text: split at whitespace, each line's end a "</s>" of its own."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return [EOS if piece == "\n" else piece for piece in re.split(r"(\n)|[ \t\v\f\r\0]+", text) if piece]


def _arguments(function, order, args, kwargs) -> dict:
    """fastText's arguments by name, positional ones in its order; a TypeError for an unknown one."""
    if len(args) > len(order):
        raise TypeError(f"{function} takes at most {len(order)} positional arguments, got {len(args)}")
    given = dict(zip(order, args))
    for name, value in kwargs.items():
        if name not in order:
            raise TypeError(f"{function}() got an unexpected keyword argument {name!r}")
        if name in given:
            raise TypeError(f"{function}() got multiple values for argument {name!r}")
        given[name] = value
    if "input" not in given:
        raise TypeError(f"{function}() missing the argument 'input' (the training file)")
    return given


def _settings(settings_class, given) -> dict:
    """The wordembed settings of fastText's arguments (those it has)."""
    names = fasttext_names(settings_class)
    settings = {names[name]: value for name, value in given.items() if name in names}
    if "model" in given and "model" in {f.name for f in dataclasses.fields(settings_class)}:
        settings["model"] = given["model"]
    return settings


def _log(given):
    """Where training reports: nowhere at verbose 0, as fastText."""
    return io.StringIO() if given.get("verbose", 2) == 0 else sys.stderr
