"""Re-records tests/data/before_layers/hashes.json, which test_deterministic_results.py
checks: the digests of deterministic runs, and of the format-5 checkpoint there resumed. Run it
only when a change is meant to change the numbers (a kernel that draws or rounds
otherwise), and say so in the commit:

    .venv/bin/python tests/data/record_deterministic_hashes.py
"""
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "training"))
sys.path.insert(0, os.path.dirname(HERE))

from wordembed import train_vectors  # noqa: E402
from test_deterministic_results import DATA, RUNS, SETTINGS, digest  # noqa: E402


def main():
    hashes = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        shutil.copy(os.path.join(DATA, "corpus.txt"), corpus)
        for name, settings in sorted(RUNS.items()):
            hashes[name] = digest(train_vectors(corpus, os.path.join(tmp, name + ".bin"), **SETTINGS, **settings))
        shutil.copytree(os.path.join(DATA, "checkpoint"), os.path.join(tmp, "resumed.bin.work"))
        resumed = train_vectors(corpus, os.path.join(tmp, "resumed.bin"), resume=True, **SETTINGS,
                                **RUNS["skipgram_subwords"])
        hashes["skipgram_subwords_resumed"] = digest(resumed)
    with open(os.path.join(DATA, "hashes.json"), "w") as f:
        json.dump(hashes, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
