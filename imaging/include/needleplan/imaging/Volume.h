#pragma once
/// Scalar image (CT in HU, MR in scanner units) with its geometry and provenance.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
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
    /// One DICOM file of the series (DICOM only): its patient and study are copied into the
    /// objects NeedlePlan derives from the image (SEG, report, pictures).
    std::string sourceDicomFile;
    /// Smallest and largest voxel value as loaded, found while decoding (DICOM loader); false when
    /// not computed. Not updated when the voxels are changed later.
    bool hasValueRange = false;
    float minimumValue = 0.0f; ///< valid when hasValueRange
    float maximumValue = 0.0f; ///< valid when hasValueRange
};

/// Raw storage for voxel buffers: large blocks are mapped on 2 MiB boundaries with transparent
/// huge pages requested (fewer page faults and TLB misses); small ones come from the heap.
/// Throws std::bad_alloc when the memory cannot be had.
void* allocateVoxelStorage(std::size_t bytes);
/// Returns a block from allocateVoxelStorage(bytes) with the same `bytes`.
void releaseVoxelStorage(void* block, std::size_t bytes) noexcept;

/// Allocator for voxel buffers. Unlike std::allocator it default-initialises new elements, so
/// `resize(n)` and `vector(n)` of arithmetic types leave them unset (no zero-filling pass): every
/// user that needs a value must write it. Copies, `assign`, `vector(n, value)` and initializer
/// lists behave as usual.
template <typename T>
class VoxelAllocator
{
public:
    using value_type = T;

    VoxelAllocator() noexcept = default;
    template <typename U>
    VoxelAllocator(const VoxelAllocator<U>&) noexcept // NOLINT(google-explicit-constructor)
    {
    }

    T* allocate(std::size_t count)
    {
        if (count > static_cast<std::size_t>(-1) / sizeof(T))
            throw std::bad_alloc();
        return static_cast<T*>(allocateVoxelStorage(count * sizeof(T)));
    }
    void deallocate(T* block, std::size_t count) noexcept { releaseVoxelStorage(block, count * sizeof(T)); }

    /// Value-less construction default-initialises (leaves arithmetic values unset).
    template <typename U>
    void construct(U* where) noexcept(std::is_nothrow_default_constructible<U>::value)
    {
        ::new (static_cast<void*>(where)) U;
    }
    template <typename U, typename... Args>
    void construct(U* where, Args&&... args)
    {
        ::new (static_cast<void*>(where)) U(std::forward<Args>(args)...);
    }

    friend bool operator==(const VoxelAllocator&, const VoxelAllocator&) noexcept { return true; }
    friend bool operator!=(const VoxelAllocator&, const VoxelAllocator&) noexcept { return false; }
};

/// Vector-like voxel buffer (begin/end/size/data/operator[]/==) without zero-filling allocation.
template <typename T>
using VoxelVector = std::vector<T, VoxelAllocator<T>>;

/// Element-wise comparison with a plain std::vector, so code written against std::vector (e.g.
/// `EXPECT_EQ(labels.labels(), std::vector<std::uint16_t>{...})`) keeps compiling; found by
/// argument-dependent lookup through VoxelAllocator.
template <typename T>
bool operator==(const VoxelVector<T>& a, const std::vector<T>& b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
template <typename T>
bool operator==(const std::vector<T>& a, const VoxelVector<T>& b)
{
    return b == a;
}
template <typename T>
bool operator!=(const VoxelVector<T>& a, const std::vector<T>& b)
{
    return !(a == b);
}
template <typename T>
bool operator!=(const std::vector<T>& a, const VoxelVector<T>& b)
{
    return !(b == a);
}

/// Tag for the constructors that leave voxel values unset: the caller must write every voxel.
struct UninitializedVoxels
{
    explicit UninitializedVoxels() = default;
};
/// Pass to Volume / LabelMap constructors to skip the fill (e.g. when decoding threads write every
/// voxel and so do the first touch of its pages in parallel).
inline constexpr UninitializedVoxels uninitializedVoxels{};

/// A 3D scalar image stored as float, x fastest (index = i + size_i * (j + size_j * k)).
class Volume
{
public:
    Volume() = default;
    /// Allocates a volume of `geometry` filled with `fillValue`.
    /// Large volumes are filled by several threads.
    explicit Volume(const Geometry& geometry, float fillValue = 0.0f);
    /// Allocates a volume of `geometry` whose voxel values are unset; the caller writes all of them.
    Volume(const Geometry& geometry, UninitializedVoxels);

    const Geometry& geometry() const { return m_geometry; }
    VolumeInfo& info() { return m_info; }
    const VolumeInfo& info() const { return m_info; }

    float* data() { return m_voxels.data(); }
    const float* data() const { return m_voxels.data(); }
    VoxelVector<float>& voxels() { return m_voxels; }
    const VoxelVector<float>& voxels() const { return m_voxels; }

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
    VoxelVector<float> m_voxels;
};

/// A coded concept as DICOM carries it: coding scheme designator, code value and meaning
/// (e.g. SCT 10200004 "Liver").
struct CodedConcept
{
    std::string scheme;  ///< "SCT", "DCM", ...
    std::string value;   ///< code value; empty when there is no code
    std::string meaning; ///< code meaning, for people

    bool empty() const { return value.empty(); }
};

/// One named segment of a label map (3D Slicer segment conventions).
struct Segment
{
    std::string name;                          ///< e.g. "nerve_root_L4_right"
    std::uint16_t labelValue = 0;              ///< voxel value that marks it (non-zero)
    std::array<double, 3> colorRgb{1, 1, 1};   ///< display colour, each in [0, 1]
    /// DICOM SEG SegmentedPropertyCategoryCodeSequence / TypeCodeSequence / TypeModifierCodeSequence
    /// (or an RTSTRUCT ROI's identification code) when the file had them; empty otherwise.
    CodedConcept categoryCode{};
    CodedConcept typeCode{};
    CodedConcept typeModifierCode{};
    /// RTSTRUCT RTROIInterpretedType ("ORGAN", "EXTERNAL", "PTV", ...), empty when not known.
    std::string rtInterpretedType{};
};

/// A label image: each voxel holds 0 (background) or one segment's label value.
class LabelMap
{
public:
    LabelMap() = default;
    /// Allocates a label map of `geometry` with every voxel 0 (background); large ones are filled by several threads.
    explicit LabelMap(const Geometry& geometry);
    /// Allocates a label map of `geometry` whose voxel values are unset; the caller writes all of them.
    LabelMap(const Geometry& geometry, UninitializedVoxels);

    const Geometry& geometry() const { return m_geometry; }
    std::uint16_t* data() { return m_labels.data(); }
    const std::uint16_t* data() const { return m_labels.data(); }
    VoxelVector<std::uint16_t>& labels() { return m_labels; }
    const VoxelVector<std::uint16_t>& labels() const { return m_labels; }
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
    VoxelVector<std::uint16_t> m_labels;
    std::vector<Segment> m_segments;
};

} // namespace np::imaging
