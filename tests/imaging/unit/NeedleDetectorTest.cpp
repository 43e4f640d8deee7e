// Needle detection on synthetic CTs whose needles are known in closed form: a cylinder of steel
// (partial volume by supersampling each voxel), in a body cylinder, on anisotropic oblique grids.

#include "needleplan/imaging/NeedleDetector.h"

#include "../../planning/unit/AnalyticShapes.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Volume.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace np;
using namespace np::imaging;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kBodyRadius = 55.0; ///< body cylinder along z, centred on the z axis

struct NeedleTruth
{
    Vec3 hubLps; ///< outer end of the metal
    Vec3 tipLps;
    double radiusMm;
};

double angleDeg(const Vec3& a, const Vec3& b)
{
    return std::atan2(norm(cross(a, b)), dot(a, b)) * 180.0 / kPi;
}

/// Body cylinder (40 HU in −1000 HU air) with the given needles of `metalHu`, each voxel the
/// average of 6×6×6 sub-samples, plus deterministic noise; values above `ceilingHu` clipped.
Volume makeCt(const Geometry& g, const std::vector<NeedleTruth>& needles, float metalHu = 15000.0f,
              float ceilingHu = 30000.0f, double noiseHu = 10.0)
{
    Volume ct(g, -1000.0f);
    std::uint32_t state = 12345u;
    const auto noise = [&state] {
        state = state * 1664525u + 1013904223u;
        return (static_cast<double>(state >> 8) / 16777216.0 - 0.5) * 2.0;
    };
    const double halfDiagonal = 0.5 * norm(g.spacing);
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 ijk{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)};
                const Vec3 centre = g.lpsFromIjk(ijk);
                // Body: 40 HU, partial volume at the skin ignored (the entry tolerance allows for it).
                const double background = std::hypot(centre.x, centre.y) <= kBodyRadius ? 40.0 : -1000.0;
                double metalFraction = 0.0;
                for (const NeedleTruth& n : needles) {
                    const Vec3 d = normalized(n.tipLps - n.hubLps);
                    const double length = distance(n.hubLps, n.tipLps);
                    const Vec3 offset = centre - n.hubLps;
                    const double t = dot(offset, d);
                    if (t < -halfDiagonal || t > length + halfDiagonal ||
                        norm(offset - d * t) > n.radiusMm + halfDiagonal)
                        continue;
                    int inside = 0;
                    for (int a = 0; a < 6; ++a)
                        for (int b = 0; b < 6; ++b)
                            for (int c = 0; c < 6; ++c) {
                                const Vec3 p =
                                    g.lpsFromIjk(ijk + Vec3{(a + 0.5) / 6 - 0.5, (b + 0.5) / 6 - 0.5,
                                                            (c + 0.5) / 6 - 0.5});
                                const Vec3 o = p - n.hubLps;
                                const double s = dot(o, d);
                                if (s >= 0.0 && s <= length && norm(o - d * s) <= n.radiusMm)
                                    ++inside;
                            }
                    metalFraction += inside / 216.0;
                }
                metalFraction = std::min(1.0, metalFraction);
                double value =
                    (1.0 - metalFraction) * background + metalFraction * metalHu + noiseHu * noise();
                ct.at(i, j, k) = static_cast<float>(std::min<double>(value, ceilingHu));
            }
    return ct;
}

/// Where the line from `tip` back toward `hub` leaves the body cylinder (closed form).
Vec3 skinCrossing(const NeedleTruth& n)
{
    const Vec3 u = normalized(n.hubLps - n.tipLps);
    const double a = u.x * u.x + u.y * u.y, b = n.tipLps.x * u.x + n.tipLps.y * u.y,
                 c = n.tipLps.x * n.tipLps.x + n.tipLps.y * n.tipLps.y - kBodyRadius * kBodyRadius;
    return n.tipLps + u * ((-b + std::sqrt(b * b - a * c)) / a);
}

const DetectedNeedle* nearestTo(const NeedleDetection& found, const Vec3& tip)
{
    const DetectedNeedle* best = nullptr;
    for (const auto& n : found.needles)
        if (!best || distance(n.tipLps, tip) < distance(best->tipLps, tip))
            best = &n;
    return best;
}

} // namespace

TEST(NeedleDetector, RejectsEmptyVolumeAndBadOptions)
{
    EXPECT_THROW(detectNeedles(Volume{}), Error);
    const Volume ct(test::gridAround({0, 0, 0}, {8, 8, 8}, {1, 1, 1}, Mat3::identity()), 0.0f);
    NeedleDetectionOptions bad;
    bad.minLengthMm = 0.0;
    EXPECT_THROW(detectNeedles(ct, bad), Error);
    bad = {};
    bad.metalThresholdHu = std::nanf("");
    EXPECT_THROW(detectNeedles(ct, bad), Error);
}

