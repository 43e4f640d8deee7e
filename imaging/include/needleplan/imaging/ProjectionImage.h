#pragma once
/// X-ray projection images (XA, XRF/RF, DX, CR, Enhanced XA / XRF; single frame or cine) with the
/// C-arm geometry of each frame, as the header gives it and nothing guessed.
///
/// Geometry confidence:
/// - full: positioner angles, SID, SOD (or SID and the magnification factor) and a detector pixel
///   spacing are all present, so every frame has a CArmGeometry;
/// - angles only: the angles are present, some distance or spacing is not;
/// - none: no positioner angles.
/// `missing` names each absent attribute with its tag. Image-intensifier systems get a distortion
/// warning (PS3.17 FFF.2.5.1.3.2). The angles are patient-based (PS3.3 C.8.7.5) and describe frame
/// 1; cine frames add PositionerPrimary/SecondaryAngleIncrement (one average step, or one offset
/// from frame 1 per frame). Enhanced XA/XRF take per-frame angles and distances from the functional
/// groups and keep the equipment-based isocentre angles when present.

#include "needleplan/imaging/CArmGeometry.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

enum class GeometryConfidence
{
    Full,
    AnglesOnly,
    None,
};

/// "full", "angles only" or "none".
const char* toString(GeometryConfidence confidence);

/// Per-frame positioner state.
struct ProjectionFrameGeometry
{
    std::optional<double> primaryDeg;   ///< patient-based, LAO +
    std::optional<double> secondaryDeg; ///< patient-based, CRA +
    std::optional<double> sourceToDetectorMm;
    std::optional<double> sourceToIsocenterMm;
    /// Enhanced XA Isocenter Reference System (equipment-based; do not depend on the patient).
    std::optional<double> isocenterPrimaryDeg;
    std::optional<double> isocenterSecondaryDeg;
    std::optional<double> isocenterDetectorRotationDeg;
};

/// Geometry of a projection image and of each of its frames.
struct ProjectionGeometry
{
    GeometryConfidence confidence = GeometryConfidence::None;
    std::vector<std::string> missing; ///< e.g. "DistanceSourceToDetector (0018,1110)"
    std::vector<ProjectionFrameGeometry> frames;
    std::optional<double> sourceToDetectorMm;  ///< frame 1 (or the only value)
    std::optional<double> sourceToIsocenterMm; ///< frame 1 (or the only value)
    std::optional<double> magnification;       ///< SID / SOD, or EstimatedRadiographicMagnificationFactor
    /// Detector pixel pitch (ImagerPixelSpacing): [0] between rows, [1] between columns, mm.
    std::optional<std::array<double, 2>> detectorPixelSpacingMm;
    /// Pixel pitch at the isocentre plane, [0] between rows, [1] between columns, and where it came
    /// from: "ImagerPixelSpacing / magnification", "PixelSpacing (calibrated)" or
    /// "ObjectPixelSpacingInCenterOfBeam".
    std::optional<std::array<double, 2>> isocenterPixelSpacingMm;
    std::string isocenterPixelSpacingSource;
    int fieldOfViewRotationDeg = 0; ///< FieldOfViewRotation (0018,7032): 0, 90, 180, 270
    bool horizontalFlip = false;    ///< FieldOfViewHorizontalFlip (0018,7034)
    std::string patientPosition;    ///< PatientPosition (0018,5100) ("" when absent)
    std::string patientOrientation; ///< PatientOrientation (0020,0020) as written, e.g. "L\\F"
    std::string positionerMotion;   ///< STATIC, DYNAMIC or ""
    std::string receptorType;       ///< IMG_INTENSIFIER, DIGITAL_DETECTOR or ""
};

/// A loaded projection image: its frames (display values, larger = brighter) and geometry.
struct ProjectionImage
{
    std::string sourcePath;
    std::string sopClassUid;
    std::string sopInstanceUid;
    std::string seriesUid;
    std::string frameOfReferenceUid;
    std::string modality; ///< XA, RF, DX, CR
    std::string description;
    bool enhanced = false; ///< Enhanced XA / XRF (functional groups)
    int columns = 0;
    int rows = 0;
    int frameCount = 0;
    double frameTimeMs = 0.0; ///< FrameTime or the mean of FrameTimeVector; 0 when absent
    bool monochrome1 = false; ///< stored as MONOCHROME1; the pixels below are already inverted
    /// frameCount × rows × columns values (frame-major, rows down, columns right); empty when the
    /// image was read without pixels.
    std::vector<float> pixels;
    ProjectionGeometry geometry;
    std::vector<std::string> warnings;

