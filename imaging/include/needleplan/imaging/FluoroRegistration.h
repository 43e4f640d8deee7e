#pragma once
/// 2D/3D rigid registration of a fluoroscopy frame to a CT: the pose of the CT in the C-arm's frame
/// (6 degrees of freedom) that makes the CT's DRR match the frame.
///
/// Method: the frame and the DRR are compared on a square region around the target (the start
/// view's isocentre, at the image centre), coarse to fine (pixel sizes at the isocentre per level);
/// a 2D search over in-plane shifts and rotations on the coarsest level finds the start, then ITK's
/// Amoeba (Nelder-Mead) optimiser refines all six parameters on each level. The similarity is
/// gradient correlation (the mean of the normalised cross-correlations of the horizontal and of the
/// vertical gradients) or normalised cross-correlation of the intensities. Pixels the CT cannot
/// explain are masked: collimator edges (flat regions touching the border), burnt-in text
/// (saturated pixels), the needle (thin structures much darker than their surroundings).
///
/// The verdict errs toward "not registered": the final similarity must reach a threshold, and the
/// pose must be a clear peak: the similarity must drop at poses perturbed by a few millimetres and
/// degrees (a wrong image or a wrong local optimum gives a flat, low landscape).

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/RigidTransform.h"

#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

class AttenuationVolume;

/// One fluoroscopy frame: display values (larger = brighter, dense matter dark), row-major, rows down.
struct FluoroFrame
{
    int columns = 0;
    int rows = 0;
    std::vector<float> pixels;
};

enum class FluoroMetric
{
    GradientCorrelation,
    NormalizedCrossCorrelation,
};

/// "gradient correlation" or "normalized cross-correlation".
const char* toString(FluoroMetric metric);

/// Settings of a fluoroscopy registration.
struct FluoroRegistrationOptions
{
    FluoroMetric metric = FluoroMetric::GradientCorrelation;
    double regionMm = 100.0; ///< side of the square region around the target, mm at the isocentre
    /// Pixel size at the isocentre of each level, coarse to fine (mm).
    std::vector<double> levelPixelMm{2.0, 1.0, 0.6};
    std::vector<int> evaluationsPerLevel{120, 80, 60}; ///< most similarity evaluations per level
    /// The 2D search on the coarsest level: in-plane shifts up to this far (mm at the isocentre) ...
    double searchShiftMm = 26.0;
    /// ... and rotations about the beam up to this many degrees. 0 and 0: no search.
    double searchRotationDeg = 12.0;
    /// ... for the DRR as it is and tilted out of plane by ± this many degrees about the column and
    /// the row axes (0: no tilts).
    double searchTiltDeg = 6.0;
    /// Re-registration after a small movement: skip the search and the coarsest level, with a smaller
    /// simplex and at most 30 evaluations per level.
    bool refineOnly = false;
    bool maskCollimator = true;
    bool maskText = true;
    bool maskNeedle = true;
    /// Verdict: the final similarity must reach this (gradient correlation; set on simulated frames,
    /// where correct poses mostly scored 0.66-0.85 and wrong optima up to 0.63) ...
    double minSimilarity = 0.68;
    /// ... and the similarity at the perturbed poses must lie at least this fraction of the final
    /// similarity below it on average (a clear peak).
    double minPeakDrop = 0.08;
    double perturbationMm = 3.0;  ///< in-plane shift of the perturbed poses
    double perturbationDeg = 3.0; ///< rotation of the perturbed poses
    /// Poses further than this from the start are refused (mm, degrees).
    double maxTranslationMm = 45.0;
    double maxRotationDeg = 20.0;
    int threads = 0; ///< DRR threads, 0: one per hardware thread
};

/// What the registration found and whether it can be trusted.
struct FluoroRegistrationResult
{
    bool registered = false;
    std::string reason;            ///< one sentence: why it is trusted or not
    RigidTransform viewFromCt;     ///< CT LPS → the start view's frame (with the isocentre at the target)
    ProjectionMatrix projection;   ///< CT LPS → frame pixel: the start view's matrix times viewFromCt
    double similarity = 0.0;       ///< final similarity (1 = perfect)
    double similarityBefore = 0.0; ///< at the start pose, finest level
    double peakDrop = 0.0;         ///< mean relative drop at the perturbed poses
    double translationMm = 0.0;    ///< size of the correction from the start pose (at the isocentre)
    double rotationDeg = 0.0;      ///< size of the correction's rotation
    double maskedFraction = 0.0;   ///< of the region's pixels masked out (finest level)
    int evaluations = 0;           ///< DRRs rendered
    std::vector<int> drrsPerLevel; ///< of them per level, coarse to fine (the search's one DRR on the first)
    std::vector<double>
        secondsPerLevel;  ///< wall-clock time of each optimised level (the 2D search not included)
    double seconds = 0.0; ///< wall-clock time of the registration
    std::vector<std::string> warnings;
};

/// Registers `frame` to the CT. `startView` is the frame's C-arm view from its header with the
/// isocentre at the target (or a point the user gives); `startViewFromCt` an initial pose (identity:
/// the header's). Throws np::Error(InvalidArgument) for an empty volume or frame, a frame whose size
/// differs from the view's detector, or bad options; Cancelled when `progress` asks to stop. A
/// registration that merely fails does not throw: the verdict says why.
FluoroRegistrationResult registerFluoroscopy(const AttenuationVolume& ct, const FluoroFrame& frame,
                                             const CArmGeometry& startView,
                                             const FluoroRegistrationOptions& options = {},
                                             const RigidTransform& startViewFromCt = {},
                                             ProgressSink* progress = nullptr);

/// Mean projection distance (mm) of `pointsLps` between two poses in `view`: for each point, the
/// distance from where `truthViewFromCt` puts it to the ray through the pixel where `viewFromCt`
/// projects it (van de Kraats et al. 2005). The registration error measure.
double meanProjectionDistanceMm(const CArmGeometry& view, const RigidTransform& truthViewFromCt,
                                const RigidTransform& viewFromCt, const std::vector<Vec3>& pointsLps);

/// Rigid motion about `centreLps` in the view's axes: rotations (degrees) about the column, row and
/// beam directions, then a translation (mm) along them. The registration's parameters.
RigidTransform viewMotion(const CArmGeometry& view, const Vec3& centreLps, const Vec3& rotationDeg,
                          const Vec3& translationMm);

} // namespace np::imaging
