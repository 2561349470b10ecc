"""WordVectors: a vocabulary and its vectors, with the queries users know from gensim's
KeyedVectors. Every query is one batched tensor product (on the GPU when the vectors live there),
never a Python loop over the vocabulary."""
import difflib
import warnings

import torch

from . import evaluation, formats


class WordVectors:
    """Words (most frequent first, as trainers write them) and a (V, D) float tensor of vectors."""

    def __init__(self, words, vectors, counts=None):
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
        self._normed = None

    # ---- basics
    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self) -> int:
        return len(self.index_to_key)

    def __contains__(self, word) -> bool:
        return word in self.key_to_index

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} words, dim {self.vector_size}, {self.vectors.device})"

    def get_index(self, word) -> int:
        """The row of `word`; a KeyError that suggests close matches when it is unknown."""
        try:
            return self.key_to_index[word]
        except KeyError:
            raise KeyError(self.unknown_word_message(word)) from None

    def unknown_word_message(self, word) -> str:
        close = difflib.get_close_matches(str(word), self.index_to_key[:100_000], n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        return f"word {word!r} is not in the vocabulary of {len(self)} words{hint}"

    def __getitem__(self, words):
        if isinstance(words, str):
            return self.vectors[self.get_index(words)]
        return self.vectors[[self.get_index(w) for w in words]]

    def to(self, device) -> "WordVectors":
        return WordVectors(self.index_to_key, self.vectors.to(device), self.counts)

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

    def _indices(self, words):
        return torch.tensor([self.get_index(w) for w in words], dtype=torch.long, device=self.vectors.device)

    # ---- queries
    def similarity(self, a, b) -> float:
        """Cosine similarity of two words."""
        return float(self.normed[self.get_index(a)] @ self.normed[self.get_index(b)])

    def most_similar(self, positive=(), negative=(), topn=10, restrict_vocab=None):
        """Words nearest to mean(unit(positive)) - mean(unit(negative)) by cosine (3CosAdd);
        the query words are left out. Returns [(word, similarity), ...]."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        weights = torch.tensor([1.0] * len(positive) + [-1.0] * len(negative), device=self.vectors.device)
        idx = self._indices(positive + negative)
        self._check_finite(positive + negative, idx)
        query = (weights[:, None] * self.normed[idx]).sum(0) / weights.abs().sum()
        return self._nearest(query, topn, exclude=idx.tolist(), restrict_vocab=restrict_vocab)

    def most_similar_cosmul(self, positive=(), negative=(), topn=10, restrict_vocab=None):
        """3CosMul (Levy and Goldberg 2014): prod((1 + cos(w, p)) / 2) / (prod((1 + cos(w, n)) / 2) + 1e-6)."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        _check_count("topn", topn)
        self._check_finite(positive + negative, self._indices(positive + negative))
        table = self.normed[:self._limit(restrict_vocab)]
        pos = (1 + table @ self.normed[self._indices(positive)].T) / 2
        neg = (1 + table @ self.normed[self._indices(negative)].T) / 2 if negative else None
        scores = pos.prod(1) / ((neg.prod(1) if neg is not None else 1.0) + 1e-6)
        exclude = [self.get_index(w) for w in positive + negative]
        return self._top(scores, topn, exclude)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """Words nearest to a vector by cosine."""
        vector = torch.as_tensor(vector, dtype=torch.float32, device=self.vectors.device)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"vector must have shape ({self.vector_size},), got {tuple(vector.shape)}")
        if not torch.isfinite(vector).all():
            raise ValueError("the query vector holds NaN or inf")
        return self._nearest(vector, topn, exclude=[], restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        return self.most_similar([word], topn=topn, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words) -> str:
        """The word furthest from the mean of the others' unit vectors."""
        words = _as_list(words)
        if len(words) < 2:
            raise ValueError("doesnt_match needs at least two words")
        idx = self._indices(words)
        self._check_finite(words, idx)
        vecs = self.normed[idx]
        mean = vecs.mean(0)
        mean = mean / mean.norm().clamp_min(1e-12)
        return words[int((vecs @ mean).argmin())]

    def _check_finite(self, words, idx):
        bad = ~torch.isfinite(self.vectors[idx]).all(1)
        if bad.any():
            word = words[int(bad.nonzero()[0])]
            raise ValueError(f"the vector of {word!r} holds NaN or inf: it has no direction to compare")

    def _limit(self, restrict_vocab) -> int:
        if restrict_vocab is None:
            return len(self)
        _check_count("restrict_vocab", restrict_vocab)
        return min(restrict_vocab, len(self))

    def _nearest(self, query, topn, exclude, restrict_vocab):
        _check_count("topn", topn)
        query = query / query.norm().clamp_min(1e-12)
        return self._top(self.normed[:self._limit(restrict_vocab)] @ query, topn, exclude)

    def _top(self, scores, topn, exclude):
        # Words whose vectors hold NaN or inf score NaN; they are left out, as gensim leaves them.
        scores = scores.nan_to_num(nan=-torch.inf)
        k = min(len(scores), topn + len(exclude))
        values, indices = scores.topk(k)
        skip = set(exclude)
        result = [(self.index_to_key[i], v) for v, i in zip(values.tolist(), indices.tolist())
                  if i not in skip and v != -torch.inf]
        return result[:topn]

    # ---- evaluation (same numbers as gensim's functions of the same names)
    def evaluate_word_analogies(self, path, restrict_vocab=300_000, case_insensitive=True,
                                dummy4unknown=False):
        """Accuracy on a Google-format analogy file: (score, sections), as gensim returns them."""
        _check_count("restrict_vocab", restrict_vocab)
        return evaluation.evaluate_word_analogies(self, path, restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_pairs(self, path, delimiter="\t", restrict_vocab=300_000, case_insensitive=True,
                            dummy4unknown=False):
        """(pearson, spearman, oov_ratio %) on a WordSim-353 / SimLex-999 style file."""
        _check_count("restrict_vocab", restrict_vocab)
        return evaluation.evaluate_word_pairs(self, path, delimiter, restrict_vocab, case_insensitive,
                                              dummy4unknown)

    # ---- files
    def save(self, path, format=None) -> None:
        """format: 'text' or 'binary' (word2vec) or 'native'; by default chosen from the name
        (.txt/.vec text, .pt/.wordembed native, anything else word2vec binary)."""
        format = format or formats.format_for_path(path)
        vectors = self.vectors.detach().float().cpu().numpy()
        if format == "native":
            formats.save_native(path, self.index_to_key, self.vectors, self.counts)
        elif format in ("text", "binary"):
            formats.save_word2vec(path, self.index_to_key, vectors, binary=format == "binary")
        else:
            raise ValueError(f"format must be 'text', 'binary' or 'native', got {format!r}")

    @classmethod
    def load(cls, path, limit=None, binary=None) -> "WordVectors":
        """Reads a native file or a word2vec text/binary file (detected when binary is None)."""
        if limit is not None:
            _check_count("limit", limit)
        if formats.is_native(path):
            payload = formats.load_native(path)
            n = len(payload["words"]) if limit is None else limit
            counts = payload["counts"][:n] if payload.get("counts") is not None else None
            vectors = cls(payload["words"][:n], payload["vectors"][:n], counts)
        else:
            words, array = formats.load_word2vec(path, binary=binary, limit=limit)
            vectors = cls(words, torch.from_numpy(array))
        bad = vectors.non_finite_words()
        if bad:
            warnings.warn(f"{path}: {len(bad)} vectors hold NaN or inf (first: {bad[0]!r}); queries leave "
                          "those words out", RuntimeWarning, stacklevel=2)
        return vectors


def _check_count(name, value):
    """A count given by the user: a whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")


def _as_list(words):
    if isinstance(words, str):
        return [words]
    if isinstance(words, (bytes, bytearray)):
        raise TypeError(f"words are str, got bytes {bytes(words)!r}: decode them first")
    words = list(words)
    for w in words:
        if isinstance(w, (bytes, bytearray)):
            raise TypeError(f"words are str, got bytes {bytes(w)!r}: decode them first")
    return words

