#pragma once
// Analytic shapes with closed-form distances, voxelised onto arbitrary grids, for planning tests.

#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace np::test {

/// Rotation matrix about a unit axis by `angle` radians (Rodrigues).
inline Mat3 rotation(const Vec3& axis, double angle)
{
    const Vec3 a = normalized(axis);
    const double c = std::cos(angle), s = std::sin(angle), t = 1.0 - c;
    return Mat3{{t * a.x * a.x + c, t * a.x * a.y - s * a.z, t * a.x * a.z + s * a.y, t * a.x * a.y + s * a.z,
                 t * a.y * a.y + c, t * a.y * a.z - s * a.x, t * a.x * a.z - s * a.y, t * a.y * a.z + s * a.x,
                 t * a.z * a.z + c}};
}

/// A grid of `size` voxels with `spacing` and `direction`, whose centre lies at `centreLps`.
inline imaging::Geometry gridAround(const Vec3& centreLps, const imaging::Size3& size, const Vec3& spacing,
                                    const Mat3& direction)
{
    imaging::Geometry g;
    g.size = size;
    g.spacing = spacing;
    g.directionLps = direction;
    const Vec3 halfIjk{0.5 * static_cast<double>(size[0] - 1), 0.5 * static_cast<double>(size[1] - 1),
                       0.5 * static_cast<double>(size[2] - 1)};
    g.originLps = centreLps - g.lpsFromIjkLinear() * halfIjk;
    return g;
}

/// Closed-form signed distance shapes (negative inside).
struct Sphere
{
    Vec3 centre;
    double radius;
    double signedDistance(const Vec3& p) const { return distance(p, centre) - radius; }
};

/// Infinite circular cylinder.
struct Cylinder
{
    Vec3 point;
    Vec3 axis; // unit
    double radius;
    double signedDistance(const Vec3& p) const
    {
        const Vec3 d = p - point;
        return norm(d - axis * dot(d, axis)) - radius;
    }
};

/// Slab between two parallel planes.
struct Slab
{
    Vec3 point;
    Vec3 normal; // unit
    double halfThickness;
    double signedDistance(const Vec3& p) const { return std::abs(dot(p - point, normal)) - halfThickness; }
};

/// Labels every voxel whose centre lies inside the shape (signed distance ≤ 0) with `label`.
template <class Shape> void voxelise(imaging::LabelMap& labels, const Shape& shape, std::uint16_t label)
{
    const auto& g = labels.geometry();
    const Vec3 stepI = g.lpsFromIjkLinear().column(0);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j) {
            Vec3 p = g.lpsFromIjk(Vec3{0.0, static_cast<double>(j), static_cast<double>(k)});
            for (std::int64_t i = 0; i < g.size[0]; ++i, p += stepI)
                if (shape.signedDistance(p) <= 0.0)
                    labels.at(i, j, k) = label;
        }
}

/// Like voxelise, but only for voxels within the index box of the ball (centre, radius): enough
/// for a test whose fields and trajectories stay inside that ball.
template <class Shape>
void voxeliseNear(imaging::LabelMap& labels, const Shape& shape, std::uint16_t label, const Vec3& centreLps,
                  double radiusMm)
{
    const auto& g = labels.geometry();
    const Vec3 c = g.ijkFromLps(centreLps);
    std::int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
        lo[a] =
            std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(c[a] - radiusMm / g.spacing[a])));
        hi[a] = std::min<std::int64_t>(g.size[a] - 1,
                                       static_cast<std::int64_t>(std::ceil(c[a] + radiusMm / g.spacing[a])));
    }
    const Vec3 stepI = g.lpsFromIjkLinear().column(0);
    for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
        for (std::int64_t j = lo[1]; j <= hi[1]; ++j) {
            Vec3 p = g.lpsFromIjk(
                Vec3{static_cast<double>(lo[0]), static_cast<double>(j), static_cast<double>(k)});
            for (std::int64_t i = lo[0]; i <= hi[0]; ++i, p += stepI)
                if (shape.signedDistance(p) <= 0.0)
                    labels.at(i, j, k) = label;
        }
}

/// Random unit vector.
inline Vec3 randomUnit(std::mt19937& rng)
{
    std::normal_distribution<double> n(0.0, 1.0);
    for (;;) {
        const Vec3 v{n(rng), n(rng), n(rng)};
        if (norm(v) > 1e-6)
            return normalized(v);
    }
}

/// Closed-form minimum distance between segment [a, b] and a point.
inline double segmentPointDistance(const Vec3& a, const Vec3& b, const Vec3& p)
{
    const Vec3 ab = b - a;
    const double t = std::clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
    return distance(a + ab * t, p);
}

/// Closed-form minimum distance between two segments (or a segment and a line when the second is
/// long enough), by the classic clamped parametric solution.
inline double segmentSegmentDistance(const Vec3& p0, const Vec3& p1, const Vec3& q0, const Vec3& q1)
{
    const Vec3 d1 = p1 - p0, d2 = q1 - q0, r = p0 - q0;
    const double a = dot(d1, d1), e = dot(d2, d2), f = dot(d2, r);
    const double c = dot(d1, r), b = dot(d1, d2);
    const double denom = a * e - b * b;
    double s = denom > 1e-12 ? std::clamp((b * f - c * e) / denom, 0.0, 1.0) : 0.0;
    double t = (b * s + f) / e;
    if (t < 0.0) {
        t = 0.0;
        s = std::clamp(-c / a, 0.0, 1.0);
    } else if (t > 1.0) {
        t = 1.0;
        s = std::clamp((b - c) / a, 0.0, 1.0);
    }
    return distance(p0 + d1 * s, q0 + d2 * t);
}

} // namespace np::test
