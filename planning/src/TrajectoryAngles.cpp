#include "needleplan/planning/TrajectoryAngles.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace np::planning {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;
double clampUnit(double v)
{
    return std::max(-1.0, std::min(1.0, v));
}
double wrapDeg(double deg)
{
    while (deg <= -180.0)
        deg += 360.0;
    while (deg > 180.0)
        deg -= 360.0;
    return deg;
}
} // namespace

std::optional<PatientPosition> parsePatientPosition(const std::string& text)
{
    std::string t;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c)))
            t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const PatientPosition all[] = {PatientPosition::HFS,  PatientPosition::HFP,  PatientPosition::FFS,
                                   PatientPosition::FFP,  PatientPosition::HFDL, PatientPosition::HFDR,
                                   PatientPosition::FFDL, PatientPosition::FFDR};
    for (PatientPosition p : all)
        if (t == toString(p))
            return p;
    return std::nullopt;
}

const char* toString(PatientPosition position)
{
    switch (position) {
    case PatientPosition::HFS:
        return "HFS";
    case PatientPosition::HFP:
        return "HFP";
    case PatientPosition::FFS:
        return "FFS";
    case PatientPosition::FFP:
        return "FFP";
    case PatientPosition::HFDL:
        return "HFDL";
    case PatientPosition::HFDR:
        return "HFDR";
    case PatientPosition::FFDL:
        return "FFDL";
    case PatientPosition::FFDR:
        return "FFDR";
    }
    return "HFS";
}

Vec3 upDirectionLps(PatientPosition position)
{
    switch (position) {
    case PatientPosition::HFS:
    case PatientPosition::FFS:
        return {0, -1, 0}; // supine: anterior is up
    case PatientPosition::HFP:
    case PatientPosition::FFP:
        return {0, 1, 0}; // prone: posterior is up
    case PatientPosition::HFDL:
    case PatientPosition::FFDL:
        return {-1, 0, 0}; // lying on the left side: the right side is up
    case PatientPosition::HFDR:
    case PatientPosition::FFDR:
        return {1, 0, 0}; // lying on the right side: the left side is up
    }
    return {0, -1, 0};
}

void dicomAnglesFromDetectorDirection(const Vec3& detectorDirectionLps, double& primaryDeg,
                                      double& secondaryDeg)
{
    const Vec3 v = normalized(detectorDirectionLps);
    secondaryDeg = std::asin(clampUnit(v.z)) * kDegPerRad;
    const double horizontal = std::hypot(v.x, v.y);
    primaryDeg = horizontal < 1e-12 ? 0.0 : wrapDeg(std::atan2(v.x, -v.y) * kDegPerRad);
}

Vec3 detectorDirectionFromDicomAngles(double primaryDeg, double secondaryDeg)
{
    const double a = primaryDeg / kDegPerRad;
    const double b = secondaryDeg / kDegPerRad;
    return {std::sin(a) * std::cos(b), -std::cos(a) * std::cos(b), std::sin(b)};
}

namespace {
/// Right-handed frame of the table for a patient position: up, the patient's left as seen in the
/// transaxial plane when "up" is rotated to the top, and the head.
struct TableFrame
{
    Vec3 up;
    Vec3 towardLeft; ///< rotation axis partner: positive oblique moves the detector this way
};

TableFrame tableFrame(PatientPosition position)
{
    const Vec3 up = upDirectionLps(position);
    // For supine/prone the oblique rotates toward the patient's left (+x). For decubitus positions
    // the patient's left or right is up, so the oblique rotates toward posterior or anterior: we
    // keep "toward the patient's left" meaning +x whenever x is not the up axis, and otherwise use
    // the direction that keeps (towardLeft, up, head) consistent with the supine case.
    if (std::abs(up.x) < 0.5)
        return {up, {1, 0, 0}};
    // Decubitus: supine has towardLeft = +x, up = -y; rotate that frame about z so that up matches.
    // Rotation taking -y to up: for up = +x (left up) towardLeft becomes +y; for up = -x, -y.
    return {up, up.x > 0 ? Vec3{0, 1, 0} : Vec3{0, -1, 0}};
}
} // namespace

void tableAnglesFromDetectorDirection(const Vec3& detectorDirectionLps, PatientPosition position,
                                      double& obliqueDeg, double& tiltDeg)
{
    const Vec3 v = normalized(detectorDirectionLps);
    const TableFrame frame = tableFrame(position);
    tiltDeg = std::asin(clampUnit(v.z)) * kDegPerRad;
    const double along = dot(v, frame.up);
    const double side = dot(v, frame.towardLeft);
    obliqueDeg = std::hypot(along, side) < 1e-12 ? 0.0 : wrapDeg(std::atan2(side, along) * kDegPerRad);
}

Vec3 detectorDirectionFromTableAngles(double obliqueDeg, double tiltDeg, PatientPosition position)
{
    const TableFrame frame = tableFrame(position);
    const double a = obliqueDeg / kDegPerRad;
    const double b = tiltDeg / kDegPerRad;
    return frame.up * (std::cos(a) * std::cos(b)) + frame.towardLeft * (std::sin(a) * std::cos(b)) +
           Vec3{0, 0, 1} * std::sin(b);
}

CarmAngles carmAnglesForDetector(const Vec3& detectorDirectionLps, PatientPosition position)
{
    CarmAngles angles;
    angles.detectorDirectionLps = normalized(detectorDirectionLps);
    dicomAnglesFromDetectorDirection(angles.detectorDirectionLps, angles.primaryDeg, angles.secondaryDeg);
    tableAnglesFromDetectorDirection(angles.detectorDirectionLps, position, angles.obliqueDeg,
                                     angles.tiltDeg);
    return angles;
}

TrajectoryAngles computeTrajectoryAngles(const Vec3& entryLps, const Vec3& targetLps,
                                         PatientPosition position, std::optional<double> midlineXLps)
{
    const Vec3 delta = targetLps - entryLps;
    if (!(norm(delta) > 1e-9))
        throw Error(ErrorCode::InvalidArgument,
                    "trajectory entry and target coincide; no direction to measure");
    const Vec3 d = normalized(delta);
    TrajectoryAngles angles;
    angles.craniocaudalDeg = std::asin(clampUnit(d.z)) * kDegPerRad;
    if (angles.craniocaudalDeg > 0.05)
        angles.craniocaudalName = "caudal-to-cranial";
    else if (angles.craniocaudalDeg < -0.05)
        angles.craniocaudalName = "cranial-to-caudal";
    else
        angles.craniocaudalName = "axial";
    angles.mediolateralDeg = std::atan2(std::abs(d.x), std::abs(d.y)) * kDegPerRad;
    if (std::abs(d.x) > 1e-9) {
        angles.mediolateralSide = d.x > 0 ? "left" : "right";
        if (midlineXLps)
            angles.towardMidline = std::abs(targetLps.x - *midlineXLps) < std::abs(entryLps.x - *midlineXLps);
    }

    angles.bullseye = carmAnglesForDetector(-d, position);

    // Progression view: left-right axis (toward the entry's side) made perpendicular to d.
    Vec3 lateral{entryLps.x >= targetLps.x ? 1.0 : -1.0, 0, 0};
    Vec3 view = lateral - d * dot(lateral, d);
    if (norm(view) < std::sin(17.0 / kDegPerRad)) {
        const Vec3 up = upDirectionLps(position);
        view = up - d * dot(up, d);
        if (norm(view) < 1e-6)
            view = Vec3{0, 0, 1} - d * d.z;
    }
    angles.progression = carmAnglesForDetector(normalized(view), position);
    return angles;
}

} // namespace np::planning
