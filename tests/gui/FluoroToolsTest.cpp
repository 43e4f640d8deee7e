// Fluoroscopy tools of the workstation, driven as the mouse does (tool buttons, clicks on the
// view, check boxes, the dialog's fields and OK): the angle measurement, the epipolar line and the
// two-view point with "Use as target", the CT's DRR beside a cine, and "Register to CT" on an image
// whose header has no geometry. Expected values come from hand pinholes (FluoroTestScene.h) and
// closed forms, not from the C-arm model under test.

#include "FluoroTestScene.h"
#include "GuiTestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/DrrExport.h"
#include "needleplan/gui/FluoroDrrBeside.h"
#include "needleplan/gui/FluoroGeometryDialog.h"
#include "needleplan/gui/FluoroViewWidget.h"
#include "needleplan/gui/FluoroWorkspace.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <algorithm>
#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <random>

namespace np::gui {
namespace {

using imaging::DetectorPixel;

const test::FluoroScene& scene()
{
    return test::fluoroScene();
}

DetectorPixel px(const std::pair<double, double>& p)
{
    return {p.first, p.second};
}

imaging::CArmGeometry makeView(double primaryDeg, double secondaryDeg, int size, double columnPitch,
                               double rowPitch)
{
    imaging::CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.columns = p.rows = size;
    p.columnSpacingMm = columnPitch;
    p.rowSpacingMm = rowPitch;
    p.isocenterLps = scene().targetLps;
    p.patientPosition = "HFP";
    return imaging::CArmGeometry(p); // SID 1000, SOD 750
}

/// A flat grey XA of one view (no rendering needed).
QString writeFlatXa(const QString& path, const imaging::CArmGeometry& view)
{
    const auto& p = view.parameters();
    std::vector<std::uint8_t> frame(static_cast<std::size_t>(p.columns) * p.rows, 100);
    imaging::writeXaImage(path.toStdString(), {view}, {frame});
    return path;
}

/// Normalised cross-correlation of a QImage (grey) with a float frame of the same size.
double correlation(const QImage& image, const float* frame)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    const int n = image.width() * image.height();
    for (int r = 0; r < image.height(); ++r)
        for (int c = 0; c < image.width(); ++c) {
            const double a = qGray(image.pixel(c, r)), b = frame[r * image.width() + c];
            sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
        }
    const double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    return cov / std::sqrt(va * vb);
}

/// Shortest distance between two lines given by two points each (closed form).
double lineGap(const Vec3& a0, const Vec3& a1, const Vec3& b0, const Vec3& b1)
{
    const Vec3 d = a1 - a0, e = b1 - b0, w = b0 - a0;
    const Vec3 n{d.y * e.z - d.z * e.y, d.z * e.x - d.x * e.z, d.x * e.y - d.y * e.x};
    return std::fabs(w.x * n.x + w.y * n.y + w.z * n.z) / std::sqrt(n.x * n.x + n.y * n.y + n.z * n.z);
}

/// Asks the DRR beside for its image and waits until the background render of `frame` is shown.
bool waitForDrrBeside(FluoroDrrBesideModel& model, int frame)
{
    return test::waitUntil(
        [&] {
            model.image();
            return !model.rendering() && model.renderedFrame() == frame && !model.image().isNull();
        },
        60000);
}

/// Centre of the pixels of `image` that satisfy `pick` (NaN when none), and how many there are.
std::pair<QPointF, int> centroidOf(const QImage& image, const std::function<bool(QRgb)>& pick)
{
    double x = 0.0, y = 0.0;
    int count = 0;
    for (int r = 0; r < image.height(); ++r)
        for (int c = 0; c < image.width(); ++c)
            if (pick(image.pixel(c, r))) {
                x += c + 0.5;
                y += r + 0.5;
                ++count;
            }
    if (count == 0)
        return {QPointF(std::nan(""), std::nan("")), 0};
    return {QPointF(x / count, y / count), count};
}

class FluoroTools : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        ASSERT_TRUE(m_dir.isValid());
    }
    QTemporaryDir m_dir;
};

