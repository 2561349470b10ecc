"""The settings of fastText's quantize (training/quantize.py), declared as every setting is
(settings.py): the command line's options and wordembed.fasttext's keywords come from here."""
import dataclasses

from .settings import check_declared, setting


@dataclasses.dataclass
class QuantizeConfig:
    """fastText's quantize settings (the retraining's epochs, lr and threads: the model's own when None)."""
    cutoff: int = setting(0, "keep this many input rows (words and n-grams), those of largest norm; 0: all",
                          fasttext="cutoff", low=0)
    retrain: bool = setting(False, "with cutoff, train the rows kept again on the input file", fasttext="retrain")
    qnorm: bool = setting(False, "quantize each row's norm apart from its direction", fasttext="qnorm")
    qout: bool = setting(False, "quantize the output matrix too (it needs at least 256 labels)", fasttext="qout")
    dsub: int = setting(2, "numbers of a row stored in each byte", fasttext="dsub", low=1)
    epochs: int | None = setting(None, "passes of the retraining", fasttext="epoch", low=1)
    lr: float | None = setting(None, "learning rate of the retraining", fasttext="lr", low=0.0, positive=True)
    threads: int | None = setting(None, "threads of the retraining", fasttext="thread", low=1)

    def check(self):
        check_declared(self)
