#pragma once
/// DICOM objects NeedlePlan files with the patient's images: a PDF report as Encapsulated PDF and
/// pictures as Secondary Capture, both in the reference CT's study (patient and study copied from
/// its source DICOM file), so that a PACS files them with the patient.

#include "needleplan/imaging/Volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {

/// The patient and study of an image, as text for reports ("" when unknown).
struct PatientStudySummary
{
    std::string patientName; ///< DICOM PN as written, "^" between components
    std::string patientId;
    std::string birthDate; ///< YYYYMMDD
    std::string sex;
    std::string studyDate; ///< YYYYMMDD
    std::string studyDescription;
    std::string accessionNumber;
    std::string studyUid;
    std::string institution;
};

/// Reads the patient and study from `info.sourceDicomFile`; all empty when there is none or it
/// cannot be read.
PatientStudySummary readPatientStudy(const VolumeInfo& info);

/// Identity of a written object; UIDs are generated when empty.
struct DerivedObjectOptions
{
    std::string seriesDescription;
    int seriesNumber = 901;
    int instanceNumber = 1;
    std::string seriesUid;
    std::string sopInstanceUid;
    /// Used only when the reference has no readable DICOM source.
    std::string patientName, patientId, studyUid;
};

/// A new, unique Series Instance UID (for several objects written into one series).
std::string newSeriesInstanceUid();

/// Writes the PDF file `pdfPath` as a DICOM Encapsulated PDF (modality DOC) with `documentTitle`.
/// Returns warnings (e.g. the CT's source file could not be read). Throws np::Error: NotFound for
/// a missing PDF, CorruptData for a file that is not a PDF, Io for a write failure.
std::vector<std::string> writeEncapsulatedPdf(const std::string& pdfPath, const std::string& documentTitle,
                                              const VolumeInfo& reference, const std::string& outPath,
                                              const DerivedObjectOptions& options = {});

/// An 8-bit RGB picture, rows top to bottom, pixels left to right, 3 bytes each.
struct RgbPicture
{
    int width = 0;
    int height = 0;
    std::vector<std::uint8_t> rgb;
};

/// Writes `picture` as a DICOM Secondary Capture image (modality OT, RGB, conversion type WSD).
/// Returns warnings. Throws np::Error(InvalidArgument) for an empty or inconsistent picture, Io for
/// a write failure.
std::vector<std::string> writeSecondaryCapture(const RgbPicture& picture, const std::string& description,
                                               const VolumeInfo& reference, const std::string& outPath,
                                               const DerivedObjectOptions& options = {});

} // namespace np::imaging
