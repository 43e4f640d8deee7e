// What every viewer has: window/level typed in and the usual presets, thick-slab MIP on the slice
// views, and volume rendering in the 3D view (CPU ray casting, so it works under Mesa/Xvfb).

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/render/ImageCapture.h"
#include "needleplan/render/ModelScene.h"
#include "needleplan/render/SliceGeometry.h"

#include <QAction>
#include <QApplication>
#include <QDoubleSpinBox>
#include <QFile>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

// The MIP of a slab: a bright voxel 3 mm above the slice is in a 10 mm slab (and gives its full
// value at its own pixel), not in a 4 mm one, nor in the thin slice.
TEST(SlabMip, MaximumOverTheSlabThicknessAroundTheSlice)
{
    imaging::Geometry g;
    g.size = {21, 21, 21};
    g.spacing = {1.0, 1.0, 1.0};
    imaging::Volume volume(g, 0.0f);
    volume.at(10, 10, 13) = 1000.0f; // 3 mm superior of the centre
    render::PlaneFrame frame;
    frame.axes = render::standardAxes(SliceOrientation::Axial);
    frame.centreLps = g.lpsFromIjk({10.0, 10.0, 10.0});
    const render::SliceGrid grid = render::sliceGridFor(g, frame);
    const double w = 0.0; // the slice through the centre
    auto valueAt = [&](const std::vector<float>& pixels, const Vec3& pointLps) {
        const Vec3 uvw = frame.planeFromLps(pointLps);
        const int a = static_cast<int>(std::lround((uvw.x - grid.originU) / grid.pixelMm));
        const int b = static_cast<int>(std::lround((uvw.y - grid.originV) / grid.pixelMm));
        return pixels[static_cast<std::size_t>(b) * grid.width + a];
    };
    const Vec3 bright = g.lpsFromIjk({10.0, 10.0, 13.0});
    const Vec3 beside = g.lpsFromIjk({4.0, 10.0, 13.0});
    const double sign =
        dot(frame.axes.towardViewerLps, Vec3{0, 0, 1}); // + when superior is toward the viewer
    ASSERT_NEAR(std::abs(sign), 1.0, 1e-12);
    const std::vector<float> thin = render::resliceVolumeMip(volume, frame, grid, w, 0.0, 1.0, -1000.0f);
    const std::vector<float> slab4 = render::resliceVolumeMip(volume, frame, grid, w, 4.0, 1.0, -1000.0f);
    const std::vector<float> slab10 = render::resliceVolumeMip(volume, frame, grid, w, 10.0, 1.0, -1000.0f);
    EXPECT_FLOAT_EQ(valueAt(thin, bright), 0.0f);
    EXPECT_FLOAT_EQ(valueAt(slab4, bright), 0.0f) << "3 mm away is outside a 4 mm slab (±2 mm)";
    EXPECT_FLOAT_EQ(valueAt(slab10, bright), 1000.0f) << "a sample lands on the voxel (w = ±3 mm)";
    EXPECT_FLOAT_EQ(valueAt(slab10, beside), 0.0f);
    // The slab follows the slice: centred 3 mm up (toward the voxel), a thin slice sees it.
    EXPECT_FLOAT_EQ(
        valueAt(render::resliceVolumeMip(volume, frame, grid, 3.0 * sign, 0.0, 1.0, -1000.0f), bright),
        1000.0f);
}

/// A bright box (400 HU) in air, 1.2 × 1.2 × 2.5 mm voxels.
imaging::Volume boxVolume()
{
    imaging::Geometry g;
    g.size = {30, 28, 16};
    g.spacing = {1.2, 1.2, 2.5};
    g.originLps = {-18.0, -16.8, -20.0};
    imaging::Volume volume(g, -1000.0f);
    for (std::int64_t k = 4; k < 12; ++k)
        for (std::int64_t j = 7; j < 21; ++j)
            for (std::int64_t i = 8; i < 22; ++i)
                volume.at(i, j, k) = 400.0f;
    return volume;
}

