#pragma once
/// Finds needles in a post-insertion CT: metal voxels above an HU threshold that follows the
/// scanner's range, one robust line per needle (RANSAC, then an intensity-weighted least-squares
/// fit), the tip at sub-voxel precision where the metal's partial-volume profile falls to half,
/// and the entry where the line leaves the body. Every position is LPS mm in the CT's frame.

#include "needleplan/imaging/Vec3.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

class Volume;

/// Settings of needle detection; the defaults suit CT of steel needles of 18–25 G.
struct NeedleDetectionOptions
{
    /// Metal threshold in HU; empty: from the scanner's range (see metalThresholdForRange).
    std::optional<float> metalThresholdHu;
    float bodyThresholdHu = -300.0f; ///< the body is above this (skin crossing)
    double minLengthMm = 10.0;       ///< shorter metal lines are not needles (clips, calcified dots)
    double maxGapMm = 8.0; ///< a line's metal may break up (thin needles, thick slices) by up to this
    int maxNeedles = 12;
    int ransacIterations = 400;
    std::uint32_t seed = 1; ///< RANSAC's random draws (the result is deterministic for a seed)
    /// What the CT would hold at an LPS point without the needle (e.g. the registered planning CT).
    /// The tip and axis weigh each voxel's excess over it. Empty: the background is the median of
    /// a ring around the axis at the same depth (less exact where bone walls flank the tip).
    std::function<double(const Vec3& pointLps)> backgroundHuAt;
};

/// One needle as found.
struct DetectedNeedle
{
    Vec3 tipLps;   ///< where the metal profile along the axis falls to half, sub-voxel
    Vec3 entryLps; ///< where the axis leaves the body (the proximal metal end when it does not)
    bool entryFound = false;
    Vec3 directionLps;             ///< unit, from the entry toward the tip
    Vec3 proximalEndLps;           ///< the metal's outer end (hub side), voxel precision
    double metalLengthMm = 0.0;    ///< proximal end to tip
    double insertedLengthMm = 0.0; ///< entry to tip
    int metalVoxels = 0;           ///< thresholded voxels assigned to this needle
    double rmsResidualMm = 0.0;    ///< RMS distance of those voxels' centres from the fitted axis
};

/// What was found, with what the detector noticed.
struct NeedleDetection
{
    float metalThresholdHu = 0.0f;
    float maximumHu = 0.0f;                 ///< largest value in the scan
    std::int64_t metalVoxels = 0;           ///< voxels at or above the threshold
    std::int64_t unassignedMetalVoxels = 0; ///< metal on no needle line (artefacts, implants)
    std::vector<DetectedNeedle> needles;    ///< longest first
    std::vector<std::string> warnings;
};

/// Threshold for metal given the largest value of the scan: scanners with the standard 12-bit
/// range (largest value ≤ 4095 HU) clip metal near their ceiling, so 80 % of it; extended-range
/// scanners (above 4095 HU) get 2500 HU, above cortical bone (≤ about 2000 HU). Never below
/// 2000 HU, so a scan without metal yields no needle.
float metalThresholdForRange(float maximumHu);

/// Finds the needles in `ct`. Throws np::Error(InvalidArgument) for an empty volume or bad options,
/// Cancelled when `progress` asks to stop. A scan without metal gives no needle and a warning.
NeedleDetection detectNeedles(const Volume& ct, const NeedleDetectionOptions& options = {},
                              ProgressSink* progress = nullptr);

} // namespace np::imaging
