"""Tables in transparent huge pages (wordembed.memory): plain zero tensors that ask Linux for
2 MiB pages."""
import gc
import os

import pytest
import torch

import wordembed
from testing import CUDA_SKIP
from wordembed.memory import HUGE_PAGE_BYTES, zeros_table

THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def mapping_flags(tensor):
    """VmFlags of the mapping that holds tensor's first byte (Linux /proc/self/smaps)."""
    address, flags, inside = tensor.data_ptr(), None, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                low, high = (int(x, 16) for x in head.split("-"))
                inside = low <= address < high
            elif inside and head == "VmFlags:":
                flags = line.split()[1:]
    return flags


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_zeros_table_is_a_plain_zero_tensor(dtype):
    table = zeros_table((3000, 300), dtype)
    assert table.shape == (3000, 300) and table.dtype == dtype and table.is_contiguous()
    assert not table.any()
    table[2999, 299] = 1  # writable, to the last element
    copy = table.clone()
    del table
    gc.collect()
    assert copy[2999, 299] == 1 and copy.sum() == 1


def test_zeros_table_keeps_its_memory_alive():
    view = zeros_table((2000, 500))[1:]  # the base tensor is dropped at once
    gc.collect()
    view.fill_(2.0)
    assert view.sum() == 2.0 * 1999 * 500


@pytest.mark.skipif(not os.path.exists(THP), reason="this kernel has no transparent huge pages")
def test_large_tables_ask_for_huge_pages_and_small_ones_do_not():
    large = zeros_table((HUGE_PAGE_BYTES // 400 + 1, 100))
    assert "hg" in mapping_flags(large)
    small = zeros_table((10, 100))
    assert "hg" not in (mapping_flags(small) or [])


def test_modules_and_trainer_tables_use_it():
    embed = wordembed.nn.ContextSum(20_000, 64)
    assert embed.weight.dtype == torch.get_default_dtype()
    assert embed.weight.std() > 0.5  # initialised as nn.Embedding is, not left at zero
    from wordembed.training.tables import initial_input_vectors
    vectors = initial_input_vectors(20_000, 64, 4.0, torch.Generator().manual_seed(0))
    assert vectors.abs().max() <= 4.0 / 64 and vectors.std() > 0
    if os.path.exists(THP):
        assert "hg" in mapping_flags(embed.weight) and "hg" in mapping_flags(vectors)


@CUDA_SKIP
def test_zeros_table_on_cuda_is_torch_zeros():
    table = zeros_table((1000, 1000), device="cuda")
    assert table.is_cuda and not table.any()


def test_resident_bytes_reads_this_process_now_and_at_its_peak():
    from wordembed.memory import resident_bytes
    now = resident_bytes()
    block = bytearray(64 << 20)  # touched: 64 MB more resident memory
    assert resident_bytes() >= now + (60 << 20)
    del block
    assert resident_bytes(peak=True) >= now + (60 << 20)
