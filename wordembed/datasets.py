"""wordembed.datasets, where it always was: the corpora a fresh machine can get now live in
wordembed/text/datasets.py and the labelled sets in wordembed/text/labelled_sets.py (they are
where tokens come from)."""
from .text.datasets import (GCIDE_DICT, LEXICOGRAPHER_FILES, WORDNET, dictd_regions,  # noqa: F401
                            prepare_gcide, prepare_wordnet_glosses, prepare_wordnet_senses, wordnet_glosses,
                            wordnet_word_senses)
from .text.labelled_sets import (debian_packages, fortunes_by_language, prepare_debian_packages,  # noqa: F401
                                 prepare_fortune_languages)
