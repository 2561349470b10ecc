"""WordVectors: file formats, gensim interop both ways, queries with known answers, evaluation
scores identical to gensim's, malformed files, the command line and the plots."""
import contextlib
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from wordembed import WordVectors
from wordembed.vectors.formats import VectorsFileError, load_word2vec, save_word2vec

gensim = pytest.importorskip("gensim", reason="gensim is a test dependency (requirements.txt)")
from gensim.models import KeyedVectors  # noqa: E402
from gensim.test.utils import datapath  # noqa: E402

WORDS = ["king", "queen", "man", "woman", "apple", "pear", "naïve", "日本"]


def random_vectors(n_words=None, dim=16, seed=0):
    words = WORDS if n_words is None else [f"w{i}" for i in range(n_words)]
    rng = np.random.default_rng(seed)
    return WordVectors(words, torch.from_numpy(rng.standard_normal((len(words), dim)).astype(np.float32)))


# ---- formats
@pytest.mark.parametrize("name", ["v.bin", "v.txt", "v.pt"])
def test_round_trip_is_exact(tmp_path, name):
    vectors = random_vectors()
    vectors.save(tmp_path / name)
    loaded = WordVectors.load(tmp_path / name)
    assert loaded.index_to_key == WORDS
    assert torch.equal(loaded.vectors, vectors.vectors)


def test_limit_reads_only_the_first_vectors(tmp_path):
    vectors = random_vectors()
    for name in ("v.bin", "v.txt", "v.pt"):
        vectors.save(tmp_path / name)
        loaded = WordVectors.load(tmp_path / name, limit=3)
        assert loaded.index_to_key == WORDS[:3] and loaded.vectors.shape == (3, 16)


@pytest.mark.parametrize("name", ["v.bin", "v.txt"])
def test_limit_stops_reading_where_its_vectors_end(tmp_path, name):
    """Bytes after the first `limit` vectors are never read: here they are not even vectors."""
    random_vectors(n_words=2000).save(tmp_path / name)
    data = (tmp_path / name).read_bytes()
    row = len(data) // 2000
    (tmp_path / name).write_bytes(data[:12 * row] + b"\xff not a vector \x00" * 50_000)
    loaded = WordVectors.load(tmp_path / name, limit=10)
    assert loaded.index_to_key == [f"w{i}" for i in range(10)]
    with pytest.raises(VectorsFileError):
        WordVectors.load(tmp_path / name)


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_what_we_write(tmp_path, binary):
    vectors = random_vectors()
    path = tmp_path / ("v.bin" if binary else "v.txt")
    vectors.save(path)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert kv.index_to_key == WORDS
    np.testing.assert_array_equal(kv.vectors, vectors.vectors.numpy())


@pytest.mark.parametrize("binary", [True, False])
def test_we_read_what_gensim_writes(tmp_path, binary):
    rng = np.random.default_rng(1)
    kv = KeyedVectors(12)
    kv.add_vectors(WORDS, rng.standard_normal((len(WORDS), 12)).astype(np.float32))
    path = tmp_path / "g.vectors"
    kv.save_word2vec_format(str(path), binary=binary)
    loaded = WordVectors.load(path)  # format detected
    assert loaded.index_to_key == WORDS
    # exact in text too: gensim prints the shortest repr of each float32
    np.testing.assert_array_equal(loaded.vectors.numpy(), kv.vectors)


def test_reads_a_real_gensim_file():
    path = datapath("lee_fasttext.vec")
    kv = KeyedVectors.load_word2vec_format(path)
    loaded = WordVectors.load(path)
    assert loaded.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors.numpy(), kv.vectors)


