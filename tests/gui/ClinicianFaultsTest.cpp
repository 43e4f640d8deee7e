// Faults a clinician hit in the workstation, each reproduced through the widgets: a second target
// added by clicking, unsaved plans guarded before another image replaces them.

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/PlanGraphics.h"
#include "needleplan/gui/TrajectoryReadout.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/planning/Preset.h"

#include <QApplication>
#include <QFile>
#include <QHeaderView>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QUndoStack>
#include <QWheelEvent>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

/// A small CT-like volume: a bright box in a dark field, anisotropic spacing.
imaging::Volume boxVolume()
{
    imaging::Geometry g;
    g.size = {24, 20, 12};
    g.spacing = {1.2, 1.2, 2.5};
    g.originLps = {-14.0, -12.0, -15.0};
    imaging::Volume volume(g, -1000.0f);
    for (std::int64_t k = 3; k < 9; ++k)
        for (std::int64_t j = 5; j < 15; ++j)
            for (std::int64_t i = 6; i < 18; ++i)
                volume.at(i, j, k) = 400.0f;
    return volume;
}

class ClinicianFaults : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath());
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1400, 900);
        m_window->show();
        ASSERT_TRUE(test::waitUntil(
            [&] {
                return m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable() &&
                       m_window->modelView()->isRenderingAvailable();
            },
            20000));
        m_path = m_folder.path() / "box.nrrd";
        imaging::writeVolumeNrrd(boxVolume(), m_path.string());
        ASSERT_TRUE(open(QString::fromStdString(m_path.string())));
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    /// Opens `path` and waits for loadFinished; false when it failed or did not finish.
    bool open(const QString& path)
    {
        bool finished = false, ok = false;
        QObject listener;
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener,
                         [&](bool success, const QString&) {
                             finished = true;
                             ok = success;
                         });
        m_window->openPath(path);
        return test::waitUntil([&] { return finished; }, 60000) && ok;
    }
    /// Clicks on the axial view where `pointLps` is shown.
    void clickAxial(const Vec3& pointLps)
    {
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        m_window->viewStateModel().setCursorLps(pointLps);
        QApplication::processEvents();
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(pointLps);
        test::clickAt(axial, QPointF(display.x / dpr, display.y / dpr));
    }

    test::TempDir m_folder{"np-gui-faults"};
    std::filesystem::path m_path;
    std::unique_ptr<MainWindow> m_window;
};

// Fault 1: with one target present, "Set target" and a click moved that target; a second target
// could not be added by clicking.
TEST_F(ClinicianFaults, AddTargetThenAClickAddsASecondTargetAndKeepsTheFirst)
{
    const Vec3 centre = m_window->viewStateModel().cursorLps();
    m_window->addTarget("L4 left", centre);
    auto* add = m_window->findChild<QPushButton*>("addTargetButton");
    ASSERT_NE(add, nullptr) << "no Add target button";
    add->click();
    const Vec3 second = centre + Vec3{4.8, -3.6, 0.0};
    clickAxial(second);
    const auto& targets = m_window->planModel().targets();
    ASSERT_EQ(targets.size(), 2u);
    EXPECT_EQ(targets[0].name, "L4 left");
    EXPECT_EQ(targets[0].targetLps, centre) << "the first target must not move";
    const double tolerance = m_window->sliceView(SliceOrientation::Axial)->scene().mmPerPixel() *
                             m_window->sliceView(SliceOrientation::Axial)->devicePixelRatioF();
    EXPECT_LT(distance(targets[1].targetLps, second), tolerance + 1e-6);
    EXPECT_NE(targets[1].name, targets[0].name);
    EXPECT_EQ(m_window->planModel().activeTarget(), 1);

    // "Move target" and a click moves the active (second) one only.
    auto* move = m_window->findChild<QPushButton*>("setTargetButton");
    ASSERT_NE(move, nullptr);
    EXPECT_EQ(move->text(), QStringLiteral("Move target"));
    move->click();
    const Vec3 moved = centre + Vec3{-3.6, 2.4, 0.0};
    clickAxial(moved);
    ASSERT_EQ(targets.size(), 2u);
    EXPECT_EQ(targets[0].targetLps, centre);
    EXPECT_LT(distance(targets[1].targetLps, moved), tolerance + 1e-6);
}

