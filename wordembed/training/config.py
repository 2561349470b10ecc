"""The trainer's settings (TrainConfig): one place for their defaults, meanings and ranges. It
imports no compiled code, so that the command line can show them where the extension is not
built."""
import dataclasses

import torch

from ..arguments import BACKENDS
from ..errors import TrainingError
from ..text.corpus import MAX_SENTENCE_WORDS
from ..text.tokenizing import TOKENIZE_MODES, Tokenizer
from .settings import INT64_MAX, check_declared, setting

MAX_NEGATIVE = 1000  # negatives per example; word2vec suggests 2-20
MAX_THREADS = 1024
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
    model: str = setting("cbow", "cbow: the words around a position predict it; skipgram: each word predicts the "
                         "words around it (slower, often better for rare words)", choices=MODELS)
    # fastText's subwords: the character n-grams of "<word>" of minn to maxn characters, hashed
    # into `bucket` rows (wordembed/text/subwords.py); bucket 0 (or maxn 0) trains words alone.
    minn: int = setting(3, "shortest character n-gram of a subword model", fasttext="minn", low=0, high=64)
    maxn: int = setting(6, "longest character n-gram of a subword model (0: none)", fasttext="maxn", low=0, high=64)
    bucket: int = setting(0, "n-gram buckets of a subword model, as fastText (0: no subwords; fastText uses "
                          "2000000); the vectors then answer for unseen words too: save them as .pt or as "
                          "fastText's .bin to keep that", fasttext="bucket", low=0, high=2**31 - 1)
    dim: int = setting(100, "length of the word vectors", fasttext="dim", low=1)
    window: int = setting(5, "context words on each side, at most (word2vec shrinks it at random per word)",
                          fasttext="ws", low=1, high=MAX_SENTENCE_WORDS)  # a wider one reaches past every sentence
    negative: int = setting(5, "negative samples per word", fasttext="neg", low=1, high=MAX_NEGATIVE)
    min_count: int = setting(5, "keep words seen at least this often", fasttext="minCount", low=1)
    tokenize: str = setting("whitespace", "whitespace: the text is already tokenised; words: split punctuation off "
                            "words ('said.' becomes 'said' '.')", choices=TOKENIZE_MODES)
    lowercase: bool = setting(False, "lower-case the text before counting words")
    # Distinct words held while counting, at most (word2vec's and gensim's pruning: wordembed/
    # text/pipeline.py says what it may drop); None: no bound, exact counts.
    max_vocab_size: int | None = setting(None, "bound the distinct words held while counting, as word2vec and gensim "
                                         "do: past it, the rarest so far are dropped (default: no bound, exact "
                                         "counts)", low=1)
    max_final_vocab: int | None = setting(None, "then keep only this many of the most frequent words (default: no "
                                          "cap)", low=1)
    sample: float = setting(1e-3, "subsampling threshold for frequent words, word2vec's and fastText's formula "
                            "(0: off)", fasttext="t", low=0)
    epochs: int = setting(5, "passes over the corpus", fasttext="epoch", low=1)
    alpha: float | None = setting(None, "learning rate at the start; it falls linearly to min_alpha (default: 0.05 "
                                  "for cbow, 0.025 for skipgram, as word2vec)", fasttext="lr", low=0, positive=True)
    min_alpha: float | None = setting(None, "learning rate at the end (default: alpha * 1e-4, as word2vec)", low=0)
    # Input vectors start uniform in [-init_scale / dim, init_scale / dim); output vectors at zero.
    # word2vec uses 0.5 and gensim 4 uses 1.0; 4.0 learned better vectors on both corpora we
    # measured (GCIDE and WordNet glosses, 5 epochs: analogy +1.2 and +0.9 points over 0.5, and
    # better WordSim-353 and SimLex-999): larger random inputs get the output vectors moving sooner.
    init_scale: float = setting(4.0, "input vectors start uniform in +-INIT_SCALE/dim (word2vec: 0.5, gensim and "
                                "fastText: 1.0)", low=0)
    threads: int | None = setting(None, "threads that prepare the corpus and train (default: the cores torch uses)",
                                  fasttext="thread", low=1, high=MAX_THREADS)
    seed: int = setting(1, "seed of the initial vectors and of every draw", fasttext="seed", low=0, high=INT64_MAX)
    device: str = setting("cpu", "cpu or cuda (cuda:N for another GPU)")
    deterministic: bool = setting(False, "one CPU thread (or one CUDA warp) walks each chunk in order; the same seed "
                                  "and settings give bit-identical vectors")
    # Each epoch visits the sentences in a fresh order drawn from the seed (training/chunks.py);
    # False: in file order, as word2vec and gensim do.
    shuffle: bool = setting(True, "train the sentences in the file's order every epoch, as word2vec and gensim do "
                            "(default: a fresh order each epoch, drawn from the seed)", option="--no-shuffle")
    # Positions of a sentence that share one draw of negatives and train as one minibatch on the
    # CPU (Ji et al.'s HogBatch: csrc/cpu/ns_block.h); 0 trains every example alone (the per-pair
    # path, and the only one on CUDA). None: DEFAULT_SHARED_NEGATIVES on the CPU, 0 on CUDA.
    shared_negatives: int | None = setting(
        None, "CPU: P positions of a sentence share one draw of negatives and train as one minibatch (skipgram: "
        "about 1.4x faster, vectors as good); 0: every example alone, with its own negatives (default: 1 for "
        "skipgram, 0 for cbow, whose vectors lose analogy points when positions share negatives; 0 on CUDA)",
        low=0, high=MAX_SHARED_NEGATIVES)
    chunk_words: int | None = setting(None, "words per call of the compiled trainer (default 2^18 on the CPU, 2^22 on "
                                      "CUDA); in a distributed run, the words each rank trains between two syncs",
                                      low=1, high=1 << 30)
    checkpoint_seconds: float = setting(300.0, "save a checkpoint this often, as well as at epoch ends and on Ctrl-C "
                                        "(0: after every chunk)", low=0)
    backend: str = setting("fused", "fused: the compiled operator; reference: its plain-PyTorch twin (tests and "
                           "benchmarks)", choices=BACKENDS)
    # A distributed run (launched by torchrun; wordembed/distributed/sync.py): how the ranks' tables are made
    # the same after each round of chunk_words words per rank, and how long a rank waits for the
    # others at a collective before it stops the run.
    sync: str = setting("deltas", "distributed runs (torchrun): after each rank's chunk_words words, deltas: the "
                        "rows each rank changed travel; average: the tables are averaged across ranks",
                        choices=SYNC_SCHEMES)
    sync_hot_rows: int = setting(1024, "distributed runs, deltas: the rows of this many most frequent words are "
                                 "summed across ranks after every round, the next H every 2 rounds, the next 2H "
                                 "every 4, and so on", low=0)
    sync_full_every: int = setting(32, "distributed runs, deltas: a subword model's changed n-gram rows are summed "
                                   "every this many rounds (and at every epoch's end)", low=1)
    dist_timeout: float = setting(300.0, "distributed runs: seconds a rank waits for the others before every rank "
                                  "stops", low=0, positive=True, high=MAX_TIMEOUT)

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
        check_declared(self)
        if self.subwords and not 1 <= self.minn <= self.maxn:
            raise TrainingError(f"subwords need 1 <= minn <= maxn, got minn {self.minn} and maxn {self.maxn}")
        if self.min_alpha is not None and self.min_alpha > self.start_alpha:
            raise TrainingError(f"min_alpha ({self.min_alpha}) must not exceed alpha ({self.start_alpha})")
        try:
            Tokenizer(self.tokenize, self.lowercase)
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
