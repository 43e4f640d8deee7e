// needleplan-cli phantom --out DIR [--size I,J,K] [--spacing X,Y,Z] [--oblique-deg A]
//                        [--patient-position HFP] [--seed N] [--noise HU] [--partial-volume N]
//                        [--cancellous-offset HU]

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/phantom/LumbarPhantom.h"

namespace np::cli {

namespace {

struct PhantomArguments
{
    std::string out;
    std::string size;
    std::string spacing;
    double obliqueDeg = 0.0;
    std::string patientPosition = "HFP";
    std::uint32_t seed = 1;
    double noiseHu = 10.0;
    int partialVolume = 1;
    double cancellousHuOffset = 0.0;
};

/// Three comma-separated numbers, e.g. "512,512,400".
std::vector<double> parseTriple(const std::string& text, const char* option)
{
    std::vector<double> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end == item.c_str() || *end != '\0' || !std::isfinite(v))
            throw Error(ErrorCode::InvalidArgument, std::string(option) + " '" + text + "': '" + item + "' is not a number");
        values.push_back(v);
    }
    if (values.size() != 3)
        throw Error(ErrorCode::InvalidArgument, std::string(option) + " '" + text + "': expected three comma-separated values");
    return values;
}

int runPhantom(const PhantomArguments& arguments)
{
    phantom::PhantomOptions options;
    if (!arguments.size.empty()) {
        const auto size = parseTriple(arguments.size, "--size");
        for (int a = 0; a < 3; ++a) {
            const double v = size[static_cast<std::size_t>(a)];
            if (v < 1.0 || v > 4096.0 || v != std::floor(v))
                throw Error(ErrorCode::InvalidArgument, "--size '" + arguments.size + "': sizes must be whole numbers 1..4096");
            options.size[static_cast<std::size_t>(a)] = static_cast<std::int64_t>(v);
        }
    }
    if (!arguments.spacing.empty()) {
        const auto spacing = parseTriple(arguments.spacing, "--spacing");
        options.spacing = {spacing[0], spacing[1], spacing[2]};
    }
    options.obliqueDeg = arguments.obliqueDeg;
    options.patientPosition = arguments.patientPosition;
    options.seed = arguments.seed;
    options.noiseHu = arguments.noiseHu;
    options.partialVolume = arguments.partialVolume;
    options.cancellousHuOffset = arguments.cancellousHuOffset;

    const auto start = std::chrono::steady_clock::now();
    const phantom::Phantom result = phantom::generateLumbarPhantom(options);
    const auto generated = std::chrono::steady_clock::now();
    phantom::writePhantom(result, arguments.out);
    const auto written = std::chrono::steady_clock::now();
    const auto& g = result.ct.geometry();
    const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
    std::cout << "wrote the lumbar phantom to " << arguments.out << " (" << g.size[0] << "x" << g.size[1] << "x"
              << g.size[2] << " voxels, spacing " << g.spacing.x << "x" << g.spacing.y << "x" << g.spacing.z << " mm, "
              << options.patientPosition << ", " << result.targets.size() << " targets; generated in "
              << seconds(generated - start) << " s, written in " << seconds(written - generated) << " s)\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "phantom", "Generate the sample lumbar phantom: DIR/dicom/, DIR/structures.seg.nrrd, DIR/targets.json",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<PhantomArguments>();
        command.add_option("--out", arguments->out, "output folder")->required();
        command.add_option("--size", arguments->size, "grid size in voxels I,J,K (default: the whole anatomy)");
        command.add_option("--spacing", arguments->spacing, "voxel spacing in mm X,Y,Z (default 0.8,0.8,1.0)");
        command.add_option("--oblique-deg", arguments->obliqueDeg, "rotate the grid by this angle (degrees) for tests");
        command.add_option("--patient-position", arguments->patientPosition, "HFS, HFP (default), FFS or FFP")
            ->check(CLI::IsMember({"HFS", "HFP", "FFS", "FFP"}));
        command.add_option("--seed", arguments->seed, "noise seed (default 1)");
        command.add_option("--noise", arguments->noiseHu, "noise standard deviation in HU (default 10)")
            ->check(CLI::Range(0.0, 1000.0));
        command
            .add_option("--partial-volume", arguments->partialVolume,
                        "average N^3 sub-voxels per voxel, as a coarse scanner does (default 1: point sampling)")
            ->check(CLI::Range(1, 8));
        command
            .add_option("--cancellous-offset", arguments->cancellousHuOffset,
                        "add this to the cancellous bone HU (default 0; -150 gives osteoporotic bone of 80-140 HU)")
            ->check(CLI::Range(-1000.0, 1000.0));
        return [arguments] { return runPhantom(*arguments); };
    }};

} // namespace

} // namespace np::cli
