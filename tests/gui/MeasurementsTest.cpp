// Measurements on slice views: distance, angle and an HU ellipse with mean and SD, kept in the
// plan (saved and opened with it), deletable, each addition and deletion one undo step.

#include "needleplan/gui/Measurements.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/PlanDocument.h"

#include <QApplication>
#include <QFile>
#include <QListWidget>
#include <QPushButton>
#include <cmath>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace np::gui {
namespace {

using render::SliceOrientation;

planning::Measurement make(const std::string& kind, std::vector<Vec3> points)
{
    return {kind, std::move(points)};
}

TEST(Measurements, DistanceAndAngleFromClosedForms)
{
    EXPECT_DOUBLE_EQ(measurementDistanceMm(make("distance", {{1, 2, 3}, {4, 6, 3}})), 5.0);
    EXPECT_NEAR(measurementAngleDeg(make("angle", {{10, 0, 0}, {0, 0, 0}, {0, 3, 0}})), 90.0, 1e-12);
    EXPECT_NEAR(measurementAngleDeg(make("angle", {{2, 0, 1}, {0, 0, 1}, {5, 5, 1}})), 45.0, 1e-12);
    EXPECT_EQ(measurementText(nullptr, make("distance", {{0, 0, 0}, {0, 0, 42.25}})), "Distance 42.3 mm");
    EXPECT_EQ(measurementSegments(make("angle", {{1, 0, 0}, {0, 0, 0}, {0, 1, 0}})).size(), 2u);
}

// HU ellipse on a linear field f = 2·x (HU per mm) over an oblique, anisotropic grid: over an
// ellipse with semi-axis a along x, the mean is f at the centre and the SD is 2·a/2 (the variance
// of x over a uniform ellipse is a²/4); the area is π·a·b.
TEST(Measurements, EllipseMeanAndSdOfALinearField)
{
    imaging::Geometry g;
    g.size = {60, 50, 30};
    g.spacing = {0.8, 0.9, 1.5};
    g.originLps = {-24.0, -22.0, -20.0};
    const double c = std::cos(0.2), s = std::sin(0.2);
    g.directionLps = imaging::directionFromOrientation({c, s, 0.0}, {-s, c, 0.0});
    imaging::Volume volume(g);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                volume.at(i, j, k) = static_cast<float>(
                    2.0 *
                    g.lpsFromIjk({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)}).x);
    const Vec3 centre = g.lpsFromIjk({30.0, 25.0, 15.0});
    const planning::Measurement ellipse =
        make("ellipse", {centre, centre + Vec3{8, 0, 0}, centre + Vec3{3, 5, 0}});
    const RegionStats stats = measurementRegionStats(volume, ellipse);
    EXPECT_GT(stats.samples, 1000);
    EXPECT_NEAR(stats.meanHu, 2.0 * centre.x, 0.05);
    EXPECT_NEAR(stats.sdHu, 8.0, 0.1);
    EXPECT_NEAR(stats.areaMm2, std::acos(-1.0) * 8.0 * 5.0, 1e-9);
    EXPECT_TRUE(measurementText(&volume, ellipse).startsWith("Ellipse mean"));
}

