"""fastText's autotune: search the classifier's settings that score best on a validation file,
within a time budget. Each trial trains a classifier on the training file with settings drawn
around the best so far (the first trial: the settings given), scores it by the chosen metric
on the validation file, and keeps it if it is the best; the spread of the draws narrows as the
budget runs out. Settings the user gave are kept as given. With a model size, each trial is
quantized (with retraining) to fit, its cutoff computed from the size.

Unlike fastText, the best trial's model is the result (fastText trains once more with the best
settings, after the budget): so the budget is the whole time, and the model returned is the one
that scored. A trial still training when the budget ends stops at its next epoch's end."""
import dataclasses
import io
import math
import os
import random
import tempfile
import time

from ..classify import predictions
from ..errors import TrainingError
from .autotune_config import AutotuneConfig, parse_metric
from .classifier_config import ClassifierConfig
from .quantize import quantize_classifier
from .quantize_config import QuantizeConfig

TUNED = ("epochs", "lr", "dim", "word_ngrams", "minn", "maxn", "bucket", "loss")
MINN_CHOICES = (0, 2, 3)  # with maxn = minn + 3 (0: no char n-grams)
# (low, high, spread at the start, spread at the end): a scale factor 2^N(0, spread) for the
# first four, a step N(0, spread) for the counts
SCALED = {"epochs": (1, 100, 2.8, 2.5), "lr": (0.01, 5.0, 1.9, 1.0), "dim": (1, 1000, 1.4, 0.3),
          "bucket": (10_000, 10_000_000, 2.0, 1.5)}
STEPPED = {"word_ngrams": (1, 5, 4.3, 2.4), "minn_choice": (0, len(MINN_CHOICES) - 1, 4.0, 1.4),
           "dsub_power": (1, 4, 2.0, 1.0)}


class _TimeUp(Exception):
    """The budget ended while a trial trained."""


class SearchStrategy:
    """Draws each trial's settings around the best so far."""

    def __init__(self, start: ClassifierConfig, fixed, seed: int):
        self.best, self.fixed, self.rng = start, set(fixed), random.Random(seed)
        self.best_dsub_power, self.best_bucket, self.trials = 1, start.bucket or 2_000_000, 0

    def _spread(self, first, last, progress):
        return first - (first - last) * min(1.0, max(0.0, (progress - 0.25) / 0.5))

    def _scaled(self, name, value, progress):
        low, high, first, last = SCALED[name]
        drawn = value * 2 ** self.rng.gauss(0, self._spread(first, last, progress))
        return min(high, max(low, drawn if isinstance(low, float) else int(drawn)))

    def _stepped(self, name, value, progress):
        low, high, first, last = STEPPED[name]
        return min(high, max(low, int(value + self.rng.gauss(0, self._spread(first, last, progress)))))

    def ask(self, progress: float):
        """(settings, dsub) of the next trial; progress: the part of the budget spent."""
        self.trials += 1
        if self.trials == 1:
            return self.best, 2 ** self.best_dsub_power
        best, drawn = self.best, {}
        for name in ("epochs", "lr", "dim"):
            drawn[name] = self._scaled(name, getattr(best, name), progress)
        drawn["word_ngrams"] = self._stepped("word_ngrams", best.word_ngrams, progress)
        minn_choice = MINN_CHOICES.index(best.minn) if best.minn in MINN_CHOICES else 0
        drawn["minn"] = MINN_CHOICES[self._stepped("minn_choice", minn_choice, progress)]
        drawn["bucket"] = self._scaled("bucket", self.best_bucket, progress)
        drawn["loss"] = "softmax"
        settings = dataclasses.replace(best, **{k: v for k, v in drawn.items() if k not in self.fixed})
        if "maxn" not in self.fixed:
            settings = dataclasses.replace(settings, maxn=settings.minn + 3 if settings.minn else 0)
        if settings.word_ngrams <= 1 and settings.maxn == 0 and "bucket" not in self.fixed:
            settings = dataclasses.replace(settings, bucket=0)
        return settings, 2 ** self._stepped("dsub_power", self.best_dsub_power, progress)

    def tell_best(self, settings: ClassifierConfig, dsub: int):
        self.best, self.best_dsub_power = settings, int(math.log2(dsub))
        if settings.bucket:
            self.best_bucket = settings.bucket


