"""Shared test helpers: the devices to run on, sample inputs for context_sum and the training ops,
and small planted data sets (a corpus of word groups, lines of planted labels) with settings that
train them in a second."""
import random

import pytest
import torch

from wordembed import ops, reference
from wordembed.text.vocab import Vocabulary


CUDA_SKIP = pytest.mark.skipif(not torch.cuda.is_available(),
                               reason="needs a CUDA GPU; none is visible to torch on this machine")
devices = ["cpu", pytest.param("cuda", marks=CUDA_SKIP)]


def tolerance(dtype):
    return {torch.float64: dict(rtol=1e-10, atol=1e-10), torch.float32: dict(rtol=1e-5, atol=1e-5),
            torch.float16: dict(rtol=1e-2, atol=1e-2), torch.bfloat16: dict(rtol=2e-2, atol=2e-2)}[dtype]


def make_context(B, C, V, device, index_dtype=torch.int64, pad_fraction=0.25, generator=None):
    """A (B, C) batch of random indices with some -1 padding, duplicates, and an all-padding row."""
    ctx = torch.randint(0, V, (B, C), generator=generator)
    pad = torch.rand(B, C, generator=generator) < pad_fraction
    ctx[pad] = -1
    if B > 1 and C > 0:
        ctx[0] = -1              # a bag with no words
        ctx[1, :] = ctx[1, 0]    # a bag of one word repeated
        if ctx[1, 0] == -1:
            ctx[1, :] = 0
    return ctx.to(device=device, dtype=index_dtype)


def sample_inputs(device, requires_grad=False, dtype=torch.float32):
    """(weight, context, mean) triples covering the shapes the tests sweep."""
    g = torch.Generator().manual_seed(0)
    samples = []
    for V, D, B, C in [(11, 1, 5, 3), (17, 7, 9, 4), (50, 64, 33, 10), (120, 300, 8, 6), (3, 4, 6, 40)]:
        for index_dtype in (torch.int64, torch.int32):
            for mean in (False, True):
                weight = torch.randn(V, D, generator=g, dtype=torch.float64).to(device=device, dtype=dtype)
                weight.requires_grad_(requires_grad)
                samples.append((weight, make_context(B, C, V, device, index_dtype, generator=g), mean))
    return samples


# Word vectors: a corpus of planted groups, and settings that train it in a second.

GROUPS = 6
GROUP_SIZE = 8


def planted_corpus(path, sentences=3000, seed=0):
    """Each sentence draws its words from one group: words of a group share their contexts."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        for _ in range(sentences):
            g = rng.randrange(GROUPS)
            f.write(" ".join(f"g{g}w{rng.randrange(GROUP_SIZE)}" for _ in range(rng.randint(6, 14))) + "\n")
    return path


TRAIN_SMALL = dict(dim=24, epochs=3, min_count=1, sample=0, window=3, negative=5, alpha=0.05, chunk_words=4096)


# The training ops: inputs for a chunk, and the reference step they must equal.

def sgd_on_reference(inp, out, context, targets, negatives, lr, full_context_update):
    """Autograd on the reference loss, then plain SGD. word2vec's rule (full_context_update)
    gives each context word n times its exact gradient, n the example's number of context words;
    the examples here use distinct rows, so that is a per-row scaling."""
    inp, out = inp.clone().requires_grad_(), out.clone().requires_grad_()
    losses = reference.ns_loss(inp, out, context, targets, negatives)
    losses.sum().backward()
    scale = torch.ones(inp.shape[0], 1, dtype=inp.dtype)
    if full_context_update:
        for bag in context:
            scale[bag[bag >= 0]] = float((bag >= 0).sum())
    with torch.no_grad():
        return inp - lr * scale * inp.grad, out - lr * out.grad, losses.detach()


def on(device, *tensors):
    return [t.to(device) for t in tensors]


def chunk_inputs(V=50, D=8, words=3000, seed=0):
    g = torch.Generator().manual_seed(seed)
    counts = torch.arange(V, 0, -1) * 10
    vocab = Vocabulary([f"w{i}" for i in range(V)], counts)
    ids = torch.multinomial(counts.double(), words, replacement=True, generator=g).int()
    starts = torch.cat([torch.arange(0, words, 30), torch.tensor([words])])  # sentences of 30, the last shorter
    prob, alias = vocab.noise_alias_table()
    inp = (torch.rand(V, D, generator=g) - 0.5) / D
    return inp, torch.zeros(V, D), ids, starts, vocab.keep_probabilities(1e-2), prob, alias


# The classifier: lines of planted labels, and settings that train them in a second.

TOPICS = 4


def planted_lines(n=1500, seed=0, multi=False):
    """Each line draws most of its words from its label's topic; with multi, a line may have two
    labels and words of both."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        labels = [rng.randrange(TOPICS)]
        if multi and rng.random() < 0.5:
            labels.append((labels[0] + 1 + rng.randrange(TOPICS - 1)) % TOPICS)
        words = [f"t{rng.choice(labels)}w{rng.randrange(12)}" if rng.random() < 0.7 else f"common{rng.randrange(20)}"
                 for _ in range(rng.randint(3, 12))]
        lines.append(" ".join([f"__label__t{l}" for l in labels] + words))
    return lines


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


CLASSIFY_SMALL = dict(dim=16, epochs=5, threads=2, lr=0.5)


def fasttext_supervised(fasttext, path, **settings):
    """fasttext.train_supervised, tried with other seeds when it stops with "Encountered NaN": the
    pip wheel (0.9.2) does so at random on small files, whatever the learning rate (its parallel
    start of the input matrix seems to leave rows unset)."""
    for seed in range(50):
        try:
            return fasttext.train_supervised(str(path), verbose=0, seed=seed, **settings)
        except RuntimeError as e:
            if "NaN" not in str(e):
                raise
    pytest.skip("fastText stopped with NaN for 50 seeds")
