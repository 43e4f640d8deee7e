#pragma once
/// What the views draw of the plan (no widgets): targets, trajectories and their colours, and the
/// handles of the active one. The colours always agree with the verdict: a trajectory the planner
/// calls unsafe is red along its whole length, whatever the fault (forbidden structure, bone,
/// needle length); a safe one is coloured by its clearance along the shaft.

#include "needleplan/render/SceneTypes.h"

#include <optional>
#include <vector>

namespace np::gui {

class PlanModel;

struct PlanGraphics
{
    std::vector<render::TrajectoryGraphic> trajectories;
    std::vector<render::TargetGraphic> targets;
    std::optional<Vec3> entryHandleLps;
    std::optional<Vec3> targetHandleLps;
};

/// The red of an unsafe trajectory.
inline constexpr render::Rgb kUnsafeRgb{0.95, 0.2, 0.15};

/// The graphics of every target of `plan`, evaluated with the fields prepared so far (an
/// unmeasured trajectory is drawn in the neutral colour).
PlanGraphics planGraphics(PlanModel& plan);

} // namespace np::gui
