// The workstation driven like a user: synthesised mouse events on the slice views, the 3D view
// read back from VTK, the series picker, error dialogs, undo/redo of a drag.

#include <gtest/gtest.h>

#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <QPixmap>
#include <QTableWidget>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/SeriesPickerDialog.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/render/ImageCapture.h"

#include <vtkRenderer.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

/// Opens `path` and waits for the outcome; returns the loadFinished ok flag.
bool openAndWait(MainWindow& window, const QString& path, QString* message = nullptr, bool phantom = false)
{
    bool finished = false, ok = false;
    auto connection = QObject::connect(&window, &MainWindow::loadFinished, &window,
                                       [&](bool success, const QString& text) {
                                           finished = true;
                                           ok = success;
                                           if (message)
                                               *message = text;
                                       });
    if (phantom)
        window.openSamplePhantom();
    else
        window.openPath(path);
    test::waitUntil([&] { return finished; }, 180000);
    QObject::disconnect(connection);
    return ok;
}

bool viewsReady(MainWindow& window)
{
    return window.sliceView(SliceOrientation::Axial)->isRenderingAvailable() &&
           window.modelView()->isRenderingAvailable();
}

/// A small CT-like volume: a bright box in a dark field, on an oblique anisotropic grid.
imaging::Volume smallVolume()
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

class Workstation : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath()); // a crashed earlier run would offer recovery
        m_window = std::make_unique<MainWindow>();
        m_window->setScriptedMode(false);
        m_window->resize(1400, 900);
        m_window->show();
        ASSERT_TRUE(test::waitUntil([&] { return viewsReady(*m_window); }, 20000)) << "OpenGL views did not start";
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    std::unique_ptr<MainWindow> m_window;
};

TEST_F(Workstation, BrokenFileShowsAnErrorAndTheAppStaysUsable)
{
    test::TempDir folder("np-gui-broken");
    const auto broken = folder.path() / "broken.nrrd";
    std::ofstream(broken) << "NRRD0004\ntype: what\ndimension: 3\nsizes: 1 2\n\ngarbage";
    QString message;
    EXPECT_FALSE(openAndWait(*m_window, QString::fromStdString(broken.string()), &message));
    EXPECT_FALSE(message.isEmpty());
    QMessageBox* box = nullptr;
    ASSERT_TRUE(test::waitUntil([&] {
        box = m_window->findChild<QMessageBox*>("errorBox");
        return box && box->isVisible();
    }, 60000)) << "no error dialog appeared";
    EXPECT_TRUE(box->text().contains("broken.nrrd") || box->windowTitle().contains("broken.nrrd"));
    box->close();
    QApplication::processEvents();

    // Still usable: a valid volume opens afterwards.
    const auto valid = folder.path() / "valid.nrrd";
    imaging::writeVolumeNrrd(smallVolume(), valid.string());
    EXPECT_TRUE(openAndWait(*m_window, QString::fromStdString(valid.string()), &message)) << message.toStdString();
    ASSERT_TRUE(m_window->imageModel().volume());
    EXPECT_EQ(m_window->imageModel().volume()->geometry().size[0], 24);
}

