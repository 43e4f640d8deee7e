// The fluoroscopy view of the workstation, driven as the mouse does: an XA made from the lumbar
// phantom at a known C-arm pose (simulated fluoroscopy) opens beside the CT, registers, shows the
// plan, and a click on the needle tip is read against the planned path. Expected pixels come from
// a pinhole computed here from SID, SOD, the detector pitch and the positioner angles (DICOM PS3.3
// C.8.7.5 directions), not from the C-arm model under test.

#include "FluoroTestScene.h"
#include "GuiTestSupport.h"
#include "needleplan/gui/FluoroGeometry.h"
#include "needleplan/gui/FluoroViewWidget.h"
#include "needleplan/gui/FluoroWorkspace.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/VirtualCArmPanel.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include <QAbstractButton>
#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <cmath>
#include <gtest/gtest.h>
#include <memory>

namespace np::gui {
namespace {

using imaging::DetectorPixel;

constexpr double kPi = 3.14159265358979323846;
constexpr double kSid = 1000.0;
constexpr double kSod = 750.0;
constexpr int kSize = 512;
constexpr double kPitch = 300.0 / 512; // detector mm per pixel

/// The phantom, its attenuation volume, the target and the entry: generated once per test run
/// and shared by the test processes (FluoroTestScene.h).
const test::FluoroScene& scene()
{
    return test::fluoroScene();
}

/// Pinhole by hand: detector direction v from the angles, source SOD before the isocentre, the
/// detector plane SID from the source; heads-up axes u (columns) and w (rows); then the stored
/// image's rotation (clockwise as displayed) and horizontal flip.
DetectorPixel handPixel(const Vec3& pointLps, double primaryDeg, double secondaryDeg, const Vec3& isoLps,
                        int rotationDeg = 0, bool flip = false)
{
    const double a = primaryDeg * kPi / 180.0, b = secondaryDeg * kPi / 180.0;
    const Vec3 v{std::sin(a) * std::cos(b), -std::cos(a) * std::cos(b), std::sin(b)};
    const Vec3 u{std::cos(a), std::sin(a), 0.0};
    const Vec3 w{std::sin(a) * std::sin(b), -std::cos(a) * std::sin(b), -std::cos(b)};
    const Vec3 source = isoLps - v * kSod;
    const double lambda = kSid / dot(pointLps - source, v);
    const Vec3 onDetector = source + (pointLps - source) * lambda; // detector centre: source + SID v
    const Vec3 fromCentre = onDetector - (source + v * kSid);
    const double c0 = 0.5 * (kSize - 1);
    double x = dot(fromCentre, u) / kPitch, y = dot(fromCentre, w) / kPitch; // from the centre
    for (int r = 0; r < rotationDeg; r += 90) { // clockwise on screen (rows down): (x, y) -> (-y, x)
        const double t = x;
        x = -y;
        y = t;
    }
    if (flip)
        x = -x;
    return {c0 + x, c0 + y};
}

imaging::CArmGeometry view(double primaryDeg, double secondaryDeg, int rotationDeg = 0, bool flip = false)
{
    imaging::CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.sourceToDetectorMm = kSid;
    p.sourceToIsocenterMm = kSod;
    p.columns = p.rows = kSize;
    p.columnSpacingMm = p.rowSpacingMm = kPitch;
    p.isocenterLps = scene().targetLps;
    p.patientPosition = "HFP";
    p.imageRotationDeg = rotationDeg;
    p.horizontalFlip = flip;
    return imaging::CArmGeometry(p);
}

/// Simulated fluoroscopy (noise, blur, collimation, text, a needle to the target) of each view,
/// written as one XA.
QString writeSimulatedXa(const QString& path, const std::vector<imaging::CArmGeometry>& views)
{
    std::vector<std::vector<std::uint8_t>> frames;
    for (std::size_t i = 0; i < views.size(); ++i) {
        phantom::FluoroSimulationOptions o;
        o.seed = 11 + static_cast<std::uint32_t>(i);
        o.needleLps = std::make_pair(scene().entryLps, scene().targetLps);
        const imaging::FluoroFrame frame = phantom::simulateFluoroscopy(scene().attenuation, views[i], {}, o);
        std::vector<std::uint8_t> bytes(frame.pixels.size());
        for (std::size_t k = 0; k < bytes.size(); ++k)
            bytes[k] = static_cast<std::uint8_t>(std::clamp(std::lround(frame.pixels[k]), 0L, 255L));
        frames.push_back(std::move(bytes));
    }
    imaging::XaWriteOptions options;
    options.frameTimeMs = 66.7;
    imaging::writeXaImage(path.toStdString(), views, frames, options);
    return path;
}

/// Numbers in the readout: the lateral offset is the first "X mm across".
double acrossMm(const QString& text)
{
    const QRegularExpressionMatch m = QRegularExpression(R"(([0-9.]+) mm across)").match(text);
    return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
}

class FluoroView : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        ASSERT_TRUE(m_dir.isValid());
        scene();
    }
    QTemporaryDir m_dir;
};

