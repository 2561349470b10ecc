"""The vocabulary of a text corpus: word counts, the words kept (by min_count and an optional cap),
word2vec's subsampling probabilities and its unigram^0.75 noise distribution.

Text is read as UTF-8 (bad bytes become U+FFFD, never an error), one sentence or document per line,
tokens separated by whitespace."""
import functools

import torch

from .pipeline import (check_pipeline, count_file_native, count_file_python, count_sentences,
                       count_vocabulary_native)
from .sentences import check_corpus, is_path

NOISE_POWER = 0.75  # word2vec's exponent for the negative-sampling distribution


class Vocabulary:
    """Words sorted by count (most frequent first; ties in order of first appearance, as gensim
    sorts them), with word_to_ix and ix_to_word as in PyTorch's tutorial."""

    def __init__(self, words, counts, total_tokens=None):
        if len(words) != len(counts):
            raise ValueError(f"{len(words)} words but {len(counts)} counts")
        self.ix_to_word = list(words)
        self.counts = torch.as_tensor(counts, dtype=torch.int64)
        # tokens of the corpus, the words that min_count and the cap left out included
        self.total_tokens = int(self.counts.sum()) if total_tokens is None else total_tokens
        self.pruned_below = 0  # counting dropped words seen at most this often as it went (0: none)

    @functools.cached_property
    def word_to_ix(self) -> dict:
        """Made when first asked for (the classifier's vocabulary never needs it)."""
        return {w: i for i, w in enumerate(self.ix_to_word)}

    @classmethod
    def from_counts(cls, counter, min_count=5, max_size=None, total_tokens=None):
        """Keeps words seen at least min_count times, then the max_size most frequent; counter
        holds words in order of first appearance (a dict or Counter). total_tokens: the corpus's
        tokens, if counter does not hold them all."""
        if min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {min_count}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1 (or None for no cap), got {max_size}")
        kept = [(w, c) for w, c in counter.items() if c >= min_count]
        kept.sort(key=lambda wc: -wc[1])  # stable: ties keep their first-appearance order
        if max_size is not None:
            kept = kept[:max_size]
        total = sum(counter.values()) if total_tokens is None else total_tokens
        return cls([w for w, _ in kept], [c for _, c in kept], total_tokens=total)

    @classmethod
    def from_corpus(cls, corpus, min_count=5, max_size=None, tokenizer=None, max_vocab_size=None,
                    pipeline="native", threads=None):
        """Counts the tokens of a corpus: a text file's path or an iterable of sentences (lists of
        str); tokenizer: a tokenizing.Tokenizer (default: the tokens as they are).

        max_vocab_size bounds the distinct words held while counting (word2vec's and gensim's
        pruning, see pipeline.py: it may drop words that are rare early in the corpus); max_size
        then keeps only the most frequent words (gensim's max_final_vocab). A file is counted by
        the compiled pipeline on `threads` threads, or by its Python twin with
        pipeline="python"; sentences are always counted in Python."""
        check_pipeline(pipeline)
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be at least 1 (or None for no cap), got {max_size}")
        if max_vocab_size is not None and max_vocab_size < 1:
            raise ValueError(f"max_vocab_size must be at least 1 (or None for no bound), got {max_vocab_size}")
        total = None  # the counter's sum, unless the count says otherwise
        if not is_path(corpus):
            counter, pruned = count_sentences(corpus, tokenizer, max_vocab_size)
        else:
            check_corpus(corpus)
            if pipeline == "python":
                counter, pruned = count_file_python(corpus, tokenizer, max_vocab_size)
            elif tokenizer is None or tokenizer.is_identity:
                # sorted by the compiled code: no Python structure but the word list is made
                words, counts, total, pruned = count_vocabulary_native(corpus, min_count, max_vocab_size, threads)
                counter = None
            else:
                counter, total, pruned = count_file_native(corpus, tokenizer, max_vocab_size, min_count, threads)
        if counter is None:
            vocab = cls(words[:max_size], counts[:max_size], total_tokens=total)
        else:
            vocab = cls.from_counts(counter, min_count, max_size, total_tokens=total)
        vocab.pruned_below = pruned
        return vocab

    from_file = from_corpus  # the name for a path

    @classmethod
    def continued(cls, words, counts, new: "Vocabulary", min_count=5, max_new=None):
        """The vocabulary of training continued on a new corpus, as gensim's
        build_vocab(update=True) makes it: every word of the old vocabulary is kept, and the new
        corpus's words seen at least min_count times are added (at most max_new of them, the most
        frequent); a word's count is its old count (counts None: 1 each, a word known but not
        counted) plus its count in the new corpus. new: the new corpus counted with min_count=1.
        Sorted by count, ties in the old vocabulary's order, then the new corpus's."""
        old = {w: 1 for w in words} if counts is None else dict(zip(words, (int(c) for c in counts)))
        total = sum(old.values()) + new.total_tokens  # every token of both corpora
        added = 0
        for word, count in zip(new.ix_to_word, new.counts.tolist()):  # most frequent first
            if word in old:
                old[word] += count
            elif count >= min_count and (max_new is None or added < max_new):
                old[word] = count
                added += 1
        kept = sorted(old.items(), key=lambda wc: -wc[1])  # stable
        return cls([w for w, _ in kept], [c for _, c in kept], total_tokens=total)

    def __len__(self):
        return len(self.ix_to_word)

    def __contains__(self, word):
        return word in self.word_to_ix

    @property
    def total_count(self) -> int:
        """Occurrences of the kept words."""
        return int(self.counts.sum())

    def keep_probabilities(self, sample=1e-3) -> torch.Tensor:
        """word2vec's subsampling: a word of count c is kept with probability
        min(1, (sqrt(c / t) + 1) * t / c), t = sample * (total count); sample=0 keeps all."""
        if sample < 0:
            raise ValueError(f"sample must be >= 0, got {sample}")
        counts = self.counts.double()
        if sample == 0 or len(self) == 0:
            return torch.ones(len(self), dtype=torch.float64)
        threshold = sample * self.total_count
        return ((counts / threshold).sqrt() + 1).mul(threshold / counts).clamp(max=1.0)

    def noise_distribution(self, power=NOISE_POWER) -> torch.Tensor:
        """P(w) proportional to count(w)^power: where negative samples are drawn from."""
        weights = self.counts.double().pow(power)
        return weights / weights.sum()

    def noise_alias_table(self, power=NOISE_POWER):
        """(prob, alias) for drawing from noise_distribution in O(1): pick a word k uniformly,
        keep it with probability prob[k], else take alias[k] (Vose's alias method)."""
        return alias_table(self.noise_distribution(power))


def alias_table(p: torch.Tensor):
    """Vose's alias method for the distribution p (1-D, sums to 1)."""
    n = len(p)
    scaled = (p.double() * n).tolist()
    prob, alias = [1.0] * n, list(range(n))
    small = [i for i, x in enumerate(scaled) if x < 1.0]
    large = [i for i, x in enumerate(scaled) if x >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return torch.tensor(prob, dtype=torch.float64), torch.tensor(alias, dtype=torch.int64)
