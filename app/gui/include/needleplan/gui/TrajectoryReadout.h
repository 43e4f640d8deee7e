#pragma once
/// Text of the planning panel's readout and ranked list, from the plan model's state (no widgets).

#include "needleplan/gui/PlanModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <QString>
#include <optional>

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
};

/// The readout (HTML): verdict, length, angles, C-arm, clearances and violations.
QString trajectoryReadoutHtml(const ReadoutInput& input);

/// "12.3 mm".
QString formatMm(double value, int decimals = 1);
/// "12.3°".
QString formatDeg(double value);
/// "LAO 12 CRA 4" (C-arm angles, whole degrees).
QString formatCarm(const planning::CarmAngles& angles, int decimals = 0);

} // namespace np::gui