    const float* frame(int index) const
    {
        return pixels.data() + static_cast<std::size_t>(index) * static_cast<std::size_t>(rows) * columns;
    }
    /// C-arm view of a frame, with `isocenterLps` as the isocentre (the header of a plain XA does
    /// not place the patient). Throws np::Error(Unsupported) naming the missing attributes when the
    /// confidence is not full, InvalidArgument for a frame out of range.
    CArmGeometry frameView(int frameIndex, const Vec3& isocenterLps = {}) const;
};

/// Reads a projection image. With `withPixels` false only the header is read (for listings).
/// Throws np::Error(NotDicom) for a file that is not DICOM, Unsupported for a DICOM object that is
/// not a projection image or has colour pixels, CorruptData naming the file and the attribute for
/// malformed headers, UnsupportedTransferSyntax when the pixels cannot be decoded.
ProjectionImage loadProjectionImage(const std::string& path, bool withPixels = true,
                                    ProgressSink* progress = nullptr);

/// Which DICOM object a DRR (or any projection frames) is written as.
enum class XaDicomKind
{
    /// X-Ray Angiographic Image (1.2.840.10008.5.1.4.1.1.12.1): frame 1's angles with per-frame
    /// increments; the isocentre is assumed at the image centre.
    Xa,
    /// Enhanced XA Image (1.2.840.10008.5.1.4.1.1.12.1.1): shared and per-frame functional groups
    /// (X-Ray Positioner angles, X-Ray Geometry distances, ImagerPixelSpacing, field of view,
    /// Patient Orientation in Frame, Frame Content) for every frame.
    EnhancedXa,
};

/// "xa" or "enhanced-xa".
const char* toString(XaDicomKind kind);
/// Parses "xa" / "enhanced-xa" (case-insensitive); nullopt for anything else.
std::optional<XaDicomKind> parseXaDicomKind(const std::string& text);

/// What to write into an XA besides the geometry and pixels.
struct XaWriteOptions
{
    XaDicomKind kind = XaDicomKind::Xa;
    /// A DICOM file of the CT the DRR was rendered from: its patient (name, ID, birth date, sex)
    /// and study (Study Instance UID, ID, date, time, accession number, referring physician) are
    /// copied. "" or an unreadable file: the fallbacks below and a new study.
    std::string sourceDicomFile;
    std::string patientName = "NeedlePlan^DRR"; ///< fallback without a source file
    std::string patientId = "DRR";              ///< fallback without a source file
    std::string studyInstanceUid;               ///< fallback without a source file; generated when empty
    std::string frameOfReferenceUid;            ///< of the CT the DRR was rendered from ("" to leave out)
    std::string seriesDescription = "DRR";
    double frameTimeMs = 100.0; ///< cine frame time (multi-frame only)
    /// The display frames' sense: false (a fluoroscope's: air bright, bone dark, so higher values
    /// mean more X-ray intensity at the detector), true when inverted (bone bright). Enhanced XA
    /// states it as PixelIntensityRelationshipSign.
    bool inverted = false;
    /// Enhanced XA Frame Anatomy: the anatomic region (SNOMED CT code and meaning) the DRR shows.
    std::string anatomicRegionCode = "421060004";
    std::string anatomicRegionMeaning = "Spine";
};

/// Writes 8-bit display frames (rows × columns each, MONOCHROME2) as one X-Ray Angiographic image
/// or Enhanced XA image (`options.kind`; multi-frame for several) with the full geometry of
/// `views`, in a new series. Plain XA: positioner angles of frame 1 and per-frame offsets
/// (PositionerMotion DYNAMIC), SID, SOD, the magnification factor, ImagerPixelSpacing, the
/// field-of-view rotation and flip, PatientPosition and the Patient Orientation of frame 1.
/// Enhanced XA: the same per frame in functional groups. All views must share the detector, the
/// distances, rotation and flip (only the angles may change). Written to a temporary file and
/// renamed into place. Returns warnings (a source file whose patient and study cannot be read).
/// Throws np::Error(InvalidArgument) for inconsistent views or frames, Io when writing fails.
std::vector<std::string> writeXaImage(const std::string& path, const std::vector<CArmGeometry>& views,
                                      const std::vector<std::vector<std::uint8_t>>& frames,
                                      const XaWriteOptions& options = {});

/// True for the SOP classes and modalities handled here (XA, RF, DX, CR and their enhanced forms).
bool isProjectionModality(const std::string& modality);

} // namespace np::imaging
