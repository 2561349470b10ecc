"""Classifier: fastText's supervised text classifier as a torch.nn.Module. A text is the bag of
its words' rows, its hashed word n-gram rows and (with minn/maxn) its words' char n-gram rows
(wordembed/text/labelled.py); the bag's mean (`embedding`, a ContextSum) goes through a linear
layer over the labels (`linear`, no bias). Its file is fastText's supervised .bin (files.py)."""
import os

import torch

from ..fileio import check_input_file
from ..nn import ContextSum
from ..text import labelled
from ..text.labelled import LABEL_PREFIX, LabelledDictionary
from ..vectors.quantized import QuantizedTable
from . import files, predictions
from .tree import padded_paths

_LINES_PER_BATCH = 1 << 14  # lines scored at once when predicting a file


class Classifier(torch.nn.Module):
    """forward(input, offsets) gives each bag's label scores (B, L): the logits for the losses
    softmax, ns and ova, and each label's log-probability under the tree for hs. input and
    offsets are nn.EmbeddingBag's 1-D form, as encode() makes them from text."""

    def __init__(self, dictionary: LabelledDictionary, input_vectors: torch.Tensor, output_vectors: torch.Tensor,
                 settings: dict, bucket_rows: torch.Tensor | None = None, quantized: tuple | None = None):
        """bucket_rows: a pruned model's row of each n-gram bucket (text.labelled.keep_bucket_rows);
        quantized: a quantized model's (input, output or None) QuantizedTables, which the tables
        decode (vectors/quantized.py; wordembed.quantize_classifier makes them)."""
        super().__init__()
        self.dictionary, self.settings = dictionary, dict(settings)
        self.bucket_rows, self.quantized = bucket_rows, quantized
        L, D = len(dictionary.labels), input_vectors.shape[1]
        ngram_rows = settings["bucket"] if bucket_rows is None else int((bucket_rows >= 0).sum())
        if output_vectors.shape != (L, D) or input_vectors.shape[0] != dictionary.nwords + ngram_rows:
            raise ValueError(f"tables of {tuple(input_vectors.shape)} and {tuple(output_vectors.shape)} do not fit "
                             f"{dictionary.nwords} words, {ngram_rows} n-gram rows and {L} labels")
        self.embedding = ContextSum.from_pretrained(input_vectors, freeze=False, mode="mean")
        self.linear = torch.nn.Linear(D, L, bias=False, dtype=output_vectors.dtype)
        self.linear.weight = torch.nn.Parameter(output_vectors)
        self._paths = padded_paths(dictionary.label_counts) if self.loss == "hs" else None
        self._entries = dictionary.entries()  # the encoder's vocabulary, joined once, not at every predict

    # what it is
    @property
    def loss(self) -> str:
        return self.settings["loss"]

    @property
    def labels(self) -> list:
        return list(self.dictionary.labels)

    @property
    def words(self) -> list:
        return list(self.dictionary.words)

    @property
    def input_vectors(self) -> torch.Tensor:
        return self.embedding.weight

    @property
    def output_vectors(self) -> torch.Tensor:
        return self.linear.weight

    def extra_repr(self) -> str:
        s = self.settings
        return (f"words={self.dictionary.nwords:,}, labels={len(self.dictionary.labels)}, loss={self.loss!r}, "
                f"word_ngrams={s['wordNgrams']}, bucket={s['bucket']:,}, minn={s['minn']}, maxn={s['maxn']}")

    # the model
    def forward(self, input: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        hidden = self.embedding(input, offsets)
        logits = self.linear(hidden)
        if self.loss != "hs":
            return logits
        nodes, codes, mask = (t.to(logits.device) for t in self._paths)
        f = logits[:, nodes]  # each label's path decisions: log sigmoid of +-logit
        return (torch.nn.functional.logsigmoid(torch.where(codes, f, -f)) * mask).sum(-1)

    def encode(self, texts):
        """(input, offsets) int64 tensors of texts (a str or a list of str, one line each), on
        this model's device: each text's input rows, as fastText reads a line (its labels, if
        any, left out; every text ends with fastText's "</s>")."""
        input, offsets, _ = self._encode(labelled.text_tensor(labelled.lines_bytes(_as_list(texts))))
        return input, offsets

    def _encode(self, text: torch.Tensor):
        """(input, offsets, each line's labels) of every line of a uint8 text tensor."""
        s = self.settings
        ids, starts = labelled.encode(text, self.dictionary, s["wordNgrams"], s["bucket"], s["minn"], s["maxn"],
                                      keep_unlabelled=True, entries=self._entries, bucket_rows=self.bucket_rows)
        is_label = ids < 0
        line = torch.repeat_interleave(torch.arange(len(starts) - 1), starts.diff())
        labels = -1 - ids[is_label]
        gold = [[] for _ in range(len(starts) - 1)]
        for i, label in zip(line[is_label].tolist(), labels.tolist()):
            gold[i].append(label)
        rows, row_line = ids[~is_label].long(), line[~is_label]
        offsets = torch.searchsorted(row_line, torch.arange(len(starts) - 1))
        device = self.input_vectors.device
        return rows.to(device), offsets.to(device), gold

    # what fastText's Python API does
    @torch.no_grad()
    def _predict_encoded(self, input, offsets, k, threshold):
        """Per line, (label indices, probabilities), scored a batch of lines at a time."""
        if not isinstance(k, int) or isinstance(k, bool) or (k < 1 and k != -1):
            raise ValueError(f"k must be a whole number >= 1 (or -1: every label), got {k!r}")
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be a number from 0 to 1, got {threshold!r}")
        bounds = torch.cat([offsets, offsets.new_tensor([len(input)])])
        indices, probabilities = [], []
        for b in range(0, len(offsets), _LINES_PER_BATCH):
            lo, hi = int(bounds[b]), int(bounds[min(b + _LINES_PER_BATCH, len(offsets))])
            batch_offsets = offsets[b:b + _LINES_PER_BATCH] - lo
            hidden = self.embedding(input[lo:hi], batch_offsets)
            scores = predictions.label_scores(self.loss, hidden, self.output_vectors, self._paths)
            empty = bounds[b + 1:b + 1 + len(batch_offsets)] - bounds[b:b + len(batch_offsets)] == 0
            i, p = predictions.best_labels(scores.float().cpu(), k, float(threshold), empty.cpu())
            indices += i
            probabilities += p
        return indices, probabilities

    def predict(self, text, k: int = 1, threshold: float = 0.0):
        """fastText's predict: for a str, (labels, probabilities) of its k best labels of at least
        the threshold, best first (k -1: all of them); for a list of str, ([labels, ...],
        [probabilities, ...]). A text is one line: a newline inside is a ValueError."""
        input, offsets = self.encode(text)
        indices, probabilities = self._predict_encoded(input, offsets, k, threshold)
        names = self.dictionary.labels
        labels = [tuple(names[i] for i in row.tolist()) for row in indices]
        probabilities = [row.numpy() for row in probabilities]
        return (labels[0], probabilities[0]) if isinstance(text, str) else (labels, probabilities)

    def predict_file(self, path, k: int = 1, threshold: float = 0.0):
        """Every line of a file (or bytes), as predict gives it for a str, in one list each."""
        input, offsets, _ = self._encode(labelled.text_tensor(path))
        indices, probabilities = self._predict_encoded(input, offsets, k, threshold)
        names = self.dictionary.labels
        return [tuple(names[i] for i in row.tolist()) for row in indices], [row.numpy() for row in probabilities]

    def test(self, path, k: int = 1, threshold: float = 0.0):
        """fastText's test on a labelled file (or bytes): (N, precision at k, recall at k) over
        its lines that have a label this model knows and an input row."""
        return predictions.precision_recall(*self._scored(path, k, threshold))

    def test_label(self, path, k: int = 1, threshold: float = 0.0) -> dict:
        """fastText's test-label: {label: (F1, precision, recall)} for every label of the model, over
        the lines test scores (NaN where a ratio has nothing to count)."""
        return predictions.label_scores_table(*self._scored(path, k, threshold), self.dictionary.labels)

    def _scored(self, path, k, threshold):
        """(predicted label indices, gold label indices) of the lines test scores."""
        indices, _, gold = self.scored_predictions(path, k, threshold)
        return [i.tolist() for i in indices], gold

    def scored_predictions(self, path, k: int = 1, threshold: float = 0.0):
        """(predicted label indices, their probabilities, gold label indices), one entry per line
        that test scores (a labelled file, or bytes): those with a label this model knows and an
        input row."""
        if not isinstance(path, (bytes, bytearray)):
            check_input_file(path, "test")
        input, offsets, gold = self._encode(labelled.text_tensor(path))
        indices, probabilities = self._predict_encoded(input, offsets, k, threshold)
        lengths = torch.diff(torch.cat([offsets, offsets.new_tensor([len(input)])])).tolist()
        scored = [i for i, g in enumerate(gold) if g and lengths[i] > 0]
        return [indices[i] for i in scored], [probabilities[i] for i in scored], [gold[i] for i in scored]

    @torch.no_grad()
    def sentence_vector(self, text: str) -> torch.Tensor:
        """The mean of the text's input rows (fastText's get_sentence_vector for a classifier)."""
        input, offsets = self.encode(text)
        return self.embedding(input, offsets)[0]

    @property
    def is_quantized(self) -> bool:
        return self.quantized is not None

    # files
    def save(self, path, format: str | None = None) -> None:
        """fastText's supervised .bin (fasttext.load_model reads it), or its .ftz for a quantized
        model, written whole or not at all; format: None or "fasttext", the only one."""
        if format not in (None, "fasttext"):
            raise ValueError(f"a classifier is saved as fastText's supervised .bin, not {format!r}")
        keys = ("dim", "epoch", "minCount", "neg", "wordNgrams", "loss", "bucket", "minn", "maxn")
        settings = {key: self.settings[key] for key in keys if key in self.settings}
        settings["dim"] = self.input_vectors.shape[1]
        inputs, outputs = self.quantized if self.is_quantized else (self.input_vectors, self.output_vectors)
        files.save_classifier(path, self.dictionary, inputs, self.output_vectors if outputs is None else outputs,
                              {"epoch": 5, "minCount": 1, "neg": 5, **settings}, self.bucket_rows)

    @classmethod
    def load(cls, path, label_prefix: str = LABEL_PREFIX) -> "Classifier":
        """A supervised .bin that fastText or wordembed wrote. label_prefix: what marks a label in
        the texts given to predict (fastText's files do not hold it; fastText assumes __label__)."""
        check_input_file(path, "model")
        dictionary, inputs, outputs, settings, bucket_rows = files.load_classifier(
            path, labelled.check_label_prefix(label_prefix))
        quantized = None
        if isinstance(inputs, QuantizedTable):
            quantized = (inputs, outputs if isinstance(outputs, QuantizedTable) else None)
            inputs, outputs = inputs.decode(), outputs.decode() if quantized[1] is not None else outputs
        return cls(dictionary, inputs, outputs, settings, bucket_rows, quantized)


def _as_list(texts):
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, (list, tuple)):
        return list(texts)
    raise TypeError(f"text must be a str or a list of str, got {type(texts).__name__}")
