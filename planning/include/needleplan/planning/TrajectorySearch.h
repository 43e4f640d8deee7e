#pragma once
/// Automatic trajectory search from a target.
///
/// 1. Directions: a Fibonacci spiral on the spherical cap of half-angle windowDeg around the ideal
///    outward direction (target → entry), directionCount of them.
/// 2. Each ray is marched outward from the target until it leaves the body. Steps are the
///    smallest remaining slack of the forbidden and obstacle structures divided by √3 (the largest
///    gradient of a trilinearly interpolated distance map: sphere tracing on the fields), never
///    below half the smallest spacing and never above 4 mm. Every interval between two samples is
///    certified with that Lipschitz bound, and halved down to 0.02 mm where the bound cannot
///    certify it, so no intrusion between samples goes unseen. Rejected: a forbidden structure
///    within its margin, an obstacle (bone) beyond the tip zone, a skin crossing beyond the usable
///    length, a ray that leaves the image before the skin.
/// 3. Score of a feasible ray (higher is better), with the preset's weights w:
///      score = w.clearance · min(slack, S)/S − w.length · depth/usableLength
///              − w.idealAngle · angleToIdeal/window − w.skinAngle · skinAngle/90°
///              − w.caution · Σ(caution intrusion)/S
///    where slack is the smallest (clearance − margin) over forbidden structures (mm) and
///    S = w.clearanceSaturationMm.
/// 4. Pareto front over (slack ↑, depth ↓, angle to ideal ↓).
/// 5. The top K by score, each at least minSeparationDeg from those already taken, are evaluated in
///    full (TrajectoryEvaluator); only trajectories the full evaluation calls safe are returned.
/// Per-direction results are kept for the accessibility map.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/TrajectoryEvaluator.h"

#include <cstdint>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::planning {

class BodyModel;
class ClearanceFieldSet;

/// Why a direction was rejected.
enum class RejectReason : std::uint8_t
{
    None,      ///< feasible
    Forbidden, ///< a forbidden structure within its margin
    Obstacle,  ///< bone (obstacle) before the tip zone
    TooLong,   ///< the skin is farther than the needle's usable length
    NoSkin,    ///< the ray leaves the image without leaving the body
};
const char* toString(RejectReason reason);

/// The cone of directions to search.
struct ApproachWindow
{
    Vec3 idealOutwardLps{0, 1, 0}; ///< unit, target → entry
    double windowDeg = 90.0;       ///< half-angle of the cone
};

/// Settings of a search.
struct SearchOptions
{
    int directionCount = 20000; ///< directions inside the window
    int topK = 5;
    double minSeparationDeg = 8.0; ///< between returned trajectories
    int threads = 2;
    ScoreWeights weights;
    EvaluationOptions evaluation; ///< tip zone, patient position, midline
};

/// Outcome of one direction (for the accessibility map).
struct DirectionResult
{
    Vec3 directionLps;    ///< unit, target → entry
    Vec3 skinEntryLps;    ///< where the ray leaves the body (valid when reachedSkin)
    float score = 0.0f;   ///< valid when feasible
    float depthMm = 0.0f; ///< target to skin (or to where the march stopped)
    float slackMm = 0.0f; ///< smallest forbidden clearance − margin along the ray
    float skinAngleDeg = 0.0f;
    float idealAngleDeg = 0.0f; ///< angle to the ideal direction
    RejectReason reason = RejectReason::None;
    bool feasible = false;
    bool reachedSkin = false;
    bool pareto = false;
};

/// A returned trajectory with its full evaluation.
struct Candidate
{
    Trajectory trajectory;
    Evaluation evaluation;
    double score = 0.0;
    bool pareto = false;
    std::size_t directionIndex = 0;
};

/// Everything a search produced.
struct SearchResult
{
    Vec3 targetLps;
    ApproachWindow window;
    std::vector<DirectionResult> directions;
    std::vector<Candidate> candidates; ///< best first; every one evaluated safe
    int feasibleCount = 0;
    int paretoCount = 0;
    int rejectedByFullEvaluation = 0; ///< march-feasible rays that the full evaluation refused
};

/// Runs searches on prepared fields (ClearanceFieldSet::prepare(target, usable length) first, or
/// use planTarget()).
class TrajectorySearch
{
public:
    /// `fields` and `body` must outlive the search.
    TrajectorySearch(const ClearanceFieldSet& fields, std::vector<StructureSpec> structures,
                     const BodyModel& body);

    /// Throws np::Error(InvalidArgument) for bad options, Cancelled when asked to stop.
    SearchResult run(const Vec3& targetLps, const Needle& needle, const ApproachWindow& window,
                     const SearchOptions& options, ProgressSink* progress = nullptr) const;

    /// Outward unit direction from the target to the nearest skin (coarse: 2000 rays); +y when the
    /// body has no exit within `maxDistanceMm`.
    Vec3 nearestSkinDirectionLps(const Vec3& targetLps, double maxDistanceMm) const;

private:
    const ClearanceFieldSet& m_fields;
    std::vector<StructureSpec> m_structures;
    const BodyModel& m_body;
};

/// `count` unit directions spread evenly (Fibonacci spiral) over the cap of half-angle `windowDeg`
/// around `axisLps`.
std::vector<Vec3> fibonacciCapDirections(const Vec3& axisLps, double windowDeg, int count);

/// Window of a preset for a target: side from the target's x against the body's midline, and the
/// nearest-skin direction for "nearest-skin" presets.
ApproachWindow approachWindowFor(const Preset& preset, const Vec3& targetLps, const TrajectorySearch& search,
                                 const BodyModel& body, double maxDistanceMm);

/// Prepares the fields on the bounding box of the cone of directions searched (apex at the target,
/// reach = usable length + 5 mm; for a 90° window that is half the ball) and runs the search.
SearchResult planTarget(ClearanceFieldSet& fields, const std::vector<StructureSpec>& structures,
                        const BodyModel& body, const Vec3& targetLps, const Needle& needle,
                        const Preset& preset, SearchOptions options, ProgressSink* progress = nullptr);

} // namespace np::planning
