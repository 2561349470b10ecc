#!/usr/bin/env bash
# Sets up a fresh Linux machine for wordembed: a virtual environment in .venv with the pinned
# requirements, and the compiled extension built in place (CPU always, CUDA when torch has CUDA
# and nvcc is found). Safe to run again: it redoes only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# The dependency step is slow (torch is large): skip it while requirements.txt is unchanged.
stamp=.venv/.requirements.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    sha256sum requirements.txt > "$stamp"
fi
# No build isolation: the extension must be compiled against the torch it will run with.
# The compiler's output goes to .venv/build.log; setup.py's summary line is shown.
build() {
    if ! "$@" > .venv/build.log 2>&1; then
        tail -n 40 .venv/build.log
        echo "setup.sh: building the extension failed; the full log is in .venv/build.log" >&2
        exit 1
    fi
    grep -m1 "^ *wordembed: building" .venv/build.log || true
}
# A full (editable) install the first time and whenever setup.py or pyproject.toml changes (the
# latter names the command line entry point); otherwise recompile only what changed (objects are
# kept in build/).
setup_stamp=.venv/.setup.py.sha256
if ! .venv/bin/python -m pip show --quiet wordembed 2>/dev/null || ! sha256sum --status -c "$setup_stamp" 2>/dev/null; then
    build .venv/bin/python -m pip install -v --disable-pip-version-check --no-build-isolation --no-deps -e .
    sha256sum setup.py pyproject.toml > "$setup_stamp"
else
    build .venv/bin/python setup.py build_ext --inplace
fi
.venv/bin/python -c "import wordembed.ops, torch; print('wordembed ready: torch', torch.__version__, \
'| CUDA kernels built:', torch._C._dispatch_has_kernel_for_dispatch_key('wordembed::context_sum', 'CUDA'))"
