#pragma once
/// Named structures on one image grid, each kept as its own binary mask so that overlapping
/// structures (DICOM SEG segments, RTSTRUCT ROIs) survive import. A LabelMap holds one label per
/// voxel; toLabelMap() flattens the set into one with a documented precedence rule.

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Volume.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {

/// One structure: its name, label value and colour, and a 0/1 mask laid out like Volume
/// (index = i + size_i * (j + size_j * k)).
struct StructureMask
{
    Segment segment;
    std::vector<std::uint8_t> voxels;

    /// Number of voxels set in the mask.
    std::int64_t voxelCount() const;
};

/// Structures on a common grid (like 3D Slicer's layered segmentations), plus the warnings the
/// import or segmentation produced.
class StructureSet
{
public:
    StructureSet() = default;
    explicit StructureSet(const Geometry& geometry) : m_geometry(geometry) {}

    const Geometry& geometry() const { return m_geometry; }
    std::vector<StructureMask>& structures() { return m_structures; }
    const std::vector<StructureMask>& structures() const { return m_structures; }
    std::vector<std::string>& warnings() { return m_warnings; }
    const std::vector<std::string>& warnings() const { return m_warnings; }

    /// Appends an empty structure; its label value is one more than the largest used so far.
    /// The reference is valid until the next add().
    StructureMask& add(const std::string& name, const std::array<double, 3>& colorRgb);
    /// Structure with this name, or nullptr.
    const StructureMask* find(const std::string& name) const;
    StructureMask* find(const std::string& name);

    /// Volume of one voxel in millilitres.
    double voxelVolumeMl() const;
    /// Number of voxels that belong to two or more structures.
    std::int64_t overlapVoxelCount() const;

    /// One label per voxel. Where structures overlap, the one listed later wins (so a set listed
    /// coarse to fine, e.g. body then bone, keeps the finer structure). Label values are the
    /// structures' own when they are non-zero and unique, otherwise 1..N in list order.
    LabelMap toLabelMap() const;
    /// Splits a label map into one mask per segment (segments with no voxels are kept, empty).
    /// Voxels whose label names no segment become a structure "label_<value>".
    static StructureSet fromLabelMap(const LabelMap& labels);

private:
    Geometry m_geometry;
    std::vector<StructureMask> m_structures;
    std::vector<std::string> m_warnings;
};

} // namespace np::imaging
