#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the main job. Until the trainer lands, that is the
# tutorial's CBOW trained with the fused operator beside the pure-PyTorch reference.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/tutorial_cbow.py "$@"
