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
#include <QComboBox>
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

    // PNG of the same view: the same display image as the XA's frame wherever the plan (drawn in
    // colour) does not cover it.
    const QString png = m_dir.filePath("drr.png");
    ASSERT_TRUE(exportAndWait(png, {}, &message)) << message.toStdString();
    const QImage picture(png);
    ASSERT_EQ(picture.width(), 512);
    ASSERT_EQ(picture.height(), 512);
    int differing = 0, dark = 0, bright = 0, coloured = 0;
    for (int r = 0; r < 512; ++r)
        for (int c = 0; c < 512; ++c) {
            const QRgb rgb = picture.pixel(c, r);
            if (qRed(rgb) != qGreen(rgb) || qGreen(rgb) != qBlue(rgb)) {
                ++coloured;
                continue;
            }
            const int grey = qGray(rgb);
            differing += std::abs(grey - int(std::lround(image.frame(0)[r * 512 + c]))) > 0;
            dark += grey < 64;
            bright += grey > 192;
        }
    EXPECT_EQ(differing, 0);
    EXPECT_GT(coloured, 20) << "no plan drawn on the PNG";
    EXPECT_LT(coloured, 512 * 512 / 50) << "the plan covers the DRR";
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

TEST_F(DrrExport, PngHasThePlanWhereAHandProjectionPutsIt)
{
    m_panel->findChild<QDoubleSpinBox*>("carmPrimary")->setValue(20.0);
    m_panel->findChild<QDoubleSpinBox*>("carmSecondary")->setValue(-6.0);
    const QString png = m_dir.filePath("plan.png");
    QString message;
    ASSERT_TRUE(exportAndWait(png, {}, &message)) << message.toStdString();
    const QImage picture(png);
    ASSERT_EQ(picture.width(), 512);
    test::HandPinhole hand;
    hand.primaryDeg = 20.0;
    hand.secondaryDeg = -6.0;
    hand.isocenterLps = scene().targetLps;
    const auto pixelAt = [&](const Vec3& pointLps) {
        const auto [column, row] = hand.pixel(pointLps);
        return picture.pixel(static_cast<int>(std::lround(column)), static_cast<int>(std::lround(row)));
    };
    // The target (the isocentre: the centre pixel) in red, the skin entry in green, the needle
    // halfway between them in yellow.
    const QRgb target = pixelAt(scene().targetLps);
    EXPECT_EQ(target, qRgb(255, 70, 70)) << std::hex << target;
    const QRgb entry = pixelAt(scene().entryLps);
    EXPECT_EQ(entry, qRgb(90, 255, 120)) << std::hex << entry;
    // The needle, a line about two pixels wide, covers a pixel next to the midpoint's.
    const auto [midColumn, midRow] = hand.pixel(0.5 * (scene().entryLps + scene().targetLps));
    int needlePixels = 0;
    for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc)
            needlePixels += picture.pixel(static_cast<int>(std::lround(midColumn)) + dc,
                                          static_cast<int>(std::lround(midRow)) + dr) == qRgb(255, 220, 60);
    EXPECT_GE(needlePixels, 2);
    // Far from the plan (60 mm to the patient's right of the target at the isocentre): grey.
    const QRgb far = pixelAt(scene().targetLps + Vec3{-60.0, 0.0, 0.0});
    EXPECT_TRUE(qRed(far) == qGreen(far) && qGreen(far) == qBlue(far)) << std::hex << far;
}

TEST_F(DrrExport, EnhancedXaSweepFromTheDialogLoadsBackFrameByFrame)
{
    // The dialog's format list offers Enhanced XA, and its settings carry it.
    DrrExportDialog dialog(0.0);
    auto* format = dialog.findChild<QComboBox*>("drrExportFormat");
    ASSERT_NE(format, nullptr);
    ASSERT_EQ(format->count(), 3);
    format->setCurrentIndex(1);
    EXPECT_TRUE(dialog.dicom());
    EXPECT_EQ(dialog.settings().dicomKind, imaging::XaDicomKind::EnhancedXa);
    format->setCurrentIndex(2);
    EXPECT_FALSE(dialog.dicom());

    m_panel->findChild<QDoubleSpinBox*>("carmSecondary")->setValue(10.0);
    DrrExportSettings sweep;
    sweep.sweep = true;
    sweep.detectorPixels = 128;
    sweep.sweepFromDeg = -20.0;
    sweep.sweepToDeg = 40.0;
    sweep.sweepFrames = 4;
    sweep.dicomKind = imaging::XaDicomKind::EnhancedXa;
    const QString path = m_dir.filePath("enhanced.dcm");
    QString message;
    ASSERT_TRUE(exportAndWait(path, sweep, &message)) << message.toStdString();
    const imaging::ProjectionImage image = imaging::loadProjectionImage(path.toStdString());
    EXPECT_TRUE(image.enhanced);
    EXPECT_EQ(image.sopClassUid, "1.2.840.10008.5.1.4.1.1.12.1.1");
    ASSERT_EQ(image.frameCount, 4);
    EXPECT_EQ(image.geometry.confidence, imaging::GeometryConfidence::Full);
    EXPECT_EQ(image.geometry.patientPosition, "HFP");
    for (int f = 0; f < 4; ++f) {
        test::HandPinhole hand;
        hand.primaryDeg = -20.0 + 20.0 * f;
        hand.secondaryDeg = 10.0;
        hand.size = 128;
        hand.pitchMm = 300.0 / 128;
        hand.isocenterLps = scene().targetLps;
        EXPECT_LT(worstPixelError(image, f, hand), 0.1) << "frame " << f;
    }
    const test::DciodvfyResult check = test::runDciodvfy(path.toStdString());
    NP_SKIP_UNLESS_DCIODVFY_RAN(check);
    EXPECT_EQ(check.errorCount, 0) << check.errors;
}

} // namespace
} // namespace np::gui
