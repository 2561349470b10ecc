"""Labelled lines as fastText reads them (wordembed/text/labelled.py): the compiled counter and
encoder against their Python twins, and the input rows of a line against fastText's own."""
import random

import numpy as np
import pytest
import torch

import wordembed.ops  # noqa: F401  (the compiled ops)
from wordembed.text import labelled
from wordembed.text.labelled import build_dictionary
from testing import fasttext_supervised

SEPARATORS = [" ", "  ", "\t", "\v", "\f", "\r", "\0"]


def random_text(seed, lines=60):
    """Lines of words (some not UTF-8, some multi-byte), labels, odd separators, empty lines, lines
    of labels alone, and sometimes no newline at the end."""
    rng = random.Random(seed)
    vocab = [b"cat", b"dog", "caf\u00e9".encode(), "\u65e5\u672c".encode(), b"\xff\xfe", b"x", b"</s>", b"a-b",
             b"__label__pet", b"__label__food", b"__label__rare", b"__lab", b"q" * 40]
    out = []
    for _ in range(lines):
        n = rng.choice([0, 0, 1, 2, 5, 9])
        tokens = [rng.choice(vocab) for _ in range(n)]
        out.append(b"".join(t + rng.choice(SEPARATORS).encode() for t in tokens))
    text = b"\n".join(out)
    return text if rng.random() < 0.5 else text + b"\n"


@pytest.mark.parametrize("seed", range(6))
def test_counting_equals_its_twin(seed):
    text = random_text(seed)
    assert labelled.count_tokens(labelled.text_tensor(text)) == labelled.count_tokens_python(text)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("settings", [(1, 0, 0, 0), (2, 1000, 0, 0), (3, 97, 0, 0), (2, 500, 2, 4), (1, 50, 1, 1)])
@pytest.mark.parametrize("keep", [False, True])
@pytest.mark.parametrize("min_count", [1, 3])
def test_encoding_equals_its_twin(seed, settings, keep, min_count):
    text = random_text(seed)
    dictionary = build_dictionary(labelled.count_tokens_python(text), "__label__", min_count, 2)
    native = labelled.encode(labelled.text_tensor(text), dictionary, *settings, keep)
    twin = labelled.encode_python(text, dictionary, *settings, keep)
    assert torch.equal(native[0], twin[0]) and torch.equal(native[1], twin[1])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("settings", [(1, 500, 2, 4), (2, 97, 1, 3), (1, 0, 0, 0)])
def test_words_as_bags_encode_and_expand_as_their_twins(seed, settings):
    text = random_text(seed)
    dictionary = build_dictionary(labelled.count_tokens_python(text), "__label__", 2, 1)
    native = labelled.encode(labelled.text_tensor(text), dictionary, *settings, False, word_bags=True)
    twin = labelled.encode_python(text, dictionary, *settings, False, word_bags=True)
    assert torch.equal(native[0], twin[0]) and torch.equal(native[1], twin[1])
    _, bucket, minn, maxn = settings
    bags = labelled.word_bags(dictionary, bucket, minn, maxn)
    twin_bags = labelled.word_bags_python(dictionary, bucket, minn, maxn)
    assert torch.equal(bags[0], twin_bags[0]) and torch.equal(bags[1], twin_bags[1])
    # each word's bag expanded gives back the rows that encoding without bags writes
    expanded = labelled.encode(labelled.text_tensor(text), dictionary, *settings, False)[0].tolist()
    offsets, rows = bags[0].tolist(), bags[1].tolist()
    assert [r for i in native[0].tolist() for r in (rows[offsets[i]:offsets[i + 1]] if 0 <= i < dictionary.nwords
                                                     else [i])] == expanded


def test_the_bags_of_a_large_dictionary_are_the_same_on_any_thread_count():
    words = ["</s>"] + [f"w{i}\u00e9{'x' * (i % 7)}" for i in range(12_000)]
    dictionary = labelled.LabelledDictionary(words, [1] * len(words), ["__label__a"], [1], len(words) + 1)
    before = torch.get_num_threads()
    try:
        made = []
        for threads in (1, 3):  # words cut into one run per thread
            torch.set_num_threads(threads)
            made.append(labelled.word_bags(dictionary, 5000, 2, 4))
    finally:
        torch.set_num_threads(before)
    twin = labelled.word_bags_python(dictionary, 5000, 2, 4)
    for bags in made:
        assert torch.equal(bags[0], twin[0]) and torch.equal(bags[1], twin[1])


def test_a_text_of_several_mib_counts_and_encodes_the_same_on_any_thread_count():
    text = b"".join(random_text(seed, lines=2000) + b"\n" for seed in range(60))  # parts of 1 MiB a thread
    assert len(text) > 3 << 20
    before = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 3):
            torch.set_num_threads(threads)
            counted = labelled.count_tokens(labelled.text_tensor(text))
            dictionary = build_dictionary(counted, "__label__", 1, 0)
            results.append((counted, labelled.encode(labelled.text_tensor(text), dictionary, 2, 1000, 2, 4, False)))
    finally:
        torch.set_num_threads(before)
    (c1, e1), (c3, e3) = results
    assert c1 == c3 and torch.equal(e1[0], e3[0]) and torch.equal(e1[1], e3[1])
    assert c1.lines == text.count(b"\n")


