"""wordembed: fast word embeddings for PyTorch.

The package, one folder a layer, lowest first (tests/test_layers.py keeps the order):

    errors, fileio, memory, arguments   base modules: anything may import them
    ops/         the compiled operators: wrappers, fake kernels, autograd (loads wordembed._C)
    nn, models   torch.nn modules on the ops; the tutorial's models; reference: the ops' twins
    text/        tokens -> vocabulary -> encoded id stream; subwords; datasets
    vectors/     WordVectors, queries, evaluation, files, plots (never needs the extension)
    classify/    Classifier: fastText's text classifier as a torch.nn.Module, its predictions and files
    training/    settings and the stages of a run, with its objective and strategy
    distributed/ the torch.distributed strategy: ranks and their syncs
    train, cli/  the entry points: train_vectors, train_classifier and the command line

The compiled extension is imported when `ops`, `nn`, `models` or training first needs it, not
here: word vectors can be loaded, queried and evaluated where it is not built (`ops` then says
how to build it). Nor are matplotlib and gensim imported here; plots and the default evaluation
sets import them when asked for.
"""
import importlib

from . import reference  # noqa: F401
from .errors import LostRankError, TrainingError  # noqa: F401
from .vectors import FastTextFormatError, VectorsFileError, WordVectors  # noqa: F401

__version__ = "0.1.0"
# Loaded when first asked for: modules that need the compiled extension or torch.distributed,
# and the names they hold.
_LAZY_MODULES = ("ops", "nn", "models", "train", "cli", "training", "distributed", "datasets", "classify")
_LAZY_NAMES = {"train_vectors": ".train", "TrainConfig": ".training.config", "Trainer": ".training.trainer",
               "train_classifier": ".train", "Classifier": ".classify.model",
               "ClassifierConfig": ".training.classifier_config", "quantize_classifier": ".train"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name], __name__), name)
    raise AttributeError(f"module 'wordembed' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_MODULES) + list(_LAZY_NAMES))