// Fault 4: opening another image discarded unsaved plan changes without asking.
TEST_F(ClinicianFaults, OpeningAnotherImageAsksBeforeDroppingUnsavedPlanChanges)
{
    m_window->addTarget("L4 left", m_window->viewStateModel().cursorLps());
    ASSERT_FALSE(m_window->undoStack().isClean());
    const auto otherPath = m_folder.path() / "other.nrrd";
    imaging::writeVolumeNrrd(boxVolume(), otherPath.string());

    // Answer Cancel: the plan and the image stay.
    bool asked = false;
    QTimer::singleShot(300, m_window.get(), [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            asked = true;
            box->button(QMessageBox::Cancel)->click();
        }
    });
    m_window->openPath(QString::fromStdString(otherPath.string()));
    test::waitUntil([&] { return asked && !m_window->task().busy(); }, 3000);
    EXPECT_TRUE(asked) << "no question before the plan was dropped";
    test::waitUntil([&] { return !m_window->task().busy(); }, 30000);
    ASSERT_EQ(m_window->planModel().targets().size(), 1u);
    EXPECT_EQ(m_window->imageModel().path(), QString::fromStdString(m_path.string()));

    // Answer Discard: the other image opens with an empty plan.
    asked = false;
    QTimer::singleShot(300, m_window.get(), [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            asked = true;
            box->button(QMessageBox::Discard)->click();
        }
    });
    ASSERT_TRUE(open(QString::fromStdString(otherPath.string())));
    EXPECT_TRUE(asked);
    EXPECT_TRUE(m_window->planModel().targets().empty());
    EXPECT_EQ(m_window->imageModel().path(), QString::fromStdString(otherPath.string()));
}

// Fault 3: a press grabbed the entry handle in the along-needle view, but nothing moved and
// nothing reached the undo stack.
TEST_F(ClinicianFaults, EntryHandleDragsInTheAlongNeedleViewAsOneUndoStep)
{
    const Vec3 centre = m_window->viewStateModel().cursorLps();
    m_window->addTarget("L4 left", centre);
    const Vec3 entryLps = centre + Vec3{4.0, 9.0, 6.0};
    m_window->placeEntry(entryLps);
    m_window->setLayoutMode(1);
    m_window->setTrajectoryViewControls(0.0, 1.0);
    SliceViewWidget* needle = m_window->needleView();
    ASSERT_TRUE(
        test::waitUntil([&] { return needle->isVisible() && needle->isRenderingAvailable(); }, 10000));
    QApplication::processEvents();
    const int stepsBefore = m_window->undoStack().count();
    const double dpr = needle->devicePixelRatioF();
    const Vec3 from = needle->scene().displayFromLps(entryLps);
    ASSERT_LT(std::abs(from.z), 1e-6) << "the entry lies in the along-needle plane";
    const QPointF fromPx(from.x / dpr, from.y / dpr);
    const QPointF toPx = fromPx + QPointF(24.0, 10.0);
    const Vec3 expectedEnd = needle->scene().lpsFromDisplay(toPx.x() * dpr, toPx.y() * dpr);
    test::dragFromTo(needle, fromPx, toPx, 6);
    ASSERT_TRUE(m_window->planModel().targets()[0].entryLps);
    EXPECT_LT(distance(*m_window->planModel().targets()[0].entryLps, expectedEnd), 1e-6);
    // 26 px on screen: at least half of it in mm.
    EXPECT_GT(distance(*m_window->planModel().targets()[0].entryLps, entryLps),
              13.0 * dpr * needle->scene().mmPerPixel());
    EXPECT_EQ(m_window->undoStack().count(), stepsBefore + 1);
    m_window->undoStack().undo();
    EXPECT_LT(distance(*m_window->planModel().targets()[0].entryLps, entryLps), 1e-9);
}

