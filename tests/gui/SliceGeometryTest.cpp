// Display geometry of the slice views: radiological axes, letters, reslicing in LPS on oblique,
// anisotropic and prone grids, slice steps and picking. No display needed.

#include <gtest/gtest.h>

#include <cmath>

#include "needleplan/render/SliceGeometry.h"
#include "needleplan/render/SliceScene.h"

namespace np::render {
namespace {

constexpr double kPi = 3.14159265358979323846;

void expectVec(const Vec3& actual, const Vec3& expected, double tolerance = 1e-12)
{
    EXPECT_NEAR(actual.x, expected.x, tolerance);
    EXPECT_NEAR(actual.y, expected.y, tolerance);
    EXPECT_NEAR(actual.z, expected.z, tolerance);
}

/// Geometry rotated by `angle` about z, with anisotropic spacing.
imaging::Geometry obliqueGeometry(double angle)
{
    imaging::Geometry g;
    g.size = {20, 24, 16};
    g.spacing = {0.7, 1.3, 2.0};
    g.originLps = {-5.0, 3.0, 10.0};
    g.directionLps = Mat3::fromColumns({std::cos(angle), std::sin(angle), 0}, {-std::sin(angle), std::cos(angle), 0},
                                       {0, 0, 1});
    return g;
}

double linearField(const Vec3& p) { return 2.0 * p.x - 3.0 * p.y + 0.5 * p.z + 7.0; }

TEST(SliceGeometry, DegenerateInputsGiveEmptyOrNeutralResults)
{
    EXPECT_EQ(niceScaleLengthMm(0.0), 0.0);
    EXPECT_EQ(niceScaleLengthMm(-3.0), 0.0);
    EXPECT_EQ(niceScaleLengthMm(std::nan("")), 0.0);
    EXPECT_EQ(directionLetters({0, 0, 0}), "");
    imaging::Volume empty;
    PlaneFrame frame;
    SliceGrid grid;
    grid.width = 3;
    grid.height = 2;
    const std::vector<float> pixels = resliceVolume(empty, frame, grid, 0.0, -5.0f);
    ASSERT_EQ(pixels.size(), 6u);
    for (float v : pixels)
        EXPECT_EQ(v, -5.0f);
}

TEST(SliceGeometry, StandardViewsFollowTheRadiologicalConvention)
{
    const SliceAxes axial = standardAxes(SliceOrientation::Axial);
    expectVec(axial.rightLps, {1, 0, 0});         // patient left on screen right
    expectVec(axial.upLps, {0, -1, 0});           // anterior up
    expectVec(axial.towardViewerLps, {0, 0, -1}); // seen from the feet
    const SliceAxes coronal = standardAxes(SliceOrientation::Coronal);
    expectVec(coronal.rightLps, {1, 0, 0});
    expectVec(coronal.upLps, {0, 0, 1});
    expectVec(coronal.towardViewerLps, {0, -1, 0}); // seen from the front
    const SliceAxes sagittal = standardAxes(SliceOrientation::Sagittal);
    expectVec(sagittal.rightLps, {0, 1, 0});         // posterior on screen right
    expectVec(sagittal.upLps, {0, 0, 1});
    expectVec(sagittal.towardViewerLps, {1, 0, 0}); // seen from the patient's left
}

TEST(SliceGeometry, LettersNameTheDominantAndObliqueAxes)
{
    EXPECT_EQ(directionLetters({1, 0, 0}), "L");
    EXPECT_EQ(directionLetters({-1, 0, 0}), "R");
    EXPECT_EQ(directionLetters({0, -1, 0}), "A");
    EXPECT_EQ(directionLetters({0, 1, 0}), "P");
    EXPECT_EQ(directionLetters({0, 0, 1}), "S");
    EXPECT_EQ(directionLetters({0, 0, -1}), "I");
    EXPECT_EQ(directionLetters(normalized({1, 0.9, 0})), "LP");
    EXPECT_EQ(directionLetters(normalized({-0.9, 0.1, 0})), "R"); // 6° off: not called oblique
}

TEST(SliceGeometry, AxesFromRightUpAreOrthonormalAndRightHanded)
{
    const SliceAxes axes = axesFromRightUp({2, 0, 0}, {1, 1, 0});
    expectVec(axes.rightLps, {1, 0, 0});
    expectVec(axes.upLps, {0, 1, 0});
    expectVec(axes.towardViewerLps, {0, 0, 1});
}

TEST(SliceGeometry, ResliceSamplesTheLinearFieldExactlyOnAnObliqueAnisotropicGrid)
{
    for (double angle : {0.0, kPi / 6.0}) {
        const imaging::Geometry g = obliqueGeometry(angle);
        imaging::Volume volume(g);
        for (std::int64_t k = 0; k < g.size[2]; ++k)
            for (std::int64_t j = 0; j < g.size[1]; ++j)
                for (std::int64_t i = 0; i < g.size[0]; ++i)
                    volume.at(i, j, k) = static_cast<float>(linearField(
                        g.lpsFromIjk({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)})));
        for (SliceOrientation orientation : {SliceOrientation::Axial, SliceOrientation::Coronal, SliceOrientation::Sagittal}) {
            PlaneFrame frame;
            frame.axes = standardAxes(orientation);
            frame.centreLps = g.lpsFromIjk({9.5, 11.5, 7.5});
            const SliceGrid grid = sliceGridFor(g, frame);
            const double w = 1.3; // off the voxel centres on purpose
            const std::vector<float> pixels = resliceVolume(volume, frame, grid, w, -1000.0f);
            int checked = 0;
            for (int b = 0; b < grid.height; ++b)
                for (int a = 0; a < grid.width; ++a) {
                    const Vec3 p = frame.lpsFromPlane(grid.originU + a * grid.pixelMm, grid.originV + b * grid.pixelMm, w);
                    const Vec3 ijk = g.ijkFromLps(p);
                    const bool interior = ijk.x >= 0 && ijk.y >= 0 && ijk.z >= 0 && ijk.x <= g.size[0] - 1 &&
                                          ijk.y <= g.size[1] - 1 && ijk.z <= g.size[2] - 1;
                    const float value = pixels[static_cast<std::size_t>(b) * grid.width + a];
                    if (interior) {
                        EXPECT_NEAR(value, linearField(p), 1e-3) << toString(orientation) << " a=" << a << " b=" << b;
                        ++checked;
                    } else if (!g.containsIjk(ijk)) {
                        EXPECT_EQ(value, -1000.0f);
                    }
                }
            EXPECT_GT(checked, 50) << toString(orientation);
        }
    }
}

TEST(SliceGeometry, PronePatientShowsAnteriorAtTheTopOfTheAxialView)
{
    // HFP: scanners write rows toward the patient's right and columns toward anterior.
    imaging::Geometry g;
    g.size = {32, 32, 4};
    g.spacing = {1.0, 1.0, 2.5};
    g.directionLps = Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1});
    g.originLps = {15.5, 15.5, 0.0};
    imaging::Volume volume(g);
    for (std::int64_t k = 0; k < 4; ++k)
        for (std::int64_t j = 0; j < 32; ++j)
            for (std::int64_t i = 0; i < 32; ++i) {
                const Vec3 p = g.lpsFromIjk({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
                // Anterior (y < 0) bright, and the patient's left (x > 0) brighter still.
                volume.at(i, j, k) = (p.y < 0 ? 100.0f : 0.0f) + (p.x > 0 ? 10.0f : 0.0f);
            }
    PlaneFrame frame;
    frame.axes = standardAxes(SliceOrientation::Axial);
    frame.centreLps = g.lpsFromIjk({15.5, 15.5, 1.5});
    const SliceGrid grid = sliceGridFor(g, frame);
    ASSERT_EQ(grid.width, 32);
    ASSERT_EQ(grid.height, 32);
    const std::vector<float> pixels = resliceVolume(volume, frame, grid, 0.0, -1.0f);
    auto at = [&](int a, int b) { return pixels[static_cast<std::size_t>(b) * grid.width + a]; };
    // Row b = height-1 is the top of the screen: anterior. Column a = width-1 is screen right: left.
    EXPECT_FLOAT_EQ(at(grid.width - 2, grid.height - 2), 110.0f); // top right: anterior, left
    EXPECT_FLOAT_EQ(at(1, grid.height - 2), 100.0f);              // top left: anterior, right
    EXPECT_FLOAT_EQ(at(grid.width - 2, 1), 10.0f);                // bottom right: posterior, left
    EXPECT_FLOAT_EQ(at(1, 1), 0.0f);
}

TEST(SliceGeometry, SliceStepIsTheVoxelSpacingProjectedOnTheNormal)
{
    const imaging::Geometry straight = obliqueGeometry(0.0);
    EXPECT_NEAR(sliceStepMm(straight, {0, 0, -1}), 2.0, 1e-12);
    EXPECT_NEAR(sliceStepMm(straight, {0, -1, 0}), 1.3, 1e-12);
    const imaging::Geometry oblique = obliqueGeometry(kPi / 6.0);
    // Normal +x has ijk components (cos 30°, -sin 30°, 0): min(0.7 / 0.866, 1.3 / 0.5).
    EXPECT_NEAR(sliceStepMm(oblique, {1, 0, 0}), 0.7 / std::cos(kPi / 6.0), 1e-9);
}

TEST(SliceGeometry, ScaleBarLengthsAreOneTwoOrFiveTimesAPowerOfTen)
{
    EXPECT_DOUBLE_EQ(niceScaleLengthMm(73.0), 50.0);
    EXPECT_DOUBLE_EQ(niceScaleLengthMm(19.9), 10.0);
    EXPECT_DOUBLE_EQ(niceScaleLengthMm(200.0), 200.0);
    EXPECT_DOUBLE_EQ(niceScaleLengthMm(4.9), 2.0);
    EXPECT_DOUBLE_EQ(niceScaleLengthMm(0.7), 0.5);
}

TEST(SliceScene, PickingRoundTripsThroughDisplayCoordinatesAfterZoomAndPan)
{
    const imaging::Geometry g = obliqueGeometry(kPi / 6.0);
    auto volume = std::make_shared<imaging::Volume>(g, 0.0f);
    SliceScene scene(SliceOrientation::Coronal);
    scene.setViewportSize(400, 300);
    scene.setVolume(volume);
    scene.zoomAt(1.7, 120, 80);
    scene.panBy(13, -7);
    const Vec3 pointLps = scene.lpsFromDisplay(210.0, 95.0);
    // The picked point lies on the current plane through the cursor.
    EXPECT_NEAR(dot(pointLps - scene.cursorLps(), scene.frame().axes.towardViewerLps), 0.0, 1e-9);
    const Vec3 display = scene.displayFromLps(pointLps);
    EXPECT_NEAR(display.x, 210.0, 1e-9);
    EXPECT_NEAR(display.y, 95.0, 1e-9);
    EXPECT_NEAR(display.z, 0.0, 1e-9);
    // Moving right on screen moves toward the patient's left; moving down moves inferior.
    const Vec3 right = scene.lpsFromDisplay(211.0, 95.0) - pointLps;
    const Vec3 down = scene.lpsFromDisplay(210.0, 96.0) - pointLps;
    EXPECT_GT(right.x, 0.0);
    EXPECT_LT(down.z, 0.0);
    EXPECT_NEAR(norm(right), scene.mmPerPixel(), 1e-9);
}

TEST(SliceScene, ZoomKeepsThePointUnderTheMouseFixed)
{
    auto volume = std::make_shared<imaging::Volume>(obliqueGeometry(0.0), 0.0f);
    SliceScene scene(SliceOrientation::Axial);
    scene.setViewportSize(300, 300);
    scene.setVolume(volume);
    const Vec3 before = scene.lpsFromDisplay(70.0, 220.0);
    const double mmPerPixel = scene.mmPerPixel();
    scene.zoomAt(2.0, 70.0, 220.0);
    expectVec(scene.lpsFromDisplay(70.0, 220.0), before, 1e-9);
    EXPECT_NEAR(scene.mmPerPixel(), 0.5 * mmPerPixel, 1e-12);
}

} // namespace
} // namespace np::render
