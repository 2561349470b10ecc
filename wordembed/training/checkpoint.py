"""The trainer's checkpoint: everything a run needs to go on exactly where it stopped, in one file
read without running code (torch.load with weights_only), and checked field by field on the way
in, so that a damaged, foreign or stale file is a clear error and never a crash mid-training; and
when one is due (Checkpoints).

Checkpoints are written atomically once the corpus is prepared (without the tables, which are
then the seed's), every checkpoint_seconds, at epoch ends unless the last one is very recent
(Checkpoints.epoch_end_due) and on Ctrl-C (taken between chunks, interrupts.py)."""
import itertools
import os
import time

import torch

from ..fileio import save_torch
from ..memory import release_free_memory

VERSION = 6  # 3: adds the per-chunk loss curve; 4: max_vocab_size prunes, max_final_vocab caps;
# 5: the model and subword settings, and tables left out (None) while they are the seed's start;
# 6: the words as two tensors (word_text, word_lengths), not a list: pickling a list of 40,000
# words took a tenth of a second, a tenth of a small classifier's whole run. Format 5 is read too.
READS = (5, 6)
# The settings that may change between a run and its resumption: they do not change the result.
MAY_CHANGE_ON_RESUME = ("threads", "checkpoint_seconds", "dist_timeout")
# Settings added since checkpoints began, with what a checkpoint that does not name one was made
# with (checkpoints made before `shuffle` trained in file order). Any other missing setting was
# made with its None.
MADE_BEFORE = {"shuffle": False}
CURVE_KEYS = {"epoch", "words", "loss", "lr"}  # one point of the per-chunk loss curve
# Bytes a second a checkpoint is assumed to be written at, to foresee the cost of the first one
# with tables (the classifier's 2,000,000 n-gram rows are 800 MB: not worth writing after an
# epoch of a tenth of a second).
ASSUMED_WRITE_RATE = 1 << 30


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be resumed from; the message says why and what to do."""


def save(path, state: dict) -> None:
    save_torch({"version": VERSION, **state}, path)


def fields_of(run, settings: dict) -> dict:
    """What a checkpoint keeps of a RunState (state.py), made with these settings. Before any
    training the tables are the seed's (unless they started from vectors to continue from): left
    out, and made again on resuming."""
    untrained = run.tables_from_seed
    per_rank = {"epoch_words": list(run.epoch_words)} if len(run.epoch_words) > 1 else {}
    return {"config": settings, **per_rank, **pack_words(run.vocab.ix_to_word), "counts": run.vocab.counts,
            "input_vectors": None if untrained else run.input_vectors.cpu(),
            "output_vectors": None if untrained else run.output_vectors.cpu(), "epoch": run.epoch,
            "chunk": run.chunk, "history": run.history, "curve": run.curve, "epoch_loss": float(run.epoch_loss),
            "epoch_examples": float(run.epoch_examples), **run.fingerprints}


class NoCheckpoints:
    """A run that is never resumed (an autotune trial): nothing is written, nothing is ever due."""
    last = cost = 0.0

    def save(self, run, settings):
        pass

    def due(self) -> bool:
        return False

    def epoch_end_due(self) -> bool:
        return False


class Checkpoints:
    """Writes a run's checkpoints to `path`, and says when the next one is due."""

    def __init__(self, path, seconds):
        self.path, self.seconds = path, seconds
        self.last = time.monotonic()
        self.cost = 0.0  # seconds the last checkpoint took (none yet: every epoch end saves)

    def save(self, run, settings):
        started = time.monotonic()
        fields = fields_of(run, settings)
        save(self.path, fields)
        release_free_memory()  # the pickler's buffers
        self.last = time.monotonic()
        self.cost = self.last - started
        if fields["input_vectors"] is None:  # the seed's tables were left out: the next one writes them
            tables = (run.input_vectors.numel() + run.output_vectors.numel()) * run.input_vectors.element_size()
            self.cost += tables / ASSUMED_WRITE_RATE

    def due(self) -> bool:
        """checkpoint_seconds have passed since the last one."""
        return time.monotonic() - self.last >= self.seconds

    def epoch_end_due(self) -> bool:
        """At an epoch's end: a checkpoint, unless the last one is so recent that writing another
        would cost more than a tenth of the training since (large tables, short epochs), or
        checkpoint_seconds is due first anyway. Then the run may lose up to ten times a
        checkpoint's cost of work to a crash, never more than checkpoint_seconds."""
        since = time.monotonic() - self.last
        return since >= self.seconds or since >= 10 * self.cost


def _fail(path, why):
    folder = os.path.dirname(os.fspath(path))
    raise CheckpointError(f"{path}: {why}; delete {folder} to start over, or resume with what made it")