TEST_F(FluoroTools, AngleOfThreeClicksIsMeasuredInTheIsocentrePlane)
{
    // Anisotropic detector: 0.4 mm between columns, 0.2 mm between rows.
    const QString xa = writeFlatXa(m_dir.filePath("angle.dcm"), makeView(20.0, 0.0, 64, 0.4, 0.2));
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    panel.resize(700, 700);
    panel.show();
    QApplication::processEvents();
    panel.findChild<QAbstractButton*>("fluoroToolAngle")->click();
    FluoroViewWidget* v = panel.view();
    // Arms from the vertex (30, 40): 20 columns back, and 10 columns on / 10√3 rows up.
    test::clickAt(v, v->widgetFromPixel({10.0, 40.0}));
    test::clickAt(v, v->widgetFromPixel({30.0, 40.0}));
    EXPECT_FALSE(panel.model().angleDeg()) << "two clicks are no angle yet";
    test::clickAt(v, v->widgetFromPixel({40.0, 40.0 - 10.0 * std::sqrt(3.0)}));
    ASSERT_EQ(panel.model().anglePoints().size(), 3u);
    // In mm (the magnification divides both axes alike): (-8, 0) and (4, -3.4641): 180° - atan(3.4641 / 4)
    // = 139.107°; in pixels it would be 120°.
    ASSERT_TRUE(panel.model().angleDeg());
    EXPECT_NEAR(*panel.model().angleDeg(), 139.107, 0.01);
    EXPECT_TRUE(panel.readoutText().contains("139.1° in the isocentre plane"))
        << panel.readoutText().toStdString();
    // A fourth click starts a new angle; the distance tool keeps working beside it.
    test::clickAt(v, v->widgetFromPixel({5.0, 5.0}));
    EXPECT_EQ(panel.model().anglePoints().size(), 1u);
    panel.findChild<QAbstractButton*>("fluoroToolMeasure")->click();
    test::clickAt(v, v->widgetFromPixel({10.0, 20.0}));
    test::clickAt(v, v->widgetFromPixel({10.0, 30.0}));
    EXPECT_TRUE(panel.readoutText().startsWith("Distance: 1.5 mm")) // 10 rows × 0.2 mm × 750 / 1000
        << panel.readoutText().toStdString();
}

