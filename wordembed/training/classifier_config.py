"""The classifier's settings (ClassifierConfig): fastText's supervised settings, under their
Python names and with their defaults (`fasttext supervised`: lr 0.1, dim 100, epoch 5, minCount 1,
minCountLabel 0, neg 5, wordNgrams 1, loss softmax, bucket 2,000,000, minn/maxn 0), plus the
settings every wordembed run has (threads, seed, deterministic, checkpoints, backend). Imports no
compiled code, as config.py."""
import dataclasses

import torch

from ..arguments import BACKENDS
from ..errors import TrainingError
from ..text.labelled import LABEL_PREFIX, check_label_prefix
from .config import MAX_NEGATIVE, MAX_THREADS, check_device, divergence_hint
from .settings import INT64_MAX, check_declared, setting

LOSSES = ("softmax", "ns", "hs", "ova")  # the compiled op's loss numbers, in this order
MAX_WORD_NGRAMS = 64


@dataclasses.dataclass
class ClassifierConfig:
    dim: int = setting(100, "length of the word vectors", fasttext="dim", low=1, high=1 << 16)
    lr: float = setting(0.1, "learning rate at the start; it falls linearly to 0", fasttext="lr", low=0,
                        positive=True)
    epochs: int = setting(5, "passes over the data", fasttext="epoch", low=1)
    word_ngrams: int = setting(1, "also learn runs of up to this many words (hashed into bucket rows)",
                               fasttext="wordNgrams", low=1, high=MAX_WORD_NGRAMS)
    # rows for word and char n-grams; None: fastText's 2,000,000 where there are any n-grams, else none
    bucket: int | None = setting(None, "rows for word and char n-grams (default: 2000000 where there are any, as "
                                 "fastText)", fasttext="bucket", low=0, high=2**31 - 1)
    minn: int = setting(0, "shortest char n-gram (with maxn)", fasttext="minn", low=0, high=64)
    maxn: int = setting(0, "longest char n-gram (0: none)", fasttext="maxn", low=0, high=64)
    min_count: int = setting(1, "keep words seen at least this often (their n-grams still count)",
                             fasttext="minCount", low=1)
    min_count_label: int = setting(0, "keep labels seen at least this often", fasttext="minCountLabel", low=0)
    neg: int = setting(5, "negatives per example (loss ns)", fasttext="neg", low=1, high=MAX_NEGATIVE)
    loss: str = setting("softmax", "softmax; ns: negative sampling; hs: hierarchical softmax; ova: one-vs-all "
                        "(multi-label)", fasttext="loss", choices=LOSSES)
    label_prefix: str = setting(LABEL_PREFIX, "what starts a label token", fasttext="label")
    threads: int | None = setting(None, "training threads (default: the cores torch uses)", fasttext="thread",
                                  low=1, high=MAX_THREADS)
    seed: int = setting(0, "seed of the initial vectors and of every draw", fasttext="seed", low=0, high=INT64_MAX)
    deterministic: bool = setting(False, "one thread: the same seed and settings give bit-identical models")
    # Each epoch visits the lines in a fresh order drawn from the seed (training/chunks.py);
    # False: in file order (a file grouped by label then learns mostly its last labels).
    shuffle: bool = setting(True, "train the lines in the file's order every epoch (default: a fresh order each "
                            "epoch, drawn from the seed; in file order, a file grouped by label learns mostly its "
                            "last labels)", option="--no-shuffle")
    chunk_words: int | None = setting(None, "ids (labels and input rows) per call of the compiled trainer (default "
                                      "2^18)", low=1, high=1 << 30)
    checkpoint_seconds: float = setting(300.0, "save a checkpoint this often, as well as at epoch ends and on "
                                        "Ctrl-C", low=0)
    backend: str = setting("fused", "fused: the compiled trainer; reference: its plain-PyTorch twin (tests)",
                           choices=BACKENDS)
    device: str = setting("cpu", "the classifier trains on the CPU")
    init_scale: float = setting(1.0, "input rows start uniform in +-INIT_SCALE/dim (fastText: 1)", low=0)

    @property
    def buckets(self) -> int:
        """The n-gram rows there are: fastText's rule, none where nothing is hashed."""
        if self.word_ngrams <= 1 and self.maxn == 0:
            return 0
        return 2_000_000 if self.bucket is None else self.bucket

    # what the stages read (tables.alpha_at): the rate falls from lr to 0, as fastText's
    @property
    def start_alpha(self) -> float:
        return self.lr

    min_alpha = 0.0

    def divergence_hint(self) -> str:
        """What to change when training diverges (training/loop.py)."""
        return divergence_hint("lr", self.lr, self.init_scale, ClassifierConfig.init_scale)

    @property
    def words_per_chunk(self) -> int:
        return self.chunk_words if self.chunk_words is not None else 1 << 18

    def check(self):
        """TrainingError naming the first setting of the wrong type or out of range."""
        check_declared(self)
        if self.maxn and not 1 <= self.minn <= self.maxn:
            raise TrainingError(f"char n-grams need 1 <= minn <= maxn, got minn {self.minn} and maxn {self.maxn}")
        if self.bucket == 0 and (self.word_ngrams > 1 or self.maxn):
            raise TrainingError("word n-grams (word_ngrams > 1) and char n-grams (maxn > 0) need bucket > 0")
        try:
            check_label_prefix(self.label_prefix)
        except ValueError as e:
            raise TrainingError(str(e)) from None
        check_device(self.device, self.backend, "wordembed::ns_train_chunk_")
        if torch.device(self.device).type != "cpu":
            raise TrainingError("the classifier trains on the CPU (its CUDA trainer is not written yet); a trained "
                                "Classifier is a torch.nn.Module that predicts and fine-tunes on any device")
