#pragma once
/// One entry point for the clinicians' structures: DICOM SEG, RTSTRUCT, or a label map file,
/// brought onto the grid of the loaded CT.

#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <string>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// What kind of structure file a path holds.
enum class StructureFileKind
{
    DicomSeg,
    RtStruct,
    LabelMap, ///< NRRD (incl. .seg.nrrd), NIfTI or MetaImage
};

/// Recognises the file by its content (DICOM SOP class / modality) or its extension. Throws
/// np::Error(NotFound) for a missing file, NotDicom for DICOM that is neither SEG nor RTSTRUCT,
/// Unsupported for anything else.
StructureFileKind detectStructureFile(const std::string& path);

/// Options of importStructures().
struct StructureImportOptions
{
    /// Colour table (.ctbl or ITK-SNAP label description) naming a plain label map's values.
    std::string colorTablePath;
};

/// Imports a DICOM SEG, RTSTRUCT or label map onto the grid of `reference`. A label map on
/// another grid is resampled nearest neighbour by physical position (with a warning); one that
/// does not overlap the reference at all is an np::Error(InconsistentGeometry). Classes and
/// margins are not assigned here: they come from the planning defaults by structure name.
StructureSet importStructures(const std::string& path, const Volume& reference,
                              const StructureImportOptions& options = {}, ProgressSink* progress = nullptr);

/// Brings `labels` onto `grid`: copied when the grids agree, otherwise resampled nearest
/// neighbour by physical position; `warnings` (if given) receives a note when resampled.
/// Throws np::Error(InconsistentGeometry) when no voxel centre of `grid` lies inside `labels`.
StructureSet labelMapOnGrid(const LabelMap& labels, const Geometry& grid, const std::string& what,
                            std::vector<std::string>* warnings = nullptr);

} // namespace np::imaging
