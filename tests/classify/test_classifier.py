"""The classifier end to end (wordembed.train_classifier, wordembed.Classifier): it learns planted
labels with every loss, reproduces and resumes exactly, predicts and tests as fastText does, and
is a torch.nn.Module."""
import math
import os

import pytest
import torch

from wordembed import Classifier, TrainingError, train_classifier
from wordembed.training.classifier_config import ClassifierConfig
from testing import CLASSIFY_SMALL as SMALL, TOPICS, planted_lines, write


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    return write(folder / "train.txt", planted_lines(1500, 0)), write(folder / "test.txt", planted_lines(400, 1))


@pytest.mark.parametrize("loss", ["softmax", "ns", "hs", "ova"])
@pytest.mark.parametrize("word_ngrams", [1, 2])
def test_every_loss_learns_the_planted_labels(data, loss, word_ngrams):
    model = train_classifier(data[0], loss=loss, word_ngrams=word_ngrams, bucket=10007, **SMALL)
    n, precision, recall = model.test(data[1])
    assert n == 400 and precision >= 0.9 and precision == recall
    assert model.history[-1]["loss"] < model.history[0]["loss"]
    assert sorted(model.labels) == [f"__label__t{i}" for i in range(TOPICS)]


def test_one_vs_all_finds_several_labels(tmp_path):
    train, test = write(tmp_path / "a.txt", planted_lines(2000, 0, True)), write(tmp_path / "b.txt", planted_lines(400, 1, True))
    model = train_classifier(train, loss="ova", **SMALL)
    n, p2, r2 = model.test(test, k=2)
    _, p_half, r_half = model.test(test, k=-1, threshold=0.5)
    assert r2 >= 0.85 and r_half >= 0.8 and p_half >= 0.8
    labels, probabilities = model.predict("t0w1 t0w2 t2w3 t2w4 t2w5 t0w6", k=-1, threshold=0.5)
    assert set(labels) == {"__label__t0", "__label__t2"} and (probabilities >= 0.5).all()


def test_deterministic_training_is_bit_identical_and_equals_the_reference_twin(data):
    settings = dict(SMALL, deterministic=True, word_ngrams=2, bucket=1009, loss="ns")
    a, b = train_classifier(data[0], **settings), train_classifier(data[0], **settings)
    assert torch.equal(a.input_vectors, b.input_vectors) and torch.equal(a.output_vectors, b.output_vectors)
    small = planted_lines(120, 3)
    twin = train_classifier([(l.split(" ", 1)[1], l.split(" ", 1)[0]) for l in small], backend="reference",
                            **dict(settings, epochs=2))
    fused = train_classifier([(l.split(" ", 1)[1], l.split(" ", 1)[0]) for l in small], **dict(settings, epochs=2))
    torch.testing.assert_close(fused.input_vectors, twin.input_vectors, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fused.output_vectors, twin.output_vectors, rtol=1e-4, atol=1e-5)


def test_ctrl_c_and_resume_give_the_same_model(data, tmp_path):
    settings = dict(SMALL, deterministic=True, chunk_words=3000, checkpoint_seconds=0)
    whole = train_classifier(data[0], tmp_path / "whole.bin", **settings)

    def stop_after_two_epochs(trainer, entry):
        if entry["epoch"] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_classifier(data[0], tmp_path / "m.bin", callbacks=[stop_after_two_epochs], **settings)
    assert not (tmp_path / "m.bin").exists() and (tmp_path / "m.bin.work").is_dir()
    resumed = train_classifier(data[0], tmp_path / "m.bin", resume=True, **settings)
    assert torch.equal(whole.input_vectors, resumed.input_vectors)
    assert torch.equal(whole.output_vectors, resumed.output_vectors)
    assert (tmp_path / "m.bin").read_bytes() == (tmp_path / "whole.bin").read_bytes()
    assert not (tmp_path / "m.bin.work").exists()


def test_pairs_and_files_train_the_same(data):
    lines = data[0].read_text(encoding="utf-8").splitlines()
    pairs = [(line.split(" ", 1)[1], [line.split(" ", 1)[0][len("__label__"):]]) for line in lines]
    settings = dict(SMALL, deterministic=True)
    a, b = train_classifier(data[0], **settings), train_classifier(pairs, **settings)
    assert torch.equal(a.input_vectors, b.input_vectors) and a.labels == b.labels


