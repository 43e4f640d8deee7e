#pragma once
/// Clearance fields: signed Euclidean distance maps of labelled structures, computed with ITK on a
/// region of interest around the target and evaluated sub-voxel by trilinear interpolation.
///
/// Surface convention: a structure's surface is the boundary between its inside voxel centres and
/// the outside voxel centres, half a voxel from each. The raw map (distance from a voxel centre to
/// the nearest centre of the other kind) is therefore corrected by half a voxel: outside values by
/// −0.5 × the largest spacing, inside values by +0.5 × the smallest spacing (so an inside voxel is
/// never reported outside). On analytic shapes voxelised on anisotropic, oblique grids the reported
/// distance is within 0.5 × the largest spacing of the true one (tests/planning/unit).
///
/// Each field covers the structure's bounding box grown by `capMm`, cut to the region of interest
/// grown by `capMm`. Inside the region of interest, distances up to capMm are exact in the sense
/// above; beyond capMm, and anywhere outside the region, the value is a lower bound (the distance
/// to the structure's bounding box), which keeps every safety decision conservative.

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/Structure.h"

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace np {
class ProgressSink;
}
namespace np::imaging {
class LabelMap;
}

namespace np::planning {

/// Index box [lo, hi] (inclusive, voxel indices of the label map).
struct IndexBox
{
    std::array<std::int64_t, 3> lo{0, 0, 0};
    std::array<std::int64_t, 3> hi{-1, -1, -1};

    bool empty() const { return hi[0] < lo[0] || hi[1] < lo[1] || hi[2] < lo[2]; }
    bool contains(const IndexBox& other) const;
    /// True when the continuous index lies inside [lo, hi].
    bool containsIjk(const Vec3& voxelIjk) const
    {
        for (int a = 0; a < 3; ++a)
            if (!(voxelIjk[a] >= static_cast<double>(lo[a]) && voxelIjk[a] <= static_cast<double>(hi[a])))
                return false;
        return true;
    }
};

/// Signed distance map of one structure (mm, negative inside).
class DistanceField
{
public:
    /// The structure has no voxels at all: every distance is +infinity.
    bool absent() const { return m_absent; }
    /// Signed distance at a continuous voxel index of the label map's grid (see the file comment).
    double distanceAtIjk(const Vec3& voxelIjk) const;
    /// Lower bound on the distance: the distance to the structure's bounding box (0 inside it).
    double boundingBoxDistanceAtIjk(const Vec3& voxelIjk) const;
    /// Region of interest the field is valid for.
    const IndexBox& roi() const { return m_roi; }
    /// Box of voxels the map was computed on.
    const IndexBox& crop() const { return m_crop; }
    std::uint16_t labelValue() const { return m_labelValue; }
    /// Voxels of the structure in the whole label map.
    std::int64_t voxelCount() const { return m_voxelCount; }

private:
    friend class ClearanceFieldSet;
    std::uint16_t m_labelValue = 0;
    bool m_absent = true;
    std::int64_t m_voxelCount = 0;
    IndexBox m_bounds; ///< tight bounding box of the structure's voxels
    IndexBox m_roi;
    IndexBox m_crop;
    std::array<std::int64_t, 3> m_cropSize{0, 0, 0};
    Vec3 m_spacing{1, 1, 1};
    double m_capMm = 0.0;
    std::vector<float> m_values; ///< corrected signed distances on the crop, x fastest
};

/// Options of the field computation.
struct ClearanceFieldOptions
{
    double capMm = 20.0;        ///< distances are exact up to this value (see the file comment)
    double roiPaddingMm = 10.0; ///< extra room so small target moves reuse the fields
    int threads = 2;            ///< structures computed in parallel (one thread each)
};

/// The distance fields of a label map, cached per structure and region of interest. Fields depend
/// only on the label voxels, not on margins or classes, so overriding a margin never recomputes.
/// Not thread-safe for prepare(); the const accessors may be used from many threads.
class ClearanceFieldSet
{
public:
    /// Keeps a copy-free reference: `labels` must outlive the set.
    explicit ClearanceFieldSet(const imaging::LabelMap& labels, ClearanceFieldOptions options = {});
    ~ClearanceFieldSet();
    ClearanceFieldSet(const ClearanceFieldSet&) = delete;
    ClearanceFieldSet& operator=(const ClearanceFieldSet&) = delete;

    /// Makes the fields of every non-ignored structure valid inside the ball (centre, radius);
    /// recomputes only fields whose cached region does not already contain it. Reports progress and
    /// honours cancel. Throws np::Error(NotFound) for a label value absent from the label map's
    /// segment list, and translates ITK failures into np::Error(Internal).
    void prepare(const std::vector<StructureSpec>& structures, const Vec3& centerLps, double radiusMm,
                 ProgressSink* progress = nullptr);

    /// Like prepare(), for an explicit region of interest: the index box of `pointsLps` grown by
    /// `paddingMm` (the search passes the bounding points of its cone of directions).
    void prepareRegion(const std::vector<StructureSpec>& structures, const std::vector<Vec3>& pointsLps,
                       double paddingMm, ProgressSink* progress = nullptr);

    /// Call after the voxels of a structure changed (an edited segmentation): re-reads its extent
    /// and drops its field, so the next prepare recomputes that structure alone.
    void invalidate(std::uint16_t labelValue);

    /// Field of a label value prepared earlier, or nullptr.
    const DistanceField* field(std::uint16_t labelValue) const;
    /// Signed distance (mm) from `pointLps` to the structure; +infinity when it has no voxels.
    /// Throws np::Error(InvalidArgument) when the label was never prepared.
    double distanceMm(std::uint16_t labelValue, const Vec3& pointLps) const;

    const imaging::Geometry& geometry() const;
    const ClearanceFieldOptions& options() const { return m_options; }
    /// How many distance maps have been computed so far (for cache checks).
    int computedMapCount() const { return m_computedMapCount; }
    /// Index box of the ball (centre, radius) on the label map's grid, clipped to the image.
    IndexBox roiBox(const Vec3& centerLps, double radiusMm) const;

private:
    struct LabelBounds
    {
        IndexBox box;
        std::int64_t count = 0;
    };
    void scanLabels();
    /// Computes one map; safe to call for different fields from several threads at once.
    void computeField(DistanceField& field, const IndexBox& roi, int workUnits);
    void prepareBoxes(const std::vector<StructureSpec>& structures, const IndexBox& wanted,
                      const IndexBox& padded, ProgressSink* progress);

    const imaging::LabelMap& m_labels;
    ClearanceFieldOptions m_options;
    std::vector<LabelBounds> m_bounds;                    ///< indexed by label value (65536 entries)
    std::vector<std::unique_ptr<DistanceField>> m_fields; ///< indexed by label value
    int m_computedMapCount = 0;
};

} // namespace np::planning
