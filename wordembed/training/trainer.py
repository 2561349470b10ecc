"""A training run as a sequence of small stages, each its own method or module:

1. check the outputs (before any work: an output path that the save at the end would fail on);
2. take the work directory (workdir.py);
3. prepare: the vocabulary, the encoded corpus and the tables, or restore them from the
   checkpoint (preparation.py); a distributed run's lead does this, and the strategy shares it;
4. the epoch loop with its schedule, checkpoints and Ctrl-C (loop.py);
5. the result (the objective's), written by the lead, and the work directory cleaned up.

Two objects are passed in: the strategy (strategy.py: one process, or the ranks of
torch.distributed) and the objective (word2vec.py: what a chunk does to the tables and what the
tables become). The stages know neither which strategy nor which objective they run."""
import dataclasses
import os
import sys
import time

import torch

from ..errors import LostRankError, TrainingError
from ..fileio import check_output_path, refuse_overwriting_inputs, special_output
from ..text.sentences import check_corpus, describe, is_path
from ..text.sentences import corpus_fingerprint as corpus_fingerprint_of
from . import preparation
from .checkpoint import Checkpoints, NoCheckpoints
from .loop import EpochLoop
from .strategy import SingleProcess
from .tables import first_non_finite_row
from .word2vec import Word2Vec
from .workdir import WorkDir
from ..vectors import WordVectors


class Trainer:
    """Trains an objective (by default word2vec's, from the config) on a text file or Python
    sentences; `train()` returns what the objective makes of the tables (WordVectors), and
    `fit()` also writes it to output_path and cleans the work directory up."""

    def __init__(self, corpus, config, work_dir, callbacks=(), log=None, strategy=None, objective=None,
                 output_path=None, output_format=None, init=None, checkpoints=True):
        """corpus: a UTF-8 text file's path, or a re-iterable of sentences (lists of str); in a
        distributed run, rank 0's corpus is the one trained on. init: vectors to continue from (a
        WordVectors, or a file WordVectors.load reads), checked against the settings now.
        checkpoints: False for a run that will not be resumed (none is written)."""
        config.check()
        self.strategy = strategy if strategy is not None else SingleProcess()
        self.objective = objective if objective is not None else Word2Vec(config)
        self.corpus, self.config, self.corpus_name = corpus, config, describe(corpus)
        self.device = self.strategy.device(config.device)
        self.work = WorkDir(work_dir, self.strategy.rank)
        self.output_path, self.output_format = output_path, output_format
        self.objective.check_output(output_format)
        init_path = init if isinstance(init, (str, bytes, os.PathLike)) else None
        if output_path:
            check_outputs_apart(corpus, output_path, self.work.path, init_path)
        self.init = WordVectors.load(init_path) if init_path is not None else init
        if self.init is not None:
            if not isinstance(self.init, WordVectors):
                raise TypeError(f"init must be a WordVectors or a vectors file's path, got {type(init).__name__}")
            self.objective.check_init(self.init)
            check_finite_vectors(self.init)
            self.init_digest = preparation.init_digest(self.init)
        # sys.stderr as it is when training starts, not when this module was imported; rank 0
        # speaks for a distributed run (errors are raised everywhere)
        self.log = self.strategy.log(log if log is not None else sys.stderr)
        self.threads = usable_threads(config.threads, self.log)
        self.callbacks = list(callbacks)
        self.checkpoints = (Checkpoints(self.work.checkpoint_path, config.checkpoint_seconds) if checkpoints
                            else NoCheckpoints())
        self.run = None    # RunState (state.py), once prepared
        self.shard = None  # this rank's part of the encoded corpus: (corpus, first sentence, end)

    # what callbacks and tests look at
    @property
    def history(self):
        return self.run.history if self.run is not None else []

    @property
    def curve(self):
        return self.run.curve if self.run is not None else []

    @property
    def input_vectors(self):
        return self.run.input_vectors

    @property
    def output_vectors(self):
        return self.run.output_vectors

    def settings(self) -> dict:
        """The settings a checkpoint must match to be resumed (and the vectors it continued from)."""
        settings = self.strategy.checkpoint_settings(dataclasses.asdict(self.config))
        if self.init is not None:
            settings["init"] = self.init_digest
        return settings

    def prepare(self, resume=False):
        """Stages 1-3: the lead checks the output, takes the work directory and prepares (fresh,
        saving a checkpoint at once so that a run killed in its first epoch resumes without
        preparing again, or from the checkpoint); then every rank gets the run and its shard."""
        if not self.strategy.lead:
            self.work.take()
        run = self.strategy.lead_prepares(lambda: self._lead_prepares(resume))
        self.run, self.shard = self.strategy.share(run, self.work, self._make_tables)

    def _lead_prepares(self, resume):
        if self.output_path:
            check_output_path(self.output_path)
        check_corpus(self.corpus)  # only the lead reads the corpus
        self.work.take()
        corpus_fingerprint = corpus_fingerprint_of(self.corpus)
        if resume and os.path.exists(self.work.checkpoint_path):
            run = preparation.restore(corpus_fingerprint, self.settings(), self.config, self.objective, self.work,
                                      self.device, self.strategy.size)
            self.checkpoints.last = time.monotonic()
            return run
        if resume:
            print(f"no checkpoint in {self.work.path} yet: starting from the beginning", file=self.log, flush=True)
        run = preparation.prepare_fresh(self.corpus, corpus_fingerprint, self.config, self.objective, self.work,
                                        self.device, self.strategy.prep_threads(self._threads()),
                                        self.strategy.size, self.log, self.init)
        self.run = run
        self.save_checkpoint()
        return run

    def _threads(self):
        return self.threads or torch.get_num_threads()

    def _make_tables(self, vocab, trained):
        return preparation.make_tables(self.objective, self.config, vocab, self.device, trained)

    def save_checkpoint(self):
        """The lead saves; the other ranks have nothing that it does not hold."""
        if self.strategy.lead:
            self.checkpoints.save(self.run, self.settings())

    def train(self, resume=False):
        """Stages 1-4, and the objective's result. The tables are then the result's (not copied:
        they may be most of the memory); a later train() prepares again."""
        self.prepare(resume)
        EpochLoop(self).run_epochs()
        result = self.objective.result(self.run)
        self.run.input_vectors = self.run.output_vectors = None
        return result

    def fit(self, resume=False):
        """The whole run: train, then the lead writes output_path, and the work directory goes.
        A failure keeps what a later resume can use: a checkpoint made before this run, or one this
        run made before an interruption, an I/O failure (a full disk) or the loss of a rank. A
        fresh run that failed on its data or settings leaves nothing behind; nor does a run that
        never got the lock. The other ranks' folders hold nothing to resume from."""
        lead = self.strategy.lead
        had_checkpoint = lead and os.path.exists(self.work.checkpoint_path)
        try:
            result = self.train(resume=resume)
            if not lead:  # its shard is no longer needed; rank 0 then removes the run's folder
                self.work.cleanup()
            self.strategy.finish()
            if self.output_path and lead:
                result.save(self.output_path, self.output_format)
        except BaseException as e:
            resumable = had_checkpoint or (lead and os.path.exists(self.work.checkpoint_path) and
                                           (isinstance(e, LostRankError) or not isinstance(e, TrainingError)))
            if self.work.taken and not resumable:
                self.work.cleanup()
            self.work.release()
            raise
        self.work.cleanup()
        result.history, result.curve = self.run.history, self.run.curve
        return result


