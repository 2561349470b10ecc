"""The tables a run trains, made in memory that is checked first, started from the seed, and the
learning-rate schedule that walks over them."""
import torch

from ..errors import TrainingError
from ..memory import available_bytes, zeros_table


def initial_input_vectors(num_words, dim, init_scale, generator=None, out=None):
    """(num_words, dim) float32, uniform in [-init_scale / dim, init_scale / dim), in huge pages
    (see memory.py), or written into `out` (a CPU table)."""
    table = torch.rand(num_words, dim, generator=generator, out=zeros_table((num_words, dim)) if out is None else out)
    return table.mul_(2).sub_(1).mul_(init_scale / dim)


def allocate_tables(input_rows, output_rows, dim, device, what, huge_pages=True):
    """Zeroed (input_rows, dim) and (output_rows, dim) float32 tables on `device`, after checking
    that they fit in the memory there is. what: the rows, in words, for the messages; huge_pages:
    as memory.zeros_table."""
    need = (input_rows + output_rows) * dim * 4
    have = available_bytes(device)
    if have is not None and need > have:
        raise TrainingError(f"the two tables need {need / 2**30:.2f} GiB ({what} x dim {dim} x float32) but "
                            f"{device.type} memory has {have / 2**30:.2f} GiB free: lower --dim or --bucket, or "
                            "raise --min-count, or set --max-final-vocab")
    try:
        return tuple(zeros_table((rows, dim), device=device, huge_pages=huge_pages) for rows in (input_rows, output_rows))
    except (MemoryError, OverflowError, OSError, RuntimeError) as e:
        raise TrainingError(f"could not allocate the tables ({what} x dim {dim}): {e}") from None


def start_tables(input_vectors, output_vectors, seed, init_scale):
    """Small random input vectors from the seed, zero output vectors (see TrainConfig.init_scale):
    the same numbers on every device and every rank."""
    g = torch.Generator().manual_seed(seed)
    on_cpu = input_vectors.device.type == "cpu"
    start = initial_input_vectors(input_vectors.shape[0], input_vectors.shape[1], init_scale, g,
                                  out=input_vectors if on_cpu else None)
    if not on_cpu:
        input_vectors.copy_(start)
    output_vectors.zero_()


def alpha_at(config, words_done, total_words):
    """The learning rate after words_done of total_words: linear from alpha to min_alpha, as word2vec."""
    alpha = config.start_alpha
    min_alpha = alpha * 1e-4 if config.min_alpha is None else config.min_alpha
    return max(min_alpha, alpha - (alpha - min_alpha) * words_done / max(total_words, 1))


def first_non_finite_row(table):
    """The first row of a 2-D table that holds an inf or a NaN, or None. One pass over the table
    (row sums: a row with an inf or a NaN sums to one); a sum that only overflowed is looked at
    row by row."""
    row_sums = table.sum(1)
    for row in (~torch.isfinite(row_sums)).nonzero().flatten().tolist():
        if not bool(torch.isfinite(table[row]).all()):
            return row
    return None


def check_finite_tables(run, hint):
    """TrainingError naming the first table and row that left float range."""
    for name, table in (("input", run.input_vectors), ("output", run.output_vectors)):
        row = first_non_finite_row(table)
        if row is not None:
            raise TrainingError(f"training made row {row} of the {name} vectors non-finite in epoch {run.epoch + 1}; "
                                f"{hint}")
