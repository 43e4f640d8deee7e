// The workstation's models driven without a window: structure edits, targets added, renamed,
// moved and removed, a preset change, and the view state, each through its undo stack.

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QUndoStack>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

/// An oblique, anisotropic 10×8×6 grid (spacing 0.8, 1.1, 2.5 mm).
imaging::Geometry obliqueGrid()
{
    imaging::Geometry g;
    g.size = {10, 8, 6};
    g.spacing = {0.8, 1.1, 2.5};
    g.originLps = {-20.0, 5.0, 40.0};
    const double c = std::cos(0.3), s = std::sin(0.3);
    g.directionLps = imaging::directionFromOrientation({c, s, 0.0}, {-s, c, 0.0});
    return g;
}

/// The models of one workstation, wired as the window wires them.
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
        auto volume = std::make_shared<imaging::Volume>(obliqueGrid(), -1000.0f);
        image.setVolume(volume, "/data/ct.nrrd");
        auto labels = std::make_shared<imaging::LabelMap>(obliqueGrid());
        labels->segments() = {{"nerve_root_L4_left", 1, {1, 1, 0}},
                              {"bone_sacrum", 2, {1, 1, 1}},
                              {"psoas_left", 3, {1, 0, 0}}};
        labels->at(2, 2, 2) = 1;
        labels->at(5, 5, 3) = 2;
        labels->at(7, 1, 1) = 3;
        structures.setLabels(labels);
    }
};

TEST(StructuresModel, EditingAStructureIsOneUndoStepAndSignalsItsRow)
{
    Models m;
    ASSERT_EQ(m.structures.rows().size(), 3u);
    std::vector<int> changedRows;
    QObject::connect(&m.structures, &StructuresModel::rowChanged,
                     [&changedRows](int row) { changedRows.push_back(row); });
    StructureRow after = m.structures.rows()[2];
    after.spec.marginMm = 4.5;
    after.spec.structureClass = planning::StructureClass::Forbidden;
    after.style.visible = false;
    m.structures.editRow(2, after, "Margin of %1");
    EXPECT_EQ(m.undo.count(), 1);
    EXPECT_EQ(m.undo.undoText(), "Margin of psoas_left");
    EXPECT_EQ(changedRows, std::vector<int>{2});
    EXPECT_DOUBLE_EQ(m.structures.rows()[2].spec.marginMm, 4.5);
    EXPECT_EQ(m.structures.specs()[2].structureClass, planning::StructureClass::Forbidden);
    EXPECT_FALSE(m.structures.styles()[2].visible);
    const planning::StructureSpec defaults = planning::defaultStructureSpec("psoas_left", 3);
    m.undo.undo();
    EXPECT_DOUBLE_EQ(m.structures.rows()[2].spec.marginMm, defaults.marginMm);
    EXPECT_EQ(m.structures.rows()[2].spec.structureClass, defaults.structureClass);
    EXPECT_TRUE(m.structures.rows()[2].style.visible);
    // The other rows were never touched.
    EXPECT_EQ(m.structures.rows()[0].style.name, "nerve_root_L4_left");
    EXPECT_EQ(m.structures.rows()[1].style.name, "bone_sacrum");
}

TEST(StructuresModel, ANewImageDropsTheStructuresAndThePlan)
{
    Models m;
    m.plan.addTarget("L4 left", {0, 10, 45});
    int labelsChanged = 0;
    QObject::connect(&m.structures, &StructuresModel::labelsChanged, [&labelsChanged] { ++labelsChanged; });
    m.image.setVolume(std::make_shared<imaging::Volume>(obliqueGrid(), 0.0f), "/data/other.nrrd");
    EXPECT_EQ(labelsChanged, 1);
    EXPECT_EQ(m.structures.labels(), nullptr);
    EXPECT_TRUE(m.structures.rows().empty());
    EXPECT_TRUE(m.plan.targets().empty());
    EXPECT_EQ(m.undo.count(), 0) << "the undo history of another image is gone";
}

TEST(StructuresModel, DicomSegExportCarriesTheTerminologyCodes)
{
    // The workstation's export codes bone_sacrum as SNOMED CT "Bone structure" (272673000), read
    // back with DCMTK's dcmdump, not as generic tissue.
    Models m;
    const std::string path = ::testing::TempDir() + "np-models-seg.dcm";
    QString error;
    ASSERT_TRUE(m.structures.exportDicomSeg(QString::fromStdString(path), &error)) << error.toStdString();
    const std::string dump = "/tmp/np-models-seg.txt";
    ASSERT_EQ(std::system(("dcmdump -q '" + path + "' > '" + dump + "'").c_str()), 0);
    std::ifstream in(dump);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("[272673000]"), std::string::npos) << "no SNOMED bone code in the SEG";
    std::remove(path.c_str());
}

