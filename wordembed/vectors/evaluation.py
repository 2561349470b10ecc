"""Intrinsic evaluation of word vectors, scored exactly as gensim's KeyedVectors scores them
(same vocabulary restriction, case folding, OOV counting and tie rules), but batched: all the
analogy questions are ranked with a few matrix products instead of one query each."""
import os
import warnings
from typing import NamedTuple

import torch

from ..fileio import read_lines

ANALOGY_BATCH = 1024  # questions ranked per matrix product
RESTRICT_VOCAB = 300_000  # gensim's default: questions and pairs with rarer words are skipped


class Correlation(NamedTuple):
    """A coefficient and its two-sided p-value, from scipy.stats (gensim's shape: `r, p = ...`
    or `.statistic`, `.pvalue`)."""
    statistic: float
    pvalue: float


class PairScores(NamedTuple):
    pearson: Correlation
    spearman: Correlation
    oov_ratio: float  # percent of pairs with a word outside the vocabulary


def _restricted_vocab(vectors, restrict_vocab, case_insensitive):
    """Word (upper-cased if asked) -> row, over the first restrict_vocab words; where case folding
    merges words, the most frequent (first) one wins, as in gensim."""
    keys = vectors.index_to_key[:restrict_vocab]
    fold = str.upper if case_insensitive else (lambda w: w)
    return {fold(k): i for i, k in reversed(list(enumerate(keys)))}, fold


def _read_lines(path, what):
    return list(read_lines(path, what))


def evaluate_word_analogies(vectors, path, restrict_vocab=RESTRICT_VOCAB, case_insensitive=True,
                            dummy4unknown=False):
    """Google-format analogies ': section' lines, then 'a b c expected' lines. Returns
    (accuracy, sections) with sections [{'section', 'correct', 'incorrect'}, ..., total]."""
    ok_vocab, fold = _restricted_vocab(vectors, restrict_vocab, case_insensitive)
    sections, questions, oov, quadruplets = [], [], 0, 0
    for line_no, line in enumerate(_read_lines(path, "analogy")):
        if line.startswith(": "):
            sections.append({"section": line.lstrip(": ").strip(), "correct": [], "incorrect": []})
            continue
        if not sections:
            raise ValueError(f"{path}: line {line_no + 1} comes before any ': section' header")
        words = [fold(w) for w in line.split()]
        if len(words) != 4:
            continue  # gensim skips malformed lines too
        quadruplets += 1
        if any(w not in ok_vocab for w in words):
            oov += 1
            if dummy4unknown:
                sections[-1]["incorrect"].append(tuple(words))
            continue
        questions.append((len(sections) - 1, tuple(words)))

    limit = min(restrict_vocab, len(vectors))
    table = vectors.normed[:limit]
    for start in range(0, len(questions), ANALOGY_BATCH):
        batch = questions[start:start + ANALOGY_BATCH]
        idx = torch.tensor([[ok_vocab[w] for w in q[:3]] for _, q in batch], device=table.device)
        a, b, c = table[idx[:, 0]], table[idx[:, 1]], table[idx[:, 2]]
        query = (b + c - a) / 3
        query = query / query.norm(dim=1, keepdim=True).clamp_min(1e-12)
        # rows with NaN or inf score NaN, which topk would rank first: they rank last, as in gensim
        scores = (query @ table.T).nan_to_num(nan=-torch.inf)
        top = scores.topk(min(8, limit), dim=1).indices.tolist()  # 5 answers + 3 inputs
        for (section, words), candidates, inputs in zip(batch, top, idx.tolist()):
            expected, ignore = words[3], set(words[:3])
            answers = [i for i in candidates if i not in inputs][:5]
            predicted = None
            for i in answers:
                predicted = fold(vectors.index_to_key[i])
                if predicted in ok_vocab and predicted not in ignore:
                    break
            sections[section]["correct" if predicted == expected else "incorrect"].append(words)

    total = {"section": "Total accuracy",
             "correct": [q for s in sections for q in s["correct"]],
             "incorrect": [q for s in sections for q in s["incorrect"]]}
    sections.append(total)
    answered = len(total["correct"]) + len(total["incorrect"])
    score = len(total["correct"]) / answered if answered else 0.0
    return score, sections


def evaluate_word_pairs(vectors, path, delimiter="\t", restrict_vocab=RESTRICT_VOCAB, case_insensitive=True,
                        dummy4unknown=False, oov_by_subwords=True) -> PairScores:
    """Lines 'word1<delimiter>word2<delimiter>score' ('#' starts a comment). Correlates the gold
    scores with cosine similarities. A pair with a word outside the (restricted) vocabulary is
    left out, or scored 0 with dummy4unknown, as gensim does; with oov_by_subwords and vectors of a
    subword model, it is scored with the vector its n-grams give (fastText's way; lower-cased when
    case_insensitive). oov_ratio counts those pairs either way."""
    ok_vocab, fold = _restricted_vocab(vectors, restrict_vocab, case_insensitive)
    by_subwords = oov_by_subwords and getattr(vectors, "subwords", None) is not None
    gold, model, oov, pairs = [], [], 0, 0
    for line in _read_lines(path, "word-pair"):
        if not line or line.startswith("#"):
            continue
        raw = line.split(delimiter)
        parts = [fold(p) for p in raw]
        if len(parts) != 3:
            continue
        try:
            a, b, score = parts[0], parts[1], float(parts[2])
        except ValueError:
            continue
        pairs += 1
        if a not in ok_vocab or b not in ok_vocab:
            oov += 1
            if by_subwords:
                pair = [raw[k].lower() if case_insensitive else raw[k] for k in (0, 1)]
                if all(vectors.has_vector(w) for w in pair):
                    gold.append(score)
                    model.append(vectors.similarity(*pair))
                    continue
            if dummy4unknown:
                gold.append(score)
                model.append(0.0)
            continue
        gold.append(score)
        # a product, then a sum: the same number for (a, b) and (b, a), as gensim gives. A dot
        # product of two rows may add in another order when the rows sit at other alignments,
        # and one such last-bit difference breaks a tie that Spearman's ranks then see.
        model.append(float((vectors.normed[ok_vocab[a]] * vectors.normed[ok_vocab[b]]).sum()))
    if len(gold) < 2:
        raise ValueError(f"{path}: {'no pair has' if not gold else 'only one pair has'} both words in the "
                         "vocabulary; a correlation needs two or more")
    from scipy import stats  # imported here: `import wordembed` stays light
    oov_ratio = 100.0 * oov / pairs
    with warnings.catch_warnings():
        # a constant column (all gold scores equal) has no correlation: NaN, as gensim gives,
        # without scipy's warning for each call
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        pearson, spearman = stats.pearsonr(gold, model), stats.spearmanr(gold, model)
    return PairScores(Correlation(float(pearson.statistic), float(pearson.pvalue)),
                      Correlation(float(spearman.statistic), float(spearman.pvalue)), oov_ratio)


def count_analogy_questions(path) -> int:
    """Questions in a Google-format analogy file (lines of four words), scored or not."""
    return sum(1 for line in _read_lines(path, "analogy") if not line.startswith(": ") and len(line.split()) == 4)


def default_test_data(name):
    """Path of a standard evaluation set shipped in gensim's test data, or None."""
    try:
        from gensim.test.utils import datapath
    except ImportError:
        return None
    path = datapath(name)
    return path if os.path.exists(path) else None
