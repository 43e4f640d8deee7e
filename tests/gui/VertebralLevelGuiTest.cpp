// The workstation shows each target's vertebral level (planning's VertebralLevel) in the targets
// list, the trajectory readout and the saved plan, including "L4 (or L5)" between two levels.
// Expected levels from distances worked out by hand on an oblique, anisotropic grid.

#include "GuiTestSupport.h"
#include "ObliqueGrid.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"

#include <QApplication>
#include <QLabel>
#include <QTreeWidget>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

/// 30×30×24 voxels of 0.8×0.9×2.5 mm, rotated 0.3 rad about S and tilted 0.2 rad.
imaging::Geometry grid()
{
    return test::obliqueGeometry({30, 30, 24}, {0.8, 0.9, 2.5}, {-12.0, -13.0, -30.0}, 0.3, 0.2);
}

TEST(VertebralLevelInWorkstation, TargetsListReadoutAndPlanNameTheLevelAndItsAmbiguity)
{
    NP_REQUIRE_DISPLAY();
    auto window = test::openScriptedWindow(1300, 850);
    const imaging::Geometry g = grid();
    window->imageModel().setVolume(std::make_shared<imaging::Volume>(g, 40.0f), "/data/ct.nrrd");
    // vertebra_L5 on slices k 4..8, vertebra_L4 on k 12..16 (i, j 5..24 both): along k their
    // nearest voxel centres are (k − 8)·2.5 mm and (12 − k)·2.5 mm away.
    auto labels = std::make_shared<imaging::LabelMap>(g);
    labels->segments() = {{"vertebra_L5", 1, {1, 1, 0.8}}, {"vertebra_L4", 2, {0.9, 0.9, 0.7}}};
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 5; j < 25; ++j)
            for (std::int64_t i = 5; i < 25; ++i)
                labels->at(i, j, k) = k >= 4 && k <= 8 ? 1 : k >= 12 && k <= 16 ? 2 : 0;
    window->structuresModel().setLabels(labels);
    PlanModel& plan = window->planModel();
    // Inside L4: 0 mm from it. At k 9.0: L5 2.5 mm, L4 7.5 mm away. At k 10.3: L4 4.25 mm and L5
    // 5.75 mm, within 2 mm of each other, so L4 with L5 as the other candidate.
    plan.addTarget("inside L4", g.lpsFromIjk({15.0, 15.0, 14.0}));
    plan.addTarget("above L5", g.lpsFromIjk({15.0, 15.0, 9.0}));
    plan.addTarget("on the disc", g.lpsFromIjk({15.0, 15.0, 10.3}));
    plan.addTarget("far away", g.lpsFromIjk({15.0, 15.0, 23.0}) + Vec3{0.0, 0.0, 40.0});
    EXPECT_EQ(plan.vertebralLevel(0), "L4");
    EXPECT_EQ(plan.vertebralLevel(1), "L5");
    EXPECT_EQ(plan.vertebralLevel(2), "L4 (or L5)");
    EXPECT_EQ(plan.vertebralLevel(3), "") << "more than 20 mm from every vertebra";
    QApplication::processEvents();

    auto* tree = window->findChild<QTreeWidget*>("targetsTree");
    ASSERT_NE(tree, nullptr);
    ASSERT_EQ(tree->topLevelItemCount(), 4);
    EXPECT_EQ(tree->topLevelItem(0)->text(2), "L4");
    EXPECT_EQ(tree->topLevelItem(2)->text(2), "L4 (or L5)");
    EXPECT_EQ(tree->topLevelItem(3)->text(2), "");
    plan.setActiveTarget(2);
    QApplication::processEvents();
    auto* readout = window->findChild<QLabel*>("readout");
    ASSERT_NE(readout, nullptr);
    EXPECT_TRUE(readout->text().contains("Level L4 (or L5)")) << readout->text().toStdString();
    EXPECT_TRUE(readout->text().contains("check the count")) << readout->text().toStdString();
    const planning::Plan document = plan.toDocument();
    ASSERT_EQ(document.targets.size(), 4u);
    EXPECT_EQ(document.targets[1].vertebralLevel, "L5");
    EXPECT_EQ(document.targets[2].vertebralLevel, "L4 (or L5)");
    EXPECT_EQ(document.targets[3].vertebralLevel, "");
    window->undoStack().setClean();
    window->close();
}

} // namespace
} // namespace np::gui
