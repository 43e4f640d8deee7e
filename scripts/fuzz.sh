#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset `fuzz`: clang, ASan, UBSan) and runs each for a bounded
# time on its corpus. Seeds come from ../shared/data/realdicom (when present), the sample phantom,
# the presets and fuzz/seeds; corpora grow in build/<preset>/corpus/<target> and are kept between runs.
#
#   scripts/fuzz.sh                  # every target, NP_FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh LabelMapFuzzer   # one target
#
# Environment: NP_FUZZ_PRESET (fuzz or sanitize: the CMake preset and build/<preset> folder),
# NP_FUZZ_SECONDS (per target), NP_FUZZ_JOBS (parallel fuzzing processes per target, default 1),
# NP_FUZZ_PARALLEL (targets fuzzed at the same time, default 1), NP_FUZZ_SEED (libFuzzer's -seed: a
# fixed value makes a run repeat the same mutations; default random), NP_FUZZ_RUNS ("Target=N ...":
# a fixed number of inputs for those targets, NP_FUZZ_SECONDS being the cap), NP_FUZZ_RSS_MB (memory limit
# per input, default 2048), NP_FUZZ_BUILD_ONLY=1 (build and seed only). Exit status 1 when a target found a crash, leak or timeout; its reproducer is in
# build/<preset>/artifacts/<target>/ (rerun: build/<preset>/fuzz/<target> ARTIFACT).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${NP_FUZZ_SECONDS:-60}
jobs=${NP_FUZZ_JOBS:-1}
rss=${NP_FUZZ_RSS_MB:-2048}
parallel=${NP_FUZZ_PARALLEL:-1}
seed_args=()
if [ -n "${NP_FUZZ_SEED:-}" ]; then seed_args=(-seed="$NP_FUZZ_SEED"); fi
# NP_FUZZ_RUNS="Target=N ...": those targets stop after N inputs (libFuzzer's -runs), NP_FUZZ_SECONDS
# then being only a cap. With a fixed seed such a run tries the same inputs on any machine, fast or
# slow, so a CI run's verdict does not depend on the machine's speed.
runs_of() { # runs_of TARGET: its N from NP_FUZZ_RUNS, or nothing
  local entry
  for entry in ${NP_FUZZ_RUNS:-}; do
    if [ "${entry%%=*}" = "$1" ]; then echo "${entry#*=}"; return; fi
  done
}
# NP_FUZZ_PRESET=sanitize uses the build of scripts/test.sh's sanitizer stage (tests and fuzzers in one).
preset=${NP_FUZZ_PRESET:-fuzz}
case $preset in
  fuzz | sanitize) ;;
  *) echo "fuzz: NP_FUZZ_PRESET must be fuzz or sanitize, not \"$preset\"" >&2; exit 2 ;;
esac
build=$root/build/$preset

launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake --preset "$preset" "${launcher[@]}" > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "${NP_JOBS:-2}" --target np_fuzzers

targets=(DicomScannerFuzzer DicomPixelFuzzer SegImportFuzzer RtStructImportFuzzer LabelMapFuzzer
  PlanDocumentFuzzer PresetFuzzer TargetCatalogueFuzzer ProjectionImageFuzzer)
