#pragma once
/// The one object that owns the voxel-to-patient transform of an image.

#include <array>
#include <cstdint>
#include <string>

#include "needleplan/imaging/Vec3.h"

namespace np::imaging {

/// Size of an image grid in voxels along i (columns), j (rows) and k (slices).
using Size3 = std::array<std::int64_t, 3>;

/// Regular image grid in DICOM LPS millimetres:
///   lps = originLps + directionLps * diag(spacing) * ijk
/// where ijk are continuous voxel indices and integer ijk are voxel centres.
struct Geometry
{
    Size3 size{0, 0, 0};
    Vec3 spacing{1.0, 1.0, 1.0};          ///< mm between voxel centres along i, j, k (all > 0)
    Vec3 originLps;                         ///< LPS centre of voxel (0, 0, 0)
    Mat3 directionLps = Mat3::identity();   ///< column c is the LPS unit direction of axis c

    std::int64_t voxelCount() const { return size[0] * size[1] * size[2]; }
    /// Matrix mapping an ijk step to an LPS step: directionLps * diag(spacing).
    Mat3 lpsFromIjkLinear() const;
    Vec3 lpsFromIjk(const Vec3& voxelIjk) const;
    Vec3 ijkFromLps(const Vec3& pointLps) const;
    /// True when the continuous index lies within [-0.5, size - 0.5] on every axis.
    bool containsIjk(const Vec3& voxelIjk) const;
    /// Largest of the three spacings (the discretisation scale used in tolerances).
    double maxSpacing() const;
    /// Throws np::Error(InconsistentGeometry) naming `what` unless sizes are positive, spacings are
    /// finite and positive, and the direction columns are orthonormal within 1e-4.
    void validate(const std::string& what) const;
};

/// Direction matrix with orthonormal columns derived from DICOM ImageOrientationPatient
/// (row cosine, column cosine); the third column is their cross product.
Mat3 directionFromOrientation(const Vec3& rowCosineLps, const Vec3& columnCosineLps);

} // namespace np::imaging
