#!/usr/bin/env bash
# Builds the extension's CPU code with AddressSanitizer and UndefinedBehaviorSanitizer (in
# build/sanitize, apart from the normal build) and runs the tests that drive the native code on
# it: the operators', the corpus pipeline's, the labelled text's, the order of epochs, and
# end-to-end training of every objective.
# Any invalid read or write, use after free, overflow or undefined behaviour stops the run with a
# report. Usage: bash scripts/sanitize.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh > /dev/null
out=build/sanitize
rm -rf "$out/pkg"
mkdir -p "$out/pkg"
cp -r wordembed "$out/pkg/"
rm -f "$out"/pkg/wordembed/_C*.so
echo "sanitize.sh: building with -fsanitize=address,undefined (log in $out/build.log)"
if ! WORDEMBED_BUILD_SANITIZERS=1 WORDEMBED_CPU_ONLY=1 .venv/bin/python setup.py build_ext \
        --build-lib "$out/pkg" --build-temp "$out/tmp" > "$out/build.log" 2>&1; then
    tail -n 30 "$out/build.log"
    exit 1
fi
# Python is not built with the sanitizers: their runtimes must be loaded first. Python's own
# allocations are never freed at exit, so leak reports would be noise.
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONPATH="$PWD/$out/pkg"
root=$PWD
# From inside $out, so that neither pytest nor `python -m wordembed` in the tests' child processes
# finds the unsanitized checkout in the current folder.
cd "$out"
"$root/.venv/bin/python" -P -c "import wordembed; assert wordembed.__file__.startswith('$root/$out'), wordembed.__file__" \
    || { echo "sanitize.sh: the sanitized build is not the one imported" >&2; exit 1; }
exec "$root/.venv/bin/pytest" -c "$root/pytest.ini" --rootdir "$root" -p no:cacheprovider -q \
    "$root/tests/ops" "$root/tests/text/test_corpus_pipeline.py" "$root/tests/text/test_labelled_text.py" \
    "$root/tests/training/test_epoch_order.py" "$root/tests/training/test_deterministic_results.py" \
    "$root/tests/training/test_train_vectors.py" "$root/tests/classify/test_classifier.py" "$@"
