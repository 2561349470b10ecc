"""The settings of autotune (training/autotune.py), declared as every setting is (settings.py),
and the two that are small languages of their own: the metric and the model size."""
import dataclasses
import re

from ..errors import TrainingError
from .settings import check_declared, setting

METRICS = ("f1", "precisionAtRecall", "recallAtPrecision")
SIZE_UNITS = {"": 1, "k": 1000, "K": 1000, "m": 10**6, "M": 10**6, "g": 10**9, "G": 10**9}


@dataclasses.dataclass
class AutotuneConfig:
    """What autotune searches for and for how long (fastText's -autotune-* options)."""
    validation: str | None = setting(None, "a labelled file: search the settings that score best on it",
                                     fasttext="autotune-validation", option="--autotune-validation")
    metric: str = setting("f1", "what the search maximizes: f1, f1:LABEL, precisionAtRecall:R, "
                          "precisionAtRecall:R:LABEL, recallAtPrecision:P, recallAtPrecision:P:LABEL (R and P in "
                          "percent)", fasttext="autotune-metric", option="--autotune-metric")
    predictions: int = setting(1, "labels predicted per line when a trial is scored", fasttext="autotune-predictions",
                               option="--autotune-predictions", low=1)
    duration: float = setting(300.0, "seconds the search may take", fasttext="autotune-duration",
                              option="--autotune-duration", low=0.0, positive=True)
    model_size: str | None = setting(None, "the largest file the model may be (such as 2M, 500K): each trial is "
                                     "quantized to fit", fasttext="autotune-modelsize", option="--autotune-modelsize")

    def check(self):
        check_declared(self)
        parse_metric(self.metric)
        parse_size(self.model_size)

    @property
    def size_bytes(self) -> int | None:
        return parse_size(self.model_size)


def parse_metric(metric: str):
    """(kind, value, label) of a metric: kind one of METRICS, value a fraction (or None), label a
    label's name (or None)."""
    if metric == "f1":
        return "f1", None, None
    if metric.startswith("f1:") and len(metric) > 3:
        return "f1", None, metric[3:]
    kind, _, rest = metric.partition(":")
    value, _, label = rest.partition(":")
    number = re.fullmatch(r"\d+(\.\d*)?", value) is not None
    if kind in METRICS[1:] and number and float(value) <= 100 and (label or ":" not in rest):
        return kind, float(value) / 100, label or None
    raise TrainingError(f"unknown autotune metric {metric!r}: use f1, f1:LABEL, precisionAtRecall:R[:LABEL] or "
                        "recallAtPrecision:P[:LABEL], with R and P in percent")


def parse_size(size: str | None) -> int | None:
    """Bytes of a size such as 2M, 500K or 100000 (k, m, g: thousands, millions, billions)."""
    if size is None:
        return None
    match = re.fullmatch(r"(\d+)([kKmMgG]?)", size) if isinstance(size, str) else None
    if match is None or int(match.group(1)) == 0:
        raise TrainingError(f"model size {size!r} should be a whole number of bytes, with k, M or G after it if "
                            "wanted (such as 2M)")
    return int(match.group(1)) * SIZE_UNITS[match.group(2)]
