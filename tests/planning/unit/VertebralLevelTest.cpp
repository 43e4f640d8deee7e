// Vertebral levels of points: the nearest vertebra label, with distances worked by hand on an
// anisotropic, oblique grid (the direction matrix is a rotation, so a distance in LPS equals the
// distance in index steps scaled by the spacings).

#include "needleplan/planning/VertebralLevel.h"

#include <cmath>
#include <gtest/gtest.h>

using np::Vec3;
using namespace np::planning;

namespace {

/// 40 x 30 x 24 voxels of 0.7 x 1.1 x 2.5 mm, turned 25 degrees about an oblique axis; vertebra_L4
/// fills slices k = 0..9, vertebra_L5 slices k = 14..23, slices 10..13 are a disc (label 0).
np::imaging::LabelMap twoVertebrae(const std::string& upperName, const std::string& lowerName)
{
    np::imaging::Geometry g;
    g.size = {40, 30, 24};
    g.spacing = {0.7, 1.1, 2.5};
    g.originLps = {-12.0, 30.0, 150.0};
    // Rotation by 25 degrees about the unit axis (1, 1, 1)/sqrt(3) (Rodrigues' formula).
    const double a = 25.0 * M_PI / 180.0, c = std::cos(a), s = std::sin(a), t = 1.0 - c;
    const double u = 1.0 / std::sqrt(3.0);
    g.directionLps = np::Mat3{{t * u * u + c, t * u * u - s * u, t * u * u + s * u, //
                              t * u * u + s * u, t * u * u + c, t * u * u - s * u, //
                              t * u * u - s * u, t * u * u + s * u, t * u * u + c}};
    np::imaging::LabelMap labels(g);
    labels.segments() = {{upperName, 3}, {lowerName, 7}, {"spinal_canal", 9}};
    for (std::int64_t k = 0; k < 24; ++k)
        for (std::int64_t j = 0; j < 30; ++j)
            for (std::int64_t i = 0; i < 40; ++i)
                labels.at(i, j, k) = k <= 9 ? 3 : (k >= 14 ? 7 : 0);
    // A canal voxel right next to the probe points: not a vertebra, never the answer.
    labels.at(20, 15, 11) = 9;
    return labels;
}

} // namespace

TEST(VertebralLevel, NamesOfVertebraeAndOtherStructures)
{
    EXPECT_TRUE(isVertebraName("vertebra_L4"));
    EXPECT_TRUE(isVertebraName("vertebrae_L5")); // TotalSegmentator v1
    EXPECT_TRUE(isVertebraName("Vertebra_T12"));
    EXPECT_TRUE(isVertebraName("sacrum"));
    EXPECT_FALSE(isVertebraName("vertebral_artery_left"));
    EXPECT_FALSE(isVertebraName("vertebra_"));
    EXPECT_FALSE(isVertebraName("spinal_canal"));
    EXPECT_FALSE(isVertebraName("bone"));
}

TEST(VertebralLevel, NearestVertebraOnAnObliqueAnisotropicGrid)
{
    const auto labels = twoVertebrae("vertebra_L4", "vertebra_L5");
    const auto& g = labels.geometry();
    // Voxel (20, 15, 12): L4's nearest voxel is 3 slices away (7.5 mm), L5's 2 slices (5.0 mm).
    auto level = vertebralLevelAt(labels, g.lpsFromIjk({20, 15, 12}));
    ASSERT_TRUE(level.has_value());
    EXPECT_EQ(level->level, "L5");
    EXPECT_EQ(level->structure, "vertebra_L5");
    EXPECT_NEAR(level->distanceMm, 5.0, 1e-9);
    EXPECT_FALSE(level->ambiguous);
    // Voxel (20, 15, 10.5) lies 1.5 slices (3.75 mm) from L4 and 3.5 slices (8.75 mm) from L5.
    level = vertebralLevelAt(labels, g.lpsFromIjk({20, 15, 10.5}));
    ASSERT_TRUE(level.has_value());
    EXPECT_EQ(level->level, "L4");
    EXPECT_NEAR(level->distanceMm, 3.75, 1e-9);
    // Mid-disc, k = 11.5: 2.5 slices (6.25 mm) from both: ambiguous, either named.
    level = vertebralLevelAt(labels, g.lpsFromIjk({20, 15, 11.5}));
    ASSERT_TRUE(level.has_value());
    EXPECT_TRUE(level->ambiguous);
    EXPECT_NEAR(level->distanceMm, 6.25, 1e-9);
    EXPECT_TRUE((level->level == "L4" && level->runnerUp == "L5") ||
                (level->level == "L5" && level->runnerUp == "L4"));
    // Inside L4 the distance is that of the nearest voxel centre: the point is one.
    level = vertebralLevelAt(labels, g.lpsFromIjk({5, 5, 4}));
    ASSERT_TRUE(level.has_value());
    EXPECT_EQ(level->level, "L4");
    EXPECT_NEAR(level->distanceMm, 0.0, 1e-9);
}

TEST(VertebralLevel, NothingWithinReachOrNoVertebraLabels)
{
    const auto labels = twoVertebrae("vertebra_L4", "vertebra_L5");
    const auto& g = labels.geometry();
    // 5 mm from L5, 7.5 mm from L4: nothing within 4 mm.
    EXPECT_FALSE(vertebralLevelAt(labels, g.lpsFromIjk({20, 15, 12}), 4.0).has_value());
    // Far outside the image.
    EXPECT_FALSE(vertebralLevelAt(labels, {1e6, 1e6, 1e6}).has_value());
    EXPECT_FALSE(vertebralLevelAt(labels, {1e308, -1e308, 1e308}).has_value());
    // No structure named as a vertebra.
    const auto bones = twoVertebrae("bone", "femur_left");
    EXPECT_FALSE(vertebralLevelAt(bones, g.lpsFromIjk({20, 15, 12})).has_value());
    // TotalSegmentator v1 names and the sacrum.
    const auto v1 = twoVertebrae("vertebrae_L5", "sacrum");
    const auto level = vertebralLevelAt(v1, g.lpsFromIjk({20, 15, 12}));
    ASSERT_TRUE(level.has_value());
    EXPECT_EQ(level->level, "sacrum");
}
