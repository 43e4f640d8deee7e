// Two-view triangulation against hand-worked views. SID 1000 mm, SOD 750 mm, a 300 mm detector of
// 512 pixels (pitch 300/512 mm), isocentre (10, -20, 30). The AP view (primary 0) has its source at
// the isocentre + 750 mm in +y, columns along +x and rows along −z; the LAO 90 view has its source at
// the isocentre − 750 mm in x, columns along +y and rows along −z. A point at depth D from the source
// and offset (a, b) in the column and row directions lands at 255.5 + (1000/D)·a/pitch,
// 255.5 + (1000/D)·b/pitch.

#include "needleplan/imaging/Triangulation.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using np::Vec3;
using namespace np::imaging;

namespace {

constexpr double kPitch = 300.0 / 512.0;
const Vec3 kIsocenter{10.0, -20.0, 30.0};

ProjectionMatrix viewMatrix(double primaryDeg, double secondaryDeg = 0.0)
{
    CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.isocenterLps = kIsocenter;
    return CArmGeometry(p).projectionMatrix();
}

// X = isocentre + (12, 30, −8) = (22, 10, 22).
const Vec3 kPointLps{22.0, 10.0, 22.0};
// AP: from the source (10, 730, 30): (12, −720, −8), depth 720, column offset 12, row offset 8.
const DetectorPixel kApPixel{255.5 + (1000.0 / 720.0) * 12.0 / kPitch,
                             255.5 + (1000.0 / 720.0) * 8.0 / kPitch};
// LAO 90: from the source (−740, −20, 30): (762, 30, −8), depth 762, column offset 30, row offset 8.
const DetectorPixel kLateralPixel{255.5 + (1000.0 / 762.0) * 30.0 / kPitch,
                                  255.5 + (1000.0 / 762.0) * 8.0 / kPitch};

} // namespace

TEST(Triangulation, RejectsParallelRaysAndDegenerateMatrices)
{
    const ProjectionMatrix ap = viewMatrix(0.0);
    EXPECT_THROW(triangulate(ap, kApPixel, ap, kApPixel), np::Error);
    ProjectionMatrix singular;
    EXPECT_THROW(sourceFromProjection(singular), np::Error);
    ProjectionMatrix notFinite = ap;
    notFinite(1, 2) = std::nan("");
    EXPECT_THROW(rayThroughPixel(notFinite, {0.0, 0.0}), np::Error);
}

TEST(Triangulation, SourceAndRayOfAHandWorkedView)
{
    const ProjectionMatrix ap = viewMatrix(0.0);
    const Vec3 source = sourceFromProjection(ap);
    EXPECT_NEAR(source.x, 10.0, 1e-9);
    EXPECT_NEAR(source.y, 730.0, 1e-9);
    EXPECT_NEAR(source.z, 30.0, 1e-9);
    const RayLps ray = rayThroughPixel(ap, kApPixel);
    const Vec3 expected =
        (kPointLps - Vec3{10.0, 730.0, 30.0}) / std::sqrt(12.0 * 12 + 720.0 * 720 + 8.0 * 8);
    EXPECT_NEAR(ray.directionLps.x, expected.x, 1e-12);
    EXPECT_NEAR(ray.directionLps.y, expected.y, 1e-12);
    EXPECT_NEAR(ray.directionLps.z, expected.z, 1e-12);
}

TEST(Triangulation, RecoversAHandWorkedPointFromApAndLateralMarks)
{
    const Triangulation t = triangulate(viewMatrix(0.0), kApPixel, viewMatrix(90.0), kLateralPixel);
    EXPECT_NEAR(t.pointLps.x, kPointLps.x, 1e-6);
    EXPECT_NEAR(t.pointLps.y, kPointLps.y, 1e-6);
    EXPECT_NEAR(t.pointLps.z, kPointLps.z, 1e-6);
    EXPECT_NEAR(t.rayGapMm, 0.0, 1e-6);
    EXPECT_NEAR(t.reprojectionErrorPx[0], 0.0, 1e-6);
    EXPECT_NEAR(t.reprojectionErrorPx[1], 0.0, 1e-6);
    EXPECT_FALSE(t.gapWarning);
    EXPECT_TRUE(t.warning.empty());
    // The rays: (12, −720, −8) and (762, 30, −8) directions.
    const double cosine = (12.0 * 762 - 720.0 * 30 + 64.0) /
                          (std::sqrt(12.0 * 12 + 720.0 * 720 + 64) * std::sqrt(762.0 * 762 + 900 + 64));
    EXPECT_NEAR(t.angleBetweenRaysDeg, std::acos(std::abs(cosine)) * 180.0 / M_PI, 1e-9);
}