TEST_F(Workstation, FolderWithSeveralSeriesOpensThePicker)
{
    test::TempDir folder("np-gui-series");
    imaging::Volume volume = smallVolume();
    imaging::DicomWriteOptions first;
    first.seriesDescription = "first series";
    first.seriesNumber = 3;
    imaging::writeDicomSeries(volume, (folder.path() / "a").string(), first);
    imaging::DicomWriteOptions second;
    second.seriesDescription = "second series";
    second.seriesNumber = 4;
    imaging::writeDicomSeries(volume, (folder.path() / "b").string(), second);
    std::ofstream(folder.path() / "notes.txt") << "not an image";

    bool finished = false;
    QObject listener; // drops the connection before the locals it captures go away
    QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener, [&](bool, const QString&) { finished = true; });
    m_window->openPath(QString::fromStdString(folder.path().string()));
    SeriesPickerDialog* picker = nullptr;
    ASSERT_TRUE(test::waitUntil([&] {
        picker = m_window->findChild<SeriesPickerDialog*>();
        return picker && picker->isVisible();
    }, 60000)) << "the series picker did not open";
    EXPECT_EQ(picker->rowCount(), 2);
    auto* table = picker->findChild<QTableWidget*>("seriesTable");
    ASSERT_NE(table, nullptr);
    QStringList descriptions;
    for (int r = 0; r < table->rowCount(); ++r)
        descriptions << table->item(r, 2)->text();
    EXPECT_TRUE(descriptions.join("|").contains("first series"));
    EXPECT_TRUE(descriptions.join("|").contains("second series"));
    EXPECT_EQ(table->item(0, 4)->text(), "12"); // slices
    EXPECT_EQ(table->item(0, 5)->text(), QStringLiteral("24 × 20 × 12"));
    // Each row shows a thumbnail decoded from its middle image.
    for (int r = 0; r < table->rowCount(); ++r)
        EXPECT_FALSE(table->item(r, 0)->data(Qt::DecorationRole).value<QPixmap>().isNull()) << "row " << r;
    picker->reject();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 60000));
    EXPECT_FALSE(m_window->imageModel().volume());
}

TEST_F(Workstation, ClickSetsTheTargetAndTheTrajectoryAppearsInThe3DImage)
{
    const imaging::Volume volume = smallVolume();
    test::TempDir folder("np-gui-click");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, path.string());
    bool surfaces = false;
    QObject listener; // drops the connection before the locals it captures go away
    QObject::connect(m_window.get(), &MainWindow::surfacesReady, &listener, [&] { surfaces = true; });
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    ASSERT_TRUE(test::waitUntil([&] { return surfaces; }, 60000));

    // Target: click on the axial view where the scene says this LPS point is displayed.
    SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
    const Vec3 wantedTargetLps = m_window->viewStateModel().cursorLps() + Vec3{3.0, -2.0, 0.0};
    const Vec3 targetDisplay = axial->scene().displayFromLps(wantedTargetLps);
    const double dpr = axial->devicePixelRatioF();
    m_window->setPickMode(PickMode::SetTarget);
    test::clickAt(axial, QPointF(targetDisplay.x / dpr, targetDisplay.y / dpr));
    ASSERT_EQ(m_window->planModel().targets().size(), 1u);
    const Vec3 targetLps = m_window->planModel().targets()[0].targetLps;
    const double tolerance = 1.0 * axial->scene().mmPerPixel();
    EXPECT_NEAR(targetLps.x, wantedTargetLps.x, tolerance);
    EXPECT_NEAR(targetLps.y, wantedTargetLps.y, tolerance);
    EXPECT_NEAR(targetLps.z, wantedTargetLps.z, 1e-6);
    EXPECT_EQ(axial->pickMode(), PickMode::Navigate);

    // Entry: a click on the sagittal view, posterior of the box.
    SliceViewWidget* sagittal = m_window->sliceView(SliceOrientation::Sagittal);
    m_window->viewStateModel().setCursorLps(targetLps);
    const Vec3 wantedEntryLps = targetLps + Vec3{0.0, 20.0, 8.0};
    const Vec3 entryDisplay = sagittal->scene().displayFromLps(wantedEntryLps);
    m_window->setPickMode(PickMode::SetEntry);
    test::clickAt(sagittal, QPointF(entryDisplay.x / dpr, entryDisplay.y / dpr));
    ASSERT_TRUE(m_window->planModel().targets()[0].entryLps.has_value());
    const Vec3 entryLps = *m_window->planModel().targets()[0].entryLps;
    EXPECT_NEAR(entryLps.y, wantedEntryLps.y, sagittal->scene().mmPerPixel());
    EXPECT_NEAR(entryLps.z, wantedEntryLps.z, sagittal->scene().mmPerPixel());

    // The 3D image read back from VTK: with and without the trajectory.
    ModelViewWidget* model = m_window->modelView();
    model->scene().lookAlong(0.5 * (entryLps + targetLps), {1, 0, 0}, {0, 0, 1}); // side view of the needle
    const render::RgbImage with = model->captureVtkImage();
    model->scene().setTrajectories({});
    const render::RgbImage without = model->captureVtkImage();
    if (const char* dump = std::getenv("NP_GUI_TEST_DUMP")) {
        render::writePng(with, std::string(dump) + "/with.png");
        render::writePng(without, std::string(dump) + "/without.png");
    }
    ASSERT_GT(with.width, 50);
    ASSERT_EQ(with.width, without.width);
    ASSERT_EQ(with.height, without.height);
    // Where the path projects on the image (VTK display coordinates have y up).
    vtkRenderer* renderer = model->scene().renderer();
    auto project = [&](const Vec3& p) {
        renderer->SetWorldPoint(p.x, p.y, p.z, 1.0);
        renderer->WorldToDisplay();
        double d[3];
        renderer->GetDisplayPoint(d);
        return QPointF(d[0], with.height - 1 - d[1]);
    };
    const QPointF a = project(entryLps), b = project(targetLps);
    int changedNear = 0, changedFar = 0;
    for (int y = 0; y < with.height; ++y)
        for (int x = 0; x < with.width; ++x) {
            const std::uint8_t* p = with.pixel(x, y);
            const std::uint8_t* q = without.pixel(x, y);
            if (std::abs(p[0] - q[0]) + std::abs(p[1] - q[1]) + std::abs(p[2] - q[2]) < 30)
                continue;
            // Distance to the projected segment (extended by the hub outside the skin).
            const QPointF ab = b - a, ap = QPointF(x, y) - a;
            const double length2 = QPointF::dotProduct(ab, ab);
            const double t = std::clamp(QPointF::dotProduct(ap, ab) / length2, -2.0, 1.0);
            const QPointF closest = a + ab * t;
            const double dist = std::hypot(x - closest.x(), y - closest.y());
            (dist < 8.0 ? changedNear : changedFar)++;
        }
    const double pathPixels = std::hypot(b.x() - a.x(), b.y() - a.y());
    EXPECT_GT(changedNear, 0.5 * pathPixels) << "the trajectory is not visible in the 3D image";
    EXPECT_LT(changedFar, changedNear / 5 + 20) << "pixels changed away from the trajectory";
}