TEST_F(FluoroView, ProjectionOpensBesideTheCtRegistersAndReadsTheTipAgainstThePlan)
{
    QFile::remove(MainWindow::autosavePath());
    MainWindow window;
    window.setScriptedMode(true);
    window.resize(1500, 950);
    window.show();
    window.imageModel().setVolume(scene().ct, QString());
    window.addTarget("L4 medial branch left", scene().targetLps);
    window.placeEntry(scene().entryLps);
    ASSERT_EQ(window.planModel().targets().size(), 1u);
    const auto ctBefore = window.imageModel().volume();

    // A two-frame cine: PA (prone, detector posterior) and 10° further toward LAO.
    const QString xa = writeSimulatedXa(m_dir.filePath("run.dcm"), {view(180.0, 0.0), view(-170.0, 0.0)});
    bool opened = false, ok = false;
    QObject listener;
    QObject::connect(&window.fluoro(), &FluoroWorkspace::opened, &listener,
                     [&](bool success, const QString&) {
                         opened = true;
                         ok = success;
                     });
    window.openPath(xa); // what File > Open and a drop do
    ASSERT_TRUE(test::waitUntil([&] { return opened; }, 30000));
    ASSERT_TRUE(ok);
    // The CT and the plan stay; the projection is a tab beside the CT views.
    EXPECT_EQ(window.imageModel().volume(), ctBefore);
    ASSERT_EQ(window.planModel().targets().size(), 1u);
    EXPECT_TRUE(window.planModel().targets()[0].entryLps.has_value());
    ASSERT_EQ(window.fluoro().count(), 1);
    ASSERT_NE(window.fluoro().tabs(), nullptr);
    EXPECT_EQ(window.fluoro().tabs()->count(), 2);
    FluoroPanel* panel = window.fluoro().panel(0);
    EXPECT_EQ(window.fluoro().tabs()->currentWidget(), panel);
    FluoroModel& model = panel->model();
    EXPECT_EQ(model.frameCount(), 2);
    const QString corner = model.cornerText().join("\n");
    EXPECT_TRUE(corner.contains("LAO 180.0°")) << corner.toStdString();
    EXPECT_TRUE(corner.contains("SID 1000 mm  SOD 750 mm")) << corner.toStdString();
    EXPECT_TRUE(corner.contains("geometry: full")) << corner.toStdString();

    // Before registration nothing of the plan is drawn.
    EXPECT_FALSE(model.projectionForFrame(0));
    bool finished = false, registered = false;
    QObject::connect(&window.fluoro(), &FluoroWorkspace::registrationFinished, &listener,
                     [&](bool r, const QString&) {
                         finished = true;
                         registered = r;
                     });
    panel->registerButton()->click();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    ASSERT_TRUE(registered) << panel->readoutText().toStdString();
    EXPECT_TRUE(panel->readoutText().contains("Registered to the CT")) << panel->readoutText().toStdString();

    // The projected target and entry land where the hand pinhole puts them, in both frames.
    const Vec3 iso = scene().targetLps;
    for (int frame = 0; frame < 2; ++frame) {
        const double primary = frame == 0 ? 180.0 : -170.0;
        const auto projection = model.projectionForFrame(frame);
        ASSERT_TRUE(projection);
        for (const Vec3& point : {scene().targetLps, scene().entryLps}) {
            const DetectorPixel expected = handPixel(point, primary, 0.0, iso);
            const DetectorPixel got = projection->project(point);
            EXPECT_LT(std::hypot(got.column - expected.column, got.row - expected.row), 1.0)
                << "frame " << frame << ": (" << got.column << ", " << got.row << ") vs (" << expected.column
                << ", " << expected.row << ")";
        }
    }
    // The target is drawn (red crosshair) around its hand-computed pixel.
    FluoroViewWidget* viewWidget = panel->view();
    const DetectorPixel targetPx = handPixel(scene().targetLps, 180.0, 0.0, iso);
    const QImage shot = viewWidget->grab().toImage();
    const QPointF at = viewWidget->widgetFromPixel(targetPx) * viewWidget->devicePixelRatioF();
    int red = 0;
    for (int dy = -8; dy <= 8; ++dy)
        for (int dx = -8; dx <= 8; ++dx) {
            const QColor c = shot.pixelColor(int(at.x()) + dx, int(at.y()) + dy);
            red += c.red() > 200 && c.green() < 120 && c.blue() < 120;
        }
    EXPECT_GT(red, 10) << "no target mark drawn at its pixel";

    // Needle tip: a click on the target reads ~0 mm across the path; a click 10 px across the
    // projected path reads 10 × the pitch at the isocentre (pitch × SOD / SID).
    panel->findChild<QAbstractButton*>("fluoroToolTip")->click();
    model.setZoom(2.0); // image pixels larger than widget pixels: clicks land within half a pixel
    const QPointF centre = viewWidget->widgetFromPixel(targetPx);
    model.setPan(QPointF(viewWidget->width() / 2.0, viewWidget->height() / 2.0) - centre);
    QApplication::processEvents();
    test::clickAt(viewWidget, viewWidget->widgetFromPixel(targetPx));
    ASSERT_TRUE(model.tipReadout());
    EXPECT_LT(model.tipReadout()->lateralOffsetMm, 0.5);
    EXPECT_LT(acrossMm(panel->readoutText()), 0.6) << panel->readoutText().toStdString();
    const DetectorPixel entryPx = handPixel(scene().entryLps, 180.0, 0.0, iso);
    const double dc = entryPx.column - targetPx.column, dr = entryPx.row - targetPx.row;
    const double length = std::hypot(dc, dr);
    const int k = 10;
    const DetectorPixel offsetPx{targetPx.column - dr / length * k, targetPx.row + dc / length * k};
    test::clickAt(viewWidget, viewWidget->widgetFromPixel(offsetPx));
    const double expectedMm = k * kPitch * kSod / kSid; // 4.39 mm
    ASSERT_TRUE(model.tipReadout());
    EXPECT_NEAR(model.tipReadout()->lateralOffsetMm, expectedMm, 0.4);
    EXPECT_NEAR(acrossMm(panel->readoutText()), expectedMm, 0.45) << panel->readoutText().toStdString();
    window.undoStack().setClean();
    window.close();
}

