"""Pictures of word vectors and of training, written as PNG files (matplotlib, headless; labels
placed by adjustText, t-SNE by scikit-learn: the `plot` extra)."""

import logging
import textwrap
import warnings

import numpy as np
import torch

from ..arguments import check_count
from ..fileio import atomic_write

ADJUST_STEPS = 300  # adjustText's steps for the labels of a word map (it stops earlier when all are clear)


def _require(module, package, purpose):
    """Imports an optional dependency, or says which extra installs it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{purpose} need {package}: pip install 'wordembed[plot]' (or pip install {package})") from None


def check_installed(word_map=False, method="pca"):
    """Raises the ImportError of a missing plot dependency now, before work that would be lost
    when the drawing fails (a training run with --plot-curves, say)."""
    _pyplot()
    if word_map:
        _require("adjustText", "adjustText", "word maps")
        if method == "tsne":
            _require("sklearn.manifold", "scikit-learn", "t-SNE maps")


def _pyplot():
    matplotlib = _require("matplotlib", "matplotlib", "plots")
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    return plt


def pca_2d(points: torch.Tensor) -> torch.Tensor:
    """Projection on the two main axes of the centred points."""
    centred = points - points.mean(0)
    _, _, vh = torch.linalg.svd(centred, full_matrices=False)
    return centred @ vh[:2].T


def tsne_2d(points: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """t-SNE by scikit-learn, with a perplexity that suits the number of points: its default of 30
    wants hundreds of points, and a map holds tens (perplexity is, roughly, the number of
    neighbours each point keeps close; it must stay below the number of points)."""
    TSNE = _require("sklearn.manifold", "scikit-learn", "t-SNE maps").TSNE
    n = points.shape[0]
    perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
    if perplexity >= n:  # 3 or fewer points: any value below n does
        perplexity = (n - 1) / 2
    x = points.double().numpy()
    # scikit-learn starts from the PCA projection scaled by its spread; points that all coincide
    # have none (it would divide by zero and never finish), so they start from random positions
    init = "pca" if float(np.ptp(x, axis=0).max()) > 0 else "random"
    tsne = TSNE(n_components=2, perplexity=perplexity, init=init, random_state=seed)
    return torch.from_numpy(tsne.fit_transform(x)).float()


def plot_words(vectors, words, path, neighbours: int = 5, method: str = "pca") -> list:
    """Writes a labelled 2-D map of `words` and their nearest neighbours as a PNG; returns the
    words drawn (draw_word_map says how)."""
    plt = _pyplot()
    fig, chosen = draw_word_map(vectors, words, neighbours, method)
    _save(fig, path, plt, layout=False)
    return chosen


def draw_word_map(vectors, words, neighbours: int = 5, method: str = "pca"):
    """(figure, words drawn): `words` and their nearest neighbours, placed by PCA or t-SNE. Each
    query word and its neighbours share a colour (a neighbour of two queries takes the first's);
    labels are moved apart so that none covers another (adjustText)."""
    if method not in ("pca", "tsne"):
        raise ValueError(f"method must be 'pca' or 'tsne', got {method!r}")
    if not words:
        raise ValueError("give at least one word to plot")
    check_count("neighbours", neighbours)
    queries = list(dict.fromkeys(words))  # each once, in the order given
    for word in queries:
        vectors.get_index(word)  # an unknown word is a KeyError with suggestions, before any work
    # the query words first, each in its own group, so that one query listed among another's
    # neighbours keeps its own colour
    group_of = {word: g for g, word in enumerate(queries)}
    for g, word in enumerate(queries):
        for w, _ in vectors.most_similar([word], topn=neighbours):
            group_of.setdefault(w, g)
    chosen = list(group_of)
    points = vectors.normed[[vectors.get_index(w) for w in chosen]].float().cpu()
    bad = [w for w, finite in zip(chosen, torch.isfinite(points).all(1).tolist()) if not finite]
    if bad:
        raise ValueError(f"the vectors of {', '.join(map(repr, bad))} hold NaN or inf: they cannot be placed on a map")
    if len(chosen) < 3:
        raise ValueError("a map needs at least three words in all")
    if points.shape[1] < 2:  # vectors of one number: a second axis of zeros, so both methods draw
        points = torch.nn.functional.pad(points, (0, 2 - points.shape[1]))
    xy = (tsne_2d(points) if method == "tsne" else pca_2d(points)).numpy()
    plt = _pyplot()
    adjust_text = _require("adjustText", "adjustText", "word maps").adjust_text
    fig, ax = plt.subplots(figsize=(10, 8), dpi=120)
    colours = plt.get_cmap("tab10")
    labels = []
    for (x, y), word in zip(xy, chosen):
        is_query = queries[group_of[word]] == word
        colour = colours(group_of[word] % 10)
        ax.scatter(x, y, color=colour, s=60 if is_query else 20, zorder=3)
        labels.append(ax.text(x, y, word, color=colour, fontsize=11 if is_query else 9,
                              fontweight="bold" if is_query else "normal"))
    title = f"{', '.join(queries)} and their {neighbours} nearest neighbours ({method.upper()})"
    ax.set_title("\n".join(textwrap.wrap(title, 100)))  # many queries: several lines, not cut off
    ax.set_xticks([])
    ax.set_yticks([])
    with warnings.catch_warnings():  # labels wider than the figure leave no room: the layout stays as it is
        warnings.filterwarnings("ignore", message="Tight layout not applied")
        fig.tight_layout()  # the final layout first: labels are placed in pixels, which a later one would move
    # adjustText pushes the labels off each other and off the points, for a count of steps rather
    # than its default of one second, so that a busy machine draws the same map
    quiet = logging.getLogger("adjustText")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # it warns at every step about a label wider than the axes
    try:
        with warnings.catch_warnings():  # ... through logging's deprecated `warn`, which warns too
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="adjustText")
            adjust_text(labels, x=xy[:, 0], y=xy[:, 1], ax=ax, expand=(1.2, 1.5), force_text=(0.3, 0.5),
                        expand_axes=True, iter_lim=ADJUST_STEPS)
    finally:
        quiet.setLevel(level)
    ax.set_xlim(ax.get_xlim())  # fixed from here: new lines must not rescale what is placed in pixels
    ax.set_ylim(ax.get_ylim())
    _clear_overlaps(fig, ax, labels, xy)  # it may leave a pair touching; this clears them while the map has room
    _leader_lines(fig, ax, labels, xy)
    return fig, chosen


def _clear_overlaps(fig, ax, labels, anchors):
    """Moves each label that still covers an earlier one to the free place nearest its point:
    candidates on rings of growing radius around the point, inside the axes. A label with no free
    place left (a map packed full, or a label wider than the map) stays where it is."""
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    to_pixels, to_data = ax.transData, ax.transData.inverted()
    placed = []
    for text, anchor in zip(labels, to_pixels.transform(anchors)):
        box = text.get_window_extent(renderer)
        if any(box.overlaps(other) for other in placed):
            step = box.height
            for radius in np.arange(step, max(frame.width, frame.height), step):
                angles = np.linspace(0, 2 * np.pi, max(8, int(2 * np.pi * radius / step)), endpoint=False)
                # each candidate puts the label's centre on the ring
                shifts = anchor + radius * np.stack([np.cos(angles), np.sin(angles)], 1) - [box.x0 + box.width / 2,
                                                                                          box.y0 + box.height / 2]
                free = [shift for shift in shifts if _fits(box.translated(*shift), frame, placed)]
                if free:
                    position = to_pixels.transform(text.get_position()) + free[0]
                    text.set_position(to_data.transform(position))
                    box = box.translated(*free[0])
                    break
        placed.append(box)


def _fits(box, frame, placed):
    inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    return inside and not any(box.overlaps(other) for other in placed)


def _leader_lines(fig, ax, labels, anchors):
    """A thin line from each point to its label, where the label has moved off the point."""
    renderer = fig.canvas.get_renderer()
    to_pixels, to_data = ax.transData, ax.transData.inverted()
    for text, anchor in zip(labels, to_pixels.transform(anchors)):
        box = text.get_window_extent(renderer)
        nearest = np.clip(anchor, [box.x0, box.y0], [box.x1, box.y1])  # the box's point nearest the anchor
        if np.hypot(*(nearest - anchor)) > 6:  # pixels
            ends = to_data.transform([anchor, nearest])
            ax.plot(ends[:, 0], ends[:, 1], "-", color="0.6", lw=0.5, zorder=1)


def plot_training(history, path, curve=None) -> None:
    """Loss and learning rate through training. history: the per-epoch entries ({'epoch',
    'loss', 'lr'}), each mean drawn across its epoch; curve: the per-chunk entries ({'epoch',
    'loss', 'lr'}, epoch a fraction), drawn as lines, so that the shape within an epoch shows."""
    if not history and not curve:
        raise ValueError("no training history to plot")
    plt = _pyplot()
    fig, loss_ax = plt.subplots(figsize=(8, 5), dpi=120)
    lr_ax = loss_ax.twinx()
    if curve:
        at = [c["epoch"] for c in curve]
        loss_ax.plot(at, [c["loss"] for c in curve], "-", color="tab:blue", lw=1, label="per chunk")
        lr_ax.plot(at, [c["lr"] for c in curve], "--", color="tab:orange", lw=1)
    if history:
        epochs = [h["epoch"] for h in history]
        # an epoch's mean spans the epoch; its learning rate is the one at its end
        loss_ax.hlines([h["loss"] for h in history], [e - 1 for e in epochs], epochs, color="tab:blue", lw=2.5,
                       alpha=0.6, label="epoch mean")
        lr_ax.plot(epochs, [h["lr"] for h in history], "s", color="tab:orange", ms=4)
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("mean loss per word", color="tab:blue")
    lr_ax.set_ylabel("learning rate", color="tab:orange")
    loss_ax.legend(loc="upper right")
    loss_ax.set_title("training")
    _save(fig, path, plt)


def _save(fig, path, plt, layout=True):
    try:
        if layout:
            fig.tight_layout()
        with atomic_write(path) as f:
            fig.savefig(f, format="png")
    finally:
        plt.close(fig)