TEST(NeedleDetector, ThresholdFollowsTheScannersRange)
{
    EXPECT_FLOAT_EQ(metalThresholdForRange(3071.0f), 0.8f * 3071.0f); // 12-bit, clipped metal
    EXPECT_FLOAT_EQ(metalThresholdForRange(4095.0f), 0.8f * 4095.0f);
    EXPECT_FLOAT_EQ(metalThresholdForRange(25000.0f), 2500.0f); // extended range
    EXPECT_FLOAT_EQ(metalThresholdForRange(1200.0f), 2000.0f);  // bone only: nothing passes
}

TEST(NeedleDetector, ScanWithoutMetalHasNoNeedle)
{
    const Geometry g = test::gridAround({0, 0, 0}, {60, 60, 20}, {2, 2, 3}, Mat3::identity());
    Volume ct = makeCt(g, {});
    ct.at(30, 30, 10) = 1150.0f; // a dense bone voxel is not metal
    const NeedleDetection found = detectNeedles(ct);
    EXPECT_TRUE(found.needles.empty());
    EXPECT_EQ(found.metalVoxels, 0);
    ASSERT_FALSE(found.warnings.empty());
    EXPECT_NE(found.warnings.front().find("no needle"), std::string::npos) << found.warnings.front();
}

TEST(NeedleDetector, ObliqueNeedleOnAnisotropicObliqueGridTipAngleAndEntry)
{
    // 22 G (0.72 mm), entering from posterior-left, 20 degrees caudal, 20 mm of shaft outside the body.
    const Vec3 tip{4.0, 10.0, 3.0};
    const Vec3 outward = normalized(Vec3{0.45, 0.85, -0.35});
    const NeedleTruth truth{skinCrossing({tip + outward * 100.0, tip, 0.36}) + outward * 20.0, tip, 0.36};
    for (const Mat3& direction : {Mat3::identity(), test::rotation({1, 2, 3}, 0.35)}) {
        const Geometry g = test::gridAround({0, 20, 0}, {170, 120, 34}, {0.7, 0.9, 2.0}, direction);
        const NeedleDetection found = detectNeedles(makeCt(g, {truth}));
        ASSERT_EQ(found.needles.size(), 1u);
        const DetectedNeedle& n = found.needles.front();
        EXPECT_FLOAT_EQ(found.metalThresholdHu, 2500.0f);
        EXPECT_LE(distance(n.tipLps, truth.tipLps), 0.3)
            << "tip " << n.tipLps.x << "," << n.tipLps.y << "," << n.tipLps.z;
        EXPECT_LE(angleDeg(n.directionLps, normalized(truth.tipLps - truth.hubLps)), 0.3);
        ASSERT_TRUE(n.entryFound);
        EXPECT_LE(distance(n.entryLps, skinCrossing(truth)), 0.6);
        EXPECT_LE(distance(n.proximalEndLps, truth.hubLps), 2.5);
        EXPECT_LT(n.rmsResidualMm, 1.5);
    }
}

TEST(NeedleDetector, TwoNeedlesInOneScanBothFound)
{
    const NeedleTruth left{{40, 60, 10}, {12, 8, 5}, 0.36};      // 22 G
    const NeedleTruth right{{-45, 58, -8}, {-10, 6, -2}, 0.255}; // 25 G, thinnest
    const Geometry g = test::gridAround({0, 20, 0}, {150, 110, 28}, {0.8, 0.8, 1.5}, Mat3::identity());
    const NeedleDetection found = detectNeedles(makeCt(g, {left, right}));
    ASSERT_EQ(found.needles.size(), 2u);
    for (const NeedleTruth& truth : {left, right}) {
        const DetectedNeedle* n = nearestTo(found, truth.tipLps);
        ASSERT_NE(n, nullptr);
        EXPECT_LE(distance(n->tipLps, truth.tipLps), 0.3);
        EXPECT_LE(angleDeg(n->directionLps, normalized(truth.tipLps - truth.hubLps)), 0.3);
    }
}

TEST(NeedleDetector, ScannerThatClipsMetalAtItsCeiling)
{
    // A 12-bit scanner: metal saturates at 3071 HU and the threshold follows (2457 HU).
    const NeedleTruth truth{{30, 66, 0}, {5, 8, 2}, 0.455}; // 20 G
    const Geometry g = test::gridAround({0, 20, 0}, {120, 100, 24}, {0.9, 0.9, 1.5}, Mat3::identity());
    const NeedleDetection found = detectNeedles(makeCt(g, {truth}, 15000.0f, 3071.0f));
    ASSERT_EQ(found.needles.size(), 1u);
    EXPECT_NEAR(found.metalThresholdHu, 0.8f * 3071.0f, 10.0f);
    const DetectedNeedle& n = found.needles.front();
    // Clipping breaks the proportion between metal and value that the tip relies on, so the tip
    // is less exact than on an extended-range scan (measured: about 0.7 mm here).
    EXPECT_LE(distance(n.tipLps, truth.tipLps), 1.0);
    EXPECT_LE(angleDeg(n.directionLps, normalized(truth.tipLps - truth.hubLps)), 0.5);
}