TEST_F(FluoroTools, EpipolarLineRayGapWarningAndUseAsTarget)
{
    const auto owner = test::openScriptedWindow(1500, 950);
    MainWindow& window = *owner;
    window.imageModel().setVolume(scene().ct, QString());
    window.addTarget("L4 medial branch left", scene().targetLps);
    // PA (prone: detector posterior) and left lateral, 1 mm pitch: calibrated, not registered.
    const QString pa = writeFlatXa(m_dir.filePath("pa.dcm"), makeView(180.0, 0.0, 128, 1.0, 1.0));
    const QString lateral = writeFlatXa(m_dir.filePath("lat.dcm"), makeView(90.0, 0.0, 128, 1.0, 1.0));
    int opened = 0;
    QObject listener;
    QObject::connect(&window.fluoro(), &FluoroWorkspace::opened, &listener,
                     [&](bool ok, const QString&) { opened += ok; });
    window.openPath(pa);
    ASSERT_TRUE(test::waitUntil([&] { return opened == 1; }, 30000));
    window.openPath(lateral);
    ASSERT_TRUE(test::waitUntil([&] { return opened == 2; }, 30000));
    FluoroPanel* first = window.fluoro().panel(0);
    FluoroPanel* second = window.fluoro().panel(1);
    test::HandPinhole hand1, hand2;
    hand1.primaryDeg = 180.0;
    hand2.primaryDeg = 90.0;
    hand1.size = hand2.size = 128;
    hand1.pitchMm = hand2.pitchMm = 1.0;
    hand1.isocenterLps = hand2.isocenterLps = scene().targetLps;
    const Vec3 point = scene().targetLps + Vec3{6.0, -4.0, 9.0};

    // First mark (the Point tool, a click on the PA view).
    window.fluoro().tabs()->setCurrentWidget(first);
    QApplication::processEvents();
    first->findChild<QAbstractButton*>("fluoroToolPoint")->click();
    first->model().setZoom(3.0); // image pixels larger than widget pixels
    first->model().setPan(QPointF(first->view()->width() / 2.0, first->view()->height() / 2.0) -
                          first->view()->widgetFromPixel(px(hand1.pixel(point))));
    test::clickAt(first->view(), first->view()->widgetFromPixel(px(hand1.pixel(point))));
    ASSERT_TRUE(first->model().pointMark());
    // The epipolar line in the lateral view: through the point's pixel and through the pixel of
    // another point of the first ray (nearer the PA source, 750 mm anterior of the target).
    const auto& line = second->model().epipolarLine();
    ASSERT_TRUE(line);
    EXPECT_FALSE(first->model().epipolarLine());
    const Vec3 source1 = scene().targetLps - Vec3{0.0, 750.0, 0.0}; // v = (0, 1, 0) for PA
    const Vec3 onRay = point + (source1 - point) * 0.2;
    EXPECT_LT(std::fabs(line->distancePx(px(hand2.pixel(point)))), 0.05);
    EXPECT_LT(std::fabs(line->distancePx(px(hand2.pixel(onRay)))), 0.05);
    EXPECT_FALSE(second->useAsTargetButton()->isEnabled());
    EXPECT_TRUE(first->readoutText().contains("mark the same point on a second view"))
        << first->readoutText().toStdString();

    // Second mark on the point's pixel: the rays meet; the point is the one marked.
    window.fluoro().tabs()->setCurrentWidget(second);
    QApplication::processEvents();
    second->findChild<QAbstractButton*>("fluoroToolPoint")->click();
    second->model().setZoom(3.0);
    second->model().setPan(QPointF(second->view()->width() / 2.0, second->view()->height() / 2.0) -
                           second->view()->widgetFromPixel(px(hand2.pixel(point))));
    test::clickAt(second->view(), second->view()->widgetFromPixel(px(hand2.pixel(point))));
    ASSERT_TRUE(window.fluoro().triangulatedPointLps());
    EXPECT_LT(distance(*window.fluoro().triangulatedPointLps(), point), 0.05);
    EXPECT_TRUE(second->readoutText().contains("the rays pass 0.00 mm apart"))
        << second->readoutText().toStdString();
    EXPECT_FALSE(second->readoutText().contains("WARNING"));
    ASSERT_TRUE(second->useAsTargetButton()->isEnabled());
    second->useAsTargetButton()->click();
    ASSERT_EQ(window.planModel().targets().size(), 2u);
    EXPECT_LT(distance(window.planModel().targets()[1].targetLps, point), 0.05);

    // A second mark 10 rows lower: its ray passes the first one by the closed-form gap (> 2 mm):
    // a warning, and the point cannot be used.
    const auto shifted = hand2.pixel(point);
    test::clickAt(second->view(), second->view()->widgetFromPixel({shifted.first, shifted.second + 10.0}));
    const Vec3 source2 = scene().targetLps - Vec3{750.0, 0.0, 0.0}; // v = (1, 0, 0) for the left lateral
    // The detector point of the shifted pixel: rows run along -z (w = (0, 0, -1)), columns along +y.
    const Vec3 detector2 = source2 + Vec3{1000.0, 0.0, 0.0} +
                           Vec3{0.0, (shifted.first - 63.5) * 1.0, -(shifted.second + 10.0 - 63.5) * 1.0};
    const double expectedGap = lineGap(source1, point, source2, detector2);
    EXPECT_GT(expectedGap, 2.0);
    const QRegularExpressionMatch gap =
        QRegularExpression(R"(the rays pass ([0-9.]+) mm apart)").match(second->readoutText());
    ASSERT_TRUE(gap.hasMatch()) << second->readoutText().toStdString();
    EXPECT_NEAR(gap.captured(1).toDouble(), expectedGap, 0.011);
    EXPECT_TRUE(second->readoutText().contains("WARNING: the ray gap exceeds 2 mm"))
        << second->readoutText().toStdString();
    EXPECT_FALSE(window.fluoro().triangulatedPointLps());
    EXPECT_FALSE(second->useAsTargetButton()->isEnabled());
    window.undoStack().setClean();
    window.close();
}

