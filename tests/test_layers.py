"""The package's layers (wordembed/__init__.py): lower layers never import higher ones, the
vectors and the reference twin never need the compiled extension, and no module, class or
function outgrows what a reader takes in at once."""
import ast
import pathlib
import re
import subprocess
import sys

import pytest
ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wordembed"
PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "wordembed"
# Each layer and the layers it may import, lowest first: ops <- nn/text <- classify <- training <-
# distributed <- the entry points; vectors beside them, needing only text and the base modules.
BASE = {"base"}
MAY_IMPORT = {
    "base": BASE,
    "ops": BASE | {"ops"},
    "nn": BASE | {"ops", "nn"},
    "text": BASE | {"ops", "text"},  # the compiled counter and encoder, inside the functions that run them
    "vectors": BASE | {"text", "vectors"},
    "classify": BASE | {"ops", "nn", "text", "vectors", "classify"},  # a model on the ops, in fastText's files
    "training": BASE | {"ops", "nn", "text", "vectors", "classify", "training"},
    "distributed": BASE | {"ops", "nn", "text", "vectors", "classify", "training", "distributed"},
    "entry": BASE | {"ops", "nn", "text", "vectors", "classify", "training", "distributed", "entry"},
}
ROOT_MODULES = {"errors": "base", "fileio": "base", "memory": "base", "arguments": "base", "nn": "nn",
                "models": "nn", "reference": "nn", "train": "entry", "datasets": "entry", "__init__": "entry",
                "__main__": "entry", "_C": "ops"}
LIMITS = {"module": 400, "class": 250, "function": 80}


def layer_of(dotted):
    """The layer of a module named wordembed.a.b."""
    parts = dotted.split(".")[1:] or ["__init__"]
    if parts[0] in ("ops", "text", "vectors", "classify", "training", "distributed"):
        return parts[0]
    if parts[0] in ("cli", "fasttext"):
        return "entry"
    return ROOT_MODULES[parts[0]]


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield path, dotted, path.name == "__init__.py"


def imported(path, dotted, is_package):
    """Every wordembed module the file imports, at its top or inside a function."""
    package = dotted if is_package else dotted.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("wordembed"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("wordembed"):
                target = node.module
            else:
                continue
            if node.module is None:  # from . import x: x is a module, or a name of the package
                yield from (f"{target}.{alias.name}" if is_module(f"{target}.{alias.name}") else target
                            for alias in node.names)
            else:
                yield target


def is_module(dotted):
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or path.is_dir() or dotted == "wordembed._C"


def test_the_layer_table_names_every_module():
    for _, dotted, _ in modules():
        assert layer_of(dotted) in MAY_IMPORT, dotted


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for path, dotted, is_package in modules():
        layer = layer_of(dotted)
        for target in imported(path, dotted, is_package):
            if target != "wordembed" and layer_of(target) not in MAY_IMPORT[layer]:
                wrong.append(f"{dotted} ({layer}) imports {target} ({layer_of(target)})")
    assert not wrong, "\n".join(wrong)


def test_the_rule_sees_a_wrong_import():
    fake = PACKAGE / "text" / "vocab.py"
    names = list(imported(fake, "wordembed.text.vocab", False))
    assert "wordembed.text.pipeline" in names and "wordembed.text.sentences" in names
    assert layer_of("wordembed.training.trainer") not in MAY_IMPORT["text"]


@pytest.mark.parametrize("modules_imported", [
    "wordembed", "wordembed.vectors", "wordembed.reference", "wordembed.text.vocab, wordembed.text.corpus",
    "wordembed.training.config", "wordembed.vectors.plot, wordembed.vectors.evaluation"])
def test_these_never_load_the_compiled_extension(modules_imported):
    code = f"import sys, {modules_imported}; print('wordembed._C' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_no_module_class_or_function_outgrows_its_limit():
    # The command line's option table is split by command (cli/parser.py), so it needs no exception.
    over = []
    for path, dotted, _ in modules():
        source = path.read_text()
        if len(source.splitlines()) > LIMITS["module"]:
            over.append(f"{dotted}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            kind = "class" if isinstance(node, ast.ClassDef) else \
                "function" if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
            if kind and node.end_lineno - node.lineno + 1 > LIMITS[kind]:
                over.append(f"{dotted}.{node.name}: {kind} of {node.end_lineno - node.lineno + 1} lines")
    assert not over, "\n".join(over)


def cxx_functions(text):
    """(name, first line, length in lines) of every function body in C++ or CUDA source: a brace
    whose opening lines hold a parameter list, outside any other function (lambdas inside one
    count toward it), not a namespace, struct, class, enum or registration block."""
    found, stack, opening = [], [], []
    for number, line in enumerate(text.split("\n"), 1):
        code = re.sub(r'"(\\.|[^"\\])*"', '""', re.sub(r"//.*", "", line))
        for char in code:
            if char == "{":
                head = " ".join(opening + [code.split("{")[0]])
                scope = re.search(r"\b(namespace|struct|class|enum|union)\b|TORCH_LIBRARY|extern \"C\"|=\s*$", head)
                in_function = any(kind == "function" for kind, _, _ in stack)
                stack.append(("function" if "(" in head and not scope and not in_function else "block", number, head))
            elif char == "}":
                kind, start, head = stack.pop()
                if kind == "function":
                    names = re.findall(r"([\w:~]+)\s*\(", head)
                    found.append((names[0] if names else head.strip(), start, number - start + 1))
        stripped = code.strip()
        opening = (opening + [code])[-10:] if stripped and not stripped.endswith((";", "}", "{")) else []
    return found


def test_no_cxx_function_outgrows_its_limit():
    over = [f"{path.relative_to(ROOT)}:{start} {name}: {length} lines"
            for path in sorted((ROOT / "csrc").rglob("*")) if path.suffix in (".cpp", ".h", ".cu", ".cuh")
            for name, start, length in cxx_functions(path.read_text()) if length > LIMITS["function"]]
    assert not over, "\n".join(over)


def test_the_cxx_rule_sees_a_long_function():
    source = "namespace x {\nint f(int a,\n      int b) {\n" + "  a += b;\n" * 90 + "  return a;\n}\n}\n"
    assert [(name, length) for name, _, length in cxx_functions(source)] == [("f", 93)]


def test_the_public_names_stay_where_users_find_them():
    code = """
import wordembed
from wordembed import WordVectors, train_vectors, TrainConfig, VectorsFileError, FastTextFormatError
from wordembed import TrainingError, LostRankError
from wordembed.train import train_vectors as same
from wordembed.datasets import prepare_gcide
assert same is train_vectors and callable(wordembed.cli.main) and callable(wordembed.datasets.prepare_gcide)
assert wordembed.ops.context_sum and wordembed.nn.ContextSum and wordembed.models and wordembed.reference.context_sum
assert issubclass(LostRankError, TrainingError) and issubclass(VectorsFileError, ValueError)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
