#include "needleplan/gui/TrajectoryReadout.h"

#include <QCoreApplication>
#include <algorithm>
#include <cmath>

namespace np::gui {

namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("TrajectoryReadout", text);
}
} // namespace

QString formatMm(double value, int decimals)
{
    return QString::number(value, 'f', decimals) + QStringLiteral(" mm");
}
QString formatDeg(double value)
{
    return QString::number(value, 'f', 1) + QStringLiteral("°");
}

QString formatCarm(const planning::CarmAngles& angles, int decimals)
{
    return QStringLiteral("%1 %2 %3 %4")
        .arg(angles.primaryDeg >= 0 ? "LAO" : "RAO")
        .arg(std::abs(angles.primaryDeg), 0, 'f', decimals)
        .arg(angles.secondaryDeg >= 0 ? "CRA" : "CAU")
        .arg(std::abs(angles.secondaryDeg), 0, 'f', decimals);
}

QString trajectoryReadoutHtml(const ReadoutInput& input)
{
    const PlanTarget* target = input.target;
    if (!target)
        return tr(
            "<i>No target. Press <b>Set target</b> and click in a slice view, or add a named target.</i>");
    QString html = QStringLiteral("<b>%1</b><br>").arg(QString::fromStdString(target->name).toHtmlEscaped());
    if (!target->entryLps)
        return html + tr("Target set. Press <b>Set entry</b> and click the skin entry.");
    if (input.measuring)
        html += tr("<i>Measuring clearance…</i><br>");
    const std::optional<planning::Evaluation>& evaluation = input.evaluation;
    const planning::TrajectoryAngles angles =
        evaluation ? evaluation->angles
                   : planning::computeTrajectoryAngles(*target->entryLps, target->targetLps, input.position);
    const double length = distance(*target->entryLps, target->targetLps);
    html += QStringLiteral("<table cellspacing='2'>");
    auto row = [&html](const QString& key, const QString& value) {
        html += QStringLiteral("<tr><td style='color:#9aa3ad'>%1</td><td>%2</td></tr>").arg(key, value);
    };
    if (evaluation)
        row(tr("Verdict"), evaluation->safe
                               ? QStringLiteral("<span style='color:#5ee07a'><b>SAFE</b></span>")
                               : QStringLiteral("<span style='color:#f05040'><b>UNSAFE</b></span>"));
    row(tr("Length"),
        formatMm(length) +
            (input.needle ? tr(" of %1 usable").arg(formatMm(input.needle->usableLengthMm, 0)) : QString()));
    if (evaluation && evaluation->skinFound)
        row(tr("Depth from skin"), formatMm(evaluation->depthFromSkinMm));
    row(tr("Craniocaudal"),
        formatDeg(angles.craniocaudalDeg) + " " + QString::fromStdString(angles.craniocaudalName));
    QString mediolateral = formatDeg(angles.mediolateralDeg);
    if (!angles.mediolateralSide.empty())
        mediolateral += tr(" toward the %1").arg(QString::fromStdString(angles.mediolateralSide));
    if (angles.towardMidline)
        mediolateral += *angles.towardMidline ? tr(" (medial)") : tr(" (lateral)");
    row(tr("Mediolateral"), mediolateral);
    auto carm = [](const planning::CarmAngles& a) {
        return QStringLiteral("%1 %2, %3 %4")
            .arg(a.primaryDeg >= 0 ? "LAO" : "RAO")
            .arg(formatDeg(std::abs(a.primaryDeg)))
            .arg(a.secondaryDeg >= 0 ? "CRA" : "CAU")
            .arg(formatDeg(std::abs(a.secondaryDeg)));
    };
    row(tr("C-arm bull's-eye"), carm(angles.bullseye));
    row(tr("C-arm progression"), carm(angles.progression));
    html += QStringLiteral("</table>");
    if (evaluation) {
        html += tr("<br><b>Clearance</b> (needle surface to structure)<table cellspacing='2'>");
        std::vector<const planning::StructureClearance*> sorted;
        for (const auto& c : evaluation->clearances)
            if (c.structureClass == planning::StructureClass::Forbidden ||
                c.structureClass == planning::StructureClass::Caution)
                sorted.push_back(&c);
        std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
            return a->clearanceMm - a->marginMm < b->clearanceMm - b->marginMm;
        });
        for (std::size_t i = 0; i < sorted.size() && i < 8; ++i) {
            const auto& c = *sorted[i];
            const QString color = c.clearanceMm < c.marginMm
                                      ? "#f05040"
                                      : (c.clearanceMm < c.marginMm + 1 ? "#f0c040" : "#d8dde3");
            html += QStringLiteral("<tr><td>%1</td><td style='color:%2'>%3</td><td "
                                   "style='color:#9aa3ad'>margin %4</td></tr>")
                        .arg(QString::fromStdString(c.structure).toHtmlEscaped(), color,
                             c.clearanceMm > 99 ? QStringLiteral("&gt; 99 mm") : formatMm(c.clearanceMm),
                             formatMm(c.marginMm));
        }
        html += QStringLiteral("</table>");
        for (const auto& violation : evaluation->violations)
            html += QStringLiteral("<span style='color:#f05040'>• %1</span><br>")
                        .arg(QString::fromStdString(violation.message).toHtmlEscaped());
    } else if (!input.haveLabels) {
        html += tr("<br><i>No structures loaded: clearance is not measured.</i>");
    }
    return html;
}

} // namespace np::gui