// Fault 2: a needle the planner calls unsafe because it passes through bone was drawn green in
// the slice and 3D views (the clearance colour along the shaft only knew forbidden structures).
TEST(PlanGraphicsFault, ANeedleThroughBoneIsDrawnRedWhateverItsClearance)
{
    NP_REQUIRE_DISPLAY(); // the fields are measured by a background job (event loop)
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    StructuresModel structures(image, undo, task);
    PlanModel plan(image, structures, undo, task);
    imaging::Geometry g;
    g.size = {30, 30, 30};
    g.spacing = {1.0, 1.0, 1.0};
    g.originLps = {0.0, 0.0, 0.0};
    image.setVolume(std::make_shared<imaging::Volume>(g, 40.0f), "/data/bone.nrrd");
    auto labels = std::make_shared<imaging::LabelMap>(g);
    labels->segments() = {{"bone_sacrum", 1, {1, 1, 1}}};
    for (std::int64_t k = 10; k < 20; ++k) // a bone slab across the path, 5 mm from the target
        for (std::int64_t j = 12; j < 18; ++j)
            for (std::int64_t i = 10; i < 20; ++i)
                labels->at(i, j, k) = 1;
    structures.setLabels(labels);
    ASSERT_EQ(structures.specs()[0].structureClass, planning::StructureClass::Obstacle);
    plan.addTarget("T", {15.0, 23.0, 15.0});
    ASSERT_TRUE(plan.setEntry({15.0, 3.0, 15.0})); // 20 mm, well within the 90 mm needle
    bool ready = false;
    QObject listener;
    QObject::connect(&plan, &PlanModel::fieldsReady, &listener, [&] { ready = true; });
    EXPECT_FALSE(plan.evaluation(0).has_value()) << "the fields are measured first";
    ASSERT_TRUE(test::waitUntil([&] { return ready; }, 60000));
    const std::optional<planning::Evaluation> evaluation = plan.evaluation(0);
    ASSERT_TRUE(evaluation.has_value());
    ASSERT_FALSE(evaluation->safe) << "precondition: the planner refuses a path through bone";

    const PlanGraphics graphics = planGraphics(plan);
    ASSERT_EQ(graphics.trajectories.size(), 1u);
    const render::TrajectoryGraphic& needle = graphics.trajectories[0];
    auto isGreen = [](const render::Rgb& c) { return c[1] > c[0]; };
    EXPECT_FALSE(isGreen(needle.colorRgb));
    int greenSamples = 0;
    for (const render::Rgb& c : needle.colorsAlongRgb)
        greenSamples += isGreen(c) ? 1 : 0;
    EXPECT_EQ(greenSamples, 0) << "of " << needle.colorsAlongRgb.size() << " samples along an unsafe needle";
}

// Fault 7: "Remove target" moved under the pointer as the details resized, and removed with no
// confirmation.
TEST_F(ClinicianFaults, RemoveTargetStaysPutAndAsksFirst)
{
    const Vec3 centre = m_window->viewStateModel().cursorLps();
    m_window->addTarget("L4 left", centre);
    m_window->addTarget("L4 right", centre + Vec3{6.0, 0.0, 0.0});
    auto* remove = m_window->findChild<QPushButton*>("removeTargetButton");
    ASSERT_NE(remove, nullptr);
    QApplication::processEvents();
    const QPoint before = remove->mapTo(m_window.get(), QPoint(0, 0));
    // The details grow: an entry, its readout, another active target.
    m_window->placeEntry(centre + Vec3{6.0, 12.0, 5.0});
    m_window->planModel().setActiveTarget(0);
    test::waitUntil([&] { return !m_window->task().busy(); }, 10000);
    QApplication::processEvents();
    EXPECT_EQ(remove->mapTo(m_window.get(), QPoint(0, 0)), before) << "the button moved";

    auto answer = [&](QMessageBox::StandardButton button, bool* asked) {
        QTimer::singleShot(200, m_window.get(), [button, asked] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                *asked = true;
                box->button(button)->click();
            }
        });
    };
    bool asked = false;
    answer(QMessageBox::No, &asked);
    remove->click();
    EXPECT_TRUE(asked) << "removed without asking";
    EXPECT_EQ(m_window->planModel().targets().size(), 2u) << "No keeps the target";
    asked = false;
    answer(QMessageBox::Yes, &asked);
    remove->click();
    EXPECT_TRUE(asked);
    ASSERT_EQ(m_window->planModel().targets().size(), 1u);
    EXPECT_EQ(m_window->planModel().targets()[0].name, "L4 right");
    m_window->undoStack().undo();
    EXPECT_EQ(m_window->planModel().targets().size(), 2u) << "Undo brings it back";
}

