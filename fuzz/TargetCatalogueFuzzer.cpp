// libFuzzer target: parsing a target catalogue, then checking each target against a reference grid
// as plan does before it computes anything.
#include "FuzzSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/PlanValidation.h"
#include "needleplan/planning/TargetCatalogue.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto targets = np::planning::parseTargetCatalogue(
            std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        for (const auto& target : targets)
            np::planning::requireTargetInImage(target.targetLps, np::fuzz::referenceVolume().geometry(),
                                               "fuzz.json", target.name);
    } catch (const np::Error&) {
    }
    return 0;
}
