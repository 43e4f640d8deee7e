#pragma once
/// A point marked on two fluoroscopy views, without widgets: which projection each view uses (the
/// registered pose, or the header's full geometry with the isocentre at the target), the epipolar
/// line of the first mark in the other views, and the triangulated point with its ray gap, which
/// warns over 2 mm.

#include "needleplan/imaging/Triangulation.h"

#include <QString>
#include <optional>

namespace np::gui {

class FluoroModel;

/// The projection a view's marks are read through.
struct MarkProjection
{
    imaging::ProjectionMatrix projection;
    bool registered = false; ///< false: the header's geometry with the isocentre assumed at the target
};

/// Frame `frame` of `model` through its registration, else through its header (full geometry only)
/// with the isocentre at `isocenterLps`; nullopt when neither is known.
std::optional<MarkProjection> markProjection(const FluoroModel& model, int frame, const Vec3& isocenterLps);

/// The ray gap above which the marks are not trusted (mm).
constexpr double kPointGapWarningMm = 2.0;

/// Two marks triangulated, and the readout line.
struct PointPair
{
    imaging::Triangulation triangulation;
    QString text;
};

/// Triangulates the marks of two views; the text gives the point (LPS mm), the ray gap, the
/// reprojection errors, the angle between the rays, which geometry was used, and a warning when
/// the gap exceeds kPointGapWarningMm. Throws np::Error for parallel rays or a point behind a source.
PointPair triangulateMarks(const MarkProjection& first, const imaging::DetectorPixel& firstMark,
                           const MarkProjection& second, const imaging::DetectorPixel& secondMark);

} // namespace np::gui
