// Round trips: phantom -> DICOM series (the series writer) -> loader give back the phantom's
// voxels (to the 1 HU stored precision) and its geometry, for prone, supine, oblique and
// anisotropic grids.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"

#if __has_include("needleplan/phantom/LumbarPhantom.h")
#include "needleplan/phantom/LumbarPhantom.h"
#define NP_TEST_HAS_PHANTOM 1
#endif

using np::Vec3;
using namespace np::imaging;

#ifdef NP_TEST_HAS_PHANTOM

namespace {

void expectRoundTrip(const np::phantom::PhantomOptions& options)
{
    const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom(options);
    np::test::TempDir dir;
    np::phantom::writePhantom(phantom, dir.path().string());
    const Volume loaded = loadVolume((dir.path() / "dicom").string());
    const Geometry& expected = phantom.ct.geometry();
    const Geometry& g = loaded.geometry();
    ASSERT_EQ(g.size, expected.size);
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(g.spacing[a], expected.spacing[a], 1e-4) << "axis " << a;
        EXPECT_NEAR(g.originLps[a], expected.originLps[a], 1e-4) << "axis " << a;
    }
    for (int n = 0; n < 9; ++n)
        EXPECT_NEAR(g.directionLps.m[static_cast<std::size_t>(n)], expected.directionLps.m[static_cast<std::size_t>(n)], 1e-5);
    EXPECT_EQ(loaded.info().patientPosition, options.patientPosition);
    EXPECT_TRUE(loaded.info().warnings.empty());
    EXPECT_EQ(loaded.info().sliceSopInstanceUids.size(), static_cast<std::size_t>(expected.size[2]));
    // Stored values are round(HU - intercept): within half a HU of the phantom.
    double worst = 0.0;
    for (std::size_t n = 0; n < loaded.voxels().size(); ++n)
        worst = std::max(worst, static_cast<double>(std::abs(loaded.voxels()[n] - phantom.ct.voxels()[n])));
    EXPECT_LE(worst, 0.5 + 1e-3);
    // The ground-truth .seg.nrrd loads as a scalar image on the same grid.
    const Volume labels = loadVolume((dir.path() / "structures.seg.nrrd").string());
    ASSERT_EQ(labels.geometry().size, expected.size);
    EXPECT_NEAR(distance(labels.geometry().originLps, expected.originLps), 0.0, 1e-4);
    for (std::size_t n = 0; n < labels.voxels().size(); n += 97)
        ASSERT_EQ(labels.voxels()[n], static_cast<float>(phantom.labels.labels()[n])) << n;
    // A named target lands on the same voxel in both.
    ASSERT_FALSE(phantom.targets.empty());
    const Vec3 targetLps = phantom.targets.front().positionLps;
    const Vec3 a = g.ijkFromLps(targetLps), b = expected.ijkFromLps(targetLps);
    EXPECT_NEAR(distance(a, b), 0.0, 1e-4);
}

} // namespace

TEST(DicomPhantomRoundTrip, ProneAnisotropic)
{
    np::phantom::PhantomOptions options;
    options.patientPosition = "HFP";
    options.spacing = {1.6, 2.0, 2.5};
    options.size = {96, 80, 36};
    expectRoundTrip(options);
}

TEST(DicomPhantomRoundTrip, SupineAndFeetFirst)
{
    for (const char* position : {"HFS", "FFS", "FFP"}) {
        np::phantom::PhantomOptions options;
        options.patientPosition = position;
        options.spacing = {2.0, 2.0, 3.0};
        options.size = {72, 64, 24};
        expectRoundTrip(options);
    }
}

TEST(DicomPhantomRoundTrip, ObliqueProneAnisotropic)
{
    np::phantom::PhantomOptions options;
    options.patientPosition = "HFP";
    options.spacing = {1.5, 1.9, 2.7};
    options.size = {90, 84, 30};
    options.obliqueDeg = 20.0;
    expectRoundTrip(options);
}

#else

TEST(DicomPhantomRoundTrip, Skipped)
{
    GTEST_SKIP() << "the phantom library (np_phantom) is not part of this build";
}

#endif
