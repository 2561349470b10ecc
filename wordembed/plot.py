"""Pictures of word vectors and of training, written as PNG files (matplotlib, headless)."""
import math

import torch

from ._checks import check_count
from .fileio import atomic_write


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    return plt


def pca_2d(points: torch.Tensor) -> torch.Tensor:
    """Projection on the two main axes of the centred points."""
    centred = points - points.mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return centred @ vh[:2].T


def tsne_2d(points: torch.Tensor, perplexity: float = 10.0, steps: int = 750, seed: int = 0) -> torch.Tensor:
    """Exact t-SNE (van der Maaten and Hinton 2008) for the few hundred points of a plot."""
    n = points.shape[0]
    x = points.double()
    dist2 = torch.cdist(x, x).pow(2)
    perplexity = min(perplexity, max(1.0, (n - 1) / 3))
    target = math.log(perplexity)
    off_diag = ~torch.eye(n, dtype=torch.bool)
    d = dist2.masked_fill(~off_diag, float("inf"))
    d = d - d.min(1, keepdim=True).values  # for stability: the nearest neighbour weighs 1
    beta = torch.ones(n, dtype=torch.float64)
    lo, hi = torch.zeros(n, dtype=torch.float64), torch.full((n,), float("inf"), dtype=torch.float64)
    for _ in range(60):  # bisection on each point's precision to match the perplexity
        p = torch.exp(-d * beta[:, None])
        p = p / p.sum(1, keepdim=True)
        entropy = -(p * torch.log(p.clamp_min(1e-300))).sum(1)
        too_flat = entropy > target
        lo = torch.where(too_flat, beta, lo)
        hi = torch.where(too_flat, hi, beta)
        beta = torch.where(torch.isinf(hi), beta * 2, (lo + hi) / 2)
    P = (p + p.T) / (2 * n)
    g = torch.Generator().manual_seed(seed)
    y = (torch.randn(n, 2, generator=g, dtype=torch.float64) * 1e-4).requires_grad_()
    opt = torch.optim.SGD([y], lr=max(n / 12, 50.0), momentum=0.8)
    for step in range(steps):
        exaggeration = 12.0 if step < 100 else 1.0
        num = 1 / (1 + torch.cdist(y, y).pow(2)) * off_diag
        Q = (num / num.sum()).clamp_min(1e-12)
        loss = (exaggeration * P * torch.log((exaggeration * P).clamp_min(1e-12) / Q)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return y.detach().float()


def plot_words(vectors, words, path, neighbours: int = 5, method: str = "pca") -> list:
    """Labelled 2-D map of `words` and their nearest neighbours; returns the words drawn."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    if not words:
        raise ValueError("give at least one word to plot")
    check_count("neighbours", neighbours)
    chosen, groups = [], []
    for word in words:
        group = [word] + [w for w, _ in vectors.most_similar([word], topn=neighbours)]
        for w in group:
            if w not in chosen:
                chosen.append(w)
                groups.append(words.index(word))
    points = vectors.normed[[vectors.get_index(w) for w in chosen]].float().cpu()
    bad = [w for w, finite in zip(chosen, torch.isfinite(points).all(1).tolist()) if not finite]
    if bad:
        raise ValueError(f"the vectors of {', '.join(map(repr, bad))} hold NaN or inf: they cannot be placed on a map")
    if len(chosen) < 3:
        raise ValueError("a map needs at least three words in all")
    xy = (tsne_2d(points) if method == "tsne" else pca_2d(points)).numpy()
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 8), dpi=120)
    colours = plt.get_cmap("tab10")
    for (x, y), word, group in zip(xy, chosen, groups):
        is_query = word in words
        ax.scatter(x, y, color=colours(group % 10), s=60 if is_query else 20)
        ax.annotate(word, (x, y), xytext=(4, 3), textcoords="offset points",
                    fontsize=11 if is_query else 9, fontweight="bold" if is_query else "normal")
    ax.set_title(f"{', '.join(words)} and their {neighbours} nearest neighbours ({method.upper()})")
    ax.set_xticks([])
    ax.set_yticks([])
    _save(fig, path, plt)
    return chosen


def plot_training(history, path) -> None:
    """Loss and learning rate per epoch, from a list of {'epoch', 'loss', 'lr'} dicts."""
    if not history:
        raise ValueError("no training history to plot")
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, loss_ax = plt.subplots(figsize=(8, 5), dpi=120)
    loss_ax.plot(epochs, [h["loss"] for h in history], "o-", color="tab:blue")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("mean loss per word", color="tab:blue")
    lr_ax = loss_ax.twinx()
    lr_ax.plot(epochs, [h["lr"] for h in history], "s--", color="tab:orange")
    lr_ax.set_ylabel("learning rate at epoch end", color="tab:orange")
    loss_ax.set_title("training")
    _save(fig, path, plt)


def _save(fig, path, plt):
    fig.tight_layout()
    with atomic_write(path) as f:
        fig.savefig(f, format="png")
    plt.close(fig)
