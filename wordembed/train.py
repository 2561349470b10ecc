"""Word2vec CBOW or skip-gram with negative sampling, with or without fastText's subwords, trained
end to end: text file or Python sentences -> vocabulary -> encoded id stream -> fused training op,
chunk by chunk -> WordVectors.

The learning rate falls linearly from alpha to min_alpha over all words of all epochs, as in
word2vec. The reported loss is the mean loss per trained word (target) of each epoch, summed in
float64. Checkpoints (checkpoint.py) are written atomically once the corpus is prepared (without
the tables, which are then the seed's), every checkpoint_seconds, at epoch ends unless the last
one is very recent (Trainer._epoch_checkpoint_due) and on Ctrl-C (taken between chunks,
interrupts.py); resume=True continues from the last one.

Launched by torchrun with several processes, the run is data-parallel (distributed.py): rank 0
prepares the corpus and gives every rank the same vocabulary and starting tables and its own
shard of the encoded sentences; each round, every rank trains chunk_words words of its shard and
the ranks' tables are made the same again (sync.py). The learning rate follows the words trained
by all ranks together, and rank 0 alone writes checkpoints and outputs."""
import contextlib
import dataclasses
import fcntl
import math
import os
import sys
import time

import numpy as np
import torch

from . import checkpoint, ops, reference
from .distributed import world_for
from .config import TrainConfig  # noqa: F401  (also wordembed.train.TrainConfig, as before)
from .corpus import EncodedCorpus, encode_corpus
from .errors import LostRankError, TrainingError  # noqa: F401
from .fileio import refuse_overwriting_inputs
from .interrupts import deferred_interrupt
from .memory import available_bytes, zeros_table
from .sentences import check_corpus, describe, is_path
from .sentences import corpus_fingerprint as corpus_fingerprint_of
from .tokenizing import Tokenizer
from .vectors import WordVectors
from .subwords import Subwords, word_bags
from .sync import sync_for
from .vocab import Vocabulary

# Words each CPU rank of a distributed run trains between two syncs, unless chunk_words says: on
# GCIDE with 2 ranks (3 seeds), 2^15 kept one process's analogy score at 50% of its speed, 2^19
# ran at its speed and lost 1.4 points, 2^17 ran at 82% and lost 0.8 (bench_distributed.py).
DISTRIBUTED_CPU_CHUNK = 1 << 17
WORK_FILES = ("checkpoint.pt", "corpus.ids", "corpus.starts", "lock")  # all a run puts in OUT.work


class Progress:
    """A tqdm bar on a terminal; plain log lines every few seconds otherwise."""

    def __init__(self, total_words, stream=None, interval=5.0, quiet=False):
        self.stream = stream or sys.stderr
        self.total, self.done, self.interval, self.quiet = total_words, 0, interval, quiet
        self.start = self.last_print = time.perf_counter()
        self.bar = None
        if self.stream.isatty() and not quiet:
            from tqdm import tqdm
            self.bar = tqdm(total=total_words, unit="word", unit_scale=True, file=self.stream,
                            dynamic_ncols=True, smoothing=0.1)

    def update(self, words, epoch, lr, loss):
        self.done += words
        if self.quiet:
            return
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


def initial_input_vectors(num_words, dim, init_scale, generator=None, out=None):
    """(num_words, dim) float32, uniform in [-init_scale / dim, init_scale / dim), in huge pages
    (see memory.py), or written into `out` (a CPU table)."""
    table = torch.rand(num_words, dim, generator=generator, out=zeros_table((num_words, dim)) if out is None else out)
    return table.mul_(2).sub_(1).mul_(init_scale / dim)


def alpha_at(config, words_done, total_words):
    alpha = config.start_alpha
    min_alpha = alpha * 1e-4 if config.min_alpha is None else config.min_alpha
    return max(min_alpha, alpha - (alpha - min_alpha) * words_done / max(total_words, 1))


