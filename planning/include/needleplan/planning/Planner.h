#pragma once
/// Multi-target planning: one search per named target on shared clearance fields, gathered into a
/// plan document.

#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/TrajectorySearch.h"

#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::planning {

class BodyModel;
class ClearanceFieldSet;

/// A named target to plan.
struct TargetRequest
{
    std::string name;
    Vec3 targetLps;
};

/// Everything a multi-target plan needs besides the image data.
struct PlanRequest
{
    std::vector<TargetRequest> targets;
    Preset preset;
    Needle needle;
    std::vector<StructureSpec> structures; ///< defaults with the preset's rules and user overrides applied
    SearchOptions options;                 ///< tip zone and weights are taken from the preset
    ImageReference image;
};

/// The plan and, per target, the full search result (per-direction data for accessibility maps).
struct PlanOutcome
{
    Plan plan;
    std::vector<SearchResult> searches;
};

/// Plans every target in order. Fields are reused between nearby targets. Throws np::Error
/// (InvalidArgument for an empty target list, Cancelled when asked to stop).
PlanOutcome planTargets(ClearanceFieldSet& fields, const BodyModel& body, const PlanRequest& request,
                        ProgressSink* progress = nullptr);

} // namespace np::planning
