#pragma once
/// Full evaluation of one needle trajectory against the clearance fields and the body.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace np::planning {

class BodyModel;
class ClearanceFieldSet;

/// A straight needle path: skin entry to target tip, in LPS mm, with the needle used.
struct Trajectory
{
    Vec3 entryLps;
    Vec3 targetLps;
    Needle needle;

    double lengthMm() const { return distance(entryLps, targetLps); }
    /// Unit direction of travel, entry → target.
    Vec3 directionLps() const { return normalized(targetLps - entryLps); }
};

/// Minimum clearance of the needle's surface from one structure along the shaft.
struct StructureClearance
{
    std::string structure;
    std::uint16_t labelValue = 0;
    StructureClass structureClass = StructureClass::Caution;
    double clearanceMm = 0.0; ///< axis distance minus needle radius; negative when the shaft cuts in
    double marginMm = 0.0;
    Vec3 closestShaftPointLps;     ///< where on the axis the minimum occurs
    double depthFromEntryMm = 0.0; ///< distance of that point from the entry
    bool violated = false;
    /// clearanceMm is a lower bound: the structure lies farther than kExactClearanceLimitMm
    /// (JSON "lowerBound": true, the readout prints "> N mm"). Below that limit the value is exact
    /// within half the largest voxel spacing.
    bool lowerBound = false;
};

/// Clearances up to this value are reported exactly; beyond it as a lower bound.
inline constexpr double kExactClearanceLimitMm = 50.0;

/// What makes a trajectory unsafe.
enum class ViolationKind
{
    Margin,   ///< a forbidden structure closer than its margin
    Obstacle, ///< the shaft enters an obstacle (bone) before the tip zone
    Length,   ///< the needle is too short for the skin-to-target depth
};
const char* toString(ViolationKind kind);

/// One reason a trajectory is unsafe, with where it first happens.
struct Violation
{
    ViolationKind kind = ViolationKind::Margin;
    std::string structure; ///< empty for Length
    double clearanceMm = 0.0;
    double marginMm = 0.0;
    Vec3 positionLps; ///< first point on the axis (from the entry) where it happens
    double depthFromEntryMm = 0.0;
    std::string message; ///< one readable sentence
};

/// Settings of an evaluation.
struct EvaluationOptions
{
    double tipZoneMm = 2.0; ///< the last mm before the tip may touch an obstacle (bone)
    PatientPosition patientPosition = PatientPosition::HFS;
    std::optional<double> midlineXLps; ///< for "toward/away from the midline"
    double sampleStepMm = 0.0;         ///< axis sampling step; 0: a quarter of the smallest spacing
};

/// Everything known about one trajectory.
struct Evaluation
{
    bool safe = false;
    double lengthMm = 0.0;        ///< entry to target
    double depthFromSkinMm = 0.0; ///< skin crossing to target (the length when no body is known)
    bool skinFound = false;
    Vec3 skinEntryLps; ///< where the line crosses the skin (the entry when unknown)
    std::optional<double>
        skinAngleDeg; ///< between the needle and the skin's outward normal (0 = perpendicular)
    std::vector<StructureClearance> clearances; ///< every considered structure present in the image
    int closestIndex = -1; ///< forbidden structure with the smallest clearance − margin, −1 if none
    std::vector<Violation> violations; ///< ordered from the entry inward: the first is the first met
    std::vector<std::string> reasons;  ///< readable verdict reasons
    std::vector<std::string> warnings; ///< caution structures within their margin and similar notes
    TrajectoryAngles angles;
};

/// Evaluates trajectories against prepared clearance fields (ClearanceFieldSet::prepare must cover
/// the trajectory; outside the prepared region distances are conservative lower bounds).
class TrajectoryEvaluator
{
public:
    /// `fields` and `body` (may be null) must outlive the evaluator.
    TrajectoryEvaluator(const ClearanceFieldSet& fields, std::vector<StructureSpec> structures,
                        const BodyModel* body = nullptr);

    /// Full evaluation; throws np::Error(InvalidArgument) for a degenerate or non-finite trajectory.
    Evaluation evaluate(const Trajectory& trajectory, const EvaluationOptions& options = {}) const;

    const std::vector<StructureSpec>& structures() const { return m_structures; }

private:
    const ClearanceFieldSet& m_fields;
    std::vector<StructureSpec> m_structures;
    const BodyModel* m_body;
};

} // namespace np::planning
