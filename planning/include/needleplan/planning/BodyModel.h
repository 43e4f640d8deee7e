#pragma once
/// The patient's body as a binary mask: where the skin is, and its outward normal.
///
/// From a CT the body is every voxel above a HU threshold (default −300 HU), its largest
/// 6-connected component, with the holes of each slice (k) filled, so air inside the body (bowel
/// gas, lungs) still counts as inside. A segmentation of the skin or body can replace it.

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Vec3.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace np {
class ProgressSink;
}
namespace np::imaging {
class Volume;
class LabelMap;
} // namespace np::imaging

namespace np::planning {

/// Options for building the body mask from a CT.
struct BodyModelOptions
{
    float thresholdHu = -300.0f; ///< voxels above this belong to the body
    bool fillSliceHoles = true;  ///< fill enclosed air per slice
};

/// Binary body mask on an image grid, sampled sub-voxel.
class BodyModel
{
public:
    BodyModel() = default;
    /// Body from a CT (see the file comment). Throws np::Error(InvalidArgument) when no voxel
    /// exceeds the threshold; honours cancel.
    static BodyModel fromCt(const imaging::Volume& ct, const BodyModelOptions& options = {},
                            ProgressSink* progress = nullptr);
    /// Body from voxels carrying any of the given labels (e.g. a "body" or "skin" segment), with
    /// per-slice holes filled. Throws np::Error(InvalidArgument) when none is present.
    static BodyModel fromLabels(const imaging::LabelMap& labels,
                                const std::vector<std::uint16_t>& labelValues);
    /// Body from a ready mask (1 inside, 0 outside; x fastest) on `geometry`.
    static BodyModel fromMask(const imaging::Geometry& geometry, std::vector<std::uint8_t> mask);

    bool empty() const { return m_mask.empty(); }
    const imaging::Geometry& geometry() const { return m_geometry; }
    const std::vector<std::uint8_t>& mask() const { return m_mask; }

    /// Trilinear occupancy in [0, 1] at a continuous voxel index; 0 outside the grid.
    double occupancyIjk(const Vec3& voxelIjk) const;
    /// True when the point is inside the body (occupancy ≥ 0.5).
    bool insideLps(const Vec3& pointLps) const
    {
        return occupancyIjk(m_geometry.ijkFromLps(pointLps)) >= 0.5;
    }
    /// Outward unit normal of the skin near `pointLps`: the first moment of the mask over a ball of
    /// radius max(5 mm, 4 × largest spacing), sampled on a lattice with `samplesPerRadius` steps per
    /// radius (more is smoother, fewer is faster); the zero vector where the mask is flat.
    Vec3 outwardNormalLps(const Vec3& pointLps, int samplesPerRadius = 6) const;
    /// Distance (mm) from `startLps` along `directionLps` to where the ray first leaves the body,
    /// located to 0.01 mm; 0 when the start is outside; nullopt when it does not leave within
    /// `maxDistanceMm`.
    std::optional<double> exitDistanceMm(const Vec3& startLps, const Vec3& directionLps,
                                         double maxDistanceMm) const;
    /// LPS x of the body's centroid: the sagittal midline estimate.
    double midlineXLps() const { return m_midlineXLps; }

private:
    void finish(bool fillHoles);
    imaging::Geometry m_geometry;
    std::vector<std::uint8_t> m_mask;
    double m_midlineXLps = 0.0;
};

} // namespace np::planning