def test_native_file_keeps_counts_and_runs_no_code(tmp_path):
    vectors = WordVectors(WORDS, torch.randn(len(WORDS), 4), counts=list(range(100, 100 - len(WORDS), -1)))
    vectors.save(tmp_path / "v.pt")
    loaded = WordVectors.load(tmp_path / "v.pt")
    assert loaded.counts.tolist() == vectors.counts.tolist()

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"format": "wordembed-vectors", "evil": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(VectorsFileError):
        WordVectors.load(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_save_is_atomic(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("precious\n")
    with pytest.raises(ValueError):
        save_word2vec(path, ["has space"], np.zeros((1, 3), np.float32), binary=False)
    assert path.read_text() == "precious\n"
    assert os.listdir(tmp_path) == ["v.txt"]  # no temporary file left behind


@pytest.mark.parametrize("content,where", [
    (b"3 4\nking 1 2 3 4\nqueen 1 2 3 4\n", "line 4"),            # fewer vectors than promised
    (b"2 4\nking 1 2 3 4\nqueen 1 2 x 4\n", "line 3"),            # not a number
    (b"2 4\nking 1 2 3 4\nqueen 1 2 3\n", "line 3"),              # too few numbers
    (b"two 4\nking 1 2 3 4\n", "line 1"),                         # bad header
])
def test_malformed_text_file_names_the_line(tmp_path, content, where):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(VectorsFileError, match=where):
        load_word2vec(path, binary=False)


def test_truncated_binary_file_names_the_byte(tmp_path):
    random_vectors().save(tmp_path / "v.bin")
    data = (tmp_path / "v.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(data[:len(data) - 30])
    with pytest.raises(VectorsFileError, match=r"truncated at byte \d+"):
        WordVectors.load(tmp_path / "cut.bin")


# ---- queries on hand-made vectors with known answers
def hand_made():
    # king - man + woman = queen exactly; apple and pear point elsewhere
    words = ["king", "queen", "man", "woman", "apple", "pear", "car"]
    v = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.1], [0.0, 0.0, 1.0, 0.1],
                      [0.0, 0.0, 0.0, 1.0], [0.1, 0.0, 0.0, 1.0], [-1.0, -1.0, -1.0, 0.0]])
    return WordVectors(words, v)


