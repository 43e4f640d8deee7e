// needleplan-cli phantom --out DIR [--size I,J,K] [--spacing X,Y,Z] [--oblique-deg A]
//                        [--patient-position HFP] [--seed N] [--noise HU] [--partial-volume N]
//                        [--cancellous-offset HU]
//                        [--needle ENTRY:TARGET:GAUGE]... [--move TX,TY,TZ,RX,RY,RZ] (post-insertion CT)

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/PostInsertionPhantom.h"

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
    std::vector<std::string> needles;
    std::string move;
    double metalHu = 20000.0;
    double scannerMaxHu = 30000.0;
    double streakHu = 150.0;
};

/// Comma-separated numbers, e.g. "512,512,400"; exactly `count` of them.
std::vector<double> parseNumbers(const std::string& text, const char* option, std::size_t count)
{
    std::vector<double> values;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char* end = nullptr;
        const double v = std::strtod(item.c_str(), &end);
        if (item.empty() || end == item.c_str() || *end != '\0' || !std::isfinite(v))
            throw Error(ErrorCode::InvalidArgument,
                        std::string(option) + " '" + text + "': '" + item + "' is not a number");
        values.push_back(v);
    }
    if (values.size() != count)
        throw Error(ErrorCode::InvalidArgument, std::string(option) + " '" + text + "': expected " +
                                                    std::to_string(count) + " comma-separated values");
    return values;
}

std::vector<double> parseTriple(const std::string& text, const char* option)
{
    return parseNumbers(text, option, 3);
}

/// ENTRY:TARGET:GAUGE, e.g. "40,95,12:26.1,32.9,9.5:22" (LPS mm of the phantom at rest; gauge 22 or 22G).
phantom::PhantomNeedle parseNeedle(const std::string& text)
{
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, ':'))
        parts.push_back(part);
    if (parts.size() != 3)
        throw Error(ErrorCode::InvalidArgument,
                    "--needle '" + text + "': expected ENTRY:TARGET:GAUGE, e.g. 40,95,12:26,33,9.5:22");
    const auto entry = parseTriple(parts[0], "--needle entry");
    const auto target = parseTriple(parts[1], "--needle target");
    std::string gauge = parts[2];
    if (!gauge.empty() && (gauge.back() == 'G' || gauge.back() == 'g'))
        gauge.pop_back();
    char* end = nullptr;
    const long value = std::strtol(gauge.c_str(), &end, 10);
    if (gauge.empty() || *end != '\0')
        throw Error(ErrorCode::InvalidArgument,
                    "--needle '" + text + "': gauge '" + parts[2] + "' is not a number");
    return {{entry[0], entry[1], entry[2]}, {target[0], target[1], target[2]}, static_cast<int>(value)};
}

/// The post-insertion CT: the phantom moved, with needles; DIR/dicom/ and DIR/truth.json.
int runPostInsertion(const PhantomArguments& arguments, const phantom::PhantomOptions& grid)
{
    phantom::PostInsertionOptions options;
    options.phantom = grid;
    for (const std::string& needle : arguments.needles)
        options.needles.push_back(parseNeedle(needle));
    if (!arguments.move.empty()) {
        const auto move = parseNumbers(arguments.move, "--move", 6);
        options.moveMm = {move[0], move[1], move[2]};
        options.moveDeg = {move[3], move[4], move[5]};
    }
    options.metalHu = static_cast<float>(arguments.metalHu);
    options.scannerMaxHu = static_cast<float>(arguments.scannerMaxHu);
    options.streakHu = arguments.streakHu;
    const auto start = std::chrono::steady_clock::now();
    const phantom::PostInsertionPhantom result = phantom::generatePostInsertionCt(options);
    phantom::writePostInsertionPhantom(result, options, arguments.out);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto& g = result.ct.geometry();
    std::cout << "wrote a post-insertion CT of the lumbar phantom to " << arguments.out << " (" << g.size[0]
              << "x" << g.size[1] << "x" << g.size[2] << " voxels, " << result.needles.size()
              << " needle(s), moved " << norm(options.moveMm) << " mm and "
              << result.postFromPlanning.rotationAngleDeg() << " deg; truth in truth.json; " << seconds
              << " s)\n";
    return ExitSuccess;
}

int runPhantom(const PhantomArguments& arguments)
{
    phantom::PhantomOptions options;
    if (!arguments.size.empty()) {
        const auto size = parseTriple(arguments.size, "--size");
        for (int a = 0; a < 3; ++a) {
            const double v = size[static_cast<std::size_t>(a)];
            if (v < 1.0 || v > 4096.0 || v != std::floor(v))
                throw Error(ErrorCode::InvalidArgument,
                            "--size '" + arguments.size + "': sizes must be whole numbers 1..4096");
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

    if (!arguments.needles.empty() || !arguments.move.empty())
        return runPostInsertion(arguments, options);

    const auto start = std::chrono::steady_clock::now();
    const phantom::Phantom result = phantom::generateLumbarPhantom(options);
    const auto generated = std::chrono::steady_clock::now();
    phantom::writePhantom(result, arguments.out);
    const auto written = std::chrono::steady_clock::now();
    const auto& g = result.ct.geometry();
    const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
    std::cout << "wrote the lumbar phantom to " << arguments.out << " (" << g.size[0] << "x" << g.size[1]
              << "x" << g.size[2] << " voxels, spacing " << g.spacing.x << "x" << g.spacing.y << "x"
              << g.spacing.z << " mm, " << options.patientPosition << ", " << result.targets.size()
              << " targets; generated in " << seconds(generated - start) << " s, written in "
              << seconds(written - generated) << " s)\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "phantom",
    "Generate the sample lumbar phantom: DIR/dicom/, DIR/structures.seg.nrrd, DIR/targets.json (or, with "
    "--needle/--move, a post-insertion CT and DIR/truth.json)",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<PhantomArguments>();
        command.add_option("--out", arguments->out, "output folder")->required();
        command.add_option("--size", arguments->size,
                           "grid size in voxels I,J,K (default: the whole anatomy)");
        command.add_option("--spacing", arguments->spacing,
                           "voxel spacing in mm X,Y,Z (default 0.8,0.8,1.0)");
        command.add_option("--oblique-deg", arguments->obliqueDeg,
                           "rotate the grid by this angle (degrees) for tests");
        command
            .add_option("--patient-position", arguments->patientPosition, "HFS, HFP (default), FFS or FFP")
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
        command.add_option(
            "--needle", arguments->needles,
            "post-insertion CT: a needle ENTRY:TARGET:GAUGE in LPS mm of the phantom at rest, e.g. "
            "60,100,20:26.1,32.9,9.5:22 (repeatable)");
        command.add_option(
            "--move", arguments->move,
            "post-insertion CT: move the phantom by TX,TY,TZ (mm) after rotating RX,RY,RZ (degrees, "
            "about x then y then z, about the L4 body centre)");
        command.add_option("--metal-hu", arguments->metalHu, "needle metal in HU (default 20000)")
            ->check(CLI::Range(100.0, 60000.0));
        command
            .add_option("--scanner-max-hu", arguments->scannerMaxHu,
                        "largest value the scanner stores (default 30000; 3071 for a 12-bit scanner)")
            ->check(CLI::Range(1000.0, 60000.0));
        command
            .add_option("--streak-hu", arguments->streakHu, "streak artefact amplitude in HU (default 150)")
            ->check(CLI::Range(0.0, 2000.0));
        return [arguments] { return runPhantom(*arguments); };
    }};

} // namespace

} // namespace np::cli
