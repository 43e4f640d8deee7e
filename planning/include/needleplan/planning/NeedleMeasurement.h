#pragma once
/// One actual (or proposed) needle measured against its planned trajectory: tip, entry and angle
/// errors, the actual path's own safety evaluation, and the RF active tip's placement. Shared by
/// post-insertion validation and rehearsal scoring. Every position is LPS mm in the planning
/// image's frame.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/TrajectoryEvaluator.h"

#include <optional>
#include <string>
#include <vector>

namespace np::planning {

/// Geometric errors of an actual needle against the planned one (no structures involved).
struct NeedleErrors
{
    double tipErrorMm = 0.0;    ///< |actual tip − planned target|
    double tipAlongMm = 0.0;    ///< along the planned axis: > 0 too deep (past the target), < 0 short
    double tipAcrossMm = 0.0;   ///< across the planned axis (lateral miss), ≥ 0
    Vec3 tipAcrossLps;          ///< the lateral miss as a vector (perpendicular to the planned axis)
    double entryErrorMm = 0.0;  ///< between the actual and the planned skin entry points
    double angleErrorDeg = 0.0; ///< between the actual and the planned directions, in [0, 180]
};

/// Placement of an RF cannula's active tip against the planned line (parallel placement).
struct ActiveTipPlacement
{
    double activeTipMm = 0.0;     ///< exposed length, from the needle
    Vec3 activeStartLps;          ///< proximal end of the active tip (on the actual axis)
    double maxDistanceMm = 0.0;   ///< largest distance of the active tip from the planned line
    double meanDistanceMm = 0.0;  ///< distance of its midpoint from the planned line
    double angleDeg = 0.0;        ///< between the active tip and the planned line, in [0, 90]
    double toleranceMm = 2.0;     ///< what counts as parallel enough
    bool withinTolerance = false; ///< maxDistanceMm ≤ toleranceMm
};

/// Settings of a measurement.
struct MeasurementOptions
{
    /// Largest distance of the RF active tip from the planned line that still lesions the nerve
    /// (lesions are 1.1–2.2 mm in radius, so about 2 mm).
    double activeTipToleranceMm = 2.0;
};

/// One needle against its plan.
struct NeedleMeasurement
{
    Trajectory planned; ///< entry → target as planned
    Trajectory actual;  ///< entry → tip as found (targetLps is the actual tip)
    NeedleErrors errors;
    Vec3 plannedSkinEntryLps; ///< where the planned line crosses the skin (the entry when no body)
    Vec3 actualSkinEntryLps;  ///< where the actual line crosses the skin (the entry when no body)
    /// The actual path's own evaluation (clearances, violations); empty without an evaluator.
    std::optional<Evaluation> actualEvaluation;
    std::optional<Evaluation> plannedEvaluation;
    std::optional<ActiveTipPlacement> activeTip; ///< RF cannulas only
    /// False when the actual path violates a margin or an obstacle, whatever its accuracy, or when
    /// it was not evaluated (no structures): a verdict that cannot be checked is not "safe".
    bool actualSafe = false;
    /// Readable verdict, the safety finding first, then accuracy and the RF placement.
    std::vector<std::string> summary;
};

/// Tip, entry and angle errors of `actual` (entry → tip) against `planned` (entry → target); the
/// entry points are used as the skin entries. Throws np::Error(InvalidArgument) for a degenerate or
/// non-finite trajectory.
NeedleErrors compareNeedle(const Trajectory& planned, const Trajectory& actual);

/// The RF active tip of `actual` (the last `actual.needle.activeTipMm` mm before its tip) against
/// the planned line; nullopt for a needle without an active tip.
std::optional<ActiveTipPlacement> measureActiveTip(const Trajectory& planned, const Trajectory& actual,
                                                   double toleranceMm = 2.0);

/// Full measurement. With an evaluator (its fields prepared over both paths) the actual path is
/// evaluated and the entry errors use the skin crossings; without one only the geometry is
/// measured and the needle is not called safe.
NeedleMeasurement measureNeedle(const Trajectory& planned, const Trajectory& actual,
                                const TrajectoryEvaluator* evaluator,
                                const EvaluationOptions& evaluationOptions = {},
                                const MeasurementOptions& options = {});

/// A detected needle against the planned trajectories: which one it belongs to.
struct NeedleMatch
{
    int actualIndex = -1;       ///< into the detected needles
    int plannedIndex = -1;      ///< into the planned trajectories; −1 when it matches none
    double tipDistanceMm = 0.0; ///< actual tip to the planned target (nearest one when unmatched)
    double angleDeg = 0.0;      ///< between the two directions (nearest one when unmatched)
    std::string reason;         ///< why it matches none (empty when matched)
};

/// Limits of matching by proximity and direction.
struct MatchOptions
{
    double maxTipDistanceMm = 20.0; ///< actual tip to planned target
    double maxAngleDeg = 25.0;      ///< between the needle and the planned direction
};

/// Matches detected needles (entry → tip) to planned trajectories, one to one, best pairs first
/// (cost = tip distance / limit + angle / limit). Every detected needle gets an entry, in the
/// detected order; those beyond the limits or left over have plannedIndex −1 and a reason.
std::vector<NeedleMatch> matchNeedles(const std::vector<Trajectory>& actual,
                                      const std::vector<Trajectory>& planned,
                                      const MatchOptions& options = {});

} // namespace np::planning
