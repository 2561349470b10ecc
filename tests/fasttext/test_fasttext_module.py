"""wordembed.fasttext against fastText's own module (the pip wheel): the same calls, argument
names and return types, and the same answers on the same model file."""
import numpy as np
import pytest

import wordembed.fasttext as ours
from testing import fasttext_supervised, planted_corpus, planted_lines, write

fasttext = pytest.importorskip("fasttext")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("module")
    lines = planted_lines(1200, seed=5)
    return folder, write(folder / "train.txt", sorted(lines[:1000])), write(folder / "test.txt", lines[1000:])


def test_a_fasttext_script_runs_unchanged(files):
    folder, train, test = files
    model = ours.train_supervised(input=str(train), epoch=5, lr=0.5, wordNgrams=2, dim=16, bucket=5000, thread=1,
                                  verbose=0)
    labels, probabilities = model.predict("t1w3 t1w5 t1w8")
    assert isinstance(labels, tuple) and labels[0].startswith("__label__") and probabilities.dtype == np.float64
    many_labels, many = model.predict(["t1w3 t1w5", "t2w1 t2w2"], k=2)
    assert isinstance(many_labels, list) and many.shape == (2, 2)
    n, p, r = model.test(str(test))
    assert n == 200 and p > 0.8
    model.save_model(str(folder / "script.bin"))
    theirs = fasttext.load_model(str(folder / "script.bin"))
    assert theirs.test(str(test)) == pytest.approx((n, p, r))
    assert model.get_dimension() == 16 and not model.is_quantized()
    assert model.words == theirs.words and model.labels == theirs.labels


def test_the_same_file_gives_the_same_answers(files):
    folder, train, test = files
    fasttext_supervised(fasttext, train, epoch=5, lr=0.5, dim=16, minn=2, maxn=4, bucket=3000).save_model(
        str(folder / "theirs.bin"))
    theirs, mine = fasttext.load_model(str(folder / "theirs.bin")), ours.load_model(str(folder / "theirs.bin"))
    for word in mine.get_words()[:15] + ["neverseen"]:
        assert np.allclose(theirs.get_word_vector(word), mine.get_word_vector(word), atol=1e-6)
        assert theirs.get_word_id(word) == mine.get_word_id(word)
        assert list(theirs.get_subwords(word)[1]) == list(mine.get_subwords(word)[1])
        assert theirs.get_subwords(word)[0] == mine.get_subwords(word)[0]
    text = " ".join(mine.get_words()[1:6])
    assert np.allclose(theirs.get_sentence_vector(text), mine.get_sentence_vector(text), atol=1e-6)
    assert theirs.get_line(text + " __label__t1") == mine.get_line(text + " __label__t1")
    assert theirs.get_subword_id("<ab") == mine.get_subword_id("<ab")
    assert np.array_equal(theirs.get_input_matrix(), mine.get_input_matrix())
    assert np.array_equal(theirs.get_output_matrix(), mine.get_output_matrix())
    word = mine.get_words()[4]
    assert [w for _, w in theirs.get_nearest_neighbors(word, k=5)] == [w for _, w in mine.get_nearest_neighbors(word, k=5)]
    a, b, c = mine.get_words()[2:5]
    assert [w for _, w in theirs.get_analogies(a, b, c, k=3)] == [w for _, w in mine.get_analogies(a, b, c, k=3)]
    expected, found = theirs.test_label(str(test)), mine.test_label(str(test))
    assert expected.keys() == found.keys()
    for label in expected:
        for key in ("precision", "recall", "f1score"):
            assert expected[label][key] == pytest.approx(found[label][key], nan_ok=True)
    assert theirs.get_words(include_freq=True)[1].tolist() == mine.get_words(include_freq=True)[1].tolist()


def test_unsupervised_vectors_answer_for_unseen_words(tmp_path):
    corpus = planted_corpus(tmp_path / "c.txt", 300)
    model = ours.train_unsupervised(str(corpus), model="cbow", dim=12, epoch=2, minCount=2, bucket=2000, thread=1,
                                    verbose=0)
    assert model.get_word_vector("wordnotseen").shape == (12,) and np.any(model.get_word_vector("wordnotseen"))
    model.save_model(str(tmp_path / "v.bin"))
    theirs = fasttext.load_model(str(tmp_path / "v.bin"))
    assert np.allclose(theirs.get_word_vector("wordnotseen"), model.get_word_vector("wordnotseen"), atol=1e-6)
    with pytest.raises(ValueError, match="supervised"):
        model.predict("a b")


def test_fasttexts_argument_errors():
    with pytest.raises(TypeError, match="wordNgram"):
        ours.train_supervised(input="x.txt", wordNgram=2)
    with pytest.raises(TypeError, match="input"):
        ours.train_supervised(epoch=2)
    with pytest.raises(ValueError, match="negative sampling"):
        ours.train_unsupervised(input="x.txt", loss="hs")
    assert ours.tokenize("a b\nc") == ["a", "b", "</s>", "c"]