TEST(Measurements, PlanFilesKeepThemAndRefuseMalformedOnes)
{
    planning::Plan plan;
    plan.needle = *planning::findNeedle("22G-90mm");
    plan.measurements = {make("distance", {{0, 0, 0}, {1, 2, 3}}),
                         make("ellipse", {{0, 0, 0}, {5, 0, 0}, {0, 4, 0}})};
    const planning::Plan back = planning::planFromJson(planning::planToJson(plan), "test.json");
    ASSERT_EQ(back.measurements.size(), 2u);
    EXPECT_EQ(back.measurements[1].kind, "ellipse");
    EXPECT_EQ(back.measurements[1].pointsLps[2], (Vec3{0, 4, 0}));
    nlohmann::json bad = planning::planToJson(plan);
    bad["measurements"][0]["kind"] = "volume";
    EXPECT_THROW(planning::planFromJson(bad, "bad.json"), Error);
    bad = planning::planToJson(plan);
    bad["measurements"][0]["pointsLps"].erase(1);
    try {
        planning::planFromJson(bad, "bad.json");
        FAIL() << "one point for a distance was accepted";
    } catch (const Error& error) {
        EXPECT_NE(std::string(error.what()).find("bad.json"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("needs 2 points"), std::string::npos) << error.what();
    }
    // Plans of earlier versions have no measurements.
    bad = planning::planToJson(plan);
    bad.erase("measurements");
    EXPECT_TRUE(planning::planFromJson(bad, "old.json").measurements.empty());
}

class MeasurementsOnSlices : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = test::openScriptedWindow(1400, 900);
        ASSERT_TRUE(m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable());
        imaging::Geometry g;
        g.size = {30, 28, 16};
        g.spacing = {1.2, 1.2, 2.5};
        g.originLps = {-18.0, -16.8, -20.0};
        imaging::Volume volume(g, 40.0f);
        const auto path = m_folder.path() / "flat.nrrd";
        imaging::writeVolumeNrrd(volume, path.string());
        bool finished = false;
        QObject listener;
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener, [&] { finished = true; });
        m_window->openPath(QString::fromStdString(path.string()));
        ASSERT_TRUE(test::waitUntil([&] { return finished && !m_window->task().busy(); }, 60000));
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    void clickAxial(const Vec3& pointLps)
    {
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(pointLps);
        test::clickAt(axial, QPointF(display.x / dpr, display.y / dpr));
    }
    test::TempDir m_folder{"np-gui-measure"};
    std::unique_ptr<MainWindow> m_window;
};

TEST_F(MeasurementsOnSlices, ClicksMeasureAndTheListDeletesAndUndoRestores)
{
    const Vec3 centre = m_window->viewStateModel().cursorLps();
    auto* distance = m_window->findChild<QPushButton*>("measureDistanceButton");
    auto* ellipse = m_window->findChild<QPushButton*>("measureHUellipseButton");
    auto* list = m_window->findChild<QListWidget*>("measurementsList");
    auto* remove = m_window->findChild<QPushButton*>("deleteMeasurementButton");
    ASSERT_TRUE(distance && ellipse && list && remove);
    distance->click();
    clickAxial(centre);
    EXPECT_TRUE(m_window->planModel().measurements().empty()) << "one click is not a distance yet";
    clickAxial(centre + Vec3{12.0, 0.0, 0.0});
    PlanModel& plan = m_window->planModel();
    ASSERT_EQ(plan.measurements().size(), 1u);
    const double mmPerPixel = m_window->sliceView(SliceOrientation::Axial)->scene().mmPerPixel() *
                              m_window->sliceView(SliceOrientation::Axial)->devicePixelRatioF();
    EXPECT_NEAR(measurementDistanceMm(plan.measurements()[0]), 12.0, 2.0 * mmPerPixel);
    ASSERT_EQ(list->count(), 1);
    EXPECT_TRUE(list->item(0)->text().startsWith("Distance")) << list->item(0)->text().toStdString();
    EXPECT_EQ(m_window->viewStateModel().pickMode(), PickMode::Navigate);

    // An ellipse on the uniform 40 HU image: mean 40, SD 0.
    ellipse->click();
    clickAxial(centre);
    clickAxial(centre + Vec3{6.0, 0.0, 0.0});
    clickAxial(centre + Vec3{0.0, 4.0, 0.0});
    ASSERT_EQ(plan.measurements().size(), 2u);
    EXPECT_EQ(list->item(1)->text().left(29), "Ellipse mean 40 HU, SD 0 HU (");
    // In the saved plan.
    const planning::Plan document = plan.toDocument();
    ASSERT_EQ(document.measurements.size(), 2u);
    EXPECT_EQ(document.measurements[1].kind, "ellipse");

    list->setCurrentRow(0);
    remove->click();
    ASSERT_EQ(plan.measurements().size(), 1u);
    EXPECT_EQ(plan.measurements()[0].kind, "ellipse");
    m_window->undoStack().undo();
    ASSERT_EQ(plan.measurements().size(), 2u);
    EXPECT_EQ(plan.measurements()[0].kind, "distance");
    m_window->undoStack().undo();
    EXPECT_EQ(plan.measurements().size(), 1u);
}

} // namespace
} // namespace np::gui
