// libFuzzer target: the header scan, then decoding the pixels of every series found (native,
// RLE, JPEG, JPEG-LS, deflated), under a 256 MiB memory cap.
#include "FuzzSupport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = np::fuzz::writeInput(data, size, ".dcm");
    np::imaging::LoadOptions options;
    options.memoryCapBytes = std::uint64_t{256} << 20;
    try {
        const auto scan = np::imaging::scanDicom(path);
        for (const auto& entry : scan.series) {
            try {
                const auto volume = np::imaging::loadDicomSeries(scan, entry.index, options);
                (void)volume;
            } catch (const np::Error&) {
            }
        }
    } catch (const np::Error&) {
    }
    return 0;
}