TEST_F(FluoroTools, DrrBesideACineFollowsTheFrameAtItsHeaderAngles)
{
    // A two-frame cine of the phantom (the CT's own DRRs at LAO 30 and LAO 70, CAU 10).
    const imaging::CArmGeometry start = makeView(30.0, -10.0, 128, 300.0 / 128, 300.0 / 128);
    const QString xa = m_dir.filePath("cine.dcm");
    exportDrr(xa.toStdString(), scene().attenuation, sweepViews(start, 30.0, 70.0, 2), {});
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    panel.resize(1000, 600);
    panel.show();
    BackgroundTask task;
    panel.drrBeside().setCt(scene().ct, &task, [] { return scene().targetLps; });
    panel.findChild<QCheckBox*>("fluoroDrrBeside")->click();
    ASSERT_TRUE(test::waitUntil([&] { return panel.drrBeside().ready(); }, 60000));
    EXPECT_TRUE(panel.findChild<QWidget*>("fluoroDrrBesideView")->isVisible());
    const auto image = panel.model().image();
    for (int frame = 0; frame < 2; ++frame) {
        if (frame == 1)
            panel.findChild<QAbstractButton*>("fluoroStepForward")->click();
        // The view of the DRR: where a hand pinhole at the frame's angles puts 20 points.
        const auto view = panel.drrBeside().headerView(frame);
        ASSERT_TRUE(view);
        test::HandPinhole hand;
        hand.primaryDeg = frame == 0 ? 30.0 : 70.0;
        hand.secondaryDeg = -10.0;
        hand.size = 128;
        hand.pitchMm = 300.0 / 128;
        hand.isocenterLps = scene().targetLps;
        std::mt19937 random(3);
        std::uniform_real_distribution<double> offset(-60.0, 60.0);
        for (int i = 0; i < 20; ++i) {
            const Vec3 p = scene().targetLps + Vec3{offset(random), offset(random), offset(random)};
            const DetectorPixel got = view->project(p);
            const auto expected = hand.pixel(p);
            EXPECT_LT(std::hypot(got.column - expected.first, got.row - expected.second), 0.1)
                << "frame " << frame;
        }
        // The DRR shown is the frame's own image (made from the same CT at the same angles),
        // rendered in the background.
        ASSERT_TRUE(waitForDrrBeside(panel.drrBeside(), frame));
        const QImage drr = panel.drrBeside().image();
        ASSERT_EQ(drr.width(), 128);
        EXPECT_EQ(panel.drrBeside().renderedFrame(), frame);
        EXPECT_GT(correlation(drr, image->frame(frame)), 0.99) << "frame " << frame;
        EXPECT_LT(correlation(drr, image->frame(1 - frame)), 0.97) << "frame " << frame;
        EXPECT_TRUE(panel.drrBeside().caption().contains(frame == 0 ? "LAO 30.0°  CAU 10.0°"
                                                                    : "LAO 70.0°  CAU 10.0°"))
            << panel.drrBeside().caption().toStdString();
    }
    EXPECT_TRUE(panel.drrBeside().caption().contains("not registered"));
}

