#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite. CUDA tests are skipped, with the
# reason shown, on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest tests -rs "$@"
