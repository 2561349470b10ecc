"""The queries of WordVectors that users know from gensim's KeyedVectors: similarities, nearest
words, analogies (3CosAdd and 3CosMul), odd one out, and the evaluation sets. Every query is one
batched tensor product (on the GPU when the vectors live there), never a Python loop over the
vocabulary. A mixin: WordVectors (word_vectors.py) holds the words and vectors it reads."""
import numpy as np
import torch

from ..arguments import check_count
from . import evaluation


class Queries:
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