TEST_F(FluoroTools, DrrBesideDrawsThePlanWhereAHandProjectionPutsIt)
{
    // A fluoroscopy image with full geometry (the CT's own DRR at LAO 25, CRA 8, 256² of 300 mm)
    // beside the phantom CT with the planned L4 path.
    const imaging::CArmGeometry start = makeView(25.0, 8.0, 256, 300.0 / 256, 300.0 / 256);
    const QString xa = m_dir.filePath("view.dcm");
    exportDrr(xa.toStdString(), scene().attenuation, {start}, {});
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    panel.resize(1100, 600);
    panel.show();
    panel.model().setPlan({{scene().entryLps, scene().targetLps, 0.45}}, 0, {scene().targetLps});
    BackgroundTask task;
    panel.drrBeside().setCt(scene().ct, &task, [] { return scene().targetLps; });
    panel.findChild<QCheckBox*>("fluoroDrrBeside")->click();
    ASSERT_TRUE(test::waitUntil([&] { return panel.drrBeside().ready(); }, 60000));
    ASSERT_TRUE(waitForDrrBeside(panel.drrBeside(), 0));
    auto* view = panel.findChild<QWidget*>("fluoroDrrBesideView");
    ASSERT_TRUE(view && view->isVisible());
    const QImage drr = panel.drrBeside().image();
    ASSERT_EQ(drr.width(), 256);
    // Where the hand pinhole puts the target and the entry on the DRR, then on the widget: the DRR
    // is fitted into the view and centred, pixel (c, r) covering [c, c + 1) × [r, r + 1) scaled.
    test::HandPinhole hand;
    hand.primaryDeg = 25.0;
    hand.secondaryDeg = 8.0;
    hand.size = 256;
    hand.pitchMm = 300.0 / 256;
    hand.isocenterLps = scene().targetLps;
    const QImage shown = view->grab().toImage();
    const double scale = std::min(shown.width() / 256.0, shown.height() / 256.0);
    const QPointF topLeft(0.5 * (shown.width() - 256 * scale), 0.5 * (shown.height() - 256 * scale));
    const auto onWidget = [&](const Vec3& pointLps) {
        const auto [column, row] = hand.pixel(pointLps);
        return topLeft + QPointF((column + 0.5) * scale, (row + 0.5) * scale);
    };
    // The target ring (red) and the entry ring (green) are centred on the hand projections.
    const auto [target, targetPixels] = centroidOf(shown, [](QRgb c) { return c == qRgb(255, 70, 70); });
    ASSERT_GT(targetPixels, 10) << "no target drawn";
    const QPointF expectedTarget = onWidget(scene().targetLps);
    EXPECT_LT(std::hypot(target.x() - expectedTarget.x(), target.y() - expectedTarget.y()), 1.0)
        << target.x() << "," << target.y() << " expected " << expectedTarget.x() << "," << expectedTarget.y();
    const auto [entry, entryPixels] = centroidOf(shown, [](QRgb c) { return c == qRgb(90, 255, 120); });
    ASSERT_GT(entryPixels, 10) << "no entry drawn";
    const QPointF expectedEntry = onWidget(scene().entryLps);
    EXPECT_LT(std::hypot(entry.x() - expectedEntry.x(), entry.y() - expectedEntry.y()), 1.0)
        << entry.x() << "," << entry.y() << " expected " << expectedEntry.x() << "," << expectedEntry.y();
    // Every needle pixel (yellow) lies within its half-width plus half a depth tick (4 px) and a
    // pixel of the segment between the hand-projected entry and target, and the needle is there.
    const QPointF a = expectedEntry, b = expectedTarget;
    const QPointF d = b - a;
    const double length = std::hypot(d.x(), d.y());
    int needlePixels = 0, strays = 0;
    for (int r = 0; r < shown.height(); ++r)
        for (int c = 0; c < shown.width(); ++c) {
            if (shown.pixel(c, r) != qRgb(255, 220, 60))
                continue;
            ++needlePixels;
            const QPointF p(c + 0.5, r + 0.5);
            const double t =
                std::clamp(((p - a).x() * d.x() + (p - a).y() * d.y()) / (length * length), 0.0, 1.0);
            const QPointF q = a + t * d;
            strays += std::hypot(p.x() - q.x(), p.y() - q.y()) > 4.0 + 2.0 + 1.0;
        }
    // A one-pixel line covers at least 0.7 of its length in pixels (one per step along its longer axis).
    EXPECT_GT(needlePixels, 0.7 * length) << "the needle is not drawn along its length";
    EXPECT_EQ(strays, 0);
    // Hiding the plan hides it beside too.
    panel.model().setOverlayVisible(false);
    ASSERT_TRUE(waitForDrrBeside(panel.drrBeside(), 0));
    const QImage hidden = view->grab().toImage();
    EXPECT_EQ(centroidOf(hidden, [](QRgb c) { return c == qRgb(255, 70, 70); }).second, 0);
}