def test_queries_with_known_answers():
    wv = hand_made()
    assert wv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert wv.most_similar_cosmul(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert wv.most_similar("apple", topn=1)[0][0] == "pear"
    assert wv.similarity("apple", "apple") == pytest.approx(1.0)
    assert wv.similarity("king", "car") < 0
    assert wv.doesnt_match(["king", "queen", "man", "apple"]) == "apple"
    assert wv.similar_by_vector(wv["pear"], topn=1)[0][0] == "pear"
    assert "king" in wv and "emperor" not in wv and len(wv) == 7
    assert wv.key_to_index["queen"] == 1 and wv.index_to_key[2] == "man"
    torch.testing.assert_close(wv.normed.norm(dim=1), torch.ones(7))


def test_queries_match_gensim_on_random_vectors():
    wv = random_vectors(n_words=300, dim=20, seed=3)
    kv = KeyedVectors(20)
    kv.add_vectors(wv.index_to_key, wv.vectors.numpy())
    for pos, neg in [(["w1"], []), (["w1", "w2"], ["w3"]), (["w5", "w7", "w9"], ["w11", "w12"])]:
        ours = wv.most_similar(positive=pos, negative=neg, topn=10)
        theirs = kv.most_similar(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-5, atol=1e-6)
        ours = wv.most_similar_cosmul(positive=pos, negative=neg, topn=10)
        theirs = kv.most_similar_cosmul(positive=pos, negative=neg, topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
    assert wv.doesnt_match(["w1", "w2", "w3", "w4"]) == kv.doesnt_match(["w1", "w2", "w3", "w4"])
    assert wv.similarity("w1", "w2") == pytest.approx(float(kv.similarity("w1", "w2")), abs=1e-6)


def test_unknown_word_suggests_a_close_match():
    with pytest.raises(KeyError, match="did you mean 'queen'"):
        hand_made().most_similar("queem")
    with pytest.raises(KeyError, match="did you mean 'king'"):  # whatever the case
        hand_made().most_similar("King")


def test_rows_by_number_iteration_and_length_as_in_gensim():
    wv = hand_made()
    assert torch.equal(wv[1], wv["queen"]) and torch.equal(wv[[0, "queen"]], wv[["king", "queen"]])
    assert list(wv) == wv.index_to_key and len(wv) == 7
    with pytest.raises(KeyError, match="out of range"):
        wv[7]


def test_vector_queries_and_all_scores_equal_gensims():
    wv = random_vectors(n_words=300, dim=12, seed=4)
    kv = KeyedVectors(12)
    kv.add_vectors(wv.index_to_key, wv.vectors.numpy())
    query = np.random.default_rng(1).standard_normal(12).astype(np.float32)
    ours = wv.most_similar(positive=["w1", query], negative=["w3"], topn=8)
    theirs = kv.most_similar(positive=["w1", query], negative=["w3"], topn=8)
    assert [w for w, _ in ours] == [w for w, _ in theirs]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)
    everything = wv.most_similar("w7", topn=None)
    assert isinstance(everything, np.ndarray) and everything.shape == (300,)
    np.testing.assert_allclose(everything, kv.most_similar("w7", topn=None), atol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        wv.most_similar(positive=[torch.zeros(3)])


# ---- evaluation: the same numbers as gensim
def planted_analogy_vectors(dim=40, noise=0.35, seed=0):
    """Vectors of the analogy set's words where each pair (a, b) of a section shares an offset,
    so that about half the questions are answered right, with many near-ties."""
    rng = np.random.default_rng(seed)
    path = datapath("questions-words.txt")
    section_offset, vec = None, {}
    for line in open(path):
        if line.startswith(":"):
            section_offset = rng.standard_normal(dim)
            continue
        a, b, c, d = line.split()
        for first, second in ((a, b), (c, d)):
            if first not in vec:
                vec[first] = rng.standard_normal(dim)
            if second not in vec:
                vec[second] = vec[first] + section_offset + noise * rng.standard_normal(dim)
    # case-folding collisions, as in real vocabularies: 'ATHENS' after 'Athens'
    vec.update({w.upper(): vec[w] for w in list(vec)[:40] if w.upper() not in vec})
    words = list(vec)
    matrix = np.array([vec[w] + 0.01 * rng.standard_normal(dim) for w in words])
    return words, matrix.astype(np.float32)


@pytest.mark.parametrize("restrict_vocab", [300_000, 600])
def test_analogy_scores_equal_gensims(restrict_vocab):
    words, matrix = planted_analogy_vectors()
    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words, matrix)
    wv = WordVectors(words, torch.from_numpy(matrix))
    path = datapath("questions-words.txt")
    theirs, their_sections = kv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    ours, our_sections = wv.evaluate_word_analogies(path, restrict_vocab=restrict_vocab)
    assert 0.2 < theirs < 0.9  # planted structure: neither trivial nor hopeless
    assert ours == theirs
    assert [s["section"] for s in our_sections] == [s["section"] for s in their_sections]
    for mine, gensims in zip(our_sections, their_sections):
        assert sorted(mine["correct"]) == sorted(gensims["correct"])
        assert sorted(mine["incorrect"]) == sorted(gensims["incorrect"])


@pytest.mark.parametrize("dummy4unknown", [False, True])
def test_analogy_oov_counting_equals_gensims(dummy4unknown):
    words, matrix = planted_analogy_vectors()
    keep = slice(0, len(words) // 2)  # half the words missing
    kv = KeyedVectors(matrix.shape[1])
    kv.add_vectors(words[keep], matrix[keep])
    wv = WordVectors(words[keep], torch.from_numpy(matrix[keep]))
    path = datapath("questions-words.txt")
    theirs = kv.evaluate_word_analogies(path, dummy4unknown=dummy4unknown)
    ours = wv.evaluate_word_analogies(path, dummy4unknown=dummy4unknown)
    assert ours[0] == theirs[0]
    assert [len(s["incorrect"]) for s in ours[1]] == [len(s["incorrect"]) for s in theirs[1]]


@pytest.mark.parametrize("pairs", ["wordsim353.tsv", "simlex999.txt"])
def test_word_pair_scores_equal_gensims(pairs):
    words = sorted({w.lower() for line in open(datapath(pairs)) if not line.startswith("#")
                    for w in line.split("\t")[:2]})[::2]  # about half of them, so some are OOV
    rng = np.random.default_rng(5)
    matrix = rng.standard_normal((len(words), 30)).astype(np.float32)
    kv = KeyedVectors(30)
    kv.add_vectors(words, matrix)
    wv = WordVectors(words, torch.from_numpy(matrix))
    for dummy4unknown in (False, True):
        pearson, spearman, oov = kv.evaluate_word_pairs(datapath(pairs), dummy4unknown=dummy4unknown)
        ours = wv.evaluate_word_pairs(datapath(pairs), dummy4unknown=dummy4unknown)
        # the same scipy.stats functions, so the same statistics and p-values, unpacked as gensim's
        (r, r_p), (rho, rho_p), _ = ours
        assert r == pytest.approx(pearson.statistic, abs=1e-6) and r_p == pytest.approx(pearson.pvalue, rel=1e-3)
        assert rho == pytest.approx(spearman.statistic, abs=1e-9)
        assert rho_p == pytest.approx(spearman.pvalue, rel=1e-6)
        assert ours.spearman.statistic == rho and ours.pearson.pvalue == r_p
        assert ours.oov_ratio == pytest.approx(oov)
        assert 0 < ours.oov_ratio < 100
        assert 0 <= r_p < 1 and 0 <= rho_p < 1


def test_word_pair_scores_without_a_correlation_are_nan(tmp_path):
    """Gold scores all equal have no correlation: NaN, as gensim gives; fewer than two scored
    pairs are an error that says so."""
    wv = WordVectors(["a", "b", "c"], torch.tensor([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]]))
    (tmp_path / "flat.tsv").write_text("a\tb\t5.0\na\tc\t5.0\nb\tc\t5.0\n")
    scores = wv.evaluate_word_pairs(tmp_path / "flat.tsv")
    assert math.isnan(scores.spearman.statistic) and math.isnan(scores.pearson.statistic)
    (tmp_path / "one.tsv").write_text("a\tb\t5.0\nx\ty\t1.0\n")
    with pytest.raises(ValueError, match="only one pair has both words"):
        wv.evaluate_word_pairs(tmp_path / "one.tsv")


def test_evaluation_on_a_real_file_equals_gensims():
    path = datapath("lee_fasttext.vec")
    kv = KeyedVectors.load_word2vec_format(path)
    wv = WordVectors.load(path)
    assert wv.evaluate_word_analogies(datapath("questions-words.txt"))[0] == \
        kv.evaluate_word_analogies(datapath("questions-words.txt"))[0]
    pearson, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    ours = wv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert ours.spearman.statistic == pytest.approx(spearman.statistic, abs=1e-9)
    assert ours.spearman.pvalue == pytest.approx(spearman.pvalue, rel=1e-6) and ours.oov_ratio == pytest.approx(oov)


# ---- command line and plots
def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "wordembed", *map(str, args)], capture_output=True, text=True)