class ViewerTools : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath());
        m_window = std::make_unique<MainWindow>();
        m_window->setScriptedMode(true);
        m_window->resize(1400, 900);
        m_window->show();
        ASSERT_TRUE(test::waitUntil(
            [&] {
                return m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable() &&
                       m_window->modelView()->isRenderingAvailable();
            },
            20000));
        const auto path = m_folder.path() / "box.nrrd";
        imaging::writeVolumeNrrd(boxVolume(), path.string());
        bool finished = false;
        QObject listener;
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener, [&] { finished = true; });
        m_window->openPath(QString::fromStdString(path.string()));
        ASSERT_TRUE(test::waitUntil([&] { return finished && !m_window->task().busy(); }, 60000));
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->close();
            m_window.reset();
        }
    }
    test::TempDir m_folder{"np-gui-viewer"};
    std::unique_ptr<MainWindow> m_window;
};

TEST_F(ViewerTools, WindowAndLevelAreTypedInAndFollowPresets)
{
    ViewStateModel& view = m_window->viewStateModel();
    QStringList names;
    for (const WindowPreset& preset : ViewStateModel::windowPresets())
        names << preset.name;
    for (const char* wanted : {"Lung", "Brain", "Abdomen", "Bone", "Soft tissue", "Spine"})
        EXPECT_TRUE(names.contains(wanted)) << wanted;
    auto* windowSpin = m_window->findChild<QDoubleSpinBox*>("windowSpin");
    auto* levelSpin = m_window->findChild<QDoubleSpinBox*>("levelSpin");
    ASSERT_NE(windowSpin, nullptr);
    ASSERT_NE(levelSpin, nullptr);
    windowSpin->setValue(523.0);
    levelSpin->setValue(-77.0);
    EXPECT_EQ(view.window(), 523.0);
    EXPECT_EQ(view.level(), -77.0);
    EXPECT_EQ(m_window->sliceView(SliceOrientation::Axial)->scene().window(), 523.0);
    EXPECT_EQ(m_window->sliceView(SliceOrientation::Axial)->scene().level(), -77.0);
    ASSERT_TRUE(view.applyWindowPreset("Lung"));
    EXPECT_EQ(windowSpin->value(), 1500.0);
    EXPECT_EQ(levelSpin->value(), -600.0);
    ASSERT_TRUE(view.applyWindowPreset("Brain"));
    EXPECT_EQ(windowSpin->value(), 80.0);
    EXPECT_EQ(levelSpin->value(), 40.0);
}

TEST_F(ViewerTools, SlabThicknessReachesTheStandardViewsOnly)
{
    auto* slabSpin = m_window->findChild<QDoubleSpinBox*>("slabSpin");
    ASSERT_NE(slabSpin, nullptr);
    slabSpin->setValue(15.0);
    EXPECT_EQ(m_window->viewStateModel().slabThicknessMm(), 15.0);
    for (SliceOrientation o :
         {SliceOrientation::Axial, SliceOrientation::Coronal, SliceOrientation::Sagittal})
        EXPECT_EQ(m_window->sliceView(o)->scene().slabThicknessMm(), 15.0);
    EXPECT_EQ(m_window->needleView()->scene().slabThicknessMm(), 0.0) << "the trajectory views stay thin";
    slabSpin->setValue(0.0);
    EXPECT_EQ(m_window->sliceView(SliceOrientation::Axial)->scene().slabThicknessMm(), 0.0);
}

// Volume rendering in 3D: the box appears where nothing was drawn before (no surfaces exist).
TEST_F(ViewerTools, VolumeRenderingShowsTheCtIn3D)
{
    ModelViewWidget* model = m_window->modelView();
    model->scene().resetCamera();
    const render::RgbImage before = model->captureVtkImage();
    auto* action = m_window->findChild<QAction*>("volumeRenderingAction");
    ASSERT_NE(action, nullptr);
    action->setChecked(true);
    ASSERT_TRUE(model->scene().volumeRenderingShown());
    model->scene().resetCamera();
    const render::RgbImage after = model->captureVtkImage();
    ASSERT_EQ(before.width, after.width);
    ASSERT_GT(after.width, 50);
    int changed = 0;
    for (int y = 0; y < after.height; ++y)
        for (int x = 0; x < after.width; ++x) {
            const std::uint8_t* p = after.pixel(x, y);
            const std::uint8_t* q = before.pixel(x, y);
            changed += std::abs(p[0] - q[0]) + std::abs(p[1] - q[1]) + std::abs(p[2] - q[2]) > 30 ? 1 : 0;
        }
    EXPECT_GT(changed, after.width * after.height / 50) << "the volume is not visible";
    action->setChecked(false);
    EXPECT_FALSE(model->scene().volumeRenderingShown());
}

} // namespace
} // namespace np::gui
