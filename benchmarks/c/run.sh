#!/usr/bin/env bash
# Build benchmarks/c/prof_step (float32 and float64) from csrc/ with setup.py's flags
# (-O3 -std=c11 -fno-math-errno, OpenMP, AVX2/AVX-512 flags for *_avx2.c / *_avx512.c) and run it.
#   benchmarks/c/run.sh [sizes] [batch] [threads] [steps] [target] [f32|f64]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/fastmlp-prof-step
mkdir -p "$out"
CFLAGS="-O3 -std=c11 -fno-math-errno -fopenmp-simd -Wall -Wno-unused-function -fopenmp -Icsrc"
objs=()
for src in $(find csrc -name "*.c" | sort); do
  extra=""
  case "$src" in
    *_avx2.c) extra="-mavx2 -mfma" ;;
    *_avx512.c) extra="-mavx512f -mavx512dq -mavx512vl -mavx512bw -mfma" ;;
  esac
  o="$out/$(echo "$src" | tr '/' '_').o"
  gcc $CFLAGS $extra -c "$src" -o "$o"
  objs+=("$o")
done
dt=${6:-f32}
if [ "$dt" = f64 ]; then def="-DT=double -DSFX(f)=f##_f64"; else def=""; fi
gcc $CFLAGS $def benchmarks/c/prof_step.c "${objs[@]}" -lm -o "$out/prof_step_$dt"
"$out/prof_step_$dt" "${1:-784-16-16-10}" "${2:-1}" "${3:-1}" "${4:-20000}" ${5:-}
