#!/usr/bin/env bash
# Builds NeedlePlan (installing missing Debian packages first) and runs every test.
# GUI tests need an X server: without $DISPLAY the tests run under Xvfb, started here.
#
# After the release tests, two more stages can run (switched on by environment variables):
#   NP_TEST_ASAN=1   the AddressSanitizer + UndefinedBehaviorSanitizer build (build/asan, no GUI) and
#                    its unit, integration and realdata tests
#   NP_TEST_FUZZ=1   the libFuzzer targets (scripts/fuzz.sh), NP_FUZZ_SECONDS each (default 20)
# Each stage prints how long it took.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_asan=${NP_TEST_ASAN:-0}
run_fuzz=${NP_TEST_FUZZ:-0}
export NP_SETUP_FUZZ=$run_fuzz # setup.sh installs clang's libFuzzer runtime only when needed

stage_start=$SECONDS
stage() { # stage NAME: prints the time since the previous stage
  echo "test: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

"$root/scripts/setup.sh"
stage "setup and release build"
build_dir=${NP_BUILD_DIR:-$root/build/release}
ctest_args=(--output-on-failure -j "${NP_JOBS:-2}" --timeout 600)
run_ctest() { # run_ctest BUILD_DIR ARGS...: under Xvfb when there is no display and GUI tests exist
  local dir=$1
  shift
  local gui_tests
  gui_tests=$(cd "$dir" && ctest -N -L gui 2> /dev/null | sed -n 's/^Total Tests: //p')
  if [ -z "${DISPLAY:-}" ] && [ "${gui_tests:-0}" -gt 0 ]; then
    echo "test: no display; running the tests under Xvfb"
    (cd "$dir" && xvfb-run -a -s "-screen 0 1280x1024x24" ctest "$@")
  else
    (cd "$dir" && ctest "$@")
  fi
}
status=0
run_ctest "$build_dir" "${ctest_args[@]}" "$@" || status=$?
stage "release tests"

if [ "$run_asan" = 1 ]; then
  asan_dir=${NP_ASAN_BUILD_DIR:-$root/build/asan}
  launcher=()
  if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNP_SANITIZE=ON -DNP_BUILD_GUI=OFF \
    -DNP_BUILD_BENCHMARKS=OFF "${launcher[@]}" > "$asan_dir.configure.log" 2>&1 ||
    { cat "$asan_dir.configure.log"; exit 1; }
  cmake --build "$asan_dir" -j "${NP_JOBS:-2}"
  stage "sanitizer build"
  # Sanitized code runs several times slower: generous per-test limit.
  run_ctest "$asan_dir" --output-on-failure -j "${NP_JOBS:-2}" --timeout 1200 -L 'unit|integration|realdata' ||
    status=$?
  stage "sanitizer tests (unit, integration, realdata)"
fi

if [ "$run_fuzz" = 1 ]; then
  NP_FUZZ_SECONDS=${NP_FUZZ_SECONDS:-20} NP_CLI="$build_dir/app/cli/needleplan-cli" "$root/scripts/fuzz.sh" ||
    status=$?
  stage "fuzzing (build and ${NP_FUZZ_SECONDS:-20} s per target)"
fi
exit "$status"
