#include "needleplan/planning/Planner.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProgressRange.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"

namespace np::planning {

PlanOutcome planTargets(ClearanceFieldSet& fields, const BodyModel& body, const PlanRequest& request,
                        ProgressSink* progress)
{
    if (request.targets.empty())
        throw Error(ErrorCode::InvalidArgument, "no target to plan");
    PlanOutcome outcome;
    Plan& plan = outcome.plan;
    plan.image = request.image;
    plan.needle = request.needle;
    plan.structures = request.structures;
    const double width = 1.0 / static_cast<double>(request.targets.size());
    for (std::size_t n = 0; n < request.targets.size(); ++n) {
        const TargetRequest& t = request.targets[n];
        ProgressRange slice(progress, width * static_cast<double>(n), width * static_cast<double>(n + 1),
                            t.name + ": ");
        SearchResult result = planTarget(fields, request.structures, body, t.targetLps, request.needle,
                                         request.preset, request.options, progress ? &slice : nullptr);
        PlanTarget target;
        target.name = t.name;
        target.targetLps = t.targetLps;
        target.preset = request.preset.name;
        target.directionsSearched = static_cast<int>(result.directions.size());
        target.feasibleDirections = result.feasibleCount;
        int rank = 1;
        for (const Candidate& c : result.candidates) {
            PlannedTrajectory p;
            p.rank = rank++;
            p.origin = "search";
            p.trajectory = c.trajectory;
            p.evaluation = c.evaluation;
            p.score = c.score;
            p.pareto = c.pareto;
            target.trajectories.push_back(std::move(p));
        }
        plan.targets.push_back(std::move(target));
        outcome.searches.push_back(std::move(result));
    }
    reportProgress(progress, 1.0, "plan");
    return outcome;
}

} // namespace np::planning
