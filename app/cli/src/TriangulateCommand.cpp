// needleplan-cli triangulate: a point marked on two X-ray views becomes a 3D point: with the
// registered poses of `register`, in the CT's LPS; without them, relative to the shared isocentre
// of a C-arm turning about it (LPS directions), from the headers' angles and distances.

#include "ArgumentText.h"
#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Triangulation.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace np::cli {

namespace {

using nlohmann::json;
using namespace np::imaging;

struct TriangulateArguments
{
    std::vector<std::string> views;
    std::string pose1, pose2;
    double warnGapMm = 2.0;
    bool json = false;
};

struct ViewMark
{
    std::string path;
    DetectorPixel pixel;
};

/// "F.dcm:COLUMN,ROW" (the last colon separates the pixel, so paths may hold colons).
ViewMark parseView(const std::string& text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        badArgument("--view \"" + text + "\" must be FILE:COLUMN,ROW");
    const std::string pixel = text.substr(colon + 1);
    const auto comma = pixel.find(',');
    if (comma == std::string::npos)
        badArgument("--view \"" + text + "\" must be FILE:COLUMN,ROW");
    return {text.substr(0, colon),
            {parseNumber(pixel.substr(0, comma), "--view column"),
             parseNumber(pixel.substr(comma + 1), "--view row")}};
}

std::string stringField(const json& object, const char* key);

/// The projection matrix of a pose file written by `register`; checks that it belongs to `image`.
ProjectionMatrix readPose(const std::string& path, const ProjectionImage& image)
{
    std::ifstream in(path);
    if (!in)
        throw Error(ErrorCode::NotFound, path + ": cannot open the pose file");
    json pose;
    try {
        pose = json::parse(in);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": not JSON (" + std::string(e.what()) + ")");
    }
    if (!pose.is_object() || stringField(pose, "schema") != "needleplan.fluoro-pose/1")
        throw Error(ErrorCode::CorruptData,
                    path + ": not a NeedlePlan pose file (schema needleplan.fluoro-pose/1)");
    const auto registered = pose.find("registered");
    if (registered == pose.end() || !registered->is_boolean() || !registered->get<bool>())
        throw Error(ErrorCode::InvalidArgument,
                    path + ": the registration it records did not succeed; its pose cannot be used");
    const std::string uid = stringField(pose, "sopInstanceUid");
    if (!uid.empty() && !image.sopInstanceUid.empty() && uid != image.sopInstanceUid)
        throw Error(ErrorCode::InvalidArgument, path +
                                                    ": the pose belongs to another image (SOP Instance UID " +
                                                    uid + ", not " + image.sopInstanceUid + ")");
    const json& m = pose["projectionMatrix"];
    ProjectionMatrix projection;
    if (!m.is_array() || m.size() != 3)
        throw Error(ErrorCode::CorruptData, path + ": projectionMatrix must be 3 rows of 4 numbers");
    for (int r = 0; r < 3; ++r) {
        if (!m[r].is_array() || m[r].size() != 4)
            throw Error(ErrorCode::CorruptData, path + ": projectionMatrix must be 3 rows of 4 numbers");
        for (int c = 0; c < 4; ++c) {
            if (!m[r][c].is_number() || !std::isfinite(m[r][c].get<double>()))
                throw Error(ErrorCode::CorruptData,
                            path + ": projectionMatrix holds a value that is not a number");
            projection(r, c) = m[r][c].get<double>();
        }
    }
    return projection;
}

/// A string member of `object`, or "" when absent or not a string.
std::string stringField(const json& object, const char* key)
{
    const auto it = object.find(key);
    if (it == object.end())
        return {};
    const auto* text = it->get_ptr<const std::string*>();
    return text != nullptr ? *text : std::string();
}

json vec(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}

