// Fault 6: results stayed on screen after the procedure, needle or structures changed, with
// nothing marking them stale; and a changed structure dropped every clearance field.

#include "GuiTestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningPanel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QComboBox>
#include <QTableWidget>
#include <QUndoStack>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

/// 20×18×16 voxels of 1.0×1.5×2.0 mm.
imaging::Geometry grid()
{
    imaging::Geometry g;
    g.size = {20, 18, 16};
    g.spacing = {1.0, 1.5, 2.0};
    g.originLps = {-10.0, -12.0, -16.0};
    return g;
}

/// Bone at voxel (4, 4, 4), a nerve at (14, 12, 10).
std::shared_ptr<imaging::LabelMap> twoStructures()
{
    auto labels = std::make_shared<imaging::LabelMap>(grid());
    labels->segments() = {{"bone_sacrum", 1, {1, 1, 1}}, {"nerve_root_L4_left", 2, {1, 1, 0}}};
    labels->at(4, 4, 4) = 1;
    labels->at(14, 12, 10) = 2;
    return labels;
}

struct Models
{
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image{task};
    ViewStateModel view{image};
    StructuresModel structures{image, undo, task};
    PlanModel plan{image, structures, undo, task};
    Models()
    {
        image.setVolume(std::make_shared<imaging::Volume>(grid(), 40.0f), "/data/ct.nrrd");
        structures.setLabels(twoStructures());
        plan.addTarget("L4 left", {0.0, 0.0, 0.0});
        // Results of a search with the present needle, procedure and structures.
        PlanTarget searched = plan.targets()[0];
        searched.ranked.push_back({{0, 60, 0}, {0, 0, 0}, 1.0, true, {}});
        searched.selectedRank = 0;
        searched.entryLps = Vec3{0, 60, 0};
        searched.directionsSearched = 20000;
        searched.feasibleDirections = 300;
        searched.searchContext = plan.currentSearchContext();
        plan.editTarget(0, searched, "Find safe trajectories");
        undo.setClean();
    }
};

std::string otherNeedle(const std::string& current)
{
    for (const planning::Needle& needle : planning::needleCatalogue())
        if (needle.name != current)
            return needle.name;
    return {};
}

TEST(StaleResults, NeedleProcedureAndStructureChangesMarkResultsStaleUntilUndone)
{
    Models m;
    EXPECT_FALSE(m.plan.resultsStale(0));
    const std::string needle = otherNeedle(m.plan.needleName());
    ASSERT_FALSE(needle.empty());
    m.plan.setNeedle(needle);
    EXPECT_EQ(m.plan.staleBecause(0), QStringList{"the needle"});
    EXPECT_TRUE(m.plan.accessMap(0).empty());
    m.undo.undo();
    EXPECT_FALSE(m.plan.resultsStale(0)) << "undoing the change makes the results current again";

    ASSERT_TRUE(m.plan.setPreset(QString::fromStdString(planning::builtInPresetNames().front())));
    EXPECT_TRUE(m.plan.staleBecause(0).contains("the procedure"));
    m.undo.undo();
    EXPECT_FALSE(m.plan.resultsStale(0));

    StructureRow row = m.structures.rows()[1];
    row.spec.marginMm += 1.0;
    m.structures.editRow(1, row, "Margin of %1");
    EXPECT_EQ(m.plan.staleBecause(0), QStringList{"the structures"});
    m.undo.undo();
    EXPECT_FALSE(m.plan.resultsStale(0));
}

TEST(StaleResults, ThePlanningPanelSaysWhyTheResultsAreStale)
{
    NP_REQUIRE_DISPLAY();
    Models m;
    PlanningPanel panel(m.plan, m.image, m.structures, m.view);
    EXPECT_FALSE(panel.readoutHtml().contains("stale")) << panel.readoutHtml().toStdString();
    auto* combo = panel.findChild<QComboBox*>("needleCombo");
    ASSERT_NE(combo, nullptr);
    const int other = combo->findData(QString::fromStdString(otherNeedle(m.plan.needleName())));
    ASSERT_GE(other, 0);
    combo->setCurrentIndex(other);
    EXPECT_TRUE(panel.readoutHtml().contains("Results stale: the needle changed since the search"))
        << panel.readoutHtml().toStdString();
    auto* ranked = panel.rankedList();
    ASSERT_EQ(ranked->rowCount(), 1);
    EXPECT_TRUE(ranked->item(0, 0)->toolTip().contains("stale"));
    m.undo.undo();
    EXPECT_FALSE(panel.readoutHtml().contains("stale"));
}

// Only the changed structure's clearance field is computed again.
TEST(StaleResults, ChangedStructureDropsOnlyItsOwnClearanceField)
{
    auto before = twoStructures();
    PlanningSession session(std::make_shared<imaging::Volume>(grid(), 40.0f), before);
    std::vector<planning::StructureSpec> specs = {planning::defaultStructureSpec("bone_sacrum", 1),
                                                  planning::defaultStructureSpec("nerve_root_L4_left", 2)};
    const Vec3 centre = grid().lpsFromIjk({10.0, 9.0, 8.0});
    session.prepareFields(specs, centre, 60.0, nullptr);
    ASSERT_TRUE(session.fieldsCover(centre, specs));
    const int computed = session.fields()->computedMapCount();
    ASSERT_EQ(computed, 2);
    const planning::DistanceField* boneField = session.fields()->field(1);
    ASSERT_NE(boneField, nullptr);

    // The nerve moves from (14, 12, 10) to (6, 12, 10); the bone stays.
    auto after = std::make_shared<imaging::LabelMap>(*before);
    after->at(14, 12, 10) = 0;
    after->at(6, 12, 10) = 2;
    std::vector<std::uint16_t> changed;
    ASSERT_TRUE(session.updateLabels(after, &changed));
    EXPECT_EQ(changed, std::vector<std::uint16_t>{2});
    EXPECT_EQ(session.fields()->field(1), boneField) << "the bone's field is kept";
    EXPECT_EQ(session.fields()->field(2), nullptr) << "the nerve's field is dropped";
    EXPECT_FALSE(session.fieldsCover(centre, specs));
    session.prepareFields(specs, centre, 60.0, nullptr);
    EXPECT_EQ(session.fields()->computedMapCount(), computed + 1) << "only the nerve's field is computed";
    // The new field measures the moved nerve: inside at its voxel; at its old place 8 voxel centres
    // of 1 mm along i away, 7.5 mm from the voxel's face, within half a voxel.
    EXPECT_LE(session.fields()->distanceMm(2, grid().lpsFromIjk({6.0, 12.0, 10.0})), 0.5);
    EXPECT_NEAR(session.fields()->distanceMm(2, grid().lpsFromIjk({14.0, 12.0, 10.0})), 7.5, 0.5 + 1e-9);

    // Another grid cannot be taken in place.
    imaging::Geometry other = grid();
    other.size = {10, 10, 10};
    EXPECT_FALSE(session.updateLabels(std::make_shared<imaging::LabelMap>(other)));
}

} // namespace
} // namespace np::gui