class Trainer:
    """Trains CBOW with negative sampling on a text file or Python sentences; `train()` returns
    WordVectors.

    Its files live in work_dir (WORK_FILES): the encoded corpus, the checkpoint and a lock that
    keeps a second run off them while this one works. In a distributed run that is rank 0's;
    every other rank keeps its shard of the encoded corpus in work_dir/rank-N."""

    def __init__(self, corpus, config: TrainConfig, work_dir, callbacks=(), log=None, world=None):
        """corpus: a UTF-8 text file's path, or a re-iterable of sentences (lists of str); in a
        distributed run, rank 0's corpus is the one trained on. world: the ranks (distributed.py);
        by default the launcher's, or this process alone."""
        config.check()
        self.world = world if world is not None else world_for(config)
        self.device = self.world.device(config.device)
        self.corpus, self.config, self.work_dir = corpus, config, os.fspath(work_dir)
        # rank 0 works in work_dir; the other ranks each in a folder of their own inside it
        self.own_dir = self.work_dir if self.world.lead else os.path.join(self.work_dir, f"rank-{self.world.rank}")
        self.corpus_name = describe(corpus)
        # sys.stderr as it is when training starts, not when this module was imported
        self.callbacks, self.log = list(callbacks), log if log is not None else sys.stderr
        if not self.world.lead:  # rank 0 speaks for a distributed run; errors are raised everywhere
            self.log = open(os.devnull, "w")
        self.history = []  # one entry per epoch
        self.curve = []  # one entry per chunk: {'epoch' (a fraction), 'words', 'loss', 'lr'}
        self._lock = None
        self._checkpoint_cost = 0.0  # seconds the last checkpoint took (none yet: every epoch end saves)
        self._last_checkpoint = time.monotonic()
        self._bags = None  # a subword model's word_bags, made once per train()
        self.epoch_words = [0] * self.world.size  # words each rank trained in this epoch so far

    @property
    def checkpoint_path(self):
        return os.path.join(self.work_dir, "checkpoint.pt")

    def _take_work_dir(self):
        """Creates work_dir and locks it for this run (released when the process ends, however)."""
        if self._lock is not None:
            return
        if self.world.lead:  # the other ranks never read the corpus
            check_corpus(self.corpus)
        try:
            os.makedirs(self.own_dir, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise TrainingError(f"{self.own_dir} exists and is not a folder: it is where training keeps its "
                                "working files; move it away or choose another output") from None
        lock = open(os.path.join(self.own_dir, "lock"), "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise TrainingError(f"another run is training into {self.own_dir}: wait for it to end, or choose "
                                "another output") from None
        self._lock = lock

    def _release_work_dir(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _allocate_tables(self, num_words):
        """The two tables, after checking that they fit in the memory there is. A subword model's
        input table holds the words' rows, then the n-gram buckets' rows."""
        cfg, device = self.config, self.device
        input_rows = num_words + (cfg.bucket if cfg.subwords else 0)
        need = (num_words + input_rows) * cfg.dim * 4
        have = available_bytes(device)
        if have is not None and need > have:
            raise TrainingError(f"the two tables need {need / 2**30:.2f} GiB ({num_words:,} words"
                                f"{f' and {cfg.bucket:,} n-gram buckets' if cfg.subwords else ''} x dim {cfg.dim} "
                                f"x float32) but {device.type} memory has {have / 2**30:.2f} GiB free: "
                                "lower --dim or --bucket, or raise --min-count, or set --max-final-vocab")
        try:
            return (zeros_table((input_rows, cfg.dim), device=device),
                    zeros_table((num_words, cfg.dim), device=device))
        except (MemoryError, OverflowError, OSError, RuntimeError) as e:
            raise TrainingError(f"could not allocate the tables ({num_words:,} words x dim {cfg.dim}): {e}") from None

    def prepare(self, resume=False):
        """Vocabulary, encoded corpus and tables, fresh or from the checkpoint. A fresh start
        saves a checkpoint at once, so that a run killed in its first epoch resumes without
        preparing the corpus again. In a distributed run rank 0 prepares them, and then hands
        every rank the vocabulary, the tables and its shard of the corpus."""
        self._take_work_dir()
        if self.world.size == 1:
            self._prepare(resume)
            self.shard = (self.encoded, 0, self.encoded.num_sentences)
            return
        run = self.world.new_run()
        if self.world.lead:
            with self.world.leading(run):
                self._prepare(resume)
        else:
            self.world.wait_for_lead(run)
        self._share_state()
        self._share_corpus()

    def _prep_threads(self):
        """Threads that count and encode the corpus: in a distributed run the other ranks of the
        machine wait meanwhile, so rank 0 takes their threads too."""
        threads = self.config.threads or torch.get_num_threads()
        if self.world.size > 1:
            threads = min(threads * self.world.local_size, os.cpu_count() or 1)
        return threads

    def _prepare(self, resume):
        corpus_fingerprint = corpus_fingerprint_of(self.corpus)
        if resume and os.path.exists(self.checkpoint_path):
            self._restore(corpus_fingerprint)
            return
        if resume:
            print(f"no checkpoint in {self.work_dir} yet: starting from the beginning", file=self.log, flush=True)
        cfg = self.config
        tokenizer = Tokenizer(cfg.tokenize, cfg.lowercase)
        # The reference backend is plain Python and PyTorch throughout, its corpus pipeline too.
        pipeline = "native" if cfg.backend == "fused" else "python"
        self.vocab = Vocabulary.from_corpus(self.corpus, cfg.min_count, cfg.max_final_vocab, tokenizer,
                                            cfg.max_vocab_size, pipeline, self._prep_threads())
        if self.vocab.pruned_below:
            print(f"counting held more than max_vocab_size={cfg.max_vocab_size:,} distinct words: words seen at "
                  f"most {self.vocab.pruned_below} times so far were dropped as it went", file=self.log, flush=True)
        if self.vocab.total_tokens == 0:
            raise TrainingError(f"the corpus {self.corpus_name} holds no words")
        if len(self.vocab) == 0:
            raise TrainingError(f"the vocabulary is empty: no word of {self.corpus_name} appears "
                                f"min_count={cfg.min_count} times; lower --min-count")
        self.input_vectors, self.output_vectors = self._allocate_tables(len(self.vocab))
        self.encoded = encode_corpus(self.corpus, self.vocab, os.path.join(self.work_dir, "corpus"),
                                     tokenizer=tokenizer, pipeline=pipeline, threads=self._prep_threads())
        self.fingerprints = {"corpus": corpus_fingerprint, "encoded": self.encoded.fingerprint()}
        self._start_tables()
        self.epoch, self.chunk, self.epoch_loss, self.epoch_examples = 0, 0, 0.0, 0.0
        self.save_checkpoint()

    def _start_tables(self):
        """Small random input vectors from the seed, zero output vectors (see TrainConfig.init_scale)."""
        cfg = self.config
        g = torch.Generator().manual_seed(cfg.seed)
        on_cpu = self.input_vectors.device.type == "cpu"
        start = initial_input_vectors(self.input_vectors.shape[0], cfg.dim, cfg.init_scale, g,
                                      out=self.input_vectors if on_cpu else None)
        if not on_cpu:
            self.input_vectors.copy_(start)
        self.output_vectors.zero_()

    def _restore(self, corpus_fingerprint):
        cfg = self.config
        try:
            state = checkpoint.load(self.checkpoint_path, self._checkpoint_config(), corpus_fingerprint)
        except checkpoint.CheckpointError as e:
            raise TrainingError(str(e)) from None
        try:
            self.encoded = EncodedCorpus(os.path.join(self.work_dir, "corpus"))
            damaged = self.encoded.fingerprint() != state["encoded"]
        except (OSError, ValueError) as e:
            damaged, self.encoded = str(e), None
        if damaged:
            raise TrainingError(f"the encoded corpus in {self.work_dir} is damaged or missing"
                                f"{'' if damaged is True else f' ({damaged})'}: delete {self.work_dir} to "
                                "start over")
        self.vocab = Vocabulary(state["words"], state["counts"])
        self.input_vectors, self.output_vectors = self._allocate_tables(len(self.vocab))
        if state["input_vectors"] is None:  # saved before any training: the seed's starting tables
            self._start_tables()
        else:
            self.input_vectors.copy_(state["input_vectors"])
            self.output_vectors.copy_(state["output_vectors"])
        self.epoch, self.chunk, self.history = state["epoch"], state["chunk"], list(state["history"])
        self.curve = list(state["curve"])
        self.epoch_loss, self.epoch_examples = state["epoch_loss"], state["epoch_examples"]
        self.fingerprints = {"corpus": state["corpus"], "encoded": state["encoded"]}
        self.epoch_words = list(state.get("epoch_words", [0] * self.world.size))
        self._last_checkpoint = time.monotonic()

    def _checkpoint_config(self):
        """The settings a checkpoint must match to be resumed: a distributed run's also name its
        ranks and sync scheme (a single process's leave them out, as before they existed)."""
        config = dataclasses.asdict(self.config)
        if self.world.size == 1:
            for name in ("sync", "sync_hot_rows", "sync_full_every", "dist_timeout"):
                del config[name]
        else:
            config["ranks"] = self.world.size
        return config

    def _share_state(self):
        """Rank 0's vocabulary, counters and tables, on every rank."""
        world, names = self.world, ("epoch", "chunk", "history", "curve", "epoch_loss", "epoch_examples", "epoch_words")
        state = [None]
        if world.lead:
            state = [{"words": self.vocab.ix_to_word, "counts": self.vocab.counts,
                      "trained": not self._untrained(), **{name: getattr(self, name) for name in names}}]
        state = world.broadcast_objects(state, "the sharing of the vocabulary")[0]
        if not world.lead:
            self.vocab = Vocabulary(state["words"], state["counts"])
            for name in names:
                setattr(self, name, state[name])
            self.input_vectors, self.output_vectors = self._allocate_tables(len(self.vocab))
            if not state["trained"]:
                self._start_tables()
        # Started tables come from the seed on every rank; trained ones, or started ones that came
        # out otherwise somewhere (another torch), are rank 0's.
        sums = torch.tensor([float(self.input_vectors.double().sum()), float(self.output_vectors.double().sum())],
                            dtype=torch.float64)
        if state["trained"] or not all(torch.equal(s, sums) for s in world.all_gather(sums, "the check of the tables")):
            for table in (self.input_vectors, self.output_vectors):
                world.broadcast(table, "the sharing of the tables")

    def _share_corpus(self):
        """Splits the encoded corpus into one run of whole sentences per rank, of about the same
        number of words; rank 0 sends each rank its run, which it keeps in its own folder."""
        world, piece = self.world, 1 << 22
        if world.lead:
            starts, words = self.encoded.starts, self.encoded.num_words
            cuts = [int(np.searchsorted(starts, r * words // world.size)) for r in range(world.size)]
            cuts.append(self.encoded.num_sentences)
            self.shard = (self.encoded, cuts[0], cuts[1])
            for rank in range(1, world.size):
                first, last = cuts[rank], cuts[rank + 1]
                begin, end = int(starts[first]), int(starts[last])
                world.send(torch.tensor([last - first, end - begin]), rank, "the sending of the corpus shards")
                for a in range(first, last + 1, piece):
                    part = torch.from_numpy(np.array(starts[a:min(a + piece, last + 1)]) - begin)
                    world.send(part, rank, "the sending of the corpus shards")
                for a in range(begin, end, piece):
                    world.send(torch.from_numpy(np.array(self.encoded.ids[a:min(a + piece, end)])), rank,
                               "the sending of the corpus shards")
            return
        sizes = torch.zeros(2, dtype=torch.int64)
        world.receive(sizes, "the receiving of this rank's corpus shard")
        sentences, words = sizes.tolist()
        prefix = os.path.join(self.own_dir, "corpus")
        with open(prefix + ".starts", "wb") as starts_file, open(prefix + ".ids", "wb") as ids_file:
            for file, count, dtype in ((starts_file, sentences + 1, torch.int64), (ids_file, words, torch.int32)):
                for a in range(0, count, piece):
                    part = torch.empty(min(piece, count - a), dtype=dtype)
                    world.receive(part, "the receiving of this rank's corpus shard")
                    file.write(part.numpy().tobytes())
        self.encoded = EncodedCorpus(prefix)
        self.shard = (self.encoded, 0, self.encoded.num_sentences)

    def _chunk_words(self):
        """Words per op call; in a distributed run, per rank between two syncs, where the CPU's
        default is shorter (DISTRIBUTED_CPU_CHUNK)."""
        cfg = self.config
        if cfg.chunk_words is None and self.world.size > 1 and self.device.type == "cpu":
            return DISTRIBUTED_CPU_CHUNK
        return cfg.words_per_chunk

    def _rounds(self):
        """This rank's chunks (sentence bounds in its shard) and, for each round, the words all
        ranks together have trained before it in the epoch (one more entry: the epoch's words)."""
        encoded, first, last = self.shard
        bounds = encoded.chunk_bounds(self._chunk_words(), first, last)
        words = [int(encoded.starts[b]) - int(encoded.starts[a]) for a, b in bounds]
        every = [words] if self.world.size == 1 else self.world.gather_objects(words, "the planning of the rounds")
        before = [0]
        for i in range(max(map(len, every))):
            before.append(before[-1] + sum(w[i] for w in every if i < len(w)))
        return bounds, before

    def _untrained(self):
        return self.epoch == 0 and self.chunk == 0 and not self.curve

    def save_checkpoint(self):
        """Rank 0 saves; the other ranks have nothing that rank 0 does not hold."""
        if not self.world.lead:
            return
        started = time.monotonic()
        # Before any training the tables are the seed's: left out, and made again on resuming.
        untrained = self._untrained()
        distributed = {"epoch_words": list(self.epoch_words)} if self.world.size > 1 else {}
        checkpoint.save(self.checkpoint_path, {
            "config": self._checkpoint_config(), **distributed, "words": self.vocab.ix_to_word,
            "counts": self.vocab.counts, "input_vectors": None if untrained else self.input_vectors.cpu(),
            "output_vectors": None if untrained else self.output_vectors.cpu(), "epoch": self.epoch,
            "chunk": self.chunk, "history": self.history, "curve": self.curve, "epoch_loss": float(self.epoch_loss),
            "epoch_examples": float(self.epoch_examples), **self.fingerprints})
        self._last_checkpoint = time.monotonic()
        self._checkpoint_cost = self._last_checkpoint - started

    def _epoch_checkpoint_due(self) -> bool:
        """At an epoch's end: a checkpoint, unless the last one is so recent that writing another
        would cost more than a tenth of the training since (large tables, short epochs), or
        checkpoint_seconds is due first anyway. Then the run may lose up to ten times a
        checkpoint's cost of work to a crash, never more than checkpoint_seconds."""
        since = time.monotonic() - self._last_checkpoint
        return since >= self.config.checkpoint_seconds or since >= 10 * self._checkpoint_cost

    def train(self, resume=False) -> WordVectors:
        cfg, world = self.config, self.world
        self.prepare(resume)
        device = self.input_vectors.device
        keep = self.vocab.keep_probabilities(cfg.sample).to(device)
        noise_prob, noise_alias = (t.to(device) for t in self.vocab.noise_alias_table())
        bag_offsets = bag_rows = None
        if cfg.subwords:  # each word trains its own row and its n-grams' rows
            self._bags = word_bags(self.vocab.ix_to_word, cfg.minn, cfg.maxn, cfg.bucket)  # kept for _vectors
            bag_offsets, bag_rows = (t.to(device) for t in self._bags)
        sync = sync_for(world, cfg, self.input_vectors, self.output_vectors,
                        None if bag_offsets is None else (bag_offsets, bag_rows))
        # Only the chunk being trained is in memory; the rest stays on disk.
        bounds, before = self._rounds()
        rounds, per_epoch = len(before) - 1, before[-1]
        if per_epoch == 0:
            raise TrainingError(f"no word of {self.corpus_name} is in the vocabulary")
        if self.chunk > rounds:
            raise TrainingError(f"{self.checkpoint_path}: chunk {self.chunk} is past the end of the corpus")
        total = per_epoch * cfg.epochs
        threads_before = torch.get_num_threads()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        resumed_at = self.epoch * per_epoch + before[self.chunk]
        progress = Progress(total - resumed_at, stream=self.log, quiet=not world.lead)
        train_chunk = ops.ns_train_chunk_ if cfg.backend == "fused" else reference.ns_train_chunk
        no_words = torch.zeros(3, dtype=torch.float64)  # a rank whose shard has run out this epoch
        # False while the tables have moved past what the counters say: no checkpoint then.
        consistent = True
        try:
            with deferred_interrupt(self.log) as interrupt:
                while self.epoch < cfg.epochs:
                    epoch_start, words_this_run = time.perf_counter(), 0
                    sync_bytes, sync_seconds = sync.bytes_sent, sync.seconds
                    for batch in self._chunks_on(device, bounds, self.chunk, rounds):
                        done = self.epoch * per_epoch + before[self.chunk]
                        done_after = self.epoch * per_epoch + before[self.chunk + 1]
                        lr0, lr1 = alpha_at(cfg, done, total), alpha_at(cfg, done_after, total)
                        consistent = False
                        stats = no_words if batch is None else train_chunk(
                            self.input_vectors, self.output_vectors, *batch, keep, noise_prob, noise_alias,
                            window=cfg.window, negative=cfg.negative, lr_start=lr0, lr_end=lr1,
                            seed=(cfg.seed * 1_000_003 + self.epoch * 65_537 + self.chunk
                                  + world.rank * 1_000_000_007) % (1 << 62),
                            deterministic=cfg.deterministic, skipgram=cfg.model == "skipgram",
                            bag_offsets=bag_offsets, bag_rows=bag_rows)
                        # every rank's figures, and the tables brought together (whole: in every row)
                        checkpoint_due = time.monotonic() - self._last_checkpoint >= cfg.checkpoint_seconds
                        by_rank, stop, whole = sync.round(self.chunk, stats, interrupt.requested,
                                                          None if batch is None else batch[0],
                                                          full=self.chunk + 1 == rounds or (world.lead and checkpoint_due))
                        loss, examples, words = by_rank.sum(0).tolist()
                        if not math.isfinite(loss):
                            raise TrainingError(f"the loss became non-finite in epoch {self.epoch + 1}; "
                                                f"try a smaller --alpha (now {cfg.start_alpha})")
                        self.epoch_loss += loss
                        self.epoch_examples += examples
                        self.epoch_words = [a + int(b) for a, b in zip(self.epoch_words, by_rank[:, 2].tolist())]
                        if examples:  # a chunk may lose every word to subsampling
                            self.curve.append({"epoch": done_after / per_epoch, "words": done_after,
                                               "loss": loss / examples, "lr": lr1})
                        self.chunk += 1
                        consistent = whole  # a checkpoint holds whole tables only
                        words_this_run += int(words)
                        progress.update(int(words), self.epoch + 1, lr1,
                                        self.epoch_loss / max(self.epoch_examples, 1))
                        if stop:
                            raise KeyboardInterrupt
                        if checkpoint_due and whole:
                            self.save_checkpoint()
                    seconds = time.perf_counter() - epoch_start
                    entry = {"epoch": self.epoch + 1, "loss": self.epoch_loss / max(self.epoch_examples, 1),
                             "lr": alpha_at(cfg, (self.epoch + 1) * per_epoch, total), "words": per_epoch,
                             "examples": int(self.epoch_examples), "seconds": seconds,
                             "words_per_second": words_this_run / max(seconds, 1e-9)}  # this run's part
                    if world.size > 1:  # what each rank trained, and what its syncs cost it
                        entry.update(words_by_rank=list(self.epoch_words), sync_bytes=sync.bytes_sent - sync_bytes,
                                     sync_seconds=sync.seconds - sync_seconds)
                    consistent = False
                    self.history.append(entry)
                    self.epoch, self.chunk, self.epoch_loss, self.epoch_examples = self.epoch + 1, 0, 0.0, 0.0
                    self.epoch_words = [0] * world.size
                    consistent = True
                    if self._epoch_checkpoint_due():
                        self.save_checkpoint()
                    for callback in self.callbacks:
                        callback(self, entry)
                    if interrupt.requested and world.size == 1:  # (a distributed run stops at a round's sync)
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            if consistent:
                self.save_checkpoint()
            raise
        finally:
            progress.close()
            torch.set_num_threads(threads_before)
        vectors = self._vectors()
        # Training is over: the input table is the vectors' now (not copied: it may be most of
        # the memory), and the output table is not kept. A later train() prepares them again.
        self.input_vectors = self.output_vectors = None
        return vectors

    def _vectors(self) -> WordVectors:
        """The trained vectors: the input table's rows, or for a subword model each word's mean
        of its own row and its n-gram rows, with the n-gram rows kept for unseen words."""
        cfg, V = self.config, len(self.vocab)
        table = self.input_vectors.cpu()
        if not cfg.subwords:
            return WordVectors.from_index(self.vocab.ix_to_word, self.vocab.word_to_ix, table, self.vocab.counts)
        settings = {"ws": cfg.window, "epoch": cfg.epochs, "minCount": cfg.min_count, "neg": cfg.negative,
                    "model": cfg.model, "t": cfg.sample, "ntokens": int(self.vocab.total_tokens)}
        subwords = Subwords(cfg.minn, cfg.maxn, cfg.bucket, word_rows=table[:V], ngram_rows=table[V:],
                            output_rows=self.output_vectors.cpu(), settings=settings)
        return WordVectors.from_index(self.vocab.ix_to_word, self.vocab.word_to_ix,
                                      subwords.word_vectors(self.vocab.ix_to_word, self._bags), self.vocab.counts,
                                      subwords)

    def _chunks_on(self, device, bounds, first, rounds):
        """(ids, sentence_starts) of this rank's chunks first.. on the device, then None for the
        rounds left after its shard ran out. On CUDA the next chunk is copied from pinned memory
        on a side stream while the current one trains."""
        encoded = self.shard[0]

        def load(i):
            return tuple(torch.from_numpy(a) for a in encoded.chunk(*bounds[i]))

        if device.type != "cuda":
            for i in range(first, rounds):
                yield load(i) if i < len(bounds) else None
            return
        copy_stream = torch.cuda.Stream(device)

        def upload(i):
            if i >= len(bounds):
                return None
            with torch.cuda.stream(copy_stream):
                return tuple(t.pin_memory().to(device, non_blocking=True) for t in load(i))

        pending = upload(first) if first < rounds else None
        for i in range(first, rounds):
            current = pending
            torch.cuda.current_stream(device).wait_stream(copy_stream)
            for t in current or ():
                t.record_stream(torch.cuda.current_stream(device))
            pending = upload(i + 1) if i + 1 < rounds else None
            yield current

    def cleanup(self):
        """Removes this run's files from work_dir, and work_dir if nothing else is in it: never a
        file that training did not make."""
        for name in WORK_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.own_dir, name))
        self._release_work_dir()
        for folder in {self.own_dir, self.work_dir}:  # a rank's own folder first, then the run's
            with contextlib.suppress(OSError):
                os.rmdir(folder)


def train_vectors(corpus, output_path=None, config=None, resume=False, callbacks=(), log=None,
                  output_format=None, **settings) -> WordVectors:
    """Trains CBOW or skip-gram vectors, with or without subwords, on a corpus: a UTF-8 text
    file's path (one sentence per line), or a re-iterable of sentences, each a list of str tokens
    (gensim's `sentences`), streamed as the file is. Writes them to output_path if given, in
    output_format (see WordVectors.save; by default by name: .txt word2vec text, .pt native, else
    word2vec binary). settings override TrainConfig fields.

    Launched by torchrun with several processes, every rank calls this with the same arguments:
    they train together (see Trainer), rank 0 writes output_path, and every rank returns the
    same vectors."""
    config = dataclasses.replace(config or TrainConfig(), **settings)
    config.check()
    # the output's format is checked now, not after hours of training
    if output_format not in (None, "text", "binary", "native", "fasttext"):
        raise ValueError(f"output_format must be 'text', 'binary', 'native' or 'fasttext', got {output_format!r}")
    if output_format == "fasttext" and not config.subwords:
        raise TrainingError("the fastText format is for subword models: set bucket (and maxn) above 0, or choose "
                            "another output format")
    if output_path is not None and is_path(corpus):
        refuse_overwriting_inputs([("corpus", corpus)], [("output", output_path)])
    base = os.fspath(output_path) if output_path else os.path.join(os.getcwd(), "wordembed-vectors")
    work_dir = base + ".work"
    if is_path(corpus) and os.path.realpath(corpus).startswith(os.path.realpath(work_dir) + os.sep):
        raise ValueError(f"the corpus {os.fsdecode(corpus)!r} is inside {work_dir}, which training "
                         "empties when it ends; move it or choose another output")
    world = world_for(config)
    trainer = Trainer(corpus, config, work_dir, callbacks, log, world)
    had_checkpoint = world.lead and os.path.exists(trainer.checkpoint_path)
    try:
        vectors = trainer.train(resume=resume)
        if not world.lead:  # its shard is no longer needed; rank 0 then removes the run's folder
            trainer.cleanup()
        if world.size > 1:
            world.barrier("the end of training")
        if output_path and world.lead:
            vectors.save(output_path, output_format)
    except BaseException as e:
        # Keep what a later --resume can use: a checkpoint made before this run, or one this run
        # made before an interruption, an I/O failure (a full disk) or the loss of a rank. A
        # fresh run that failed on its data or settings leaves nothing behind; nor does a run
        # that never got the lock. The other ranks' folders hold nothing to resume from.
        resumable = had_checkpoint or (os.path.exists(trainer.checkpoint_path) and world.lead and
                                       (isinstance(e, LostRankError) or not isinstance(e, TrainingError)))
        if trainer._lock is not None and not resumable:
            trainer.cleanup()
        trainer._release_work_dir()
        raise
    trainer.cleanup()
    vectors.history, vectors.curve = trainer.history, trainer.curve
    return vectors