int runTriangulate(const TriangulateArguments& a)
{
    if (a.views.size() != 2)
        badArgument("give exactly two --view FILE:COLUMN,ROW");
    if (a.pose1.empty() != a.pose2.empty())
        badArgument("--pose1 and --pose2 go together");
    if (!(a.warnGapMm > 0.0))
        badArgument("--warn-gap-mm must be positive");
    const bool withPoses = !a.pose1.empty();
    ViewMark marks[2] = {parseView(a.views[0]), parseView(a.views[1])};
    ProjectionMatrix projections[2];
    for (int v = 0; v < 2; ++v) {
        const ProjectionImage image = loadProjectionImage(marks[v].path, false);
        if (marks[v].pixel.column < -0.5 || marks[v].pixel.row < -0.5 ||
            marks[v].pixel.column > image.columns - 0.5 || marks[v].pixel.row > image.rows - 0.5)
            badArgument(marks[v].path + ": the mark (" + std::to_string(marks[v].pixel.column) + ", " +
                        std::to_string(marks[v].pixel.row) + ") lies outside the " +
                        std::to_string(image.columns) + " x " + std::to_string(image.rows) + " image");
        if (withPoses)
            projections[v] = readPose(v == 0 ? a.pose1 : a.pose2, image);
        else
            projections[v] = image.frameView(0, Vec3{}).projectionMatrix();
    }
    const Triangulation t =
        triangulate(projections[0], marks[0].pixel, projections[1], marks[1].pixel, a.warnGapMm);
    const ImageLine line = epipolarLine(projections[0], marks[0].pixel, projections[1]);
    const std::string frame =
        withPoses ? "CT LPS (registered poses)" : "relative to the shared isocentre, LPS axes";

    if (a.json) {
        json out;
        out["pointLps"] = vec(t.pointLps);
        out["frame"] = frame;
        out["relativeToIsocenter"] = !withPoses;
        out["rayGapMm"] = t.rayGapMm;
        out["reprojectionErrorPx"] = json::array({t.reprojectionErrorPx[0], t.reprojectionErrorPx[1]});
        out["angleBetweenRaysDeg"] = t.angleBetweenRaysDeg;
        out["gapWarning"] = t.gapWarning;
        out["warning"] = t.warning;
        out["epipolarLineInView2"] = {{"a", line.a},
                                      {"b", line.b},
                                      {"c", line.c},
                                      {"mark2DistancePx", line.distancePx(marks[1].pixel)}};
        std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
        std::ostringstream text;
        text.precision(4);
        text << "point (" << t.pointLps.x << ", " << t.pointLps.y << ", " << t.pointLps.z << ") mm, " << frame
             << "\nray gap " << t.rayGapMm << " mm, reprojection error " << t.reprojectionErrorPx[0] << " / "
             << t.reprojectionErrorPx[1] << " px, rays " << t.angleBetweenRaysDeg << " degrees apart\n";
        std::cout << text.str();
    }
    if (!t.warning.empty())
        std::cerr << "needleplan-cli: warning: " << t.warning << "\n";
    return ExitSuccess;
}

const CommandRegistration registration{
    "triangulate",
    "A point marked on two X-ray views: its 3D position, the gap between the rays, reprojection errors",
    [](CLI::App& command) -> std::function<int()> {
        auto a = std::make_shared<TriangulateArguments>();
        command
            .add_option(
                "--view", a->views,
                "FILE:COLUMN,ROW, twice: a projection image (frame 1) and the mark, zero-based pixel centres")
            ->required();
        command.add_option("--pose1", a->pose1, "pose file of the first view written by register --out");
        command.add_option("--pose2", a->pose2, "pose file of the second view");
        command.add_option("--warn-gap-mm", a->warnGapMm,
                           "warn when the rays pass further apart (default 2)");
        command.add_flag(
            "--json", a->json,
            "print pointLps, rayGapMm, reprojectionErrorPx, angleBetweenRaysDeg, gapWarning, warning "
            "and the epipolar line of the first mark in the second view");
        return [a] { return runTriangulate(*a); };
    }};

} // namespace

} // namespace np::cli
