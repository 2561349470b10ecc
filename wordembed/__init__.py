"""wordembed: fast word embeddings for PyTorch.

`wordembed.ops` holds the compiled operators, `wordembed.nn` the modules built on them, and
`wordembed.reference` their pure-PyTorch twins (for tests and benchmarks only).
"""
from . import nn, ops, reference  # noqa: F401

__version__ = "0.1.0"
