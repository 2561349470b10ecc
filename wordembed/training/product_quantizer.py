"""Product quantization learnt (vectors/quantized.py has the stored form): for each column
slice, k-means (256 centroids, 25 rounds) on up to 65,536 sampled rows, then every row's
nearest centroid in each slice, found by the compiled op (csrc/cpu/nearest_centroids.cpp;
its twin is reference.nearest_centroids)."""
import torch

from .. import ops  # noqa: F401  (the compiled library, for nearest_centroids)
from ..vectors.quantized import CENTROIDS, ProductQuantizer, QuantizedTable, slice_widths

SAMPLE_ROWS = 256 * CENTROIDS  # rows k-means learns each slice's centroids from
KMEANS_ROUNDS = 25
SPLIT_NUDGE = 1e-7            # how far apart the two halves of a split cluster start


def quantize_table(table: torch.Tensor, dsub: int = 2, qnorm: bool = False, seed: int = 1234) -> QuantizedTable:
    """The product quantization of a (rows, dim) table: `dsub` numbers per byte; qnorm: the norms
    apart (see vectors/quantized.py)."""
    generator = torch.Generator().manual_seed(seed)
    table = table.detach().to("cpu", torch.float32)
    if not torch.isfinite(table).all():
        raise ValueError("the table holds NaN or infinite numbers: it cannot be quantized")
    norm_codes = norm_quantizer = None
    if qnorm:
        norms = table.norm(dim=1)
        table = table / torch.where(norms > 0, norms, 1)[:, None]
        norm_quantizer = train_quantizer(norms[:, None], 1, generator)
        norm_codes = encode(norm_quantizer, norms[:, None])[:, 0]
    quantizer = train_quantizer(table, dsub, generator)
    return QuantizedTable(encode(quantizer, table), quantizer, norm_codes, norm_quantizer)


def encode(quantizer: ProductQuantizer, table: torch.Tensor) -> torch.Tensor:
    """(rows, slices) uint8: each row's nearest centroid in each slice."""
    codes = torch.empty(len(table), quantizer.slices, dtype=torch.uint8)
    for first, group in _groups(slice_widths(quantizer.dim, quantizer.dsub)):
        centroids = torch.stack(quantizer.centroids[first:first + len(group)])
        for lo in range(0, len(table), SAMPLE_ROWS):  # a copy of a part of the table at a time
            points = _slices(table[lo:lo + SAMPLE_ROWS], first, len(group), group[0], quantizer.dsub)
            codes[lo:lo + SAMPLE_ROWS, first:first + len(group)] = nearest(points, centroids).T.to(torch.uint8)
    return codes


def train_quantizer(table: torch.Tensor, dsub: int, generator: torch.Generator) -> ProductQuantizer:
    """k-means (256 centroids, 25 rounds) on each column slice of up to 65,536 sampled rows."""
    rows, dim = table.shape
    if rows < CENTROIDS:
        raise ValueError(f"a table of {rows} rows is too small to quantize: it needs at least {CENTROIDS}")
    table = table.detach().to("cpu", torch.float32)
    widths, centroids = slice_widths(dim, dsub), []
    for first, group in _groups(widths):
        if rows > SAMPLE_ROWS:  # a sample of its own for each slice, as fastText draws
            picks = torch.stack([torch.randperm(rows, generator=generator)[:SAMPLE_ROWS] for _ in group])
            points = torch.stack([table[p, first * dsub + m * dsub:][:, :group[0]]
                                  for m, p in enumerate(picks)])
        else:
            points = _slices(table, first, len(group), group[0], dsub)
        centroids += list(kmeans(points, generator))
    return ProductQuantizer(dim, dsub, centroids)


def kmeans(points: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(slices, 256, width) centroids of (slices, rows, width) points, each slice on its own."""
    slices, rows, width = points.shape
    start = torch.stack([torch.randperm(rows, generator=generator)[:CENTROIDS] for _ in range(slices)])
    centroids = torch.gather(points, 1, start[..., None].expand(-1, -1, width)).clone()
    for _ in range(KMEANS_ROUNDS):
        codes = nearest(points, centroids)
        sums = torch.zeros_like(centroids).scatter_add_(1, codes[..., None].expand(-1, -1, width), points)
        counts = torch.zeros(slices, CENTROIDS, dtype=points.dtype).scatter_add_(
            1, codes, torch.ones_like(codes, dtype=points.dtype))
        centroids = torch.where(counts[..., None] > 0, sums / counts.clamp(min=1)[..., None], centroids)
        _split_for_empty(centroids, counts)
    return centroids


def _split_for_empty(centroids, counts):
    """A centroid no point chose takes half of the largest cluster: both start from its centre,
    nudged apart, so the next round shares its points between them."""
    for s, k in (counts == 0).nonzero().tolist():
        largest = int(counts[s].argmax())
        nudge = SPLIT_NUDGE * (torch.arange(centroids.shape[2]) % 2 * 2 - 1).to(centroids)
        centroids[s, k] = centroids[s, largest] + nudge
        centroids[s, largest] -= nudge
        counts[s, k] = counts[s, largest] // 2
        counts[s, largest] -= counts[s, k]


def nearest(points: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(slices, rows) int64: the nearest centroid (squared distance) of each point, slice by slice."""
    return torch.ops.wordembed.nearest_centroids(points.contiguous(), centroids.contiguous())


def _groups(widths):
    """(first slice, widths) of the runs of slices of one width: all but maybe the last."""
    if len(widths) > 1 and widths[-1] != widths[0]:
        return [(0, widths[:-1]), (len(widths) - 1, widths[-1:])]
    return [(0, widths)]


def _slices(table, first, count, width, dsub):
    """(count, rows, width) columns of slices first.. of every row."""
    columns = table[:, first * dsub:first * dsub + count * width]
    return columns.reshape(len(table), count, width).transpose(0, 1).contiguous()
