"""The models of PyTorch's word-embeddings tutorial, built on wordembed's operators.

CBOW takes a `backend`: "fused" (the compiled context_sum) or "reference" (the plain-PyTorch twin,
for tests and benchmarks); the choice is explicit and nothing falls back silently. The n-gram
model concatenates its embeddings (no bag to sum): it uses torch.nn.Embedding, as the tutorial."""
import torch

from . import nn as wnn
from . import reference
from .arguments import check_backend


def ngram_pairs(tokens, context_size=2):
    """The tutorial's n-gram examples: ([the context_size words before, nearest first], word)."""
    return [([tokens[i - j - 1] for j in range(context_size)], tokens[i]) for i in range(context_size, len(tokens))]


def cbow_pairs(tokens, window=2):
    """The tutorial's CBOW examples: ([window words before, nearest first] + [window words after],
    the word between them)."""
    return [([tokens[i - j - 1] for j in range(window)] + [tokens[i + j + 1] for j in range(window)], tokens[i])
            for i in range(window, len(tokens) - window)]


def _as_batch(ids):
    """A single example (1-D, as the tutorial passes it) as a batch of one."""
    return ids.unsqueeze(0) if ids.dim() == 1 else ids


class NGramLanguageModeler(torch.nn.Module):
    """The tutorial's n-gram language model: the embeddings of the previous context_size words,
    concatenated, a linear layer of 128 with ReLU, a linear layer to the vocabulary, log-softmax.
    Takes (B, context_size) word ids, or one example of context_size ids as the tutorial passes
    it; returns (B, vocab_size) log-probabilities (B = 1 for one example)."""

    def __init__(self, vocab_size, embedding_dim, context_size, hidden=128):
        super().__init__()
        self.embeddings = torch.nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = torch.nn.Linear(context_size * embedding_dim, hidden)
        self.linear2 = torch.nn.Linear(hidden, vocab_size)

    def forward(self, inputs):
        embeds = self.embeddings(_as_batch(inputs)).flatten(1)
        return torch.log_softmax(self.linear2(torch.relu(self.linear1(embeds))), dim=-1)


class CBOW(torch.nn.Module):
    """The tutorial's exercise: log softmax(A (sum of the context's embeddings) + b). Takes (B, C)
    context ids (-1 is padding), or one context of C ids; returns (B, vocab_size)
    log-probabilities. fused_lr trains the embeddings inside the backward (no optimizer needed
    for them)."""

    def __init__(self, vocab_size, embedding_dim, backend="fused", fused_lr=None, sparse=False):
        super().__init__()
        check_backend(backend)
        if backend == "reference" and fused_lr is not None:
            raise ValueError("fused_lr needs the fused backend: the reference twin has no fused update "
                             "(train its embeddings with an optimizer instead)")
        self.backend = backend
        self.embeddings = wnn.ContextSum(vocab_size, embedding_dim, "sum", sparse=sparse, fused_lr=fused_lr)
        self.linear = torch.nn.Linear(embedding_dim, vocab_size)

    def forward(self, context):
        context = _as_batch(context)
        if self.backend == "fused":
            summed = self.embeddings(context)
        else:
            summed = reference.context_sum(self.embeddings.weight, context, "sum")
        return torch.log_softmax(self.linear(summed), dim=-1)
