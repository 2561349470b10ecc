#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no network (torch, numpy and pytest are
# all it needs; gensim is optional). Builds the extension from source, runs the whole test suite
# (every CUDA test included), the operator benchmark on the GPU, and CBOW training on the GPU
# beside the CPU on the same corpus; prints a short table last. Meant to fit in 8 minutes on an
# H100.
#
#   bash benchmarks/gpu_check.sh CORPUS [EVAL_DIR]
#
# CORPUS: a text file prepared beforehand (for example data/gcide-entries.txt from scripts/run.sh).
# EVAL_DIR: a folder holding questions-words.txt, wordsim353.tsv and simlex999.txt (copied from
# gensim's test data); without it, quality is scored only where gensim is installed.
set -uo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:?usage: bash benchmarks/gpu_check.sh CORPUS [EVAL_DIR]}
EVAL_DIR=${2:-}
LOG=${OUT:-/tmp}/gpu_check
mkdir -p "$LOG"
PY=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
status=()

step() {  # step NAME COMMAND...: runs it, logs it, remembers how it ended
    local name=$1; shift
    local start=$SECONDS
    echo "== $name: $*"
    "$@" 2>&1 | tee "$LOG/$name.log"
    local rc=${PIPESTATUS[0]}
    status+=("$(printf '%-12s %-6s %4ss' "$name" "$([ "$rc" = 0 ] && echo ok || echo FAILED)" $((SECONDS - start)))")
    return "$rc"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
# Build for the GPU in hand only: much faster than every architecture.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$($PY -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")}
step build "$PY" setup.py build_ext --inplace || { printf '%s\n' "${status[@]}"; exit 1; }
"$PY" -c "import torch, wordembed.ops; assert torch._C._dispatch_has_kernel_for_dispatch_key('wordembed::context_sum', 'CUDA'), 'no CUDA kernels built'"
step tests "$PY" -m pytest tests -q -rs -p no:cacheprovider
step bench_op "$PY" benchmarks/bench_op.py --device cuda --min-time 0.3
eval_args=()
if [ -n "$EVAL_DIR" ]; then
    eval_args=(--analogies "$EVAL_DIR/questions-words.txt" --wordsim "$EVAL_DIR/wordsim353.tsv" --simlex "$EVAL_DIR/simlex999.txt")
fi
step train "$PY" benchmarks/bench_train.py --corpus "$CORPUS" --systems wordembed wordembed-cuda \
    --threads "$(nproc)" "${eval_args[@]}"

echo
echo "== summary (logs in $LOG)"
printf '%s\n' "${status[@]}"
grep -h -A3 "^summary:" "$LOG/bench_op.log" | tail -n +2
grep -h -E "^(wordembed|wordembed-cuda) |^wordembed-cuda vs" "$LOG/train.log"
! printf '%s\n' "${status[@]}" | grep -q FAILED
