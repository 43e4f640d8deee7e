// Export of the virtual C-arm's DRR, driven through the panel's export slot (what the dialog's OK
// calls) and its Cancel button: the XA loads back with the project's projection-image loader and
// projects 20 points where a pinhole worked out by hand from the written angles, SID, SOD and
// pitch puts them (within 0.1 px); dciodvfy finds no error; a sweep is one multi-frame XA with
// per-frame angles; a cancelled sweep leaves no file.

#include "needleplan/gui/DrrExport.h"

#include "FluoroTestScene.h"
#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/VirtualCArmPanel.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <QAbstractButton>
#include <QApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QImage>
#include <QPushButton>
#include <QTemporaryDir>
#include <cmath>
#include <gtest/gtest.h>
#include <random>

namespace np::gui {
namespace {

const test::FluoroScene& scene()
{
    return test::fluoroScene();
}

/// 20 points up to 60 mm around the target (fixed seed).
std::vector<Vec3> pointsAroundTarget()
{
    std::mt19937 random(7);
    std::uniform_real_distribution<double> offset(-60.0, 60.0);
    std::vector<Vec3> points;
    for (int i = 0; i < 20; ++i)
        points.push_back(scene().targetLps + Vec3{offset(random), offset(random), offset(random)});
    return points;
}

/// Largest distance (px) between where the loaded frame's view and the hand pinhole project the points.
double worstPixelError(const imaging::ProjectionImage& image, int frame, const test::HandPinhole& hand)
{
    const imaging::ProjectionMatrix p = image.frameView(frame, scene().targetLps).projectionMatrix();
    double worst = 0.0;
    for (const Vec3& point : pointsAroundTarget()) {
        const auto expected = hand.pixel(point);
        const imaging::DetectorPixel got = p.project(point);
        worst = std::max(worst, std::hypot(got.column - expected.first, got.row - expected.second));
    }
    return worst;
}

class DrrExport : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        ASSERT_TRUE(m_dir.isValid());
        m_panel = std::make_unique<VirtualCArmPanel>();
        m_panel->resize(700, 700);
        m_panel->show();
        VirtualCArmModel& model = m_panel->model();
        model.setPlan({{scene().entryLps, scene().targetLps, 0.45}}, 0, {scene().targetLps});
        model.setCt(scene().ct, m_task);
        ASSERT_TRUE(test::waitUntil([&] { return model.ready(); }, 60000));
    }

    /// Runs the export slot and waits for its verdict.
    bool exportAndWait(const QString& path, const DrrExportSettings& settings, QString* message)
    {
        bool finished = false, ok = false;
        QObject listener;
        QObject::connect(m_panel->exportBar(), &DrrExportBar::finished, &listener,
                         [&](bool success, const QString& text) {
                             finished = true;
                             ok = success;
                             *message = text;
                         });
        QString error;
        if (!m_panel->exportBar()->exportTo(path, settings, &error)) {
            *message = error;
            return false;
        }
        EXPECT_TRUE(test::waitUntil([&] { return finished; }, 120000));
        return ok;
    }

    QTemporaryDir m_dir;
    BackgroundTask m_task;
    std::unique_ptr<VirtualCArmPanel> m_panel;
};

TEST_F(DrrExport, XaAndPngLoadBackWithTheGeometryOfTheView)
{
    QString message;
    // A wrong extension is refused, naming the file.
    EXPECT_FALSE(exportAndWait(m_dir.filePath("drr.jpg"), {}, &message));
    EXPECT_TRUE(message.contains("drr.jpg")) << message.toStdString();
    EXPECT_FALSE(QFile::exists(m_dir.filePath("drr.jpg")));

    // The C-arm turned with its spin boxes, as the user does: LAO 35, CRA 12.
    m_panel->findChild<QDoubleSpinBox*>("carmPrimary")->setValue(35.0);
    m_panel->findChild<QDoubleSpinBox*>("carmSecondary")->setValue(12.0);
    ASSERT_NEAR(m_panel->model().primaryDeg(), 35.0, 1e-9);
    const QString xa = m_dir.filePath("drr.dcm");
    ASSERT_TRUE(exportAndWait(xa, {}, &message)) << message.toStdString();
    EXPECT_TRUE(message.contains("drr.dcm")) << message.toStdString();

    const imaging::ProjectionImage image = imaging::loadProjectionImage(xa.toStdString());
    EXPECT_EQ(image.modality, "XA");
    EXPECT_EQ(image.frameCount, 1);
    EXPECT_EQ(image.columns, 512);
    EXPECT_EQ(image.rows, 512);
    EXPECT_EQ(image.geometry.confidence, imaging::GeometryConfidence::Full);
    EXPECT_EQ(image.geometry.patientPosition, "HFP");
    EXPECT_FALSE(image.geometry.patientOrientation.empty());
    test::HandPinhole hand;
    hand.primaryDeg = 35.0;
    hand.secondaryDeg = 12.0;
    hand.isocenterLps = scene().targetLps;
    EXPECT_LT(worstPixelError(image, 0, hand), 0.1);

    const test::DciodvfyResult check = test::runDciodvfy(xa.toStdString());
    NP_SKIP_UNLESS_DCIODVFY_RAN(check);
    EXPECT_EQ(check.errorCount, 0) << check.errors;

    // PNG of the same view: the same display image as the XA's frame.
    const QString png = m_dir.filePath("drr.png");
    ASSERT_TRUE(exportAndWait(png, {}, &message)) << message.toStdString();
    const QImage picture(png);
    ASSERT_EQ(picture.width(), 512);
    ASSERT_EQ(picture.height(), 512);
    int differing = 0, dark = 0, bright = 0;
    for (int r = 0; r < 512; ++r)
        for (int c = 0; c < 512; ++c) {
            const int grey = qGray(picture.pixel(c, r));
            differing += std::abs(grey - int(std::lround(image.frame(0)[r * 512 + c]))) > 0;
            dark += grey < 64;
            bright += grey > 192;
        }
    EXPECT_EQ(differing, 0);
    EXPECT_GT(dark, 1000) << "no dense matter in the exported DRR";
    EXPECT_GT(bright, 1000) << "no air in the exported DRR";
    EXPECT_EQ(QDir(m_dir.path()).entryList(QDir::Files).size(), 2) << "left-over temporary files";
}

