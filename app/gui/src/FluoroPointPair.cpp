#include "needleplan/gui/FluoroPointPair.h"

#include "needleplan/gui/FluoroModel.h"
#include "needleplan/imaging/Error.h"

#include <QObject>

namespace np::gui {

std::optional<MarkProjection> markProjection(const FluoroModel& model, int frame, const Vec3& isocenterLps)
{
    if (const auto registered = model.projectionForFrame(frame))
        return MarkProjection{*registered, true};
    if (!model.image() || model.image()->geometry.confidence != imaging::GeometryConfidence::Full)
        return std::nullopt;
    try {
        return MarkProjection{model.image()->frameView(frame, isocenterLps).projectionMatrix(), false};
    } catch (const Error&) {
        return std::nullopt;
    }
}

PointPair triangulateMarks(const MarkProjection& first, const imaging::DetectorPixel& firstMark,
                           const MarkProjection& second, const imaging::DetectorPixel& secondMark)
{
    PointPair pair;
    pair.triangulation =
        imaging::triangulate(first.projection, firstMark, second.projection, secondMark, kPointGapWarningMm);
    const imaging::Triangulation& t = pair.triangulation;
    pair.text = QObject::tr("Point from two views: (%1, %2, %3) LPS mm; the rays pass %4 mm apart; "
                            "reprojection %5 / %6 px; %7° between the rays")
                    .arg(t.pointLps.x, 0, 'f', 1)
                    .arg(t.pointLps.y, 0, 'f', 1)
                    .arg(t.pointLps.z, 0, 'f', 1)
                    .arg(t.rayGapMm, 0, 'f', 2)
                    .arg(t.reprojectionErrorPx[0], 0, 'f', 2)
                    .arg(t.reprojectionErrorPx[1], 0, 'f', 2)
                    .arg(t.angleBetweenRaysDeg, 0, 'f', 0);
    if (!first.registered || !second.registered)
        pair.text += QObject::tr(" (header geometry: both views assumed to turn about the target)");
    if (t.rayGapMm > kPointGapWarningMm)
        pair.text +=
            QObject::tr("\nWARNING: the ray gap exceeds %1 mm: the marks may be of different points, "
                        "the patient may have moved, or the geometry is wrong. Do not use this point.")
                .arg(kPointGapWarningMm, 0, 'f', 0);
    else if (!t.warning.empty())
        pair.text += "\nWARNING: " + QString::fromStdString(t.warning);
    return pair;
}

} // namespace np::gui