TEST_F(FluoroView, RotatedAndFlippedDetectorStillPutsThePlanOnItsPixel)
{
    const QString xa = writeSimulatedXa(m_dir.filePath("rotated.dcm"), {view(180.0, 10.0, 90, true)});
    auto image = std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString()));
    ASSERT_EQ(image->frameView(0, scene().targetLps).parameters().imageRotationDeg, 90);
    ASSERT_TRUE(image->frameView(0, scene().targetLps).parameters().horizontalFlip);
    FluoroPanel panel(image);
    BackgroundTask task;
    bool finished = false, registered = false;
    QObject::connect(&panel.model(), &FluoroModel::registrationFinished, [&](bool r, const QString&) {
        finished = true;
        registered = r;
    });
    QString error;
    ASSERT_TRUE(panel.model().registerToCt(scene().ct, scene().targetLps, task, &error))
        << error.toStdString();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    ASSERT_TRUE(registered);
    const auto projection = panel.model().projectionForFrame(0);
    ASSERT_TRUE(projection);
    const DetectorPixel expected = handPixel(scene().entryLps, 180.0, 10.0, scene().targetLps, 90, true);
    const DetectorPixel got = projection->project(scene().entryLps);
    EXPECT_LT(std::hypot(got.column - expected.column, got.row - expected.row), 1.0)
        << "(" << got.column << ", " << got.row << ") vs (" << expected.column << ", " << expected.row << ")";
}

