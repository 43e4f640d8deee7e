// needleplan-cli markups export --plan plan.json --out plan.mrk.json
// needleplan-cli markups import F.mrk.json --plan plan.json --out plan2.json [--image PATH]
//   [--structures F]... [--preset NAME] [--needle NAME] [--margin NAME=MM]...

#include "CliCommand.h"
#include "TrajectoryEvaluation.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/SlicerMarkups.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

namespace np::cli {

namespace {

using namespace np::planning;

struct ExportArguments
{
    std::string plan;
    std::string out;
};

struct ImportArguments
{
    std::string markups;
    std::string plan;
    std::string out;
    EvaluationInputs evaluation;
};

int runExport(const ExportArguments& arguments)
{
    const Plan plan = loadPlan(arguments.plan);
    saveMarkups(plan, arguments.out);
    std::size_t lines = 0;
    for (const auto& target : plan.targets)
        lines += target.trajectories.size();
    std::cout << "wrote " << arguments.out << " (" << plan.targets.size() << " targets, " << lines
              << " trajectory lines, LPS)\n";
    return ExitSuccess;
}

int runImport(ImportArguments arguments)
{
    Plan plan = loadPlan(arguments.plan);
    const MarkupsContent markups = loadMarkups(arguments.markups);
    for (const auto& warning : markups.warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";
    if (markups.points.empty() && markups.lines.empty())
        throw Error(ErrorCode::InvalidArgument,
                    arguments.markups + ": holds no point list point and no line");
    std::vector<std::string> notes;
    const auto placements = placeMarkupsInPlan(plan, markups, notes);
    for (const auto& note : notes)
        std::cout << note << "\n";

    if (!placements.empty()) {
        EvaluationInputs& inputs = arguments.evaluation;
        if (inputs.image.empty())
            inputs.image = plan.image.path;
        if (inputs.image.empty())
            throw Error(ErrorCode::InvalidArgument,
                        arguments.plan + ": names no image; give --image to evaluate the lines");
        // The plan's structures file when it names exactly one that exists; else the automatic segmentation.
        if (inputs.structures.empty() && !plan.image.structuresPath.empty() &&
            plan.image.structuresPath.find("; ") == std::string::npos &&
            std::filesystem::is_regular_file(plan.image.structuresPath))
            inputs.structures.push_back(plan.image.structuresPath);
        if (inputs.needle.empty())
            inputs.needle = plan.needle.name;
        std::vector<Trajectory> trajectories;
        for (const auto& placement : placements)
            trajectories.push_back(placement.trajectory);
        const auto evaluations = evaluateTrajectories(inputs, trajectories, std::cout);
        for (std::size_t n = 0; n < placements.size(); ++n) {
            PlanTarget& target = plan.targets[placements[n].targetIndex];
            PlannedTrajectory planned;
            planned.origin = "manual";
            planned.trajectory = placements[n].trajectory;
            planned.evaluation = evaluations[n];
            int rank = 0;
            for (const auto& existing : target.trajectories)
                rank = std::max(rank, existing.rank);
            planned.rank = rank + 1;
            target.trajectories.push_back(planned);
            std::cout << "line \"" << placements[n].lineName << "\" -> target \"" << target.name << "\" #"
                      << planned.rank << ": " << (evaluations[n].safe ? "SAFE" : "UNSAFE") << ", length "
                      << evaluations[n].lengthMm << " mm\n";
            for (const auto& reason : evaluations[n].reasons)
                std::cout << "  " << reason << "\n";
        }
    }
    savePlan(plan, arguments.out);
    std::cout << "wrote " << arguments.out << "\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "markups", "3D Slicer markups (.mrk.json): a plan's targets and trajectories out, points and lines in",
    [](CLI::App& command) -> std::function<int()> {
        command.require_subcommand(1);
        auto exportArguments = std::make_shared<ExportArguments>();
        CLI::App* exporter = command.add_subcommand(
            "export", "Write the plan's targets (one point list) and trajectories (one Line each) in LPS");
        exporter->add_option("--plan", exportArguments->plan, "plan file (plan.json)")->required();
        exporter->add_option("--out", exportArguments->out, "output markups file (.mrk.json)")->required();
        auto importArguments = std::make_shared<ImportArguments>();
        CLI::App* importer = command.add_subcommand(
            "import",
            "Add a markups file's points (as targets) and lines (as evaluated trajectories) to a plan");
        importer
            ->add_option("FILE", importArguments->markups,
                         ".mrk.json with point lists and/or lines (LPS or RAS)")
            ->required();
        importer->add_option("--plan", importArguments->plan, "plan to add to")->required();
        importer->add_option("--out", importArguments->out, "plan file to write")->required();
        importer->add_option("--image", importArguments->evaluation.image,
                             "CT to evaluate on (default: the plan's)");
        importer->add_option("--series", importArguments->evaluation.series, "series index from `info`")
            ->check(CLI::NonNegativeNumber);
        importer->add_option("--structures", importArguments->evaluation.structures,
                             "structure files (default: the plan's file, else the automatic segmentation)");
        importer->add_option("--preset", importArguments->evaluation.preset, "procedure preset");
        importer->add_option("--needle", importArguments->evaluation.needle, "needle (default: the plan's)");
        importer->add_option("--margin", importArguments->evaluation.margins, "NAME=MM margin override");
        importer->add_option("--threads", importArguments->evaluation.threads, "worker threads")
            ->check(CLI::PositiveNumber);
        return [exportArguments, exporter, importArguments, importer]() -> int {
            if (exporter->parsed())
                return runExport(*exportArguments);
            if (importer->parsed())
                return runImport(*importArguments);
            std::cerr << "needleplan-cli: markups: no subcommand given (see --help)\n";
            return ExitBadInput;
        };
    }};

} // namespace

} // namespace np::cli
