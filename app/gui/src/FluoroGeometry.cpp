#include "needleplan/gui/FluoroGeometry.h"

#include "needleplan/imaging/Triangulation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace np::gui {

using imaging::DetectorPixel;
using imaging::ProjectionMatrix;

namespace {

constexpr double kPi = 3.14159265358979323846;

DetectorPixel offsetPixel(const DetectorPixel& p, double dc, double dr)
{
    return {p.column + dc, p.row + dr};
}

} // namespace

ProjectionMatrix composeProjection(const ProjectionMatrix& projection,
                                   const imaging::RigidTransform& transform)
{
    ProjectionMatrix result;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c) {
            double sum = 0.0;
            for (int k = 0; k < 3; ++k)
                sum += projection(r, k) * transform.rotation(k, c);
            result(r, c) = sum;
        }
        const Vec3 t = transform.translationMm;
        result(r, 3) =
            projection(r, 0) * t.x + projection(r, 1) * t.y + projection(r, 2) * t.z + projection(r, 3);
    }
    return result;
}

ProjectedPath projectPath(const ProjectionMatrix& projection, const PlannedPath& path, double tickSpacingMm,
                          double tickLengthPx)
{
    ProjectedPath result;
    const Vec3 sourceLps = imaging::sourceFromProjection(projection);
    const double lengthMm = distance(path.entryLps, path.targetLps);
    const Vec3 alongLps =
        lengthMm > 0.0 ? (path.targetLps - path.entryLps) * (1.0 / lengthMm) : Vec3{0, 0, 1};
    result.entry = projection.project(path.entryLps);
    result.target = projection.project(path.targetLps);
    result.axis = {result.entry, result.target};
    // The needle's edges: offset by its radius across the path and across the ray at each end.
    auto across = [&](const Vec3& pointLps) {
        const Vec3 m = cross(alongLps, pointLps - sourceLps);
        return norm(m) > 1e-9 ? normalized(m) * path.needleRadiusMm : Vec3{};
    };
    const Vec3 atEntry = across(path.entryLps);
    const Vec3 atTarget = across(path.targetLps);
    result.edges[0] = {projection.project(path.entryLps + atEntry),
                       projection.project(path.targetLps + atTarget)};
    result.edges[1] = {projection.project(path.entryLps - atEntry),
                       projection.project(path.targetLps - atTarget)};
    result.needleWidthPx = std::hypot(result.edges[0].to.column - result.edges[1].to.column,
                                      result.edges[0].to.row - result.edges[1].to.row);
    const double dc = result.target.column - result.entry.column;
    const double dr = result.target.row - result.entry.row;
    const double projectedLength = std::hypot(dc, dr);
    if (projectedLength < 1e-6 || tickSpacingMm <= 0.0)
        return result; // looking along the path: no ticks to draw
    const double nc = -dr / projectedLength * 0.5 * tickLengthPx;
    const double nr = dc / projectedLength * 0.5 * tickLengthPx;
    for (double depth = tickSpacingMm; depth < lengthMm + 1e-9; depth += tickSpacingMm) {
        const DetectorPixel p = projection.project(path.entryLps + alongLps * depth);
        result.depthTicks.push_back({offsetPixel(p, -nc, -nr), offsetPixel(p, nc, nr)});
        result.tickDepthsMm.push_back(depth);
    }
    return result;
}

TipRayReadout tipRayReadout(const imaging::RayLps& tipRay, const PlannedPath& path, double toleranceMm)
{
    TipRayReadout result;
    result.pathLengthMm = distance(path.entryLps, path.targetLps);
    const Vec3 u = result.pathLengthMm > 0.0 ? (path.targetLps - path.entryLps) * (1.0 / result.pathLengthMm)
                                             : Vec3{0, 0, 1};
    const Vec3 d = normalized(tipRay.directionLps);
    const Vec3 w0 = tipRay.originLps - path.entryLps; // ray origin relative to the entry
    const double b = dot(d, u);
    const double sinSquared = std::max(0.0, 1.0 - b * b);
    result.rayToPathAngleDeg = std::acos(std::min(1.0, std::fabs(b))) * 180.0 / kPi;
    const double depthLimit = result.pathLengthMm + 20.0;
    if (sinSquared < 1e-8) {
        // The ray runs along the path: every depth projects to the same pixel.
        result.depthUndetermined = true;
        result.lateralOffsetMm = norm(w0 - d * dot(w0, d));
        result.depthMinMm = 0.0;
        result.depthMaxMm = result.pathLengthMm;
        result.depthAtClosestMm = result.pathLengthMm;
        result.missesPath = result.lateralOffsetMm > toleranceMm;
        return result;
    }
    const double dw = dot(d, w0);
    const double uw = dot(u, w0);
    const double s = (b * uw - dw) / sinSquared; // along the ray
    const double t = (uw - b * dw) / sinSquared; // along the path, from the entry
    result.lateralOffsetMm = norm(w0 + d * s - u * t);
    result.depthAtClosestMm = t;
    if (result.lateralOffsetMm <= toleranceMm) {
        const double half =
            std::sqrt(toleranceMm * toleranceMm - result.lateralOffsetMm * result.lateralOffsetMm) /
            std::sqrt(sinSquared);
        result.depthMinMm = std::clamp(t - half, 0.0, depthLimit);
        result.depthMaxMm = std::clamp(t + half, 0.0, depthLimit);
    } else {
        result.missesPath = true;
        result.depthMinMm = result.depthMaxMm = std::clamp(t, 0.0, depthLimit);
    }
    return result;
}

