"""Product-quantized tables, as fastText's .ftz stores a classifier: each row is cut into
slices of `dsub` numbers (the last may be shorter), and each slice is stored as one byte, the
index of one of 256 centroids for that slice of the columns. With `qnorm`, rows are stored as
unit vectors and their norms apart, quantized the same way (one slice of one number): the
direction and the length are then approximated separately, which keeps long rows long.

The layout of the centroids is fastText's: slice m's 256 centroids, row after row, slice after
slice (ProductQuantizer.flat_centroids), so the .ftz reader and writer take them as they are.
training/product_quantizer.py learns the centroids and the codes; reading needs neither."""
import dataclasses

import torch

CENTROIDS = 256  # one byte per code


@dataclasses.dataclass
class ProductQuantizer:
    """The centroids of each column slice of a table `dim` wide: centroids[m] is (256, width of m)."""
    dim: int
    dsub: int
    centroids: list

    @property
    def slices(self) -> int:
        return len(self.centroids)

    @property
    def last_width(self) -> int:
        return self.dim - (self.slices - 1) * self.dsub

    def flat_centroids(self) -> torch.Tensor:
        return torch.cat([c.reshape(-1) for c in self.centroids])

    @classmethod
    def from_flat(cls, dim: int, dsub: int, flat: torch.Tensor) -> "ProductQuantizer":
        widths = slice_widths(dim, dsub)
        sizes = [CENTROIDS * w for w in widths]
        return cls(dim, dsub, [part.reshape(CENTROIDS, w) for part, w in zip(flat.split(sizes), widths)])

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """(rows, dim) float32: each row as the centroids its codes name."""
        codes = codes.long()
        return torch.cat([c[codes[:, m]] for m, c in enumerate(self.centroids)], dim=1)


def slice_widths(dim: int, dsub: int) -> list:
    """The width of each column slice: dsub, and what is left at the end."""
    if dim < 1 or dsub < 1:
        raise ValueError(f"cannot cut {dim} columns into slices of {dsub}")
    full, rest = divmod(dim, dsub)
    return [dsub] * full + ([rest] if rest else [])


@dataclasses.dataclass
class QuantizedTable:
    """A table as fastText's .ftz stores it: codes (rows, slices) uint8 of `quantizer`; with
    qnorm, each row's norm as a code of `norm_quantizer` (rows,) and the rows as unit vectors."""
    codes: torch.Tensor
    quantizer: ProductQuantizer
    norm_codes: torch.Tensor | None = None
    norm_quantizer: ProductQuantizer | None = None

    @property
    def shape(self):
        return (len(self.codes), self.quantizer.dim)

    @property
    def qnorm(self) -> bool:
        return self.norm_codes is not None

    def decode(self) -> torch.Tensor:
        """The (rows, dim) float32 table the codes stand for."""
        rows = self.quantizer.decode(self.codes)
        if self.qnorm:
            rows *= self.norm_quantizer.decode(self.norm_codes[:, None])
        return rows