TEST_F(DrrExport, SweepIsOneMultiFrameXaAndACancelledSweepWritesNothing)
{
    m_panel->findChild<QDoubleSpinBox*>("carmSecondary")->setValue(-8.0);
    DrrExportSettings sweep;
    sweep.sweep = true;
    sweep.detectorPixels = 256;
    sweep.sweepFromDeg = 140.0; // through 180: 140, 160, 180, -160, -140
    sweep.sweepToDeg = 220.0;
    sweep.sweepFrames = 5;
    sweep.frameTimeMs = 50.0;
    const QString xa = m_dir.filePath("sweep.dcm");
    QString message;
    ASSERT_TRUE(exportAndWait(xa, sweep, &message)) << message.toStdString();
    EXPECT_TRUE(message.contains("5 frames")) << message.toStdString();
    const imaging::ProjectionImage image = imaging::loadProjectionImage(xa.toStdString());
    ASSERT_EQ(image.frameCount, 5);
    EXPECT_EQ(image.columns, 256);
    EXPECT_NEAR(image.frameTimeMs, 50.0, 1e-6);
    EXPECT_EQ(image.geometry.confidence, imaging::GeometryConfidence::Full);
    for (int f = 0; f < 5; ++f) {
        test::HandPinhole hand;
        hand.primaryDeg = 140.0 + 20.0 * f;
        hand.secondaryDeg = -8.0;
        hand.size = 256;
        hand.pitchMm = 300.0 / 256;
        hand.isocenterLps = scene().targetLps;
        EXPECT_LT(worstPixelError(image, f, hand), 0.1) << "frame " << f;
    }
    const test::DciodvfyResult check = test::runDciodvfy(xa.toStdString());
    if (check.ran)
        EXPECT_EQ(check.errorCount, 0) << check.errors;
    else
        std::cout << "dciodvfy (dicom3tools) is not installed: the sweep's conformance is not checked\n";

    // A long sweep, cancelled with the Cancel button: nothing is written.
    const QString cancelled = m_dir.filePath("cancelled.dcm");
    DrrExportSettings longSweep = sweep;
    longSweep.detectorPixels = 512;
    longSweep.sweepFrames = 720;
    bool finished = false, ok = true;
    QObject listener;
    QObject::connect(m_panel->exportBar(), &DrrExportBar::finished, &listener,
                     [&](bool success, const QString& text) {
                         finished = true;
                         ok = success;
                         message = text;
                     });
    ASSERT_TRUE(m_panel->exportBar()->exportTo(cancelled, longSweep));
    auto* cancel = m_panel->findChild<QPushButton*>("carmExportCancel");
    ASSERT_TRUE(cancel && cancel->isVisible());
    test::waitUntil([] { return false; }, 200); // a few frames rendered
    cancel->click();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 30000));
    EXPECT_FALSE(ok);
    EXPECT_TRUE(message.contains("cancelled")) << message.toStdString();
    EXPECT_FALSE(QFile::exists(cancelled));
    EXPECT_EQ(QDir(m_dir.path()).entryList(QDir::Files), QStringList{"sweep.dcm"}) << "left-over files";
    EXPECT_FALSE(cancel->isVisible());
}

} // namespace
} // namespace np::gui
