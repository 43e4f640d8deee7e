// needleplan-cli register: 2D/3D registration of one fluoroscopy frame to a CT, with the isocentre
// at a target; prints and writes the pose (exit 0 registered, 4 not registered, 2 bad input).

#include "ArgumentText.h"
#include "CliCommand.h"
#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/FluoroRegistration.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/PlanDocument.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::imaging;

struct RegisterArguments
{
    std::string image;
    int series = -1;
    std::string fluoro;
    int frame = 1;
    std::string isocenter;
    std::string plan;
    std::string targetName;
    std::optional<double> sid, sod, pixelSpacing;
    std::string metric = "gc";
    std::vector<std::string> landmarks;
    bool refine = false;
    int threads = 0;
    std::string out;
    bool json = false;
};

json vec(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}

/// Start distances of a registration with free distances (a mid-range C-arm); the registration
/// finds the frame's own within 500-1500 mm (SID) and 300 mm to SID - 50 mm (SOD).
constexpr double kFreeStartSidMm = 1000.0;
constexpr double kFreeStartSodMm = 700.0;

/// Fills the distances and spacing the header lacks with the user's values; names what was assumed.
/// A header with neither SID nor SOD, and none given, sets `freeDistances`: the registration then
/// finds them (from a mid-range start, listed in `assumed` as a start only).
std::vector<std::string> completeGeometry(ProjectionImage& image, const RegisterArguments& a,
                                          bool& freeDistances)
{
    std::vector<std::string> assumed;
    freeDistances = false;
    ProjectionGeometry& g = image.geometry;
    if (g.confidence == GeometryConfidence::Full)
        return assumed;
    if (g.confidence == GeometryConfidence::None)
        badArgument(image.sourcePath +
                    ": no positioner angles (geometry confidence none): registration needs the C-arm "
                    "angles of the frame as its start");
    auto fill = [&](std::optional<double>& field, const std::optional<double>& given, const char* option,
                    const char* attribute) {
        if (field)
            return;
        if (!given)
            badArgument(image.sourcePath + ": " + attribute + " is missing; give " + option +
                        " (the value of this C-arm)");
        if (!(*given > 0.0))
            badArgument(std::string(option) + " must be positive");
        field = *given;
        assumed.push_back(std::string(attribute) + " = " + std::to_string(*given) + " (" + option + ")");
    };
    if (!g.detectorPixelSpacingMm) {
        std::optional<double> spacing;
        if (!a.pixelSpacing && !g.sourceToDetectorMm && !g.sourceToIsocenterMm && !a.sid && !a.sod)
            badArgument(image.sourcePath +
                        ": ImagerPixelSpacing (0018,1164) and the distances are missing; give "
                        "--pixel-spacing (the detector's pitch: the SID and SOD are then registered "
                        "as free parameters) or --pixel-spacing with --sid and --sod");
        fill(spacing, a.pixelSpacing, "--pixel-spacing", "ImagerPixelSpacing (0018,1164)");
        g.detectorPixelSpacingMm = std::array<double, 2>{*spacing, *spacing};
    }
    if (!g.sourceToDetectorMm && !g.sourceToIsocenterMm && !a.sid && !a.sod) {
        // No distance at all: registered as free parameters from a mid-range start.
        freeDistances = true;
        g.sourceToDetectorMm = kFreeStartSidMm;
        g.sourceToIsocenterMm = kFreeStartSodMm;
        assumed.push_back("DistanceSourceToDetector (0018,1110) and DistanceSourceToPatient (0018,1111) "
                          "missing: registered as free parameters (start SID " +
                          std::to_string(kFreeStartSidMm) + " mm, SOD " + std::to_string(kFreeStartSodMm) +
                          " mm)");
    }
    fill(g.sourceToDetectorMm, a.sid, "--sid", "DistanceSourceToDetector (0018,1110)");
    fill(g.sourceToIsocenterMm, a.sod, "--sod", "DistanceSourceToPatient (0018,1111)");
    for (auto& f : g.frames) {
        if (!f.sourceToDetectorMm)
            f.sourceToDetectorMm = g.sourceToDetectorMm;
        if (!f.sourceToIsocenterMm)
            f.sourceToIsocenterMm = g.sourceToIsocenterMm;
    }
    g.confidence = GeometryConfidence::Full;
    return assumed;
}