TEST_F(FluoroTools, DrrBesideRendersInTheBackgroundAndDropsAResultForAFrameNoLongerShown)
{
    // A three-frame cine at LAO 10, 50, 90.
    const imaging::CArmGeometry start = makeView(10.0, 0.0, 256, 300.0 / 256, 300.0 / 256);
    const QString xa = m_dir.filePath("cine.dcm");
    exportDrr(xa.toStdString(), scene().attenuation, sweepViews(start, 10.0, 90.0, 3), {});
    FluoroPanel panel(
        std::make_shared<imaging::ProjectionImage>(imaging::loadProjectionImage(xa.toStdString())));
    panel.resize(1000, 600);
    panel.show();
    BackgroundTask task;
    panel.drrBeside().setCt(scene().ct, &task, [] { return scene().targetLps; });
    panel.findChild<QCheckBox*>("fluoroDrrBeside")->click();
    ASSERT_TRUE(test::waitUntil([&] { return panel.drrBeside().ready(); }, 60000));
    const auto image = panel.model().image();
    FluoroDrrBesideModel& beside = panel.drrBeside();
    std::vector<int> shownFrames;
    QObject listener;
    QObject::connect(&beside, &FluoroDrrBesideModel::changed, &listener, [&] {
        if (shownFrames.empty() || shownFrames.back() != beside.renderedFrame())
            shownFrames.push_back(beside.renderedFrame());
    });
    // On frame 1, asking for the image starts a render (or one is running) and returns at once.
    panel.findChild<QAbstractButton*>("fluoroStepForward")->click();
    beside.image();
    EXPECT_TRUE(beside.rendering());
    // The frame changes before that render can report (its result reaches the GUI thread only
    // through the event loop, which has not run since): it is dropped, never shown.
    panel.findChild<QAbstractButton*>("fluoroStepForward")->click();
    ASSERT_EQ(panel.model().frameIndex(), 2);
    ASSERT_TRUE(waitForDrrBeside(beside, 2));
    EXPECT_GE(beside.staleResults(), 1);
    for (int frame : shownFrames)
        EXPECT_NE(frame, 1) << "the DRR of a frame no longer shown was shown";
    const QImage drr = beside.image();
    EXPECT_GT(correlation(drr, image->frame(2)), 0.99);
    EXPECT_LT(correlation(drr, image->frame(0)), 0.97);
}