TEST_F(FluoroView, AFrameTurnedUpsideDownIsNotRegisteredAndThePlanIsNotDrawn)
{
    // The frame as a wrongly displayed image would come: turned upside down.
    phantom::FluoroSimulationOptions o;
    o.flipVertically = true;
    const imaging::CArmGeometry pa = view(180.0, 0.0);
    const imaging::FluoroFrame frame = phantom::simulateFluoroscopy(scene().attenuation, pa, {}, o);
    std::vector<std::uint8_t> bytes(frame.pixels.size());
    for (std::size_t k = 0; k < bytes.size(); ++k)
        bytes[k] = static_cast<std::uint8_t>(std::clamp(std::lround(frame.pixels[k]), 0L, 255L));
    const QString xa = m_dir.filePath("upside-down.dcm");
    imaging::writeXaImage(xa.toStdString(), {pa}, {bytes});
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    panel.model().setPlan({{scene().entryLps, scene().targetLps, 0.45}}, 0, {scene().targetLps});
    BackgroundTask task;
    bool finished = false, registered = true;
    QObject::connect(&panel.model(), &FluoroModel::registrationFinished, [&](bool r, const QString&) {
        finished = true;
        registered = r;
    });
    ASSERT_TRUE(panel.model().registerToCt(scene().ct, scene().targetLps, task));
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    EXPECT_FALSE(registered);
    EXPECT_FALSE(panel.model().projectionForFrame(0)) << "a failed verdict must not place the plan";
    const QString corner = panel.model().cornerText().join("\n");
    EXPECT_TRUE(corner.contains("NOT registered")) << corner.toStdString();
    EXPECT_TRUE(corner.contains("The plan is not drawn.")) << corner.toStdString();
    // A tip mark says it cannot be compared.
    panel.model().setTool(FluoroTool::NeedleTip);
    panel.model().clickPixel({255.5, 255.5});
    EXPECT_FALSE(panel.model().tipReadout());
}

/// A small XA of flat frames (no rendering needed) for display and cine checks.
QString writeFlatXa(const QString& path, int frames, double frameTimeMs)
{
    std::vector<imaging::CArmGeometry> views;
    std::vector<std::vector<std::uint8_t>> pixels;
    for (int f = 0; f < frames; ++f) {
        imaging::CArmParameters p;
        p.primaryDeg = 20.0 + 5.0 * f;
        p.secondaryDeg = -10.0;
        p.columns = p.rows = 64;
        p.columnSpacingMm = p.rowSpacingMm = 0.4;
        views.emplace_back(p);
        std::vector<std::uint8_t> frame(64 * 64);
        for (int r = 0; r < 64; ++r)
            for (int c = 0; c < 64; ++c)
                frame[r * 64 + c] = static_cast<std::uint8_t>(c < 32 ? 30 : 220);
        pixels.push_back(std::move(frame));
    }
    imaging::XaWriteOptions options;
    options.frameTimeMs = frameTimeMs;
    imaging::writeXaImage(path.toStdString(), views, pixels, options);
    return path;
}

