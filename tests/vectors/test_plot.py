"""Plots people can read: word maps whose labels do not cover each other, coloured by query, t-SNE
from scikit-learn, and training curves drawn per chunk."""
import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib", reason="plots need the plot extra (requirements.txt)")
pytest.importorskip("adjustText", reason="plots need the plot extra (requirements.txt)")
pytest.importorskip("sklearn", reason="t-SNE maps need the plot extra (requirements.txt)")

from wordembed import WordVectors  # noqa: E402
from wordembed.vectors.plot import draw_word_map, plot_training, plot_words, tsne_2d  # noqa: E402


def crowded_vectors(groups=3, size=8, dim=20, seed=0):
    """Groups of words whose vectors nearly coincide: drawn where they fall, their labels pile up."""
    rng = np.random.default_rng(seed)
    words, rows = [], []
    for g in range(groups):
        centre = rng.standard_normal(dim)
        for i in range(size):
            words.append(f"group{g}word{i}")
            rows.append(centre + 0.02 * rng.standard_normal(dim))
    return WordVectors(words, torch.tensor(np.array(rows), dtype=torch.float32))


def labels(fig):
    """The word labels (adjustText adds empty annotations for its leader lines)."""
    return [text for text in fig.axes[0].texts if text.get_text()]


def label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [text.get_window_extent(renderer) for text in labels(fig)]


