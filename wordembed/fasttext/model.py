"""FastTextModel: what fastText's Python module returns from load_model and train_*, over a
wordembed Classifier (a supervised model) or WordVectors (word vectors, with or without subwords).
Its methods keep fastText's names, arguments, defaults and return types (numpy arrays, tuples of
(score, word)); a word's vector is the mean of its input rows, its own (if it has one) and its
character n-grams', or zeros where it has none, as fastText's getWordVector."""
import math

import numpy as np
import torch

from ..text import subwords as subword_hashing
from ..text.labelled import LABEL_PREFIX
from ..text.subwords import EOS, Subwords

# fastText's file settings of a word-vectors model that wordembed's own files do not hold
_VECTOR_SETTINGS = {"ws": 5, "epoch": 5, "minCount": 5, "neg": 5, "wordNgrams": 1, "loss": "ns", "model": "skipgram",
                    "lrUpdateRate": 100, "t": 1e-4}


class FastTextModel:
    """A supervised classifier (`classifier`) or word vectors (`vectors`), as fastText shows them."""

    def __init__(self, classifier=None, vectors=None):
        self.classifier, self.vectors = classifier, vectors
        if classifier is not None:
            d = classifier.dictionary
            self._words, self._counts = list(d.words), list(d.word_counts)
            self._labels, self._label_counts = list(d.labels), list(d.label_counts)
            self._input = classifier.input_vectors.detach().cpu()
            self._output = classifier.output_vectors.detach().cpu()
            s = classifier.settings
            self.settings = {**_VECTOR_SETTINGS, **s, "model": "supervised", "dim": self._input.shape[1]}
            self.minn, self.maxn, self.bucket = s["minn"], s["maxn"], s["bucket"]
            self._bucket_rows = classifier.bucket_rows
        else:
            self._words = list(vectors.index_to_key)
            self._counts = vectors.counts.tolist() if vectors.counts is not None else [0] * len(self._words)
            self._labels, self._label_counts = [], []
            sw = vectors.subwords
            self._input = vectors.vectors.detach().cpu() if sw is None else torch.cat([sw.word_rows, sw.ngram_rows])
            output = sw.output_rows if sw is not None else vectors.output_vectors
            self._output = output.detach().cpu() if output is not None else torch.zeros(0, self._input.shape[1])
            self.minn, self.maxn, self.bucket = (sw.minn, sw.maxn, sw.bucket) if sw is not None else (0, 0, 0)
            self._bucket_rows = None
            self.settings = {**_VECTOR_SETTINGS, **(sw.settings if sw is not None else {}), "dim": self._input.shape[1],
                             "minn": self.minn, "maxn": self.maxn, "bucket": self.bucket}
        self._index = {w: i for i, w in enumerate(self._words)}
        self._unit_rows = None  # every word's vector over its norm, made at the first neighbour query

    # what it is
    @property
    def words(self) -> list:
        return self.get_words()

    @property
    def labels(self) -> list:
        return self.get_labels()

    def is_supervised(self) -> bool:
        return self.classifier is not None

    def is_quantized(self) -> bool:
        return self.classifier is not None and self.classifier.is_quantized

    def get_dimension(self) -> int:
        return self._input.shape[1]

    def get_words(self, include_freq=False, on_unicode_error="strict"):
        words = list(self._words)
        return (words, np.array(self._counts, dtype=np.int64)) if include_freq else words

    def get_labels(self, include_freq=False, on_unicode_error="strict"):
        if not self.is_supervised():
            return self.get_words(include_freq)
        labels = list(self._labels)
        return (labels, np.array(self._label_counts, dtype=np.int64)) if include_freq else labels

    def get_word_id(self, word) -> int:
        return self._index.get(word, -1)

    def get_label_id(self, label) -> int:
        return self._labels.index(label) if label in self._labels else -1

    def get_subword_id(self, subword) -> int:
        if not self.bucket:
            raise ValueError("this model has no n-gram rows (bucket 0): no subword has an id")
        return len(self._words) + subword_hashing.fasttext_hash(subword.encode("utf-8")) % self.bucket

    def get_subwords(self, word, on_unicode_error="strict"):
        """(the word, if known, and its character n-grams; their input rows), as fastText's."""
        own = self._index.get(word)
        ngrams, buckets = self._ngrams(word), self._buckets(word)
        if self._bucket_rows is not None:  # a pruned model: the n-grams whose bucket kept a row
            rows = self._bucket_rows[torch.tensor(buckets, dtype=torch.int64)].tolist()
            ngrams, buckets = [n for n, r in zip(ngrams, rows) if r >= 0], [r for r in rows if r >= 0]
        strings = ([word] if own is not None else []) + ngrams
        ids = ([own] if own is not None else []) + [len(self._words) + b for b in buckets]
        return strings, np.array(ids, dtype=np.int64)

    def _ngrams(self, word):
        return subword_hashing.ngrams(word, self.minn, self.maxn) if self.bucket else []

    def _buckets(self, word):
        return subword_hashing.ngram_buckets(word, self.minn, self.maxn, self.bucket) if self.bucket else []

    # vectors
    def get_word_vector(self, word) -> np.ndarray:
        _, rows = self.get_subwords(word)
        if len(rows) == 0:
            return np.zeros(self.get_dimension(), dtype=np.float32)
        return self._input[torch.from_numpy(rows)].double().mean(0).float().numpy()

    def word_vector_matrix(self) -> np.ndarray:
        """Every word's vector, as get_word_vector gives it, in one (words, dim) array."""
        if self.vectors is not None:
            return self.vectors.vectors.detach().cpu().float().numpy()
        nwords = len(self._words)
        if self._bucket_rows is not None:  # a pruned model: each word's n-grams through its bucket map
            return np.stack([self.get_word_vector(w) for w in self._words]) if nwords else self._input[:0].numpy()
        if not self.bucket or not self.maxn:
            return self._input[:nwords].float().numpy().copy()
        subwords = Subwords(self.minn, self.maxn, self.bucket, self._input[:nwords], self._input[nwords:])
        return subwords.word_vectors(self._words).float().numpy()

    def __getitem__(self, word) -> np.ndarray:
        return self.get_word_vector(word)

    def __contains__(self, word) -> bool:
        return word in self._index

    def get_sentence_vector(self, text) -> np.ndarray:
        """A classifier's: the mean of the line's input rows (its words, their n-grams and "</s>");
        word vectors': the mean of its words' vectors, each over its norm."""
        _one_line(text)
        if self.is_supervised():
            return self.classifier.sentence_vector(text).detach().cpu().float().numpy()
        total, count = np.zeros(self.get_dimension(), dtype=np.float32), 0
        for word in text.split():
            vector = self.get_word_vector(word)
            norm = float(np.linalg.norm(vector))
            if norm > 0:
                total += vector / norm
                count += 1
        return total / count if count else total

    def get_input_vector(self, ind) -> np.ndarray:
        return self._input[ind].float().numpy().copy()

    def get_input_matrix(self) -> np.ndarray:
        self._dense("get_input_matrix")
        return self._input.float().numpy().copy()

    def get_output_matrix(self) -> np.ndarray:
        self._dense("get_output_matrix")
        return self._output.float().numpy().copy()

    def _dense(self, what):
        if self.is_quantized():
            raise ValueError(f"{what}: a quantized model's matrices are codes, not numbers (fastText's refuses "
                             "too); use the .bin it was made from")

    # neighbours
    def get_nearest_neighbors(self, word, k=10, on_unicode_error="strict"):
        """[(cosine similarity, word)] of the k words nearest to the word's vector, itself left out."""
        return self._nearest(torch.from_numpy(self.get_word_vector(word)), k, {word})

    def get_analogies(self, wordA, wordB, wordC, k=10, on_unicode_error="strict"):
        """[(score, word)] nearest to A - B + C, each vector over its norm first, A, B, C left out."""
        query = torch.zeros(self.get_dimension(), dtype=torch.float64)
        for word, sign in ((wordA, 1.0), (wordB, -1.0), (wordC, 1.0)):
            vector = torch.from_numpy(self.get_word_vector(word)).double()
            query += sign * vector / (vector.norm() + 1e-8)
        return self._nearest(query, k, {wordA, wordB, wordC})

    def _nearest(self, query, k, banned):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        if self._unit_rows is None:
            vectors = torch.from_numpy(np.stack([self.get_word_vector(w) for w in self._words])).double() \
                if self._words else torch.zeros(0, self.get_dimension(), dtype=torch.float64)
            norms = vectors.norm(dim=1, keepdim=True)
            self._unit_rows = torch.where(norms > 0, vectors / norms.clamp_min(1e-30), vectors)
        norm = float(query.double().norm())
        scores = self._unit_rows @ query.double() / (norm if abs(norm) >= 1e-8 else 1.0)
        order = torch.argsort(scores, descending=True, stable=True).tolist()
        found = [(float(scores[i]), self._words[i]) for i in order if self._words[i] not in banned][:k]
        return [(score, word) for score, word in found if not math.isnan(score)]

    # a classifier's
    def predict(self, text, k=1, threshold=0.0, on_unicode_error="strict"):
        """For a str, (labels, probabilities); for a list of str, ([labels, ...], probabilities: one
        row per text, a 2-D array when every text has as many labels)."""
        labels, probabilities = self._supervised("predict").predict(text, k, threshold)
        if isinstance(text, str):
            return labels, probabilities.astype(np.float64)
        rows = [p.astype(np.float64) for p in probabilities]
        same = len({len(p) for p in rows}) <= 1
        return [list(names) for names in labels], (np.array(rows).reshape(len(rows), -1) if same else rows)

    def test(self, path, k=1, threshold=0.0):
        return self._supervised("test").test(path, k, threshold)

    def test_label(self, path, k=1, threshold=0.0):
        """{label: {"precision", "recall", "f1score"}} over a labelled file, as fastText's."""
        scores = self._supervised("test_label").test_label(path, k, threshold)
        return {label: {"precision": p, "recall": r, "f1score": f} for label, (f, p, r) in scores.items()}

    def get_line(self, text, on_unicode_error="strict"):
        """(words, labels) of a line, or of each line of a list: its tokens split by whitespace, the
        words with fastText's "</s>" at the end, the labels those the model knows."""
        if isinstance(text, list):
            return [self.get_line(t) for t in text]
        _one_line(text)
        prefix = self.classifier.dictionary.label_prefix if self.is_supervised() else LABEL_PREFIX
        tokens = text.split()
        known = set(self._labels)  # fastText keeps the labels its dictionary holds, and ends the line
        return [t for t in tokens if not t.startswith(prefix)] + [EOS], [t for t in tokens if t in known]

    def _supervised(self, what):
        if not self.is_supervised():
            raise ValueError(f"{what} needs a supervised model (a classifier); this one holds word vectors")
        return self.classifier

    # files
    def save_model(self, path) -> None:
        """fastText's .bin: a classifier's, or a subword model's (fastText has no other kind)."""
        if self.is_supervised():
            self.classifier.save(path)
        else:
            self.vectors.save(path, format="fasttext")

    def quantize(self, input=None, qout=False, cutoff=0, retrain=False, epoch=None, lr=None, thread=None,
                 verbose=None, dsub=2, qnorm=False) -> None:
        """fastText's quantize, in place: save_model then writes its .ftz (wordembed.quantize_classifier)."""
        from ..train import quantize_classifier
        classifier = self._supervised("quantize (fastText quantizes classifiers only)")
        self.__init__(classifier=quantize_classifier(classifier, input, cutoff=cutoff, retrain=retrain, qnorm=qnorm,
                                                     qout=qout, dsub=dsub, epochs=epoch, lr=lr, threads=thread))


def _one_line(text):
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if "\n" in text:
        raise ValueError("a text is one line: remove its '\\n'")