def test_cli_queries(tmp_path):
    hand_made().save(tmp_path / "v.bin")
    result = run_cli("similar", tmp_path / "v.bin", "apple", "--topn", "1")
    assert result.returncode == 0 and result.stdout.split()[0] == "pear"
    result = run_cli("analogy", tmp_path / "v.bin", "man", "king", "woman", "--topn", "1")
    assert result.returncode == 0 and "queen" in result.stdout
    result = run_cli("similar", tmp_path / "v.bin", "quen")
    assert result.returncode == 2 and "did you mean 'queen'" in result.stderr and "Traceback" not in result.stderr
    result = run_cli("similar", tmp_path / "missing.bin", "king")
    assert result.returncode == 2 and "missing.bin" in result.stderr and "Traceback" not in result.stderr


def test_cli_eval(tmp_path):
    words, matrix = planted_analogy_vectors()
    WordVectors(words, torch.from_numpy(matrix)).save(tmp_path / "v.bin")
    result = run_cli("eval", tmp_path / "v.bin")
    assert result.returncode == 0, result.stderr
    assert "analogy accuracy" in result.stdout and "wordsim353.tsv: Spearman" in result.stdout
    # the same default as the API, and the coverage said
    score, sections = WordVectors.load(tmp_path / "v.bin").evaluate_word_analogies(datapath("questions-words.txt"))
    scored = len(sections[-1]["correct"]) + len(sections[-1]["incorrect"])
    assert f"analogy accuracy: {100 * score:.2f}% of the {scored:,} questions scored;" in result.stdout
    assert "of 19,544 were skipped for a word outside the 300,000 most frequent" in result.stdout


