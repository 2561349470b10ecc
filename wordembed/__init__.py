"""wordembed: fast word embeddings for PyTorch.

`wordembed.ops` holds the compiled operators, `wordembed.nn` the modules built on them,
`wordembed.reference` their pure-PyTorch twins (for tests and benchmarks only), and
`wordembed.WordVectors` the trained vectors with their queries, evaluation and file formats.

The compiled extension is imported when `ops`, `nn` or training first needs it, not here: word
vectors can be loaded, queried and evaluated where it is not built (`ops` then says how to build
it). Nor are matplotlib and gensim imported here; plots and the default evaluation sets import
them when asked for.
"""
import importlib

from . import reference  # noqa: F401
from .vectors import WordVectors  # noqa: F401

__version__ = "0.1.0"
_LAZY = ("ops", "nn", "models", "train")


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'wordembed' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