/// The active target with two ranked candidates, the first in use.
void addRankedTarget(MainWindow& window, const Vec3& targetLps)
{
    window.addTarget("L4 left", targetLps);
    PlanTarget searched = window.planModel().targets().back();
    searched.ranked.push_back({targetLps + Vec3{4, 40, 0}, targetLps, 1.0, true, {}});
    searched.ranked.push_back({targetLps + Vec3{-8, 40, 2}, targetLps, 0.8, false, {}});
    searched.ranked[0].evaluation.angles.bullseye = {-123.4, -45.6, 0, 0, {0, 1, 0}};
    searched.ranked[1].evaluation.angles.bullseye = {-123.4, -45.6, 0, 0, {0, 1, 0}};
    searched.selectedRank = 0;
    searched.entryLps = searched.ranked[0].entryLps;
    searched.directionsSearched = 20000;
    searched.searchContext = window.planModel().currentSearchContext();
    window.planModel().editTarget(static_cast<int>(window.planModel().targets().size()) - 1, searched,
                                  "Find safe trajectories");
}

// Fault 7: the ranked list kept highlighting a candidate after the entry was dragged off it.
TEST_F(ClinicianFaults, RankedListDropsTheHighlightWhenTheEntryLeavesTheCandidate)
{
    addRankedTarget(*m_window, m_window->viewStateModel().cursorLps());
    QTableWidget* ranked = m_window->rankedList();
    ASSERT_EQ(ranked->rowCount(), 2);
    ASSERT_EQ(ranked->selectionModel()->selectedRows().size(), 1);
    EXPECT_EQ(ranked->selectionModel()->selectedRows()[0].row(), 0);
    PlanModel& plan = m_window->planModel();
    plan.beginDrag();
    plan.dragHandle(0, *plan.targets()[0].entryLps + Vec3{3.0, 0.0, 0.0});
    plan.endDrag();
    EXPECT_TRUE(ranked->selectionModel()->selectedRows().isEmpty()) << "a candidate is still highlighted";
    // Choosing a candidate again highlights it.
    plan.selectCandidate(1);
    ASSERT_EQ(ranked->selectionModel()->selectedRows().size(), 1);
    EXPECT_EQ(ranked->selectionModel()->selectedRows()[0].row(), 1);
}

// Fault 7: the C-arm column of the ranked list was cut off.
TEST_F(ClinicianFaults, RankedListShowsTheWholeCarmColumn)
{
    addRankedTarget(*m_window, m_window->viewStateModel().cursorLps());
    QTableWidget* ranked = m_window->rankedList();
    QApplication::processEvents();
    const QHeaderView* header = ranked->horizontalHeader();
    const int right = header->sectionViewportPosition(5) + header->sectionSize(5);
    EXPECT_LE(right, ranked->viewport()->width()) << "the C-arm column ends outside the list";
    const QString text = ranked->item(0, 5)->text();
    EXPECT_EQ(text, "RAO 123 CAU 46");
    EXPECT_GE(header->sectionSize(5), ranked->fontMetrics().horizontalAdvance(text));
}

