#pragma once
/// Scalar image (CT in HU, MR in scanner units) with its geometry and provenance.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "needleplan/imaging/Geometry.h"

namespace np::imaging {

/// Where a volume came from and what the loader noticed about it.
struct VolumeInfo
{
    std::string sourcePath;          ///< file or folder it was read from
    std::string seriesUid;           ///< DICOM SeriesInstanceUID, empty for non-DICOM files
    std::string frameOfReferenceUid; ///< DICOM FrameOfReferenceUID, empty when unknown
    std::string modality;            ///< CT, MR, ... ("" when unknown)
    std::string description;         ///< SeriesDescription or file name
    std::string patientPosition;     ///< HFS, HFP, FFS, ... ("" when unknown)
    std::vector<std::string> warnings; ///< resampling, gaps and other things the user should know
    /// SOPInstanceUID of the source image of each slice k (DICOM, not resampled); empty otherwise.
    std::vector<std::string> sliceSopInstanceUids;
};

/// A 3D scalar image stored as float, x fastest (index = i + size_i * (j + size_j * k)).
class Volume
{
public:
    Volume() = default;
    /// Allocates a volume of `geometry` filled with `fillValue`.
    explicit Volume(const Geometry& geometry, float fillValue = 0.0f);

    const Geometry& geometry() const { return m_geometry; }
    VolumeInfo& info() { return m_info; }
    const VolumeInfo& info() const { return m_info; }

    float* data() { return m_voxels.data(); }
    const float* data() const { return m_voxels.data(); }
    std::vector<float>& voxels() { return m_voxels; }
    const std::vector<float>& voxels() const { return m_voxels; }

    std::int64_t linearIndex(std::int64_t i, std::int64_t j, std::int64_t k) const
    {
        return i + m_geometry.size[0] * (j + m_geometry.size[1] * k);
    }
    float at(std::int64_t i, std::int64_t j, std::int64_t k) const { return m_voxels[linearIndex(i, j, k)]; }
    float& at(std::int64_t i, std::int64_t j, std::int64_t k) { return m_voxels[linearIndex(i, j, k)]; }
    bool empty() const { return m_voxels.empty(); }

    /// Trilinear sample at a continuous voxel index; `outside` beyond the grid.
    float sampleIjk(const Vec3& voxelIjk, float outside) const;
    /// Trilinear sample at an LPS point; `outside` beyond the grid.
    float sampleLps(const Vec3& pointLps, float outside) const { return sampleIjk(m_geometry.ijkFromLps(pointLps), outside); }

private:
    Geometry m_geometry;
    VolumeInfo m_info;
    std::vector<float> m_voxels;
};

/// One named segment of a label map (3D Slicer segment conventions).
struct Segment
{
    std::string name;                          ///< e.g. "nerve_root_L4_right"
    std::uint16_t labelValue = 0;              ///< voxel value that marks it (non-zero)
    std::array<double, 3> colorRgb{1, 1, 1};   ///< display colour, each in [0, 1]
};

/// A label image: each voxel holds 0 (background) or one segment's label value.
class LabelMap
{
public:
    LabelMap() = default;
    explicit LabelMap(const Geometry& geometry);

    const Geometry& geometry() const { return m_geometry; }
    std::uint16_t* data() { return m_labels.data(); }
    const std::uint16_t* data() const { return m_labels.data(); }
    std::vector<std::uint16_t>& labels() { return m_labels; }
    const std::vector<std::uint16_t>& labels() const { return m_labels; }
    std::vector<Segment>& segments() { return m_segments; }
    const std::vector<Segment>& segments() const { return m_segments; }

    std::uint16_t at(std::int64_t i, std::int64_t j, std::int64_t k) const
    {
        return m_labels[i + m_geometry.size[0] * (j + m_geometry.size[1] * k)];
    }
    std::uint16_t& at(std::int64_t i, std::int64_t j, std::int64_t k)
    {
        return m_labels[i + m_geometry.size[0] * (j + m_geometry.size[1] * k)];
    }
    /// Segment with this name, or nullptr.
    const Segment* findSegment(const std::string& name) const;

private:
    Geometry m_geometry;
    std::vector<std::uint16_t> m_labels;
    std::vector<Segment> m_segments;
};

} // namespace np::imaging
