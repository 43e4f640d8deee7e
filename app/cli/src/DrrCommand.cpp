// needleplan-cli drr: a digitally reconstructed radiograph of a CT for C-arm angles or for the
// bull's-eye / progression / AP / lateral view of a planned trajectory, as PNG (display image with
// the plan drawn), NRRD (water-equivalent path length, mm) or DICOM XA (full geometry).

#include "ArgumentText.h"
#include "CliCommand.h"
#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::imaging;

struct DrrArguments
{
    std::string image;
    int series = -1;
    std::optional<double> primary, secondary;
    std::string isocenter;
    std::string plan;
    std::string targetName;
    int rank = 1;
    std::string view;
    double sid = 1000.0;
    double sod = 750.0;
    std::string size = "512";
    std::string detectorMm = "300";
    std::string sweepPrimary;
    std::string out;
    bool json = false;
    int threads = 0;
    bool invert = false;
    std::string dicomKind = "xa";
};

/// "W" or "WxH".
std::pair<double, double> pair(const std::string& text, const std::string& what)
{
    const auto x = text.find('x');
    if (x == std::string::npos) {
        const double v = parseNumber(text, what);
        return {v, v};
    }
    return {parseNumber(text.substr(0, x), what), parseNumber(text.substr(x + 1), what)};
}

json vec(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}

json matrixJson(const ProjectionMatrix& m)
{
    json rows = json::array();
    for (int r = 0; r < 3; ++r)
        rows.push_back(json::array({m(r, 0), m(r, 1), m(r, 2), m(r, 3)}));
    return rows;
}

/// Draws a line of `value` between two pixels (clipped to the image).
void drawLine(std::vector<std::uint8_t>& image, int columns, int rows, DetectorPixel a, DetectorPixel b,
              std::uint8_t value)
{
    const double length = std::hypot(b.column - a.column, b.row - a.row);
    const int steps = std::max(1, static_cast<int>(std::ceil(length * 2.0)));
    if (steps > 100000)
        return;
    for (int s = 0; s <= steps; ++s) {
        const double t = static_cast<double>(s) / steps;
        const long c = std::lround(a.column + t * (b.column - a.column));
        const long r = std::lround(a.row + t * (b.row - a.row));
        if (c >= 0 && r >= 0 && c < columns && r < rows)
            image[static_cast<std::size_t>(r) * columns + c] = value;
    }
}

void drawCross(std::vector<std::uint8_t>& image, int columns, int rows, DetectorPixel p, std::uint8_t value)
{
    drawLine(image, columns, rows, {p.column - 6, p.row}, {p.column + 6, p.row}, value);
    drawLine(image, columns, rows, {p.column, p.row - 6}, {p.column, p.row + 6}, value);
}

std::string extensionOf(const std::string& path)
{
    std::string e = std::filesystem::path(path).extension().string();
    for (char& c : e)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return e;
}

