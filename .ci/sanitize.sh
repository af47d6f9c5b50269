#!/usr/bin/env bash
# Sanitizer job: build the extension with AddressSanitizer + UndefinedBehaviorSanitizer
# (FASTMLP_SANITIZE=1, see setup.py) in a copy of the checkout under build/sanitize/, and
# run a stated subset of the suite against that build.  Exits non-zero on any sanitizer
# report, in the test process or in any process it starts (reports are also written to
# log files, checked at the end), and on any test failure.
#
# The subset (C code reached from each: every kernel, both training paths, the speed paths
# against the plain step, the files and the faults around them):
#   tests/test_kernels.py tests/test_training.py tests/test_sparse_fwd.py
#   tests/test_fused_rank1.py tests/test_ahead0.py tests/test_finite_check.py
#   tests/test_io.py tests/test_io_contract.py tests/test_io_faults.py
#   tests/test_signals.py tests/test_interrupt.py
# The kernel grids are large (thousands of cases of targets x dtypes x threads x shapes):
# of a file with more than SANITIZE_FULL (300) cases every SANITIZE_STRIDE-th (13, a prime,
# so no parameter cycle is aliased away) runs; the others run whole.  Override with
# SANITIZE_TESTS="tests/..." and SANITIZE_STRIDE=1 (e.g. SANITIZE_TESTS=tests
# SANITIZE_STRIDE=1 for the whole suite).
#
# CPython itself is not instrumented, so libasan is preloaded and leak detection is off
# (the interpreter keeps memory until exit by design); PYTHONMALLOC=malloc puts Python's
# own allocations under ASan's malloc so overruns of buffers shared with C are seen.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
root=$PWD
out=${SANITIZE_DIR:-$root/build/sanitize}
tests=${SANITIZE_TESTS:-"tests/test_kernels.py tests/test_training.py tests/test_sparse_fwd.py
  tests/test_fused_rank1.py tests/test_ahead0.py tests/test_finite_check.py tests/test_io.py
  tests/test_io_contract.py tests/test_io_faults.py tests/test_signals.py
  tests/test_interrupt.py"}
stride=${SANITIZE_STRIDE:-13}
full=${SANITIZE_FULL:-300}

cc=${CC:-gcc}
libasan=$("$cc" -print-file-name=libasan.so)
if [[ ! -e "$libasan" ]]; then
    echo "sanitize.sh: $cc has no libasan.so (install the compiler's sanitizer runtime)" >&2
    exit 2
fi

# 1. a copy of the sources (never the checkout's own in-place build), built with sanitizers;
#    modification times are kept, so a rerun rebuilds only what changed
rm -rf "$out/logs"
mkdir -p "$out/src" "$out/logs"
git ls-files -z -- fastmlp csrc tests setup.py pyproject.toml | \
    (cd "$root" && xargs -0 cp -p --parents -t "$out/src")
(cd "$out/src" && FASTMLP_SANITIZE=1 python setup.py build_ext --inplace -j2 \
    --build-temp "$out/tmp" > "$out/build.log" 2>&1) || {
    tail -30 "$out/build.log" >&2
    echo "sanitize.sh: the sanitizer build failed (log: $out/build.log)" >&2
    exit 2
}
built=$((SECONDS - start))

# 2. every sanitizer report fatal and logged (the extension cannot even be imported without
#    the preloaded runtime, so this holds for listing the cases too)
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=0:detect_stack_use_after_return=0:strict_init_order=1:log_path=$out/logs/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$out/logs/ubsan"
export PYTHONMALLOC=malloc
export PYTHONPATH="$out/src"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# 3. the cases: all of the small files, every stride-th of the big ones
# shellcheck disable=SC2086  # $tests is a list of paths
(cd "$out/src" && python -m pytest -q --co -p no:cacheprovider $tests > "$out/collect.log" 2>&1) \
    || { tail -20 "$out/collect.log" >&2; echo "sanitize.sh: collecting the tests failed" >&2;
         exit 2; }
grep '::' "$out/collect.log" > "$out/all-cases.txt"
python - "$out/all-cases.txt" "$stride" "$full" > "$out/cases.txt" <<'PY'
import collections, sys
ids = [line.strip() for line in open(sys.argv[1]) if line.strip()]
stride, full = int(sys.argv[2]), int(sys.argv[3])
by_file = collections.defaultdict(list)
for i in ids:
    by_file[i.split("::")[0]].append(i)
for f, cases in by_file.items():
    print("\n".join(cases if len(cases) <= full else cases[::stride]))
PY
echo "sanitize.sh: $(wc -l < "$out/cases.txt") of $(wc -l < "$out/all-cases.txt") cases" \
     "(every ${stride}th of files over $full cases)"

# 4. the tests
status=0
(cd "$out/src" && python -m pytest -q -x -p no:cacheprovider "@$out/cases.txt") || status=$?
unset LD_PRELOAD

reports=$(find "$out/logs" -type f | sort)
if [[ -n "$reports" ]]; then
    echo "sanitize.sh: sanitizer reports (first 60 lines of each):" >&2
    for f in $reports; do echo "== $f" >&2; head -60 "$f" >&2; done
    [[ $status == 0 ]] && status=1
fi
echo "sanitize.sh: build ${built} s, total $((SECONDS - start)) s; pytest status $status;" \
     "$(echo "$reports" | grep -c . || true) report file(s)"
exit "$status"
