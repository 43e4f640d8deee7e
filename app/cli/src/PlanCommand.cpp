// needleplan-cli plan: automatic trajectory planning for one or more targets, against structures
// imported from label maps, DICOM SEG and RTSTRUCT files and/or segmented automatically.
// needleplan-cli check: independent evaluation of one given trajectory.

#include "CliCommand.h"
#include "TrajectoryEvaluation.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/StructureImport.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/planning/VertebralLevel.h"
#include "needleplan/imaging/TotalSegmentatorImport.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/PlanValidation.h"
#include "needleplan/planning/Planner.h"
#include "needleplan/planning/StructureAssembly.h"
#include "needleplan/planning/TargetCatalogue.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::planning;

/// Options shared by plan and check.
struct CommonArguments
{
    std::string image;
    int series = -1;
    std::vector<std::string> structures;
    std::string classMap; ///< --class-map: names for a multilabel NIfTI without a label table
    std::string autoSegment;                        ///< value of --auto-segment (empty: the default list)
    const CLI::Option* autoSegmentOption = nullptr; ///< to know whether --auto-segment was given
    std::string preset;
    std::string needle;
    std::vector<std::string> margins;
    bool json = false;
    int threads = 2;
};

struct PlanArguments : CommonArguments
{
    std::vector<std::string> targets;
    std::vector<std::string> targetNames;
    std::string targetsFile;
    int top = 5;
    int directions = 20000;
    std::string out;
    std::string accessibility;
};

struct CheckArguments : CommonArguments
{
    std::string entry;
    std::string target;
};

