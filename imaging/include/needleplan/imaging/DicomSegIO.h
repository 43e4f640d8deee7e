#pragma once
/// DICOM Segmentation (SEG) objects: import onto a loaded CT, and export of structures as a SEG
/// that references the CT.

#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/Volume.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

/// What a segment is (DICOM SEG Segmented Property Category and Type, CID 7150 / 7151), so that
/// other viewers name and colour it. `typeModifier` (e.g. SNOMED CT 7771000 "Left") is optional.
struct SegmentCoding
{
    CodedConcept category;
    CodedConcept type;
    CodedConcept typeModifier;
};

/// The code used when the caller knows nothing better about a structure: category SNOMED CT
/// 91723000 "Anatomical Structure", type 85756007 "Tissue".
SegmentCoding genericSegmentCoding();

/// Identity of the exported SEG; UIDs are generated when empty. Patient and study are copied from
/// the reference image's source DICOM file (`VolumeInfo::sourceDicomFile`) when it can be read;
/// the fields below are used otherwise.
struct DicomSegWriteOptions
{
    std::string seriesDescription = "NeedlePlan structures";
    std::string seriesUid;
    std::string sopInstanceUid;
    std::string studyUid; ///< used when the reference has no readable DICOM source; generated when empty
    std::string patientName;
    std::string patientId;
    int seriesNumber = 900;
    bool automatic = false; ///< Segment Algorithm Type AUTOMATIC (else MANUAL)
    /// Category and type of each structure, by structure; genericSegmentCoding() when empty, or
    /// when it returns an empty category or type.
    std::function<SegmentCoding(const Segment& segment)> coding;
};

/// Writes `structures` (on the grid of `reference`) as a BINARY DICOM SEG (DCMTK dcmseg) with
/// one frame per segment and slice that holds any of its voxels, dimensions (segment number,
/// image position), each frame referencing the CT slice's SOP Instance UID when
/// `reference.info()` lists them, and the CT's patient, study and frame of reference. A segment
/// without voxels gets no frame. Written to a temporary file and renamed into place. Returns
/// warnings (e.g. the source DICOM file could not be read, so patient and study come from
/// `options`). Throws np::Error on a grid mismatch, when no structure holds a voxel, or a write
/// failure.
std::vector<std::string> writeDicomSeg(const StructureSet& structures, const Volume& reference,
                                       const std::string& path, const DicomSegWriteOptions& options = {});

/// DICOM Recommended Display CIELab value (three 16-bit scaled values, D65 white) to sRGB in [0, 1].
std::array<double, 3> rgbFromDicomLab(const std::array<std::uint16_t, 3>& scaledLab);
/// sRGB in [0, 1] to the DICOM scaled CIELab triple.
std::array<std::uint16_t, 3> dicomLabFromRgb(const std::array<double, 3>& rgb);

} // namespace np::imaging