def test_predict_answers_as_fasttexts_python_api(data):
    model = train_classifier(data[0], **SMALL)
    labels, probabilities = model.predict("t1w3 t1w4 common2")
    assert labels == ("__label__t1",) and probabilities.shape == (1,) and 0 < probabilities[0] <= 1 + 1e-5
    labels, probabilities = model.predict(["t1w3 t1w4", "t2w1 t2w2"], k=3)
    assert [l[0] for l in labels] == ["__label__t1", "__label__t2"] and all(len(l) == 3 for l in labels)
    assert all((p[:-1] >= p[1:]).all() for p in probabilities)
    all_labels, p = model.predict("t1w3", k=-1)
    assert len(all_labels) == TOPICS and math.isclose(float(p.sum()), 1 + TOPICS * 1e-5, rel_tol=1e-4)
    labels, p = model.predict("t1w3 common1", k=4, threshold=0.3)
    assert 0 < len(labels) < TOPICS and (p >= 0.3).all()  # only the labels of at least the threshold
    with pytest.raises(ValueError, match="newline"):
        model.predict("two\nlines")
    for k in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="k must"):
            model.predict("t1w3", k=k)
    with pytest.raises(ValueError, match="threshold"):
        model.predict("t1w3", threshold=1.5)
    vector = model.sentence_vector("t1w3 t1w4")
    assert vector.shape == (16,) and torch.isfinite(vector).all()


def test_a_classifier_is_a_torch_module(data):
    model = train_classifier(data[0], loss="hs", **SMALL)
    input, offsets = model.encode(["t1w3 t1w4", "t2w1", "t3w0 t3w1 t3w2"])
    scores = model(input, offsets)
    assert scores.shape == (3, TOPICS)
    torch.testing.assert_close(scores.logsumexp(1), torch.zeros(3), atol=1e-5, rtol=0)  # hs: log-probabilities
    assert [model.labels[i] for i in scores.argmax(1).tolist()] == ["__label__t1", "__label__t2", "__label__t3"]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    target = torch.tensor([model.labels.index("__label__t2")] * 3)
    before = torch.nn.functional.nll_loss(model(input, offsets), target)
    for _ in range(20):
        optimizer.zero_grad()
        torch.nn.functional.nll_loss(model(input, offsets), target).backward()
        optimizer.step()
    assert torch.nn.functional.nll_loss(model(input, offsets), target) < before
    assert isinstance(model.embedding, torch.nn.Module) and model.linear.weight is model.output_vectors


def test_save_and_load_give_the_same_predictions(data, tmp_path):
    model = train_classifier(data[0], word_ngrams=2, bucket=5003, minn=2, maxn=3, **SMALL)
    model.save(tmp_path / "m.bin")
    again = Classifier.load(tmp_path / "m.bin")
    assert again.labels == model.labels and again.words == model.words
    assert torch.equal(again.input_vectors, model.input_vectors)
    assert again.test(data[1]) == model.test(data[1])
    assert again.predict("t2w1 unseenword", k=2)[0] == model.predict("t2w1 unseenword", k=2)[0]


def test_settings_are_checked_before_any_work(data, tmp_path):
    for bad, message in [(dict(loss="nce"), "loss"), (dict(dim=0), "dim"), (dict(word_ngrams=0), "word_ngrams"),
                         (dict(word_ngrams=2, bucket=0), "bucket"), (dict(minn=3, maxn=2), "minn"),
                         (dict(label_prefix=""), "prefix"), (dict(lr=0.0), "lr"), (dict(neg=0), "neg"),
                         (dict(device="cuda"), "cuda|CPU")]:
        with pytest.raises(TrainingError, match=message):
            train_classifier(data[0], tmp_path / "m.bin", **bad)
    assert not list(tmp_path.iterdir())