def test_cli_help_shows_defaults_and_the_version():
    help_text = run_cli("train", "--help").stdout
    assert "--negative NEGATIVE" in help_text and "(default: 5)" in help_text and "subsampling" in help_text
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("wordembed ")


def test_cli_reports_a_truncated_file(tmp_path):
    random_vectors().save(tmp_path / "v.bin")
    (tmp_path / "cut.bin").write_bytes((tmp_path / "v.bin").read_bytes()[:100])
    result = run_cli("similar", tmp_path / "cut.bin", "king")
    assert result.returncode == 2 and "truncated at byte" in result.stderr


# ---- hostile files and queries (the reliability issue)
def test_a_text_file_whose_rows_disagree_with_its_header_is_a_text_error(tmp_path):
    path = tmp_path / "d.txt"
    path.write_bytes(b"2 2\nab 0.1 0.2 0.3\ncd 0.4 0.5 0.6\n")
    with pytest.raises(VectorsFileError, match="line 2 has 3 numbers, expected 2"):
        WordVectors.load(path)
    with pytest.raises(ValueError):  # gensim refuses it too
        KeyedVectors.load_word2vec_format(str(path))


@pytest.mark.parametrize("header", [b"1000000000000 16", b"8 1000000000000", b"1000000 1000000"])
@pytest.mark.parametrize("binary", [False, True])
def test_headers_promising_more_than_the_file_holds_allocate_nothing(tmp_path, header, binary):
    random_vectors().save(tmp_path / ("v.bin" if binary else "v.txt"))
    data = (tmp_path / ("v.bin" if binary else "v.txt")).read_bytes()
    path = tmp_path / "claims.bin"
    path.write_bytes(header + data[data.index(b"\n"):])
    with pytest.raises(VectorsFileError, match="truncated|numbers"):
        WordVectors.load(path)


def native_payload(**changes):
    payload = {"format": "wordembed-vectors", "version": 1, "words": ["a", "b", "c"],
               "vectors": torch.randn(3, 4), "counts": torch.tensor([3, 2, 1]), "tensors": {}, "state": {}}
    payload.update(changes)
    return payload


