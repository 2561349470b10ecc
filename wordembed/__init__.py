"""wordembed: fast word embeddings for PyTorch.

`wordembed.ops` holds the compiled operators, `wordembed.nn` the modules built on them,
`wordembed.reference` their pure-PyTorch twins (for tests and benchmarks only), and
`wordembed.WordVectors` the trained vectors with their queries, evaluation and file formats.
"""
from . import nn, ops, reference  # noqa: F401
from .vectors import WordVectors  # noqa: F401

__version__ = "0.1.0"
