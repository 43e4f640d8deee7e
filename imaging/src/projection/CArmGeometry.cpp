#include "needleplan/imaging/CArmGeometry.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <utility>
#include <vector>

namespace np::imaging {

namespace {

constexpr double kRadPerDeg = 3.14159265358979323846 / 180.0;

[[noreturn]] void invalid(const std::string& what)
{
    throw Error(ErrorCode::InvalidArgument, "C-arm geometry: " + what);
}

} // namespace

DetectorPixel ProjectionMatrix::project(const Vec3& pointLps) const
{
    const double c = m[0] * pointLps.x + m[1] * pointLps.y + m[2] * pointLps.z + m[3];
    const double r = m[4] * pointLps.x + m[5] * pointLps.y + m[6] * pointLps.z + m[7];
    const double w = m[8] * pointLps.x + m[9] * pointLps.y + m[10] * pointLps.z + m[11];
    return {c / w, r / w};
}

double ProjectionMatrix::depth(const Vec3& pointLps) const
{
    return m[8] * pointLps.x + m[9] * pointLps.y + m[10] * pointLps.z + m[11];
}

Vec3 detectorDirectionFromPositionerAngles(double primaryDeg, double secondaryDeg)
{
    const double a = primaryDeg * kRadPerDeg;
    const double b = secondaryDeg * kRadPerDeg;
    return {std::sin(a) * std::cos(b), -std::cos(a) * std::cos(b), std::sin(b)};
}

std::string patientOrientationLetters(const Vec3& directionLps, double minimumComponent)
{
    static const char* positive[3] = {"L", "P", "H"};
    static const char* negative[3] = {"R", "A", "F"};
    std::vector<std::pair<double, int>> parts;
    for (int a = 0; a < 3; ++a)
        if (std::abs(directionLps[a]) > minimumComponent)
            parts.emplace_back(std::abs(directionLps[a]), a);
    std::sort(parts.begin(), parts.end(), [](const auto& p, const auto& q) { return p.first > q.first; });
    std::string letters;
    for (const auto& [size, axis] : parts)
        letters += directionLps[axis] > 0 ? positive[axis] : negative[axis];
    return letters;
}

CArmGeometry::CArmGeometry(const CArmParameters& p) : m_parameters(p)
{
    if (!std::isfinite(p.primaryDeg) || !std::isfinite(p.secondaryDeg))
        invalid("the positioner angles must be finite");
    if (std::abs(p.secondaryDeg) > 90.0 + 1e-9)
        invalid("the secondary angle must lie within [-90, 90] degrees (got " +
                std::to_string(p.secondaryDeg) + ")");
    if (!(p.sourceToIsocenterMm > 0.0) || !std::isfinite(p.sourceToIsocenterMm))
        invalid("the source-to-isocentre distance must be positive");
    if (!(p.sourceToDetectorMm > p.sourceToIsocenterMm) || !std::isfinite(p.sourceToDetectorMm))
        invalid("the source-to-detector distance (" + std::to_string(p.sourceToDetectorMm) +
                " mm) must exceed the source-to-isocentre distance (" +
                std::to_string(p.sourceToIsocenterMm) + " mm)");
    if (p.columns < 1 || p.rows < 1)
        invalid("the detector needs at least one column and one row");
    if (!(p.columnSpacingMm > 0.0) || !(p.rowSpacingMm > 0.0) || !std::isfinite(p.columnSpacingMm) ||
        !std::isfinite(p.rowSpacingMm))
        invalid("the detector pixel spacing must be positive");
    if (!std::isfinite(p.isocenterLps.x) || !std::isfinite(p.isocenterLps.y) ||
        !std::isfinite(p.isocenterLps.z))
        invalid("the isocentre must be finite");
    const int rotation = ((p.imageRotationDeg % 360) + 360) % 360;
    if (rotation % 90 != 0)
        invalid("the image rotation must be 0, 90, 180 or 270 degrees (got " +
                std::to_string(p.imageRotationDeg) + ")");

    const double a = p.primaryDeg * kRadPerDeg;
    const double b = p.secondaryDeg * kRadPerDeg;
    m_detectorDirectionLps = detectorDirectionFromPositionerAngles(p.primaryDeg, p.secondaryDeg);
    // Heads-up frame: u to the right, w down (R = Rz(α)·Rx(−β) applied to u0 = +x and w0 = −z).
    const Vec3 headsUpRight{std::cos(a), std::sin(a), 0.0};
    const Vec3 headsUpDown{std::sin(a) * std::sin(b), -std::cos(a) * std::sin(b), -std::cos(b)};
    const double cosine = rotation == 0 ? 1.0 : rotation == 180 ? -1.0 : 0.0;
    const double sine = rotation == 90 ? 1.0 : rotation == 270 ? -1.0 : 0.0;
    m_columnDirectionLps = headsUpRight * cosine - headsUpDown * sine;
    m_rowDirectionLps = headsUpRight * sine + headsUpDown * cosine;
    if (p.horizontalFlip)
        m_columnDirectionLps = -m_columnDirectionLps;
    m_sourceLps = p.isocenterLps - m_detectorDirectionLps * p.sourceToIsocenterMm;
    m_detectorCenterLps = m_sourceLps + m_detectorDirectionLps * p.sourceToDetectorMm;
}

DetectorPixel CArmGeometry::centerPixel() const
{
    return {0.5 * (m_parameters.columns - 1), 0.5 * (m_parameters.rows - 1)};
}

double CArmGeometry::magnification() const
{
    return m_parameters.sourceToDetectorMm / m_parameters.sourceToIsocenterMm;
}

double CArmGeometry::isocenterColumnSpacingMm() const
{
    return m_parameters.columnSpacingMm / magnification();
}

double CArmGeometry::isocenterRowSpacingMm() const
{
    return m_parameters.rowSpacingMm / magnification();
}

ProjectionMatrix CArmGeometry::projectionMatrix() const
{
    const DetectorPixel center = centerPixel();
    const double focalColumns = m_parameters.sourceToDetectorMm / m_parameters.columnSpacingMm;
    const double focalRows = m_parameters.sourceToDetectorMm / m_parameters.rowSpacingMm;
    const Vec3 rows[3] = {m_columnDirectionLps * focalColumns + m_detectorDirectionLps * center.column,
                          m_rowDirectionLps * focalRows + m_detectorDirectionLps * center.row,
                          m_detectorDirectionLps};
    ProjectionMatrix p;
    for (int r = 0; r < 3; ++r) {
        p(r, 0) = rows[r].x;
        p(r, 1) = rows[r].y;
        p(r, 2) = rows[r].z;
        p(r, 3) = -dot(rows[r], m_sourceLps);
    }
    return p;
}

DetectorPixel CArmGeometry::project(const Vec3& pointLps) const
{
    const Vec3 fromSource = pointLps - m_sourceLps;
    const double depth = dot(fromSource, m_detectorDirectionLps);
    const double scale = m_parameters.sourceToDetectorMm / depth;
    const DetectorPixel center = centerPixel();
    return {center.column + scale * dot(fromSource, m_columnDirectionLps) / m_parameters.columnSpacingMm,
            center.row + scale * dot(fromSource, m_rowDirectionLps) / m_parameters.rowSpacingMm};
}

Vec3 CArmGeometry::detectorPointLps(const DetectorPixel& pixel) const
{
    const DetectorPixel center = centerPixel();
    return m_detectorCenterLps +
           m_columnDirectionLps * ((pixel.column - center.column) * m_parameters.columnSpacingMm) +
           m_rowDirectionLps * ((pixel.row - center.row) * m_parameters.rowSpacingMm);
}

RayLps CArmGeometry::ray(const DetectorPixel& pixel) const
{
    return {m_sourceLps, normalized(detectorPointLps(pixel) - m_sourceLps)};
}

std::string CArmGeometry::patientOrientation() const
{
    return patientOrientationLetters(m_columnDirectionLps) + "\\" +
           patientOrientationLetters(m_rowDirectionLps);
}

} // namespace np::imaging
