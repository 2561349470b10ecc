"""The stages of a run one at a time (wordembed/training/), the single-process strategy and the
distributed one's local answers, and the two seams: a Trainer runs an objective that is not
word2vec's, and every check of the output path runs before any work."""
import os
import subprocess
import sys

import pytest
import torch

from wordembed import TrainConfig, TrainingError, train_vectors
from wordembed.distributed.strategy import DISTRIBUTED_CPU_CHUNK, Distributed
from wordembed.text.corpus import encode_corpus
from wordembed.text.vocab import Vocabulary
from wordembed.training import checkpoint, preparation
from wordembed.training.chunks import EpochOrder, chunks_on, plan_rounds
from wordembed.training.objective import Objective
from wordembed.training.state import RunState
from wordembed.training.strategy import DISTRIBUTED_SETTINGS, LocalRounds, SingleProcess
from wordembed.training.trainer import Trainer
from wordembed.training.word2vec import Word2Vec
from wordembed.training.workdir import WorkDir
from testing import TRAIN_SMALL as SMALL, planted_corpus


def small_run(words=("a", "b", "c"), dim=4):
    vocab = Vocabulary(list(words), torch.arange(len(words), 0, -1, dtype=torch.int64) * 10)
    return RunState(vocab, torch.zeros(len(words), dim), torch.zeros(len(words), dim), {"corpus": "c", "encoded": "e"})


# ---- the work directory
def test_work_dir_is_taken_by_one_run_and_cleaned_of_its_own_files_only(tmp_path):
    work = WorkDir(tmp_path / "v.bin.work")
    work.take()
    assert work.taken and os.path.isfile(tmp_path / "v.bin.work" / "lock")
    with pytest.raises(TrainingError, match="another run is training into"):
        WorkDir(tmp_path / "v.bin.work").take()
    (tmp_path / "v.bin.work" / "notes.txt").write_text("mine")
    (tmp_path / "v.bin.work" / "checkpoint.pt").write_text("x")
    work.cleanup()
    assert not work.taken and os.listdir(tmp_path / "v.bin.work") == ["notes.txt"]


def test_a_ranks_work_dir_lies_inside_the_runs_and_both_go(tmp_path):
    work = WorkDir(tmp_path / "v.bin.work", rank=2)
    work.take()
    assert work.own == os.path.join(tmp_path / "v.bin.work", "rank-2")
    assert work.corpus_prefix == os.path.join(work.own, "corpus")
    assert work.checkpoint_path == os.path.join(tmp_path / "v.bin.work", "checkpoint.pt")  # the lead's
    work.cleanup()
    assert not (tmp_path / "v.bin.work").exists()


def test_a_file_where_the_work_dir_goes_is_a_clear_error(tmp_path):
    (tmp_path / "v.bin.work").write_text("not a folder")
    with pytest.raises(TrainingError, match="exists and is not a folder"):
        WorkDir(tmp_path / "v.bin.work").take()


# ---- the state, its checkpoint and when one is due
def test_run_state_counts_rounds_and_epochs():
    run = small_run()
    run.epoch_words = [0, 0]
    assert run.untrained
    run.add_round(6.0, 3.0, [2.0, 1.0])
    run.add_round(2.0, 1.0, [1.0, 0.0])
    assert (run.chunk, run.epoch_words, run.mean_loss) == (2, [3, 1], 2.0)
    assert not run.untrained
    run.end_epoch({"epoch": 1})
    assert (run.epoch, run.chunk, run.epoch_loss, run.epoch_words, run.history) == (1, 0, 0.0, [0, 0], [{"epoch": 1}])


def test_a_checkpoint_leaves_the_seeds_tables_out_and_keeps_trained_ones(tmp_path):
    run = small_run()
    fields = checkpoint.fields_of(run, {"dim": 4})
    assert fields["input_vectors"] is None and "epoch_words" not in fields
    run.add_round(1.0, 1.0, [1.0])
    run.epoch_words = [1, 2]  # two ranks
    fields = checkpoint.fields_of(run, {"dim": 4})
    assert torch.equal(fields["input_vectors"], run.input_vectors) and fields["epoch_words"] == [1, 2]