@pytest.mark.parametrize("changes,message", [
    (dict(vectors=torch.randn(1285, 4)), "3 words but 1285 vectors"),
    (dict(vectors=torch.randn(3)), "2-D floating"),
    (dict(vectors=torch.ones(3, 4, dtype=torch.int64)), "2-D floating"),
    (dict(vectors=[[0.0] * 4] * 3), "2-D floating"),
    (dict(words="abc"), "list of str"),
    (dict(words=["a", 2, "c"]), "list of str"),
    (dict(words=["a", "a", "c"]), "appears twice"),
    (dict(counts=torch.tensor([1, 2])), "one count per word"),
    (dict(counts=torch.tensor([1.0, 2.0, 3.0])), "one count per word"),
    (dict(version="1"), "version"),
    (dict(version=99), "newer wordembed"),
])
def test_native_files_are_checked_field_by_field(tmp_path, changes, message):
    torch.save(native_payload(**changes), tmp_path / "v.pt")
    with pytest.raises(VectorsFileError, match=message):
        WordVectors.load(tmp_path / "v.pt")


def test_non_finite_vectors_warn_on_load_and_never_rank(tmp_path):
    wv = hand_made()
    wv.vectors[5] = float("nan")   # pear
    wv.vectors[6, 0] = float("inf")  # car
    wv.save(tmp_path / "v.bin")
    with pytest.warns(RuntimeWarning, match="2 vectors hold NaN or inf"):
        loaded = WordVectors.load(tmp_path / "v.bin")
    for query in (loaded.most_similar("apple", topn=10), loaded.most_similar_cosmul(["apple"], topn=10),
                  loaded.similar_by_vector(loaded["king"], topn=10)):
        words = [w for w, _ in query]
        assert "pear" not in words and "car" not in words and all(np.isfinite(s) for _, s in query)
    with pytest.raises(ValueError, match="'pear' holds NaN"):
        loaded.most_similar("pear")
    assert loaded.non_finite_words() == ["pear", "car"]


@pytest.mark.parametrize("call,message", [
    (lambda wv: wv.most_similar("king", topn=-5), "topn"),
    (lambda wv: wv.most_similar("king", topn=2.5), "topn"),
    (lambda wv: wv.most_similar_cosmul(["king"], topn=-1), "topn"),
    (lambda wv: wv.most_similar("king", restrict_vocab=-1), "restrict_vocab"),
    (lambda wv: wv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=-1), "restrict_vocab"),
    (lambda wv: wv.similar_by_vector([float("nan")] * 4), "NaN"),
])
def test_bad_query_arguments_are_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call(hand_made())


def test_words_given_as_bytes_are_a_type_error_not_a_list_of_numbers():
    with pytest.raises(TypeError, match="bytes b'king'"):
        hand_made().most_similar(b"king")
    with pytest.raises(TypeError, match="bytes"):
        hand_made().most_similar([b"king"])


@pytest.mark.parametrize("name", ["v.bin", "v.txt", "v.pt"])
def test_limit_must_be_a_count(tmp_path, name):
    random_vectors().save(tmp_path / name)
    with pytest.raises(ValueError, match="limit"):
        WordVectors.load(tmp_path / name, limit=-1)
    assert len(WordVectors.load(tmp_path / name, limit=0)) == 0


@pytest.mark.parametrize("args,message", [
    (["similar", "{v}", "king", "--topn", "-5"], "topn must be a whole number >= 0"),
    (["similar", "{v}", "king", "--topn", "-1"], "topn must be a whole number >= 0"),
    (["similar", "{v}", "king", "--limit", "-1"], "limit must be a whole number >= 0"),
    (["analogy", "{v}", "man", "king", "woman", "--topn", "-2"], "topn must be a whole number >= 0"),
    (["eval", "{v}", "--restrict-vocab", "-1"], "restrict_vocab must be a whole number >= 0"),
    (["plot", "{v}", "king", "-o", "{dir}/map.png", "--neighbours", "-5"], "neighbours must be a whole number >= 0"),
    (["plot", "{v}", "king", "-o", "{v}"], "is the vectors file"),
    (["plot", "{nan}", "queen", "-o", "{dir}/map.png"], "NaN"),
    (["similar", "{dir}", "king"], "is a folder: name a file"),
])
def test_cli_turns_bad_options_into_one_line_messages(tmp_path, capsys, args, message):
    from wordembed import cli
    hand_made().save(tmp_path / "v.bin")
    nan = hand_made()
    nan.vectors[1] = float("nan")  # queen, a neighbour of king
    nan.save(tmp_path / "nan.bin")
    argv = [a.format(v=tmp_path / "v.bin", nan=tmp_path / "nan.bin", dir=tmp_path) for a in args]
    with pytest.warns(RuntimeWarning) if "{nan}" in args else contextlib.nullcontext():
        assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "map.png").exists()
    assert WordVectors.load(tmp_path / "v.bin").index_to_key == hand_made().index_to_key


