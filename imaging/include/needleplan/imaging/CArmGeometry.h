#pragma once
/// The one C-arm model of NeedlePlan: a cone-beam view that maps LPS millimetres to detector pixels
/// (a 3×4 projection matrix) and a detector pixel back to its ray in LPS.
///
/// Conventions (DICOM PS3.3 C.8.7.5, PS3.17 FFF.2.1.3.1.2):
/// - The positioner angles are patient-based and give the detector direction v (unit vector from
///   the isocentre toward the detector): v = (sin α cos β, −cos α cos β, sin β), α = Positioner
///   Primary Angle (LAO +, RAO −), β = Positioner Secondary Angle (CRA +, CAU −). α = β = 0 puts the
///   detector in front of the patient. The beam runs from the source to the detector (along v).
///   These are the angles planning prints for a trajectory (planning/README.md).
/// - Heads-up image: the stored image as seen from the detector looking toward the source, with the
///   patient's head up. Its column axis (to the right) is u = (cos α, sin α, 0), its row axis (down)
///   is w = (sin α sin β, −cos α sin β, −cos β); u = v × w. The AP view of a supine patient shows
///   the patient's left on the image's right and the feet down.
/// - An image rotation (0/90/180/270, clockwise as the stored image is displayed) and a horizontal
///   flip (after the rotation) turn the heads-up image into the stored one.
/// - The isocentre projects to the image centre; pixel (column, row) are zero-based pixel centres,
///   column to the right and row down as stored, so the centre is ((columns − 1)/2, (rows − 1)/2).
/// - The patient-based angles do not depend on how the patient lies: the patient position is kept
///   with the view (it is written to DICOM and used to convert table angles), it does not move it.

#include "needleplan/imaging/Vec3.h"

#include <array>
#include <string>

namespace np::imaging {

/// A point on the detector in stored-image pixels: zero-based pixel centres, column to the right,
/// row down.
struct DetectorPixel
{
    double column = 0.0;
    double row = 0.0;
};

/// A ray in LPS mm: origin and unit direction.
struct RayLps
{
    Vec3 originLps;
    Vec3 directionLps;
};

/// 3×4 projection matrix, row-major: (c·w, r·w, w) = P · (x, y, z, 1) with (x, y, z) LPS mm and
/// (c, r) the detector pixel. w is the depth along the beam in mm (positive in front of the source).
struct ProjectionMatrix
{
    std::array<double, 12> m{};

    double operator()(int row, int column) const { return m[4 * row + column]; }
    double& operator()(int row, int column) { return m[4 * row + column]; }
    /// Pixel where `pointLps` projects (undefined for points in the source plane, w = 0).
    DetectorPixel project(const Vec3& pointLps) const;
    /// Depth w of `pointLps` (mm from the source along the central beam).
    double depth(const Vec3& pointLps) const;
};

/// Everything that fixes one C-arm view.
struct CArmParameters
{
    double primaryDeg = 0.0;              ///< Positioner Primary Angle (LAO +, RAO −), patient-based
    double secondaryDeg = 0.0;            ///< Positioner Secondary Angle (CRA +, CAU −), patient-based
    double sourceToDetectorMm = 1000.0;   ///< SID, DistanceSourceToDetector (0018,1110)
    double sourceToIsocenterMm = 750.0;   ///< SOD, DistanceSourceToPatient (0018,1111)
    Vec3 isocenterLps;                    ///< the point that projects to the image centre
    std::string patientPosition = "HFS";  ///< DICOM PatientPosition (HFS, HFP, FFS, ...)
    int columns = 512;                    ///< detector pixels per row
    int rows = 512;                       ///< detector rows
    double columnSpacingMm = 300.0 / 512; ///< detector pixel pitch between columns (ImagerPixelSpacing[1])
    double rowSpacingMm = 300.0 / 512;    ///< detector pixel pitch between rows (ImagerPixelSpacing[0])
    int imageRotationDeg = 0;             ///< 0, 90, 180 or 270: heads-up image turned clockwise as displayed
    bool horizontalFlip = false;          ///< columns mirrored after the rotation
};

/// A validated C-arm view with its derived frame.
class CArmGeometry
{
public:
    /// Throws np::Error(InvalidArgument) naming the parameter when a value is out of range
    /// (SID ≤ SOD, non-positive spacing or size, rotation not a multiple of 90°, non-finite angles).
    explicit CArmGeometry(const CArmParameters& parameters);

    const CArmParameters& parameters() const { return m_parameters; }

    /// X-ray source (focal spot) in LPS.
    Vec3 sourceLps() const { return m_sourceLps; }
    /// Unit vector from the isocentre toward the detector (the beam direction).
    Vec3 detectorDirectionLps() const { return m_detectorDirectionLps; }
    /// LPS position of the detector centre (where the isocentre projects).
    Vec3 detectorCenterLps() const { return m_detectorCenterLps; }
    /// LPS unit direction of increasing column of the stored image, in the detector plane.
    Vec3 columnDirectionLps() const { return m_columnDirectionLps; }
    /// LPS unit direction of increasing row of the stored image, in the detector plane.
    Vec3 rowDirectionLps() const { return m_rowDirectionLps; }
    /// Pixel of the image centre, ((columns − 1)/2, (rows − 1)/2).
    DetectorPixel centerPixel() const;

    /// SID / SOD.
    double magnification() const;
    /// Pixel pitch between columns / rows projected to the isocentre plane (detector pitch / magnification).
    double isocenterColumnSpacingMm() const;
    double isocenterRowSpacingMm() const;

    ProjectionMatrix projectionMatrix() const;
    /// Detector pixel where `pointLps` projects.
    DetectorPixel project(const Vec3& pointLps) const;
    /// LPS position of a (continuous) detector pixel on the detector plane.
    Vec3 detectorPointLps(const DetectorPixel& pixel) const;
    /// Ray from the source through the detector pixel.
    RayLps ray(const DetectorPixel& pixel) const;

    /// DICOM Patient Orientation (0020,0020) of the stored image: the patient directions of
    /// increasing column and of increasing row, e.g. "L\F" for an AP view of a supine patient.
    std::string patientOrientation() const;

private:
    CArmParameters m_parameters;
    Vec3 m_detectorDirectionLps;
    Vec3 m_sourceLps;
    Vec3 m_detectorCenterLps;
    Vec3 m_columnDirectionLps;
    Vec3 m_rowDirectionLps;
};

/// Detector direction v for patient-based positioner angles (degrees).
Vec3 detectorDirectionFromPositionerAngles(double primaryDeg, double secondaryDeg);

/// Patient directions ("L", "PF", ...) of an LPS direction for DICOM Patient Orientation: the
/// letters of the components larger than `minimumComponent` in decreasing order of size.
std::string patientOrientationLetters(const Vec3& directionLps, double minimumComponent = 0.1);

} // namespace np::imaging
