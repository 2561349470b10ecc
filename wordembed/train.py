"""Word2vec CBOW with negative sampling, trained end to end: text file -> vocabulary -> encoded
id stream -> fused training op, chunk by chunk -> WordVectors.

The learning rate falls linearly from alpha to min_alpha over all words of all epochs, as in
word2vec. The reported loss is the mean loss per trained word (target) of each epoch, summed in
float64. Checkpoints are written atomically at epoch ends and on Ctrl-C; resume=True continues
from the last one."""
import dataclasses
import math
import os
import shutil
import sys
import time

import torch

from . import ops, reference
from .corpus import EncodedCorpus, encode_corpus
from .formats import atomic_write
from .memory import zeros_table
from .vectors import WordVectors
from .vocab import Vocabulary

CHECKPOINT_VERSION = 1


class TrainingError(RuntimeError):
    """Training cannot go on (empty corpus or vocabulary, non-finite loss, bad settings)."""


@dataclasses.dataclass
class TrainConfig:
    dim: int = 100
    window: int = 5
    negative: int = 5
    min_count: int = 5
    max_vocab_size: int | None = None
    sample: float = 1e-3
    epochs: int = 5
    alpha: float = 0.05          # word2vec's default for CBOW
    min_alpha: float | None = None  # default alpha * 1e-4, as word2vec
    # Input vectors start uniform in [-init_scale / dim, init_scale / dim); output vectors at zero.
    # word2vec uses 0.5 and gensim 4 uses 1.0; 4.0 learned better vectors on both corpora we
    # measured (GCIDE and WordNet glosses, 5 epochs: analogy +1.2 and +0.9 points over 0.5, and
    # better WordSim-353 and SimLex-999): larger random inputs get the output vectors moving sooner.
    init_scale: float = 4.0
    threads: int | None = None   # default: torch's intra-op thread count
    seed: int = 1
    device: str = "cpu"
    deterministic: bool = False  # one thread, bit-identical for a fixed seed
    chunk_words: int | None = None  # words per call of the fused op (default 2^18 CPU, 2^22 CUDA)
    backend: str = "fused"       # or "reference": the plain-PyTorch twin, for tests and benchmarks

    def check(self):
        for name in ("dim", "window", "epochs", "min_count"):
            if getattr(self, name) < 1:
                raise TrainingError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.negative < 1:
            raise TrainingError(f"negative must be at least 1, got {self.negative}")
        if not (self.alpha > 0 and math.isfinite(self.alpha)):
            raise TrainingError(f"alpha must be a positive number, got {self.alpha}")
        if self.sample < 0:
            raise TrainingError(f"sample must be >= 0, got {self.sample}")
        if not (self.init_scale >= 0 and math.isfinite(self.init_scale)):
            raise TrainingError(f"init_scale must be a finite number >= 0, got {self.init_scale}")
        if self.backend not in ("fused", "reference"):
            raise TrainingError(f"backend must be 'fused' or 'reference', got {self.backend!r}")
        if self.chunk_words is not None and self.chunk_words < 1:
            raise TrainingError(f"chunk_words must be at least 1, got {self.chunk_words}")
        try:
            device = torch.device(self.device)
        except RuntimeError:
            raise TrainingError(f"unknown device {self.device!r}; use 'cpu' or 'cuda'") from None
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise TrainingError(f"device {self.device!r}: no CUDA GPU is visible to torch here")
            if not torch._C._dispatch_has_kernel_for_dispatch_key("wordembed::cbow_ns_train_chunk_", "CUDA"):
                raise TrainingError("wordembed was built without its CUDA kernels: rebuild it with a CUDA "
                                    "torch and nvcc (bash scripts/setup.sh)")
            if self.backend != "fused":
                raise TrainingError("the reference backend trains on the CPU only")
        elif device.type != "cpu":
            raise TrainingError(f"device {self.device!r}: wordembed trains on 'cpu' or 'cuda'")

    @property
    def words_per_chunk(self):
        if self.chunk_words is not None:
            return self.chunk_words
        return 1 << 22 if torch.device(self.device).type == "cuda" else 1 << 18


