#!/usr/bin/env bash
# Installs wordembed as a user would, into a fresh virtual environment, both ways pip offers:
# `pip install --no-build-isolation .` (a wheel in site-packages) and the editable
# `pip install --no-build-isolation -e .`, each followed by an import, the operator and a short
# `wordembed train` + `wordembed similar` run from outside the source tree. The toolchain is the
# one that broke editable installs before pyproject.toml (pip as `venv` gives it, setuptools and
# wheel as pinned in requirements.txt). The source is copied first, so the working tree's own
# build is not touched; the extension is built CPU-only here (setup.sh builds the CUDA one).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$tmp/src"
"$PYTHON" -m venv "$tmp/venv"
py="$tmp/venv/bin/python"
pip() { "$py" -m pip --disable-pip-version-check "$@"; }
echo "check_install: $("$py" -m pip --version | cut -d' ' -f1-2), installing the build tools and torch"
pip install --quiet -c requirements.txt setuptools wheel ninja torch numpy
export WORDEMBED_CPU_ONLY=1

smoke() {  # $1: where the package must be imported from
    (cd "$tmp" && printf 'a b c d\nb c d a\nc d a b\n%.0s' $(seq 200) > corpus.txt &&
     "$py" - "$1" <<'PY'
import sys, torch, wordembed, wordembed.ops
assert wordembed.__file__.startswith(sys.argv[1]), f"imported from {wordembed.__file__}, not {sys.argv[1]}"
out = wordembed.ops.context_sum(torch.ones(4, 3), torch.tensor([[0, 1, -1]]), "mean")
assert torch.equal(out, torch.ones(1, 3)), out
PY
     "$tmp/venv/bin/wordembed" train corpus.txt -o v.txt --dim 8 --epochs 1 --min-count 1 > train.log 2>&1 &&
     "$tmp/venv/bin/wordembed" similar v.txt a --topn 2 > similar.log &&
     rm -f v.txt corpus.txt) || { cat "$tmp"/*.log 2>/dev/null; echo "check_install: $2 FAILED" >&2; exit 1; }
    echo "check_install: $2: import, operator, train and similar work"
}

# pip's default, an isolated build, has no torch to compile against: it must stop with the fix
if isolated=$(pip install --quiet "$tmp/src" 2>&1); then
    echo "check_install: an isolated build should have stopped" >&2; exit 1
fi
grep -q "building needs the torch it will run with" <<< "$isolated" || { echo "$isolated"; echo "check_install: no clear message" >&2; exit 1; }
echo "check_install: pip install . (isolated) stops and says to use --no-build-isolation"
pip install --quiet -c requirements.txt --no-build-isolation "$tmp/src"
smoke "$tmp/venv/lib" "pip install --no-build-isolation ."
pip uninstall --quiet --yes wordembed
# The editable install compiles in the same build/ folder: the objects of the install above are
# reused (the same sources and flags), and the import check below still proves that the package
# is the source tree's
pip install --quiet -c requirements.txt --no-build-isolation -e "$tmp/src"
smoke "$tmp/src/wordembed" "pip install --no-build-isolation -e ."
