"""Text to rows, for PyTorch models built on the vectors (a mixin of WordVectors): tokens or a
string become int64 row numbers with a stated rule for unknown words, a batch becomes
nn.EmbeddingBag's (input, offsets) or a padded (B, L) tensor, a subword model's words (seen or
not) become bags over its (words + buckets, D) table, and the vectors an nn.Embedding.

-1, the default row for an unknown word, is what wordembed's ContextSum skips as padding."""
import numbers

import torch

from ..text.subwords import ngram_buckets


class Encoding:
    def _tokens(self, text) -> list:
        """A string is split on whitespace and tokenized as training tokenized the corpus; a list
        (or tuple) is taken as the tokens themselves."""
        if isinstance(text, str):
            return self.tokenizer(text.split())
        if isinstance(text, (bytes, bytearray)):
            raise TypeError("text is str, got bytes: decode it first")
        tokens = list(text)
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"tokens are str, got {type(token).__name__} ({token!r})")
        return tokens

    def _unknown_row(self, unknown):
        if unknown == "error":
            return None
        if isinstance(unknown, bool) or not isinstance(unknown, numbers.Integral) or not -1 <= unknown < len(self):
            raise ValueError(f"unknown must be 'error', -1 (padding) or a row from 0 to {len(self) - 1}, "
                             f"got {unknown!r}")
        return int(unknown)

    def encode(self, tokens, unknown=-1) -> torch.Tensor:
        """The rows of the tokens (a list of str, or a string split with the tokenizer training
        used) as an int64 tensor. A word outside the vocabulary becomes `unknown`: -1 (padding,
        which ContextSum skips) by default, another row, or with unknown="error" a KeyError naming
        the first unknown word."""
        row_for_unknown = self._unknown_row(unknown)
        return self._encode(self._tokens(tokens), row_for_unknown)

    def _encode(self, tokens, row_for_unknown) -> torch.Tensor:
        index = self.key_to_index
        if row_for_unknown is None:
            for token in tokens:
                if token not in index:
                    raise KeyError(self.unknown_word_message(token))
        return torch.tensor([index.get(t, row_for_unknown) for t in tokens], dtype=torch.int64)

    def encode_batch(self, texts, unknown=-1, padded=False):
        """Many texts at once (each a string or a list of tokens, as encode takes them): the
        (input, offsets) pair that nn.EmbeddingBag and ContextSum take (input: every text's rows
        one after another; offsets: where each text starts), or with padded=True one (B, L)
        tensor, each row a text's rows then -1 (padding) up to the longest text's length."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("encode_batch takes a list of texts; encode takes one")
        row_for_unknown = self._unknown_row(unknown)
        rows = [self._encode(self._tokens(text), row_for_unknown) for text in texts]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
        if padded:
            out = torch.full((len(rows), int(lengths.max()) if len(rows) else 0), -1, dtype=torch.int64)
            for i, r in enumerate(rows):
                out[i, :len(r)] = r
            return out
        offsets = torch.cumsum(lengths, 0) - lengths
        return (torch.cat(rows) if rows else torch.zeros(0, dtype=torch.int64)), offsets

    def _require_subwords(self, what):
        if self.subwords is None:
            raise ValueError(f"{what} needs vectors with subwords (trained with --bucket, or read from a "
                             "fastText .bin); these have none")

    def subword_matrix(self) -> torch.Tensor:
        """A subword model's (words + buckets, D) input table: each word's own row, then the n-gram
        buckets' rows; encode_subwords gives bags of its rows."""
        self._require_subwords("subword_matrix")
        return torch.cat([self.subwords.word_rows, self.subwords.ngram_rows])

    def encode_subwords(self, tokens):
        """(input, offsets) into subword_matrix(): one bag per token (a list of str, or a string
        split as encode splits it), a word of the vocabulary its own row and its n-grams' rows, any
        other word its n-grams' rows alone. The mean of each bag is the word's vector, as v[word]
        and fastText's get_word_vector give it (a word with no n-gram of minn to maxn characters
        outside the vocabulary: an empty bag, zeros, as fastText gives)."""
        self._require_subwords("encode_subwords")
        sw, V = self.subwords, len(self)
        bags = []
        for token in self._tokens(tokens):
            own = [self.key_to_index[token]] if token in self.key_to_index else []
            bags.append(own + [V + b for b in ngram_buckets(token, sw.minn, sw.maxn, sw.bucket)])
        lengths = torch.tensor([len(b) for b in bags], dtype=torch.int64)
        rows = torch.tensor([row for bag in bags for row in bag], dtype=torch.int64)
        return rows, torch.cumsum(lengths, 0) - lengths

    def to_embedding(self, freeze=True) -> torch.nn.Embedding:
        """An nn.Embedding holding a copy of the vectors (row i: word i), for models that need one
        output per token; freeze=False lets it train."""
        return torch.nn.Embedding.from_pretrained(self.vectors.detach().clone(), freeze=freeze)
