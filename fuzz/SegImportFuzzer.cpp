// libFuzzer target: importDicomSeg onto a small oblique reference CT.
#include "FuzzSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = np::fuzz::writeInput(data, size, ".dcm");
    try {
        const auto structures = np::imaging::importDicomSeg(path, np::fuzz::referenceVolume());
        (void)structures;
    } catch (const np::Error&) {
    }
    return 0;
}
