"""The classifier's settings (ClassifierConfig): fastText's supervised settings, under their
Python names and with their defaults (`fasttext supervised`: lr 0.1, dim 100, epoch 5, minCount 1,
minCountLabel 0, neg 5, wordNgrams 1, loss softmax, bucket 2,000,000, minn/maxn 0), plus the
settings every wordembed run has (threads, seed, deterministic, checkpoints, backend). Imports no
compiled code, as config.py."""
import dataclasses

import torch

from ..arguments import check_backend
from ..errors import TrainingError
from ..text.labelled import LABEL_PREFIX, check_label_prefix
from .config import MAX_NEGATIVE, MAX_THREADS, check_device, check_flag, check_number, check_whole, divergence_hint

LOSSES = ("softmax", "ns", "hs", "ova")  # the compiled op's loss numbers, in this order
MAX_WORD_NGRAMS = 64


@dataclasses.dataclass
class ClassifierConfig:
    dim: int = 100
    lr: float = 0.1              # falls linearly to 0 over all epochs, as fastText's
    epochs: int = 5
    word_ngrams: int = 1         # runs of up to this many words, hashed into `bucket` rows
    # rows for word and char n-grams; None: fastText's 2,000,000 where there are any n-grams, else none
    bucket: int | None = None
    minn: int = 0                # char n-grams of minn..maxn characters of "<word>" (0: none)
    maxn: int = 0
    min_count: int = 1           # words seen fewer times are left out (their n-grams still count)
    min_count_label: int = 0
    neg: int = 5                 # negatives per example (loss "ns")
    loss: str = "softmax"        # or "ns", "hs" (hierarchical softmax), "ova" (one-vs-all, multi-label)
    label_prefix: str = LABEL_PREFIX
    threads: int | None = None   # default: torch's intra-op thread count
    seed: int = 0
    deterministic: bool = False  # one thread: bit-identical for a fixed seed
    # Each epoch visits the lines in a fresh order drawn from the seed (training/chunks.py);
    # False: in file order (a file grouped by label then learns mostly its last labels).
    shuffle: bool = True
    chunk_words: int | None = None  # ids (labels and input rows) per call of the compiled op (default 2^18)
    checkpoint_seconds: float = 300.0
    backend: str = "fused"       # or "reference": the plain-PyTorch twin, for tests
    device: str = "cpu"
    init_scale: float = 1.0      # input rows start uniform in +-init_scale / dim (fastText: 1)

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
        for name, low, high in (("dim", 1, 1 << 16), ("epochs", 1, None), ("word_ngrams", 1, MAX_WORD_NGRAMS),
                                ("minn", 0, 64), ("maxn", 0, 64), ("min_count", 1, None),
                                ("min_count_label", 0, None), ("neg", 1, MAX_NEGATIVE), ("seed", 0, (1 << 63) - 1)):
            check_whole(self, name, low, high)
        check_whole(self, "bucket", 0, 2**31 - 1, optional=True)
        check_whole(self, "threads", 1, MAX_THREADS, optional=True)
        check_whole(self, "chunk_words", 1, 1 << 30, optional=True)
        check_number(self, "lr", 0, positive=True)
        check_number(self, "checkpoint_seconds", 0)
        check_number(self, "init_scale", 0)
        if self.loss not in LOSSES:
            raise TrainingError(f"loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if self.maxn and not 1 <= self.minn <= self.maxn:
            raise TrainingError(f"char n-grams need 1 <= minn <= maxn, got minn {self.minn} and maxn {self.maxn}")
        if self.bucket == 0 and (self.word_ngrams > 1 or self.maxn):
            raise TrainingError("word n-grams (word_ngrams > 1) and char n-grams (maxn > 0) need bucket > 0")
        check_flag(self, "deterministic")
        check_flag(self, "shuffle")
        try:
            check_label_prefix(self.label_prefix)
            check_backend(self.backend)
        except ValueError as e:
            raise TrainingError(str(e)) from None
        check_device(self.device, self.backend, "wordembed::ns_train_chunk_")
        if torch.device(self.device).type != "cpu":
            raise TrainingError("the classifier trains on the CPU (its CUDA trainer is not written yet); a trained "
                                "Classifier is a torch.nn.Module that predicts and fine-tunes on any device")
