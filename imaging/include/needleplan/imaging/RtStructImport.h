#pragma once
/// Import of DICOM RT Structure Sets (RTSTRUCT) onto a loaded CT.

#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <string>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Reads the RTSTRUCT at `path` and rasterises each ROI's CLOSED_PLANAR contours onto the grid of
/// `reference` (even-odd per slice, see rasterizeContours()). Each ROI becomes one structure with
/// its ROI name and display colour. Placement uses the contour coordinates; the references are
/// checked against `reference.info()` and every disagreement becomes a warning in the result:
/// a missing referenced series, another series or frame of reference (naming both UIDs), and
/// contours on slices that are not loaded (with the count). Throws np::Error: NotDicom / Io /
/// CorruptData for an unreadable file or one that is not an RTSTRUCT, InconsistentGeometry when
/// the file has contours but none lies on a slice of `reference`.
StructureSet importRtStruct(const std::string& path, const Volume& reference,
                            ProgressSink* progress = nullptr);

} // namespace np::imaging
