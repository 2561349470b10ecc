"""Where tokens come from and how they become ids: reading a corpus (sentences.py: a text file in
bounded pieces, or Python sentences), tokenizing, counting the vocabulary (vocab.py, with the
compiled, multi-threaded counter of pipeline.py and its Python twin), the encoded id stream on
disk (corpus.py), fastText's subword hashing and bags (subwords.py), and the real corpora a fresh
machine can get (datasets.py).

May import the base modules (errors, fileio, memory, arguments) and, only inside the functions
that run compiled code, wordembed.ops: importing text never loads the extension, so that
wordembed.vectors (which hashes subwords) works where it is not built."""