TEST(PlanModel, TargetsAreAddedRenamedAndRemovedAsUndoSteps)
{
    Models m;
    m.plan.addTarget("", {1, 2, 3});
    m.plan.addTarget("L5 right", {4, 5, 6});
    m.plan.addTarget("  ", {7, 8, 9});
    ASSERT_EQ(m.plan.targets().size(), 3u);
    EXPECT_EQ(m.plan.targets()[0].name, "Target 1");
    EXPECT_EQ(m.plan.targets()[1].name, "L5 right");
    EXPECT_EQ(m.plan.targets()[2].name, "Target 2") << "a blank name gets the next free one";
    EXPECT_EQ(m.plan.activeTarget(), 2) << "a new target becomes the active one";
    EXPECT_EQ(m.undo.count(), 3);

    m.plan.renameTarget(0, "  L4 medial branch left ");
    EXPECT_EQ(m.plan.targets()[0].name, "L4 medial branch left");
    EXPECT_EQ(m.undo.count(), 4);
    m.plan.renameTarget(0, "   ");
    EXPECT_EQ(m.undo.count(), 4) << "an empty name is refused";

    m.plan.removeTarget(1);
    ASSERT_EQ(m.plan.targets().size(), 2u);
    EXPECT_EQ(m.plan.targets()[1].name, "Target 2");
    m.undo.undo();
    ASSERT_EQ(m.plan.targets().size(), 3u);
    EXPECT_EQ(m.plan.targets()[1].name, "L5 right");
    EXPECT_EQ(m.plan.targets()[1].targetLps, (Vec3{4, 5, 6}));
    m.undo.undo();
    EXPECT_EQ(m.plan.targets()[0].name, "Target 1");
    m.undo.undo();
    EXPECT_EQ(m.plan.targets().size(), 2u);
}

TEST(PlanModel, MovingATargetDropsItsResultsAndADragIsOneUndoStep)
{
    Models m;
    m.plan.addTarget("T", {0, 0, 0});
    PlanTarget searched = m.plan.targets()[0];
    searched.entryLps = Vec3{0, 80, 0};
    searched.ranked.push_back({{0, 80, 0}, {0, 0, 0}, 1.0, true, {}});
    searched.selectedRank = 0;
    m.plan.editTarget(0, searched, "Find safe trajectories");
    m.plan.moveActiveTarget({3, 4, 0});
    EXPECT_EQ(m.plan.targets()[0].targetLps, (Vec3{3, 4, 0}));
    EXPECT_TRUE(m.plan.targets()[0].ranked.empty());
    EXPECT_EQ(m.plan.targets()[0].selectedRank, -1);
    const int steps = m.undo.count();
    m.plan.beginDrag();
    for (int i = 1; i <= 5; ++i)
        m.plan.dragHandle(0, {0.0, 80.0 + i, 1.0 * i});
    m.plan.endDrag();
    EXPECT_EQ(m.undo.count(), steps + 1) << "five moves of one drag merge";
    EXPECT_EQ(*m.plan.targets()[0].entryLps, (Vec3{0, 85, 5}));
    m.undo.undo();
    EXPECT_EQ(*m.plan.targets()[0].entryLps, (Vec3{0, 80, 0}));
}

TEST(PlanModel, PresetChangesNeedleAndRulesInOneUndoStep)
{
    Models m;
    const std::string defaultNeedle = m.plan.needleName();
    std::string chosen;
    for (const std::string& name : planning::builtInPresetNames())
        if (chosen.empty() && planning::loadPreset(name).needle != defaultNeedle &&
            planning::findNeedle(planning::loadPreset(name).needle))
            chosen = name;
    if (chosen.empty())
        GTEST_SKIP() << "no built-in preset uses another needle than " << defaultNeedle;
    const planning::Preset preset = planning::loadPreset(chosen);
    std::vector<planning::StructureSpec> expected;
    for (const StructureRow& row : m.structures.rows())
        expected.push_back(planning::defaultStructureSpec(row.style.name, row.style.labelValue));
    planning::applyPresetRules(preset, expected);

    ASSERT_TRUE(m.plan.setPreset(QString::fromStdString(chosen)));
    EXPECT_EQ(m.plan.presetName(), chosen);
    EXPECT_EQ(m.plan.needleName(), preset.needle);
    EXPECT_EQ(m.undo.count(), 1);
    for (std::size_t r = 0; r < expected.size(); ++r) {
        EXPECT_EQ(m.structures.specs()[r].structureClass, expected[r].structureClass) << r;
        EXPECT_DOUBLE_EQ(m.structures.specs()[r].marginMm, expected[r].marginMm) << r;
    }
    m.undo.undo();
    EXPECT_EQ(m.plan.needleName(), defaultNeedle);
    EXPECT_FALSE(m.plan.setPreset("no-such-preset"));
}

TEST(ViewStateModel, CursorStaysInsideTheImageAndPresetsAreNamed)
{
    Models m;
    const imaging::Geometry g = obliqueGrid();
    // Far outside along i: clamped to the last column (i = 9), j and k kept.
    m.view.setCursorLps(g.lpsFromIjk({50.0, 3.0, 2.0}));
    const Vec3 ijk = g.ijkFromLps(m.view.cursorLps());
    EXPECT_NEAR(ijk.x, 9.0, 1e-9);
    EXPECT_NEAR(ijk.y, 3.0, 1e-9);
    EXPECT_NEAR(ijk.z, 2.0, 1e-9);
    EXPECT_TRUE(m.view.applyWindowPreset("Soft tissue"));
    EXPECT_EQ(m.view.window(), 400.0);
    EXPECT_EQ(m.view.level(), 40.0);
    EXPECT_EQ(m.view.windowPresetName(), "Soft tissue");
    m.view.setWindowLevel(123, 45);
    EXPECT_EQ(m.view.windowPresetName(), "");
    EXPECT_FALSE(m.view.applyWindowPreset("nonsense"));
}

} // namespace
} // namespace np::gui
