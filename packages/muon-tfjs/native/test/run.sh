#!/usr/bin/env bash
# Builds the engine's test program (engine_test.cc with native/src's plain C++, no Node, no N-API)
# with the system compiler and runs it: over OpenBLAS alone, and also over oneDNN where a program
# using it compiles and links here (the probe of native/build.mjs; MUON_TFJS_ONEDNN=0 skips it).
# The flags are binding.gyp's (-O3, C++17, no fused multiply-add), so that the test runs the
# arithmetic the addon runs. The two builds compile at once; each runs when built.
# Usage: native/test/run.sh [output directory, default native/build/engine-test]
set -euo pipefail
native="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$native/build/engine-test}"
mkdir -p "$out"
cxx="${CXX:-c++}"
sources=(newton_schulz.cc fused_muon_step.cc fused_dion2_step.cc worker_pool.cc engine.cc machine_load.cc gram_spectrum.cc products.cc)
paths=("${sources[@]/#/$native/src/}")
flags=(-std=c++17 -O3 -ffp-contract=off -Wall -Wextra -Werror -pthread -I"$native/src")

# build NAME [extra flags, then libraries after the sources]: its log in $out/NAME.log.
build() {
  local name="$1"
  shift
  "$cxx" "${flags[@]}" "${paths[@]}" "$native/test/engine_test.cc" "$@" -lopenblas -o "$out/engine_test_$name" >"$out/$name.log" 2>&1
}

onednn=0
if [ "${MUON_TFJS_ONEDNN:-}" != 0 ] &&
  printf '#include <oneapi/dnnl/dnnl.hpp>\n#include <omp.h>\nint main() { omp_set_num_threads(1); return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::all ? 1 : 0; }\n' |
  "$cxx" -x c++ -std=c++17 - -o "$out/onednn_probe" -ldnnl -lgomp 2>/dev/null; then
  onednn=1
fi

build openblas &
openblas_build=$!
[ "$onednn" = 1 ] && { build onednn -DMUON_HAVE_ONEDNN -fopenmp -ldnnl -lgomp & onednn_build=$!; }
status=0
echo "== openblas"
if wait "$openblas_build"; then "$out/engine_test_openblas" || status=1; else cat "$out/openblas.log"; status=1; fi
if [ "$onednn" = 1 ]; then
  echo "== onednn"
  if wait "$onednn_build"; then "$out/engine_test_onednn" || status=1; else cat "$out/onednn.log"; status=1; fi
else
  echo "== onednn: skipped (oneDNN does not compile and link here, or MUON_TFJS_ONEDNN=0)"
fi
exit "$status"
