// libFuzzer target: the DICOM header scan (DCMTK behind the nesting walk) of one file.
#include "FuzzSupport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = np::fuzz::writeInput(data, size, ".dcm");
    try {
        const auto scan = np::imaging::scanDicom(path);
        (void)scan;
    } catch (const np::Error&) {
    }
    return 0;
}
