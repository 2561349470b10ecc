"""Shared test helpers: the devices to run on and sample inputs for context_sum."""
import pytest
import torch

CUDA_SKIP = pytest.mark.skipif(not torch.cuda.is_available(),
                               reason="needs a CUDA GPU; none is visible to torch on this machine")
devices = ["cpu", pytest.param("cuda", marks=CUDA_SKIP)]


def tolerance(dtype):
    return {torch.float64: dict(rtol=1e-10, atol=1e-10), torch.float32: dict(rtol=1e-5, atol=1e-5),
            torch.float16: dict(rtol=1e-2, atol=1e-2), torch.bfloat16: dict(rtol=2e-2, atol=2e-2)}[dtype]


def make_context(B, C, V, device, index_dtype=torch.int64, pad_fraction=0.25, generator=None):
    """A (B, C) batch of random indices with some -1 padding, duplicates, and an all-padding row."""
    ctx = torch.randint(0, V, (B, C), generator=generator)
    pad = torch.rand(B, C, generator=generator) < pad_fraction
    ctx[pad] = -1
    if B > 1 and C > 0:
        ctx[0] = -1              # a bag with no words
        ctx[1, :] = ctx[1, 0]    # a bag of one word repeated
        if ctx[1, 0] == -1:
            ctx[1, :] = 0
    return ctx.to(device=device, dtype=index_dtype)


def sample_inputs(device, requires_grad=False, dtype=torch.float32):
    """(weight, context, mean) triples covering the shapes the tests sweep."""
    g = torch.Generator().manual_seed(0)
    samples = []
    for V, D, B, C in [(11, 1, 5, 3), (17, 7, 9, 4), (50, 64, 33, 10), (120, 300, 8, 6), (3, 4, 6, 40)]:
        for index_dtype in (torch.int64, torch.int32):
            for mean in (False, True):
                weight = torch.randn(V, D, generator=g, dtype=torch.float64).to(device=device, dtype=dtype)
                weight.requires_grad_(requires_grad)
                samples.append((weight, make_context(B, C, V, device, index_dtype, generator=g), mean))
    return samples
