"""WordVectors: a vocabulary and its vectors, with the queries users know from gensim's
KeyedVectors. Every query is one batched tensor product (on the GPU when the vectors live there),
never a Python loop over the vocabulary."""
import dataclasses
import difflib
import warnings

import numpy as np
import torch

from . import evaluation, fasttext_format, formats
from . import subwords as subwords_module
from ._checks import check_count


class WordVectors:
    """Words (most frequent first, as trainers write them) and a (V, D) float tensor of vectors.
    A subword model's vectors (trained with buckets, or read from a fastText .bin) also keep their
    n-gram rows (`subwords`), and answer for words outside the vocabulary as fastText does."""

    def __init__(self, words, vectors, counts=None, subwords=None):
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
        self._normed = None

    @classmethod
    def from_index(cls, index_to_key, key_to_index, vectors, counts=None, subwords=None) -> "WordVectors":
        """Vectors over a word list and its index that already exist, shared, not copied (a trained
        vocabulary's: a large vocabulary's Python structures are built once)."""
        if vectors.dim() != 2 or vectors.shape[0] != len(index_to_key) or len(key_to_index) != len(index_to_key):
            raise ValueError(f"need one vector per word: {len(index_to_key)} words, {len(key_to_index)} in the "
                             f"index, vectors of shape {tuple(vectors.shape)}")
        wv = cls.__new__(cls)
        wv.index_to_key, wv.key_to_index, wv.vectors = index_to_key, key_to_index, vectors
        wv.counts = None if counts is None else torch.as_tensor(counts, dtype=torch.int64)
        wv.subwords = _checked_subwords(subwords, vectors)
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
        return WordVectors(self.index_to_key, self.vectors.to(device), self.counts, subwords)

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

    def get_mean_vector(self, words, weights=None, pre_normalize=True, post_normalize=False,
                        ignore_missing=True) -> torch.Tensor:
        """The weighted mean of the words' vectors (unit vectors with pre_normalize) and of any
        vectors given as such; unknown words are skipped unless ignore_missing=False. As gensim."""
        words = _as_list(words)
        if not words:
            raise ValueError("cannot compute a mean of no words")
        weights = [1.0] * len(words) if weights is None else [float(w) for w in weights]
        if len(weights) != len(words):
            raise ValueError(f"{len(words)} words but {len(weights)} weights")
        total, mean = 0.0, torch.zeros(self.vector_size, dtype=torch.float32, device=self.vectors.device)
        for word, weight in zip(words, weights):
            if isinstance(word, (torch.Tensor, np.ndarray)):
                vector = self._query_vector(word)
            elif self.has_vector(word) or isinstance(word, (int, np.integer)):
                vector = self.get_vector(word, norm=pre_normalize).float()
            elif not ignore_missing:
                raise KeyError(self.unknown_word_message(word))
            else:
                continue
            mean += weight * vector
            total += abs(weight)
        if total > 0:
            mean /= total
        if post_normalize:
            mean = mean / mean.norm().clamp_min(1e-12)
        return mean

    def n_similarity(self, words1, words2) -> float:
        """Cosine similarity of the means of two sets of words (their raw vectors, as gensim)."""
        words1, words2 = _as_list(words1), _as_list(words2)
        if not words1 or not words2:
            raise ValueError("n_similarity needs at least one word on each side")
        a = self.get_mean_vector(words1, pre_normalize=False, ignore_missing=False)
        b = self.get_mean_vector(words2, pre_normalize=False, ignore_missing=False)
        return float(a @ b / (a.norm() * b.norm()).clamp_min(1e-12))

    def distance(self, a, b) -> float:
        """1 - cosine similarity of two words."""
        return 1.0 - self.similarity(a, b)

    def distances(self, word_or_vector, other_words=()) -> np.ndarray:
        """1 - cosine similarity between a word (or vector) and other_words, or every word."""
        if isinstance(word_or_vector, (torch.Tensor, np.ndarray)):
            query = self._query_vector(word_or_vector)
        else:
            query = self.get_vector(word_or_vector).float()
        query = query / query.norm().clamp_min(1e-12)
        others = self.normed if not other_words else self.normed[self._indices(_as_list(other_words))]
        return (1 - others @ query).cpu().numpy()

    def closer_than(self, word1, word2) -> list:
        """The words closer to word1 than word2 is (word1 left out)."""
        all_distances = self.distances(word1)
        i1, i2 = self.get_index(word1), self.get_index(word2)
        closer = np.nonzero(all_distances < all_distances[i2])[0]
        return [self.index_to_key[i] for i in closer if i != i1]

    def rank(self, word1, word2) -> int:
        """Where word2 ranks among word1's neighbours (1 = nearest)."""
        return len(self.closer_than(word1, word2)) + 1

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
        self._normed = None

    def _indices(self, words):
        return torch.tensor([self.get_index(w) for w in words], dtype=torch.long, device=self.vectors.device)

    # ---- queries
    def similarity(self, a, b) -> float:
        """Cosine similarity of two words (with subwords, words outside the vocabulary too)."""
        return float(self.get_vector(a, norm=True).float() @ self.get_vector(b, norm=True).float())

    def most_similar(self, positive=(), negative=(), topn=10, restrict_vocab=None):
        """Words nearest to the mean of the positive terms minus the negative ones, by cosine
        (3CosAdd). A term is a word (its unit vector; the word is left out of the answers) or a
        vector of dim numbers (taken as it is), as in gensim. Returns [(word, similarity), ...],
        or with topn=None the similarity of every word (a numpy array in row order)."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        terms, exclude = [], []
        for term, sign in [(t, 1.0) for t in positive] + [(t, -1.0) for t in negative]:
            if isinstance(term, (torch.Tensor, np.ndarray)):
                terms.append(sign * self._query_vector(term))
            elif self._unseen(term):  # built from its n-grams; no row of the answers to leave out
                terms.append(sign * self.get_vector(term, norm=True).float())
            else:
                i = self.get_index(term)
                self._check_finite([term], [i])
                terms.append(sign * self.normed[i])
                exclude.append(i)
        query = torch.stack(terms).mean(0)
        return self._nearest(query, topn, exclude=exclude, restrict_vocab=restrict_vocab)

    def _query_vector(self, vector) -> torch.Tensor:
        vector = torch.as_tensor(vector, dtype=torch.float32, device=self.vectors.device)
        if vector.shape != (self.vector_size,):
            raise ValueError(f"a query vector must have shape ({self.vector_size},), got {tuple(vector.shape)}")
        if not torch.isfinite(vector).all():
            raise ValueError("the query vector holds NaN or inf")
        return vector

    def most_similar_cosmul(self, positive=(), negative=(), topn=10, restrict_vocab=None):
        """3CosMul (Levy and Goldberg 2014): prod((1 + cos(w, p)) / 2) / (prod((1 + cos(w, n)) / 2) + 1e-6)."""
        positive, negative = _as_list(positive), _as_list(negative)
        if not positive:
            raise ValueError("most_similar_cosmul needs at least one positive word")
        check_count("topn", topn)
        self._check_finite(positive + negative, self._indices(positive + negative))
        table = self.normed[:self._limit(restrict_vocab)]
        pos = (1 + table @ self.normed[self._indices(positive)].T) / 2
        neg = (1 + table @ self.normed[self._indices(negative)].T) / 2 if negative else None
        scores = pos.prod(1) / ((neg.prod(1) if neg is not None else 1.0) + 1e-6)
        exclude = [self.get_index(w) for w in positive + negative]
        return self._top(scores, topn, exclude)

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """Words nearest to a vector by cosine."""
        return self._nearest(self._query_vector(vector), topn, exclude=[], restrict_vocab=restrict_vocab)

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
        bad = ~torch.isfinite(self.vectors[torch.as_tensor(idx, dtype=torch.long, device=self.vectors.device)]).all(1)
        if bad.any():
            word = words[int(bad.nonzero()[0])]
            raise ValueError(f"the vector of {word!r} holds NaN or inf: it has no direction to compare")

    def _limit(self, restrict_vocab) -> int:
        if restrict_vocab is None:
            return len(self)
        check_count("restrict_vocab", restrict_vocab)
        return min(restrict_vocab, len(self))

    def _nearest(self, query, topn, exclude, restrict_vocab):
        if topn is not None:
            check_count("topn", topn)
        query = query / query.norm().clamp_min(1e-12)
        scores = self.normed[:self._limit(restrict_vocab)] @ query
        if topn is None:  # every word's similarity, as gensim gives it
            return scores.cpu().numpy()
        return self._top(scores, topn, exclude)

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
    def evaluate_word_analogies(self, path, restrict_vocab=evaluation.RESTRICT_VOCAB, case_insensitive=True,
                                dummy4unknown=False):
        """Accuracy on a Google-format analogy file: (score, sections), as gensim returns them."""
        check_count("restrict_vocab", restrict_vocab)
        return evaluation.evaluate_word_analogies(self, path, restrict_vocab, case_insensitive, dummy4unknown)

    def evaluate_word_pairs(self, path, delimiter="\t", restrict_vocab=evaluation.RESTRICT_VOCAB, case_insensitive=True,
                            dummy4unknown=False, oov_by_subwords=True):
        """(pearson, spearman, oov_ratio %) on a WordSim-353 / SimLex-999 style file, as gensim
        returns them: each correlation is (statistic, pvalue), from scipy.stats. With subwords
        (and oov_by_subwords), pairs with a word outside the vocabulary are scored by the vectors
        their n-grams give, as fastText scores them; oov_ratio still counts them."""
        check_count("restrict_vocab", restrict_vocab)
        return evaluation.evaluate_word_pairs(self, path, delimiter, restrict_vocab, case_insensitive,
                                              dummy4unknown, oov_by_subwords)

    # ---- files
    def save(self, path, format=None) -> None:
        """format: 'text' or 'binary' (word2vec), 'native', or 'fasttext' (a fastText .bin model,
        for vectors with subwords); by default chosen from the name (.txt/.vec text, .pt/.wordembed
        native, anything else word2vec binary). Only the native and fastText formats keep the
        n-gram rows that give vectors to words outside the vocabulary."""
        format = format or formats.format_for_path(path)
        if format == "native":
            formats.save_native(path, self.index_to_key, self.vectors, self.counts, self.subwords)
        elif format == "fasttext":
            if self.subwords is None:
                raise ValueError("the fastText format is for subword models; these vectors have no n-gram rows")
            sw = self.subwords
            counts = self.counts if self.counts is not None else torch.ones(len(self), dtype=torch.int64)
            output = sw.output_rows if sw.output_rows is not None else torch.zeros_like(sw.word_rows)
            fasttext_format.save_fasttext_bin(
                path, self.index_to_key, counts.numpy(),
                [rows.detach().float().cpu().numpy() for rows in (sw.word_rows, sw.ngram_rows)],
                output.detach().float().cpu().numpy(), {**sw.settings, "minn": sw.minn, "maxn": sw.maxn})
        elif format in ("text", "binary"):
            vectors = self.vectors.detach().float().cpu().numpy()
            formats.save_word2vec(path, self.index_to_key, vectors, binary=format == "binary")
        else:
            raise ValueError(f"format must be 'text', 'binary', 'native' or 'fasttext', got {format!r}")

    @classmethod
    def load(cls, path, limit=None, binary=None) -> "WordVectors":
        """Reads a native file, a fastText .bin model, or a word2vec text/binary file (each
        detected from its first bytes; binary=None also detects word2vec's two forms)."""
        if limit is not None:
            check_count("limit", limit)
        if formats.is_native(path):
            payload = formats.load_native(path)
            n = len(payload["words"]) if limit is None else limit
            counts = payload["counts"][:n] if payload.get("counts") is not None else None
            subwords = payload.get("subwords")
            if subwords is not None:
                subwords = subwords_module.Subwords(**{**subwords, "word_rows": subwords["word_rows"][:n],
                                                       "output_rows": None if subwords.get("output_rows") is None
                                                       else subwords["output_rows"][:n]})
            vectors = cls(payload["words"][:n], payload["vectors"][:n], counts, subwords)
        elif formats.is_fasttext(path):
            vectors = cls._from_fasttext(fasttext_format.load_fasttext_bin(path), limit)
        else:
            words, array = formats.load_word2vec(path, binary=binary, limit=limit)
            vectors = cls(words, torch.from_numpy(array))
        bad = vectors.non_finite_words()
        if bad:
            warnings.warn(f"{path}: {len(bad)} vectors hold NaN or inf (first: {bad[0]!r}); queries leave "
                          "those words out", RuntimeWarning, stacklevel=2)
        return vectors

    @classmethod
    def _from_fasttext(cls, model, limit) -> "WordVectors":
        s, words = model["settings"], model["words"]
        n = len(words) if limit is None else min(limit, len(words))
        table = torch.from_numpy(model["input"])
        V = len(words)
        if not s["maxn"] or not s["bucket"]:  # no subwords: a word's vector is its own row
            return cls(words[:n], table[:n].clone(), torch.from_numpy(model["counts"][:n]))
        settings = {k: v for k, v in s.items() if k not in ("minn", "maxn", "bucket", "dim")}
        subwords = subwords_module.Subwords(
            s["minn"], s["maxn"], s["bucket"], word_rows=table[:n], ngram_rows=table[V:],
            output_rows=torch.from_numpy(model["output"][:n]), settings={**settings, "ntokens": model["ntokens"]})
        return cls.from_subwords(words[:n], subwords, torch.from_numpy(model["counts"][:n]))


def _checked_subwords(subwords, vectors):
    if subwords is not None and (not isinstance(subwords, subwords_module.Subwords)
                                 or subwords.word_rows.shape != vectors.shape):
        raise ValueError("subwords must be a wordembed.subwords.Subwords whose word rows match the vectors' shape")
    return subwords


def _as_list(words):
    if isinstance(words, (str, int, np.integer)) or (isinstance(words, (torch.Tensor, np.ndarray)) and words.ndim == 1):
        return [words]
    if isinstance(words, (bytes, bytearray)):
        raise TypeError(f"words are str, got bytes {bytes(words)!r}: decode them first")
    words = list(words)
    for w in words:
        if isinstance(w, (bytes, bytearray)):
            raise TypeError(f"words are str, got bytes {bytes(w)!r}: decode them first")
    return words

