"""Trained vectors and everything done with them: WordVectors and its queries, evaluation on
analogy and word-pair sets, the word2vec, fastText and native files, and plots.

Never needs the compiled extension (vectors can be loaded, queried and evaluated where it is not
built): it imports only the base modules (errors, fileio, arguments) and wordembed.text (for the
subword hashing that gives unseen words their vectors). matplotlib and gensim are imported when a
plot or a default evaluation set is asked for."""
from .formats import VectorsFileError  # noqa: F401
from .fasttext_format import FastTextFormatError  # noqa: F401
from .word_vectors import WordVectors  # noqa: F401
