#pragma once
/// The lumbar phantom the fluoroscopy GUI tests share (1.2 × 1.2 × 1.5 mm grid, prone), with the
/// L4 medial-branch target and a planned entry 25 mm left, 60 mm posterior and 10 mm cranial of it.
/// ctest runs each test in its own process, so the phantom is generated once per run: the first
/// process writes it to $NP_GUI_SHARED_DIR (a folder the ctest fixture creates empty and removes
/// at the end) under a file lock, the others read it. Without that variable (a test run by hand)
/// it is generated in the process.

#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

#include <memory>
#include <utility>

namespace np::test {

struct FluoroScene
{
    std::shared_ptr<imaging::Volume> ct;
    imaging::AttenuationVolume attenuation;
    Vec3 targetLps;
    Vec3 entryLps;
};

/// The shared scene (built on first use in this process).
const FluoroScene& fluoroScene();

/// A pinhole C-arm worked out by hand from DICOM PS3.3 C.8.7.5 (not the C-arm model under test):
/// detector direction v from the positioner angles, the source SOD before the isocentre, the
/// detector plane SID from the source, heads-up axes u (columns) and w (rows), square pixels of
/// `pitchMm` on a `size`² detector with the isocentre at its centre.
struct HandPinhole
{
    double primaryDeg = 0.0;
    double secondaryDeg = 0.0;
    double sidMm = 1000.0;
    double sodMm = 750.0;
    int size = 512;
    double pitchMm = 300.0 / 512;
    Vec3 isocenterLps;

    /// (column, row) of `pointLps`, zero-based pixel centres.
    std::pair<double, double> pixel(const Vec3& pointLps) const;
};

} // namespace np::test