def test_a_line_is_its_labels_then_its_words_and_their_ngrams():
    text = b"__label__a w1 w2 __label__b\nw2\n__label__a\n"
    counted = labelled.count_tokens(labelled.text_tensor(text))
    assert counted.lines == 3 and dict(zip(counted.tokens, counted.counts)) == \
        {"__label__a": 2, "w1": 1, "w2": 2, "__label__b": 1, "</s>": 3}
    d = build_dictionary(counted, "__label__", 1, 0)
    assert d.words == ["</s>", "w2", "w1"] and d.labels == ["__label__a", "__label__b"] and d.ntokens == 9
    ids, starts = labelled.encode(labelled.text_tensor(text), d, 1, 0, 0, 0, keep_unlabelled=True)
    assert starts.tolist() == [0, 5, 7, 9]
    assert ids.tolist() == [-1, -2, 2, 1, 0, 1, 0, -1, 0]  # labels first, then w1 w2 </s>; "</s>" is a word
    ids, starts = labelled.encode(labelled.text_tensor(text), d, 1, 0, 0, 0, keep_unlabelled=False)
    assert starts.tolist() == [0, 5, 7]  # training keeps the lines with a label and a row
    ids, starts = labelled.encode(labelled.text_tensor(text), d, 2, 100, 0, 0, keep_unlabelled=True)
    assert starts.diff().tolist() == [7, 3, 2]  # + bigrams (w1 w2), (w2 </s>); (w2 </s>); none
    assert (ids[starts[0] + 5:starts[1]] >= d.nwords).all()


def test_a_label_prefix_of_ones_own():
    text = b"#spam buy now\n#ham hello\n"
    d = build_dictionary(labelled.count_tokens(labelled.text_tensor(text)), "#", 1, 0)
    assert d.labels == ["#spam", "#ham"] and "#spam" not in d.words


def test_texts_and_pairs_become_lines():
    assert labelled.lines_bytes(["a b", "c"]) == b"a b\nc\n"
    with pytest.raises(ValueError, match="newline"):
        labelled.lines_bytes(["a\nb"])
    assert labelled.pairs_bytes([("a b", "x"), ("c", ["__label__y", "z"])]) == \
        b"__label__x a b\n__label__y __label__z c\n"
    with pytest.raises(ValueError, match="label"):
        labelled.pairs_bytes([("a", "two words")])
    with pytest.raises(TypeError, match="pair"):
        labelled.pairs_bytes(["just text"])
    with pytest.raises(ValueError, match="prefix"):
        labelled.check_label_prefix("has space")


def test_the_rows_of_a_line_are_fasttexts(tmp_path):
    """fastText's get_sentence_vector of a classifier is the mean of the line's input rows: with
    the model's own matrix, the rows we encode give the same vector, word and char n-grams, seen
    and unseen words, non-UTF-8 bytes included."""
    fasttext = pytest.importorskip("fasttext")
    rng = random.Random(1)
    words = [f"w{i}" for i in range(30)] + ["caf\u00e9", "na\u00efve"]
    with open(tmp_path / "train.txt", "w", encoding="utf-8") as f:
        for _ in range(300):
            f.write(f"__label__{rng.randrange(3)} " + " ".join(rng.choice(words) for _ in range(6)) + "\n")
    for settings in (dict(wordNgrams=1), dict(wordNgrams=3, bucket=5003), dict(wordNgrams=2, minn=2, maxn=4, bucket=7919),
                     dict(wordNgrams=2, bucket=1009, minCount=3)):
        model = fasttext_supervised(fasttext, tmp_path / "train.txt", dim=16, **settings)
        model.save_model(str(tmp_path / "m.bin"))
        from wordembed.classify.model import Classifier
        ours = Classifier.load(tmp_path / "m.bin")
        for text in ["w1 w2 w3", "unseen w4 w5 words", "caf\u00e9 na\u00efve \u00fcber", "", "w1 __label__1 w2 __label__zz"]:
            expected = model.get_sentence_vector(text)
            # float32 sums in another order: the error scales with the largest entry (fastText's
            # wheel now and then trains rows to 1e12 on files this small, and their means cancel)
            scale = max(1.0, float(np.abs(expected).max()))
            np.testing.assert_allclose(ours.sentence_vector(text).numpy(), expected, rtol=1e-5, atol=1e-6 * scale)


def test_bags_of_more_words_than_the_vocabulary_holds_are_refused():
    dictionary = labelled.LabelledDictionary(["</s>", "a"], [1, 1], ["__label__x"], [1], 3)
    with pytest.raises(ValueError, match="fewer than 5 words"):
        torch.ops.wordembed.labelled_word_bags(dictionary.entries(), 5, 100, 2, 4)
    with pytest.raises(ValueError, match="need bucket > 0"):
        torch.ops.wordembed.labelled_word_bags(dictionary.entries(), 2, 0, 2, 4)
