#pragma once
/// 2D/3D rigid registration of a fluoroscopy frame to a CT: the pose of the CT in the C-arm's frame
/// (6 degrees of freedom) that makes the CT's DRR match the frame.
///
/// Method: the frame and the DRR are compared on a square region around the target (the start
/// view's isocentre, at the image centre), coarse to fine (pixel sizes at the isocentre per level).
/// On the coarsest level an exhaustive search over in-plane shifts and rotations (2D warps of DRRs
/// rendered with a margin), for each of a 3 × 3 grid of out-of-plane tilts, gives the best few
/// distinct starts; each gets a short run of ITK's Amoeba (Nelder-Mead) optimiser over all six
/// parameters, the best continues, and the finer levels refine it. The similarity is
/// gradient correlation (the mean of the normalised cross-correlations of the horizontal and of the
/// vertical gradients) or normalised cross-correlation of the intensities. Pixels the CT cannot
/// explain are masked: collimator edges (flat regions touching the border), burnt-in text
/// (saturated pixels), the needle (thin structures much darker than their surroundings).
///
/// The verdict errs toward "not registered": the final similarity must reach a threshold, the
/// pose must be a clear peak (the similarity must drop at poses perturbed by a few millimetres and
/// degrees: a wrong image or a wrong local optimum gives a flat, low landscape), and it must beat
/// the best start that converged to a distinct pose (no near tie between two poses).

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/RigidTransform.h"

#include <optional>
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
    /// Centre of that region in the frame (zero-based pixel): unset, the image centre (where the
    /// start puts the target); registerFluoroscopy's callers set it to a landmark's pixel (the
    /// middle of two) so that the region holds what the user marked.
    std::optional<DetectorPixel> regionCentre;
    /// Pixel size at the isocentre of each level, coarse to fine (mm).
    std::vector<double> levelPixelMm{2.0, 1.0, 0.6};
    std::vector<int> evaluationsPerLevel{120, 80, 45}; ///< most simplex iterations per level
    /// The 2D search on the coarsest level: in-plane shifts up to this far (mm at the isocentre) ...
    double searchShiftMm = 26.0;
    /// ... and rotations about the beam up to this many degrees. 0 and 0: no search.
    double searchRotationDeg = 12.0;
    /// ... for the DRR as it is and tilted out of plane on a 3 × 3 grid of 0 and ± this many degrees
    /// about the column and the row axes (0: no tilts).
    double searchTiltDeg = 7.0;
    /// The best this many distinct poses of the search each start a short simplex run on the
    /// coarsest level; the best of them continues with the full budget.
    int searchStarts = 4;
    /// Two poses are distinct when their mean projection distance at the target region exceeds
    /// this (mm): the runner-up of the verdict is the best start that ended this far from the winner.
    double distinctMm = 4.0;
    /// ... and the winner must beat that runner-up by this much on the coarsest level (a near tie
    /// between two distinct poses is ambiguous: not registered).
    double minMargin = 0.02;
    /// Re-registration after a small movement: skip the search and the coarsest level, with a smaller
    /// simplex, at most refineEvaluations iterations per level and the finest level's pixels no
    /// smaller than refineFinestPixelMm (a small correction needs no finer sampling to stay well
    /// under a millimetre, and the finest level's DRRs cost the most).
    bool refineOnly = false;
    int refineEvaluations = 18;
    double refineFinestPixelMm = 0.75;
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
    /// Free distances, for a frame whose header gives no SID and SOD (geometry without distances):
    /// the source-to-detector and source-to-isocentre distances are registered too, within these
    /// bounds; the start view's values are only the start (the detector pixel pitch must be right).
    /// The coarse search then also tries these magnifications (SID over the start's SOD).
    bool freeDistances = false;
    double minSidMm = 500.0, maxSidMm = 1500.0;
    double minSodMm = 300.0;
    double minDetectorGapMm = 50.0; ///< the SOD stays at least this much below the SID
    std::vector<double> searchMagnifications{1.15, 1.25, 1.35, 1.45, 1.6, 1.8};
};

/// What the registration found and whether it can be trusted.
struct FluoroRegistrationResult
{
    bool registered = false;
    std::string reason;            ///< one sentence: why it is trusted or not
    /// CT LPS → the registered view's frame: the start view (its angles, the isocentre at the
    /// target) with the distances below
    RigidTransform viewFromCt;
    ProjectionMatrix projection;   ///< CT LPS → frame pixel: the registered view's matrix times viewFromCt
    /// "given": the start view's distances were used as they are; free: they were registered.
    bool distancesFree = false;
    double sourceToDetectorMm = 0.0;  ///< of the registered view (the start's when given)
    double sourceToIsocenterMm = 0.0; ///< of the registered view (the start's when given)
    double similarity = 0.0;       ///< final similarity (1 = perfect)
    double similarityBefore = 0.0; ///< at the start pose, finest level
    double peakDrop = 0.0;         ///< mean relative drop at the perturbed poses
    double probeSimilarity = 0.0;  ///< the final pose's similarity on the level the peak is probed on
    double coarseSimilarity = 0.0; ///< the winner's similarity on the first level optimised
    /// The best similarity on that level of a start that ended at a distinct pose (−1: none did).
    double runnerUpSimilarity = -1.0;
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

/// Re-registration after a small movement (a breath, a table nudge): registers `frame` from a
/// previous pose (`previousViewFromCt`, e.g. the last result's viewFromCt) on the finer levels only,
/// with no search and a small simplex (options.refineOnly set). Same errors and verdict as
/// registerFluoroscopy.
FluoroRegistrationResult reregisterFluoroscopy(const AttenuationVolume& ct, const FluoroFrame& frame,
                                               const CArmGeometry& startView,
                                               const RigidTransform& previousViewFromCt,
                                               FluoroRegistrationOptions options = {},
                                               ProgressSink* progress = nullptr);

/// A point the user marks both in the frame and in the CT.
struct FluoroLandmark
{
    DetectorPixel pixel; ///< in the full frame: zero-based (column, row) of pixel centres
    Vec3 ctLps;          ///< the same point in the CT (LPS mm)
};

/// The starting pose `startViewFromCt` refined by one or two landmarks. One: the CT is translated so
/// that the landmark's CT point lands on the ray through its pixel at the point's own depth (its
/// distance from the source along the beam). Two: first a rotation about the beam through the two
/// points' midpoint that turns the segment between them (across the beam) onto the segment between
/// the two points on their rays, then the translation that puts the midpoint onto the middle of
/// those two points. Depth, the out-of-plane rotations and scale are left to the registration.
/// Throws np::Error(InvalidArgument) for no or more than two landmarks, a non-finite value, a CT
/// point at or behind the source, or two landmarks less than 5 mm apart across the beam (in the CT
/// or on the image at the isocentre).
RigidTransform landmarkStart(const CArmGeometry& view, const std::vector<FluoroLandmark>& landmarks,
                             const RigidTransform& startViewFromCt = {});

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
