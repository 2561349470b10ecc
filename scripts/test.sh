#!/usr/bin/env bash
# What CI runs: sets up (scripts/setup.sh), runs the tests on two workers (the docs' examples
# among them), builds the docs site with warnings as errors (scripts/docs.sh), runs the tests of
# the native code again on a build with AddressSanitizer and UndefinedBehaviorSanitizer
# (scripts/sanitize.sh; WORDEMBED_SANITIZE=0 skips it), then installs the package into a fresh
# virtual environment both ways pip can (scripts/check_install.sh; WORDEMBED_INSTALL_CHECK=0
# skips it). CUDA tests are skipped, with the reason shown, on a machine without a GPU. Each
# part's time is printed at its end.
set -euo pipefail
cd "$(dirname "$0")/.."
timed() {  # $1: the part's name; the rest: its command
    local name=$1 start=$SECONDS
    shift
    "$@"
    echo "test.sh: $name took $((SECONDS - start)) s"
}
timed setup bash scripts/setup.sh
timed pytest .venv/bin/python -m pytest tests -n 2 -rs --durations=25 "$@"
timed docs bash scripts/docs.sh
if [ "${WORDEMBED_SANITIZE:-1}" != "0" ]; then
    timed sanitize bash scripts/sanitize.sh
fi
if [ "${WORDEMBED_INSTALL_CHECK:-1}" != "0" ]; then
    timed install-check bash scripts/check_install.sh
fi
