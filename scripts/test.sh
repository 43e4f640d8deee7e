#!/usr/bin/env bash
# Builds NeedlePlan (installing missing Debian packages first) and runs every test.
# GUI tests need an X server: without $DISPLAY the tests run under Xvfb, started here.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${NP_BUILD_DIR:-$root/build/release}
cd "$build_dir"
ctest_args=(--output-on-failure -j "${NP_JOBS:-2}" --timeout 600)
gui_tests=$(ctest -N -L gui 2>/dev/null | sed -n 's/^Total Tests: //p')
if [ -z "${DISPLAY:-}" ] && [ "${gui_tests:-0}" -gt 0 ]; then
  echo "test: no display; running the tests under Xvfb"
  exec xvfb-run -a -s "-screen 0 1280x1024x24" ctest "${ctest_args[@]}" "$@"
fi
exec ctest "${ctest_args[@]}" "$@"
