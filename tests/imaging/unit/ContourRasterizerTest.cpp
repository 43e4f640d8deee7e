// Even-odd rasterisation of closed planar contours against closed-form areas.

#include "needleplan/imaging/ContourRasterizer.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;

Geometry sliceGrid(const Vec3& spacing, const Mat3& direction, std::int64_t n, std::int64_t slices = 3)
{
    Geometry g;
    g.size = {n, n, slices};
    g.spacing = spacing;
    g.directionLps = direction;
    g.originLps = Vec3{} - g.lpsFromIjkLinear() * Vec3{(n - 1) / 2.0, (n - 1) / 2.0, 0.0};
    return g;
}

// A point in the plane of slice k, at in-plane offsets (u, v) mm along the row/column directions.
Vec3 inPlane(const Geometry& g, double u, double v, double k)
{
    return g.originLps + g.directionLps.column(0) * (u + g.spacing.x * (g.size[0] - 1) / 2.0) +
           g.directionLps.column(1) * (v + g.spacing.y * (g.size[1] - 1) / 2.0) +
           g.directionLps.column(2) * (k * g.spacing.z);
}

std::vector<Vec3> circle(const Geometry& g, double radius, double cu, double cv, int k, int points = 720)
{
    std::vector<Vec3> c;
    for (int n = 0; n < points; ++n) {
        const double t = 2.0 * kPi * n / points;
        c.push_back(inPlane(g, cu + radius * std::cos(t), cv + radius * std::sin(t), k));
    }
    return c;
}

std::vector<Vec3> rotatedSquare(const Geometry& g, double half, double angle, int k)
{
    std::vector<Vec3> c;
    for (int n = 0; n < 4; ++n) {
        const double t = angle + kPi / 4.0 + n * kPi / 2.0;
        c.push_back(inPlane(g, half * std::sqrt(2.0) * std::cos(t), half * std::sqrt(2.0) * std::sin(t), k));
    }
    return c;
}

std::int64_t countSlice(const std::vector<std::uint8_t>& mask, const Geometry& g, std::int64_t k)
{
    std::int64_t n = 0;
    for (std::int64_t v = 0; v < g.size[0] * g.size[1]; ++v)
        n += mask[static_cast<std::size_t>(k * g.size[0] * g.size[1] + v)];
    return n;
}

Mat3 oblique()
{
    const double a = 25.0 * kPi / 180.0, b = -12.0 * kPi / 180.0;
    const Mat3 aboutS{{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}};
    const Mat3 aboutP{{std::cos(b), 0, std::sin(b), 0, 1, 0, -std::sin(b), 0, std::cos(b)}};
    return aboutP * aboutS;
}

TEST(ContourRasterizer, RejectsMaskOfWrongSize)
{
    const Geometry g = sliceGrid({1, 1, 1}, Mat3::identity(), 10);
    std::vector<std::uint8_t> mask(5);
    EXPECT_THROW(rasterizeContours({}, g, mask), Error);
}

TEST(ContourRasterizer, CountsDegenerateTiltedAndOffGridContours)
{
    const Geometry g = sliceGrid({1, 1, 2}, Mat3::identity(), 20);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(g.voxelCount()), 0);
    const std::vector<std::vector<Vec3>> contours{
        {inPlane(g, 0, 0, 1), inPlane(g, 1, 0, 1)},                      // two points
        {inPlane(g, 0, 0, 1), inPlane(g, 3, 0, 1), {NAN, 0, 0}},         // not finite
        {inPlane(g, 0, 0, 0), inPlane(g, 3, 0, 1), inPlane(g, 0, 3, 2)}, // tilted across slices
        circle(g, 3, 0, 0, 7),                                           // beyond the last slice
        circle(g, 3, 0, 0, 1)};
    std::vector<Vec3> between = circle(g, 3, 0, 0, 1);
    for (Vec3& p : between)
        p.z += 1.0; // half a slice (spacing 2 mm) off the plane
    auto all = contours;
    all.push_back(between);
    const RasterizeReport report = rasterizeContours(all, g, mask);
    EXPECT_EQ(report.degenerate, 2);
    EXPECT_EQ(report.notInPlane, 1);
    EXPECT_EQ(report.offGrid, 2);
    EXPECT_EQ(report.used, 1);
    EXPECT_EQ(countSlice(mask, g, 0), 0);
    EXPECT_EQ(countSlice(mask, g, 2), 0);
    EXPECT_GT(countSlice(mask, g, 1), 0);
}

struct Case
{
    const char* name;
    Vec3 spacing;
    Mat3 direction;
};

void PrintTo(const Case& c, std::ostream* out)
{
    *out << c.name;
}

class ContourRasterizerGrids : public ::testing::TestWithParam<Case>
{
};