if (($#)); then targets=("$@"); fi

# Seeds: small files only (libFuzzer's default -max_len is derived from them; big seeds slow it down).
shared=${NP_SHARED_DATA_DIR:-$root/../shared/data}
phantom=$build/seed-phantom
cli=${NP_CLI:-$root/build/release/app/cli/needleplan-cli}
if [ ! -d "$phantom/dicom" ] && [ -x "$cli" ]; then
  "$cli" phantom --out "$phantom" --size 24,18,8 --spacing 6,6,8 > /dev/null
  "$cli" plan --image "$phantom/dicom" --structures "$phantom/structures.seg.nrrd" --targets "$phantom/targets.json" \
    --target-name all --directions 200 --top 2 --out "$phantom/plan.needleplan.json" > /dev/null 2>&1 || true
fi
seed() { # seed TARGET FILE [PREFIX-BYTE]
  local dir=$build/corpus/$1 name
  mkdir -p "$dir"
  [ -f "$2" ] || return 0
  [ "$(stat -c %s "$2")" -le 1048576 ] || return 0
  name=$(basename "$2" | tr -c 'A-Za-z0-9._-' '_')
  if [ -n "${3:-}" ]; then
    { printf "\\x$3"; cat "$2"; } > "$dir/seed-$name"
  else
    cp "$2" "$dir/seed-$name"
  fi
}
for target in "${targets[@]}"; do
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target"
done
while IFS= read -r -d '' file; do
  seed DicomScannerFuzzer "$file"
  seed DicomPixelFuzzer "$file"
done < <(find "$shared/realdicom" "$phantom/dicom" -type f ! -name '*.md' -size -1024k -print0 2> /dev/null | head -z -n 60)
while IFS= read -r -d '' file; do
  seed ProjectionImageFuzzer "$file"
done < <(find "$shared/realdicom" "$phantom/dicom" -type f ! -name '*.md' -size -1024k -print0 2> /dev/null | head -z -n 60)
while IFS= read -r -d '' file; do seed SegImportFuzzer "$file"; done < <(find "$shared/realdicom" -type f -path '*seg*' -print0 2> /dev/null)
while IFS= read -r -d '' file; do seed RtStructImportFuzzer "$file"; done < <(find "$shared/realdicom" -type f -path '*rtstruct*' -print0 2> /dev/null)
seed LabelMapFuzzer "$phantom/structures.seg.nrrd" 00
# Projection images: besides the DICOM files above, a 3-frame XA cine with per-frame angles rendered
# from the small phantom.
if [ ! -f "$phantom/sweep.dcm" ] && [ -x "$cli" ]; then
  "$cli" drr --image "$phantom/dicom" --primary 0 --secondary 10 --sweep-primary=-30:30:3 --size 32 --out "$phantom/sweep.dcm" > /dev/null 2>&1 || true
fi
seed ProjectionImageFuzzer "$phantom/sweep.dcm"
for file in fuzz/seeds/label*.seed; do seed LabelMapFuzzer "$file"; done
seed PlanDocumentFuzzer "$phantom/plan.needleplan.json"
for file in planning/presets/*.json; do seed PresetFuzzer "$file"; done
seed TargetCatalogueFuzzer "$phantom/targets.json"
for file in tests/data/crashers/*; do
  case $file in
    *.dcm) seed DicomScannerFuzzer "$file" ;;
    *.needleplan.json) seed PlanDocumentFuzzer "$file" ;;
    *targets*.json) seed TargetCatalogueFuzzer "$file" ;;
    *.nrrd) seed LabelMapFuzzer "$file" 00 ;;
  esac
done
[ "${NP_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

dictionary() {
  case $1 in
    Dicom* | Seg* | RtStruct* | Projection*) echo fuzz/dict/dicom.dict ;;
    LabelMap*) echo fuzz/dict/image.dict ;;
    *) echo fuzz/dict/json.dict ;;
  esac
}
# Toolkit-internal leaks only (tests/lsan.supp), as for the sanitizer tests.
export LSAN_OPTIONS="${LSAN_OPTIONS:-}:suppressions=$root/tests/lsan.supp:print_suppressions=0"
fuzz_one() { # fuzz_one TARGET: runs it, writes its summary to logs/TARGET.summary, returns its exit status
  local target=$1 log=$build/logs/$1.log status=0 runs limit=()
  runs=$(runs_of "$target")
  if [ -n "$runs" ]; then limit=(-runs="$runs"); fi
  # -timeout: an input that takes longer than 25 s counts as a hang.
  (cd "$build/artifacts/$target" && "$build/fuzz/$target" "$build/corpus/$target" -dict="$root/$(dictionary "$target")" \
    -max_total_time="$seconds" -timeout=25 -rss_limit_mb="$rss" -max_len=262144 -jobs="$jobs" -workers="$jobs" \
    "${seed_args[@]}" "${limit[@]}" -artifact_prefix="$build/artifacts/$target/" -print_final_stats=1) > "$log" 2>&1 || status=$?
  # With -jobs, each worker's final statistics are in its fuzz-N.log, and libFuzzer also copies that
  # log into its own output when the worker ends: count the workers' logs only, or the main log when
  # there are none.
  local stats=("$build/artifacts/$target"/fuzz-*.log)
  [ -e "${stats[0]}" ] || stats=("$log")
  runs=$( (grep -ah 'stat::number_of_executed_units' "${stats[@]}" 2> /dev/null || true) |
    awk '{sum += $2} END {print sum + 0}')
  echo "fuzz: $target: $runs executions, exit $status" > "$build/logs/$target.summary"
  return "$status"
}
mkdir -p "$build/logs"
for target in "${targets[@]}"; do rm -f "$build/logs/$target.summary"; done
# Up to NP_FUZZ_PARALLEL targets at once (one core each); results are reported in the targets' order.
running=0
for target in "${targets[@]}"; do
  if ((running >= parallel)); then
    wait -n || true
    running=$((running - 1))
  fi
  runs=$(runs_of "$target")
  echo "fuzz: $target for ${runs:+$runs inputs, at most }${seconds}s"
  fuzz_one "$target" &
  running=$((running + 1))
done
wait || true
failed=()
for target in "${targets[@]}"; do
  summary=$(cat "$build/logs/$target.summary" 2> /dev/null || echo "fuzz: $target: no summary, exit 1")
  echo "$summary"
  if [ "${summary##* exit }" != 0 ]; then
    failed+=("$target")
    tail -n 30 "$build/logs/$target.log"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: crashes, leaks or hangs in: ${failed[*]} (reproducers in $build/artifacts/)"
  exit 1
fi
