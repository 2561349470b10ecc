"""Training that continues from existing vectors (train_vectors(init=...), `wordembed train
--init`): the old vocabulary kept and the new corpus's words added, old rows (and output rows)
as the start, settings checked, resume, determinism, and a better result than the new corpus
alone."""
import random
import subprocess
import sys

import pytest
import torch

from wordembed import TrainingError, WordVectors, train_vectors
from wordembed.text.vocab import Vocabulary
from testing import TRAIN_SMALL as SMALL, planted_corpus

DETERMINISTIC = dict(SMALL, deterministic=True, seed=5, epochs=2)


def new_words_corpus(path, sentences=300, seed=9):
    """Group 0 of the planted corpus, with new words n0..n3 in its sentences."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(sentences):
            words = [f"g0w{rng.randrange(8)}" for _ in range(6)] + [f"n{rng.randrange(4)}"]
            rng.shuffle(words)
            f.write(" ".join(words) + "\n")
    return path


@pytest.fixture(scope="module")
def old(tmp_path_factory):
    folder = tmp_path_factory.mktemp("old")
    vectors = train_vectors(planted_corpus(folder / "c.txt", 1500), folder / "old.pt", **DETERMINISTIC)
    return folder, vectors


def test_the_old_vocabulary_is_kept_and_new_words_are_added(old, tmp_path):
    folder, before = old
    corpus = new_words_corpus(tmp_path / "new.txt")
    after = train_vectors(corpus, tmp_path / "v.pt", init=folder / "old.pt", **DETERMINISTIC)
    assert set(before.index_to_key) < set(after.index_to_key)
    assert set(after.index_to_key) - set(before.index_to_key) == {"n0", "n1", "n2", "n3"}
    # counts: the old ones plus the new corpus's, sorted as every vocabulary is
    new_counts = {w: c for w, c in zip(*_counted(corpus))}
    for w, c in zip(after.index_to_key, after.counts.tolist()):
        old_count = int(before.counts[before.get_index(w)]) if w in before else 0
        assert c == old_count + new_counts.get(w, 0)
    assert after.counts.tolist() == sorted(after.counts.tolist(), reverse=True)
    # words of the old vocabulary that the new corpus never uses keep their vectors untouched
    untouched = [w for w in before.index_to_key if w not in new_counts]
    assert untouched and torch.equal(after[untouched], before[untouched])
    # new words learn their company: n* sit with group 0
    assert after.most_similar("n1", topn=1)[0][0].startswith(("g0", "n"))


def _counted(path):
    vocab = Vocabulary.from_corpus(str(path), min_count=1)
    return vocab.ix_to_word, vocab.counts.tolist()


def test_a_rare_new_word_stays_out_but_a_rare_old_one_trains(old, tmp_path):
    folder, before = old
    corpus = tmp_path / "new.txt"
    corpus.write_text("g1w1 g1w2 rare\n" * 2 + "g1w3 g1w4 g1w5 often often\n" * 10)
    after = train_vectors(corpus, None, init=before, **{**DETERMINISTIC, "min_count": 5})
    assert "rare" not in after and "often" in after
    assert not torch.equal(after["g1w1"], before["g1w1"])  # seen twice, below min_count, still trained


def test_continuing_is_deterministic_and_resumes_exactly(old, tmp_path):
    folder, before = old
    corpus = new_words_corpus(tmp_path / "new.txt")
    whole = train_vectors(corpus, tmp_path / "whole.pt", init=before, **DETERMINISTIC)
    again = train_vectors(corpus, tmp_path / "again.pt", init=folder / "old.pt", **DETERMINISTIC)
    assert torch.equal(whole.vectors, again.vectors)

    def stop(trainer, entry):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_vectors(corpus, tmp_path / "cut.pt", init=before, callbacks=[stop], **DETERMINISTIC)
    with pytest.raises(TrainingError, match="other settings.*init"):  # not the same start
        train_vectors(corpus, tmp_path / "cut.pt", resume=True, **DETERMINISTIC)
    resumed = train_vectors(corpus, tmp_path / "cut.pt", init=before, resume=True, **DETERMINISTIC)
    assert torch.equal(resumed.vectors, whole.vectors)


def test_a_run_killed_right_after_preparing_resumes_from_the_old_vectors_not_the_seed(old, tmp_path):
    from wordembed import TrainConfig
    from wordembed.training.trainer import Trainer
    folder, before = old
    corpus = new_words_corpus(tmp_path / "new.txt")
    whole = train_vectors(corpus, None, init=before, **DETERMINISTIC)
    trainer = Trainer(corpus, TrainConfig(**DETERMINISTIC), tmp_path / "v.pt.work", init=before)
    trainer.prepare()  # then "killed": only the checkpoint made after preparation is there
    trainer.work.release()
    saved = torch.load(trainer.work.checkpoint_path, weights_only=True)
    assert saved["input_vectors"] is not None  # not the seed's tables: they are kept
    resumed = train_vectors(corpus, tmp_path / "v.pt", init=before, resume=True, **DETERMINISTIC)
    assert torch.equal(resumed.vectors, whole.vectors)


def test_output_rows_are_continued_where_the_file_holds_them(old, tmp_path):
    folder, before = old
    assert before.output_vectors is not None and WordVectors.load(folder / "old.pt").output_vectors is not None
    before.save(tmp_path / "old.txt")  # word2vec text keeps no output rows: they start at zero
    assert WordVectors.load(tmp_path / "old.txt").output_vectors is None
    corpus = new_words_corpus(tmp_path / "new.txt")
    from_pt = train_vectors(corpus, None, init=folder / "old.pt", **DETERMINISTIC)
    from_txt = train_vectors(corpus, None, init=tmp_path / "old.txt", **DETERMINISTIC)
    assert not torch.equal(from_pt.vectors, from_txt.vectors)


def test_subword_models_continue_with_their_buckets(tmp_path):
    settings = dict(DETERMINISTIC, bucket=300, minn=2, maxn=3)
    before = train_vectors(planted_corpus(tmp_path / "c.txt", 600), tmp_path / "sub.pt", **settings)
    after = train_vectors(new_words_corpus(tmp_path / "new.txt"), None, init=tmp_path / "sub.pt", **settings)
    assert after.subwords.bucket == 300 and "n0" in after and set(before.index_to_key) < set(after.index_to_key)
    with pytest.raises(TrainingError, match="--bucket 300 --minn 2 --maxn 3"):
        train_vectors(tmp_path / "new.txt", None, init=before, **dict(settings, maxn=4))
    with pytest.raises(TrainingError, match="--bucket 300"):
        train_vectors(tmp_path / "new.txt", None, init=before, **DETERMINISTIC)


def test_mismatched_settings_and_missing_files_are_clear_errors_before_any_work(old, tmp_path):
    folder, before = old
    corpus = new_words_corpus(tmp_path / "new.txt")
    with pytest.raises(TrainingError, match="dim 24, but dim is 12: set --dim 24"):
        train_vectors(corpus, tmp_path / "v.pt", init=before, **dict(DETERMINISTIC, dim=12))
    with pytest.raises(TrainingError, match="no subwords"):
        train_vectors(corpus, tmp_path / "v.pt", init=before, **dict(DETERMINISTIC, bucket=100))
    with pytest.raises(FileNotFoundError, match="vectors file not found"):
        train_vectors(corpus, tmp_path / "v.pt", init=tmp_path / "missing.pt", **DETERMINISTIC)
    with pytest.raises(ValueError, match="vectors to continue from"):
        train_vectors(corpus, folder / "old.pt", init=folder / "old.pt", **DETERMINISTIC)
    with pytest.raises(TypeError, match="init must be"):
        train_vectors(corpus, None, init=[1, 2], **DETERMINISTIC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.txt"]  # nothing was started


def test_the_command_line_continues_training(old, tmp_path):
    folder, _ = old
    corpus = new_words_corpus(tmp_path / "new.txt")
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "v.pt"),
                          "--init", str(folder / "old.pt"), "--dim", "24", "--min-count", "1", "--epochs", "1"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "n0" in WordVectors.load(tmp_path / "v.pt")
    run = subprocess.run([sys.executable, "-m", "wordembed", "train", str(corpus), "-o", str(tmp_path / "w.pt"),
                          "--init", str(folder / "old.pt"), "--dim", "50"], capture_output=True, text=True)
    assert run.returncode == 2 and "set --dim 24" in run.stderr and "Traceback" not in run.stderr