def test_data_without_what_training_needs_says_so(tmp_path):
    cases = {"empty.txt": b"", "nolabel.txt": b"some words\nmore words\n",
             "onlylabels.txt": b"__label__a\n__label__b __label__a\n",
             "prefix.txt": b"#a words here\n#b more words\n", "blank.txt": b"\n\n\n"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(TrainingError, match="label|word"):
            train_classifier(tmp_path / name, tmp_path / "out.bin", dim=8)
        assert not (tmp_path / "out.bin").exists() and not (tmp_path / "out.bin.work").exists()
    with pytest.raises(TrainingError, match="min_count_label"):
        (tmp_path / "few.txt").write_bytes(b"__label__a x\n__label__b y\n")
        train_classifier(tmp_path / "few.txt", dim=8, min_count_label=2)
    with pytest.raises(FileNotFoundError):
        train_classifier(tmp_path / "missing.txt", dim=8)


def test_lines_only_labels_or_not_utf8_are_handled(tmp_path, capsys):
    lines = planted_lines(600, 4) + ["", "__label__t1", "no label here", "__label__t2 caf\xe9"]
    data = "".join(line + "\n" for line in lines).encode("utf-8") + b"__label__t3 \xff\xfe bytes t3w1\n"
    (tmp_path / "d.txt").write_bytes(data)
    model = train_classifier(tmp_path / "d.txt", **SMALL)
    assert "\udcff\udcfe" in model.words  # the bytes, kept as they are
    assert model.predict("t3w1 t3w2")[0] == ("__label__t3",)
    model.save(tmp_path / "m.bin")
    assert Classifier.load(tmp_path / "m.bin").words == model.words


def test_loading_what_is_not_a_classifier_says_why(tmp_path, data):
    from wordembed import FastTextFormatError, train_vectors
    model = train_classifier(data[0], **SMALL)
    model.save(tmp_path / "m.bin")
    good = (tmp_path / "m.bin").read_bytes()
    cases = {"magic.bin": b"\0" * 64, "short.bin": good[:100], "truncated.bin": good[:-50],
             "hugeentries.bin": good[:64] + (2**31 - 1).to_bytes(4, "little") + good[68:],
             "hugerows.bin": good[:-16 - 4 * 16 * 4] + (2**40).to_bytes(8, "little") + good[-8 - 4 * 16 * 4:]}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FastTextFormatError):
            Classifier.load(tmp_path / name)
    vectors = train_vectors([["a", "b", "c"]] * 50, dim=8, min_count=1, bucket=100, epochs=1)
    vectors.save(tmp_path / "v.bin", "fasttext")
    with pytest.raises(FastTextFormatError, match="not a classifier"):
        Classifier.load(tmp_path / "v.bin")
    with pytest.raises(FileNotFoundError):
        Classifier.load(tmp_path / "nothing.bin")


def test_pretrained_vectors_start_the_words_they_know(data, tmp_path):
    from wordembed import WordVectors
    words = ["t1w3", "brandnew"]
    vectors = WordVectors.from_index(words, {w: i for i, w in enumerate(words)}, torch.ones(2, 16), [5, 5])
    vectors.save(tmp_path / "pre.txt")
    model = train_classifier(data[0], pretrained_vectors=tmp_path / "pre.txt", **dict(SMALL, epochs=1, lr=1e-6))
    row = model.words.index("t1w3")
    torch.testing.assert_close(model.input_vectors[row], torch.ones(16), atol=1e-3, rtol=0)
    assert "brandnew" in model.words  # as fastText, the pretrained words join the dictionary
    with pytest.raises(TrainingError, match="dim"):
        train_classifier(data[0], pretrained_vectors=tmp_path / "pre.txt", dim=8)


def test_config_defaults_are_fasttexts():
    c = ClassifierConfig()
    assert (c.dim, c.lr, c.epochs, c.word_ngrams, c.min_count, c.min_count_label, c.neg, c.loss) == \
        (100, 0.1, 5, 1, 1, 0, 5, "softmax")
    assert c.buckets == 0 and ClassifierConfig(word_ngrams=2).buckets == 2_000_000
    assert ClassifierConfig(maxn=5, minn=2).buckets == 2_000_000 and ClassifierConfig(word_ngrams=2, bucket=7).buckets == 7


@pytest.mark.parametrize("loss", ["softmax", "ns", "hs", "ova"])
@pytest.mark.parametrize("lr", [1e6, 1e30])
def test_training_that_leaves_float_range_stops_naming_lr_and_writes_nothing(data, tmp_path, loss, lr):
    with pytest.raises(TrainingError, match=r"non-finite .* try a smaller lr \(--lr, now"):
        train_classifier(data[0], tmp_path / "m.bin", **dict(SMALL, loss=loss, lr=lr))
    assert os.listdir(tmp_path) == []


def test_a_huge_start_names_init_scale_and_non_finite_pretrained_vectors_are_refused(data, tmp_path):
    from wordembed import WordVectors
    with pytest.raises(TrainingError, match=r"or init_scale \(--init-scale, now 1e\+30\)"):
        train_classifier(data[0], tmp_path / "m.bin", init_scale=1e30, **SMALL)
    pretrained = WordVectors(["t1w3", "common4"], torch.tensor([[0.0] * 16, [float("nan")] * 16]))
    pretrained.save(tmp_path / "nan.pt")
    with pytest.raises(TrainingError, match="non-finite number in their row 1 \\(word 'common4'\\)"), \
            pytest.warns(RuntimeWarning, match="hold NaN or inf"):
        train_classifier(data[0], tmp_path / "m.bin", pretrained_vectors=tmp_path / "nan.pt", **SMALL)
    assert os.listdir(tmp_path) == ["nan.pt"]
