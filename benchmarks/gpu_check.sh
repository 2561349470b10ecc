#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU and no network (torch, numpy and pytest are
# all it needs; gensim is optional). Builds the extension from source for the card in hand, runs
# every CUDA test, compute-sanitizer's memcheck and racecheck over the CUDA operator and trainer
# tests, the operator benchmark on the GPU, and training on the GPU beside the CPU (and gensim,
# when it is installed) on the same corpus; prints a short table last. Each step has a time limit,
# so that the whole check fits in about 7 minutes on an H100.
#
#   bash benchmarks/gpu_check.sh CORPUS [EVAL_DIR]
#
# CORPUS: a text file prepared beforehand (for example data/gcide-entries.txt from scripts/run.sh),
# or the same gzipped. EVAL_DIR: a folder holding questions-words.txt, wordsim353.tsv and
# simlex999.txt (copied from gensim's test data); without it, quality is scored only where gensim
# is installed. Wheels in .whl/ (gensim, smart_open, fastText) are installed first when present.
# GPU_CHECK_STEPS (default: all of "tests memcheck racecheck bench_op train") picks the steps.
set -uo pipefail
IMAGE_CC="${CC:-} ${CXX:-}"
cd "$(dirname "$0")/.."
CORPUS=${1:?usage: bash benchmarks/gpu_check.sh CORPUS [EVAL_DIR]}
EVAL_DIR=${2:-}
STEPS=" ${GPU_CHECK_STEPS:-tests memcheck racecheck bench_op train} "
LOG=${OUT:-/tmp}/gpu_check
mkdir -p "$LOG"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
status=()

step() {  # step NAME SECONDS COMMAND...: runs it under a time limit, logs it, remembers how it ended
    local name=$1 limit=$2; shift 2
    local start=$SECONDS
    echo "== $name (limit ${limit}s): $*"
    timeout --kill-after=10 "$limit" "$@" > "$LOG/$name.log" 2>&1
    local rc=$?
    tail -n 25 "$LOG/$name.log"
    local how=ok
    [ "$rc" = 0 ] || how=FAILED
    [ "$rc" = 124 ] && how=TIMEOUT
    status+=("$(printf '%-10s %-7s %4ss' "$name" "$how" $((SECONDS - start)))")
    return "$rc"
}
wanted() { [[ "$STEPS" == *" $1 "* ]]; }

if compgen -G ".whl/*.whl" > /dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [[ "$CORPUS" == *.gz ]]; then
    gunzip -c "$CORPUS" > /tmp/corpus.txt && CORPUS=/tmp/corpus.txt
fi

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
# The system's compilers, whatever CC and CXX the image sets: on the lent H100 the
# image's /opt/gcc compilers built an extension whose every error message crashed: a segfault in
# libstdc++'s stream code, which gdb placed inside the extension itself.
export CC=${GPU_CHECK_CC:-gcc} CXX=${GPU_CHECK_CXX:-g++}
echo "compilers: $CC ($($CC -dumpfullversion)), $CXX; CC/CXX of the image: ${IMAGE_CC:-unset}"
# Build for the GPU in hand only: much faster than every architecture.
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$($PY -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")}
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
step build 240 "$PY" setup.py build_ext --inplace || { printf '%s\n' "${status[@]}"; exit 1; }
ldd wordembed/_C*.so | grep -E "stdc|gcc_s" || true
"$PY" -c "import torch, wordembed.ops; assert torch._C._dispatch_has_kernel_for_dispatch_key('wordembed::context_sum', 'CUDA'), 'no CUDA kernels built'" \
    || exit 1

# Every test with a CUDA case; the CPU cases are CI's.
# With pytest-xdist, a test that crashes its worker is reported and the others still run.
xdist=()
"$PY" -c "import xdist" 2> /dev/null && xdist=(-n 8)
wanted tests && step tests 200 "$PY" -m pytest tests -q -rfEs -p no:cacheprovider -k "cuda or gpu" "${xdist[@]}"
# The sanitizers slow every kernel launch a hundredfold: the small operator and trainer tests only.
sanitized=(tests/ops/test_context_sum.py tests/ops/test_ns_train.py -q -p no:cacheprovider
           -k "cuda and not compile and not real_settings and not gradcheck")
wanted memcheck && step memcheck 120 compute-sanitizer --tool memcheck --error-exitcode 1 \
    "$PY" -m pytest "${sanitized[@]}"
wanted racecheck && step racecheck 100 compute-sanitizer --tool racecheck --error-exitcode 1 \
    "$PY" -m pytest "${sanitized[@]}"
wanted bench_op && step bench_op 90 "$PY" benchmarks/bench_op.py --device cuda --min-time 0.2
eval_args=()
if [ -n "$EVAL_DIR" ]; then
    eval_args=(--analogies "$EVAL_DIR/questions-words.txt" --wordsim "$EVAL_DIR/wordsim353.tsv" --simlex "$EVAL_DIR/simlex999.txt")
fi
train_systems=(wordembed wordembed-cuda)
"$PY" -c "import gensim" 2> /dev/null && train_systems+=(gensim)
wanted train && step train 150 "$PY" benchmarks/bench_train.py --corpus "$CORPUS" --systems "${train_systems[@]}" \
    --threads "$(nproc)" "${eval_args[@]}"

echo
echo "== summary (logs in $LOG)"
printf '%s\n' "${status[@]}"
[ -f "$LOG/tests.log" ] && tail -n 1 "$LOG/tests.log"
[ -f "$LOG/bench_op.log" ] && grep -h -A3 "^summary:" "$LOG/bench_op.log" | tail -n +2
[ -f "$LOG/train.log" ] && grep -h -E "^(wordembed|wordembed-cuda|gensim) |vs" "$LOG/train.log"
! printf '%s\n' "${status[@]}" | grep -q -E "FAILED|TIMEOUT"
