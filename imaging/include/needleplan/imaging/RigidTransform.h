#pragma once
/// A rigid motion of LPS space (rotation and translation), e.g. between two CTs of one patient.

#include "needleplan/imaging/Vec3.h"

namespace np::imaging {

/// y = rotation · x + translation. Named after what it maps, e.g. `planningFromPost` maps a point
/// of the post-insertion CT onto the planning CT.
struct RigidTransform
{
    Mat3 rotation = Mat3::identity();
    Vec3 translationMm;

    Vec3 apply(const Vec3& pointLps) const { return rotation * pointLps + translationMm; }
    Vec3 applyToDirection(const Vec3& directionLps) const { return rotation * directionLps; }
    RigidTransform inverse() const;
    /// `this ∘ other`: first `other`, then this.
    RigidTransform compose(const RigidTransform& other) const;
    /// Rotation about `centreLps` by the angles (degrees) about the LPS x, then y, then z axes,
    /// then a translation.
    static RigidTransform fromAnglesDeg(const Vec3& anglesDeg, const Vec3& translationMm,
                                        const Vec3& centreLps);
    /// Rotation angle of the transform in degrees.
    double rotationAngleDeg() const;
};

} // namespace np::imaging
