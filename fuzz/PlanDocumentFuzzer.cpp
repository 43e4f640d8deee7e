// libFuzzer target: reading a plan document (JSON parse, then every key), then checking it
// against a reference grid as the workstation does when it opens a plan.
#include "FuzzSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/PlanValidation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = np::fuzz::writeInput(data, size, ".needleplan.json");
    try {
        const auto plan = np::planning::loadPlan(path);
        np::planning::validatePlanAgainstImage(plan, np::fuzz::referenceVolume().geometry(), path);
    } catch (const np::Error&) {
    }
    return 0;
}
