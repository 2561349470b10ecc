"""CPU tables in transparent huge pages.

Training reads rows scattered all over its tables. With 4 KiB pages nearly every row read is a
TLB miss: a table of 50,000 x 100 floats spans 4,900 pages and the TLB holds about 2,000, and
in a virtual machine each miss walks two page tables. In 2 MiB pages the same table needs ten
TLB entries. What that buys is measured, not quoted here: `benchmarks/bench_op.py` with and
without --small-pages times the fused step both ways; docs/benchmarks.md gives its figures.

Linux gives huge pages to memory that asks for them with madvise(MADV_HUGEPAGE) before it is
first touched (`madvise` is the default transparent-huge-page setting of most distributions;
with `always` the request is redundant, with `never` it is ignored). Memory that torch.empty
returns may already have been touched, so tables come from a fresh anonymous mapping instead.
"""
import ctypes
import math
import mmap

import torch

HUGE_PAGE_BYTES = 2 << 20


def resident_bytes(peak=False) -> int:
    """This process's resident memory now (VmRSS), or its peak so far (VmHWM), from Linux's
    /proc/self/status. Not getrusage's ru_maxrss: a process started by fork and exec inherits
    the parent's peak there, so a small child of a large parent would report the parent's."""
    key = "VmHWM:" if peak else "VmRSS:"
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise OSError("/proc/self/status gives no resident memory")


def available_bytes(device) -> int | None:
    """Memory that a new table on `device` may take: MemAvailable of /proc/meminfo for the CPU,
    the free memory the driver reports for a GPU; None where that cannot be read."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def zeros_table(shape, dtype=torch.float32, device=None, huge_pages=True) -> torch.Tensor:
    """A zero-filled tensor of shape (V, D) or any other; on the CPU, larger than a huge page and
    where the system has them, it lives in transparent huge pages unless huge_pages=False (the
    first touch of a huge page may wait for the kernel to compact memory: a table mostly left
    alone, as the classifier's hashed n-gram rows, pays that and gains little). Otherwise
    torch.zeros."""
    device = torch.device("cpu" if device is None else device)
    nbytes = math.prod(shape) * dtype.itemsize
    if not huge_pages or device.type != "cpu" or nbytes < HUGE_PAGE_BYTES or not hasattr(mmap, "MADV_HUGEPAGE"):
        return torch.zeros(shape, dtype=dtype, device=device)
    # Anonymous mappings start zero-filled; the tensor holds a reference that keeps it alive.
    buffer = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        buffer.madvise(mmap.MADV_HUGEPAGE)
    except OSError:  # a kernel without transparent huge pages: small pages, still correct
        pass
    return torch.frombuffer(buffer, dtype=dtype).view(shape)


def release_free_memory() -> None:
    """Hands the memory freed so far back to the system: glibc keeps freed blocks for reuse, and
    what a preparation freed would otherwise stay in the process's resident memory for the whole
    training after it. Nothing where the C library has no malloc_trim."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass
