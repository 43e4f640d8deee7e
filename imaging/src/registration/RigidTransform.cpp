#include "needleplan/imaging/RigidTransform.h"

#include <algorithm>
#include <cmath>

namespace np::imaging {

namespace {

constexpr double kPi = 3.14159265358979323846;

} // namespace

RigidTransform RigidTransform::inverse() const
{
    RigidTransform r;
    r.rotation = rotation.transposed();
    r.translationMm = -(r.rotation * translationMm);
    return r;
}

RigidTransform RigidTransform::compose(const RigidTransform& other) const
{
    RigidTransform r;
    r.rotation = rotation * other.rotation;
    r.translationMm = rotation * other.translationMm + translationMm;
    return r;
}

RigidTransform RigidTransform::fromAnglesDeg(const Vec3& anglesDeg, const Vec3& translationMm,
                                             const Vec3& centreLps)
{
    const double ax = anglesDeg.x * kPi / 180.0, ay = anglesDeg.y * kPi / 180.0,
                 az = anglesDeg.z * kPi / 180.0;
    const Mat3 rx{{1, 0, 0, 0, std::cos(ax), -std::sin(ax), 0, std::sin(ax), std::cos(ax)}};
    const Mat3 ry{{std::cos(ay), 0, std::sin(ay), 0, 1, 0, -std::sin(ay), 0, std::cos(ay)}};
    const Mat3 rz{{std::cos(az), -std::sin(az), 0, std::sin(az), std::cos(az), 0, 0, 0, 1}};
    RigidTransform r;
    r.rotation = rz * ry * rx;
    // y = R (x − c) + c + t
    r.translationMm = centreLps - r.rotation * centreLps + translationMm;
    return r;
}

double RigidTransform::rotationAngleDeg() const
{
    const double trace = rotation(0, 0) + rotation(1, 1) + rotation(2, 2);
    return std::acos(std::clamp(0.5 * (trace - 1.0), -1.0, 1.0)) * 180.0 / kPi;
}

} // namespace np::imaging
