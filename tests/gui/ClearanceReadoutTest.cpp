// The readout printed every clearance at or beyond the 20 mm field cap (less the needle's radius)
// as "> N mm", though the planner measures clearances exactly up to 50 mm and flags the ones beyond
// (StructureClearance::lowerBound). The readout follows the planner's flag.

#include "GuiTestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningPanel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TrajectoryReadout.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/Needle.h"

#include <QRegularExpression>
#include <QUndoStack>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

TEST(ClearanceReadout, AStructure30MmAwayPrintsItsExactDistance)
{
    NP_REQUIRE_DISPLAY();
    // 64×40×40 voxels of 1.0×1.0×1.5 mm; an artery of 3×5×5 voxels at i 50..52.
    imaging::Geometry g;
    g.size = {64, 40, 40};
    g.spacing = {1.0, 1.0, 1.5};
    g.originLps = {-20.0, -20.0, -30.0};
    auto labels = std::make_shared<imaging::LabelMap>(g);
    labels->segments() = {{"common_iliac_artery_left", 1, {1, 0, 0}}};
    for (std::int64_t k = 18; k <= 22; ++k)
        for (std::int64_t j = 26; j <= 30; ++j)
            for (std::int64_t i = 50; i <= 52; ++i)
                labels->at(i, j, k) = 1;
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    ViewStateModel view(image);
    StructuresModel structures(image, undo, task);
    PlanModel plan(image, structures, undo, task);
    image.setVolume(std::make_shared<imaging::Volume>(g, 40.0f), "/data/ct.nrrd");
    structures.setLabels(labels);
    PlanningPanel panel(plan, image, structures, view);
    // A needle along j from (20, 0, 20) to the target (20, 28, 20): the artery's nearest voxel face
    // is at i = 49.5, 29.5 mm from the shaft's axis, beside the shaft's last 2.5 mm.
    plan.addTarget("target", g.lpsFromIjk({20, 28, 20}));
    ASSERT_TRUE(plan.setEntry(g.lpsFromIjk({20, 0, 20})));
    plan.evaluation(0);
    ASSERT_TRUE(
        test::waitUntil([&] { return !task.busy() && plan.evaluation(0, false).has_value(); }, 60000));
    const planning::Evaluation evaluation = *plan.evaluation(0, false);
    ASSERT_EQ(evaluation.clearances.size(), 1u);
    const double expected = 29.5 - plan.needleRadiusMm();
    EXPECT_FALSE(evaluation.clearances[0].lowerBound);
    EXPECT_NEAR(evaluation.clearances[0].clearanceMm, expected, 0.5 * g.maxSpacing());
    const QString html = panel.readoutHtml();
    EXPECT_FALSE(html.contains("&gt;")) << html.toStdString();
    const QRegularExpressionMatch match =
        QRegularExpression("common_iliac_artery_left</td><td[^>]*>([0-9.]+) mm").match(html);
    ASSERT_TRUE(match.hasMatch()) << html.toStdString();
    EXPECT_NEAR(match.captured(1).toDouble(), expected, 0.5 * g.maxSpacing() + 0.05) << html.toStdString();

    // A clearance the planner flags as a lower bound still prints "> N mm".
    planning::StructureClearance far = evaluation.clearances[0];
    far.clearanceMm = 50.0;
    far.lowerBound = true;
    EXPECT_EQ(formatClearance(far), "> 50 mm");
}

} // namespace
} // namespace np::gui
