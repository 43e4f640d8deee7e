#pragma once
/// Post-insertion validation: register the post-insertion CT onto the planning CT, find the
/// needles in it, match each to its planned trajectory and measure it (NeedleMeasurement). Every
/// position in the result is LPS mm of the planning CT unless its name says "Post".

#include "needleplan/imaging/NeedleDetector.h"
#include "needleplan/imaging/RigidRegistration.h"
#include "needleplan/planning/NeedleMeasurement.h"
#include "needleplan/planning/PlanDocument.h"

#include <optional>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}
namespace np::imaging {
class Volume;
}

namespace np::planning {

class BodyModel;
class ClearanceFieldSet;

/// Settings of a validation.
struct ValidationOptions
{
    imaging::RegistrationOptions registration;
    imaging::NeedleDetectionOptions detection;
    MatchOptions matching;
    MeasurementOptions measurement;
    EvaluationOptions evaluation; ///< tip zone, patient position, midline for the actual paths
};

/// One needle found in the post-insertion CT.
struct ValidatedNeedle
{
    imaging::DetectedNeedle detected; ///< in the post-insertion CT's frame
    Vec3 tipLps;                      ///< mapped onto the planning CT
    Vec3 entryLps;
    NeedleMatch match;  ///< plannedIndex into ValidationResult::planned (−1: none)
    std::string target; ///< the matched target's name ("" when unmatched)
    std::optional<NeedleMeasurement> measurement; ///< when matched
};

/// What a validation found.
struct ValidationResult
{
    imaging::RegistrationResult registration;
    imaging::NeedleDetection detection;
    /// The planned trajectories matched against: the first (rank 1) trajectory of each target.
    std::vector<Trajectory> planned;
    std::vector<std::string> plannedTargets; ///< target name of each planned trajectory
    std::vector<ValidatedNeedle> needles;    ///< in the detector's order (longest first)
    std::vector<std::string> warnings;
    bool completed = false; ///< false when registration failed or no needle was found
    std::string failure;    ///< why not completed
};

/// The rank-1 trajectory of every target of `plan` that has one, with the target names.
std::vector<Trajectory> plannedTrajectories(const Plan& plan,
                                            std::vector<std::string>* targetNames = nullptr);

/// Registers `postCt` onto `planningCt`, detects, matches and measures. `evaluator` (may be null:
/// no structures) must have its fields prepared around the plan's targets. Never throws for a
/// case that merely fails (registration, no needle): `completed` and `failure` say so. Throws
/// np::Error for bad input and Cancelled when `progress` asks to stop.
ValidationResult validatePostInsertion(const Plan& plan, const imaging::Volume& planningCt,
                                       const imaging::Volume& postCt, const TrajectoryEvaluator* evaluator,
                                       const ValidationOptions& options = {},
                                       ProgressSink* progress = nullptr);

} // namespace np::planning
