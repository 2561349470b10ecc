"""wordembed's memory above the process after `import wordembed`, against its budget of
1.25 x (the two tables + 64 bytes per vocabulary word) + 64 MB, on the generated corpus of
tests/training/test_memory_budget.py (25 M tokens, 30,000 words, two million words seen once), trained
for one epoch with and without --max-vocab-size bounding the words held while counting.

    .venv/bin/python benchmarks/bench_memory.py
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from test_memory_budget import DIM, MB, budget_bytes, write_corpus  # noqa: E402

RUN = """
import os, sys
import wordembed
from wordembed.memory import resident_bytes
base = resident_bytes()
from wordembed import train_vectors
bound = None if sys.argv[3] == "none" else int(sys.argv[3])
vectors = train_vectors(sys.argv[1], sys.argv[2], dim={dim}, min_count=5, epochs=1, threads=2,
                        max_vocab_size=bound, log=open(os.devnull, "w"))
print(len(vectors), resident_bytes(peak=True) - base)
"""


def main():
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        write_corpus(corpus)
        print(f"corpus: {os.path.getsize(corpus) / MB:.0f} MB of text; dim {DIM}, 1 epoch, 2 threads")
        for bound in ("200000", "none"):
            run = subprocess.run([sys.executable, "-c", RUN.format(dim=DIM), corpus, os.path.join(tmp, "v.bin"), bound],
                                 capture_output=True, text=True)
            if run.returncode:
                raise SystemExit(run.stderr)
            words, growth = map(int, run.stdout.split())
            budget = budget_bytes(words, DIM)
            print(f"--max-vocab-size {bound:>7}: {words:,} words, grew {growth / MB:.0f} MB, budget {budget / MB:.0f} MB "
                  f"({'within' if growth <= budget else 'OVER'})")


if __name__ == "__main__":
    main()
