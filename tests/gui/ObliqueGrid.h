#pragma once
/// The oblique, anisotropic grids of the GUI tests.

#include "needleplan/imaging/Geometry.h"

#include <cmath>

namespace np::test {

/// A grid turned out of the patient's axes: rows along (cos a, sin a, 0), columns tilted by b out of
/// the axial plane, (-sin a cos b, cos a cos b, sin b). Spacing and origin in mm, LPS.
inline imaging::Geometry obliqueGeometry(const imaging::Size3& size, const Vec3& spacing, const Vec3& originLps,
                                         double a, double b)
{
    imaging::Geometry g;
    g.size = size;
    g.spacing = spacing;
    g.originLps = originLps;
    g.directionLps = imaging::directionFromOrientation(
        {std::cos(a), std::sin(a), 0.0}, {-std::sin(a) * std::cos(b), std::cos(a) * std::cos(b), std::sin(b)});
    return g;
}

} // namespace np::test
