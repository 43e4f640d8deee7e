// libFuzzer target: the label-map reader (header checks, then ITK). The first byte picks the
// format by file name: .seg.nrrd, .nii, .nii.gz or .mha.
#include "FuzzSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    static const char* const suffixes[] = {".seg.nrrd", ".nii", ".nii.gz", ".mha"};
    const std::string path = np::fuzz::writeInput(data + 1, size - 1, suffixes[data[0] % 4]);
    try {
        const auto labels = np::imaging::readLabelMap(path);
        (void)labels;
    } catch (const np::Error&) {
    }
    return 0;
}
