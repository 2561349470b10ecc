"""The documentation: every `python` and `bash` block of the README and of docs/ runs as written,
page by page and in order, in a folder holding the sample the repository ships (docs/data/), with
the installed `wordembed` command on the PATH. A `console` block holds commands too long for a
test (set-up, benchmarks, launches of several processes), as does a `bash` block of the project's
scripts alone (CI runs those itself); a `text` block shows output. A block
of any other kind, or none, is a mistake; so is a console line that is not such a command."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

import markdown
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
RUN = {"python", "bash"}
SHOWN = {"console", "text"}
# a bash block of the set-up, main-job or test scripts alone: CI runs those itself
SCRIPTS_ONLY = re.compile(r"^(bash scripts/\S+\n)+$")
FENCE = re.compile(r"^```(\S*)\n(.*?)^```\s*$", re.S | re.M)
# what a console block may hold: the set-up, tests and benchmark scripts, pip, apt and torchrun
CONSOLE_COMMAND = re.compile(r"^(bash (scripts|benchmarks)/|pip install |sudo apt-get |apt-get |\.venv/bin/python (benchmarks|"
                             r"examples)/|python (benchmarks|examples)/|torchrun |\.venv/bin/torchrun |#|\s|$)")


def blocks(page):
    """(language, code) of every fenced block, in order; a code block without a language (an
    indented one) is refused, as the site's own Markdown renders the page."""
    text = page.read_text()
    html = markdown.markdown(text, extensions=["fenced_code", "tables"])
    unmarked = [m.group(0)[:80] for m in re.finditer(r"<pre><code>.*?</code>", html, re.S)]
    assert not unmarked, f"{page.name}: a code block without a language: {unmarked[0]!r}"
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def name(page):
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_block_is_fenced_with_a_language_and_console_lines_are_commands(page):
    for language, code in blocks(page):
        assert language in RUN | SHOWN, f"{name(page)}: a block marked {language!r}"
        if language == "console":
            for line in code.splitlines():
                assert CONSOLE_COMMAND.match(line), f"{name(page)}: {line!r} is not a set-up or benchmark command"


@pytest.mark.parametrize("page", [p for p in PAGES if any(lang in RUN for lang, _ in blocks(p))], ids=name)
def test_every_example_runs_as_written(page, tmp_path):
    shutil.copytree(ROOT / "docs" / "data", tmp_path / "docs" / "data")
    env = {**os.environ, "PATH": f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MPLBACKEND": "Agg"}
    for number, (language, code) in enumerate(blocks(page), 1):
        if language not in RUN or SCRIPTS_ONLY.match(code):
            continue
        command = [sys.executable, "-c", code] if language == "python" else ["bash", "-euo", "pipefail", "-c", code]
        run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, f"{name(page)}, block {number} ({language}):\n{code}\n{run.stdout}\n{run.stderr}"


def run_marked_block(page, marker, folder):
    """The Python block after `<!-- marker -->` on a page, run as written in folder: its output."""
    block = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", (ROOT / page).read_text(), re.S)
    assert block, f"{page} lost its {marker}"
    run = subprocess.run([sys.executable, "-c", block.group(1)], cwd=folder, capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "error::UserWarning"}, timeout=600)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()


def test_the_model_example_prints_what_its_comments_say(tmp_path):
    lines = (ROOT / "docs" / "data" / "glosses.txt").read_text().splitlines()
    (tmp_path / "corpus.txt").write_text("".join(line.split(" ", 1)[1] + "\n" for line in lines))
    assert run_marked_block("docs/guides/pytorch.md", "model-example", tmp_path)[-1] == "torch.Size([2, 3])"


def test_the_classifier_example_prints_what_its_comments_say(tmp_path):
    lines = run_marked_block("docs/guides/classifier.md", "classifier-example", tmp_path)
    assert lines[0].startswith("(('__label__animal',), array([0.9") and lines[1] == "(2, 1.0, 1.0)"
    assert lines[2].startswith("torch.Size([1, 2]) ContextSum(")
