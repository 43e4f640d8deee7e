#pragma once
/// Measurements on slice views, widget-free: distance (mm), angle (degrees), and the HU
/// statistics of an ellipse region; their text and the line segments the slice views draw.

#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/PlanDocument.h"

#include <QString>
#include <utility>
#include <vector>

namespace np::gui {

/// HU statistics of an ellipse region.
struct RegionStats
{
    int samples = 0; ///< points of the region inside the image
    double meanHu = 0.0;
    double sdHu = 0.0; ///< population standard deviation
    double areaMm2 = 0.0;
};

/// Distance between the two points of a "distance" (mm).
double measurementDistanceMm(const planning::Measurement& measurement);
/// Angle at the middle point of an "angle" (degrees, 0…180).
double measurementAngleDeg(const planning::Measurement& measurement);
/// Statistics of an "ellipse": centre c, semi-axis a = |p1 − c| along p1 − c, the second semi-axis
/// b = the distance of p2 from that axis, in the plane of the three points. Samples on a square
/// grid of `stepMm` (0: a quarter of the smallest voxel spacing) in that plane, trilinear.
RegionStats measurementRegionStats(const imaging::Volume& volume, const planning::Measurement& measurement,
                                   double stepMm = 0.0);
/// "Distance 42.3 mm", "Angle 87.5°", "Ellipse mean 41 HU, SD 12 HU (314 mm²)".
QString measurementText(const imaging::Volume* volume, const planning::Measurement& measurement);
/// Segments the slice views draw (the ellipse as 48 chords).
std::vector<std::pair<Vec3, Vec3>> measurementSegments(const planning::Measurement& measurement);

} // namespace np::gui
