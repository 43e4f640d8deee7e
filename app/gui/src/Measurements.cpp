#include "needleplan/gui/Measurements.h"

#include <QCoreApplication>
#include <algorithm>
#include <cmath>

namespace np::gui {

namespace {

constexpr double kPi = 3.14159265358979323846;

QString tr(const char* text)
{
    return QCoreApplication::translate("Measurements", text);
}

/// The ellipse's centre, unit axes and semi-axes; false when degenerate.
bool ellipseFrame(const planning::Measurement& m, Vec3& centre, Vec3& axisA, Vec3& axisB, double& a,
                  double& b)
{
    if (m.kind != "ellipse" || m.pointsLps.size() != 3)
        return false;
    centre = m.pointsLps[0];
    const Vec3 toA = m.pointsLps[1] - centre;
    a = norm(toA);
    if (a < 1e-6)
        return false;
    axisA = toA * (1.0 / a);
    const Vec3 toB = m.pointsLps[2] - centre;
    const Vec3 across = toB - axisA * dot(toB, axisA);
    b = norm(across);
    if (b < 1e-6)
        return false;
    axisB = across * (1.0 / b);
    return true;
}

} // namespace

double measurementDistanceMm(const planning::Measurement& m)
{
    return m.pointsLps.size() >= 2 ? distance(m.pointsLps[0], m.pointsLps[1]) : 0.0;
}

double measurementAngleDeg(const planning::Measurement& m)
{
    if (m.pointsLps.size() != 3)
        return 0.0;
    const Vec3 u = m.pointsLps[0] - m.pointsLps[1];
    const Vec3 v = m.pointsLps[2] - m.pointsLps[1];
    if (norm(u) < 1e-9 || norm(v) < 1e-9)
        return 0.0;
    return std::acos(std::clamp(dot(u, v) / (norm(u) * norm(v)), -1.0, 1.0)) * 180.0 / kPi;
}

RegionStats measurementRegionStats(const imaging::Volume& volume, const planning::Measurement& m,
                                   double stepMm)
{
    RegionStats stats;
    Vec3 centre, axisA, axisB;
    double a = 0.0, b = 0.0;
    if (volume.empty() || !ellipseFrame(m, centre, axisA, axisB, a, b))
        return stats;
    const imaging::Geometry& g = volume.geometry();
    const double step = stepMm > 0.0 ? stepMm : 0.25 * std::min({g.spacing.x, g.spacing.y, g.spacing.z});
    stats.areaMm2 = kPi * a * b;
    const int na = static_cast<int>(std::ceil(a / step)), nb = static_cast<int>(std::ceil(b / step));
    double sum = 0.0, sumSquares = 0.0;
    for (int j = -nb; j <= nb; ++j)
        for (int i = -na; i <= na; ++i) {
            const double x = i * step, y = j * step;
            if ((x * x) / (a * a) + (y * y) / (b * b) > 1.0)
                continue;
            const Vec3 ijk = g.ijkFromLps(centre + axisA * x + axisB * y);
            const double value = volume.sampleIjk(ijk, std::nanf(""));
            if (std::isnan(value))
                continue;
            sum += value;
            sumSquares += value * value;
            ++stats.samples;
        }
    if (stats.samples > 0) {
        stats.meanHu = sum / stats.samples;
        stats.sdHu = std::sqrt(std::max(0.0, sumSquares / stats.samples - stats.meanHu * stats.meanHu));
    }
    return stats;
}

QString measurementText(const imaging::Volume* volume, const planning::Measurement& m)
{
    if (m.kind == "distance")
        return tr("Distance %1 mm").arg(measurementDistanceMm(m), 0, 'f', 1);
    if (m.kind == "angle")
        return tr("Angle %1°").arg(measurementAngleDeg(m), 0, 'f', 1);
    if (m.kind == "ellipse") {
        if (!volume)
            return tr("Ellipse (no image)");
        const RegionStats stats = measurementRegionStats(*volume, m);
        if (stats.samples == 0)
            return tr("Ellipse outside the image");
        return tr("Ellipse mean %1 HU, SD %2 HU (%3 mm²)")
            .arg(stats.meanHu, 0, 'f', 0)
            .arg(stats.sdHu, 0, 'f', 0)
            .arg(stats.areaMm2, 0, 'f', 0);
    }
    return QString::fromStdString(m.kind);
}

std::vector<std::pair<Vec3, Vec3>> measurementSegments(const planning::Measurement& m)
{
    std::vector<std::pair<Vec3, Vec3>> segments;
    if (m.kind == "distance" && m.pointsLps.size() == 2)
        segments.push_back({m.pointsLps[0], m.pointsLps[1]});
    else if (m.kind == "angle" && m.pointsLps.size() == 3) {
        segments.push_back({m.pointsLps[1], m.pointsLps[0]});
        segments.push_back({m.pointsLps[1], m.pointsLps[2]});
    } else {
        Vec3 centre, axisA, axisB;
        double a = 0.0, b = 0.0;
        if (!ellipseFrame(m, centre, axisA, axisB, a, b))
            return segments;
        constexpr int kChords = 48;
        auto at = [&](int s) {
            const double t = 2.0 * kPi * s / kChords;
            return centre + axisA * (a * std::cos(t)) + axisB * (b * std::sin(t));
        };
        for (int s = 0; s < kChords; ++s)
            segments.push_back({at(s), at(s + 1)});
    }
    return segments;
}

} // namespace np::gui
