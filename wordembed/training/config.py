"""The trainer's settings (TrainConfig): one place for their defaults, meanings and ranges. It
imports no compiled code, so that the command line can show them where the extension is not
built."""
import dataclasses
import functools
import math
import numbers

import torch

from ..arguments import check_backend
from ..errors import TrainingError
from ..text.corpus import MAX_SENTENCE_WORDS
from ..text.tokenizing import Tokenizer

MAX_NEGATIVE = 1000  # negatives per example; word2vec suggests 2-20
MAX_THREADS = 1024
INT64_MAX = (1 << 63) - 1
MAX_TIMEOUT = 10**9  # seconds (about 32 years): what torch's timedelta can hold, with room
MODELS = ("cbow", "skipgram")
SYNC_SCHEMES = ("deltas", "average")  # how a distributed run's ranks agree (wordembed/distributed/sync.py)
# The learning rate each model starts from unless alpha is given: word2vec's defaults (gensim
# and word2vec.c use 0.025 for skip-gram and 0.05 for CBOW).
DEFAULT_ALPHA = {"cbow": 0.05, "skipgram": 0.025}
# Positions per minibatch on the CPU, per model, where the vectors score as well as the per-pair
# path's (benchmarks/bench_train.py, "wordembed per-pair"; docs/benchmarks.md, "CPU speed"). Skip-gram: each
# centre's pairs as one minibatch (Ji et al.'s), 1.41x the per-pair training speed on GCIDE and
# on WordNet's glosses, analogies within 0.5 points, word pairs above. CBOW: none; positions
# sharing a draw of negatives cost analogies (GCIDE: 0.5 points at 2 positions, 3.3 at 4, 5.2 at
# 8): neighbouring positions' contexts overlap, so one draw is pushed away from nearly the same
# mean several times.
DEFAULT_SHARED_NEGATIVES = {"cbow": 0, "skipgram": 1}
MAX_SHARED_NEGATIVES = 1024


@dataclasses.dataclass
class TrainConfig:
    model: str = "cbow"          # or "skipgram": each word predicts the words around it
    # fastText's subwords: the character n-grams of "<word>" of minn to maxn characters, hashed
    # into `bucket` rows (wordembed/text/subwords.py); bucket 0 (or maxn 0) trains words alone.
    minn: int = 3
    maxn: int = 6
    bucket: int = 0
    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    tokenize: str = "whitespace"  # or "words": punctuation split off words (tokenizing.py)
    lowercase: bool = False
    # Distinct words held while counting, at most (word2vec's and gensim's pruning: wordembed/
    # text/pipeline.py says what it may drop); None: no bound, exact counts.
    max_vocab_size: int | None = None
    max_final_vocab: int | None = None  # then keep only this many of the most frequent (gensim's name)
    sample: float = 1e-3
    epochs: int = 5
    alpha: float | None = None   # default DEFAULT_ALPHA[model]
    min_alpha: float | None = None  # default alpha * 1e-4, as word2vec
    # Input vectors start uniform in [-init_scale / dim, init_scale / dim); output vectors at zero.
    # word2vec uses 0.5 and gensim 4 uses 1.0; 4.0 learned better vectors on both corpora we
    # measured (GCIDE and WordNet glosses, 5 epochs: analogy +1.2 and +0.9 points over 0.5, and
    # better WordSim-353 and SimLex-999): larger random inputs get the output vectors moving sooner.
    init_scale: float = 4.0
    threads: int | None = None   # default: torch's intra-op thread count
    seed: int = 1
    device: str = "cpu"
    deterministic: bool = False  # one CPU thread or CUDA warp, bit-identical for a fixed seed
    # Each epoch visits the sentences in a fresh order drawn from the seed (training/chunks.py);
    # False: in file order, as word2vec and gensim do.
    shuffle: bool = True
    # Positions of a sentence that share one draw of negatives and train as one minibatch on the
    # CPU (Ji et al.'s HogBatch: csrc/cpu/ns_block.h); 0 trains every example alone (the per-pair
    # path, and the only one on CUDA). None: DEFAULT_SHARED_NEGATIVES on the CPU, 0 on CUDA.
    shared_negatives: int | None = None
    chunk_words: int | None = None  # words per call of the fused op (default 2^18 CPU, 2^22 CUDA)
    checkpoint_seconds: float = 300.0  # also at epoch ends and on Ctrl-C; 0: after every chunk
    backend: str = "fused"       # or "reference": the plain-PyTorch twin, for tests and benchmarks
    # A distributed run (launched by torchrun; wordembed/distributed/sync.py): how the ranks' tables are made
    # the same after each round of chunk_words words per rank, and how long a rank waits for the
    # others at a collective before it stops the run.
    sync: str = "deltas"         # or "average"
    sync_hot_rows: int = 1024    # deltas: the most frequent words' rows, summed after every round;
    #                              the next H every 2 rounds, the next 2H every 4, ... (sync.py)
    sync_full_every: int = 32    # deltas: a subword model's changed n-gram rows, every this many rounds
    dist_timeout: float = 300.0

    @property
    def start_alpha(self) -> float:
        """The learning rate at the start: alpha, or the model's default."""
        return DEFAULT_ALPHA.get(self.model, DEFAULT_ALPHA["cbow"]) if self.alpha is None else self.alpha

    def divergence_hint(self) -> str:
        """What to change when training diverges (training/loop.py)."""
        return divergence_hint("alpha", self.start_alpha, self.init_scale, TrainConfig.init_scale)

    @property
    def effective_shared_negatives(self) -> int:
        """shared_negatives, or its default on this device: 0 (every example alone) on CUDA."""
        if self.shared_negatives is not None:
            return self.shared_negatives
        on_cuda = torch.device(self.device).type == "cuda"
        return 0 if on_cuda else DEFAULT_SHARED_NEGATIVES.get(self.model, 0)

    @property
    def subwords(self) -> bool:
        return bool(self.bucket) and bool(self.maxn)

    def check(self):
        """TrainingError naming the first setting that is of the wrong type or out of range; run
        before any work starts."""
        whole, number = functools.partial(check_whole, self), functools.partial(check_number, self)
        if self.model not in MODELS:
            raise TrainingError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        whole("minn", 0)
        whole("maxn", 0)
        whole("bucket", 0, 2**31 - 1)
        if self.subwords and not 1 <= self.minn <= self.maxn:
            raise TrainingError(f"subwords need 1 <= minn <= maxn, got minn {self.minn} and maxn {self.maxn}")
        whole("dim", 1)
        whole("window", 1, MAX_SENTENCE_WORDS)  # a wider window reaches past every sentence
        whole("negative", 1, MAX_NEGATIVE)
        whole("min_count", 1)
        whole("max_vocab_size", 1, optional=True)
        whole("max_final_vocab", 1, optional=True)
        whole("epochs", 1)
        whole("threads", 1, MAX_THREADS, optional=True)
        whole("seed", 0, (1 << 63) - 1)
        whole("chunk_words", 1, 1 << 30, optional=True)
        whole("shared_negatives", 0, MAX_SHARED_NEGATIVES, optional=True)
        number("sample", 0)
        number("alpha", 0, positive=True, optional=True)
        number("min_alpha", 0, optional=True)
        if self.min_alpha is not None and self.min_alpha > self.start_alpha:
            raise TrainingError(f"min_alpha ({self.min_alpha}) must not exceed alpha ({self.start_alpha})")
        number("init_scale", 0)
        number("checkpoint_seconds", 0)
        if self.sync not in SYNC_SCHEMES:
            raise TrainingError(f"sync must be one of {', '.join(SYNC_SCHEMES)}, got {self.sync!r}")
        whole("sync_hot_rows", 0)
        whole("sync_full_every", 1)
        number("dist_timeout", 0, positive=True)
        if self.dist_timeout > MAX_TIMEOUT:
            raise TrainingError(f"dist_timeout must be at most {MAX_TIMEOUT:,} seconds, got {self.dist_timeout}")
        check_flag(self, "deterministic")
        check_flag(self, "shuffle")
        try:
            Tokenizer(self.tokenize, self.lowercase)
        except ValueError as e:
            raise TrainingError(str(e)) from None
        try:
            check_backend(self.backend)
        except ValueError as e:
            raise TrainingError(str(e)) from None
        check_device(self.device, self.backend, "wordembed::ns_train_chunk_")
        if self.shared_negatives and torch.device(self.device).type == "cuda":
            raise TrainingError("shared_negatives is for the CPU trainer: on CUDA leave it unset (or 0)")

    @property
    def words_per_chunk(self):
        if self.chunk_words is not None:
            return self.chunk_words
        return 1 << 22 if torch.device(self.device).type == "cuda" else 1 << 18


