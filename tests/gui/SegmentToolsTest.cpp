// The clinician's segmentation tools: paint and erase with a 2D disc or 3D sphere brush (radius in
// mm), threshold-limited painting, seeded region growing with the seed's statistics, new
// structures with the terminology's class and margin, one undo step per stroke or growth. Voxel
// counts are checked against shapes counted by hand here, on anisotropic and oblique grids.

#include "GuiTestSupport.h"
#include "ObliqueGrid.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/LabelEditing.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/SegmentToolsPanel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/RegionGrowing.h"
#include "needleplan/planning/ClearanceField.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QToolButton>
#include <QUndoStack>
#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

/// 40×36×20 voxels of 0.8×1.1×2.5 mm, axis-aligned.
imaging::Geometry anisotropicGrid()
{
    imaging::Geometry g;
    g.size = {40, 36, 20};
    g.spacing = {0.8, 1.1, 2.5};
    g.originLps = {-16.0, -20.0, -25.0};
    return g;
}

/// 30×28×18 voxels of 0.7×0.9×1.6 mm, rotated 0.3 rad about S and tilted 0.2 rad.
imaging::Geometry obliqueGrid()
{
    return test::obliqueGeometry({30, 28, 18}, {0.7, 0.9, 1.6}, {-11.0, -13.0, -14.0}, 0.3, 0.2);
}

/// Voxel centres (i, j, k) with Σ ((index − centre)·spacing)² ≤ r² (an ellipsoid in index space,
/// whatever the direction matrix), on slice `onlyK` when it is ≥ 0. Fails when a centre lies
/// within 1e-3 mm² of the boundary, so that rounding cannot decide the count.
std::int64_t handCount(const imaging::Geometry& g, const Vec3& centreIjk, double r, int onlyK = -1,
                       int minI = 0)
{
    std::int64_t count = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k) {
        if (onlyK >= 0 && k != onlyK)
            continue;
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = minI; i < g.size[0]; ++i) {
                const double dx = (static_cast<double>(i) - centreIjk.x) * g.spacing.x;
                const double dy = (static_cast<double>(j) - centreIjk.y) * g.spacing.y;
                const double dz = (static_cast<double>(k) - centreIjk.z) * g.spacing.z;
                const double d2 = dx * dx + dy * dy + (onlyK >= 0 ? 0.0 : dz * dz);
                EXPECT_GT(std::abs(d2 - r * r), 1e-3) << "a voxel centre on the brush's boundary";
                if (d2 <= r * r)
                    ++count;
            }
    }
    return count;
}

std::int64_t countValue(const StructuresModel& structures, std::uint16_t value)
{
    if (!structures.labels())
        return 0;
    const auto& labels = structures.labels()->labels();
    return std::count(labels.begin(), labels.end(), value);
}

TEST(LabelEditing, SphereBrushOnAnObliqueAnisotropicGridCoversTheEllipsoidOfVoxelCentres)
{
    const imaging::Geometry g = obliqueGrid();
    const Vec3 centreIjk{14.0, 13.0, 9.0};
    Brush brush;
    brush.shape = BrushShape::Sphere;
    for (double r : {2.3, 4.45, 6.1}) {
        brush.radiusMm = r;
        const auto voxels = brushVoxels(g, g.lpsFromIjk(centreIjk), brush);
        EXPECT_EQ(static_cast<std::int64_t>(voxels.size()), handCount(g, centreIjk, r)) << "radius " << r;
        EXPECT_TRUE(std::is_sorted(voxels.begin(), voxels.end()));
    }
    // Near a corner the brush is clipped to the grid.
    brush.radiusMm = 4.45;
    EXPECT_EQ(static_cast<std::int64_t>(brushVoxels(g, g.lpsFromIjk({1.0, 0.0, 1.0}), brush).size()),
              handCount(g, {1.0, 0.0, 1.0}, 4.45));
}

