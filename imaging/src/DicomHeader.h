#pragma once
// Header fields of one DICOM file that the scanner and the pixel decoder need (internal).

#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"

namespace np::imaging::detail {

/// Per-frame geometry and rescale (single-frame files have exactly one).
struct DicomFrameHeader
{
    Vec3 positionLps;
    bool hasPosition = false;
    Vec3 rowCosineLps;
    Vec3 columnCosineLps;
    bool hasOrientation = false;
    double rowSpacing = 1.0;    ///< PixelSpacing[0]: mm between rows (along the column cosine)
    double columnSpacing = 1.0; ///< PixelSpacing[1]: mm between columns (along the row cosine)
    bool hasPixelSpacing = false;
    std::string pixelSpacingText; ///< as written, for messages
    double sliceThickness = 0.0;
    double rescaleSlope = 1.0;
    double rescaleIntercept = 0.0;
    int stackId = 0;
    int temporalPositionIndex = 0; ///< enhanced multi-frame: FrameContent TemporalPositionIndex
    std::string effectiveEchoTime;  ///< enhanced MR: MREchoSequence EffectiveEchoTime, as written
    std::string diffusionBValue;    ///< enhanced MR: MRDiffusionSequence DiffusionBValue, as written
};

struct DicomHeader
{
    std::string path;
    std::string transferSyntaxUid;
    std::string transferSyntaxName;
    std::string sopClassUid;
    std::string sopInstanceUid;
    std::string modality;
    std::string seriesUid;
    std::string studyUid;
    std::string frameOfReferenceUid;
    std::string seriesDescription;
    std::string patientPosition;
    std::string imageType;
    std::string photometric;
    int seriesNumber = 0;
    int instanceNumber = 0;
    int rows = 0;
    int columns = 0;
    int bitsAllocated = 0;
    int bitsStored = 0;
    int highBit = -1;
    int pixelRepresentation = 0;
    int samplesPerPixel = 1;
    long numberOfFrames = 1;
    bool hasRows = false;
    bool hasPadding = false;
    long paddingValue = 0;
    bool hasPaddingLimit = false;
    long paddingLimit = 0;
    bool isMultiFrameFunctional = false; ///< enhanced multi-frame with functional groups
    bool hasImagerPixelSpacing = false;
    /// Attributes that tell apart images sharing one position inside a series (echoes, phases,
    /// acquisitions), as written; empty when absent.
    std::string echoNumbers;
    std::string temporalPosition;
    std::string acquisitionNumber;
    std::string triggerTime;
    std::vector<DicomFrameHeader> frames;
};

/// Reads the header of `path` without its pixel data. Throws np::Error(NotDicom) for a file that
/// is not DICOM, np::Error(CorruptData) for an unreadable DICOM header.
DicomHeader readDicomHeader(const std::string& path);

/// Name of a transfer syntax UID ("JPEG 2000 Image Compression (Lossless Only)", ...).
std::string transferSyntaxName(const std::string& uid);

/// Registers the DCMTK decoders (JPEG, JPEG-LS, RLE) once per process.
void registerDicomCodecs();

} // namespace np::imaging::detail