def overlapping_pairs(boxes):
    return sum(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_labels_do_not_overlap(method):
    import matplotlib.pyplot as plt
    vectors = crowded_vectors(groups=4, size=9, seed=3)
    fig, chosen = draw_word_map(vectors, [f"group{g}word0" for g in range(4)], neighbours=8, method=method)
    try:
        texts = labels(fig)
        assert [t.get_text() for t in texts] == chosen and len(chosen) == 36
        # where the labels started (at their points) they covered each other
        moved = [t.get_position() for t in texts]
        points = fig.axes[0].collections
        for text, collection in zip(texts, points):
            text.set_position(collection.get_offsets()[0])
        assert overlapping_pairs(label_boxes(fig)) >= 10
        for text, position in zip(texts, moved):
            text.set_position(position)
        assert overlapping_pairs(label_boxes(fig)) == 0
    finally:
        plt.close(fig)


def test_each_query_keeps_its_own_colour():
    """A query that is also among an earlier query's neighbours is drawn in its own group's colour,
    and each neighbour in its query's."""
    import matplotlib.pyplot as plt
    vectors = crowded_vectors(groups=2)
    queries = ["group0word0", "group0word1", "group1word0"]  # the second is a neighbour of the first
    fig, chosen = draw_word_map(vectors, queries + ["group0word0"], neighbours=3)
    try:
        colour = {t.get_text(): t.get_color() for t in labels(fig)}
        assert len(chosen) == len(set(chosen)) and chosen[:3] == queries  # queries once, first
        assert len({colour[q] for q in queries}) == 3
        for word in chosen[3:]:
            owner = next(q for q in queries if word in [w for w, _ in vectors.most_similar(q, topn=3)])
            assert colour[word] == colour[owner], word
        assert "(PCA)" in fig.axes[0].get_title() and fig.axes[0].get_title().count("group0word0") == 1
    finally:
        plt.close(fig)
    fig, _ = draw_word_map(vectors, [f"group{g}word{i}" for g in range(2) for i in range(8)], neighbours=1)
    try:  # a long title is wrapped onto lines, not cut off at the figure's edge
        title = fig.axes[0].get_title()
        assert title.count("\n") >= 1 and max(len(line) for line in title.split("\n")) <= 100
    finally:
        plt.close(fig)


def test_tsne_perplexity_suits_small_maps():
    """scikit-learn refuses a perplexity at or above the number of points; the map picks one."""
    rng = np.random.default_rng(1)
    for n in (3, 4, 10, 200):
        xy = tsne_2d(torch.from_numpy(rng.standard_normal((n, 16))).float())
        assert xy.shape == (n, 2) and torch.isfinite(xy).all()


def test_tsne_keeps_clusters_apart():
    vectors = crowded_vectors()
    xy = tsne_2d(vectors.normed)
    centres = torch.stack([xy[g * 8:(g + 1) * 8].mean(0) for g in range(3)])
    spread = max(float((xy[g * 8:(g + 1) * 8] - centres[g]).norm(dim=1).max()) for g in range(3))
    assert float(torch.pdist(centres).min()) > 2 * spread


def test_degenerate_maps_are_drawn(tmp_path, capfd):
    """Words whose vectors all coincide (t-SNE would start from a zero spread and never finish),
    vectors of one number and labels wider than the map are still drawn, quietly."""
    same = WordVectors([f"w{i}" for i in range(8)], torch.ones(8, 5))
    for method in ("pca", "tsne"):
        assert len(plot_words(same, ["w0"], tmp_path / f"{method}.png", neighbours=7, method=method)) == 8
    line = WordVectors(["a", "b", "c", "d"], torch.tensor([[1.0], [2.0], [-1.0], [3.0]]))  # one dimension
    for method in ("pca", "tsne"):
        assert len(plot_words(line, ["a", "c"], tmp_path / f"line-{method}.png", neighbours=2, method=method)) == 4
    wide = [("x" * 150) + str(i) for i in range(5)]
    assert len(plot_words(WordVectors(wide, torch.randn(5, 4)), wide[:1], tmp_path / "wide.png", neighbours=4)) == 5
    assert "too long" not in capfd.readouterr().err


def test_unknown_word_is_named_before_any_drawing(tmp_path):
    with pytest.raises(KeyError, match="nosuchword"):
        plot_words(crowded_vectors(), ["group0word0", "nosuchword"], tmp_path / "map.png")
    assert not (tmp_path / "map.png").exists()


def test_training_curve_draws_every_chunk(tmp_path):
    import matplotlib.pyplot as plt
    curve = [{"epoch": (i + 1) / 10, "words": (i + 1) * 100, "loss": 3 - i / 20, "lr": 0.05 * (1 - i / 50)}
             for i in range(50)]
    history = [{"epoch": e, "loss": 3 - e / 2, "lr": 0.05 * (1 - e / 5)} for e in range(1, 6)]
    shown = []
    original = plt.Figure.savefig

    def record(fig, *args, **kwargs):
        shown.append(([line.get_xydata() for ax in fig.axes for line in ax.get_lines()],
                      [len(c.get_segments()) for ax in fig.axes for c in ax.collections]))
        return original(fig, *args, **kwargs)

    plt.Figure.savefig = record
    try:
        plot_training(history, tmp_path / "curves.png", curve)
    finally:
        plt.Figure.savefig = original
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"
    lines, segments = shown[0]
    assert sorted(len(xy) for xy in lines) == [5, 50, 50]  # loss and lr per chunk, lr per epoch
    assert segments == [5]  # each epoch's mean loss, across its epoch
    plot_training(history, tmp_path / "epochs-only.png")  # a history without a curve still draws
    with pytest.raises(ValueError, match="no training history"):
        plot_training([], tmp_path / "none.png", [])


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_cli_plot_writes_a_png(tmp_path, method):
    crowded_vectors().save(tmp_path / "v.bin")
    out = tmp_path / "map.png"
    result = subprocess.run([sys.executable, "-m", "wordembed", "plot", str(tmp_path / "v.bin"), "group0word0",
                             "group2word3", "-o", str(out), "--method", method], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_a_missing_plot_extra_is_named(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "adjustText", None)  # as if not installed
    with pytest.raises(ImportError, match=r"wordembed\[plot\]"):
        plot_words(crowded_vectors(), ["group0word0"], tmp_path / "map.png")
    assert not (tmp_path / "map.png").exists()


def test_train_with_curves_but_no_matplotlib_stops_before_training(tmp_path):
    """--plot-curves without the plot extra is refused at once, not after the first epoch."""
    (tmp_path / "c.txt").write_text("a b c d\n" * 50)
    script = ("import sys; sys.modules['matplotlib'] = None\n"  # as if not installed
              "from wordembed import cli; sys.exit(cli.main(sys.argv[1:]))")
    run = subprocess.run([sys.executable, "-c", script, "train", str(tmp_path / "c.txt"), "-o", str(tmp_path / "v.bin"),
                          "--min-count", "1", "--plot-curves", str(tmp_path / "c.png")], capture_output=True, text=True)
    assert run.returncode == 2 and "wordembed[plot]" in run.stderr, run.stderr
    assert "epoch" not in run.stdout + run.stderr and not (tmp_path / "v.bin").exists()
    assert not (tmp_path / "v.bin.work").exists()
