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
/// Each field covers the structure's bounding box grown by its cap, cut to the region of interest
/// grown by the cap. The cap is max(capMm, margin + exactBeyondMarginMm), so wherever a value is
/// only a bound it cannot change a decision of the search (its slack saturates). Inside the region
/// of interest, distances up to the cap are exact in the sense above; beyond the cap the value is
/// the lower bound max(cap, distance to the structure's bounding box): every voxel of the structure
/// within the cap of a point of the region lies in the crop, so none was missed. Outside the region
/// the value is the bounding-box distance (a lower bound). A structure whose bounding box encloses
/// the target but whose voxels are far (a C-shaped organ, a curved vessel, the colon) therefore
/// reads "beyond the cap", never 0. Reported clearances that rest on a bound are made exact by
/// exactSegmentDistance() (boundary voxels within 50 mm and more of the shaft).

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/Structure.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <utility>
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

/// One value of a field and whether it is exact (see the file comment) or a lower bound.
struct DistanceSample
{
    double distanceMm = 0.0;
    bool exact = false;
};

/// Signed distance map of one structure (mm, negative inside).
class DistanceField
{
public:
    /// Signed distance at a continuous voxel index, with whether it is exact or a lower bound.
    /// Inline: the search samples every structure at every step of every ray.
    DistanceSample sampleAtIjk(const Vec3& voxelIjk) const;
    /// The structure has no voxels at all: every distance is +infinity.
    bool absent() const { return m_absent; }
    /// Signed distance at a continuous voxel index of the label map's grid (see the file comment).
    double distanceAtIjk(const Vec3& voxelIjk) const { return sampleAtIjk(voxelIjk).distanceMm; }
    /// Lower bound on the distance: the distance to the structure's bounding box (0 inside it).
    double boundingBoxDistanceAtIjk(const Vec3& voxelIjk) const;
    /// The interval [first, last] of t outside which the point startIjk + stepIjk·t lies at least
    /// `distanceMm` from the structure's bounding box (first > last: nowhere nearer). Wherever the
    /// bounding-box distance exceeds the diagonal of a voxel, every value of the field is at least
    /// that distance minus half the largest spacing (the trilinear corners are outside voxels whose
    /// Euclidean map values are at least their own box distance, and the box distance is convex),
    /// which lets the search skip structures that cannot matter along a ray.
    std::pair<double, double> boundingBoxSlab(const Vec3& startIjk, const Vec3& stepIjk, double distanceMm) const;
    /// Region of interest the field is valid for.
    const IndexBox& roi() const { return m_roi; }
    /// Box of voxels the map was computed on.
    const IndexBox& crop() const { return m_crop; }
    std::uint16_t labelValue() const { return m_labelValue; }
    /// Distances up to this value are exact inside the region of interest.
    double capMm() const { return m_capMm; }
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

    // Derived from the boxes above (updateSamplingBoxes) so that sampling does no integer
    // conversions: the bounding box grown by half a voxel, and the region of interest ∩ crop.
    void updateSamplingBoxes();
    double m_boxLoEdge[3] = {0, 0, 0};
    double m_boxHiEdge[3] = {0, 0, 0};
    double m_sampleLo[3] = {0, 0, 0};
    double m_sampleHi[3] = {-1, -1, -1};
    double m_cropLo[3] = {0, 0, 0};
};

inline double DistanceField::boundingBoxDistanceAtIjk(const Vec3& voxelIjk) const
{
    if (m_absent)
        return std::numeric_limits<double>::infinity();
    double sum = 0.0;
    for (int a = 0; a < 3; ++a) {
        // The structure's voxels extend half a voxel beyond their centres.
        const double v = voxelIjk[a];
        const double below = m_boxLoEdge[a] - v;
        const double above = v - m_boxHiEdge[a];
        double gap = below > 0.0 ? below : 0.0;
        if (above > gap)
            gap = above;
        gap *= m_spacing[a];
        sum += gap * gap;
    }
    return std::sqrt(sum);
}

