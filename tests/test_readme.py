"""The README's "Using the vectors in a PyTorch model" block runs as written."""
import os
import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_the_model_example_runs_as_written(tmp_path):
    text = README.read_text()
    block = re.search(r"<!-- readme-model-example -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README lost its model example"
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat\na dog ran after the cat\n" * 50)
    run = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "error::UserWarning"})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("torch.Size([2, 3])")