TEST(Triangulation, WarnsWhenTheRaysMissEachOther)
{
    // Both views see z along their rows. Moving the AP mark 10 rows down moves its ray by
    // 10 × pitch × 720/1000 = 4.22 mm in −z at the point's depth; the rays then miss by about that.
    DetectorPixel moved = kApPixel;
    moved.row += 10.0;
    const Triangulation far = triangulate(viewMatrix(0.0), moved, viewMatrix(90.0), kLateralPixel);
    EXPECT_NEAR(far.rayGapMm, 10.0 * kPitch * 0.72, 0.1);
    EXPECT_TRUE(far.gapWarning);
    EXPECT_NE(far.warning.find("apart"), std::string::npos);
    // The point splits the difference: about half the gap from each ray, its z halfway.
    EXPECT_NEAR(far.pointLps.z, kPointLps.z - 0.5 * 10.0 * kPitch * 0.72, 0.2);

    moved.row = kApPixel.row + 2.0; // 0.84 mm: within tolerance
    const Triangulation near = triangulate(viewMatrix(0.0), moved, viewMatrix(90.0), kLateralPixel);
    EXPECT_NEAR(near.rayGapMm, 2.0 * kPitch * 0.72, 0.05);
    EXPECT_FALSE(near.gapWarning);
}

TEST(Triangulation, WarnsForNearlyParallelViews)
{
    const Triangulation t = triangulate(viewMatrix(0.0), kApPixel, viewMatrix(10.0),
                                        CArmGeometry([] {
                                            CArmParameters p;
                                            p.primaryDeg = 10.0;
                                            p.isocenterLps = kIsocenter;
                                            return p;
                                        }())
                                            .project(kPointLps));
    EXPECT_NEAR(distance(t.pointLps, kPointLps), 0.0, 1e-6);
    EXPECT_NE(t.warning.find("poorly determined"), std::string::npos);
}

TEST(Triangulation, EpipolarLinePassesThroughTheHandWorkedProjections)
{
    // The first view's ray projects, in the lateral view, through the point's projection and the
    // AP source's projection: (10, 730, 30) − (−740, −20, 30) = (750, 750, 0), depth 750, column
    // offset 750, row offset 0.
    const ImageLine line = epipolarLine(viewMatrix(0.0), kApPixel, viewMatrix(90.0));
    EXPECT_NEAR(line.a * line.a + line.b * line.b, 1.0, 1e-12);
    EXPECT_NEAR(line.distancePx(kLateralPixel), 0.0, 1e-6);
    EXPECT_NEAR(line.distancePx({255.5 + (1000.0 / 750.0) * 750.0 / kPitch, 255.5}), 0.0, 1e-6);
    // A pixel 5 rows below the point's projection is 5·|b| from the line.
    EXPECT_NEAR(std::abs(line.distancePx({kLateralPixel.column, kLateralPixel.row + 5.0})),
                5.0 * std::abs(line.b), 1e-6);
}

TEST(Triangulation, OnePixelMarkingErrorGivesAtMostOneMillimetreAtSixtyDegrees)
{
    // Views 60° apart (and 90°, oblique cranial) through one isocentre, points within 30 mm of it,
    // each mark moved 1 pixel in a random direction. The pixel pitch at the isocentre is
    // 300/512/(1000/750) = 0.44 mm; the worst case at 60° is 0.44/sin(30°) = 0.88 mm.
    std::mt19937 random(12);
    std::uniform_real_distribution<double> offset(-30.0, 30.0), angle(0.0, 2.0 * M_PI);
    const std::pair<double, double> pairs[3][2] = {
        {{0.0, 0.0}, {60.0, 0.0}}, {{-30.0, 10.0}, {30.0, 10.0}}, {{0.0, 0.0}, {90.0, 0.0}}};
    for (const auto& pair : pairs) {
        CArmParameters p1, p2;
        p1.primaryDeg = pair[0].first, p1.secondaryDeg = pair[0].second, p1.isocenterLps = kIsocenter;
        p2.primaryDeg = pair[1].first, p2.secondaryDeg = pair[1].second, p2.isocenterLps = kIsocenter;
        const CArmGeometry v1(p1), v2(p2);
        double worst = 0.0;
        for (int trial = 0; trial < 200; ++trial) {
            const Vec3 truth = kIsocenter + Vec3{offset(random), offset(random), offset(random)};
            DetectorPixel m1 = v1.project(truth), m2 = v2.project(truth);
            const double a1 = angle(random), a2 = angle(random);
            m1.column += std::cos(a1), m1.row += std::sin(a1);
            m2.column += std::cos(a2), m2.row += std::sin(a2);
            const Triangulation t = triangulate(v1.projectionMatrix(), m1, v2.projectionMatrix(), m2);
            worst = std::max(worst, distance(t.pointLps, truth));
            EXPECT_LT(t.rayGapMm, 2.0);
        }
        EXPECT_LE(worst, 1.0) << "views " << pair[0].first << "/" << pair[1].first;
    }
}