TEST_F(Workstation, DraggingTheEntryIsOneUndoStep)
{
    const imaging::Volume volume = smallVolume();
    test::TempDir folder("np-gui-drag");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, path.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    const Vec3 centre = m_window->viewStateModel().cursorLps();
    m_window->addTarget("L4 test", centre);
    const Vec3 entryLps = centre + Vec3{5.0, 10.0, 0.0};
    m_window->placeEntry(entryLps);
    const int stepsBefore = m_window->undoStack().count();

    SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
    m_window->viewStateModel().setCursorLps(entryLps);
    QApplication::processEvents();
    const double dpr = axial->devicePixelRatioF();
    const Vec3 from = axial->scene().displayFromLps(entryLps);
    const QPointF fromPx(from.x / dpr, from.y / dpr);
    const QPointF toPx = fromPx + QPointF(30.0, 12.0);
    test::dragFromTo(axial, fromPx, toPx, 6);
    const Vec3 expectedEnd = axial->scene().lpsFromDisplay(toPx.x() * dpr, toPx.y() * dpr);

    EXPECT_EQ(m_window->undoStack().count(), stepsBefore + 1) << "a drag must be a single undo step";
    ASSERT_TRUE(m_window->planModel().targets()[0].entryLps);
    Vec3 moved = *m_window->planModel().targets()[0].entryLps;
    EXPECT_NEAR(distance(moved, expectedEnd), 0.0, 1e-6);
    // 30 px right and 12 px down on the axial view: toward the patient's left and posterior.
    EXPECT_NEAR(moved.x - entryLps.x, 30.0 * dpr * axial->scene().mmPerPixel(), 1e-6);
    EXPECT_NEAR(moved.y - entryLps.y, 12.0 * dpr * axial->scene().mmPerPixel(), 1e-6);

    m_window->undoStack().undo();
    EXPECT_NEAR(distance(*m_window->planModel().targets()[0].entryLps, entryLps), 0.0, 1e-9);
    m_window->undoStack().redo();
    EXPECT_NEAR(distance(*m_window->planModel().targets()[0].entryLps, expectedEnd), 0.0, 1e-6);
}

} // namespace
} // namespace np::gui

