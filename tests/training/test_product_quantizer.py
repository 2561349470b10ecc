"""Product quantization (wordembed/training/product_quantizer.py, vectors/quantized.py): the
compiled assignment against its twin, and tables that quantize exactly or closely."""
import pytest
import torch

from wordembed import reference
from wordembed.training.product_quantizer import nearest, quantize_table
from wordembed.vectors.quantized import CENTROIDS, ProductQuantizer, slice_widths


@pytest.mark.parametrize("width", [1, 2, 3, 7])
def test_the_nearest_centroid_is_the_twins_choice(width):
    g = torch.Generator().manual_seed(width)
    points, centroids = torch.randn(3, 2000, width, generator=g), torch.randn(3, 50, width, generator=g)
    found, expected = nearest(points, centroids), reference.nearest_centroids(points, centroids)
    distances = ((points[:, :, None, :] - centroids[:, None]) ** 2).sum(-1)
    chosen = distances.gather(2, found[..., None])[..., 0]
    assert torch.allclose(chosen, distances.min(-1).values, rtol=1e-6, atol=1e-7)  # a tie may go either way
    assert (found == expected).float().mean() > 0.999


def test_the_first_of_equal_centroids_is_chosen():
    points, centroids = torch.zeros(1, 4, 2), torch.zeros(1, 5, 2)
    assert nearest(points, centroids).tolist() == [[0, 0, 0, 0]]


def test_bad_tensors_are_refused_by_the_op():
    with pytest.raises(RuntimeError, match="differ in slices or width"):
        nearest(torch.zeros(2, 3, 2), torch.zeros(2, 4, 3))


@pytest.mark.parametrize("dim,dsub,qnorm", [(8, 2, False), (5, 2, False), (6, 3, True), (4, 1, False)])
def test_a_table_of_as_many_distinct_rows_as_centroids_comes_back(dim, dsub, qnorm):
    table = torch.randn(CENTROIDS, dim, generator=torch.Generator().manual_seed(dim)) * 3
    quantized = quantize_table(table, dsub, qnorm)
    assert quantized.codes.shape == (CENTROIDS, len(slice_widths(dim, dsub))) and quantized.codes.dtype == torch.uint8
    assert torch.allclose(quantized.decode(), table, atol=1e-5)


def test_a_large_table_of_clusters_comes_back_close():
    g = torch.Generator().manual_seed(3)
    centres = torch.randn(40, 12, generator=g)
    table = centres[torch.randint(40, (20_000,), generator=g)] + 0.01 * torch.randn(20_000, 12, generator=g)
    decoded = quantize_table(table, 2).decode()
    assert ((decoded - table).norm(dim=1) / table.norm(dim=1)).mean() < 0.05


def test_qnorm_keeps_the_lengths():
    g = torch.Generator().manual_seed(4)
    table = torch.nn.functional.normalize(torch.randn(5000, 10, generator=g), dim=1) * torch.rand(5000, 1, generator=g)
    quantized = quantize_table(table, 2, qnorm=True)
    norms = quantized.norm_quantizer.decode(quantized.norm_codes[:, None])[:, 0]
    assert (norms - table.norm(dim=1)).abs().max() < 0.01  # 256 lengths for lengths from 0 to 1
    directions = quantized.quantizer.decode(quantized.codes)
    assert torch.allclose(quantized.decode(), directions * norms[:, None])


def test_the_centroids_flatten_as_fasttext_stores_them():
    pq = quantize_table(torch.randn(300, 5), 2).quantizer
    again = ProductQuantizer.from_flat(5, 2, pq.flat_centroids())
    assert pq.flat_centroids().numel() == 5 * CENTROIDS and [c.shape for c in again.centroids] == [
        (CENTROIDS, 2), (CENTROIDS, 2), (CENTROIDS, 1)]
    assert all(torch.equal(a, b) for a, b in zip(pq.centroids, again.centroids))


def test_too_few_rows_or_bad_numbers_are_refused():
    with pytest.raises(ValueError, match="at least 256"):
        quantize_table(torch.randn(100, 4))
    bad = torch.randn(300, 4)
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        quantize_table(bad)