class Progress:
    """A tqdm bar on a terminal; plain log lines every few seconds otherwise."""

    def __init__(self, total_words, stream=None, interval=5.0):
        self.stream = stream or sys.stderr
        self.total, self.done, self.interval = total_words, 0, interval
        self.start = self.last_print = time.perf_counter()
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total_words, unit="word", unit_scale=True, file=self.stream,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, words, epoch, lr, loss):
        self.done += words
        if self.bar is not None:
            self.bar.set_postfix_str(f"epoch {epoch} lr {lr:.5f} loss {loss:.4f}", refresh=False)
            self.bar.update(words)
            return
        now = time.perf_counter()
        if now - self.last_print >= self.interval or self.done == self.total:
            self.last_print = now
            rate = self.done / max(now - self.start, 1e-9)
            print(f"epoch {epoch}: {100 * self.done / self.total:5.1f}% of words, {rate / 1e6:.2f} M words/s, "
                  f"lr {lr:.5f}, loss {loss:.4f}", file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def initial_input_vectors(num_words, dim, init_scale, generator=None):
    """(num_words, dim) float32, uniform in [-init_scale / dim, init_scale / dim), in huge pages
    (see memory.py)."""
    table = torch.rand(num_words, dim, generator=generator, out=zeros_table((num_words, dim)))
    return table.mul_(2).sub_(1).mul_(init_scale / dim)


def alpha_at(config, words_done, total_words):
    min_alpha = config.alpha * 1e-4 if config.min_alpha is None else config.min_alpha
    return max(min_alpha, config.alpha - (config.alpha - min_alpha) * words_done / max(total_words, 1))


class Trainer:
    """Trains CBOW with negative sampling on a text file; `train()` returns WordVectors."""

    def __init__(self, corpus_path, config: TrainConfig, work_dir, callbacks=(), log=sys.stderr):
        config.check()
        self.corpus_path, self.config, self.work_dir = os.fspath(corpus_path), config, os.fspath(work_dir)
        self.callbacks, self.log = list(callbacks), log
        self.history = []

    @property
    def checkpoint_path(self):
        return os.path.join(self.work_dir, "checkpoint.pt")

    def prepare(self, resume=False):
        """Vocabulary, encoded corpus and tables, fresh or from the checkpoint."""
        cfg = self.config
        os.makedirs(self.work_dir, exist_ok=True)
        if resume:
            if not os.path.exists(self.checkpoint_path):
                raise TrainingError(f"nothing to resume: no checkpoint at {self.checkpoint_path}")
            state = torch.load(self.checkpoint_path, weights_only=True)
            if state.get("version") != CHECKPOINT_VERSION:
                raise TrainingError(f"{self.checkpoint_path}: unknown checkpoint version")
            saved = {k: v for k, v in state["config"].items() if k not in ("threads",)}
            now = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("threads",)}
            if saved != now:
                changed = sorted(k for k in now if saved.get(k) != now[k])
                raise TrainingError(f"the checkpoint was made with other settings ({', '.join(changed)}); "
                                    "resume with the same ones")
            self.vocab = Vocabulary(state["words"], state["counts"])
            device = torch.device(cfg.device)
            self.input_vectors = zeros_table(state["input_vectors"].shape, device=device)
            self.input_vectors.copy_(state["input_vectors"])
            self.output_vectors = zeros_table(state["output_vectors"].shape, device=device)
            self.output_vectors.copy_(state["output_vectors"])
            self.epoch, self.chunk, self.history = state["epoch"], state["chunk"], list(state["history"])
            self.epoch_loss, self.epoch_examples = state["epoch_loss"], state["epoch_examples"]
            self.corpus = EncodedCorpus(os.path.join(self.work_dir, "corpus"))
            return
        self.vocab = Vocabulary.from_file(self.corpus_path, cfg.min_count, cfg.max_vocab_size)
        if getattr(self.vocab, "total_tokens", 0) == 0:
            raise TrainingError(f"the corpus {self.corpus_path} holds no words")
        if len(self.vocab) == 0:
            raise TrainingError(f"the vocabulary is empty: no word of {self.corpus_path} appears "
                                f"min_count={cfg.min_count} times; lower --min-count")
        self.corpus = encode_corpus(self.corpus_path, self.vocab, os.path.join(self.work_dir, "corpus"))
        g = torch.Generator().manual_seed(cfg.seed)
        V, D = len(self.vocab), cfg.dim
        # small random input vectors, zero output vectors (see TrainConfig.init_scale)
        device = torch.device(cfg.device)
        self.input_vectors = initial_input_vectors(V, D, cfg.init_scale, g).to(device)
        self.output_vectors = zeros_table((V, D), device=device)
        self.epoch, self.chunk, self.epoch_loss, self.epoch_examples = 0, 0, 0.0, 0.0

    def save_checkpoint(self):
        state = {"version": CHECKPOINT_VERSION, "config": dataclasses.asdict(self.config),
                 "words": self.vocab.ix_to_word, "counts": self.vocab.counts,
                 "input_vectors": self.input_vectors.cpu(), "output_vectors": self.output_vectors.cpu(),
                 "epoch": self.epoch, "chunk": self.chunk, "history": self.history,
                 "epoch_loss": self.epoch_loss, "epoch_examples": self.epoch_examples}
        with atomic_write(self.checkpoint_path) as f:
            torch.save(state, f)

    def train(self, resume=False) -> WordVectors:
        cfg = self.config
        self.prepare(resume)
        device = self.input_vectors.device
        keep = self.vocab.keep_probabilities(cfg.sample).to(device)
        noise_prob, noise_alias = (t.to(device) for t in self.vocab.noise_alias_table())
        # Only the chunk being trained is in memory; the rest stays on disk.
        bounds = self.corpus.chunk_bounds(cfg.words_per_chunk)
        chunk_start = [int(self.corpus.starts[first]) for first, _ in bounds]
        per_epoch = self.corpus.num_words
        if per_epoch == 0:
            raise TrainingError(f"no word of {self.corpus_path} is in the vocabulary")
        total = per_epoch * cfg.epochs
        threads_before = torch.get_num_threads()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        resumed_at = self.epoch * per_epoch + (chunk_start[self.chunk] if self.chunk < len(bounds) else per_epoch)
        progress = Progress(total - resumed_at, stream=self.log)
        try:
            while self.epoch < cfg.epochs:
                epoch_start, words_this_run = time.perf_counter(), 0
                for ids, starts in self._chunks_on(device, bounds, self.chunk):
                    done = self.epoch * per_epoch + chunk_start[self.chunk]
                    lr0, lr1 = alpha_at(cfg, done, total), alpha_at(cfg, done + len(ids), total)
                    train_chunk = ops.cbow_ns_train_chunk_ if cfg.backend == "fused" else reference.cbow_ns_train_chunk
                    stats = train_chunk(
                        self.input_vectors, self.output_vectors, ids, starts, keep, noise_prob, noise_alias,
                        window=cfg.window, negative=cfg.negative, lr_start=lr0, lr_end=lr1,
                        seed=(cfg.seed * 1_000_003 + self.epoch * 65_537 + self.chunk) % (1 << 62),
                        deterministic=cfg.deterministic)
                    loss, examples, words = stats.tolist()
                    if not math.isfinite(loss):
                        raise TrainingError(f"the loss became non-finite in epoch {self.epoch + 1}; "
                                            f"try a smaller --alpha (now {cfg.alpha})")
                    self.epoch_loss += loss
                    self.epoch_examples += examples
                    words_this_run += int(words)
                    self.chunk += 1
                    progress.update(int(words), self.epoch + 1, lr1, self.epoch_loss / max(self.epoch_examples, 1))
                seconds = time.perf_counter() - epoch_start
                entry = {"epoch": self.epoch + 1, "loss": self.epoch_loss / max(self.epoch_examples, 1),
                         "lr": alpha_at(cfg, (self.epoch + 1) * per_epoch, total), "words": per_epoch,
                         "examples": int(self.epoch_examples), "seconds": seconds,
                         "words_per_second": words_this_run / max(seconds, 1e-9)}  # this run's part
                self.history.append(entry)
                self.epoch, self.chunk, self.epoch_loss, self.epoch_examples = self.epoch + 1, 0, 0.0, 0.0
                self.save_checkpoint()
                for callback in self.callbacks:
                    callback(self, entry)
        except KeyboardInterrupt:
            self.save_checkpoint()
            raise
        finally:
            progress.close()
            torch.set_num_threads(threads_before)
        return WordVectors(self.vocab.ix_to_word, self.input_vectors.cpu().clone(), self.vocab.counts)

    def _chunks_on(self, device, bounds, first):
        """(ids, sentence_starts) of chunks first.. on the device. On CUDA the next chunk is
        copied from pinned memory on a side stream while the current one trains."""
        def load(i):
            return tuple(torch.from_numpy(a) for a in self.corpus.chunk(*bounds[i]))

        if device.type != "cuda":
            for i in range(first, len(bounds)):
                yield load(i)
            return
        copy_stream = torch.cuda.Stream(device)

        def upload(i):
            with torch.cuda.stream(copy_stream):
                return tuple(t.pin_memory().to(device, non_blocking=True) for t in load(i))

        pending = upload(first) if first < len(bounds) else None
        for i in range(first, len(bounds)):
            current = pending
            torch.cuda.current_stream(device).wait_stream(copy_stream)
            for t in current:
                t.record_stream(torch.cuda.current_stream(device))
            pending = upload(i + 1) if i + 1 < len(bounds) else None
            yield current

    def cleanup(self):
        shutil.rmtree(self.work_dir, ignore_errors=True)


def train_vectors(corpus_path, output_path=None, config=None, resume=False, callbacks=(), log=sys.stderr,
                  **settings) -> WordVectors:
    """Trains CBOW vectors on a text file; writes them to output_path if given (format by name:
    .txt word2vec text, .pt native, else word2vec binary). settings override TrainConfig fields."""
    config = dataclasses.replace(config or TrainConfig(), **settings)
    base = os.fspath(output_path) if output_path else os.path.join(os.getcwd(), "wordembed-vectors")
    trainer = Trainer(corpus_path, config, base + ".work", callbacks, log)
    try:
        vectors = trainer.train(resume=resume)
    except (TrainingError, OSError):
        if not os.path.exists(trainer.checkpoint_path):  # nothing worth keeping for --resume
            trainer.cleanup()
        raise
    if output_path:
        vectors.save(output_path)
    trainer.cleanup()
    vectors.history = trainer.history
    return vectors