Vec3 parsePoint(const std::string& text, const std::string& what)
{
    Vec3 p;
    std::string rest = text;
    for (int a = 0; a < 3; ++a) {
        const auto comma = rest.find(',');
        const std::string part = a < 2 ? rest.substr(0, comma) : rest;
        if ((a < 2 && comma == std::string::npos) || part.empty())
            throw Error(ErrorCode::InvalidArgument, what + " \"" + text + "\" must be X,Y,Z in LPS mm");
        std::size_t used = 0;
        double value = 0.0;
        try {
            value = std::stod(part, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != part.size() || !std::isfinite(value))
            throw Error(ErrorCode::InvalidArgument, what + " \"" + text + "\" must be X,Y,Z in LPS mm");
        p[a] = value;
        if (a < 2)
            rest = rest.substr(comma + 1);
    }
    return p;
}

/// Loaded image, labels and the planning rules common to plan and check.
struct Setup
{
    imaging::Volume ct;
    imaging::LabelMap labels; ///< every source flattened onto the CT grid (StructureAssembly.h)
    Preset preset;
    Needle needle;
    std::vector<StructureSpec> structures;
    PatientPosition position = PatientPosition::HFS;
    /// Body mask of the automatic segmentation (on the CT grid); empty when it was not run.
    std::vector<std::uint8_t> segmentedBody;
    std::string structuresDescription; ///< the sources, for the plan document
    /// The automatic segmentation's vertebra labels when the vertebrae are not planning structures
    /// (the default list): they name each target's level only.
    imaging::LabelMap levelLabels;
};

/// True when two grids agree to within a thousandth of a millimetre (the import's own tolerance).
bool sameGrid(const imaging::Geometry& a, const imaging::Geometry& b)
{
    if (a.size != b.size || distance(a.spacing, b.spacing) > 1e-4 ||
        distance(a.originLps, b.originLps) > 1e-3)
        return false;
    for (std::size_t e = 0; e < 9; ++e)
        if (std::abs(a.directionLps.m[e] - b.directionLps.m[e]) > 1e-5)
            return false;
    return true;
}

/// Parses NAME=MM margin overrides and applies them to `structures`.
void applyMarginOverrides(const std::vector<std::string>& margins, std::vector<StructureSpec>& structures)
{
    for (const std::string& margin : margins) {
        const auto equals = margin.rfind('=');
        if (equals == std::string::npos || equals == 0)
            throw Error(ErrorCode::InvalidArgument, "--margin \"" + margin + "\" must be NAME=MM");
        double value = 0.0;
        std::size_t used = 0;
        const std::string number = margin.substr(equals + 1);
        try {
            value = std::stod(number, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != number.size())
            throw Error(ErrorCode::InvalidArgument,
                        "--margin \"" + margin + "\": \"" + number + "\" is not a number");
        if (overrideStructures(structures, margin.substr(0, equals), value) == 0)
            throw Error(ErrorCode::InvalidArgument,
                        "--margin \"" + margin + "\": no structure of the plan matches");
    }
}

std::string formatMm(double value)
{
    std::ostringstream text;
    text << std::fixed << std::setprecision(1) << value << " mm";
    return text.str();
}

/// Prints the structures the planner uses, with their class, margin and origin, then the notes.
void printStructures(const StructureAssembly& assembly, std::ostream& out)
{
    out << "Structures (" << assembly.details.size() << "):\n";
    for (const AssembledStructure& s : assembly.details) {
        out << "  " << std::left << std::setw(34) << s.spec.name << std::right << " " << std::setw(9)
            << toString(s.spec.structureClass);
        const bool hasMargin = s.spec.structureClass == StructureClass::Forbidden ||
                               s.spec.structureClass == StructureClass::Obstacle ||
                               s.spec.structureClass == StructureClass::Caution;
        out << "  margin " << std::setw(7) << (hasMargin ? formatMm(s.spec.marginMm) : std::string("-"))
            << (s.marginRaised ? " (raised)" : "") << "  " << std::setw(10) << s.voxelCount << " voxels";
        if (s.keptVoxelCount != s.voxelCount)
            out << " (" << s.keptVoxelCount << " after overlaps)";
        out << "  from " << s.source << "  ["
            << (s.spec.rule.empty() ? std::string("set by hand") : s.spec.rule) << "]\n";
        for (const std::string& adjustment : s.spec.adjustments)
            out << "      " << adjustment << "\n";
    }
}

/// Checks positions against the CT's grid once it is loaded, before anything is computed.
using ImageCheck = std::function<void(const imaging::Geometry&)>;

Setup prepare(const CommonArguments& arguments, std::ostream& info, const ImageCheck& checkImage = {})
{
    Setup setup;
    setup.preset = loadPreset(arguments.preset);
    const std::string needleName = arguments.needle.empty() ? setup.preset.needle : arguments.needle;
    const auto needle = findNeedle(needleName);
    if (!needle) {
        std::string known;
        for (const auto& n : needleCatalogue())
            known += (known.empty() ? "" : ", ") + n.name;
        throw Error(ErrorCode::InvalidArgument, "unknown needle \"" + needleName + "\" (catalogue: " + known +
                                                    "; or <gauge>G-<length>mm[-RF<tip>])");
    }
    setup.needle = *needle;
    // The automatic segmentation: asked for, or the default when no structure file is given.
    const bool autoSegmentGiven = arguments.autoSegmentOption && arguments.autoSegmentOption->count() > 0;
    const bool autoSegment = autoSegmentGiven || arguments.structures.empty();
    const std::string autoList =
        arguments.autoSegment.empty() ? "body,bone,spinal_canal,lung,bowel_gas" : arguments.autoSegment;
    imaging::SegmentationOptions segmentation;
    if (autoSegment) // checked before the CT is loaded
        imaging::selectStructures(segmentation, autoList);

    imaging::LoadOptions load;
    load.seriesIndex = arguments.series;
    setup.ct = imaging::loadVolume(arguments.image, load);
    if (checkImage)
        checkImage(setup.ct.geometry());
    for (const auto& warning : setup.ct.info().warnings)
        std::cerr << "needleplan-cli: warning: " << warning << "\n";

    // Every source is imported onto the CT's grid; the sets own the masks the inputs point at.
    // A label map already on the CT's grid is used as it is (no mask per segment); other label maps
    // are resampled onto it (labelMapOnGrid, as importStructures does).
    std::vector<imaging::StructureSet> sets;
    sets.reserve(arguments.structures.size() + 1);
    std::vector<imaging::LabelMap> labelMaps;
    labelMaps.reserve(arguments.structures.size());
    std::vector<StructureInput> inputs;
    std::vector<std::string> notes;
    std::size_t importedSets = 0;
    for (const std::string& file : arguments.structures) {
        const std::size_t before = inputs.size();
        std::vector<std::string> warnings;
        if (imaging::isTotalSegmentatorFolder(file) || imaging::isNiftiFile(file)) {
            // TotalSegmentator's folder of masks or a multilabel NIfTI, straight onto the CT grid.
            imaging::TotalSegmentatorImportOptions options;
            options.classMap = classMapFor(arguments.classMap);
            labelMaps.push_back(imaging::importTotalSegmentator(file, setup.ct, options, &warnings));
            appendStructureInputs(inputs, labelMaps.back(), file, &notes);
        } else if (imaging::detectStructureFile(file) == imaging::StructureFileKind::LabelMap) {
            imaging::LabelMap labels = imaging::readLabelMap(file);
            if (sameGrid(labels.geometry(), setup.ct.geometry())) {
                labelMaps.push_back(std::move(labels));
                appendStructureInputs(inputs, labelMaps.back(), file, &notes);
            } else {
                sets.push_back(imaging::labelMapOnGrid(labels, setup.ct.geometry(), file, &warnings));
            }
        } else {
            sets.push_back(imaging::importStructures(file, setup.ct));
            warnings = sets.back().warnings();
        }
        if (inputs.size() == before && sets.size() > importedSets)
            appendStructureInputs(inputs, sets.back(), file, &notes);
        importedSets = sets.size();
        if (inputs.size() == before)
            throw Error(ErrorCode::InvalidArgument, file + ": the file holds no structure");
        for (const auto& warning : warnings)
            std::cerr << "needleplan-cli: warning: " << warning << "\n";
        setup.structuresDescription += (setup.structuresDescription.empty() ? "" : "; ") + file;
    }
    if (autoSegment) {
        if (arguments.structures.empty())
            info << "No --structures given: segmenting " << autoList
                 << " automatically (thresholds in HU; see `needleplan-cli segment`)\n";
        else
            info << "Automatic segmentation: " << autoList << "\n";
        if (!setup.ct.info().modality.empty() && setup.ct.info().modality != "CT")
            std::cerr << "needleplan-cli: warning: the image is " << setup.ct.info().modality
                      << ", not CT; the segmentation thresholds assume Hounsfield units\n";
        segmentation.threads = arguments.threads;
        // The vertebrae are labelled even when they are not planning structures: their names give
        // each target's level.
        const bool levelsOnly = !segmentation.vertebrae;
        segmentation.vertebrae = true;
        sets.push_back(imaging::segmentStructures(setup.ct, segmentation));
        for (const auto& warning : sets.back().warnings())
            std::cerr << "needleplan-cli: warning: automatic segmentation: " << warning << "\n";
        if (levelsOnly) {
            imaging::StructureSet levels(setup.ct.geometry());
            auto& all = sets.back().structures();
            for (auto it = all.begin(); it != all.end();) {
                if (isVertebraName(it->segment.name)) {
                    levels.structures().push_back(std::move(*it));
                    it = all.erase(it);
                } else {
                    ++it;
                }
            }
            if (!levels.structures().empty())
                setup.levelLabels = levels.toLabelMap();
        }
        appendStructureInputs(inputs, sets.back(), "automatic segmentation", &notes);
        setup.structuresDescription +=
            (setup.structuresDescription.empty() ? "" : "; ") + ("automatic segmentation (" + autoList + ")");
        if (const imaging::StructureMask* body = sets.back().find("body"); body && body->voxelCount() > 0)
            setup.segmentedBody = body->voxels;
    }

    // Rules by name, then the preset's, then the user's overrides, before the overlaps are resolved
    // (which structure owns a shared voxel depends on the classes and margins).
    std::vector<StructureSpec> specs;
    for (const auto& input : inputs)
        specs.push_back(input.spec);
    applyPresetRules(setup.preset, specs);
    applyMarginOverrides(arguments.margins, specs);
    for (std::size_t n = 0; n < inputs.size(); ++n)
        inputs[n].spec = specs[n];
    StructureAssembly assembly = assembleStructures(setup.ct.geometry(), inputs);
    printStructures(assembly, info);
    for (const auto& note : notes) // an unknown terminology code is a warning, a renamed duplicate a note
        std::cerr << "needleplan-cli: "
                  << (note.find("not in the terminology table") != std::string::npos ? "warning: " : "note: ")
                  << note << "\n";
    for (const auto& note : assembly.notes)
        std::cerr << "needleplan-cli: note: " << note << "\n";
    setup.labels = std::move(assembly.labels);
    setup.structures = std::move(assembly.structures);
    inputs.clear();
    sets.clear();

    const auto position = parsePatientPosition(setup.ct.info().patientPosition);
    setup.position = position.value_or(PatientPosition::HFS);
    if (!position)
        std::cerr << "needleplan-cli: note: the image states no patient position; angles assume HFS\n";
    return setup;
}

/// The body for the search: the automatic segmentation's body when it ran, else from the CT.
BodyModel bodyModel(Setup& setup, std::ostream& info)
{
    if (!setup.segmentedBody.empty()) {
        info << "Body and skin: the automatic segmentation's body\n";
        BodyModel body = BodyModel::fromMask(setup.ct.geometry(), std::move(setup.segmentedBody));
        setup.segmentedBody.clear();
        return body;
    }
    return BodyModel::fromCt(setup.ct);
}

std::string fixed(double value, int decimals = 1)
{
    if (!std::isfinite(value))
        return "-";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
    return buffer;
}

std::string point(const Vec3& p)
{
    return "(" + fixed(p.x) + ", " + fixed(p.y) + ", " + fixed(p.z) + ")";
}

void printTable(const Plan& plan, std::ostream& out)
{
    for (const auto& target : plan.targets) {
        out << "\nTarget \"" << target.name << "\" at " << point(target.targetLps) << " LPS mm"
            << (target.vertebralLevel.empty() ? std::string() : " (" + target.vertebralLevel + ")") << ", preset "
            << target.preset << ", needle " << plan.needle.name << ": " << target.feasibleDirections << " of "
            << target.directionsSearched << " directions feasible\n";
        if (target.trajectories.empty()) {
            out << "  no trajectory meets the constraints\n";
            continue;
        }
        out << "  rank  entry LPS (mm)              length  depth  min clearance (structure)          CC deg "
               " ML deg"
               "  bull's-eye DICOM prim/sec  table obl/tilt  progression prim/sec\n";
        for (const auto& p : target.trajectories) {
            const Evaluation& e = p.evaluation;
            std::string closest = "-";
            if (e.closestIndex >= 0) {
                const auto& c = e.clearances[static_cast<std::size_t>(e.closestIndex)];
                closest = (c.lowerBound ? "> " : "") + fixed(c.clearanceMm) + " mm (" + c.structure + ")";
            }
            char line[512];
            std::snprintf(
                line, sizeof line,
                "  %-4d  %-26s  %6s  %5s  %-33s  %6s  %6s  %12s/%-12s  %6s/%-7s  %9s/%-9s\n", p.rank,
                point(p.trajectory.entryLps).c_str(), fixed(e.lengthMm).c_str(),
                fixed(e.depthFromSkinMm).c_str(), closest.c_str(), fixed(e.angles.craniocaudalDeg).c_str(),
                fixed(e.angles.mediolateralDeg).c_str(), fixed(e.angles.bullseye.primaryDeg).c_str(),
                fixed(e.angles.bullseye.secondaryDeg).c_str(), fixed(e.angles.bullseye.obliqueDeg).c_str(),
                fixed(e.angles.bullseye.tiltDeg).c_str(), fixed(e.angles.progression.primaryDeg).c_str(),
                fixed(e.angles.progression.secondaryDeg).c_str());
            out << line;
        }
    }
    out << "\nAngles: CC + = needle travels cranially; ML = from the AP axis. DICOM primary LAO+/RAO-, "
           "secondary "
           "CRA+/CAU- (patient-based, PS3.3 C.8.7.5); table oblique + toward the patient's left, tilt + "
           "cranial, "
           "from the vertical beam for the patient position of the CT.\n";
}

/// Per-direction search results of every target (the accessibility map on the skin).
json accessibilityJson(const PlanOutcome& outcome)
{
    auto vec = [](const Vec3& v) { return json::array({v.x, v.y, v.z}); };
    json targets = json::array();
    for (std::size_t n = 0; n < outcome.searches.size(); ++n) {
        const SearchResult& search = outcome.searches[n];
        json directions = json::array();
        for (const DirectionResult& d : search.directions) {
            json entry = {{"directionLps", vec(d.directionLps)},
                          {"feasible", d.feasible},
                          {"reason", toString(d.reason)},
                          {"depthMm", d.depthMm}};
            if (d.reachedSkin)
                entry["skinEntryLps"] = vec(d.skinEntryLps);
            if (d.feasible) {
                entry["score"] = d.score;
                entry["slackMm"] = d.slackMm;
                entry["pareto"] = d.pareto;
            }
            directions.push_back(entry);
        }
        targets.push_back({{"name", outcome.plan.targets[n].name},
                           {"targetLps", vec(search.targetLps)},
                           {"idealOutwardLps", vec(search.window.idealOutwardLps)},
                           {"windowDeg", search.window.windowDeg},
                           {"directions", directions}});
    }
    return {{"schema", "needleplan.accessibility/1"}, {"coordinateSystem", "LPS"}, {"targets", targets}};
}

int runPlan(const PlanArguments& arguments)
{
    std::vector<TargetRequest> targets;
    std::vector<std::string> targetSources; // where each target came from, for messages
    for (std::size_t n = 0; n < arguments.targets.size(); ++n) {
        targets.push_back({"target " + std::to_string(n + 1), parsePoint(arguments.targets[n], "--target")});
        targetSources.push_back("--target " + arguments.targets[n]);
    }
    if (!arguments.targetNames.empty()) {
        if (arguments.targetsFile.empty())
            throw Error(ErrorCode::InvalidArgument, "--target-name needs --targets FILE");
        const auto catalogue = readTargetCatalogue(arguments.targetsFile);
        for (const std::string& name : arguments.targetNames) {
            bool found = false;
            for (const auto& t : catalogue)
                if (t.name == name || name == "all") {
                    targets.push_back(t);
                    targetSources.push_back(arguments.targetsFile);
                    found = true;
                }
            if (!found) {
                std::string known;
                for (const auto& t : catalogue)
                    known += (known.empty() ? "\"" : ", \"") + t.name + "\"";
                throw Error(ErrorCode::NotFound, arguments.targetsFile + ": no target named \"" + name +
                                                     "\" (known: " + known + ", or all)");
            }
        }
    }
    if (targets.empty())
        throw Error(ErrorCode::InvalidArgument, "give --target X,Y,Z or --target-name NAME --targets FILE");

    std::ostream& table = arguments.json ? std::cerr : std::cout;
    Setup setup = prepare(arguments, table, [&](const imaging::Geometry& image) {
        for (std::size_t n = 0; n < targets.size(); ++n)
            requireTargetInImage(targets[n].targetLps, image, targetSources[n],
                                 "target \"" + targets[n].name + "\"");
    });
    const BodyModel body = bodyModel(setup, table);
    ClearanceFieldOptions fieldOptions;
    fieldOptions.threads = arguments.threads;
    ClearanceFieldSet fields(setup.labels, fieldOptions);

    PlanRequest request;
    request.targets = targets;
    request.preset = setup.preset;
    request.needle = setup.needle;
    request.structures = setup.structures;
    request.options.directionCount = arguments.directions;
    request.options.topK = arguments.top;
    request.options.threads = arguments.threads;
    request.options.evaluation.patientPosition = setup.position;
    request.image.path = arguments.image;
    request.image.seriesUid = setup.ct.info().seriesUid;
    request.image.frameOfReferenceUid = setup.ct.info().frameOfReferenceUid;
    request.image.patientPosition = setup.ct.info().patientPosition;
    request.image.structuresPath = setup.structuresDescription;
    PlanOutcome outcome = planTargets(fields, body, request);
    // Each target carries the vertebra it sits on when the structures name vertebrae.
    for (auto& t : outcome.plan.targets) {
        auto level = vertebralLevelAt(setup.labels, t.targetLps);
        if (!level && !setup.levelLabels.segments().empty())
            level = vertebralLevelAt(setup.levelLabels, t.targetLps);
        if (level)
            t.vertebralLevel = level->ambiguous ? level->level + " (or " + level->runnerUp + ")" : level->level;
    }
    savePlan(outcome.plan, arguments.out);
    if (!arguments.accessibility.empty())
        writeFileAtomically(
            arguments.accessibility,
            accessibilityJson(outcome).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");

    printTable(outcome.plan, table);
    table << "plan written to " << arguments.out << "\n";
    if (arguments.json)
        std::cout << planToJson(outcome.plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    for (const auto& t : outcome.plan.targets)
        if (t.trajectories.empty()) {
            std::cerr << "needleplan-cli: no safe trajectory for \"" << t.name << "\"\n";
            return ExitNoSafePath;
        }
    return ExitSuccess;
}

int runCheck(const CheckArguments& arguments)
{
    const Vec3 entry = parsePoint(arguments.entry, "--entry");
    const Vec3 target = parsePoint(arguments.target, "--target");
    if (distance(entry, target) < 1e-3)
        throw Error(ErrorCode::InvalidArgument, "--entry and --target are the same point");
    std::ostream& info = arguments.json ? std::cerr : std::cout;
    Setup setup = prepare(arguments, info, [&](const imaging::Geometry& image) {
        requireTargetInImage(target, image, "--target " + arguments.target, "the target");
        requireEntryNearImage(entry, image, "--entry " + arguments.entry, "the entry");
    });
    const BodyModel body = bodyModel(setup, info);
    ClearanceFieldOptions fieldOptions;
    fieldOptions.threads = arguments.threads;
    ClearanceFieldSet fields(setup.labels, fieldOptions);
    // Only the segment's surroundings are queried: its bounding box grown by 5 mm.
    fields.prepareRegion(setup.structures, {entry, target}, 5.0);
    TrajectoryEvaluator evaluator(fields, setup.structures, &body);
    EvaluationOptions options;
    options.tipZoneMm = setup.preset.tipZoneMm;
    options.patientPosition = setup.position;
    options.midlineXLps = body.midlineXLps();
    const Trajectory trajectory{entry, target, setup.needle};
    const Evaluation e = evaluator.evaluate(trajectory, options);
    if (arguments.json) {
        std::cout
            << evaluationToJson(trajectory, e).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
    } else {
        std::cout << (e.safe ? "SAFE" : "UNSAFE") << ": " << point(entry) << " -> " << point(target)
                  << " LPS mm, " << setup.needle.name << ", length " << fixed(e.lengthMm)
                  << " mm, depth from skin " << fixed(e.depthFromSkinMm) << " mm\n";
        for (const auto& r : e.reasons)
            std::cout << "  " << r << "\n";
        for (const auto& w : e.warnings)
            std::cout << "  warning: " << w << "\n";
        std::cout << "  clearances (needle surface, mm):\n";
        for (const auto& c : e.clearances)
            std::cout << "    " << c.structure << " [" << toString(c.structureClass) << "] "
                      << (c.lowerBound ? "> " : "") << fixed(c.clearanceMm) << " (margin "
                      << fixed(c.marginMm) << ")" << (c.violated ? "  VIOLATED" : "") << "\n";
        std::cout << "  angles: craniocaudal " << fixed(e.angles.craniocaudalDeg) << " deg ("
                  << e.angles.craniocaudalName << "), mediolateral " << fixed(e.angles.mediolateralDeg)
                  << " deg\n"
                  << "  bull's-eye: DICOM primary " << fixed(e.angles.bullseye.primaryDeg) << ", secondary "
                  << fixed(e.angles.bullseye.secondaryDeg) << "; table oblique "
                  << fixed(e.angles.bullseye.obliqueDeg) << ", tilt " << fixed(e.angles.bullseye.tiltDeg)
                  << "\n"
                  << "  progression: DICOM primary " << fixed(e.angles.progression.primaryDeg)
                  << ", secondary " << fixed(e.angles.progression.secondaryDeg) << "\n";
    }
    return e.safe ? ExitSuccess : ExitNoSafePath;
}

void addCommonOptions(CLI::App& command, CommonArguments& arguments)
{
    command
        .add_option("--image", arguments.image, "CT: DICOM file/folder/DICOMDIR, NRRD, NIfTI or MetaImage")
        ->required();
    command.add_option("--series", arguments.series, "series index when the path holds several (see info)");
    command.add_option("--structures", arguments.structures,
                       "structures to respect, imported onto the CT's grid: .seg.nrrd or label map "
                       "(NRRD/MetaImage), a TotalSegmentator output folder (segmentations/<name>.nii.gz) "
                       "or multilabel NIfTI, DICOM SEG or RTSTRUCT (repeatable; e.g. the output of "
                       "segment or structures import). Overlaps: the more severe class owns the voxel");
    command.add_option("--class-map", arguments.classMap,
                       "label names for a multilabel NIfTI whose header has no label table: "
                       "totalsegmentator-v2 (TotalSegmentator's 'total' numbering) or totalsegmentator-v1");
    arguments.autoSegmentOption =
        command
            .add_option(
                "--auto-segment", arguments.autoSegment,
                "also segment the CT automatically: comma-separated subset of body,bone,"
                "spinal_canal,lung,bowel_gas,vertebrae (bare flag: all but vertebrae). On by default, "
                "all but vertebrae, when no --structures is given. A segmented body is also the body "
                "and skin of the search. The vertebrae are labelled in any case to name each target's "
                "level; listed, they are planning structures too")
            ->expected(0, 1);
    command.add_option(
        "--preset", arguments.preset,
        "procedure preset name (lumbar-mbb, l5-dorsal-ramus, lumbar-rfa-parallel, lumbar-facet-ia, "
        "cervical-mbb-lateral, lumbar-tfesi) or a preset .json path; default: generic");
    command.add_option("--needle", arguments.needle, "needle, e.g. 22G-90mm (default: the preset's)");
    command.add_option("--margin", arguments.margins, "NAME=MM margin override; NAME may use * (repeatable)");
    command.add_flag("--json", arguments.json, "also print JSON to stdout");
    command.add_option("--threads", arguments.threads, "worker threads (default 2)")
        ->check(CLI::Range(1, 64));
}

const CommandRegistration planRegistration{
    "plan", "Search safe needle trajectories for targets and write a plan (exit 4: a target has none)",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<PlanArguments>();
        addCommonOptions(command, *arguments);
        command.add_option("--target", arguments->targets, "target X,Y,Z in LPS mm (repeatable)");
        command.add_option("--target-name", arguments->targetNames,
                           "target name in --targets, or all (repeatable)");
        command.add_option("--targets", arguments->targetsFile, "targets.json catalogue");
        command.add_option("--top", arguments->top, "trajectories per target (default 5)")
            ->check(CLI::Range(1, 100));
        command
            .add_option("--directions", arguments->directions,
                        "directions searched per target (default 20000)")
            ->check(CLI::Range(1, 2000000));
        command.add_option("--out", arguments->out, "plan file to write (JSON)")->required();
        command.add_option(
            "--accessibility", arguments->accessibility,
            "also write every searched direction (feasible, reason, score, skin entry) as JSON");
        return [arguments] { return runPlan(*arguments); };
    }};

const CommandRegistration checkRegistration{
    "check", "Evaluate one trajectory: clearances, violations, angles (exit 4 when unsafe)",
    [](CLI::App& command) -> std::function<int()> {
        auto arguments = std::make_shared<CheckArguments>();
        addCommonOptions(command, *arguments);
        command.add_option("--entry", arguments->entry, "entry X,Y,Z in LPS mm")->required();
        command.add_option("--target", arguments->target, "target X,Y,Z in LPS mm")->required();
        return [arguments] { return runCheck(*arguments); };
    }};

} // namespace

std::vector<planning::Evaluation> evaluateTrajectories(const EvaluationInputs& inputs,
                                                       const std::vector<planning::Trajectory>& trajectories,
                                                       std::ostream& info)
{
    CommonArguments arguments;
    arguments.image = inputs.image;
    arguments.series = inputs.series;
    arguments.structures = inputs.structures;
    arguments.preset = inputs.preset;
    arguments.needle = inputs.needle;
    arguments.margins = inputs.margins;
    arguments.threads = inputs.threads;
    Setup setup = prepare(arguments, info);
    const BodyModel body = bodyModel(setup, info);
    ClearanceFieldOptions fieldOptions;
    fieldOptions.threads = inputs.threads;
    ClearanceFieldSet fields(setup.labels, fieldOptions);
    std::vector<Vec3> points;
    for (const auto& trajectory : trajectories) {
        points.push_back(trajectory.entryLps);
        points.push_back(trajectory.targetLps);
    }
    if (!points.empty())
        fields.prepareRegion(setup.structures, points, 5.0);
    TrajectoryEvaluator evaluator(fields, setup.structures, &body);
    EvaluationOptions options;
    options.tipZoneMm = setup.preset.tipZoneMm;
    options.patientPosition = setup.position;
    options.midlineXLps = body.midlineXLps();
    std::vector<planning::Evaluation> evaluations;
    for (const auto& trajectory : trajectories)
        evaluations.push_back(evaluator.evaluate(trajectory, options));
    return evaluations;
}

} // namespace np::cli