def load(path, config: dict, corpus_fingerprint: str, table_rows) -> dict:
    """The checkpoint's state, after checking that it is whole, that it was made with these
    settings (apart from MAY_CHANGE_ON_RESUME) and from the corpus with this fingerprint, and that
    its tables have the rows table_rows(its words) says (the objective's rule)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for damaged or foreign archives
        detail = (str(e).strip().splitlines() or [""])[0][:120]
        _fail(path, f"not a readable checkpoint ({type(e).__name__}{': ' + detail if detail else ''})")
    if not isinstance(state, dict) or "version" not in state:
        _fail(path, "not a wordembed checkpoint")
    if state["version"] not in READS:
        _fail(path, f"checkpoint format {state['version']!r}, this wordembed reads formats {READS[0]} to {READS[-1]}")
    if state["version"] >= 6:
        try:
            state["words"] = unpack_words(state.pop("word_text"), state.pop("word_lengths"))
        except (KeyError, TypeError, ValueError, UnicodeDecodeError) as e:
            _fail(path, f"its words cannot be read ({type(e).__name__})")
    expected = {"config": dict, "words": list, "counts": torch.Tensor, "epoch": int, "chunk": int, "history": list,
                "curve": list, "epoch_loss": float, "epoch_examples": float, "corpus": str, "encoded": str}
    for key, kind in expected.items():
        if not isinstance(state.get(key), kind):
            _fail(path, f"the field {key!r} is missing or not a {kind.__name__}")
    # Before any training the tables are the seed's starting tables, and are left out (None).
    untrained = state["epoch"] == 0 and state["chunk"] == 0 and not state["curve"]
    tables = [state.get("input_vectors"), state.get("output_vectors")]
    if not (all(isinstance(t, torch.Tensor) for t in tables) or (untrained and tables == [None, None])):
        _fail(path, "the fields 'input_vectors' and 'output_vectors' are missing or not tensors")
    saved = {k: v for k, v in state["config"].items() if k not in MAY_CHANGE_ON_RESUME}
    now = {k: v for k, v in config.items() if k not in MAY_CHANGE_ON_RESUME}
    # A setting the checkpoint does not name is one added since (MADE_BEFORE).
    changed = sorted(k for k in now.keys() | saved.keys() if saved.get(k, MADE_BEFORE.get(k)) != now.get(k))
    if changed:
        raise CheckpointError(f"the checkpoint was made with other settings ({', '.join(changed)}); "
                              "resume with the same ones")
    if state["corpus"] != corpus_fingerprint:
        raise CheckpointError("the corpus is not the one this checkpoint was trained on (its size or "
                              "bytes differ): resume with the same corpus, or start over without --resume")
    V, D = len(state["words"]), config["dim"]
    if not all(isinstance(w, str) for w in state["words"]):
        _fail(path, "the vocabulary holds something that is not a word")
    if state["counts"].shape != (V,) or state["counts"].dtype != torch.int64:
        _fail(path, f"'counts' does not hold one count per word ({V})")
    for key, rows in zip(("input_vectors", "output_vectors"), table_rows(state["words"])):
        table = state[key]
        if table is not None and (table.shape != (rows, D) or table.dtype != torch.float32):
            _fail(path, f"{key!r} is not a float32 table of {rows} x {D}")
    if not all(isinstance(point, dict) and set(point) == CURVE_KEYS for point in state["curve"]):
        _fail(path, f"the loss curve holds something other than points with {sorted(CURVE_KEYS)}")
    words = state.get("epoch_words")  # a distributed run's: the words each rank trained this epoch
    if words is not None and not (isinstance(words, list) and len(words) == config.get("ranks", 1)
                                  and all(isinstance(n, int) and n >= 0 for n in words)):
        _fail(path, "'epoch_words' does not hold a count of words per rank")
    if not (0 <= state["epoch"] <= config["epochs"] and state["chunk"] >= 0):
        _fail(path, f"epoch {state['epoch']} and chunk {state['chunk']} are out of range")
    return state


def pack_words(words) -> dict:
    """The words as one UTF-8 text (lone surrogates kept) and each one's length in characters."""
    lengths = torch.tensor([len(w) for w in words], dtype=torch.int64)
    text = "".join(words).encode("utf-8", "surrogatepass")
    return {"word_text": torch.frombuffer(bytearray(text), dtype=torch.uint8) if text else torch.zeros(0, dtype=torch.uint8),
            "word_lengths": lengths}


def unpack_words(text, lengths) -> list:
    if not (isinstance(text, torch.Tensor) and text.dtype == torch.uint8 and text.dim() == 1
            and isinstance(lengths, torch.Tensor) and lengths.dtype == torch.int64 and lengths.dim() == 1):
        raise TypeError("word_text and word_lengths must be 1-D uint8 and int64 tensors")
    decoded = bytes(text.numpy()).decode("utf-8", "surrogatepass")
    ends = list(itertools.accumulate(lengths.tolist()))
    if (ends and ends[-1] != len(decoded)) or any(n < 0 for n in lengths.tolist()):
        raise ValueError("the word lengths do not add up to the text")
    return [decoded[end - n:end] for end, n in zip(ends, lengths.tolist())]
