#pragma once
/// Text of the planning panel's readout and ranked list, from the plan model's state (no widgets).

#include "needleplan/gui/PlanModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <QString>
#include <QStringList>
#include <limits>
#include <optional>
#include <string>

namespace np::gui {

/// What the readout describes.
struct ReadoutInput
{
    const PlanTarget* target = nullptr;
    std::optional<planning::Evaluation> evaluation; ///< nullopt while not measured
    std::optional<planning::Needle> needle;
    planning::PatientPosition position = planning::PatientPosition::HFS;
    bool measuring = false;  ///< clearance fields are being computed
    bool haveLabels = false; ///< structures are loaded
    QStringList staleBecause; ///< what changed since the target's search ("the needle", ...)
    QString positionNote; ///< the CT's patient position does not suit the procedure
    /// The vertebra the target sits on ("L5", "L4 (or L5)"; "" when the structures name none).
    QString vertebralLevel;
};

/// A clearance as text: "4.2 mm", or "> 50 mm" when the planner reports it as a lower bound
/// (StructureClearance::lowerBound, JSON "lowerBound": true).
QString formatClearance(double clearanceMm, bool lowerBound);
QString formatClearance(const planning::StructureClearance& clearance);

/// A note when the CT's patient position does not suit the procedure's approach (a supine CT with
/// a posterior, prone procedure, or a prone CT with an anterior one); empty otherwise.
QString patientPositionNote(const std::string& approachFrom, const std::string& procedureTitle,
                            planning::PatientPosition position);

/// "Results stale: the needle and the structures changed since the search; search again."
QString staleResultsText(const QStringList& staleBecause);

/// The readout (HTML): verdict, length, angles, C-arm, clearances and violations.
QString trajectoryReadoutHtml(const ReadoutInput& input);

/// "12.3 mm".
QString formatMm(double value, int decimals = 1);
/// "12.3°".
QString formatDeg(double value);
/// "LAO 12 CRA 4" (C-arm angles, whole degrees).
QString formatCarm(const planning::CarmAngles& angles, int decimals = 0);

} // namespace np::gui