TEST(LabelEditing, DiscBrushTakesOneSliceOfTheView)
{
    // The disc in the plane of the grid's own k axis (a view along k on the oblique grid).
    const imaging::Geometry g = obliqueGrid();
    const Vec3 centreIjk{14.0, 13.0, 9.0};
    Brush brush;
    brush.shape = BrushShape::Disc;
    brush.radiusMm = 4.45;
    brush.planeNormalLps = g.directionLps.column(2);
    brush.sliceStepMm = g.spacing.z;
    const auto voxels = brushVoxels(g, g.lpsFromIjk(centreIjk), brush);
    EXPECT_EQ(static_cast<std::int64_t>(voxels.size()), handCount(g, centreIjk, 4.45, 9));
    for (std::int64_t v : voxels)
        EXPECT_EQ(v / (g.size[0] * g.size[1]), 9) << "a voxel off the slice";
}

TEST(LabelEditing, EditsRecordOnlyChangedVoxelsAndUndoExactly)
{
    imaging::LabelMap labels(anisotropicGrid());
    labels.segments() = {{"bone", 1, {1, 1, 1}}, {"nerve", 2, {1, 1, 0}}};
    labels.at(5, 5, 5) = 1;
    const std::vector<std::int64_t> voxels = {labels.geometry().size[0] * (5 + 36 * 5) + 4,
                                              labels.geometry().size[0] * (5 + 36 * 5) + 5,
                                              labels.geometry().size[0] * (5 + 36 * 5) + 6};
    const LabelEdit paint = makeLabelEdit(labels, voxels, EditMode::Paint, 2, false);
    EXPECT_EQ(paint.voxels.size(), 2u) << "the bone voxel is kept without overwrite";
    EXPECT_EQ(makeLabelEdit(labels, voxels, EditMode::Paint, 2, true).voxels.size(), 3u);
    const auto before = labels.labels();
    applyLabelEdit(labels, paint, true);
    EXPECT_EQ(countLabel(labels, 2), 2);
    EXPECT_EQ(makeLabelEdit(labels, voxels, EditMode::Erase, 2, false).voxels.size(), 2u);
    EXPECT_EQ(makeLabelEdit(labels, voxels, EditMode::Erase, 2, true).voxels.size(), 3u);
    applyLabelEdit(labels, paint, false);
    EXPECT_TRUE(labels.labels() == before);
}

/// 40 HU with a 500 HU box of 6×8×5 voxels (i 4..9, j 4..11, k 3..7).
imaging::Volume boxVolume(const imaging::Geometry& g)
{
    imaging::Volume volume(g, 40.0f);
    for (std::int64_t k = 3; k <= 7; ++k)
        for (std::int64_t j = 4; j <= 11; ++j)
            for (std::int64_t i = 4; i <= 9; ++i)
                volume.at(i, j, k) = 500.0f;
    return volume;
}

TEST(RegionGrowing, ConnectedThresholdAndConfidenceConnectedFillABoxOfKnownHu)
{
    const imaging::Volume volume = boxVolume(anisotropicGrid());
    imaging::RegionGrowOptions options;
    options.lowerHu = 400.0;
    options.upperHu = 600.0;
    const imaging::RegionGrowResult grown = imaging::growRegion(volume, {6, 7, 5}, options);
    EXPECT_EQ(grown.voxels.size(), 6u * 8u * 5u);
    EXPECT_FALSE(grown.reachedLimit);
    EXPECT_EQ(grown.voxels.front(), volume.linearIndex(4, 4, 3));
    options.method = imaging::RegionGrowMethod::ConfidenceConnected;
    EXPECT_EQ(imaging::growRegion(volume, {6, 7, 5}, options).voxels.size(), 6u * 8u * 5u);
    // The 40 HU background from a corner: everything but the box.
    options.method = imaging::RegionGrowMethod::ConnectedThreshold;
    options.lowerHu = 0.0;
    options.upperHu = 100.0;
    EXPECT_EQ(imaging::growRegion(volume, {0, 0, 0}, options).voxels.size(),
              static_cast<std::size_t>(volume.geometry().voxelCount()) - 240u);
    // Limited to 2 mm around the seed: a box of ±2 voxels in i (0.8 mm), ±1 in j, 0 in k.
    options.maxRadiusMm = 2.0;
    const imaging::RegionGrowResult limited = imaging::growRegion(volume, {30, 30, 15}, options);
    EXPECT_EQ(limited.voxels.size(), 5u * 3u * 1u);
    EXPECT_TRUE(limited.reachedLimit);
    const imaging::SeedStatistics stats = imaging::seedStatistics(volume, {4, 4, 3}, 1);
    EXPECT_EQ(stats.samples, 27);
    // Of the 27 voxels around the box's corner, 8 are in the box.
    EXPECT_NEAR(stats.meanHu, (8 * 500.0 + 19 * 40.0) / 27.0, 1e-9);
    EXPECT_EQ(stats.minHu, 40.0);
    EXPECT_EQ(stats.maxHu, 500.0);
    EXPECT_THROW(imaging::growRegion(volume, {40, 0, 0}, options), Error);
}

