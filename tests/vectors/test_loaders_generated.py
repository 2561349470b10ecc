"""The vectors loader over generated damage (hypothesis): random bytes, every truncation, mutated
headers and a changed byte in every format; each file loads or raises VectorsFileError in one line."""
import os
import tempfile
import warnings

import torch
from hypothesis import given, settings, strategies as st

from wordembed import WordVectors, train_vectors
from wordembed.vectors.formats import VectorsFileError


def valid_files():
    words = ["king", "queen", "naïve", "日本", "a"]
    vectors = WordVectors(words, torch.randn(5, 3, generator=torch.Generator().manual_seed(0)))
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        # trained with an output in the folder: its work folder then is too (a run without an
        # output works in the current folder, which the test workers share while collecting)
        subwords = train_vectors([words] * 20, os.path.join(folder, "trained.pt"), dim=3, min_count=1, bucket=40,
                                 minn=2, maxn=3, epochs=1, threads=1)
        for name, saved, output_format in (("v.bin", vectors, None), ("v.txt", vectors, None), ("v.pt", vectors, None),
                                           ("ft.bin", subwords, "fasttext"), ("sw.pt", subwords, None)):
            saved.save(os.path.join(folder, name), output_format)
            with open(os.path.join(folder, name), "rb") as f:
                files[name] = f.read()
    return files


VALID = valid_files()


def load_bytes(data, name="f.bin"):
    """Loads the bytes as a vectors file: either vectors or VectorsFileError, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-finite vectors and torch's pickle notes are allowed
            try:
                vectors = WordVectors.load(path)
            except VectorsFileError as e:
                assert "\n" not in str(e), str(e)  # one line, whatever broke
                return None
            assert vectors.vectors.shape == (len(vectors), vectors.vector_size)
            return vectors


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_load_or_raise_vectors_file_error(data):
    load_bytes(data)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(sorted(VALID)), cut=st.integers(0, 10_000))
def test_every_truncation_of_a_valid_file_loads_a_prefix_or_raises(name, cut):
    data = VALID[name]
    loaded = load_bytes(data[:cut % (len(data) + 1)], name)
    if loaded is not None and cut % (len(data) + 1) < len(data) and name != "v.pt":
        assert len(loaded) <= 5


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(["v.bin", "v.txt"]),
       count=st.one_of(st.integers(-5, 10), st.integers(10**6, 10**15), st.just("x")),
       dim=st.one_of(st.integers(-5, 10), st.integers(10**6, 10**15), st.just("1.5")),
       extra=st.sampled_from(["", " 7", "\r", "  "]))
def test_mutated_headers_load_or_raise_vectors_file_error(name, count, dim, extra):
    data = VALID[name]
    body = data[data.index(b"\n"):]
    loaded = load_bytes(f"{count} {dim}{extra}".encode() + body, name)
    if loaded is not None:
        assert loaded.vector_size == int(dim) and len(loaded) == min(int(count), 5)


@settings(max_examples=3000, deadline=None)
@given(name=st.sampled_from(sorted(VALID)), position=st.integers(0, 10**6), value=st.integers(0, 255))
def test_a_flipped_byte_in_any_file_loads_or_raises_in_one_line(name, position, value):
    data = bytearray(VALID[name])
    data[position % len(data)] = value
    load_bytes(bytes(data), name)