/// "COL,ROW:X,Y,Z": a pixel of the frame (zero-based column and row) and the CT point (LPS mm).
FluoroLandmark parseLandmark(const std::string& text, int columns, int rows)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
        badArgument("--landmark \"" + text + "\" is not COLUMN,ROW:X,Y,Z");
    const std::string pixel = text.substr(0, colon);
    const std::size_t comma = pixel.find(',');
    if (comma == std::string::npos || pixel.find(',', comma + 1) != std::string::npos)
        badArgument("--landmark \"" + text + "\": the pixel is not COLUMN,ROW");
    FluoroLandmark l;
    l.pixel.column = parseNumber(pixel.substr(0, comma), "--landmark column");
    l.pixel.row = parseNumber(pixel.substr(comma + 1), "--landmark row");
    if (l.pixel.column < -0.5 || l.pixel.row < -0.5 || l.pixel.column > columns - 0.5 ||
        l.pixel.row > rows - 0.5)
        badArgument("--landmark \"" + text + "\": the pixel lies outside the frame (" +
                    std::to_string(columns) + " x " + std::to_string(rows) + ")");
    l.ctLps = parseLpsPoint(text.substr(colon + 1), "--landmark CT point");
    return l;
}

int runRegister(const RegisterArguments& a)
{
    const auto started = std::chrono::steady_clock::now();
    if (a.isocenter.empty() == a.plan.empty())
        badArgument(
            "give either --isocenter X,Y,Z (the target, LPS mm) or --plan with an optional --target-name");
    if (a.metric != "gc" && a.metric != "ncc")
        badArgument("--metric must be gc (gradient correlation) or ncc (normalised cross-correlation)");
    if (a.frame < 1)
        badArgument("--frame counts from 1");
    if (a.landmarks.size() > 2)
        badArgument("--landmark: give at most two landmarks");
    Vec3 isocenterLps;
    std::string targetName;
    if (!a.plan.empty()) {
        const planning::Plan plan = planning::loadPlan(a.plan);
        const planning::PlanTarget* target = &planTargetNamed(plan, a.plan, a.targetName);
        isocenterLps = target->targetLps;
        targetName = target->name;
    } else {
        isocenterLps = parseLpsPoint(a.isocenter, "--isocenter");
    }

    ProjectionImage fluoro = loadProjectionImage(a.fluoro);
    if (a.frame > fluoro.frameCount)
        badArgument(a.fluoro + ": frame " + std::to_string(a.frame) + " does not exist (" +
                    std::to_string(fluoro.frameCount) + " frames)");
    bool freeDistances = false;
    const std::vector<std::string> assumed = completeGeometry(fluoro, a, freeDistances);
    const CArmGeometry view = fluoro.frameView(a.frame - 1, isocenterLps);
    std::vector<FluoroLandmark> landmarks;
    for (const std::string& text : a.landmarks)
        landmarks.push_back(parseLandmark(text, fluoro.columns, fluoro.rows));
    const RigidTransform startViewFromCt =
        landmarks.empty() ? RigidTransform{} : landmarkStart(view, landmarks);

    LoadOptions load;
    load.seriesIndex = a.series;
    const Volume ct = loadVolume(a.image, load);
    AttenuationOptions attenuationOptions;
    attenuationOptions.threads = a.threads;
    const AttenuationVolume volume(ct, attenuationOptions);

    FluoroFrame frame;
    frame.columns = fluoro.columns;
    frame.rows = fluoro.rows;
    const float* pixels = fluoro.frame(a.frame - 1);
    frame.pixels.assign(pixels, pixels + static_cast<std::size_t>(fluoro.columns) * fluoro.rows);
    FluoroRegistrationOptions options;
    options.metric =
        a.metric == "gc" ? FluoroMetric::GradientCorrelation : FluoroMetric::NormalizedCrossCorrelation;
    options.threads = a.threads;
    options.refineOnly = a.refine;
    options.freeDistances = freeDistances;
    // With landmarks the comparison region is centred on what the user marked (the middle of two).
    if (!landmarks.empty()) {
        DetectorPixel centre{0.0, 0.0};
        for (const FluoroLandmark& l : landmarks)
            centre.column += l.pixel.column / static_cast<double>(landmarks.size()),
                centre.row += l.pixel.row / static_cast<double>(landmarks.size());
        options.regionCentre = centre;
    }
    const FluoroRegistrationResult r = registerFluoroscopy(volume, frame, view, options, startViewFromCt);
    const double totalSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    json out;
    out["schema"] = "needleplan.fluoro-pose/1";
    out["registered"] = r.registered;
    out["reason"] = r.reason;
    out["similarity"] = r.similarity;
    out["similarityBefore"] = r.similarityBefore;
    out["metric"] = toString(options.metric);
    out["peakDrop"] = r.peakDrop;
    json matrix = json::array();
    for (int row = 0; row < 3; ++row)
        matrix.push_back(json::array(
            {r.projection(row, 0), r.projection(row, 1), r.projection(row, 2), r.projection(row, 3)}));
    out["projectionMatrix"] = matrix;
    json pose = json::array();
    for (int row = 0; row < 3; ++row)
        pose.push_back(json::array({r.viewFromCt.rotation(row, 0), r.viewFromCt.rotation(row, 1),
                                    r.viewFromCt.rotation(row, 2), r.viewFromCt.translationMm[row]}));
    pose.push_back(json::array({0.0, 0.0, 0.0, 1.0}));
    out["poseLps"] = pose;
    out["poseMeaning"] = r.distancesFree
                             ? "maps CT LPS onto the C-arm's LPS frame of the header's angles with the "
                               "registered distances and the isocentre at isocenterLps"
                             : "maps CT LPS onto the C-arm's LPS frame of the header's view with the "
                               "isocentre at isocenterLps";
    out["distanceMode"] = r.distancesFree ? "free" : "given";
    out["sourceToDetectorMm"] = r.sourceToDetectorMm;
    out["sourceToIsocenterMm"] = r.sourceToIsocenterMm;
    out["isocenterLps"] = vec(isocenterLps);
    if (!targetName.empty())
        out["targetName"] = targetName;
    const DetectorPixel target = r.projection.project(isocenterLps);
    out["targetPixel"] = json::array({target.column, target.row});
    out["correctionMm"] = r.translationMm;
    out["correctionDeg"] = r.rotationDeg;
    out["maskedFraction"] = r.maskedFraction;
    out["drrsRendered"] = r.evaluations;
    out["drrsPerLevel"] = r.drrsPerLevel;
    out["registrationSeconds"] = r.seconds;
    out["totalSeconds"] = totalSeconds;
    out["fluoro"] = a.fluoro;
    out["frame"] = a.frame;
    out["sopInstanceUid"] = fluoro.sopInstanceUid;
    out["image"] = a.image;
    out["frameOfReferenceUid"] = ct.info().frameOfReferenceUid;
    out["assumedGeometry"] = assumed;
    json marks = json::array();
    for (const FluoroLandmark& l : landmarks)
        marks.push_back({{"pixel", json::array({l.pixel.column, l.pixel.row})}, {"ctLps", vec(l.ctLps)}});
    out["landmarks"] = marks;
    out["coarseSimilarity"] = r.coarseSimilarity;
    out["runnerUpSimilarity"] = r.runnerUpSimilarity;
    out["warnings"] = r.warnings;
    const std::string text = out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    writeFileAtomically(a.out, text);
    if (a.json) {
        std::cout << text;
    } else {
        std::cout << r.reason << "\n";
        std::cout << "target at pixel (" << target.column << ", " << target.row << "); registration "
                  << r.seconds << " s, " << totalSeconds << " s with loading; pose written to " << a.out
                  << "\n";
    }
    return r.registered ? ExitSuccess : ExitNoSafePath;
}

