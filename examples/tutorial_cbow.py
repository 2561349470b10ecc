"""The CBOW exercise of PyTorch's word-embeddings tutorial, on wordembed.models.CBOW: trained with
the fused context-sum operator and, side by side, with the pure-PyTorch reference and
torch.optim.SGD.

    .venv/bin/python examples/tutorial_cbow.py

Both start from the same weights and see the same batches, so their losses must agree; the fused
version applies the embedding update inside the backward pass.
"""
import time

import torch

from wordembed import models

RAW_TEXT = """We are about to study the idea of a computational process.
Computational processes are abstract beings that inhabit computers.
As they evolve, processes manipulate other abstract things called data.
The evolution of a process is directed by a pattern of rules
called a program. People create programs to direct processes. In effect,
we conjure the spirits of the computer with our spells.""".split()

WINDOW, DIM, EPOCHS, LR = 2, 32, 200, 0.1


def main():
    vocab = sorted(set(RAW_TEXT))
    word_to_ix = {word: i for i, word in enumerate(vocab)}
    pairs = models.cbow_pairs(RAW_TEXT, WINDOW)  # as the tutorial builds them
    context = torch.tensor([[word_to_ix[w] for w in words] for words, _ in pairs])
    target = torch.tensor([word_to_ix[word] for _, word in pairs])

    torch.manual_seed(0)
    fused = models.CBOW(len(vocab), DIM, backend="fused", fused_lr=LR)
    plain = models.CBOW(len(vocab), DIM, backend="reference")
    plain.load_state_dict(fused.state_dict())
    runs = {"wordembed fused": (fused, torch.optim.SGD(fused.linear.parameters(), lr=LR)),
            "reference + SGD": (plain, torch.optim.SGD(plain.parameters(), lr=LR))}
    losses = {}
    for name, (model, opt) in runs.items():
        start, history = time.perf_counter(), []
        for _ in range(EPOCHS):
            opt.zero_grad()
            loss = torch.nn.functional.nll_loss(model(context), target)
            loss.backward()
            opt.step()
            history.append(loss.item())
        losses[name] = history
        print(f"{name:<16} loss {history[0]:.4f} -> {history[-1]:.4f} over {EPOCHS} full-batch steps "
              f"({time.perf_counter() - start:.2f} s)")
    gap = max(abs(a - b) for a, b in zip(*losses.values()))
    print(f"largest loss difference between the two: {gap:.2e}")
    probe_words, answer = pairs[3]  # a context that occurs in the text, as the tutorial passes one
    with torch.no_grad():
        guess = vocab[fused(torch.tensor([word_to_ix[w] for w in probe_words])).argmax().item()]
    print(f"fused model's guess for the context {' '.join(probe_words)!r}: {guess!r} (the text says {answer!r})")
    if gap > 1e-3:
        raise SystemExit("the fused operator and the reference disagree")


if __name__ == "__main__":
    main()