def test_cli_reports_a_bug_as_a_bug(tmp_path, capsys, monkeypatch):
    from wordembed import cli
    hand_made().save(tmp_path / "v.bin")
    monkeypatch.setattr(WordVectors, "most_similar", lambda *a, **k: 1 / 0)
    assert cli.main(["similar", str(tmp_path / "v.bin"), "king"]) == 1
    err = capsys.readouterr().err
    assert "ZeroDivisionError" in err and "this is a bug in wordembed" in err


WITHOUT_EXTENSION = """
import importlib.abc, sys

class NoExtension(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "wordembed._C":
            raise ImportError("wordembed._C is not built here (a test hides it)")

sys.meta_path.insert(0, NoExtension())
import torch
before = set(sys.modules)
import wordembed
from wordembed import cli
heavy = sorted({m.split(".")[0] for m in set(sys.modules) - before} & {"matplotlib", "gensim", "tqdm", "scipy", "sklearn", "adjustText"})
print("heavy:", heavy)
vectors = wordembed.WordVectors.load(sys.argv[1])
print("nearest:", vectors.most_similar("apple", topn=1)[0][0])
try:
    wordembed.ops
except ImportError as e:
    print("ops:", "Build it" in str(e))
print("similar:", cli.main(["similar", sys.argv[1], "apple", "--topn", "1"]))
print("train:", cli.main(["train", sys.argv[2], "-o", sys.argv[1] + ".out"]))
"""


def test_vectors_and_queries_work_without_the_compiled_extension(tmp_path):
    hand_made().save(tmp_path / "v.bin")
    (tmp_path / "c.txt").write_text("a b c\n")
    run = subprocess.run([sys.executable, "-c", WITHOUT_EXTENSION, str(tmp_path / "v.bin"), str(tmp_path / "c.txt")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "heavy: []" in out and "nearest: pear" in out and "ops: True" in out
    assert "similar: 0" in out and "train: 2" in out
    assert "wordembed: error: wordembed's compiled extension" in run.stderr and "Traceback" not in run.stderr


def test_eval_without_gensim_names_the_extra(tmp_path):
    """Without gensim (the eval extra) and without files, `eval` says what to pass or install."""
    hand_made().save(tmp_path / "v.bin")
    script = ("import sys; sys.modules['gensim'] = None\n"  # as if not installed
              "from wordembed import cli; sys.exit(cli.main(['eval', sys.argv[1]]))")
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path / "v.bin")], capture_output=True, text=True)
    assert run.returncode == 2 and "--analogies FILE" in run.stderr and "wordembed[eval]" in run.stderr, run.stderr


