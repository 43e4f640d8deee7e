#!/usr/bin/env bash
# Builds NeedlePlan (installing missing Debian packages first) and runs every test.
# GUI tests need an X server: without $DISPLAY the tests run under Xvfb, started here.
#
# Stages (each prints how long it took); 3 and 4 run with NP_TEST_SANITIZE=1:
#   1. set-up and the release build (scripts/setup.sh): the workstation, the CLI, the sample phantom,
#      the GUI tests and the benchmarks (built, not run);
#   2. the release tests: all of them, or, when the sanitizer stage runs, the GUI tests and the CLI
#      suites listed in tests/cli/CMakeLists.txt (np_cli_release_only_suites) that do not run sanitized;
#   3. the sanitizer build (CMake preset `sanitize`: clang, AddressSanitizer, UndefinedBehaviorSanitizer
#      and fuzzer coverage, no GUI) and the unit, integration and realdata tests under it;
#   4. every libFuzzer target on its corpus, from the same build, two targets at a time, with a fixed
#      libFuzzer seed (NP_FUZZ_SEED, default 1) and a fixed number of inputs per target (NP_FUZZ_RUNS,
#      about 10 s of work each on two cores; NP_FUZZ_SECONDS, default 60, is only a cap), so that a run
#      tries the same inputs on any machine.
# Stages 3 and 4 run by default; NP_TEST_SANITIZE=0 runs every test in the release build instead
# (stages 1 and 2), NP_TEST_FUZZ=0 skips stage 4. Arguments are passed to ctest and run only in the
# release build, e.g. `./scripts/test.sh -L unit` (no sanitizer stage then).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
run_sanitize=${NP_TEST_SANITIZE:-${NP_TEST_ASAN:-1}}
run_fuzz=${NP_TEST_FUZZ:-1}
if (($#)); then run_sanitize=0; fi # a ctest selection given by hand: the release build only
if [ "$run_sanitize" != 1 ]; then run_fuzz=0; fi
export NP_SETUP_FUZZ=$run_sanitize # setup.sh installs clang and its sanitizer/libFuzzer runtime only when needed

stage_start=$SECONDS
stage() { # stage NAME: prints the time since the previous stage
  echo "test: $1 took $((SECONDS - stage_start)) s"
  stage_start=$SECONDS
}

if [ "$run_sanitize" = 1 ]; then
  # The release build is for the workstation, its GUI tests, the CLI and the CLI tests that do not run
  # sanitized; the other test executables are built and run in the sanitizer stage. The benchmarks
  # are left to the main job's build (scripts/setup.sh builds everything): CI stays under 30 minutes.
  NP_BUILD_TARGETS=${NP_BUILD_TARGETS:-needleplan needleplan-cli np_gui_tests np_cli_integration_tests np_sample_phantom} \
    "$root/scripts/setup.sh"
else
  "$root/scripts/setup.sh"
fi
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
if [ "$run_sanitize" = 1 ]; then
  # The unit, integration and realdata tests run once, under the sanitizers (stage 3), except the CLI
  # suites that run here.
  run_ctest "$build_dir" "${ctest_args[@]}" -L gui || status=$?
  run_ctest "$build_dir" "${ctest_args[@]}" -R "$(cat "$build_dir/np-cli-release-only-tests.regex")" || status=$?
  stage "release tests (gui and the CLI suites not sanitized)"
else
  run_ctest "$build_dir" "${ctest_args[@]}" "$@" || status=$?
  stage "release tests"
fi

if [ "$run_sanitize" = 1 ]; then
  san_dir=$root/build/sanitize
  launcher=()
  if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  mkdir -p "$root/build"
  (cd "$root" && cmake --preset sanitize "${launcher[@]}") > "$san_dir.configure.log" 2>&1 ||
    { cat "$san_dir.configure.log"; exit 1; }
  cmake --build "$san_dir" -j "${NP_JOBS:-2}"
  stage "sanitizer build (clang, ASan, UBSan; tests and fuzz targets)"
  # Sanitized code runs several times slower: generous per-test limit.
  run_ctest "$san_dir" --output-on-failure -j "${NP_JOBS:-2}" --timeout 1200 -L 'unit|integration|realdata' ||
    status=$?
  stage "sanitizer tests (unit, integration, realdata)"
fi

if [ "$run_fuzz" = 1 ]; then
  # Inputs per target: about 10 s of work each for the sanitized targets on two cores.
  default_runs="DicomScannerFuzzer=8000 DicomPixelFuzzer=6500 SegImportFuzzer=450 RtStructImportFuzzer=9000
    LabelMapFuzzer=3200 PlanDocumentFuzzer=12000 PresetFuzzer=85000 TargetCatalogueFuzzer=100000
    ProjectionImageFuzzer=9000"
  NP_FUZZ_PRESET=sanitize NP_FUZZ_SECONDS=${NP_FUZZ_SECONDS:-60} NP_FUZZ_RUNS=${NP_FUZZ_RUNS:-$default_runs} \
    NP_FUZZ_PARALLEL=${NP_FUZZ_PARALLEL:-${NP_JOBS:-2}} NP_FUZZ_SEED=${NP_FUZZ_SEED:-1} \
    NP_CLI="$build_dir/app/cli/needleplan-cli" "$root/scripts/fuzz.sh" || status=$?
  stage "fuzzing (a fixed number of inputs per target)"
fi
exit "$status"