inline DistanceSample DistanceField::sampleAtIjk(const Vec3& voxelIjk) const
{
    if (m_absent)
        return {std::numeric_limits<double>::infinity(), true};
    // Outside the region of interest or the crop (also an empty crop, whose box is empty).
    if (!(voxelIjk.x >= m_sampleLo[0] && voxelIjk.x <= m_sampleHi[0] && voxelIjk.y >= m_sampleLo[1] &&
          voxelIjk.y <= m_sampleHi[1] && voxelIjk.z >= m_sampleLo[2] && voxelIjk.z <= m_sampleHi[2]))
        return {boundingBoxDistanceAtIjk(voxelIjk), false};
    std::int64_t base[3];
    double frac[3];
    for (int a = 0; a < 3; ++a) {
        const double local = voxelIjk[a] - m_cropLo[a];
        const std::int64_t last = m_cropSize[a] - 1;
        std::int64_t b = static_cast<std::int64_t>(std::floor(local));
        const std::int64_t top = last - 1 > 0 ? last - 1 : 0;
        b = b < 0 ? 0 : (b > top ? top : b);
        base[a] = b;
        const double f = local - static_cast<double>(b);
        const double positive = f > 0.0 ? f : 0.0;
        frac[a] = last == 0 ? 0.0 : (positive < 1.0 ? positive : 1.0);
    }
    const std::int64_t sy = m_cropSize[0];
    const std::int64_t sz = m_cropSize[0] * m_cropSize[1];
    const std::int64_t dx = m_cropSize[0] > 1 ? 1 : 0;
    const std::int64_t dy = m_cropSize[1] > 1 ? sy : 0;
    const std::int64_t dz = m_cropSize[2] > 1 ? sz : 0;
    const float* v = m_values.data() + base[0] + base[1] * sy + base[2] * sz;
    const double fx = frac[0], fy = frac[1], fz = frac[2];
    const double c00 = v[0] + fx * (v[dx] - v[0]);
    const double c10 = v[dy] + fx * (v[dy + dx] - v[dy]);
    const double c01 = v[dz] + fx * (v[dz + dx] - v[dz]);
    const double c11 = v[dz + dy] + fx * (v[dz + dy + dx] - v[dz + dy]);
    const double c0 = c00 + fy * (c10 - c00);
    const double c1 = c01 + fy * (c11 - c01);
    const double value = c0 + fz * (c1 - c0);
    if (value > m_capMm) {
        const double box = boundingBoxDistanceAtIjk(voxelIjk);
        return {m_capMm < box ? box : m_capMm, false};
    }
    return {value, true};
}

/// Options of the field computation.
struct ClearanceFieldOptions
{
    double capMm = 20.0;        ///< distances are exact up to at least this value (see the file comment)
    double roiPaddingMm = 10.0; ///< extra room so small target moves reuse the fields
    int threads = 2;            ///< structures computed in parallel (one thread each)
    /// A structure's cap is raised to its margin plus this, so that bounds lie beyond the search's
    /// clearance saturation (TrajectorySearch passes its own saturation + 2 mm to prepareRegion).
    double exactBeyondMarginMm = 12.0;
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
    /// Same, with the field's exact range raised to margin + `exactBeyondMarginMm` (negative: the
    /// options' value).
    void prepare(const std::vector<StructureSpec>& structures, const Vec3& centerLps, double radiusMm,
                 double exactBeyondMarginMm, ProgressSink* progress);

    /// Like prepare(), for an explicit region of interest: the index box of `pointsLps` grown by
    /// `paddingMm` (the search passes the bounding points of its cone of directions).
    void prepareRegion(const std::vector<StructureSpec>& structures, const std::vector<Vec3>& pointsLps,
                       double paddingMm, ProgressSink* progress = nullptr, double exactBeyondMarginMm = -1.0);

    /// Exact distance (surface convention of the file comment) from the segment [aLps, bLps] to a
    /// structure, from its boundary voxels within `limitMm` of the segment, for reports where the
    /// field only holds a bound. Beyond `limitMm` the result is `limitMm` with lowerBound set.
    /// The boundary voxels of every prepared structure are gathered once per region (cached).
    struct SegmentDistance
    {
        double distanceMm = 0.0;   ///< minimum over the segment
        double depthFromAMm = 0.0; ///< where on the segment it occurs, from aLps
        bool lowerBound = false;   ///< the structure lies farther than limitMm
    };
    SegmentDistance exactSegmentDistance(std::uint16_t labelValue, const Vec3& aLps, const Vec3& bLps,
                                         double limitMm) const;

    /// Call after the voxels of a structure changed (an edited segmentation): re-reads its extent
    /// and drops its field, so the next prepare recomputes that structure alone. A label value
    /// beyond those the set knew (a structure added to the label map's segments) is taken on.
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
                      const IndexBox& padded, double exactBeyondMarginMm, ProgressSink* progress);
    struct BoundaryCache;
    void gatherBoundaries(const IndexBox& box) const;

    const imaging::LabelMap& m_labels;
    ClearanceFieldOptions m_options;
    std::vector<LabelBounds> m_bounds;                    ///< indexed by label value (65536 entries)
    std::vector<std::unique_ptr<DistanceField>> m_fields; ///< indexed by label value
    int m_computedMapCount = 0;
    mutable std::mutex m_boundaryMutex;
    mutable std::unique_ptr<BoundaryCache> m_boundaries; ///< boundary voxels for exactSegmentDistance
};

} // namespace np::planning
