#include "needleplan/imaging/Triangulation.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <sstream>

namespace np::imaging {

namespace {

constexpr double kDegPerRad = 180.0 / 3.14159265358979323846;

Mat3 leftBlock(const ProjectionMatrix& p)
{
    return Mat3{{p(0, 0), p(0, 1), p(0, 2), p(1, 0), p(1, 1), p(1, 2), p(2, 0), p(2, 1), p(2, 2)}};
}

Vec3 homogeneous(const ProjectionMatrix& p, const Vec3& pointLps)
{
    Vec3 h;
    for (int r = 0; r < 3; ++r)
        h[r] = p(r, 0) * pointLps.x + p(r, 1) * pointLps.y + p(r, 2) * pointLps.z + p(r, 3);
    return h;
}

bool finite(const ProjectionMatrix& p)
{
    for (double v : p.m)
        if (!std::isfinite(v))
            return false;
    return true;
}

} // namespace

Vec3 sourceFromProjection(const ProjectionMatrix& projection)
{
    const Mat3 m = leftBlock(projection);
    if (!finite(projection) || std::abs(m.determinant()) < 1e-300)
        throw Error(ErrorCode::InvalidArgument, "projection matrix: not finite or has no projection centre");
    return -(m.inverse() * Vec3{projection(0, 3), projection(1, 3), projection(2, 3)});
}

RayLps rayThroughPixel(const ProjectionMatrix& projection, const DetectorPixel& pixel)
{
    const Vec3 sourceLps = sourceFromProjection(projection);
    const Vec3 direction = leftBlock(projection).inverse() * Vec3{pixel.column, pixel.row, 1.0};
    return {sourceLps, normalized(direction)};
}

double rayGapMm(const RayLps& first, const RayLps& second)
{
    const Vec3 n = cross(first.directionLps, second.directionLps);
    const Vec3 between = second.originLps - first.originLps;
    const double length = norm(n);
    if (length < 1e-12) // parallel: distance of the second origin to the first line
        return norm(between - first.directionLps * dot(between, first.directionLps));
    return std::abs(dot(between, n)) / length;
}

ImageLine epipolarLine(const ProjectionMatrix& first, const DetectorPixel& firstPixel,
                       const ProjectionMatrix& second)
{
    const RayLps ray = rayThroughPixel(first, firstPixel);
    const Vec3 distantLps = ray.originLps + ray.directionLps * 1000.0;
    const Vec3 line = cross(homogeneous(second, ray.originLps), homogeneous(second, distantLps));
    const double scale = std::hypot(line.x, line.y);
    if (!(scale > 1e-12 * norm(line)) || !std::isfinite(scale))
        throw Error(ErrorCode::InvalidArgument,
                    "epipolar line: the first view's ray projects to a point in the second view");
    return {line.x / scale, line.y / scale, line.z / scale};
}

Triangulation triangulate(const ProjectionMatrix& first, const DetectorPixel& firstPixel,
                          const ProjectionMatrix& second, const DetectorPixel& secondPixel, double warnGapMm)
{
    const RayLps rays[2] = {rayThroughPixel(first, firstPixel), rayThroughPixel(second, secondPixel)};
    const ProjectionMatrix* views[2] = {&first, &second};
    const DetectorPixel marks[2] = {firstPixel, secondPixel};

    // Midpoint of the common perpendicular.
    const Vec3& d1 = rays[0].directionLps;
    const Vec3& d2 = rays[1].directionLps;
    const Vec3 w0 = rays[0].originLps - rays[1].originLps;
    const double b = dot(d1, d2);
    const double denominator = 1.0 - b * b;
    const double angleDeg = std::acos(std::min(1.0, std::abs(b))) * kDegPerRad;
    if (denominator < 1e-10)
        throw Error(ErrorCode::InvalidArgument, "triangulation: the two rays are parallel (views " +
                                                    std::to_string(angleDeg) + " degrees apart)");
    const double t1 = (b * dot(d2, w0) - dot(d1, w0)) / denominator;
    const double t2 = (dot(d2, w0) - b * dot(d1, w0)) / denominator;
    Vec3 pointLps = (rays[0].originLps + d1 * t1 + rays[1].originLps + d2 * t2) * 0.5;

    // Gauss-Newton on the four pixel residuals.
    for (int iteration = 0; iteration < 20; ++iteration) {
        Mat3 normal{{0, 0, 0, 0, 0, 0, 0, 0, 0}};
        Vec3 gradient;
        for (int v = 0; v < 2; ++v) {
            const ProjectionMatrix& p = *views[v];
            const Vec3 h = homogeneous(p, pointLps);
            if (!(h.z > 0.0))
                throw Error(ErrorCode::InvalidArgument, "triangulation: the point lies behind a source");
            const double residual[2] = {h.x / h.z - marks[v].column, h.y / h.z - marks[v].row};
            for (int k = 0; k < 2; ++k) {
                const Vec3 jacobian = (Vec3{p(k, 0), p(k, 1), p(k, 2)} -
                                       Vec3{p(2, 0), p(2, 1), p(2, 2)} * ((k == 0 ? h.x : h.y) / h.z)) /
                                      h.z;
                for (int i = 0; i < 3; ++i) {
                    gradient[i] += jacobian[i] * residual[k];
                    for (int j = 0; j < 3; ++j)
                        normal(i, j) += jacobian[i] * jacobian[j];
                }
            }
        }
        const Vec3 step = normal.inverse() * gradient;
        pointLps -= step;
        if (norm(step) < 1e-9)
            break;
    }

    Triangulation result;
    result.pointLps = pointLps;
    result.rayGapMm = rayGapMm(rays[0], rays[1]);
    for (int v = 0; v < 2; ++v) {
        const DetectorPixel projected = views[v]->project(pointLps);
        result.reprojectionErrorPx[static_cast<std::size_t>(v)] =
            std::hypot(projected.column - marks[v].column, projected.row - marks[v].row);
    }
    result.angleBetweenRaysDeg = angleDeg;
    std::ostringstream warning;
    warning.precision(3);
    if (result.rayGapMm > warnGapMm) {
        result.gapWarning = true;
        warning
            << "The two rays pass " << result.rayGapMm << " mm apart (more than " << warnGapMm
            << " mm): the marks may not show the same point, the patient may have moved between the views, "
               "or a view's geometry is wrong.";
    }
    if (angleDeg < 15.0) {
        if (!warning.str().empty())
            warning << " ";
        warning << "The rays meet at " << angleDeg
                << " degrees: the depth along them is poorly determined; use views 60 degrees or more apart.";
    }
    result.warning = warning.str();
    return result;
}

} // namespace np::imaging