def test_keyed_vectors_methods_equal_gensims():
    wv = random_vectors(n_words=200, dim=10, seed=7)
    kv = KeyedVectors(10)
    kv.add_vectors(wv.index_to_key, wv.vectors.numpy())
    close = dict(atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(wv.get_vector("w3", norm=True).numpy(), kv.get_vector("w3", norm=True), **close)
    np.testing.assert_allclose(wv.get_vector(3).numpy(), kv.get_vector(3), **close)
    np.testing.assert_allclose(wv.norms.numpy(), np.linalg.norm(kv.vectors, axis=1), **close)
    assert wv.n_similarity(["w1", "w2"], ["w5"]) == pytest.approx(kv.n_similarity(["w1", "w2"], ["w5"]), abs=1e-5)
    assert wv.distance("w1", "w9") == pytest.approx(kv.distance("w1", "w9"), abs=1e-5)
    np.testing.assert_allclose(wv.distances("w4"), kv.distances("w4"), atol=1e-5)
    np.testing.assert_allclose(wv.distances("w4", ["w1", "w8"]), kv.distances("w4", ["w1", "w8"]), atol=1e-5)
    assert wv.closer_than("w4", "w20") == kv.closer_than("w4", "w20")
    assert wv.rank("w4", "w20") == kv.rank("w4", "w20")
    for words, kwargs in ((["w1", "w2", "nope"], {}), (["w1", "w2"], dict(pre_normalize=False, post_normalize=True)),
                          (["w1", "w2", "w3"], dict(weights=[2.0, -1.0, 0.5]))):
        np.testing.assert_allclose(wv.get_mean_vector(words, **kwargs).numpy(), kv.get_mean_vector(words, **kwargs),
                                   **close)
    new = np.ones((2, 10), dtype=np.float32)
    wv.add_vectors(["fresh", "w1"], new)
    kv.add_vectors(["fresh", "w1"], new)
    kv.fill_norms(force=True)  # gensim keeps stale norms after add_vectors otherwise
    assert wv.index_to_key == kv.index_to_key and torch.equal(wv["fresh"], torch.ones(10))
    assert not torch.equal(wv["w1"], torch.ones(10))  # kept: replace=False
    assert [w for w, _ in wv.most_similar("fresh", topn=3)] == [w for w, _ in kv.most_similar("fresh", topn=3)]


@pytest.mark.parametrize("call,error,message", [
    (lambda wv: wv.get_mean_vector([]), ValueError, "no words"),
    (lambda wv: wv.get_mean_vector(["king", "queen"], weights=[1.0]), ValueError, "2 words but 1 weights"),
    (lambda wv: wv.get_mean_vector(["nope"], ignore_missing=False), KeyError, "nope"),
    (lambda wv: wv.n_similarity([], ["king"]), ValueError, "at least one word"),
    (lambda wv: wv.n_similarity(["king"], ["nope"]), KeyError, "nope"),
    (lambda wv: wv.distances(np.zeros(3)), ValueError, "shape"),
    (lambda wv: wv.distances("king", ["nope"]), KeyError, "nope"),
    (lambda wv: wv.add_vectors(["x"], np.zeros((1, 3))), ValueError, "dim 3"),
    (lambda wv: wv.add_vectors(["x", "x"], np.zeros((2, 4))), ValueError, "twice"),
    (lambda wv: wv.get_vector("nope"), KeyError, "nope"),
    (lambda wv: wv.rank("king", "nope"), KeyError, "nope"),
])
def test_keyed_vectors_methods_reject_bad_arguments_clearly(call, error, message):
    wv = hand_made()
    before = (list(wv.index_to_key), wv.vectors.clone())
    with pytest.raises(error, match=message):
        call(wv)
    assert wv.index_to_key == before[0] and torch.equal(wv.vectors, before[1])  # nothing half-added


def test_word2vec_text_with_tabs_in_words_or_between_numbers_reads_as_text(tmp_path):
    (tmp_path / "in_word.txt").write_text("2 3\nfoo\tbar 0.5 1 2\nbaz 1 2 3\n")
    (tmp_path / "separated.txt").write_text("2 3\nfoo\t0.5\t1\t2\nbaz\t1\t2\t3\n")
    for name, first in (("in_word.txt", "foo\tbar"), ("separated.txt", "foo")):
        loaded = WordVectors.load(tmp_path / name)
        assert loaded.index_to_key == [first, "baz"]
        assert loaded.vectors.tolist() == [[0.5, 1.0, 2.0], [1.0, 2.0, 3.0]]