const CommandRegistration registration{
    "register", "2D/3D registration of a fluoroscopy frame to a CT (exit 0 registered, 4 not registered)",
    [](CLI::App& command) -> std::function<int()> {
        auto a = std::make_shared<RegisterArguments>();
        command.add_option("--image", a->image, "CT: DICOM file, folder or NRRD/NIfTI/MetaImage")->required();
        command.add_option("--series", a->series, "series index when the path holds several (see info)");
        command.add_option("--fluoro", a->fluoro, "projection image (XA, RF, DX, CR, Enhanced XA/XRF)")
            ->required();
        command.add_option("--frame", a->frame, "frame of a cine, counted from 1 (default 1)");
        command.add_option("--isocenter", a->isocenter,
                           "the target X,Y,Z in LPS mm: the start puts it at the "
                           "image centre");
        command.add_option("--plan", a->plan, "plan file whose target is the isocentre");
        command.add_option("--target-name", a->targetName, "target of the plan (default: the first)");
        command.add_option("--sid", a->sid,
                           "source-to-detector distance (mm) when the header lacks it; with neither "
                           "distance in the header nor given, SID and SOD are registered as free "
                           "parameters (SID 500-1500 mm, SOD 300 mm to SID - 50 mm; distanceMode free)");
        command.add_option("--sod", a->sod, "source-to-isocentre distance (mm) when the header lacks it");
        command.add_option("--pixel-spacing", a->pixelSpacing,
                           "detector pixel pitch (mm) when the header lacks it");
        command.add_option("--metric", a->metric, "gc (gradient correlation, default) or ncc");
        command
            .add_option("--landmark", a->landmarks,
                        "COLUMN,ROW:X,Y,Z: a point marked on the frame (zero-based pixel) and in the CT "
                        "(LPS mm); one refines the start's shift, two also its rotation about the beam "
                        "(repeatable, at most 2)")
            ->allow_extra_args(false);
        command.add_flag("--refine", a->refine, "small correction only (no search, no coarsest level)");
        command.add_option("--threads", a->threads, "threads (default: all cores)");
        command.add_option("--out", a->out, "pose file (JSON, needleplan.fluoro-pose/1)")->required();
        command.add_flag("--json", a->json, "print the pose file");
        return [a] { return runRegister(*a); };
    }};

} // namespace

} // namespace np::cli
