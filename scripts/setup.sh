#!/usr/bin/env bash
# Sets up a fresh Linux machine for wordembed: a virtual environment in .venv with the pinned
# requirements, and the compiled extension built in place (CPU always, CUDA when torch has CUDA
# and nvcc is found). Safe to run again: it reinstalls only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
# Skip the (slow) dependency step when requirements.txt has not changed since the last install.
stamp=.venv/.requirements.sha256
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
    sha256sum requirements.txt > "$stamp"
fi
# No build isolation: the extension must be compiled against the torch it will run with.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation --no-deps -e .
.venv/bin/python -c "import wordembed.ops, torch; print('wordembed ready: torch', torch.__version__, \
'| CUDA kernels built:', torch._C._dispatch_has_kernel_for_dispatch_key('wordembed::context_sum', 'CUDA'))"