TEST_F(FluoroView, CineAdvancesAtTheFrameTimeAndLoops)
{
    const QString xa = writeFlatXa(m_dir.filePath("cine.dcm"), 4, 40.0);
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    FluoroModel& model = panel.model();
    ASSERT_EQ(model.frameCount(), 4);
    EXPECT_EQ(model.frameIntervalMs(), 40);
    std::vector<std::pair<int, qint64>> changes;
    QElapsedTimer clock;
    QObject::connect(&model, &FluoroModel::frameChanged, [&](int index) {
        changes.push_back({index, clock.elapsed()});
    });
    clock.start();
    panel.findChild<QAbstractButton*>("fluoroPlay")->click();
    ASSERT_TRUE(test::waitUntil([&] { return changes.size() >= 6; }, 5000));
    panel.findChild<QAbstractButton*>("fluoroPlay")->click(); // pause
    EXPECT_FALSE(model.playing());
    // Frames 1, 2, 3, then 0 again (loop), never faster than the frame time.
    EXPECT_EQ(changes[0].first, 1);
    EXPECT_EQ(changes[2].first, 3);
    EXPECT_EQ(changes[3].first, 0);
    const double meanGap = double(changes[5].second - changes[0].second) / 5.0;
    EXPECT_GE(meanGap, 36.0);
    EXPECT_LT(meanGap, 200.0);
    // Corner text follows the frame: per-frame angles of the cine.
    model.setFrame(2);
    EXPECT_TRUE(model.cornerText().join("\n").contains("LAO 30.0°  CAU 10.0°"))
        << model.cornerText().join("\n").toStdString();
    // Steps, and no loop: stops at the last frame.
    panel.findChild<QAbstractButton*>("fluoroStepForward")->click();
    EXPECT_EQ(model.frameIndex(), 3);
    panel.findChild<QAbstractButton*>("fluoroLoop")->click();
    panel.findChild<QAbstractButton*>("fluoroStepForward")->click();
    EXPECT_EQ(model.frameIndex(), 3);
    panel.findChild<QAbstractButton*>("fluoroStepBack")->click();
    EXPECT_EQ(model.frameIndex(), 2);
}