namespace np::gui {
namespace {

TEST_F(Workstation, TrajectoryViewsContainTheNeedleAndFollowTheDepthSlider)
{
    const imaging::Volume volume = smallVolume();
    test::TempDir folder("np-gui-trajectory-views");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, path.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    const Vec3 targetLps = m_window->viewStateModel().cursorLps();
    const Vec3 entryLps = targetLps + Vec3{12.0, 30.0, -9.0};
    m_window->addTarget("oblique", targetLps);
    m_window->placeEntry(entryLps);
    m_window->setLayoutMode(1);
    const Vec3 along = normalized(targetLps - entryLps);
    for (double rotationDeg : {0.0, 35.0, -120.0}) {
        m_window->setTrajectoryViewControls(rotationDeg, 0.25);
        // The along-needle plane contains both ends of the needle.
        const render::SliceScene& needle = m_window->needleView()->scene();
        const Vec3 normal = needle.frame().axes.towardViewerLps;
        EXPECT_NEAR(dot(entryLps - needle.cursorLps(), normal), 0.0, 1e-9) << rotationDeg;
        EXPECT_NEAR(dot(targetLps - needle.cursorLps(), normal), 0.0, 1e-9) << rotationDeg;
        // Screen up points from the tip back to the entry.
        EXPECT_NEAR(dot(needle.frame().axes.upLps, -along), 1.0, 1e-9);
        // The probe looks down the needle, a quarter of the way from the skin entry.
        const render::SliceScene& probe = m_window->probeView()->scene();
        EXPECT_NEAR(dot(probe.frame().axes.towardViewerLps, -along), 1.0, 1e-9);
        EXPECT_NEAR(distance(probe.cursorLps(), entryLps + (targetLps - entryLps) * 0.25), 0.0, 1e-2);
    }
    // Rotating by 90° turns the plane's normal by 90° about the needle.
    m_window->setTrajectoryViewControls(0.0, 1.0);
    const Vec3 normal0 = m_window->needleView()->scene().frame().axes.towardViewerLps;
    m_window->setTrajectoryViewControls(90.0, 1.0);
    const Vec3 normal90 = m_window->needleView()->scene().frame().axes.towardViewerLps;
    EXPECT_NEAR(dot(normal0, normal90), 0.0, 1e-9);
    EXPECT_NEAR(distance(m_window->probeView()->scene().cursorLps(), targetLps), 0.0, 1e-2);
}

} // namespace
} // namespace np::gui

#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/Preset.h"

namespace np::gui {
namespace {

TEST_F(Workstation, PresetChangesNeedleAndRulesInOneUndoStep)
{
    const std::vector<std::string> presets = planning::builtInPresetNames();
    if (presets.empty())
        GTEST_SKIP() << "no built-in presets found in " << planning::presetDirectory();
    const imaging::Volume volume = smallVolume();
    test::TempDir folder("np-gui-preset");
    const auto imagePath = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, imagePath.string());
    imaging::LabelMap labels(volume.geometry());
    labels.segments() = {{"nerve_root_L4_left", 1, {1, 1, 0}}, {"vertebra_L4", 2, {1, 1, 1}}};
    for (std::int64_t k = 3; k < 9; ++k)
        for (std::int64_t j = 5; j < 15; ++j)
            for (std::int64_t i = 6; i < 18; ++i)
                labels.at(i, j, k) = i < 9 ? 1 : 2;
    const auto labelPath = folder.path() / "structures.seg.nrrd";
    imaging::writeSegNrrd(labels, labelPath.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(imagePath.string())));
    m_window->openSegmentation(QString::fromStdString(labelPath.string()));
    ASSERT_TRUE(test::waitUntil([&] { return m_window->structuresModel().rows().size() == 2; }, 20000));
    const std::vector<StructureRow> defaults = m_window->structuresModel().rows();
    const std::string defaultNeedle = m_window->planModel().needleName();