// Fault 7: resizing the window reset the zoom of the slice views.
TEST_F(ClinicianFaults, ResizingTheWindowKeepsTheZoom)
{
    SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
    const QPointF middle(axial->width() / 2.0, axial->height() / 2.0);
    QWheelEvent wheel(middle, axial->mapToGlobal(middle), QPoint(), QPoint(0, 3 * 120), Qt::NoButton,
                      Qt::ControlModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(axial, &wheel);
    const double mmPerPixel = axial->scene().mmPerPixel();
    const double dpr = axial->devicePixelRatioF();
    const Vec3 centreLps =
        axial->scene().lpsFromDisplay(0.5 * axial->width() * dpr, 0.5 * axial->height() * dpr);
    const QSize sizeBefore = axial->size();
    m_window->resize(1200, 760);
    ASSERT_TRUE(test::waitUntil([&] { return axial->size() != sizeBefore; }, 5000));
    QApplication::processEvents();
    EXPECT_NEAR(axial->scene().mmPerPixel(), mmPerPixel, 1e-9 * mmPerPixel) << "the zoom changed";
    const Vec3 centreAfter =
        axial->scene().lpsFromDisplay(0.5 * axial->width() * dpr, 0.5 * axial->height() * dpr);
    EXPECT_LT(distance(centreAfter, centreLps), 1.0 * mmPerPixel) << "the view's centre moved";
}

// Fault 7: clearances that are lower bounds printed as exact values.
TEST(ReadoutFault, LowerBoundClearancesPrintAsGreaterThan)
{
    EXPECT_EQ(formatClearance(4.24, false), "4.2 mm");
    EXPECT_EQ(formatClearance(19.64, true), "> 19 mm");
    EXPECT_EQ(formatClearance(37.0, false), "37.0 mm");
    PlanTarget target;
    target.name = "L4 left";
    target.targetLps = {0, 0, 0};
    target.entryLps = Vec3{0, 50, 0};
    ReadoutInput input;
    input.target = &target;
    planning::Evaluation evaluation;
    evaluation.safe = true;
    evaluation.clearances.push_back(
        {"aorta", 3, planning::StructureClass::Forbidden, 19.64, 3.0, {}, 0.0, false, true});
    evaluation.clearances.push_back(
        {"nerve_root_L4_left", 2, planning::StructureClass::Forbidden, 6.25, 2.0, {}, 0.0, false});
    input.evaluation = evaluation;
    const QString html = trajectoryReadoutHtml(input);
    EXPECT_TRUE(html.contains("&gt; 19 mm")) << html.toStdString();
    EXPECT_FALSE(html.contains("19.6 mm")) << html.toStdString();
    EXPECT_TRUE(html.contains("6.2 mm") || html.contains("6.3 mm")) << html.toStdString();
}

// Fault 7: the table oblique/tilt a prone case needs was never shown. A prone patient (HFP) and a
// needle 20° off the vertical toward the patient's left in the axial plane: the table is obliqued
// 20° to the left, not tilted.
TEST(ReadoutFault, TableObliqueAndTiltAreShown)
{
    PlanTarget target;
    target.name = "L4 left";
    target.targetLps = {0, 0, 0};
    const double a = 20.0 * std::acos(-1.0) / 180.0;
    target.entryLps = Vec3{60.0 * std::sin(a), 60.0 * std::cos(a), 0.0}; // posterior (up, prone) and left
    ReadoutInput input;
    input.target = &target;
    input.position = planning::PatientPosition::HFP;
    const QString html = trajectoryReadoutHtml(input);
    EXPECT_TRUE(html.contains("Table oblique / tilt")) << html.toStdString();
    EXPECT_TRUE(html.contains("20.0° to the patient's left, 0.0°")) << html.toStdString();
}

// Fault 7: a supine CT planned with a prone, posterior procedure got no note.
TEST(ReadoutFault, SupineCtWithAProneProcedureGetsANote)
{
    EXPECT_TRUE(
        patientPositionNote("posterior", "Lumbar MBB", planning::PatientPosition::HFS).contains("supine"));
    EXPECT_TRUE(patientPositionNote("posterior", "Lumbar MBB", planning::PatientPosition::HFP).isEmpty());
    EXPECT_TRUE(patientPositionNote("anterior", "Coeliac", planning::PatientPosition::FFP).contains("prone"));
    EXPECT_TRUE(patientPositionNote("nearest-skin", "Generic", planning::PatientPosition::HFS).isEmpty());

    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    StructuresModel structures(image, undo, task);
    PlanModel plan(image, structures, undo, task);
    auto volume = std::make_shared<imaging::Volume>(boxVolume());
    volume->info().patientPosition = "HFS";
    image.setVolume(volume, "/data/supine.nrrd");
    EXPECT_TRUE(plan.positionNote().isEmpty()) << "the generic procedure suits any position";
    ASSERT_TRUE(plan.setPreset("lumbar-mbb"));
    EXPECT_TRUE(plan.positionNote().contains("supine (HFS)")) << plan.positionNote().toStdString();
    undo.undo();
    EXPECT_TRUE(plan.positionNote().isEmpty());
    // An image that states no position gets no note.
    image.setVolume(std::make_shared<imaging::Volume>(boxVolume()), "/data/unknown.nrrd");
    ASSERT_TRUE(plan.setPreset("lumbar-mbb"));
    EXPECT_TRUE(plan.positionNote().isEmpty());
}

} // namespace
} // namespace np::gui
