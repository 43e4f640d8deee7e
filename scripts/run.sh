#!/usr/bin/env bash
# Builds NeedlePlan (installing missing Debian packages first) and runs the main job on the
# sample lumbar phantom that the build generates:
#   - with a display: the workstation opens on the phantom with a target already planned;
#   - without one: the headless plan and report. needleplan-cli plans bilateral L4 medial branch
#     blocks and L5 dorsal ramus blocks, prints the ranked trajectories, writes the plans, and the
#     workstation writes a screenshot under Xvfb.
# Outputs of the headless run go to build/release/run/ (or $NP_BUILD_DIR/run/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/setup.sh"
build_dir=${NP_BUILD_DIR:-$root/build/release}
cli="$build_dir/app/cli/needleplan-cli"
gui="$build_dir/app/gui/needleplan"
phantom="$build_dir/sample-data/phantom"

if [ -n "${DISPLAY:-}" ] && [ -x "$gui" ]; then
  exec "$gui" "$@"
fi

out="$build_dir/run"
mkdir -p "$out"
echo "run: no display; planning the sample phantom headless (outputs in $out)"
"$cli" info "$phantom/dicom"
"$cli" plan --image "$phantom/dicom" --structures "$phantom/structures.seg.nrrd" \
  --targets "$phantom/targets.json" --preset lumbar-mbb \
  --target-name "L4 medial branch left (SAP-TP junction)" \
  --target-name "L4 medial branch right (SAP-TP junction)" \
  --out "$out/L4-medial-branch.needleplan.json"
"$cli" plan --image "$phantom/dicom" --structures "$phantom/structures.seg.nrrd" \
  --targets "$phantom/targets.json" --preset l5-dorsal-ramus \
  --target-name "L5 dorsal ramus left" --target-name "L5 dorsal ramus right" \
  --out "$out/L5-dorsal-ramus.needleplan.json"
if [ -x "$gui" ]; then
  xvfb-run -a -s "-screen 0 1600x1000x24" "$gui" "$phantom/dicom" \
    --plan "$out/L4-medial-branch.needleplan.json" --screenshot "$out/workstation.png"
fi
echo "run: done; plans and screenshot are in $out"
