#pragma once
/// Angles a physician reads for a trajectory: craniocaudal and mediolateral angles, and the C-arm
/// angles of the bull's-eye and progression views.
///
/// Conventions (all vectors in DICOM LPS: +x patient Left, +y Posterior, +z Superior):
/// - d is the unit needle direction from entry to target.
/// - Craniocaudal angle = asin(d·z): the angle between d and the axial plane. Positive means the
///   needle travels toward the head ("caudal-to-cranial"), negative toward the feet.
/// - Mediolateral angle = atan2(|d·x|, |d·y|): the angle between d projected on the axial plane and
///   the antero-posterior axis (0 = straight AP/PA, 90 = purely lateral), with the side the needle
///   travels toward (patient left or right) and, when the midline is known, whether that is toward
///   or away from it.
/// - C-arm angles describe the detector (image intensifier) direction v, a unit vector from the
///   isocentre toward the detector:
///   * DICOM PS3.3 C.8.7.5 Positioner Primary/Secondary Angle, patient-based: v =
///     (sin α cos β, −cos α cos β, sin β); α > 0 is LAO (detector toward the patient's left),
///     β > 0 is CRA (detector toward the head). α = β = 0 puts the detector in front of the chest
///     (anterior). These do not depend on how the patient lies; for a prone patient viewed from
///     behind, |α| is near 180°.
///   * Table angles: the same rotation measured from the vertical beam with the detector above the
///     table, for the patient lying as given by PatientPosition (HFS/FFS supine: "up" is anterior;
///     HFP/FFP prone: "up" is posterior; HFDL/FFDL: "up" is the patient's right; HFDR/FFDR: "up" is
///     the patient's left). obliqueDeg > 0 rotates the detector toward the patient's left,
///     tiltDeg > 0 toward the patient's head (cranial). For supine patients they equal α and β.
/// - Bull's-eye (down-the-beam) view: the beam runs along the needle, detector on the entry side:
///   v = −d.
/// - Progression (depth) view: perpendicular to d. v is the patient's left-right axis made
///   perpendicular to d, pointing to the entry's side; when the needle is within 17° of that
///   axis (a lateral approach), the table's "up" axis made perpendicular to d is used instead.

#include "needleplan/imaging/Vec3.h"

#include <optional>
#include <string>

namespace np::planning {

/// How the patient lies (DICOM PatientPosition). Unknown is treated as HFS.
enum class PatientPosition
{
    HFS,
    HFP,
    FFS,
    FFP,
    HFDL,
    HFDR,
    FFDL,
    FFDR,
};

/// Parses a DICOM PatientPosition ("HFP", " hfs "...); empty or unknown text gives nullopt.
std::optional<PatientPosition> parsePatientPosition(const std::string& text);
const char* toString(PatientPosition position);
/// The LPS unit vector pointing up (away from the table) for a patient lying in `position`.
Vec3 upDirectionLps(PatientPosition position);

/// C-arm angles of one view.
struct CarmAngles
{
    double primaryDeg = 0.0;   ///< DICOM Positioner Primary Angle, LAO +, RAO −, in (−180, 180]
    double secondaryDeg = 0.0; ///< DICOM Positioner Secondary Angle, CRA +, CAU −, in [−90, 90]
    double obliqueDeg = 0.0;   ///< from the table's vertical, + toward the patient's left
    double tiltDeg = 0.0;      ///< from the table's vertical, + toward the patient's head
    Vec3 detectorDirectionLps; ///< unit vector from the isocentre toward the detector
};

/// DICOM primary/secondary angles (degrees) of a detector direction.
void dicomAnglesFromDetectorDirection(const Vec3& detectorDirectionLps, double& primaryDeg,
                                      double& secondaryDeg);
/// Inverse of dicomAnglesFromDetectorDirection.
Vec3 detectorDirectionFromDicomAngles(double primaryDeg, double secondaryDeg);
/// Table oblique/tilt (degrees) of a detector direction for a patient lying in `position`.
void tableAnglesFromDetectorDirection(const Vec3& detectorDirectionLps, PatientPosition position,
                                      double& obliqueDeg, double& tiltDeg);
/// Inverse of tableAnglesFromDetectorDirection.
Vec3 detectorDirectionFromTableAngles(double obliqueDeg, double tiltDeg, PatientPosition position);
/// All angles of the view whose detector looks along `detectorDirectionLps`.
CarmAngles carmAnglesForDetector(const Vec3& detectorDirectionLps, PatientPosition position);

/// Everything the angle panel shows for one trajectory.
struct TrajectoryAngles
{
    double craniocaudalDeg = 0.0;      ///< + the needle travels toward the head (caudal-to-cranial)
    double mediolateralDeg = 0.0;      ///< 0..180 from the AP axis in the axial plane (0 = straight AP or PA)
    std::string mediolateralSide;      ///< "left", "right" or "" (the side the needle travels toward)
    std::optional<bool> towardMidline; ///< set when the midline is known
    std::string craniocaudalName;      ///< e.g. "caudal-to-cranial"
    CarmAngles bullseye;               ///< beam along the needle
    CarmAngles progression;            ///< beam perpendicular to the needle
};

/// Angles of the trajectory entry → target. `midlineXLps` (the patient's sagittal midline, when
/// known) decides "toward/away from the midline". Throws np::Error(InvalidArgument) when entry and
/// target coincide.
TrajectoryAngles computeTrajectoryAngles(const Vec3& entryLps, const Vec3& targetLps,
                                         PatientPosition position,
                                         std::optional<double> midlineXLps = std::nullopt);

} // namespace np::planning
