"""The models of PyTorch's word-embeddings tutorial (wordembed.models), on either backend."""
import pytest
import torch

from wordembed import models


SONNET = """When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery so gazed on now,
Will be a totter'd weed of small worth held:
Then being asked, where all thy beauty lies,
Where all the treasure of thy lusty days;
To say, within thine own deep sunken eyes,
Were an all-eating shame, and thriftless praise.
How much more praise deserv'd thy beauty's use,
If thou couldst answer 'This fair child of mine
Shall sum my count, and make my old excuse,'
Proving his beauty by succession thine!
This were to be new made when thou art old,
And see thy blood warm when thou feel'st it cold.""".split()


def test_ngram_language_model_loss_falls_every_epoch():
    torch.manual_seed(1)
    vocab = sorted(set(SONNET))
    ix = {w: i for i, w in enumerate(vocab)}
    contexts = torch.tensor([[ix[SONNET[i - 2]], ix[SONNET[i - 1]]] for i in range(2, len(SONNET))])
    targets = torch.tensor([ix[SONNET[i]] for i in range(2, len(SONNET))])
    model = models.NGramLanguageModeler(len(vocab), 10, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(10):
        total = 0.0
        for b in range(0, len(targets), 16):
            opt.zero_grad()
            loss = torch.nn.functional.nll_loss(model(contexts[b:b + 16]), targets[b:b + 16], reduction="sum")
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total)
    assert all(later < earlier for earlier, later in zip(losses, losses[1:]))


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "fused"])
def test_tutorial_cbow_trains_with_either_backend(optimizer):
    text = "We are about to study the idea of a computational process . Computational processes are abstract beings".split()
    vocab = sorted(set(text))
    ix = {w: i for i, w in enumerate(vocab)}
    contexts = torch.tensor([[ix[text[j]] for j in (i - 2, i - 1, i + 1, i + 2)] for i in range(2, len(text) - 2)])
    targets = torch.tensor([ix[text[i]] for i in range(2, len(text) - 2)])
    final = {}
    for backend in ("fused", "reference"):
        torch.manual_seed(0)
        fused = optimizer == "fused" and backend == "fused"
        model = models.CBOW(len(vocab), 16, backend=backend, fused_lr=0.1 if fused else None)
        params = model.linear.parameters() if fused else model.parameters()
        # (the reference path has no fused update: plain SGD on all its parameters is its twin)
        opt = torch.optim.Adam(params, lr=0.01) if optimizer == "Adam" else torch.optim.SGD(params, lr=0.1)
        for _ in range(50):
            opt.zero_grad()
            loss = torch.nn.functional.nll_loss(model(contexts), targets)
            loss.backward()
            opt.step()
        final[backend] = loss.item()
    assert final["fused"] < 1.0
    assert final["fused"] == pytest.approx(final["reference"], rel=1e-3, abs=1e-4)


def test_reference_backend_refuses_a_fused_update():
    with pytest.raises(ValueError, match="fused_lr needs the fused backend"):
        models.CBOW(10, 4, backend="reference", fused_lr=0.1)
    with pytest.raises(ValueError, match="backend must be"):
        models.CBOW(10, 4, backend="magic")


def test_the_tutorials_pairs_and_single_examples():
    tokens = "a b c d e f".split()
    assert models.ngram_pairs(tokens, 2)[:2] == [(["b", "a"], "c"), (["c", "b"], "d")]
    assert models.cbow_pairs(tokens, 2) == [(["b", "a", "d", "e"], "c"), (["c", "b", "e", "f"], "d")]
    torch.manual_seed(0)
    ngram, cbow = models.NGramLanguageModeler(10, 4, 2), models.CBOW(10, 4)
    for model, one in ((ngram, torch.tensor([1, 2])), (cbow, torch.tensor([1, 2, 3, 4]))):
        out = model(one)  # one example, 1-D, as the tutorial passes it
        assert out.shape == (1, 10)
        torch.testing.assert_close(out, model(one.unsqueeze(0)))
