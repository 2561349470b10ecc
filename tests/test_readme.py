"""The README's Python blocks ("Using the vectors in a PyTorch model", "Text classification")
run as written."""
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


def test_the_classifier_example_runs_as_written(tmp_path):
    block = re.search(r"<!-- readme-classifier-example -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert block, "the README lost its classifier example"
    run = subprocess.run([sys.executable, "-c", block.group(1)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "error::UserWarning"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("(('__label__animal',), array([0.9") and lines[1] == "(2, 1.0, 1.0)"
    assert lines[2].startswith("torch.Size([1, 2]) ContextSum(")