    // Pick a preset whose needle differs from the current one when there is one.
    std::string chosen = presets.front();
    for (const std::string& name : presets)
        if (planning::loadPreset(name).needle != defaultNeedle)
            chosen = name;
    const planning::Preset preset = planning::loadPreset(chosen);
    std::vector<planning::StructureSpec> expected = {planning::defaultStructureSpec("nerve_root_L4_left", 1),
                                                     planning::defaultStructureSpec("vertebra_L4", 2)};
    planning::applyPresetRules(preset, expected);

    const int steps = m_window->undoStack().count();
    m_window->setPreset(QString::fromStdString(chosen));
    EXPECT_EQ(m_window->undoStack().count(), steps + 1);
    EXPECT_EQ(m_window->planModel().needleName(), planning::findNeedle(preset.needle) ? preset.needle : defaultNeedle);
    for (std::size_t r = 0; r < expected.size(); ++r) {
        EXPECT_EQ(m_window->structuresModel().rows()[r].spec.structureClass, expected[r].structureClass);
        EXPECT_DOUBLE_EQ(m_window->structuresModel().rows()[r].spec.marginMm, expected[r].marginMm);
    }
    m_window->undoStack().undo();
    EXPECT_EQ(m_window->planModel().needleName(), defaultNeedle);
    for (std::size_t r = 0; r < defaults.size(); ++r) {
        EXPECT_EQ(m_window->structuresModel().rows()[r].spec.structureClass, defaults[r].spec.structureClass);
        EXPECT_DOUBLE_EQ(m_window->structuresModel().rows()[r].spec.marginMm, defaults[r].spec.marginMm);
    }
}

} // namespace
} // namespace np::gui