def check_outputs_apart(corpus, output_path, work_dir, init_path=None):
    """ValueError if the output would replace the corpus (or the vectors training continues from),
    or the corpus lies in the work directory (which training empties when it ends)."""
    inputs = [("corpus", corpus)] if is_path(corpus) else []
    if init_path is not None:
        inputs.append(("vectors to continue from", init_path))
    refuse_overwriting_inputs(inputs, [("output", output_path)])
    if is_path(corpus) and os.path.realpath(corpus).startswith(os.path.realpath(work_dir) + os.sep):
        raise ValueError(f"the corpus {os.fsdecode(corpus)!r} is inside {work_dir}, which training "
                         "empties when it ends; move it or choose another output")


def usable_threads(requested, log):
    """The threads to train with: as many as asked, but no more than the cores this process may
    run on. More would only take turns on them, and each costs a stack: a thousand of them can
    exhaust memory inside the thread library, where no Python error can be raised."""
    cores = len(os.sched_getaffinity(0))
    if requested is not None and requested > cores:
        print(f"threads {requested}: this process may run on {cores} cores, so {cores} threads train",
              file=log, flush=True)
        return cores
    return requested


def check_finite_vectors(vectors):
    """TrainingError if the vectors training starts from hold an inf or a NaN: every row they
    start would spread it."""
    tables = [("", vectors.vectors)]
    if vectors.subwords is not None:
        tables += [(" own rows", vectors.subwords.word_rows), (" n-gram rows", vectors.subwords.ngram_rows)]
    for what, table in tables:
        row = first_non_finite_row(table)
        if row is not None:
            word = f" (word {vectors.index_to_key[row]!r})" if what != " n-gram rows" else ""
            raise TrainingError(f"the vectors to start from hold a non-finite number in their{what} row {row}{word}")


def work_dir_for(output_path, name="wordembed-vectors"):
    """OUTPUT.work beside the output; without one, or for a device or a pipe (/dev/null.work is
    no place for a folder), NAME.work in the current folder."""
    use_output = output_path and not special_output(output_path)
    return (os.fspath(output_path) if use_output else os.path.join(os.getcwd(), name)) + ".work"
