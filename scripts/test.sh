#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite, then the operator and trainer tests
# again on a build with AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize.sh;
# WORDEMBED_SANITIZE=0 skips that part), then installs the package into a fresh virtual
# environment both ways pip can (scripts/check_install.sh; WORDEMBED_INSTALL_CHECK=0 skips it).
# CUDA tests are skipped, with the reason shown, on a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest tests -rs "$@"
if [ "${WORDEMBED_SANITIZE:-1}" != "0" ]; then
    bash scripts/sanitize.sh
fi
if [ "${WORDEMBED_INSTALL_CHECK:-1}" != "0" ]; then
    bash scripts/check_install.sh
fi