TipPointReadout tipPointReadout(const ProjectionMatrix& first, const DetectorPixel& firstMark,
                                const ProjectionMatrix& second, const DetectorPixel& secondMark,
                                const PlannedPath& path)
{
    const imaging::Triangulation point = imaging::triangulate(first, firstMark, second, secondMark);
    TipPointReadout result;
    result.tipLps = point.pointLps;
    result.rayGapMm = point.rayGapMm;
    result.warning = point.warning;
    const double lengthMm = distance(path.entryLps, path.targetLps);
    const Vec3 u = lengthMm > 0.0 ? (path.targetLps - path.entryLps) * (1.0 / lengthMm) : Vec3{0, 0, 1};
    const Vec3 error = point.pointLps - path.targetLps;
    result.errorToTargetMm = norm(error);
    result.alongPathMm = dot(error, u);
    result.acrossPathMm = norm(error - u * result.alongPathMm);
    return result;
}

std::vector<PixelSegment> silhouetteOutline(const ProjectionMatrix& projection,
                                            const std::vector<Vec3>& pointsLps, int columns, int rows,
                                            int cellPx)
{
    std::vector<PixelSegment> segments;
    if (columns <= 0 || rows <= 0 || cellPx <= 0)
        return segments;
    const int nc = (columns + cellPx - 1) / cellPx + 2; // one empty cell around the image
    const int nr = (rows + cellPx - 1) / cellPx + 2;
    std::vector<unsigned char> marked(static_cast<std::size_t>(nc) * nr, 0);
    for (const Vec3& point : pointsLps) {
        if (projection.depth(point) <= 0.0)
            continue;
        const DetectorPixel p = projection.project(point);
        const int c = static_cast<int>(std::floor((p.column + 0.5) / cellPx)) + 1;
        const int r = static_cast<int>(std::floor((p.row + 0.5) / cellPx)) + 1;
        if (c >= 1 && c < nc - 1 && r >= 1 && r < nr - 1)
            marked[static_cast<std::size_t>(r) * nc + c] = 1;
    }
    // Close gaps between sparse points: dilate, then erode (one cell each).
    auto morph = [&](const std::vector<unsigned char>& in, bool dilate) {
        std::vector<unsigned char> out(in.size(), 0);
        for (int r = 1; r < nr - 1; ++r)
            for (int c = 1; c < nc - 1; ++c) {
                bool any = false, all = true;
                for (int dr = -1; dr <= 1; ++dr)
                    for (int dc = -1; dc <= 1; ++dc) {
                        const bool v = in[static_cast<std::size_t>(r + dr) * nc + c + dc] != 0;
                        any = any || v;
                        all = all && v;
                    }
                out[static_cast<std::size_t>(r) * nc + c] = dilate ? any : all;
            }
        return out;
    };
    marked = morph(morph(marked, true), false);
    auto at = [&](int r, int c) { return marked[static_cast<std::size_t>(r) * nc + c] != 0; };
    auto corner = [&](int r, int c) {
        return DetectorPixel{(c - 1) * double(cellPx) - 0.5, (r - 1) * double(cellPx) - 0.5};
    };
    for (int r = 1; r < nr - 1; ++r)
        for (int c = 1; c < nc - 1; ++c) {
            if (!at(r, c))
                continue;
            if (!at(r - 1, c))
                segments.push_back({corner(r, c), corner(r, c + 1)});
            if (!at(r + 1, c))
                segments.push_back({corner(r + 1, c), corner(r + 1, c + 1)});
            if (!at(r, c - 1))
                segments.push_back({corner(r, c), corner(r + 1, c)});
            if (!at(r, c + 1))
                segments.push_back({corner(r, c + 1), corner(r + 1, c + 1)});
        }
    return segments;
}

std::string describe(const TipRayReadout& r)
{
    char text[400];
    if (r.depthUndetermined) {
        std::snprintf(text, sizeof text,
                      "Tip ray: %.1f mm from the planned path. This view looks along the path (bull's-eye): "
                      "the depth cannot be read from it; use a second view.",
                      r.lateralOffsetMm);
    } else if (r.missesPath) {
        std::snprintf(text, sizeof text,
                      "Tip ray: %.1f mm across from the planned path (closest at depth %.0f mm of %.0f mm); "
                      "off the path.",
                      r.lateralOffsetMm, r.depthAtClosestMm, r.pathLengthMm);
    } else {
        std::snprintf(
            text, sizeof text,
            "Tip ray: %.1f mm across from the planned path, at depth %.0f mm of %.0f mm from the entry "
            "(%.0f-%.0f mm consistent with this view, %.0f° from its axis).",
            r.lateralOffsetMm, r.depthAtClosestMm, r.pathLengthMm, r.depthMinMm, r.depthMaxMm,
            r.rayToPathAngleDeg);
    }
    return text;
}

std::string describe(const TipPointReadout& r)
{
    char text[400];
    std::snprintf(text, sizeof text,
                  "Tip (two views): %.1f mm from the target: %.1f mm %s along the path, %.1f mm across it; "
                  "rays %.1f mm apart.%s%s",
                  r.errorToTargetMm, std::fabs(r.alongPathMm),
                  r.alongPathMm >= 0.0 ? "beyond the target" : "short", r.acrossPathMm, r.rayGapMm,
                  r.warning.empty() ? "" : " ", r.warning.c_str());
    return text;
}

} // namespace np::gui
