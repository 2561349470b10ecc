"""The CBOW exercise of PyTorch's word-embeddings tutorial, trained with wordembed's fused
context-sum operator and, side by side, with the pure-PyTorch reference and torch.optim.SGD.

    .venv/bin/python examples/tutorial_cbow.py

Both start from the same weights and see the same batches, so their losses must agree; the fused
version applies the embedding update inside the backward pass.
"""
import time

import torch

import wordembed

RAW_TEXT = """We are about to study the idea of a computational process.
Computational processes are abstract beings that inhabit computers.
As they evolve, processes manipulate other abstract things called data.
The evolution of a process is directed by a pattern of rules
called a program. People create programs to direct processes. In effect,
we conjure the spirits of the computer with our spells.""".split()

WINDOW, DIM, EPOCHS, LR = 2, 32, 200, 0.1


class CBOW(torch.nn.Module):
    """-log softmax(A (sum of the context's embeddings) + b), the tutorial's exercise."""

    def __init__(self, vocab_size, dim, fused_lr=None):
        super().__init__()
        self.embeddings = wordembed.nn.ContextSum(vocab_size, dim, "sum", fused_lr=fused_lr)
        self.linear = torch.nn.Linear(dim, vocab_size)
        self.use_reference = False

    def forward(self, context):
        if self.use_reference:
            summed = wordembed.reference.context_sum(self.embeddings.weight, context, "sum")
        else:
            summed = self.embeddings(context)
        return torch.log_softmax(self.linear(summed), dim=-1)


def main():
    vocab = sorted(set(RAW_TEXT))
    word_to_ix = {word: i for i, word in enumerate(vocab)}
    ids = [word_to_ix[w] for w in RAW_TEXT]
    contexts, targets = [], []
    for i in range(WINDOW, len(ids) - WINDOW):
        contexts.append(ids[i - WINDOW:i] + ids[i + 1:i + WINDOW + 1])
        targets.append(ids[i])
    context, target = torch.tensor(contexts), torch.tensor(targets)

    torch.manual_seed(0)
    fused = CBOW(len(vocab), DIM, fused_lr=LR)
    plain = CBOW(len(vocab), DIM)
    plain.load_state_dict(fused.state_dict())
    plain.use_reference = True
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
    with torch.no_grad():
        probe = torch.tensor([[word_to_ix[w] for w in ("are", "to", "the", "idea")]])
        guess = vocab[fused(probe).argmax().item()]
    print(f"fused model's guess for 'are to ___ the idea': {guess!r} (the text says 'study')")
    if gap > 1e-3:
        raise SystemExit("the fused operator and the reference disagree")


if __name__ == "__main__":
    main()
