#pragma once
/// Writes a Volume as a single-frame DICOM image series (one file per slice k), the form in which
/// scanners export CT. Used for the sample phantom, benchmarks and loader round-trip tests.

#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Header values of a written series. Empty UIDs are generated (one study, series and frame of
/// reference per call; one SOPInstanceUID per file).
struct DicomWriteOptions
{
    std::string modality = "CT";          ///< CT, MR or PT (selects the SOP class)
    std::string patientPosition = "HFS";  ///< DICOM PatientPosition (HFS, HFP, FFS, FFP, ...)
    std::string patientName;              ///< PN, e.g. "Phantom^Lumbar"
    std::string patientId;
    std::string studyUid;
    std::string seriesUid;
    std::string frameOfReferenceUid;
    std::string seriesDescription;
    double rescaleSlope = 1.0;            ///< HU = stored * slope + intercept (slope > 0)
    double rescaleIntercept = -1024.0;
    bool signedPixels = false;            ///< PixelRepresentation 1 (int16) instead of 0 (uint16)
    /// Optional ImagePositionPatient per slice (size must equal the slice count), overriding the
    /// geometry, to build tilted, unevenly spaced or duplicate-position test stacks.
    std::vector<Vec3> slicePositionsLps;
    int seriesNumber = 1;
};

/// Writes one explicit-VR-little-endian DICOM file per slice k of `volume` into `folder` (created
/// when missing), named slice_00001.dcm, ... in slice order. ImageOrientationPatient comes from the
/// first two direction columns, ImagePositionPatient from the voxel (0, 0, k) (or the override),
/// PixelSpacing is "spacing j \ spacing i" (rows first, as DICOM orders it), and each stored value
/// is round((value - intercept) / slope) clamped to the 16-bit range. Each file is written to a
/// temporary name and renamed into place. Returns the written paths in slice order.
/// Throws np::Error (InvalidArgument for bad options or geometry, Io for write failures,
/// Cancelled when `progress` asks to stop).
std::vector<std::string> writeDicomSeries(const Volume& volume, const std::string& folder,
                                          const DicomWriteOptions& options = {},
                                          ProgressSink* progress = nullptr);

/// A new globally unique DICOM UID under NeedlePlan's site root (thread-safe).
std::string generateDicomUid();

} // namespace np::imaging
