#include "needleplan/gui/TrajectoryReadout.h"

#include <QCoreApplication>
#include <algorithm>
#include <cmath>
#include <iterator>

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

QString formatClearance(double clearanceMm, bool lowerBound)
{
    if (lowerBound)
        return QStringLiteral("> %1 mm").arg(std::floor(std::min(clearanceMm, 1e6)), 0, 'f', 0);
    return formatMm(clearanceMm);
}

QString formatClearance(const planning::StructureClearance& clearance)
{
    return formatClearance(clearance.clearanceMm, clearance.lowerBound);
}

QString patientPositionNote(const std::string& approachFrom, const std::string& procedureTitle,
                            planning::PatientPosition position)
{
    const planning::PatientPosition prone[] = {planning::PatientPosition::HFP,
                                               planning::PatientPosition::FFP};
    const planning::PatientPosition supine[] = {planning::PatientPosition::HFS,
                                                planning::PatientPosition::FFS};
    const bool isProne = std::find(std::begin(prone), std::end(prone), position) != std::end(prone);
    const bool isSupine = std::find(std::begin(supine), std::end(supine), position) != std::end(supine);
    const QString title = QString::fromStdString(procedureTitle);
    const QString ct = QString::fromLatin1(planning::toString(position));
    if (approachFrom == "posterior" && isSupine)
        return tr("This CT is supine (%1), but %2 approaches from posterior with the patient prone: the "
                  "anatomy shifts when the patient turns, and the C-arm and table angles are those of the "
                  "CT's position. Check the plan on a prone scan.")
            .arg(ct, title);
    if (approachFrom == "anterior" && isProne)
        return tr("This CT is prone (%1), but %2 approaches from anterior with the patient supine: the "
                  "anatomy shifts when the patient turns, and the C-arm and table angles are those of the "
                  "CT's position. Check the plan on a supine scan.")
            .arg(ct, title);
    return {};
}

QString staleResultsText(const QStringList& staleBecause)
{
    if (staleBecause.isEmpty())
        return {};
    QString what = staleBecause.first();
    for (int i = 1; i < staleBecause.size(); ++i)
        what += (i + 1 == staleBecause.size() ? tr(" and ") : QStringLiteral(", ")) + staleBecause[i];
    return tr("Results stale: %1 changed since the search; search again.").arg(what);
}

QString trajectoryReadoutHtml(const ReadoutInput& input)
{
    const PlanTarget* target = input.target;
    if (!target)
        return tr(
            "<i>No target. Press <b>Set target</b> and click in a slice view, or add a named target.</i>");
    QString html = QStringLiteral("<b>%1</b><br>").arg(QString::fromStdString(target->name).toHtmlEscaped());
    if (!input.vertebralLevel.isEmpty())
        html += (input.vertebralLevel.contains('(') ? tr("Level %1 <span style='color:#f0c040'>(between two "
                                                         "vertebrae: check the count)</span><br>")
                                                    : tr("Level %1<br>"))
                    .arg(input.vertebralLevel.toHtmlEscaped());
    if (!input.positionNote.isEmpty())
        html += QStringLiteral("<span style='color:#f0c040'>%1</span><br>")
                    .arg(input.positionNote.toHtmlEscaped());
    if (!input.staleBecause.isEmpty())
        html += QStringLiteral("<span style='color:#f0c040'>%1</span><br>")
                    .arg(staleResultsText(input.staleBecause).toHtmlEscaped());
    if (target->ranked.empty() && target->directionsSearched > 0) {
        // The last search found nothing: say why instead of what to click next.
        html += tr("<span style='color:#f05040'><b>No safe trajectory</b></span> (%1 of %2 directions "
                   "feasible)")
                    .arg(target->feasibleDirections)
                    .arg(target->directionsSearched);
        for (const std::string& clause : target->searchNote)
            html += QStringLiteral("<br>• %1").arg(QString::fromStdString(clause).toHtmlEscaped());
        html += tr("<br><i>Move the target, or review the structures' classes and margins.</i><br>");
        if (!target->entryLps)
            return html;
    }
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
    // The table's oblique and tilt for the bull's-eye view, in the patient's frame (prone cases).
    row(tr("Table oblique / tilt"),
        tr("%1 %2, %3 %4")
            .arg(formatDeg(std::abs(angles.bullseye.obliqueDeg)))
            .arg(angles.bullseye.obliqueDeg >= 0 ? tr("to the patient's left") : tr("to the patient's right"))
            .arg(formatDeg(std::abs(angles.bullseye.tiltDeg)))
            .arg(angles.bullseye.tiltDeg >= 0 ? tr("cranial") : tr("caudal")));
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
                             formatClearance(c).toHtmlEscaped(),
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