# ---- preparation and tables
def test_tables_start_from_the_seed_the_same_every_time_and_trained_ones_wait_for_their_numbers():
    config = TrainConfig(**{**SMALL, "bucket": 10, "minn": 2, "maxn": 3})
    vocab = small_run().vocab
    first = preparation.make_tables(Word2Vec(config), config, vocab, torch.device("cpu"), trained=False)
    again = preparation.make_tables(Word2Vec(config), config, vocab, torch.device("cpu"), trained=False)
    assert first[0].shape == (3 + 10, 24) and first[1].shape == (3, 24)  # words, then n-gram buckets
    assert torch.equal(first[0], again[0]) and first[0].abs().max() > 0 and not first[1].any()
    empty = preparation.make_tables(Word2Vec(config), config, vocab, torch.device("cpu"), trained=True)
    assert not empty[0].any()


def test_a_fresh_preparation_encodes_the_corpus_into_the_work_dir(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    work = WorkDir(tmp_path / "w")
    work.take()
    config = TrainConfig(**SMALL)
    run = preparation.prepare_fresh(corpus, "fingerprint", config, Word2Vec(config), work, torch.device("cpu"),
                                    threads=1, ranks=1, log=sys.stderr)
    assert run.encoded.num_words == sum(len(line.split()) for line in open(corpus))
    assert run.fingerprints == {"corpus": "fingerprint", "encoded": run.encoded.fingerprint()}
    assert run.untrained and run.epoch_words == [0] and len(run.vocab) == 48


# ---- rounds and chunks
class TwoRanks(SingleProcess):
    """A strategy whose other rank planned rounds of 5 words, and one round fewer."""

    def gather_plan(self, words):
        return [words, [5] * (len(words) - 1)]


def test_the_rounds_plan_counts_every_ranks_words(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n" * 10)
    vocab = Vocabulary(["a", "b", "c"], torch.tensor([10, 10, 10]))
    encoded = encode_corpus(str(corpus), vocab, str(tmp_path / "corpus"))
    order = EpochOrder((encoded, 0, encoded.num_sentences), 6, seed=1, shuffle=False)
    chunks = order.chunks(0)
    assert [c.tolist() for c in chunks] == [[0], [1], [2], [3], [4]] and order.words(chunks) == [6] * 5
    assert order.bounds.tolist() == [0, 2, 4, 6, 8, 10]
    assert plan_rounds(order.words(chunks), SingleProcess()) == [0, 6, 12, 18, 24, 30]
    assert plan_rounds(order.words(chunks), TwoRanks()) == [0, 11, 22, 33, 44, 50]
    loaded = list(chunks_on(torch.device("cpu"), order, 0, chunks[:2], 0, 3))
    assert loaded[2] is None  # this rank's shard ran out a round before the others'
    ids, starts = loaded[1]
    assert ids.tolist() == [0, 1, 2] * 2 and starts.tolist() == [0, 3, 6]


# ---- the strategies
def test_a_single_process_agrees_with_itself_and_keeps_its_checkpoint_settings_as_before():
    strategy = SingleProcess()
    stats = torch.tensor([3.0, 2.0, 5.0], dtype=torch.float64)
    by_rank, stop, whole = LocalRounds().round(0, stats, True, None, last=False, checkpoint=False)
    assert by_rank.shape == (1, 3) and by_rank.dtype == torch.float64 and stop and whole
    settings = strategy.checkpoint_settings({"dim": 4, **{name: 1 for name in DISTRIBUTED_SETTINGS}})
    assert settings == {"dim": 4}
    assert strategy.stops_at_epoch_end(True) and strategy.epoch_details(None, None, None) == {}


class LocalWorld:
    """What Distributed reads of a World that needs no other process."""
    rank, size, lead, local_size = 1, 2, False, 2

    def device(self, name):
        return torch.device(name)


def test_the_distributed_strategy_answers_for_its_rank():
    strategy = Distributed(LocalWorld())
    assert (strategy.rank, strategy.size, strategy.lead) == (1, 2, False)
    assert strategy.chunk_words(TrainConfig(), torch.device("cpu")) == DISTRIBUTED_CPU_CHUNK
    assert strategy.chunk_words(TrainConfig(chunk_words=99), torch.device("cpu")) == 99
    assert strategy.checkpoint_settings({"dim": 4, "sync": "deltas"}) == {"dim": 4, "sync": "deltas", "ranks": 2}
    assert not strategy.stops_at_epoch_end(True)
    assert strategy.log(sys.stderr) is not sys.stderr  # only rank 0 speaks
    run = small_run()
    run.epoch_words = [4, 5]
    rounds = LocalRounds()
    rounds.bytes_sent, rounds.seconds, rounds.count = 100, 2.5, 7
    assert strategy.epoch_details(run, rounds, (40, 0.5, 3)) == {"words_by_rank": [4, 5], "sync_bytes": 60,
                                                                 "sync_seconds": 2.0, "sync_rounds": 4}


def stop_after_an_epoch(trainer, entry):
    raise KeyboardInterrupt  # as Ctrl-C at the epoch's end: a checkpoint is saved first


# ---- the objective seam
class WordCounts(Objective):
    """An objective that is not word2vec's: it adds each word's count of appearances to its output
    row and leaves the input table alone. The stages must prepare, resume and report it unchanged."""
    def table_rows(self, words):
        return 1, len(words), f"{len(words)} words"

    def begin(self, vocab, device):
        self.began = True

    def train_chunk(self, run, batch, lr_start, lr_end, seed):
        ids, _ = batch
        run.output_vectors[:, 0] += torch.bincount(ids.long(), minlength=len(run.vocab)).float()
        return torch.tensor([0.0, float(len(ids)), float(len(ids))], dtype=torch.float64)

    def result(self, run):
        return run.output_vectors[:, 0].clone()


def test_the_stages_run_another_objective_and_resume_it(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 200)
    config = TrainConfig(**{**SMALL, "epochs": 2, "chunk_words": 300})
    with pytest.raises(KeyboardInterrupt):
        Trainer(corpus, config, tmp_path / "work", [stop_after_an_epoch], objective=WordCounts(config)).fit()
    counts = Trainer(corpus, config, tmp_path / "work", objective=WordCounts(config)).fit(resume=True)
    words = [w for line in open(corpus) for w in line.split()]
    vocab = Vocabulary.from_corpus(str(corpus), min_count=1)
    expected = torch.tensor([2.0 * words.count(w) for w in vocab.ix_to_word])
    assert torch.equal(counts, expected)  # two epochs, the first from the checkpoint
    assert counts.history[-1]["examples"] == len(words) and not (tmp_path / "work").exists()


# ---- the first stage: the output is checked before any work
def test_an_output_that_is_a_folder_is_refused_before_any_work(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        train_vectors(corpus, tmp_path / "out", **SMALL)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        train_vectors(corpus, tmp_path / "missing" / "v.bin", **SMALL)
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "out"]  # no out.work left behind
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "out"),
                          "--min-count", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "is a folder" in run.stderr and "Traceback" not in run.stderr
    assert sorted(os.listdir(tmp_path)) == ["c.txt", "out"] and "epoch" not in run.stderr


def test_a_resumable_run_keeps_its_checkpoint_when_the_output_went_bad_meanwhile(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 100)
    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "v.bin", callbacks=[stop_after_an_epoch], **SMALL)
    (tmp_path / "v.bin").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        train_vectors(corpus, tmp_path / "v.bin", resume=True, **SMALL)
    assert (tmp_path / "v.bin.work" / "checkpoint.pt").exists()
    os.rmdir(tmp_path / "v.bin")
    assert len(train_vectors(corpus, tmp_path / "v.bin", resume=True, **SMALL).history) == SMALL["epochs"]
    assert (tmp_path / "v.bin").is_file() and not (tmp_path / "v.bin.work").exists()


def test_checkpoints_keep_any_word_as_it_is():
    words = ["a", "", "caf\u00e9", "\udcff\udcfe", "two words", "new\nline", "\u65e5\u672c", "\0"]
    packed = checkpoint.pack_words(words)
    assert checkpoint.unpack_words(packed["word_text"], packed["word_lengths"]) == words
    assert checkpoint.unpack_words(*checkpoint.pack_words([]).values()) == []
    with pytest.raises(ValueError):
        checkpoint.unpack_words(packed["word_text"], packed["word_lengths"] + 1)