/// Types into a line edit as the keyboard does.
void typeText(QWidget* widget, const QString& text)
{
    for (const QChar c : text) {
        QKeyEvent press(QEvent::KeyPress, 0, Qt::NoModifier, QString(c));
        QApplication::sendEvent(widget, &press);
        QKeyEvent release(QEvent::KeyRelease, 0, Qt::NoModifier, QString(c));
        QApplication::sendEvent(widget, &release);
    }
}

class SegmentTools : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = test::openScriptedWindow(1400, 900);
        ASSERT_TRUE(m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable());
        m_panel = m_window->findChild<SegmentToolsPanel*>();
        ASSERT_NE(m_panel, nullptr);
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    void open(imaging::Volume volume)
    {
        m_grid = volume.geometry();
        m_window->imageModel().setVolume(std::make_shared<imaging::Volume>(std::move(volume)),
                                         "/data/ct.nrrd");
        QApplication::processEvents();
    }
    /// Moves the crosshair to the voxel centre and clicks it in the axial view.
    void clickVoxel(const Vec3& voxelIjk)
    {
        const Vec3 pointLps = m_grid.lpsFromIjk(voxelIjk);
        m_window->viewStateModel().setCursorLps(pointLps);
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(pointLps);
        test::clickAt(axial, QPointF(display.x / dpr, display.y / dpr));
    }
    QPointF axialPixel(const Vec3& voxelIjk)
    {
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(m_grid.lpsFromIjk(voxelIjk));
        return {display.x / dpr, display.y / dpr};
    }
    template <typename T> T* child(const char* name)
    {
        T* widget = m_panel->findChild<T*>(name);
        EXPECT_NE(widget, nullptr) << name;
        return widget;
    }
    std::uint16_t newStructure(const QString& name)
    {
        NewStructureDialog dialog(m_panel);
        typeText(dialog.findChild<QLineEdit*>("newStructureName"), name);
        return m_panel->editor().addStructure(dialog.name(), dialog.structureClass(), dialog.marginMm());
    }
    imaging::Geometry m_grid;
    std::unique_ptr<MainWindow> m_window;
    SegmentToolsPanel* m_panel = nullptr;
};

