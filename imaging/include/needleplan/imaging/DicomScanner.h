#pragma once
/// Finding DICOM images under a path and arranging them into series and stacks, from headers only.
///
/// The rules, in order:
///  - Images are grouped by SeriesInstanceUID, then split by FrameOfReferenceUID, image size and
///    orientation; projections (XA, DX, CR, RF, MG), localizers and secondary captures are entries
///    of their own, and each enhanced multi-frame file is split by stack and temporal position.
///  - A group holding several images per position is split by EchoNumbers, EffectiveEchoTime,
///    DiffusionBValue, TemporalPositionIdentifier, AcquisitionNumber, TriggerTime or ImageType,
///    whichever separates it; otherwise it is an error (DuplicatePosition). Copies of one SOP
///    instance count once.
///  - Slices are ordered by position along the normal (row x column cosines); the spacing along k
///    is taken from the positions. Uneven gaps, missing slices and sheared (gantry-tilted) stacks
///    are resampled onto an orthogonal, uniform grid anchored on the first slice's pixels, with a
///    warning; single slices take SliceThickness (or 1 mm) along k.

#include <cstdint>
#include <string>
#include <vector>

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

namespace np::imaging {

/// What a listed entry is; only Volume entries are chosen by default.
enum class DicomSeriesKind
{
    Volume,           ///< a stack of cross-sectional images (CT, MR, PT, ...), possibly one slice
    Projection,       ///< a 2D projection image (XA, DX, CR, RF, MG): never stacked into a volume
    Localizer,        ///< a scout / localizer image (ImageType LOCALIZER)
    SecondaryCapture, ///< a secondary capture (screen shot, derived picture)
};

/// Stable lower-case name: "volume", "projection", "localizer", "secondary-capture".
const char* toString(DicomSeriesKind kind);

/// How the stored pixel values of a file are encoded (from its header).
struct DicomPixelFormat
{
    std::string transferSyntaxUid;
    int bitsAllocated = 16;
    int bitsStored = 16;
    int highBit = 15;
    bool isSigned = false;        ///< PixelRepresentation 1
    bool monochrome1 = false;     ///< PhotometricInterpretation MONOCHROME1 (inverted grey scale)
    bool hasPadding = false;      ///< PixelPaddingValue present
    long paddingValue = 0;
    bool hasPaddingLimit = false; ///< PixelPaddingRangeLimit present
    long paddingLimit = 0;
    long numberOfFrames = 1;
};

/// One image (a single-frame file or one frame of a multi-frame file) of an entry.
struct DicomFrameRef
{
    std::string path;           ///< file holding the image
    int frameIndex = 0;         ///< frame within the file (0 for single-frame files)
    std::string sopInstanceUid; ///< SOPInstanceUID of the file
    Vec3 positionLps;           ///< ImagePositionPatient: LPS centre of the first transmitted pixel
    bool hasPosition = false;   ///< false when the header has no position
    double rescaleSlope = 1.0;
    double rescaleIntercept = 0.0;
    DicomPixelFormat pixelFormat;   ///< encoding of the file's pixels
};

/// One entry of the listing: a stack of images that can become one volume (or a 2D image).
struct DicomSeriesEntry
{
    int index = 0;                  ///< position in the listing (what --series takes)
    DicomSeriesKind kind = DicomSeriesKind::Volume;
    std::string seriesUid;
    std::string studyUid;
    std::string frameOfReferenceUid;
    std::string modality;
    std::string description;        ///< SeriesDescription
    std::string patientPosition;    ///< HFS, HFP, FFS, ...
    std::string transferSyntax;     ///< name of the transfer syntax of the first file
    int seriesNumber = 0;
    int rows = 0;                   ///< pixel rows per image
    int columns = 0;                ///< pixel columns per image
    /// The grid the loaded volume will have (resampled grids included), worked out from headers.
    Geometry geometry;
    /// True when the images are resampled onto `geometry` (gantry tilt, uneven or missing slices);
    /// false when image s is grid slice k = s, pixel for pixel.
    bool resampled = false;
    std::vector<DicomFrameRef> frames;   ///< images, ordered along the slice normal for volumes
    std::vector<std::string> warnings;   ///< resampling, gaps, assumed values
    /// Set when the entry cannot be loaded (duplicate positions, bad spacing, ...): loading it
    /// throws np::Error(errorCode, error). Other entries are unaffected.
    std::string error;
    ErrorCode errorCode = ErrorCode::Internal;
    bool hasError() const { return !error.empty(); }
};

/// A file that is not a loadable image, with the reason ("not DICOM", "DICOM SEG segmentation", ...).
struct SkippedFile
{
    std::string path;
    std::string reason;
};

/// Everything found under a path.
struct DicomScanResult
{
    std::string rootPath;
    std::vector<DicomSeriesEntry> series;
    std::vector<SkippedFile> skipped;
};

/// Scans a DICOM file, a folder (recursively) or a DICOMDIR, reading headers only (no pixel
/// data). Non-DICOM files and non-image objects are listed in `skipped`, not raised. Throws
/// np::Error(NotFound) when the path does not exist and np::Error(NotDicom) when a single file
/// given directly is not DICOM.
DicomScanResult scanDicom(const std::string& path, ProgressSink* progress = nullptr);

/// Index of the entry selected by `options` (seriesIndex, seriesUid, or the first volume entry).
/// Throws np::Error(NotFound) when there is no such entry.
int selectSeries(const DicomScanResult& scan, const LoadOptions& options);

/// Decodes the pixels of entry `index` into a Volume (HU for CT), resampling sheared or
/// unevenly spaced stacks onto the entry's orthogonal uniform grid. Files are decoded in parallel.
Volume loadDicomSeries(const DicomScanResult& scan, int index, const LoadOptions& options = {},
                       ProgressSink* progress = nullptr);

} // namespace np::imaging
