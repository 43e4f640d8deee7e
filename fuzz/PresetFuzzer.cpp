// libFuzzer target: parsing a planning preset.
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/Preset.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        const auto preset =
            np::planning::parsePreset(std::string(reinterpret_cast<const char*>(data), size), "fuzz.json");
        (void)preset;
    } catch (const np::Error&) {
    }
    return 0;
}
