"""Vectors back into PyTorch models: text to rows with a rule for unknown words (WordVectors.encode
and encode_batch), the tokenizer training used kept with the vectors, an nn.Embedding of them, and
TensorBoard's projector files, parsed back."""
import csv
import os
import subprocess
import sys

import pytest
import torch

from wordembed import WordVectors, ops, train_vectors
from wordembed.text.tokenizing import Tokenizer
from testing import TRAIN_SMALL as SMALL

WORDS = ["the", "cat", "sat", "on", "mat", "a\tb", "new\nline", "back\\slash"]


@pytest.fixture
def wv():
    return WordVectors(WORDS, torch.randn(len(WORDS), 6, generator=torch.Generator().manual_seed(0)),
                       torch.arange(len(WORDS), 0, -1) * 10)


def test_tokens_and_strings_become_rows_and_unknown_words_follow_the_rule(wv):
    assert wv.encode(["the", "dog", "sat"]).tolist() == [0, -1, 2]
    assert wv.encode("the dog  sat\n").tolist() == [0, -1, 2] and wv.encode("").dtype == torch.int64
    assert wv.encode(["the", "dog"], unknown=4).tolist() == [0, 4]
    with pytest.raises(KeyError, match="'dog'"):
        wv.encode(["the", "dog", "emu"], unknown="error")
    for bad in (-2, len(WORDS), "skip", 1.0, True):
        with pytest.raises(ValueError, match="unknown must be"):
            wv.encode(["the"], unknown=bad)
    with pytest.raises(TypeError, match="tokens are str"):
        wv.encode(["the", 3])
    with pytest.raises(TypeError, match="bytes"):
        wv.encode(b"the cat")


def test_a_batch_gives_embedding_bags_input_and_offsets_or_a_padded_batch(wv):
    texts = ["the cat sat", "", "dog", ["on", "the", "mat"]]
    input, offsets = wv.encode_batch(texts)
    assert input.tolist() == [0, 1, 2, -1, 3, 0, 4] and offsets.tolist() == [0, 3, 3, 4]
    padded = wv.encode_batch(texts, padded=True)
    assert padded.tolist() == [[0, 1, 2], [-1, -1, -1], [-1, -1, -1], [3, 0, 4]]
    # both forms give the same bags: the padded one through ContextSum's op, the other through
    # nn.EmbeddingBag with the unknown word mapped to a row of zeros
    table = torch.cat([wv.vectors, torch.zeros(1, 6)])
    flat, offsets = wv.encode_batch(texts, unknown=len(WORDS) - 1)
    flat[flat == len(WORDS) - 1] = len(WORDS)  # the zero row
    bags = torch.nn.functional.embedding_bag(flat, table, offsets, mode="sum")
    torch.testing.assert_close(ops.context_sum(wv.vectors, padded, "sum"), bags)
    assert wv.encode_batch([], padded=True).shape == (0, 0) and wv.encode_batch([])[0].numel() == 0
    with pytest.raises(TypeError, match="list of texts"):
        wv.encode_batch("the cat")


def test_strings_are_split_as_training_split_the_corpus(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("The cat sat, on the mat.\n" * 50)
    vectors = train_vectors(corpus, tmp_path / "v.pt", **{**SMALL, "epochs": 1}, tokenize="words", lowercase=True)
    assert vectors.encode("The mat.").tolist() == vectors.encode(["the", "mat", "."]).tolist()
    assert -1 not in vectors.encode("The cat sat, on the mat.").tolist()
    loaded = WordVectors.load(tmp_path / "v.pt")  # the native file keeps the tokenizer
    assert (loaded.tokenizer.mode, loaded.tokenizer.lowercase) == ("words", True)
    vectors.save(tmp_path / "v.txt")  # a word2vec file does not: its text is taken as tokens
    assert WordVectors.load(tmp_path / "v.txt").tokenizer.is_identity
    with pytest.raises(TypeError, match="tokenizer must be"):
        WordVectors(["a"], torch.ones(1, 2), tokenizer="words")
    assert WordVectors(["a"], torch.ones(1, 2), tokenizer=Tokenizer("words")).encode("a.").tolist() == [0, -1]


def test_to_embedding_is_a_copy_that_trains_only_when_asked(wv):
    frozen, free = wv.to_embedding(), wv.to_embedding(freeze=False)
    assert torch.equal(frozen.weight, wv.vectors) and not frozen.weight.requires_grad and free.weight.requires_grad
    free.weight.data.add_(1)
    assert torch.equal(frozen(wv.encode("cat sat")), wv.vectors[[1, 2]])


def read_projector(folder):
    with open(folder / "tensors.tsv") as f:
        tensors = torch.tensor([[float(x) for x in line.rstrip("\n").split("\t")] for line in f])
    with open(folder / "metadata.tsv", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return tensors, rows, (folder / "projector_config.pbtxt").read_text()


def test_projector_files_parse_back_with_awkward_words_escaped(wv, tmp_path):
    wv.save_projector(tmp_path / "proj")
    tensors, rows, config = read_projector(tmp_path / "proj")
    torch.testing.assert_close(tensors, wv.vectors, rtol=1e-5, atol=1e-6)
    assert rows[0] == ["word", "count"] and len(rows) == len(WORDS) + 1
    assert [r[0] for r in rows[1:6]] == WORDS[:5] and rows[6:] == [["a\\tb", "30"], ["new\\nline", "20"],
                                                                   ["back\\\\slash", "10"]]
    assert 'tensor_path: "tensors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    wv.save_projector(tmp_path / "proj", limit=3)
    tensors, rows, _ = read_projector(tmp_path / "proj")
    assert tensors.shape == (3, 6) and len(rows) == 4
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        wv.save_projector(tmp_path / "file")


def test_export_command_writes_the_projector_files(wv, tmp_path):
    wv.save(tmp_path / "v.pt")  # (word2vec files cannot hold words with tabs)

    def export(*args):
        return subprocess.run([sys.executable, "-m", "wordembed", "export", str(tmp_path / "v.pt"), *args],
                              capture_output=True, text=True)

    run = export(str(tmp_path / "out"), "--projector", "--limit", "4")
    assert run.returncode == 0, run.stderr
    assert sorted(os.listdir(tmp_path / "out")) == ["metadata.tsv", "projector_config.pbtxt", "tensors.tsv"]
    assert read_projector(tmp_path / "out")[0].shape == (4, 6)
    run = export(str(tmp_path / "out"))
    assert run.returncode == 2 and "--projector" in run.stderr and "Traceback" not in run.stderr


def test_a_failed_export_leaves_the_earlier_export_whole(wv, tmp_path):
    wv.save_projector(tmp_path / "proj")
    before = {name: (tmp_path / "proj" / name).read_bytes() for name in os.listdir(tmp_path / "proj")}
    unwritable = WordVectors(["fine", "bad\udc80"], torch.ones(2, 6))
    with pytest.raises(ValueError, match="word 1 .* cannot be written as UTF-8"):
        unwritable.save_projector(tmp_path / "proj")
    assert {name: (tmp_path / "proj" / name).read_bytes() for name in os.listdir(tmp_path / "proj")} == before
    assert os.listdir(tmp_path) == ["proj"]
