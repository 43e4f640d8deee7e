#!/usr/bin/env bash
# Installs the Debian packages NeedlePlan needs (only those missing), then configures and builds.
# Idempotent: a second run installs nothing and rebuilds only what changed.
# Environment: NP_BUILD_DIR (default build/release), NP_JOBS (default 2), NP_BUILD_TYPE (Release),
# NP_BUILD_TARGETS (default: everything).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(cmake make ninja-build g++ pkg-config
  libinsighttoolkit5-dev libvtk9-dev libdcmtk-dev
  qt6-base-dev libqt6opengl6-dev libgtest-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  xvfb xauth libgl1-mesa-dri libgdcm-tools zlib1g-dev
  dicom3tools poppler-utils dcmtk)
# The libFuzzer stage of scripts/test.sh (NP_SETUP_FUZZ=1) builds with clang and its runtime.
if [ "${NP_SETUP_FUZZ:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi
# The PACS tests start a private Orthanc on a loopback port (not the system service).
packages+=(orthanc)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

build_dir=${NP_BUILD_DIR:-$root/build/release}
mkdir -p "$(dirname "$build_dir")"
# ccache, when installed, makes a rebuild after a fresh clone (or in another checkout) cheap.
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${NP_BUILD_TYPE:-Release}" "${launcher[@]}" > "$build_dir.configure.log" 2>&1 \
  || { mkdir -p "$build_dir"; cat "$build_dir.configure.log"; echo "setup: cmake configure failed"; exit 1; }
# NP_BUILD_TARGETS: build only these targets (scripts/test.sh: what the release stage runs).
targets=()
for target in ${NP_BUILD_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "${NP_JOBS:-2}" "${targets[@]}"
