"""wordembed's memory budget, whatever the corpus size: above the process after `import wordembed`,
preparing and training take at most 1.25 x (the two tables + 64 bytes per vocabulary word) + 64 MB.
The corpus here is larger than that budget, both as text and as its int32 id stream, and holds
two million words seen once, which --max-vocab-size keeps from filling the count table."""
import os
import subprocess
import sys

import numpy as np

VOCAB, DIM, TOKENS, HAPAXES = 30_000, 100, 25_000_000, 2_000_000
MB = 1 << 20


def budget_bytes(vocab_size, dim):
    return 1.25 * (2 * vocab_size * dim * 4 + 64 * vocab_size) + 64 * MB


def write_corpus(path, seed=0):
    """Zipf-like counts over VOCAB words, lines of 40 tokens, and HAPAXES words seen once."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(VOCAB)], dtype=object)
    hapax_every = TOKENS // HAPAXES
    with open(path, "w") as f:
        for first in range(0, TOKENS, 1_000_000):
            tokens = words[(rng.random(1_000_000) ** 3 * VOCAB).astype(np.int64)]
            tokens[::hapax_every] = [f"h{first + i}" for i in range(0, 1_000_000, hapax_every)]
            lines = tokens.reshape(-1, 40).tolist()
            f.write("\n".join(" ".join(line) for line in lines) + "\n")


def test_training_stays_within_the_memory_budget(tmp_path):
    corpus = tmp_path / "big.txt"
    write_corpus(corpus)
    assert os.path.getsize(corpus) > budget_bytes(VOCAB, DIM) and 4 * TOKENS > budget_bytes(VOCAB, DIM)
    script = f"""
import os
import wordembed
from wordembed.memory import resident_bytes
base = resident_bytes()
from wordembed import train_vectors
vectors = train_vectors({str(corpus)!r}, {str(tmp_path / "v.bin")!r}, dim={DIM}, min_count=5, epochs=1,
                        threads=2, max_vocab_size=200_000, log=open(os.devnull, "w"))
print(len(vectors), base, resident_bytes(peak=True))
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    vocab_size, base, peak = map(int, run.stdout.split())
    assert VOCAB * 0.99 <= vocab_size <= VOCAB  # the hapaxes were counted and dropped
    budget = budget_bytes(vocab_size, DIM)
    assert peak - base <= budget, (f"training grew the process by {(peak - base) / MB:.0f} MB, over the budget "
                                   f"of {budget / MB:.0f} MB")
