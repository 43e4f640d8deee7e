#pragma once
/// Rigid registration of a post-insertion CT onto the planning CT of the same patient or phantom
/// (ITK v4 metric and optimizer, mean squares on CT values clamped to the bone range,
/// multi-resolution, the needle's metal and its streaks masked out), with progress, cancel and a
/// verdict. The original voxels are read once, into the finest level; each level draws its random
/// samples once from the post CT's body outside the metal.

#include "needleplan/imaging/RigidTransform.h"
#include "needleplan/imaging/Vec3.h"

#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

class Volume;

/// Settings of a registration.
struct RegistrationOptions
{
    /// Grid spacing (mm) of each level, coarse to fine; the images are block-averaged to about it
    /// (never finer than the image itself).
    std::vector<double> levelSpacingsMm{6.0, 3.0, 1.5};
    std::vector<int> iterationsPerLevel{100, 100, 50};
    /// Random samples per level, drawn once per level from the post CT's body outside the metal
    /// (all of its voxels when fewer).
    int samplesPerLevel = 10000;
    /// A level ends when the optimizer's step falls below this fraction of the level's spacing.
    double minimumStepFraction = 0.002;
    float clampLowHu = -1000.0f; ///< values are clamped to [low, high] before matching
    float clampHighHu = 1500.0f; ///< (the needle's metal stops at bone level)
    float metalHu = 2000.0f;     ///< post-CT voxels above this are metal ...
    double metalMarginMm = 6.0;  ///< ... masked out with this margin (streaks)
    /// Verdict thresholds on the normalised cross-correlation over the overlap after registration.
    double failBelowCorrelation = 0.8;
    double warnBelowCorrelation = 0.9;
    double minOverlapFraction = 0.5; ///< of the post CT's body that must fall inside the planning CT
    unsigned seed = 1;
};

/// What a registration found, and whether it can be trusted.
struct RegistrationResult
{
    RigidTransform planningFromPost; ///< maps post-CT LPS onto planning-CT LPS
    bool succeeded = false;
    std::string verdict;            ///< one sentence: why it is trusted or not
    double correlation = 0.0;       ///< normalised cross-correlation over the overlap, after
    double correlationBefore = 0.0; ///< the same with the starting transform
    double overlapFraction = 0.0;
    int iterations = 0; ///< all levels together
    std::vector<std::string> warnings;
};

/// Registers `post` (the post-insertion CT, fixed) onto `planning` (moving): the result maps
/// post-CT points onto the planning CT. Never throws for a registration that merely fails (the
/// verdict says so); throws np::Error(InvalidArgument) for empty volumes or bad options, and
/// Cancelled when `progress` asks to stop.
RegistrationResult registerRigid(const Volume& planning, const Volume& post,
                                 const RegistrationOptions& options = {}, ProgressSink* progress = nullptr);

} // namespace np::imaging
