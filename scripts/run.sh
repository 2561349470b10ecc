#!/usr/bin/env bash
# Sets up (scripts/setup.sh), gets a real English corpus (the GCIDE dictionary, from the Debian
# package dict-gcide), trains CBOW vectors on it, and prints neighbours and the analogy score.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f /usr/share/dictd/gcide.dict.dz ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -q && $SUDO apt-get install -y -q dict-gcide
fi
exec .venv/bin/python examples/train_gcide.py "$@"