def metric_score(classifier, path, metric: str, k: int) -> float:
    """The classifier's score on a labelled file by an autotune metric (higher is better)."""
    kind, value, label = parse_metric(metric)
    label_id = None
    if label is not None:
        if label not in classifier.labels:
            raise ValueError(f"the autotune metric's label {label!r} is not a label of the training file")
        label_id = classifier.labels.index(label)
    if kind == "f1":
        indices, _, gold = classifier.scored_predictions(path, k)
        predicted = [i.tolist() for i in indices]
        if label_id is None:
            _, precision, recall = predictions.precision_recall(predicted, gold)
            return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        f1 = predictions.label_scores_table(predicted, gold, classifier.labels)[label][0]
        return 0.0 if math.isnan(f1) else f1
    indices, probabilities, gold = classifier.scored_predictions(path, k if label_id is None else -1)
    scores, right = [], []
    for line_labels, line_probabilities, truth in zip(indices, probabilities, gold):
        for i, p in zip(line_labels.tolist(), line_probabilities.tolist()):
            if label_id is None or i == label_id:
                scores.append(p)
                right.append(i in truth)
    golds = sum(len(t) for t in gold) if label_id is None else sum(label_id in t for t in gold)
    points = predictions.precision_recall_curve(scores, right, golds)
    if kind == "precisionAtRecall":
        return predictions.precision_at_recall(points, value)
    return predictions.recall_at_precision(points, value)


@dataclasses.dataclass
class Trial:
    score: float
    model: object
    settings: ClassifierConfig
    dsub: int


def autotune(path, start: ClassifierConfig, fixed, tune: AutotuneConfig, log=None, pretrained_vectors=None):
    """(the best trial, every trial's (settings, dsub, score or None, seconds)): the search over
    `path` (a labelled file), from the settings `start`, keeping the names in `fixed` as they are.
    log: where the progress goes (None: nowhere)."""
    tune.check()
    if tune.validation is None:
        raise TrainingError("autotune needs a validation file (autotune-validation)")
    strategy, begin = SearchStrategy(start, fixed, start.seed), time.monotonic()
    best, trials, too_large = None, [], 0
    with tempfile.TemporaryDirectory(prefix="wordembed-autotune-") as work:
        while time.monotonic() - begin < tune.duration:
            settings, dsub = strategy.ask((time.monotonic() - begin) / tune.duration)
            started, score = time.monotonic(), None
            trials.append((settings, dsub, score, 0.0))
            try:
                model = _trial(path, settings, os.path.join(work, f"trial-{len(trials)}"), begin + tune.duration,
                               pretrained_vectors)
                if tune.size_bytes is not None:
                    model = _fit_size(model, path, dsub, tune.size_bytes, work)
                    too_large += model is None
                    if model is None:
                        continue
                score = metric_score(model, tune.validation, tune.metric, tune.predictions)
            except _TimeUp:
                break
            except (TrainingError, MemoryError):  # diverged, or more memory than there is: the next draw
                continue
            finally:
                trials[-1] = (settings, dsub, score, time.monotonic() - started)
            if best is None or score > best.score:
                best = Trial(score, model, settings, dsub)
                strategy.tell_best(settings, dsub)
            _report(log, begin, tune.duration, len(trials), best)
    if log is not None:
        print(file=log)
    if best is None:
        raise TrainingError("no trial fitted the model size: raise autotune-modelsize" if too_large else
                            f"no trial finished in {tune.duration:g} s: raise autotune-duration")
    return best, trials


def _trial(path, settings, work_dir, deadline, pretrained_vectors):
    from .classifier import Supervised
    from .trainer import Trainer

    def stop_at_deadline(trainer, entry):
        if time.monotonic() > deadline:
            raise _TimeUp()
    trainer = Trainer(path, settings, work_dir, [stop_at_deadline], io.StringIO(), objective=Supervised(settings),
                      init=pretrained_vectors, checkpoints=False)
    return trainer.fit()


def _fit_size(model, path, dsub, size, work):
    """The model quantized (cutoff, retrain, qnorm; qout with 256 labels or more) into a file of at
    most `size` bytes, or None where even the least cutoff is too large."""
    dim, labels = model.input_vectors.shape[1], len(model.labels)
    qout = labels >= 256
    slices = -(-dim // dsub)
    output_bytes = labels * (-(-dim // 2) + 1) + 4 * 256 * (dim + 1) if qout else 4 * labels * dim
    fixed = 4096 + 4 * 256 * (dim + 1) + output_bytes + sum(len(label.encode()) + 10 for label in model.labels)
    cutoff = (size - fixed) // (slices + 1 + 16)  # a kept row: its codes, its norm's code, its entry at most
    for _ in range(2):
        if cutoff < 256:
            return None
        quantized = quantize_classifier(model, QuantizeConfig(cutoff=cutoff, retrain=True, qnorm=True, qout=qout,
                                                              dsub=dsub), path)
        saved = os.path.join(work, "size.ftz")
        quantized.save(saved)
        excess = os.path.getsize(saved) - size
        if excess <= 0:
            return quantized
        cutoff = int(cutoff * 0.95) - excess // (slices + 1)
    return None


def _report(log, begin, duration, trials, best):
    if log is None:
        return
    elapsed = time.monotonic() - begin
    left = max(0, int(duration - elapsed))
    print(f"\rProgress: {min(100.0, 100 * elapsed / duration):5.1f}% Trials: {trials:4d} Best score: "
          f"{best.score:9.6f} ETA: {left // 3600:3d}h{left // 60 % 60:2d}m{left % 60:2d}s", end="", file=log,
          flush=True)
