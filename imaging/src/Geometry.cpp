#include "needleplan/imaging/Geometry.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "needleplan/imaging/Error.h"

namespace np {

Mat3 Mat3::inverse() const
{
    const double det = determinant();
    if (!std::isfinite(det) || std::abs(det) < 1e-300)
        throw Error(ErrorCode::InconsistentGeometry, "singular 3x3 matrix cannot be inverted");
    Mat3 r;
    r.m = {(m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
           (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
           (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
    return r;
}

} // namespace np

namespace np::imaging {

Mat3 Geometry::lpsFromIjkLinear() const
{
    return directionLps * Mat3::diagonal(spacing);
}

Vec3 Geometry::lpsFromIjk(const Vec3& voxelIjk) const
{
    return originLps + lpsFromIjkLinear() * voxelIjk;
}

Vec3 Geometry::ijkFromLps(const Vec3& pointLps) const
{
    // The direction is orthonormal, so its inverse is its transpose.
    const Vec3 stepsLps = directionLps.transposed() * (pointLps - originLps);
    return {stepsLps.x / spacing.x, stepsLps.y / spacing.y, stepsLps.z / spacing.z};
}

bool Geometry::containsIjk(const Vec3& voxelIjk) const
{
    for (int a = 0; a < 3; ++a)
        if (!(voxelIjk[a] >= -0.5 && voxelIjk[a] <= static_cast<double>(size[a]) - 0.5))
            return false;
    return true;
}

double Geometry::maxSpacing() const
{
    return std::max({spacing.x, spacing.y, spacing.z});
}

void Geometry::validate(const std::string& what) const
{
    std::ostringstream problem;
    for (int a = 0; a < 3; ++a) {
        if (size[a] <= 0)
            problem << "size along axis " << a << " is " << size[a] << "; ";
        if (!std::isfinite(spacing[a]) || spacing[a] <= 0.0)
            problem << "spacing along axis " << a << " is " << spacing[a] << " mm; ";
        if (!std::isfinite(originLps[a]))
            problem << "origin is not finite; ";
    }
    for (int c = 0; c < 3; ++c) {
        const Vec3 column = directionLps.column(c);
        if (!(std::abs(norm(column) - 1.0) < 1e-4))
            problem << "direction column " << c << " is not a unit vector; ";
        for (int d = c + 1; d < 3; ++d)
            if (!(std::abs(dot(column, directionLps.column(d))) < 1e-4))
                problem << "direction columns " << c << " and " << d << " are not orthogonal; ";
    }
    const std::string text = problem.str();
    if (!text.empty())
        throw Error(ErrorCode::InconsistentGeometry, what + ": invalid geometry: " + text.substr(0, text.size() - 2));
}

Mat3 directionFromOrientation(const Vec3& rowCosineLps, const Vec3& columnCosineLps)
{
    const Vec3 row = normalized(rowCosineLps);
    const Vec3 column = normalized(columnCosineLps);
    return Mat3::fromColumns(row, column, normalized(cross(row, column)));
}

} // namespace np::imaging