int runDrr(const DrrArguments& a)
{
    const std::string extension = extensionOf(a.out);
    if (extension != ".png" && extension != ".nrrd" && extension != ".dcm")
        badArgument("--out \"" + a.out + "\" must end in .png, .nrrd or .dcm");
    const bool anglesGiven = a.primary || a.secondary;
    if (anglesGiven == !a.plan.empty())
        badArgument("give either --primary and --secondary, or --plan with --view");
    if (anglesGiven && (!a.primary || !a.secondary))
        badArgument("--primary and --secondary go together");
    if (!a.plan.empty() && a.view.empty())
        badArgument("--plan needs --view bullseye|progression|ap|lateral");
    if (a.rank < 1)
        badArgument("--rank must be 1 or more");
    const std::optional<XaDicomKind> dicomKind = parseXaDicomKind(a.dicomKind);
    if (!dicomKind)
        badArgument("--dicom-kind must be xa or enhanced-xa (got \"" + a.dicomKind + "\")");
    const auto [columnsValue, rowsValue] = pair(a.size, "--size");
    const auto [detectorWidth, detectorHeight] = pair(a.detectorMm, "--detector-mm");
    if (columnsValue < 1 || rowsValue < 1 || columnsValue > 8192 || rowsValue > 8192 ||
        columnsValue != std::floor(columnsValue) || rowsValue != std::floor(rowsValue))
        badArgument("--size must be W or WxH pixels, 1 to 8192");
    if (!(detectorWidth > 0) || !(detectorHeight > 0))
        badArgument("--detector-mm must be positive");

    // Sweep: FROM:TO:COUNT primary angles.
    std::vector<double> sweep;
    if (!a.sweepPrimary.empty()) {
        const auto first = a.sweepPrimary.find(':'), second = a.sweepPrimary.rfind(':');
        if (first == std::string::npos || first == second)
            badArgument("--sweep-primary \"" + a.sweepPrimary + "\" must be FROM:TO:COUNT");
        const double from = parseNumber(a.sweepPrimary.substr(0, first), "--sweep-primary FROM");
        const double to =
            parseNumber(a.sweepPrimary.substr(first + 1, second - first - 1), "--sweep-primary TO");
        const double count = parseNumber(a.sweepPrimary.substr(second + 1), "--sweep-primary COUNT");
        if (count < 1 || count > 3600 || count != std::floor(count))
            badArgument("--sweep-primary COUNT must be a whole number from 1 to 3600");
        for (int n = 0; n < static_cast<int>(count); ++n)
            sweep.push_back(count == 1 ? from : from + (to - from) * n / (count - 1));
    }

    LoadOptions load;
    load.seriesIndex = a.series;
    const Volume ct = loadVolume(a.image, load);
    const Geometry& g = ct.geometry();
    const std::string position = ct.info().patientPosition.empty() ? "HFS" : ct.info().patientPosition;
    const planning::PatientPosition patientPosition =
        planning::parsePatientPosition(position).value_or(planning::PatientPosition::HFS);

    // The view: angles and isocentre, and the plan to draw.
    double primaryDeg = a.primary.value_or(0.0), secondaryDeg = a.secondary.value_or(0.0);
    Vec3 isocenterLps = g.lpsFromIjk({0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    std::optional<Vec3> targetLps, entryLps;
    if (!a.plan.empty()) {
        const planning::Plan plan = planning::loadPlan(a.plan);
        const planning::PlanTarget* target = &planTargetNamed(plan, a.plan, a.targetName);
        targetLps = target->targetLps;
        isocenterLps = target->targetLps;
        const planning::PlannedTrajectory* chosen = nullptr;
        for (const auto& t : target->trajectories)
            if (t.rank == a.rank)
                chosen = &t;
        if (chosen == nullptr && a.rank <= static_cast<int>(target->trajectories.size()))
            chosen = &target->trajectories[static_cast<std::size_t>(a.rank - 1)];
        if (chosen != nullptr)
            entryLps = chosen->trajectory.entryLps;
        Vec3 detector;
        if (a.view == "bullseye" || a.view == "progression") {
            if (!entryLps)
                throw Error(ErrorCode::NotFound, a.plan + ": target \"" + target->name +
                                                     "\" has no trajectory of rank " +
                                                     std::to_string(a.rank) + " for the " + a.view + " view");
            const auto angles = planning::computeTrajectoryAngles(*entryLps, *targetLps, patientPosition);
            detector = (a.view == "bullseye" ? angles.bullseye : angles.progression).detectorDirectionLps;
        } else if (a.view == "ap") {
            detector = planning::detectorDirectionFromTableAngles(0.0, 0.0, patientPosition);
        } else if (a.view == "lateral") {
            detector = {1.0, 0.0, 0.0};
        } else {
            badArgument("--view must be bullseye, progression, ap or lateral (got \"" + a.view + "\")");
        }
        planning::dicomAnglesFromDetectorDirection(detector, primaryDeg, secondaryDeg);
    }
    if (!a.isocenter.empty())
        isocenterLps = parseLpsPoint(a.isocenter, "--isocenter");
    if (sweep.empty())
        sweep.push_back(primaryDeg);

    std::vector<CArmGeometry> views;
    for (double primary : sweep) {
        CArmParameters p;
        p.primaryDeg = std::remainder(primary, 360.0);
        p.secondaryDeg = secondaryDeg;
        p.sourceToDetectorMm = a.sid;
        p.sourceToIsocenterMm = a.sod;
        p.isocenterLps = isocenterLps;
        p.patientPosition = position;
        p.columns = static_cast<int>(columnsValue);
        p.rows = static_cast<int>(rowsValue);
        p.columnSpacingMm = detectorWidth / p.columns;
        p.rowSpacingMm = detectorHeight / p.rows;
        views.emplace_back(p);
    }

    AttenuationOptions attenuationOptions;
    attenuationOptions.threads = a.threads;
    const AttenuationVolume volume(ct, attenuationOptions);
    DrrOptions options;
    options.threads = a.threads;
    std::vector<DrrImage> images;
    const auto start = std::chrono::steady_clock::now();
    for (const auto& view : views)
        images.push_back(renderDrr(volume, view, options));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double fps = seconds > 0.0 ? static_cast<double>(images.size()) / seconds : 0.0;

    // Display frames with the plan drawn on them (PNG and DICOM).
    DrrDisplayOptions display;
    display.invert = a.invert;
    std::vector<std::vector<std::uint8_t>> frames;
    if (extension != ".nrrd")
        for (std::size_t f = 0; f < images.size(); ++f) {
            auto pixels = drrDisplayImage(images[f], display);
            if (extension == ".png") {
                const CArmGeometry& view = views[f];
                if (entryLps && targetLps)
                    drawLine(pixels, images[f].columns, images[f].rows, view.project(*entryLps),
                             view.project(*targetLps), 255);
                if (targetLps)
                    drawCross(pixels, images[f].columns, images[f].rows, view.project(*targetLps), 255);
            }
            frames.push_back(std::move(pixels));
        }
    if (extension == ".nrrd") {
        writeDrrNrrd(a.out, images, views.front().parameters().columnSpacingMm,
                     views.front().parameters().rowSpacingMm);
    } else if (extension == ".dcm") {
        XaWriteOptions xa;
        xa.kind = *dicomKind;
        xa.inverted = a.invert;
        xa.sourceDicomFile = ct.info().sourceDicomFile;
        xa.frameOfReferenceUid = ct.info().frameOfReferenceUid;
        xa.seriesDescription = "DRR of " + (ct.info().description.empty() ? a.image : ct.info().description);
        for (const std::string& warning : writeXaImage(a.out, views, frames, xa))
            std::cerr << "warning: " << warning << "\n";
    } else if (frames.size() == 1) {
        writeGray8Png(a.out, images.front().columns, images.front().rows, frames.front());
    } else {
        const std::filesystem::path out(a.out);
        for (std::size_t f = 0; f < frames.size(); ++f) {
            char suffix[32];
            std::snprintf(suffix, sizeof suffix, "-%03u.png", static_cast<unsigned>(f + 1));
            writeGray8Png((out.parent_path() / (out.stem().string() + suffix)).string(), images[f].columns,
                          images[f].rows, frames[f]);
        }
    }

    if (a.json) {
        json document;
        document["out"] = a.out;
        document["patientPosition"] = position;
        document["isocenterLps"] = vec(isocenterLps);
        document["pixelSpacingMm"] = {{"detector", json::array({views.front().parameters().rowSpacingMm,
                                                                views.front().parameters().columnSpacingMm})},
                                      {"isocenter", json::array({views.front().isocenterRowSpacingMm(),
                                                                 views.front().isocenterColumnSpacingMm()})}};
        json frameList = json::array();
        for (std::size_t f = 0; f < views.size(); ++f) {
            json frame;
            frame["primaryDeg"] = views[f].parameters().primaryDeg;
            frame["secondaryDeg"] = views[f].parameters().secondaryDeg;
            frame["projectionMatrix"] = matrixJson(views[f].projectionMatrix());
            frame["sourceLps"] = vec(views[f].sourceLps());
            if (targetLps) {
                const DetectorPixel t = views[f].project(*targetLps);
                frame["targetPixel"] = json::array({t.column, t.row});
            }
            if (entryLps) {
                const DetectorPixel e = views[f].project(*entryLps);
                frame["entryPixel"] = json::array({e.column, e.row});
            }
            frameList.push_back(frame);
        }
        if (views.size() == 1) {
            for (auto& [key, value] : frameList.front().items())
                document[key] = value;
        } else {
            document["frames"] = frameList;
            document["framesPerSecond"] = fps;
        }
        std::cout << document.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
        std::cout << "wrote " << a.out << ": " << views.size() << " view(s), primary "
                  << views.front().parameters().primaryDeg << " deg, secondary " << secondaryDeg << " deg, "
                  << views.front().parameters().columns << "x" << views.front().parameters().rows
                  << " pixels\n";
        if (views.size() > 1)
            std::cout << "rendering: " << fps << " frames per second (loading excluded)\n";
    }
    return ExitSuccess;
}

const CommandRegistration registration{
    "drr", "Digitally reconstructed radiograph of a CT for C-arm angles or a planned trajectory's view",
    [](CLI::App& command) -> std::function<int()> {
        auto a = std::make_shared<DrrArguments>();
        command.add_option("--image", a->image, "CT: DICOM file, folder or NRRD/NIfTI/MetaImage")->required();
        command.add_option("--series", a->series, "series index when the path holds several (see info)");
        command.add_option("--primary", a->primary, "Positioner Primary Angle in degrees (LAO +, RAO -)");
        command.add_option("--secondary", a->secondary,
                           "Positioner Secondary Angle in degrees (CRA +, CAU -)");
        command.add_option(
            "--isocenter", a->isocenter,
            "isocentre X,Y,Z in LPS mm (default: the plan's target, else the volume's centre)");
        command.add_option("--plan", a->plan, "plan file (needleplan.plan/1) whose trajectory sets the view");
        command.add_option("--target-name", a->targetName, "target of the plan (default: the first)");
        command.add_option("--rank", a->rank, "trajectory rank of that target (default 1)");
        command.add_option("--view", a->view,
                           "bullseye | progression | ap (vertical beam for the CT's patient position) | "
                           "lateral (detector on the patient's left)");
        command.add_option("--sid", a->sid, "source-to-detector distance in mm (default 1000)");
        command.add_option("--sod", a->sod, "source-to-isocentre distance in mm (default 750)");
        command.add_option("--size", a->size, "detector pixels W or WxH (default 512)");
        command.add_option("--detector-mm", a->detectorMm, "detector size in mm W or WxH (default 300)");
        command.add_option("--sweep-primary", a->sweepPrimary,
                           "FROM:TO:COUNT primary angles (a rotation; prints frames per second)");
        command.add_option("--threads", a->threads, "rendering threads (default: all cores)");
        command.add_flag("--invert", a->invert, "bone bright in the display image");
        command
            .add_option("--out", a->out,
                        "F.png (display image with the plan), F.nrrd (water-equivalent path length, mm) or "
                        "F.dcm (XA with the geometry, in the CT's patient and study; see --dicom-kind)")
            ->required();
        command.add_option(
            "--dicom-kind", a->dicomKind,
            "xa (X-Ray Angiographic, the default) or enhanced-xa (Enhanced XA: per-frame "
            "functional groups with each frame's angles, distances and orientation); for .dcm");
        command.add_flag("--json", a->json,
                         "print projectionMatrix, sourceLps, isocenterLps, pixelSpacingMm and targetPixel "
                         "(per frame under \"frames\" for a sweep)");
        return [a] { return runDrr(*a); };
    }};

} // namespace

} // namespace np::cli