def divergence_hint(rate_name, rate, init_scale, default_init_scale):
    """The settings that make tables grow past float range, named as both the Python API and the
    command line spell them."""
    hint = f"try a smaller {rate_name} (--{rate_name}, now {rate:g})"
    if init_scale != default_init_scale:
        hint += f" or init_scale (--init-scale, now {init_scale:g})"
    return hint


def check_whole(settings, name, low, high=None, optional=False):
    """TrainingError unless settings.name is a whole number in [low, high] (or None, if optional).
    Without a high bound, the number must still fit the int64 the compiled code and numpy take."""
    value = getattr(settings, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TrainingError(f"{name} must be a whole number, got {value!r}")
    if value < low or value > (INT64_MAX if high is None else high):
        bounds = f"at least {low}" if high is None and value < low else f"from {low} to {high or INT64_MAX}"
        raise TrainingError(f"{name} must be {bounds}, got {value}")


def check_flag(settings, name):
    """TrainingError unless settings.name is True or False."""
    value = getattr(settings, name)
    if not isinstance(value, bool):
        raise TrainingError(f"{name} must be True or False, got {value!r}")


def check_number(settings, name, low, positive=False, optional=False):
    """TrainingError unless settings.name is a finite number >= low (> low, if positive)."""
    value = getattr(settings, name)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TrainingError(f"{name} must be a finite number, got {value!r}")
    if value < low or (positive and value == low):
        raise TrainingError(f"{name} must be {'>' if positive else '>='} {low}, got {value}")


def check_device(device_name, backend, kernel):
    """TrainingError unless the device is the CPU, or a CUDA GPU torch sees and the extension has
    the kernel for (the reference backend trains on the CPU only)."""
    try:
        device = torch.device(device_name)
    except (RuntimeError, TypeError):
        raise TrainingError(f"unknown device {device_name!r}; use 'cpu' or 'cuda'") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise TrainingError(f"device {device_name!r}: no CUDA GPU is visible to torch here")
        if not torch._C._dispatch_has_kernel_for_dispatch_key(kernel, "CUDA"):
            raise TrainingError("wordembed was built without its CUDA kernels: rebuild it with a CUDA "
                                "torch and nvcc (bash scripts/setup.sh)")
        if backend != "fused":
            raise TrainingError("the reference backend trains on the CPU only")
    elif device.type != "cpu":
        raise TrainingError(f"device {device_name!r}: wordembed trains on 'cpu' or 'cuda'")
