"""wordembed.datasets, where it always was: the corpora a fresh machine can get now live in
wordembed/text/datasets.py (they are where tokens come from)."""
from .text.datasets import GCIDE_DICT, dictd_regions, prepare_gcide  # noqa: F401