TEST_F(FluoroView, Monochrome1IsShownInvertedAndDistancesSayTheirCalibration)
{
    const QString xa = writeFlatXa(m_dir.filePath("mono1.dcm"), 1, 100.0);
    if (QStandardPaths::findExecutable("dcmodify").isEmpty())
        GTEST_SKIP() << "dcmodify (dcmtk) is not installed: cannot write the MONOCHROME1 fixture";
    ASSERT_EQ(QProcess::execute("dcmodify", {"-nb", "-m", "(0028,0004)=MONOCHROME1", xa}), 0);
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    FluoroModel& model = panel.model();
    ASSERT_TRUE(model.image()->monochrome1);
    // Stored 30 on the left, 220 on the right: as MONOCHROME1, the left must be the brighter.
    QImage shown = model.frameImage();
    EXPECT_GT(qGray(shown.pixel(10, 10)), qGray(shown.pixel(50, 10)) + 100);
    // Invert (the button) turns it back.
    panel.findChild<QAbstractButton*>("fluoroInvert")->click();
    shown = model.frameImage();
    EXPECT_LT(qGray(shown.pixel(10, 10)), qGray(shown.pixel(50, 10)) - 100);

    // A 40-pixel distance, clicked: 40 × 0.4 mm / (SID / SOD) at the isocentre.
    panel.resize(600, 600);
    panel.show();
    QApplication::processEvents();
    panel.findChild<QAbstractButton*>("fluoroToolMeasure")->click();
    FluoroViewWidget* v = panel.view();
    test::clickAt(v, v->widgetFromPixel({10.0, 20.0}));
    test::clickAt(v, v->widgetFromPixel({50.0, 20.0}));
    ASSERT_EQ(model.measurePoints().size(), 2u);
    const double expected = 40 * 0.4 * 750.0 / 1000.0; // writeXaImage's defaults: SID 1000, SOD 750
    const QString text = model.measurementText();
    EXPECT_TRUE(text.contains(QString::number(expected, 'f', 1) + " mm at the isocentre"))
        << text.toStdString();
    EXPECT_TRUE(text.contains("magnification")) << text.toStdString();

    // Without ImagerPixelSpacing there is no calibration: pixels.
    ASSERT_EQ(QProcess::execute("dcmodify", {"-nb", "-imt", "-e", "(0018,1164)", "-e", "(0028,0030)", xa}),
              0);
    FluoroPanel uncalibrated(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    uncalibrated.model().setTool(FluoroTool::Measure);
    uncalibrated.model().clickPixel({10.0, 20.0});
    uncalibrated.model().clickPixel({50.0, 20.0});
    EXPECT_TRUE(uncalibrated.model().measurementText().startsWith("40.0 px"))
        << uncalibrated.model().measurementText().toStdString();
    EXPECT_TRUE(uncalibrated.model().cornerText().join("\n").contains("missing"));
}

TEST_F(FluoroView, VirtualCArmPresetsDragAndDegreesFromTheBullseyeView)
{
    VirtualCArmPanel panel;
    panel.resize(700, 700);
    panel.show();
    BackgroundTask task;
    VirtualCArmModel& model = panel.model();
    model.setPlan({{scene().entryLps, scene().targetLps, 0.45}}, 0, {scene().targetLps});
    model.setCt(scene().ct, task);
    ASSERT_TRUE(test::waitUntil([&] { return model.ready(); }, 60000));
    // AP of a prone patient: the detector posterior, (0, 1, 0): primary 180, secondary 0.
    EXPECT_NEAR(std::fabs(model.primaryDeg()), 180.0, 1e-9);
    EXPECT_NEAR(model.secondaryDeg(), 0.0, 1e-9);
    // The bull's-eye detector direction is entry - target = (25, 60, 10): acos(60 / |.|) away.
    const double expected = std::acos(60.0 / std::sqrt(25.0 * 25 + 60.0 * 60 + 10.0 * 10)) * 180.0 / kPi;
    ASSERT_TRUE(model.degreesFromBullseye());
    EXPECT_NEAR(*model.degreesFromBullseye(), expected, 0.05);
    EXPECT_TRUE(panel.readoutText().contains(QString::number(expected, 'f', 1) + "° from the bull's-eye"))
        << panel.readoutText().toStdString();
    // Bull's-eye preset: 0°, and the entry projects onto the target.
    panel.findChild<QAbstractButton*>("carmBullsEye")->click();
    EXPECT_LT(*model.degreesFromBullseye(), 0.05);
    const imaging::ProjectionMatrix p = model.view().projectionMatrix();
    const DetectorPixel t = p.project(scene().targetLps), e = p.project(scene().entryLps);
    EXPECT_LT(std::hypot(t.column - e.column, t.row - e.row), 1.0);
    // Progression: perpendicular to the needle.
    panel.findChild<QAbstractButton*>("carmProgression")->click();
    EXPECT_NEAR(*model.degreesFromBullseye(), 90.0, 0.05);
    // Dragging turns the C-arm, coarse (128²) while dragging, full (384²) on release.
    panel.findChild<QAbstractButton*>("carmAP")->click();
    std::vector<int> widthsWhileCoarse;
    QObject::connect(&model, &VirtualCArmModel::changed, [&] {
        if (model.coarse())
            widthsWhileCoarse.push_back(model.image().width());
    });
    VirtualCArmView* v = panel.view();
    test::dragFromTo(v, QPointF(200, 300), QPointF(240, 300), 4);
    ASSERT_FALSE(widthsWhileCoarse.empty());
    EXPECT_EQ(widthsWhileCoarse.back(), 128);
    EXPECT_FALSE(model.coarse());
    EXPECT_EQ(model.image().width(), 384);
    EXPECT_NEAR(model.primaryDeg(), -160.0, 1e-6); // 180 + 0.5°/px × 40 px, wrapped
    // The target is drawn (red) where it projects.
    const QImage shot = v->grab().toImage();
    const QPointF at = v->widgetFromPixel(model.view().project(scene().targetLps)) * v->devicePixelRatioF();
    int red = 0;
    for (int dy = -8; dy <= 8; ++dy)
        for (int dx = -8; dx <= 8; ++dx) {
            const QColor c = shot.pixelColor(int(at.x()) + dx, int(at.y()) + dy);
            red += c.red() > 200 && c.green() < 120 && c.blue() < 120;
        }
    EXPECT_GT(red, 10);
}

TEST(FluoroGeometry, TipReadoutsAgainstHandGeometry)
{
    // Path along -y (posterior to anterior) 60 mm to a target at the origin; a PA-like view.
    const PlannedPath path{Vec3{0, 60, 0}, Vec3{0, 0, 0}, 0.45};
    imaging::CArmParameters p;
    p.primaryDeg = 90.0; // lateral: the beam runs along +x, across the path
    p.sourceToDetectorMm = 1000.0;
    p.sourceToIsocenterMm = 750.0;
    p.columns = p.rows = 512;
    const imaging::CArmGeometry lateral(p);
    // A ray through the point 3 mm caudal of the path at depth 20 mm: 3 mm across, depth 20.
    const Vec3 source = lateral.sourceLps();
    const Vec3 aim{0, 40, -3};
    const TipRayReadout ray = tipRayReadout({source, normalized(aim - source)}, path, 2.0);
    EXPECT_NEAR(ray.lateralOffsetMm, 3.0 * 750.0 / 750.0, 0.05); // the ray crosses x = 0 at the point
    EXPECT_NEAR(ray.depthAtClosestMm, 20.0, 0.1);
    EXPECT_TRUE(ray.missesPath); // 3 mm > the 2 mm tolerance
    const TipRayReadout onPath = tipRayReadout({source, normalized(Vec3{0, 40, 0} - source)}, path, 2.0);
    EXPECT_NEAR(onPath.lateralOffsetMm, 0.0, 1e-9);
    // Ray perpendicular to the path: the depth range is ±tolerance.
    EXPECT_NEAR(onPath.depthMaxMm - onPath.depthMinMm, 4.0, 0.05);
    // Bull's-eye: a ray along the path says the depth cannot be read.
    const TipRayReadout bullseye = tipRayReadout({Vec3{1, 500, 0}, Vec3{0, -1, 0}}, path);
    EXPECT_TRUE(bullseye.depthUndetermined);
    EXPECT_NEAR(bullseye.lateralOffsetMm, 1.0, 1e-9);

    // Two views 90° apart: a tip 4 mm short of the target and 3 mm across (along z).
    p.primaryDeg = 0.0;
    p.secondaryDeg = 0.0;
    const imaging::CArmGeometry ap(p);
    const Vec3 tip{0, 4, 3};
    const TipPointReadout point = tipPointReadout(ap.projectionMatrix(), ap.project(tip),
                                                  lateral.projectionMatrix(), lateral.project(tip), path);
    EXPECT_NEAR(point.errorToTargetMm, 5.0, 1e-3);
    EXPECT_NEAR(point.alongPathMm, -4.0, 1e-3);
    EXPECT_NEAR(point.acrossPathMm, 3.0, 1e-3);
    EXPECT_LT(point.rayGapMm, 1e-3);

    // The needle drawn at its diameter: 0.9 mm × SID / (distance from the source) wide.
    const ProjectedPath drawn = projectPath(lateral.projectionMatrix(), path);
    const double expectedPx = 0.9 * 1000.0 / 750.0 / (300.0 / 512);
    EXPECT_NEAR(drawn.needleWidthPx, expectedPx, 0.01);
    EXPECT_EQ(drawn.depthTicks.size(), 6u); // 10, 20, ..., 60 mm
}

} // namespace
} // namespace np::gui
