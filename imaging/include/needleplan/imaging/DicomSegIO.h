#pragma once
/// DICOM Segmentation (SEG) objects: import onto a loaded CT, and export of structures as a SEG
/// that references the CT.

#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <array>
#include <cstdint>
#include <string>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Reads the DICOM SEG at `path` onto the grid of `reference`. Each segment becomes one structure
/// (its Segment Label, and its Recommended Display CIELab value as RGB), so overlapping segments
/// stay separate. Frames are placed by their per-frame Image Position (Patient) and the shared or
/// per-frame orientation and pixel spacing, nearest neighbour onto the reference voxels; a SEG may
/// cover only some slices or use another in-plane grid. BINARY frames (1 bit, packed across frame
/// boundaries) and FRACTIONAL frames (8 bit; a voxel is in the segment when its value is at least
/// half the Maximum Fractional Value) are read. A SEG that references another series gives a
/// warning naming both series UIDs. Throws np::Error: NotDicom / Io for an unreadable file or one
/// that is not a SEG, UnsupportedTransferSyntax when the pixel data cannot be decoded (JPEG 2000),
/// CorruptData for missing or inconsistent attributes, InconsistentGeometry when no frame lies on
/// a slice of `reference`.
StructureSet importDicomSeg(const std::string& path, const Volume& reference,
                            ProgressSink* progress = nullptr);

/// Identity of the exported SEG; UIDs are generated when empty.
struct DicomSegWriteOptions
{
    std::string seriesDescription = "NeedlePlan structures";
    std::string seriesUid;
    std::string sopInstanceUid;
    std::string studyUid; ///< should be the CT's study; generated when unknown
    std::string patientName;
    std::string patientId;
    int seriesNumber = 900;
    bool automatic = false; ///< Segment Algorithm Type AUTOMATIC (else MANUAL)
};

/// Writes `structures` (on the grid of `reference`) as a BINARY DICOM SEG with one frame per
/// segment and slice that holds any of its voxels, each frame referencing the CT slice's
/// SOP Instance UID when `reference.info()` lists them, and the CT's series and frame of
/// reference. Written to a temporary file and renamed into place. Throws np::Error on a grid
/// mismatch or a write failure.
void writeDicomSeg(const StructureSet& structures, const Volume& reference, const std::string& path,
                   const DicomSegWriteOptions& options = {});

/// DICOM Recommended Display CIELab value (three 16-bit scaled values, D65 white) to sRGB in [0, 1].
std::array<double, 3> rgbFromDicomLab(const std::array<std::uint16_t, 3>& scaledLab);
/// sRGB in [0, 1] to the DICOM scaled CIELab triple.
std::array<std::uint16_t, 3> dicomLabFromRgb(const std::array<double, 3>& rgb);

} // namespace np::imaging