TEST_P(ContourRasterizerGrids, CircleAreaWithinOnePixelBandOfTheTrueArea)
{
    const Case c = GetParam();
    const Geometry g = sliceGrid(c.spacing, c.direction, 160);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(g.voxelCount()), 0);
    const double radius = 31.3;
    const RasterizeReport report = rasterizeContours({circle(g, radius, 4.2, -3.1, 1)}, g, mask);
    EXPECT_EQ(report.used, 1);
    const double pixelArea = g.spacing.x * g.spacing.y;
    const double area = double(countSlice(mask, g, 1)) * pixelArea;
    const double trueArea = kPi * radius * radius;
    const double band = 2.0 * kPi * radius * std::max(g.spacing.x, g.spacing.y);
    EXPECT_NEAR(area, trueArea, band) << c.name;
    EXPECT_NEAR(area, trueArea, 0.02 * trueArea) << c.name;
    EXPECT_EQ(countSlice(mask, g, 0) + countSlice(mask, g, 2), 0);
    // The centre is inside and a point 2 mm beyond the rim is outside.
    const Vec3 centreIjk = g.ijkFromLps(inPlane(g, 4.2, -3.1, 1));
    const auto at = [&](const Vec3& ijk) {
        return mask[static_cast<std::size_t>(
            std::llround(ijk.x) + g.size[0] * (std::llround(ijk.y) + g.size[1] * std::llround(ijk.z)))];
    };
    EXPECT_EQ(at(centreIjk), 1);
    EXPECT_EQ(at(g.ijkFromLps(inPlane(g, 4.2 + radius + 2.0, -3.1, 1))), 0);
}

TEST_P(ContourRasterizerGrids, SquareWithRotatedSquareHoleFillsTheRingOnly)
{
    const Case c = GetParam();
    const Geometry g = sliceGrid(c.spacing, c.direction, 160);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(g.voxelCount()), 0);
    // Outer 50 mm square, hole a 24 mm square turned by 30 degrees, plus a separate island.
    const auto outer = rotatedSquare(g, 25.0, 0.0, 2);
    const auto hole = rotatedSquare(g, 12.0, kPi / 6.0, 2);
    const auto island = circle(g, 5.0, 40.0, 40.0, 2);
    rasterizeContours({outer, hole, island}, g, mask);
    const double trueArea = 50.0 * 50.0 - 24.0 * 24.0 + kPi * 25.0;
    const double perimeter = 4 * 50.0 + 4 * 24.0 + 2.0 * kPi * 5.0;
    const double area = double(countSlice(mask, g, 2)) * g.spacing.x * g.spacing.y;
    EXPECT_NEAR(area, trueArea, perimeter * std::max(g.spacing.x, g.spacing.y)) << c.name;
    const Vec3 holeCentreIjk = g.ijkFromLps(inPlane(g, 0.0, 0.0, 2));
    EXPECT_EQ(mask[static_cast<std::size_t>(std::llround(holeCentreIjk.x) +
                                            g.size[0] * (std::llround(holeCentreIjk.y) + g.size[1] * 2))],
              0);
    // The same contours in reverse order give the same voxels (even-odd does not care).
    std::vector<std::uint8_t> reversed(mask.size(), 0);
    rasterizeContours({island, hole, outer}, g, reversed);
    EXPECT_EQ(reversed, mask);
}

INSTANTIATE_TEST_SUITE_P(Grids, ContourRasterizerGrids,
                         ::testing::Values(Case{"isotropic", {1.0, 1.0, 2.0}, Mat3::identity()},
                                           Case{"anisotropic", {0.6, 1.3, 3.0}, Mat3::identity()},
                                           Case{"oblique", {0.8, 0.7, 1.5}, oblique()}),
                         [](const ::testing::TestParamInfo<Case>& param) {
                             return std::string(param.param.name);
                         });

TEST(ContourRasterizer, PolygonEvenOddInVoxelCoordinates)
{
    // A 4 x 3 rectangle from (0.5, 0.5) to (4.5, 3.5) covers centres i = 1..4, j = 1..3.
    std::vector<std::uint8_t> slice(6 * 5, 0);
    fillPolygonsEvenOdd({{{0.5, 0.5}, {4.5, 0.5}, {4.5, 3.5}, {0.5, 3.5}}}, 6, 5, slice.data());
    int set = 0;
    for (int j = 0; j < 5; ++j)
        for (int i = 0; i < 6; ++i) {
            const bool inside = i >= 1 && i <= 4 && j >= 1 && j <= 3;
            EXPECT_EQ(slice[static_cast<std::size_t>(i + 6 * j)], inside ? 1 : 0) << i << "," << j;
            set += slice[static_cast<std::size_t>(i + 6 * j)];
        }
    EXPECT_EQ(set, 12);
}

} // namespace
} // namespace np::imaging