TEST_F(FluoroTools, RegisterAnImageWithoutGeometryAsksForItAndSaysHowItIsUsed)
{
    if (QStandardPaths::findExecutable("dcmodify").isEmpty())
        GTEST_SKIP() << "dcmodify (dcmtk) is not installed: cannot strip the geometry from the fixture";
    // Simulated fluoroscopy at PA (prone), then the angles and distances removed: confidence none.
    const imaging::CArmGeometry pa = makeView(180.0, 0.0, 512, 300.0 / 512, 300.0 / 512);
    phantom::FluoroSimulationOptions o;
    o.seed = 5;
    const imaging::FluoroFrame frame = phantom::simulateFluoroscopy(scene().attenuation, pa, {}, o);
    std::vector<std::uint8_t> bytes(frame.pixels.size());
    for (std::size_t k = 0; k < bytes.size(); ++k)
        bytes[k] = static_cast<std::uint8_t>(std::clamp(std::lround(frame.pixels[k]), 0L, 255L));
    const QString xa = m_dir.filePath("bare.dcm");
    imaging::writeXaImage(xa.toStdString(), {pa}, {bytes});
    ASSERT_EQ(QProcess::execute("dcmodify", {"-nb", "-imt", "-e", "(0018,1510)", "-e", "(0018,1511)", "-e",
                                             "(0018,1110)", "-e", "(0018,1111)", "-e", "(0018,1114)", xa}),
              0);

    const auto owner = test::openScriptedWindow(1500, 950);
    MainWindow& window = *owner;
    window.imageModel().setVolume(scene().ct, QString());
    window.addTarget("L4 medial branch left", scene().targetLps);
    bool opened = false;
    QObject listener;
    QObject::connect(&window.fluoro(), &FluoroWorkspace::opened, &listener,
                     [&](bool, const QString&) { opened = true; });
    window.openPath(xa);
    ASSERT_TRUE(test::waitUntil([&] { return opened; }, 30000));
    FluoroPanel* panel = window.fluoro().panel(0);
    ASSERT_EQ(panel->model().image()->geometry.confidence, imaging::GeometryConfidence::None);

    panel->registerButton()->click();
    auto* dialog = panel->findChild<FluoroGeometryDialog*>("fluoroGeometryDialog");
    ASSERT_NE(dialog, nullptr);
    ASSERT_TRUE(test::waitUntil([&] { return dialog->isVisible(); }, 5000));
    EXPECT_TRUE(dialog->findChild<QLabel*>("geometryMode")->text().contains("no free-distance mode"));
    auto field = [&](const char* name) { return dialog->findChild<QDoubleSpinBox*>(name); };
    // What the header has (the pitch) is shown, not asked; what it lacks is asked with defaults.
    EXPECT_FALSE(field("geometryPixelSpacing")->isEnabled());
    EXPECT_TRUE(field("geometrySid")->isEnabled());
    EXPECT_NEAR(field("geometrySid")->value(), 1000.0, 1e-9);
    EXPECT_NEAR(field("geometrySod")->value(), 750.0, 1e-9);
    QPushButton* ok = dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok);
    // Out of physical bounds: the isocentre beyond the detector.
    field("geometrySod")->setValue(1200.0);
    EXPECT_FALSE(ok->isEnabled());
    EXPECT_TRUE(dialog->findChild<QLabel*>("geometryProblem")->text().contains("SOD"));
    field("geometrySod")->setValue(750.0);
    field("geometryPrimary")->setValue(180.0);
    EXPECT_TRUE(ok->isEnabled());

    bool finished = false, registered = false;
    QObject::connect(&window.fluoro(), &FluoroWorkspace::registrationFinished, &listener,
                     [&](bool r, const QString&) {
                         finished = true;
                         registered = r;
                     });
    ok->click();
    const QString corner = panel->model().cornerText().join("\n");
    EXPECT_TRUE(corner.contains("user-given")) << corner.toStdString();
    EXPECT_TRUE(corner.contains("DistanceSourceToPatient (0018,1111) = 750.00 mm")) << corner.toStdString();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    ASSERT_TRUE(registered) << panel->readoutText().toStdString();
    // The plan lands where the hand pinhole of the true view puts it.
    test::HandPinhole hand;
    hand.primaryDeg = 180.0;
    hand.isocenterLps = scene().targetLps;
    const auto projection = panel->model().projectionForFrame(0);
    ASSERT_TRUE(projection);
    for (const Vec3& p : {scene().targetLps, scene().entryLps}) {
        const DetectorPixel got = projection->project(p);
        const auto expected = hand.pixel(p);
        EXPECT_LT(std::hypot(got.column - expected.first, got.row - expected.second), 1.0);
    }
    window.undoStack().setClean();
    window.close();
}

} // namespace
} // namespace np::gui
