#pragma once
/// Joins new structures (automatic segmentation or an imported file) to the structures already
/// shown, as one label map. No Qt.

#include "needleplan/gui/StructureRow.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace np::gui {

/// How severe a structure class is when two structures claim the same voxel: forbidden 4,
/// obstacle 3, caution 2, target 1, ignored 0.
int classSeverity(planning::StructureClass structureClass);

/// The label map and structure rows after a merge, and which label values changed voxels.
struct MergedStructures
{
    std::shared_ptr<imaging::LabelMap> labels;
    std::vector<StructureRow> rows;
    std::vector<std::uint16_t> changedLabels; ///< sorted; labels that gained or lost voxels
    int added = 0;                            ///< new structures
    int replaced = 0;                         ///< existing structures (same name) whose voxels were replaced
};

/// Adds `incoming` (on the grid `grid`, the image's) to `existing` (may be null) with its rows.
/// A new structure whose name equals an existing one (case-insensitive) replaces that structure's
/// voxels and keeps its row (class, margin, colour); any other gets the next free label value and
/// the planning defaults by name. Where structures overlap in the one label map, the more severe
/// class keeps the voxel (classSeverity); at equal severity the structure merged later wins, except
/// that an ignored structure (body, fat, muscle) only takes voxels no other structure holds. So a
/// forbidden structure never loses voxels to a less severe one. Throws np::Error(InvalidArgument)
/// when the grids differ or the label values run out.
MergedStructures mergeStructures(const imaging::LabelMap* existing,
                                 const std::vector<StructureRow>& existingRows,
                                 const imaging::StructureSet& incoming, const imaging::Geometry& grid);

/// The label map with the segment names and colours of `rows` (for export).
imaging::LabelMap labelMapForExport(const imaging::LabelMap& labels, const std::vector<StructureRow>& rows);

} // namespace np::gui
