#include "needleplan/gui/PlanGraphics.h"

#include "needleplan/gui/PlanModel.h"

namespace np::gui {

PlanGraphics planGraphics(PlanModel& plan)
{
    PlanGraphics graphics;
    const double radius = plan.needleRadiusMm();
    for (std::size_t t = 0; t < plan.targets().size(); ++t) {
        const PlanTarget& target = plan.targets()[t];
        const bool isActive = static_cast<int>(t) == plan.activeTarget();
        graphics.targets.push_back({target.targetLps, isActive});
        if (isActive) {
            graphics.targetHandleLps = target.targetLps;
            // Other candidates of the active target, faint; none once they are stale.
            const bool stale = plan.resultsStale(static_cast<int>(t));
            for (std::size_t r = 0; r < target.ranked.size() && r < 5 && !stale; ++r) {
                if (static_cast<int>(r) == target.selectedRank)
                    continue;
                render::TrajectoryGraphic candidate;
                candidate.entryLps = target.ranked[r].entryLps;
                candidate.targetLps = target.targetLps;
                candidate.radiusMm = radius;
                candidate.colorRgb = {0.55, 0.6, 0.7};
                graphics.trajectories.push_back(candidate);
            }
        }
        if (!target.entryLps)
            continue;
        render::TrajectoryGraphic graphic;
        graphic.entryLps = *target.entryLps;
        graphic.targetLps = target.targetLps;
        graphic.radiusMm = radius;
        graphic.selected = isActive;
        graphic.showHandles = isActive;
        graphic.colorRgb = {0.2, 0.9, 0.35};
        if (auto evaluation = plan.evaluation(static_cast<int>(t), false)) {
            double worst = 1e9, margin = 0;
            if (evaluation->closestIndex >= 0) {
                const auto& c = evaluation->clearances[static_cast<std::size_t>(evaluation->closestIndex)];
                worst = c.clearanceMm;
                margin = c.marginMm;
            }
            graphic.colorRgb = evaluation->safe ? render::clearanceColor(worst, margin) : kUnsafeRgb;
            // A safe needle shows its clearance along the shaft (amber within 1 mm of a margin);
            // an unsafe one stays red along its whole length, whatever the fault.
            if (evaluation->safe)
                for (double slack : plan.slackAlong(static_cast<int>(t), 48))
                    graphic.colorsAlongRgb.push_back(render::clearanceColor(slack, 0.0));
        }
        if (isActive)
            graphics.entryHandleLps = graphic.entryLps;
        graphics.trajectories.push_back(graphic);
    }
    return graphics;
}

} // namespace np::gui