namespace np::gui {
namespace {

TEST_F(Workstation, AutosaveIsOfferedForRecoveryAfterACrash)
{
    const imaging::Volume volume = smallVolume();
    test::TempDir folder("np-gui-autosave");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, path.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    const Vec3 targetLps = m_window->viewStateModel().cursorLps() + Vec3{1.5, -2.0, 2.5};
    m_window->addTarget("L5 dorsal ramus right", targetLps);
    m_window->placeEntry(targetLps + Vec3{-10.0, 25.0, 5.0});
    m_window->autosave();
    m_window->planModel().waitForSaves();
    ASSERT_TRUE(QFile::exists(MainWindow::autosavePath()));

    // A crash: the window goes away without closing; the next start offers the plan back.
    m_window->hide();
    m_window->undoStack().setClean();
    auto crashed = std::move(m_window);
    auto next = std::make_unique<MainWindow>();
    next->show();
    QMessageBox* box = nullptr;
    ASSERT_TRUE(test::waitUntil([&] {
        box = next->findChild<QMessageBox*>("recoveryBox");
        return box && box->isVisible();
    }, 60000)) << "no recovery offer";
    bool opened = false, ok = false;
    QObject::connect(next.get(), &MainWindow::planOpened, next.get(), [&](bool success, const QString&) {
        opened = true;
        ok = success;
    });
    box->done(QMessageBox::Yes);
    ASSERT_TRUE(test::waitUntil([&] { return opened; }, 60000));
    EXPECT_TRUE(ok);
    ASSERT_EQ(next->planModel().targets().size(), 1u);
    EXPECT_EQ(next->planModel().targets()[0].name, "L5 dorsal ramus right");
    EXPECT_NEAR(distance(next->planModel().targets()[0].targetLps, targetLps), 0.0, 1e-9);
    ASSERT_TRUE(next->planModel().targets()[0].entryLps);
    EXPECT_FALSE(QFile::exists(MainWindow::autosavePath()));
    next->undoStack().setClean();
    next->close();
    crashed->close();
}

TEST_F(Workstation, TheRecoveryCopysStructuresGoAfterASaveOrANormalCloseAndStayWhileEditsAreUnsaved)
{
    test::TempDir folder("np-gui-autosave-seg");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(smallVolume(), path.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    // Structures on the image's grid (a bone box), as if read with it.
    auto labels = std::make_shared<imaging::LabelMap>(m_window->imageModel().volume()->geometry());
    labels->segments() = {{"vertebra_L4", 1, {0.9, 0.9, 0.8}}};
    for (std::int64_t k = 3; k < 9; ++k)
        for (std::int64_t j = 5; j < 15; ++j)
            for (std::int64_t i = 6; i < 18; ++i)
                labels->at(i, j, k) = 1;
    emit m_window->imageModel().labelsLoaded(labels);
    ASSERT_TRUE(test::waitUntil([&] { return m_window->structuresModel().labels() != nullptr; }, 20000));
    const QString recoveryStructures = MainWindow::autosaveSegmentationPath();
    EXPECT_TRUE(recoveryStructures.endsWith("/autosave.seg.nrrd")) << recoveryStructures.toStdString();
    QFile::remove(recoveryStructures);

    // An unsaved edit: the recovery copy holds the plan and its structures.
    const Vec3 targetLps = m_window->viewStateModel().cursorLps();
    m_window->addTarget("L4 medial branch left", targetLps);
    m_window->autosave();
    m_window->planModel().waitForSaves();
    ASSERT_TRUE(QFile::exists(MainWindow::autosavePath()));
    ASSERT_TRUE(QFile::exists(recoveryStructures));
    // A save that fails leaves the edits unsaved: the copy stays.
    QString error;
    EXPECT_FALSE(m_window->savePlanFile(
        QString::fromStdString((folder.path() / "missing-folder" / "case.needleplan.json").string()), &error));
    EXPECT_FALSE(m_window->undoStack().isClean());
    EXPECT_TRUE(QFile::exists(MainWindow::autosavePath()));
    EXPECT_TRUE(QFile::exists(recoveryStructures));
    // A successful save: the plan and its structures are on disk, the copy goes.
    const auto planPath = folder.path() / "case.needleplan.json";
    ASSERT_TRUE(m_window->savePlanFile(QString::fromStdString(planPath.string()), &error)) << error.toStdString();
    EXPECT_TRUE(std::filesystem::exists(folder.path() / "case.seg.nrrd"));
    EXPECT_FALSE(QFile::exists(MainWindow::autosavePath()));
    EXPECT_FALSE(QFile::exists(recoveryStructures));

    // Another edit, copied again, then a normal close with nothing left unsaved.
    m_window->addTarget("L5 medial branch left", targetLps + Vec3{0.0, 0.0, 5.0});
    m_window->autosave();
    m_window->planModel().waitForSaves();
    ASSERT_TRUE(QFile::exists(recoveryStructures));
    ASSERT_TRUE(m_window->savePlanFile(QString::fromStdString(planPath.string()), &error)) << error.toStdString();
    m_window->addTarget("L3 medial branch left", targetLps + Vec3{0.0, 0.0, -5.0});
    m_window->autosave();
    m_window->planModel().waitForSaves();
    ASSERT_TRUE(QFile::exists(recoveryStructures));
    m_window->undoStack().setClean(); // as after the unsaved-plan question's Discard
    m_window->close();
    EXPECT_FALSE(QFile::exists(MainWindow::autosavePath()));
    EXPECT_FALSE(QFile::exists(recoveryStructures));
    m_window.reset();
}

} // namespace
} // namespace np::gui

#include <QWheelEvent>

namespace np::gui {
namespace {

void sendWheel(QWidget* widget, const QPointF& position, int steps, Qt::KeyboardModifiers modifiers)
{
    QWheelEvent event(position, widget->mapToGlobal(position), QPoint(), QPoint(0, 120 * steps), Qt::NoButton,
                      modifiers, Qt::NoScrollPhase, false);
    QApplication::sendEvent(widget, &event);
    QApplication::processEvents();
}

void sendMouse(QWidget* widget, QEvent::Type type, const QPointF& position, Qt::MouseButton button,
               Qt::MouseButtons buttons)
{
    QMouseEvent event(type, position, widget->mapToGlobal(position), button, buttons, Qt::NoModifier);
    QApplication::sendEvent(widget, &event);
    QApplication::processEvents();
}

TEST_F(Workstation, SliceViewMouseScrollsWindowsZoomsAndMaximises)
{
    const imaging::Volume volume = smallVolume(); // spacing 1.2 x 1.2 x 2.5 mm
    test::TempDir folder("np-gui-mouse");
    const auto path = folder.path() / "box.nrrd";
    imaging::writeVolumeNrrd(volume, path.string());
    ASSERT_TRUE(openAndWait(*m_window, QString::fromStdString(path.string())));
    SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
    const QPointF centre(axial->width() / 2.0, axial->height() / 2.0);

    // Wheel: one notch forward moves one slice (2.5 mm) toward the viewer, i.e. inferior.
    const Vec3 before = m_window->viewStateModel().cursorLps();
    sendWheel(axial, centre, 1, Qt::NoModifier);
    EXPECT_NEAR(m_window->viewStateModel().cursorLps().z - before.z, -2.5, 1e-9);
    sendWheel(axial, centre, -2, Qt::NoModifier);
    EXPECT_NEAR(m_window->viewStateModel().cursorLps().z - before.z, 2.5, 1e-9);
    EXPECT_NEAR(m_window->viewStateModel().cursorLps().x, before.x, 1e-9);

    // Right drag: to the right widens the window, downward lowers the level.
    m_window->viewStateModel().setWindowLevel(400, 40);
    sendMouse(axial, QEvent::MouseButtonPress, centre, Qt::RightButton, Qt::RightButton);
    sendMouse(axial, QEvent::MouseMove, centre + QPointF(40, 30), Qt::NoButton, Qt::RightButton);
    sendMouse(axial, QEvent::MouseButtonRelease, centre + QPointF(40, 30), Qt::RightButton, Qt::NoButton);
    EXPECT_NEAR(m_window->viewStateModel().window(), 400 * std::pow(1.005, 40), 1e-6);
    EXPECT_NEAR(m_window->viewStateModel().level(), 40 - 30 * 1.0, 1e-6);
    EXPECT_NEAR(axial->scene().window(), m_window->viewStateModel().window(), 1e-9);
    m_window->applyWindowPreset("Bone");
    EXPECT_EQ(axial->scene().window(), 2000);
    EXPECT_EQ(axial->scene().level(), 500);

    // Ctrl+wheel zooms about the mouse.
    const double mmPerPixel = axial->scene().mmPerPixel();
    sendWheel(axial, centre + QPointF(-30, 10), 2, Qt::ControlModifier);
    EXPECT_NEAR(axial->scene().mmPerPixel(), mmPerPixel / (1.15 * 1.15), 1e-9);

    // Double click maximises the view; again restores the 2x2 grid.
    QWidget* coronal = m_window->sliceView(SliceOrientation::Coronal);
    ASSERT_TRUE(coronal->isVisible());
    sendMouse(axial, QEvent::MouseButtonDblClick, centre, Qt::LeftButton, Qt::LeftButton);
    EXPECT_FALSE(coronal->isVisible());
    EXPECT_TRUE(axial->isVisible());
    sendMouse(axial, QEvent::MouseButtonDblClick, centre, Qt::LeftButton, Qt::LeftButton);
    EXPECT_TRUE(coronal->isVisible());
}

} // namespace
} // namespace np::gui
