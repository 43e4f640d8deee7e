#include "needleplan/planning/PostInsertionValidation.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProgressRange.h"
#include "needleplan/imaging/Volume.h"

namespace np::planning {

std::vector<Trajectory> plannedTrajectories(const Plan& plan, std::vector<std::string>* targetNames)
{
    std::vector<Trajectory> planned;
    if (targetNames)
        targetNames->clear();
    for (const PlanTarget& target : plan.targets) {
        if (target.trajectories.empty())
            continue;
        const PlannedTrajectory* best = &target.trajectories.front();
        for (const PlannedTrajectory& t : target.trajectories)
            if (t.rank > 0 && (best->rank <= 0 || t.rank < best->rank))
                best = &t;
        planned.push_back(best->trajectory);
        if (targetNames)
            targetNames->push_back(target.name);
    }
    return planned;
}

ValidationResult validatePostInsertion(const Plan& plan, const imaging::Volume& planningCt,
                                       const imaging::Volume& postCt, const TrajectoryEvaluator* evaluator,
                                       const ValidationOptions& options, ProgressSink* progress)
{
    ValidationResult result;
    result.planned = plannedTrajectories(plan, &result.plannedTargets);
    if (result.planned.empty())
        result.warnings.push_back("the plan has no trajectory: every needle found is reported unmatched");

    ProgressRange registrationProgress(progress, 0.0, 0.7);
    result.registration =
        imaging::registerRigid(planningCt, postCt, options.registration, &registrationProgress);
    for (const auto& w : result.registration.warnings)
        result.warnings.push_back("registration: " + w);
    if (!result.registration.succeeded) {
        result.failure = result.registration.verdict;
        return result;
    }

    ProgressRange detectionProgress(progress, 0.7, 0.9);
    // The planning CT seen through the registration is what the post CT would show without the
    // needles: the detector weighs the metal against it (exact even where bone flanks the tip).
    imaging::NeedleDetectionOptions detection = options.detection;
    if (!detection.backgroundHuAt)
        detection.backgroundHuAt = [&planningCt, &result](const Vec3& postLps) {
            return static_cast<double>(
                planningCt.sampleLps(result.registration.planningFromPost.apply(postLps), -1000.0f));
        };
    result.detection = imaging::detectNeedles(postCt, detection, &detectionProgress);
    for (const auto& w : result.detection.warnings)
        result.warnings.push_back("needle detection: " + w);
    if (result.detection.needles.empty()) {
        result.failure = "no needle found in the post-insertion CT";
        return result;
    }

    const imaging::RigidTransform& planningFromPost = result.registration.planningFromPost;
    std::vector<Trajectory> actual;
    for (const imaging::DetectedNeedle& d : result.detection.needles) {
        ValidatedNeedle needle;
        needle.detected = d;
        needle.tipLps = planningFromPost.apply(d.tipLps);
        needle.entryLps = planningFromPost.apply(d.entryLps);
        result.needles.push_back(needle);
        actual.push_back(Trajectory{needle.entryLps, needle.tipLps, plan.needle});
    }
    const std::vector<NeedleMatch> matches = matchNeedles(actual, result.planned, options.matching);
    for (std::size_t i = 0; i < result.needles.size(); ++i) {
        throwIfCancelled(progress);
        ValidatedNeedle& needle = result.needles[i];
        needle.match = matches[i];
        if (needle.match.plannedIndex < 0) {
            result.warnings.push_back("needle " + std::to_string(i + 1) +
                                      " matches no planned trajectory: " + needle.match.reason);
            continue;
        }
        const auto p = static_cast<std::size_t>(needle.match.plannedIndex);
        needle.target = result.plannedTargets[p];
        Trajectory actualPath = actual[i];
        actualPath.needle = result.planned[p].needle; // the needle the plan was made for
        needle.measurement =
            measureNeedle(result.planned[p], actualPath, evaluator, options.evaluation, options.measurement);
    }
    for (std::size_t p = 0; p < result.planned.size(); ++p) {
        bool found = false;
        for (const auto& n : result.needles)
            found = found || n.match.plannedIndex == static_cast<int>(p);
        if (!found)
            result.warnings.push_back("no needle found for the planned trajectory of \"" +
                                      result.plannedTargets[p] + "\"");
    }
    result.completed = true;
    reportProgress(progress, 1.0, "Validated");
    return result;
}

} // namespace np::planning
