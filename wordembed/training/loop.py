"""The epoch loop: rounds of one chunk per rank, the learning rate falling linearly from alpha to
min_alpha over all words of all epochs (as word2vec), the loss summed in float64 and reported as
the mean per trained word (target) of each epoch, checkpoints when due, and Ctrl-C taken between
chunks (interrupts.py). What a chunk does is the objective's; how the ranks agree after it is the
strategy's."""
import math
import time

import torch

from ..errors import TrainingError
from .chunks import EpochOrder, chunks_on, plan_rounds
from .interrupts import deferred_interrupt
from .progress import Progress
from .tables import alpha_at, check_finite_tables

_NO_WORDS = torch.zeros(3, dtype=torch.float64)  # a rank whose shard has run out this epoch


class EpochLoop:
    """Trains a prepared Trainer's run to its last epoch (or to a Ctrl-C, after saving)."""

    def __init__(self, trainer):
        self.trainer, self.config, self.run = trainer, trainer.config, trainer.run
        self.strategy, self.objective = trainer.strategy, trainer.objective
        run, device = self.run, self.run.input_vectors.device
        self.objective.begin(run.vocab, device)
        self.sync = self.strategy.rounds(self.config, run.input_vectors, run.output_vectors, self.objective.bags)
        self.order = EpochOrder(trainer.shard, self.strategy.chunk_words(self.config, device), self.config.seed,
                                self.config.shuffle, self.strategy.rank)
        self._plan(run.epoch)
        self.per_epoch = self.before[-1]  # the same every epoch: the blocks are, only their order changes
        if self.per_epoch == 0:
            raise TrainingError(f"no word of {trainer.corpus_name} is in the vocabulary")
        if run.chunk > self.rounds:
            raise TrainingError(f"{trainer.work.checkpoint_path}: chunk {run.chunk} is past the end of the corpus")
        self.total = self.per_epoch * self.config.epochs
        # False while the tables have moved past what the counters say: no checkpoint then.
        self.consistent = True

    def _plan(self, epoch):
        """This epoch's chunks, its rounds and, for each, the words all ranks trained before it."""
        self.planned, self.chunks = epoch, self.order.chunks(epoch)
        self.before = plan_rounds(self.order.words(self.chunks), self.strategy)
        self.rounds = len(self.before) - 1

    def run_epochs(self):
        run, cfg = self.run, self.config
        threads_before = torch.get_num_threads()
        if self.trainer.threads:
            torch.set_num_threads(self.trainer.threads)
        resumed_at = run.epoch * self.per_epoch + self.before[run.chunk]
        progress = Progress(self.total - resumed_at, stream=self.trainer.log, quiet=not self.strategy.lead)
        try:
            with deferred_interrupt(self.trainer.log) as interrupt:
                while run.epoch < cfg.epochs:
                    self._epoch(interrupt, progress)
        except KeyboardInterrupt:
            if self.consistent:
                self.trainer.save_checkpoint()
            raise
        finally:
            progress.close()
            torch.set_num_threads(threads_before)

    def _epoch(self, interrupt, progress):
        run, trainer = self.run, self.trainer
        epoch_start, words_this_run = time.perf_counter(), 0
        mark = (self.sync.bytes_sent, self.sync.seconds, self.sync.count)
        if self.planned != run.epoch:
            self._plan(run.epoch)
        for batch in chunks_on(run.input_vectors.device, self.order, run.epoch, self.chunks, run.chunk, self.rounds):
            words_this_run += self._round(batch, interrupt, progress)
        # the loss misses a row that left float range while no line read it since
        check_finite_tables(run, self.config.divergence_hint())
        seconds = time.perf_counter() - epoch_start
        entry = {"epoch": run.epoch + 1, "loss": run.mean_loss,
                 "lr": alpha_at(self.config, (run.epoch + 1) * self.per_epoch, self.total), "words": self.per_epoch,
                 "examples": int(run.epoch_examples), "seconds": seconds,
                 "words_per_second": words_this_run / max(seconds, 1e-9)}  # this run's part
        entry.update(self.strategy.epoch_details(run, self.sync, mark))
        self.consistent = False
        run.end_epoch(entry)
        self.consistent = True
        # After the last epoch the result is written at once and the work directory removed: a
        # checkpoint there (a second's fsync of the tables on a 20 M-word corpus) would be thrown
        # away. An interruption from here on still saves one (run_epochs).
        if run.epoch < self.config.epochs and trainer.checkpoints.epoch_end_due():
            trainer.save_checkpoint()
        for callback in trainer.callbacks:
            callback(trainer, entry)
        if self.strategy.stops_at_epoch_end(interrupt.requested):
            raise KeyboardInterrupt

    def _round(self, batch, interrupt, progress) -> int:
        """Trains this rank's chunk of the round (None: its shard has run out) and brings the ranks
        together; returns the words all ranks trained."""
        run, cfg = self.run, self.config
        done = run.epoch * self.per_epoch + self.before[run.chunk]
        done_after = run.epoch * self.per_epoch + self.before[run.chunk + 1]
        lr0, lr1 = alpha_at(cfg, done, self.total), alpha_at(cfg, done_after, self.total)
        self.consistent = False
        seed = (cfg.seed * 1_000_003 + run.epoch * 65_537 + run.chunk + self.strategy.rank * 1_000_000_007) % (1 << 62)
        stats = _NO_WORDS if batch is None else self.objective.train_chunk(run, batch, lr0, lr1, seed)
        # every rank's figures, and the tables brought together (whole: in every row)
        checkpoint_due = self.trainer.checkpoints.due()
        by_rank, stop, whole = self.sync.round(run.chunk, stats, interrupt.requested,
                                               None if batch is None else batch[0], last=run.chunk + 1 == self.rounds,
                                               checkpoint=self.strategy.lead and checkpoint_due)
        loss, examples, words = by_rank.sum(0).tolist()
        if not math.isfinite(loss):
            raise TrainingError(f"the loss became non-finite in epoch {run.epoch + 1}; {cfg.divergence_hint()}")
        run.add_round(loss, examples, by_rank[:, 2].tolist())
        if examples:  # a chunk may lose every word to subsampling
            run.curve.append({"epoch": done_after / self.per_epoch, "words": done_after,
                              "loss": loss / examples, "lr": lr1})
        self.consistent = whole  # a checkpoint holds whole tables only
        progress.update(int(words), run.epoch + 1, lr1, run.mean_loss)
        if stop:
            raise KeyboardInterrupt
        if checkpoint_due and whole:
            self.trainer.save_checkpoint()
        return int(words)
