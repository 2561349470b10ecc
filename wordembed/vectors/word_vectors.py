"""WordVectors: a vocabulary and its vectors, with the queries users know from gensim's
KeyedVectors (queries.py) and the files of word2vec, fastText and wordembed (files.py)."""
import dataclasses
import difflib

import numpy as np
import torch

from ..text import subwords as subwords_module
from ..text.tokenizing import Tokenizer
from . import files, projector
from .encoding import Encoding
from .queries import Queries, _as_list


class WordVectors(Queries, Encoding):
    """Words (most frequent first, as trainers write them) and a (V, D) float tensor of vectors.
    A subword model's vectors (trained with buckets, or read from a fastText .bin) also keep their
    n-gram rows (`subwords`), and answer for words outside the vocabulary as fastText does.
    `tokenizer` is how training split its text (encode splits strings the same way);
    `output_vectors`, when kept (training keeps them, the native file holds them), the output table
    of a model without subwords, from which training can continue (a subword model keeps its own in
    `subwords.output_rows`)."""

    def __init__(self, words, vectors, counts=None, subwords=None, tokenizer=None, output_vectors=None):
        vectors = torch.as_tensor(vectors)
        if vectors.dim() != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"need one vector per word: {len(words)} words, vectors of shape "
                             f"{tuple(vectors.shape)}")
        if not vectors.is_floating_point():
            raise TypeError(f"vectors must be floating point, got {vectors.dtype}")
        self.index_to_key = list(words)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        if len(self.key_to_index) != len(self.index_to_key):
            raise ValueError("the same word appears twice")
        self.vectors = vectors
        self.counts = None if counts is None else torch.as_tensor(counts, dtype=torch.int64)
        self.subwords = _checked_subwords(subwords, vectors)
        self.tokenizer = _checked_tokenizer(tokenizer)
        self.output_vectors = _checked_output(output_vectors, vectors)
        self._normed = None

    @classmethod
    def from_index(cls, index_to_key, key_to_index, vectors, counts=None, subwords=None,
                   tokenizer=None, output_vectors=None) -> "WordVectors":
        """Vectors over a word list and its index that already exist, shared, not copied (a trained
        vocabulary's: a large vocabulary's Python structures are built once)."""
        if vectors.dim() != 2 or vectors.shape[0] != len(index_to_key) or len(key_to_index) != len(index_to_key):
            raise ValueError(f"need one vector per word: {len(index_to_key)} words, {len(key_to_index)} in the "
                             f"index, vectors of shape {tuple(vectors.shape)}")
        wv = cls.__new__(cls)
        wv.index_to_key, wv.key_to_index, wv.vectors = index_to_key, key_to_index, vectors
        wv.counts = None if counts is None else torch.as_tensor(counts, dtype=torch.int64)
        wv.subwords = _checked_subwords(subwords, vectors)
        wv.tokenizer = _checked_tokenizer(tokenizer)
        wv.output_vectors = _checked_output(output_vectors, vectors)
        wv._normed = None
        return wv

    @classmethod
    def from_subwords(cls, words, subwords, counts=None) -> "WordVectors":
        """The vectors of a subword model: each word's the mean of its own row and n-gram rows."""
        return cls(words, subwords.word_vectors(list(words)), counts, subwords)

    # ---- basics
    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        """Whether the word is in the vocabulary (a subword model has vectors for others too:
        see has_vector)."""
        return word in self.key_to_index

    def has_vector(self, word) -> bool:
        """Whether a vector can be given for the word: in the vocabulary, or built from n-grams."""
        if word in self.key_to_index:
            return True
        return (self.subwords is not None and isinstance(word, str)
                and bool(subwords_module.ngram_buckets(word, self.subwords.minn, self.subwords.maxn,
                                                       self.subwords.bucket)))

    def __repr__(self) -> str:
        extra = f", {self.subwords.bucket} n-gram buckets" if self.subwords is not None else ""
        return f"WordVectors({len(self)} words, dim {self.vector_size}{extra}, {self.vectors.device})"

    def __iter__(self):
        """The words, most frequent first."""
        return iter(self.index_to_key)

    def get_index(self, word) -> int:
        """The row of `word` (a row number is taken as it is, as gensim takes it); a KeyError that
        suggests close matches when the word is unknown."""
        if isinstance(word, (int, np.integer)) and not isinstance(word, bool):
            if 0 <= word < len(self):
                return int(word)
            raise KeyError(f"row {word} is out of range for {len(self)} words")
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(self.unknown_word_message(word)) from None
        except TypeError:  # unhashable: a tensor or a list where a word should be
            raise TypeError(f"a word is a str (or a row number), got {type(word).__name__}") from None

    def unknown_word_message(self, word) -> str:
        # Compared lower-cased, so that 'King' suggests 'king'; shown as the vocabulary spells them.
        candidates = self.index_to_key[:100_000]
        spelled = {}
        for w in candidates:
            spelled.setdefault(w.lower(), w)
        close = [spelled[c] for c in difflib.get_close_matches(str(word).lower(), list(spelled), n=3)]
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"word {word!r} is not in the vocabulary of {len(self)} words{hint}"

    def __getitem__(self, words):
        """The vector of a word or row number, or the (n, dim) vectors of a list of them. With
        subwords, a word outside the vocabulary gets the mean of its n-gram rows."""
        if isinstance(words, (str, int, np.integer)):
            return self.get_vector(words)
        if self.subwords is None or not any(self._unseen(w) for w in words):
            return self.vectors[[self.get_index(w) for w in words]]  # one gather
        return torch.stack([self.get_vector(w) for w in words])

    def to(self, device) -> "WordVectors":
        subwords = None
        if self.subwords is not None:
            subwords = dataclasses.replace(self.subwords, word_rows=self.subwords.word_rows.to(device),
                                           ngram_rows=self.subwords.ngram_rows.to(device))
        output = None if self.output_vectors is None else self.output_vectors.to(device)
        return WordVectors(self.index_to_key, self.vectors.to(device), self.counts, subwords, self.tokenizer, output)

    def _unseen(self, word) -> bool:
        """A word outside the vocabulary that subwords can answer for."""
        return self.subwords is not None and isinstance(word, str) and word not in self.key_to_index

    @property
    def normed(self) -> torch.Tensor:
        """Unit-length rows (zero rows stay zero), computed once. Rows with NaN or inf come out
        as NaN; queries leave their words out."""
        if self._normed is None:
            v = self.vectors.float()
            self._normed = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
        return self._normed

    def non_finite_words(self) -> list:
        """Words whose vector holds NaN or inf."""
        bad = (~torch.isfinite(self.vectors).all(1)).nonzero().flatten().tolist()
        return [self.index_to_key[i] for i in bad]

    @property
    def norms(self) -> torch.Tensor:
        """The L2 norm of every vector."""
        return self.vectors.float().norm(dim=1)

    def fill_norms(self, force=False) -> None:
        """Computes the unit vectors now rather than at the first query (gensim's name)."""
        if force:
            self._normed = None
        self.normed  # noqa: B018 (computed and kept)

    def get_vector(self, word, norm=False) -> torch.Tensor:
        """The vector of a word or row number; with norm=True, scaled to unit length. With
        subwords, a word outside the vocabulary gets the mean of its n-gram rows (fastText's rule)."""
        if self._unseen(word):
            vector = self.subwords.unseen_vector(word).to(self.vectors.device)
            return vector / vector.float().norm().clamp_min(1e-12) if norm else vector
        i = self.get_index(word)
        return self.normed[i] if norm else self.vectors[i]

    def add_vectors(self, words, vectors, replace=False) -> None:
        """Adds words and their vectors; a word already present keeps its vector unless replace."""
        words = _as_list(words)
        vectors = torch.as_tensor(np.asarray(vectors) if not isinstance(vectors, torch.Tensor) else vectors)
        if self.subwords is not None:
            raise ValueError("a subword model's words and vectors come from its training: add_vectors would "
                             "give words vectors their n-grams do not make")
        vectors = vectors.reshape(len(words), -1).to(self.vectors.dtype).to(self.vectors.device)
        if vectors.shape[1] != self.vector_size:
            raise ValueError(f"vectors of dim {vectors.shape[1]} cannot join vectors of dim {self.vector_size}")
        new = [i for i, w in enumerate(words) if w not in self.key_to_index]
        if len({words[i] for i in new}) != len(new):
            raise ValueError("the same new word appears twice")
        if replace:
            old = [i for i, w in enumerate(words) if w in self.key_to_index]
            if old:
                self.vectors[[self.key_to_index[words[i]] for i in old]] = vectors[old]
        for i in new:
            self.key_to_index[words[i]] = len(self.index_to_key)
            self.index_to_key.append(words[i])
        self.vectors = torch.cat([self.vectors, vectors[new]])
        if self.counts is not None:
            self.counts = torch.cat([self.counts, torch.zeros(len(new), dtype=torch.int64)])
        if self.output_vectors is not None:  # new words have no output rows yet: zeros, as training starts them
            self.output_vectors = torch.cat([self.output_vectors, self.output_vectors.new_zeros(len(new), self.vector_size)])
        self._normed = None

    def _indices(self, words):
        return torch.tensor([self.get_index(w) for w in words], dtype=torch.long, device=self.vectors.device)

    # ---- files
    def save(self, path, format=None) -> None:
        """format: 'text' or 'binary' (word2vec), 'native', or 'fasttext' (a fastText .bin model,
        for vectors with subwords); by default chosen from the name (.txt/.vec text, .pt/.wordembed
        native, anything else word2vec binary). Only the native and fastText formats keep the
        n-gram rows that give vectors to words outside the vocabulary."""
        files.save(self, path, format)

    @classmethod
    def load(cls, path, limit=None, binary=None) -> "WordVectors":
        """Reads a native file, a fastText .bin model, or a word2vec text/binary file (each
        detected from its first bytes; binary=None also detects word2vec's two forms)."""
        return files.load(cls, path, limit, binary)

    def save_projector(self, folder, limit=None) -> None:
        """Writes tensors.tsv, metadata.tsv (word and count, with a header) and
        projector_config.pbtxt into `folder`, for TensorBoard's projector (`tensorboard --logdir
        folder`) or the standalone one; limit: the first (most frequent) words only."""
        projector.save_projector(self, folder, limit)



def _checked_subwords(subwords, vectors):
    if subwords is not None and (not isinstance(subwords, subwords_module.Subwords)
                                 or subwords.word_rows.shape != vectors.shape):
        raise ValueError("subwords must be a wordembed.subwords.Subwords whose word rows match the vectors' shape")
    return subwords

def _checked_tokenizer(tokenizer):
    if tokenizer is None:
        return Tokenizer()
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer must be a wordembed.text.tokenizing.Tokenizer, got {type(tokenizer).__name__}")
    return tokenizer


def _checked_output(output_vectors, vectors):
    if output_vectors is not None and tuple(output_vectors.shape) != tuple(vectors.shape):
        raise ValueError(f"output_vectors must have the vectors' shape {tuple(vectors.shape)}, got "
                         f"{tuple(output_vectors.shape)}")
    return output_vectors