TEST_F(SegmentTools, NewStructureTakesTheTerminologyDefaultsForItsName)
{
    NewStructureDialog dialog;
    typeText(dialog.findChild<QLineEdit*>("newStructureName"), "nerve_root_L4_left");
    const planning::StructureSpec expected = planning::defaultStructureSpec("nerve_root_L4_left", 1);
    EXPECT_EQ(expected.structureClass, planning::StructureClass::Forbidden);
    EXPECT_EQ(dialog.structureClass(), planning::StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(dialog.marginMm(), expected.marginMm);
    EXPECT_TRUE(dialog.ruleText().contains(QString::fromStdString(expected.rule)))
        << dialog.ruleText().toStdString();
    // A kidney is an organ: forbidden with the organ margin, whatever the nerve's was.
    NewStructureDialog kidney;
    typeText(kidney.findChild<QLineEdit*>("newStructureName"), "kidney_right");
    EXPECT_EQ(kidney.structureClass(), planning::StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(kidney.marginMm(), planning::defaultStructureSpec("kidney_right", 1).marginMm);

    open(boxVolume(anisotropicGrid()));
    EXPECT_EQ(m_window->structuresModel().labels(), nullptr);
    const std::uint16_t value = newStructure("nerve_root_L4_left");
    ASSERT_EQ(value, 1);
    ASSERT_NE(m_window->structuresModel().labels(), nullptr) << "a label map on the image's grid";
    EXPECT_EQ(m_window->structuresModel().labels()->geometry().size, anisotropicGrid().size);
    ASSERT_EQ(m_window->structuresModel().rows().size(), 1u);
    EXPECT_EQ(m_window->structuresModel().rows()[0].spec.structureClass, planning::StructureClass::Forbidden);
    EXPECT_EQ(child<QComboBox>("segmentStructure")->currentText(), "nerve_root_L4_left");
    EXPECT_EQ(newStructure("nerve_root_L4_left"), 0) << "a name already taken";
    m_window->undoStack().undo();
    EXPECT_EQ(m_window->structuresModel().labels(), nullptr);
}

TEST_F(SegmentTools, PaintEraseAndGrowOnTheSliceViewsWithUndoAndRedo)
{
    const imaging::Geometry g = anisotropicGrid();
    imaging::Volume volume = boxVolume(g);
    // A known HU step: 200 HU from i = 20 on, for slices k ≥ 16 (away from the box).
    for (std::int64_t k = 16; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 20; i < g.size[0]; ++i)
                volume.at(i, j, k) = 200.0f;
    open(std::move(volume));
    const std::uint16_t value = newStructure("kidney_right");
    ASSERT_NE(value, 0);
    StructuresModel& structures = m_window->structuresModel();
    QUndoStack& undo = m_window->undoStack();

    // A disc of 4.2 mm on axial slice 12.
    child<QToolButton>("segmentPaint")->click();
    EXPECT_EQ(m_window->viewStateModel().pickMode(), PickMode::Segment);
    child<QComboBox>("segmentBrushShape")->setCurrentIndex(0);
    child<QDoubleSpinBox>("segmentRadius")->setValue(4.2);
    const int steps = undo.index();
    clickVoxel({12, 26, 12});
    const std::int64_t disc = handCount(g, {12, 26, 12}, 4.2, 12);
    EXPECT_GT(disc, 30);
    EXPECT_EQ(countValue(structures, value), disc);
    EXPECT_EQ(undo.index(), steps + 1) << "one click, one undo step";

    // A sphere of 4.3 mm.
    child<QComboBox>("segmentBrushShape")->setCurrentIndex(1);
    child<QDoubleSpinBox>("segmentRadius")->setValue(4.3);
    clickVoxel({28, 10, 6});
    const std::int64_t sphere = handCount(g, {28, 10, 6}, 4.3);
    EXPECT_EQ(countValue(structures, value), disc + sphere);

    // Threshold-limited: a 6 mm disc across the HU step paints only the 200 HU side (i ≥ 20).
    child<QComboBox>("segmentBrushShape")->setCurrentIndex(0);
    child<QDoubleSpinBox>("segmentRadius")->setValue(6.0);
    child<QCheckBox>("segmentThreshold")->setChecked(true);
    child<QDoubleSpinBox>("segmentMinHu")->setValue(100.0);
    child<QDoubleSpinBox>("segmentMaxHu")->setValue(300.0);
    clickVoxel({20, 18, 17});
    const std::int64_t limited = handCount(g, {20, 18, 17}, 6.0, 17, 20);
    EXPECT_LT(limited, handCount(g, {20, 18, 17}, 6.0, 17));
    EXPECT_EQ(countValue(structures, value), disc + sphere + limited);
    child<QCheckBox>("segmentThreshold")->setChecked(false);

    // Erase a 2.5 mm disc out of the first one.
    child<QToolButton>("segmentErase")->click();
    child<QDoubleSpinBox>("segmentRadius")->setValue(2.5);
    clickVoxel({12, 26, 12});
    const std::int64_t erased = handCount(g, {12, 26, 12}, 2.5, 12);
    EXPECT_EQ(countValue(structures, value), disc + sphere + limited - erased);

    // A drag is one stroke: one undo step; it erases at least the discs at its ends and at most
    // the voxels within the radius of its path.
    child<QDoubleSpinBox>("segmentRadius")->setValue(1.2);
    const std::int64_t beforeDrag = countValue(structures, value);
    m_window->viewStateModel().setCursorLps(g.lpsFromIjk({28, 10, 6}));
    const int dragSteps = undo.index();
    test::dragFromTo(m_window->sliceView(SliceOrientation::Axial), axialPixel({24, 10, 6}),
                     axialPixel({32, 10, 6}), 5);
    EXPECT_EQ(undo.index(), dragSteps + 1);
    std::int64_t capsule = 0, ends = 0;
    for (std::int64_t j = 0; j < g.size[1]; ++j)
        for (std::int64_t i = 0; i < g.size[0]; ++i) {
            const double dy = (static_cast<double>(j) - 10.0) * g.spacing.y;
            const double along = std::clamp(static_cast<double>(i), 24.0, 32.0);
            const double dx = (static_cast<double>(i) - along) * g.spacing.x;
            capsule += dx * dx + dy * dy <= 1.2 * 1.2 ? 1 : 0;
            const double dx0 = (static_cast<double>(i) - 24.0) * g.spacing.x;
            const double dx1 = (static_cast<double>(i) - 32.0) * g.spacing.x;
            ends += (dx0 * dx0 + dy * dy <= 1.44 || dx1 * dx1 + dy * dy <= 1.44) ? 1 : 0;
        }
    const std::int64_t dragErased = beforeDrag - countValue(structures, value);
    EXPECT_GE(dragErased, ends);
    EXPECT_LE(dragErased, capsule);
    EXPECT_EQ(capsule, 9 * 3 + 2) << "i 24..32 on rows j 9..11 (1.1 mm < 1.2 mm), and i 23 and 33 on j 10";
    undo.undo();
    EXPECT_EQ(countValue(structures, value), beforeDrag) << "undo restores the exact count";

    // Growing from a click in the 500 HU box fills its 6×8×5 voxels; the seed's statistics show.
    child<QToolButton>("segmentGrow")->click();
    child<QComboBox>("segmentGrowMethod")->setCurrentIndex(0);
    child<QDoubleSpinBox>("segmentMinHu")->setValue(400.0);
    child<QDoubleSpinBox>("segmentMaxHu")->setValue(600.0);
    const std::int64_t beforeGrow = countValue(structures, value);
    clickVoxel({6, 7, 5});
    EXPECT_EQ(countValue(structures, value), beforeGrow + 240);
    const QString stats = child<QLabel>("segmentSeedStats")->text();
    EXPECT_TRUE(stats.contains("mean 500 HU, SD 0 HU, range 500…500 HU (27 voxels)")) << stats.toStdString();
    undo.undo();
    EXPECT_EQ(countValue(structures, value), beforeGrow);
    child<QComboBox>("segmentGrowMethod")->setCurrentIndex(1);
    clickVoxel({6, 7, 5});
    EXPECT_EQ(countValue(structures, value), beforeGrow + 240) << "ConfidenceConnected";

    // Undo everything back to the empty structure, then redo it all.
    const std::int64_t final = countValue(structures, value);
    while (undo.index() > steps)
        undo.undo();
    EXPECT_EQ(countValue(structures, value), 0);
    undo.redo();
    EXPECT_EQ(countValue(structures, value), disc);
    while (undo.canRedo())
        undo.redo();
    EXPECT_EQ(countValue(structures, value), final);

    // Back to navigation: a click moves the crosshair and paints nothing.
    child<QToolButton>("segmentOff")->click();
    EXPECT_EQ(m_window->viewStateModel().pickMode(), PickMode::Navigate);
    const int navigateSteps = undo.index();
    clickVoxel({30, 30, 3});
    EXPECT_EQ(undo.index(), navigateSteps);
}

TEST_F(SegmentTools, SphereOnAnObliqueGridThroughTheAxialView)
{
    const imaging::Geometry g = obliqueGrid();
    open(imaging::Volume(g, 40.0f));
    const std::uint16_t value = newStructure("nerve_root_L5_right");
    ASSERT_NE(value, 0);
    child<QToolButton>("segmentPaint")->click();
    child<QComboBox>("segmentBrushShape")->setCurrentIndex(1);
    child<QDoubleSpinBox>("segmentRadius")->setValue(4.45);
    clickVoxel({14, 13, 9});
    EXPECT_EQ(countValue(m_window->structuresModel(), value), handCount(g, {14, 13, 9}, 4.45));
}

// A stroke on one structure drops only that structure's clearance field (a new structure too) and
// marks the search results stale; the other fields are kept.
TEST(SegmentEditing, AnEditDropsOnlyTheEditedStructuresFieldAndMarksResultsStale)
{
    const imaging::Geometry g = anisotropicGrid();
    auto labels = std::make_shared<imaging::LabelMap>(g);
    labels->segments() = {{"bone_sacrum", 1, {1, 1, 1}}};
    labels->at(10, 10, 10) = 1;
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    StructuresModel structures(image, undo, task);
    image.setVolume(std::make_shared<imaging::Volume>(g, 40.0f), "/data/ct.nrrd");
    structures.setLabels(labels);

    PlanningSession session(image.volume(), structures.labels());
    const std::vector<planning::StructureSpec> bone = {planning::defaultStructureSpec("bone_sacrum", 1)};
    const Vec3 centre = g.lpsFromIjk({20, 18, 10});
    session.prepareFields(bone, centre, 40.0, nullptr);
    const planning::DistanceField* boneField = session.fields()->field(1);
    ASSERT_NE(boneField, nullptr);

    SegmentEditor editor(image, structures, undo);
    const std::uint16_t nerve =
        editor.addStructure("nerve_root_L4_left", planning::StructureClass::Forbidden, 2.0);
    ASSERT_EQ(nerve, 2);
    SegmentSettings settings = editor.settings();
    settings.shape = BrushShape::Sphere;
    settings.radiusMm = 3.0;
    editor.setSettings(settings);
    editor.beginStroke(g.lpsFromIjk({25, 18, 10}), {0, 0, 1}, g.spacing.z);
    ASSERT_TRUE(editor.endStroke());
    std::vector<std::uint16_t> changed;
    ASSERT_TRUE(session.updateLabels(structures.labels(), &changed)) << "a new structure is taken in place";
    EXPECT_EQ(changed, std::vector<std::uint16_t>{2});
    EXPECT_EQ(session.fields()->field(1), boneField) << "the bone's field is kept";
    std::vector<planning::StructureSpec> both = bone;
    both.push_back(structures.rows()[1].spec);
    session.prepareFields(both, centre, 40.0, nullptr);
    // The nerve's 3 mm sphere spans i 22..28 on its row (3·0.8 ≤ 3 < 4·0.8): inside at its centre;
    // from i = 35, 7 voxel centres of 0.8 mm from its last one, the face of that voxel is 5.2 mm away.
    EXPECT_LE(session.fields()->distanceMm(2, g.lpsFromIjk({25, 18, 10})), 0.0);
    EXPECT_NEAR(session.fields()->distanceMm(2, g.lpsFromIjk({35, 18, 10})), 7 * 0.8 - 0.4,
                0.5 * g.maxSpacing());

    // Search results found before the edit are stale after it.
    PlanModel plan(image, structures, undo, task);
    plan.addTarget("L4 left", centre);
    PlanTarget searched = plan.targets()[0];
    searched.ranked.push_back({{0, 60, 0}, centre, 1.0, true, {}});
    searched.directionsSearched = 100;
    searched.searchContext = plan.currentSearchContext();
    plan.editTarget(0, searched, "Find safe trajectories");
    EXPECT_FALSE(plan.resultsStale(0));
    editor.beginStroke(g.lpsFromIjk({28, 18, 10}), {0, 0, 1}, g.spacing.z);
    ASSERT_TRUE(editor.endStroke());
    EXPECT_EQ(plan.staleBecause(0), QStringList{"the structures"});
}

} // namespace
} // namespace np::gui
