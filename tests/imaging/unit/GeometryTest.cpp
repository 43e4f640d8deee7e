#include <gtest/gtest.h>

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Volume.h"

using np::Mat3;
using np::Vec3;
using np::imaging::Geometry;

namespace {
Geometry obliqueAnisotropic()
{
    Geometry g;
    g.size = {10, 20, 30};
    g.spacing = {0.7, 1.3, 2.5};
    g.originLps = {-12.0, 40.0, 7.5};
    // Axial stack rotated 30 degrees about the patient's S axis.
    const double c = std::cos(M_PI / 6), s = std::sin(M_PI / 6);
    g.directionLps = Mat3::fromColumns({c, s, 0}, {-s, c, 0}, {0, 0, 1});
    return g;
}
} // namespace

TEST(Geometry, RejectsZeroAndNanSpacing)
{
    Geometry g;
    g.size = {4, 4, 4};
    g.spacing = {1.0, 0.0, 1.0};
    EXPECT_THROW(g.validate("test"), np::Error);
    g.spacing = {1.0, 1.0, std::nan("")};
    EXPECT_THROW(g.validate("test"), np::Error);
}

TEST(Geometry, RejectsNonOrthonormalDirection)
{
    Geometry g;
    g.size = {4, 4, 4};
    g.directionLps = Mat3::fromColumns({1, 0, 0}, {0.5, 0.5, 0}, {0, 0, 1});
    EXPECT_THROW(g.validate("test"), np::Error);
}

TEST(Geometry, MapsVoxelCentresToHandComputedLps)
{
    const Geometry g = obliqueAnisotropic();
    // Voxel (2, 0, 0): 2 steps of 0.7 mm along (cos30, sin30, 0).
    const Vec3 p = g.lpsFromIjk({2, 0, 0});
    EXPECT_NEAR(p.x, -12.0 + 1.4 * std::cos(M_PI / 6), 1e-12);
    EXPECT_NEAR(p.y, 40.0 + 1.4 * 0.5, 1e-12);
    EXPECT_NEAR(p.z, 7.5, 1e-12);
    // Voxel (0, 0, 4): 4 slices of 2.5 mm along +S.
    const Vec3 q = g.lpsFromIjk({0, 0, 4});
    EXPECT_NEAR(q.z, 17.5, 1e-12);
}

TEST(Geometry, IjkFromLpsInvertsLpsFromIjk)
{
    const Geometry g = obliqueAnisotropic();
    const Vec3 ijk{3.25, 17.5, 0.75};
    const Vec3 back = g.ijkFromLps(g.lpsFromIjk(ijk));
    for (int a = 0; a < 3; ++a)
        EXPECT_NEAR(back[a], ijk[a], 1e-9);
}

TEST(Geometry, DirectionFromOrientationIsRightHanded)
{
    // Axial slice of a supine patient: rows run to patient left (+L), columns to posterior (+P).
    const Mat3 d = np::imaging::directionFromOrientation({1, 0, 0}, {0, 1, 0});
    EXPECT_EQ(d.column(2), (Vec3{0, 0, 1}));
}

TEST(Volume, TrilinearSampleOfLinearRampIsExact)
{
    Geometry g = obliqueAnisotropic();
    np::imaging::Volume v(g);
    for (int k = 0; k < g.size[2]; ++k)
        for (int j = 0; j < g.size[1]; ++j)
            for (int i = 0; i < g.size[0]; ++i)
                v.at(i, j, k) = static_cast<float>(i + 10 * j + 100 * k);
    EXPECT_NEAR(v.sampleIjk({1.5, 2.25, 3.5}, -1), 1.5 + 22.5 + 350.0, 1e-3);
    EXPECT_NEAR(v.sampleIjk({9.0, 19.0, 29.0}, -1), 9 + 190 + 2900, 1e-3);
    EXPECT_EQ(v.sampleIjk({-0.6, 0, 0}, -1000.0f), -1000.0f);
    const Vec3 p = g.lpsFromIjk({4.5, 6.5, 8.0});
    EXPECT_NEAR(v.sampleLps(p, -1), 4.5 + 65 + 800, 1e-3);
}
