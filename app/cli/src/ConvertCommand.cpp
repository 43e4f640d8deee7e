// needleplan-cli convert PATH [--series INDEX | --series-uid UID] --out FILE.nrrd

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>
#include <memory>

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

namespace np::cli {

namespace {

struct ConvertArguments
{
    std::string path;
    int seriesIndex = -1;
    std::string seriesUid;
    std::string out;
};

bool endsWithNrrd(const std::string& path)
{
    std::string lower = path;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.size() > 5 && lower.compare(lower.size() - 5, 5, ".nrrd") == 0;
}

int runConvert(const ConvertArguments& arguments)
{
    if (!endsWithNrrd(arguments.out))
        throw Error(ErrorCode::InvalidArgument, arguments.out + ": the output file name must end in .nrrd");
    imaging::LoadOptions options;
    options.seriesIndex = arguments.seriesIndex;
    options.seriesUid = arguments.seriesUid;
    const imaging::Volume volume = imaging::loadVolume(arguments.path, options);
    imaging::writeVolumeNrrd(volume, arguments.out);
    const auto& g = volume.geometry();
    std::cout << "wrote " << arguments.out << " (" << g.size[0] << "x" << g.size[1] << "x" << g.size[2] << ", "
              << volume.info().modality << ")\n";
    for (const auto& warning : volume.info().warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "convert", "Write one series as NRRD (float voxels in LPS, exactly as NeedlePlan holds them)",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<ConvertArguments>();
        command.add_option("PATH", arguments->path, "DICOM file, folder, DICOMDIR, or NRRD/NIfTI/MetaImage")->required();
        auto* index = command.add_option("--series", arguments->seriesIndex, "series index from `info`")
                          ->check(CLI::NonNegativeNumber);
        auto* uid = command.add_option("--series-uid", arguments->seriesUid, "SeriesInstanceUID to convert");
        index->excludes(uid);
        command.add_option("--out", arguments->out, "output file (.nrrd)")->required();
        return [arguments] { return runConvert(*arguments); };
    }};

} // namespace

} // namespace np::cli
