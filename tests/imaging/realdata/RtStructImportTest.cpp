// RTSTRUCT import on the rt-utils files of the shared real data.

#include "needleplan/imaging/RtStructImport.h"

#include "StructureImportTestReference.h"
#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

std::filesystem::path rtDir()
{
    return np::test::realDicomDir() / "07_rtstruct" / "rtutils_mock";
}

Volume rtReference()
{
    return testref::referenceFromSlices({rtDir() / "ct_1.dcm", rtDir() / "ct_2.dcm"});
}

bool hasWarning(const StructureSet& set, const std::string& text)
{
    return std::any_of(set.warnings().begin(), set.warnings().end(),
                       [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

std::int64_t sliceCount(const StructureMask& mask, const Geometry& g, std::int64_t k)
{
    std::int64_t n = 0;
    for (std::int64_t v = 0; v < g.size[0] * g.size[1]; ++v)
        n += mask.voxels[static_cast<std::size_t>(k * g.size[0] * g.size[1] + v)];
    return n;
}

TEST(RtStructImport, NotDicomFileFailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    try {
        importRtStruct((np::test::realDicomDir() / "README.md").string(), rtReference());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotDicom);
        EXPECT_NE(std::string(e.what()).find("README.md"), std::string::npos);
    }
}

TEST(RtStructImport, CtImageIsNotAnRtStruct)
{
    NP_REQUIRE_REALDICOM();
    try {
        importRtStruct((rtDir() / "ct_1.dcm").string(), rtReference());
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotDicom);
        EXPECT_NE(std::string(e.what()).find("not an RT Structure Set"), std::string::npos);
    }
}

TEST(RtStructImport, SquareWithHoleOnFirstSlice)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = rtReference();
    const StructureSet set = importRtStruct((rtDir() / "rt.dcm").string(), ct);
    ASSERT_EQ(set.structures().size(), 1u);
    const StructureMask& roi = set.structures()[0];
    EXPECT_EQ(roi.segment.name, "ROI-1");
    EXPECT_NEAR(roi.segment.colorRgb[0], 162.0 / 255.0, 1e-9);
    EXPECT_NEAR(roi.segment.colorRgb[1], 136.0 / 255.0, 1e-9);
    EXPECT_NEAR(roi.segment.colorRgb[2], 95.0 / 255.0, 1e-9);
    // Both contours lie at z = 60 (slice 0): a 24 mm square (-51..-27) with an inner contour
    // that is a 15 mm square (-47..-32) missing a 1 mm right triangle at one corner, so the ring
    // is 576 - (225 - 0.5) = 351.5 mm^2. Tolerance: the perimeter (96 + 4*15 - 2 + sqrt 2) times
    // the pixel size.
    const Geometry& g = ct.geometry();
    const double area = double(sliceCount(roi, g, 0)) * g.spacing.x * g.spacing.y;
    EXPECT_NEAR(area, 351.5, (96.0 + 58.0 + std::sqrt(2.0)) * g.spacing.x);
    EXPECT_EQ(sliceCount(roi, g, 1), 0);
    // The file's frame of reference UID is not the CT's: warned with both UIDs.
    EXPECT_TRUE(hasWarning(set, "frame of reference"));
    EXPECT_TRUE(hasWarning(set, ct.info().frameOfReferenceUid));
}

TEST(RtStructImport, ReferencesToSlicesNotLoadedAreCounted)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = rtReference();
    const StructureSet set = importRtStruct((rtDir() / "invalid_reference_rt.dcm").string(), ct);
    ASSERT_EQ(set.structures().size(), 4u);
    // Each of the 4 ROIs has one contour on the slice at z = 70 (SOP ...995.90), not loaded.
    EXPECT_TRUE(hasWarning(set, "4 contours reference 1 slice that is not loaded")) << set.warnings().front();
    EXPECT_TRUE(hasWarning(set, "563423471.995.90"));
    for (const auto& roi : set.structures()) {
        EXPECT_GT(sliceCount(roi, ct.geometry(), 0), 0) << roi.segment.name;
        EXPECT_GT(sliceCount(roi, ct.geometry(), 1), 0) << roi.segment.name;
    }
}

TEST(RtStructImport, MissingSeriesReferenceIsReported)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = rtReference();
    const StructureSet set = importRtStruct((rtDir() / "non_existent_reference_rt.dcm").string(), ct);
    EXPECT_EQ(set.structures().size(), 4u);
    EXPECT_TRUE(hasWarning(set, "missing reference"));
    EXPECT_TRUE(hasWarning(set, "not loaded"));
}

TEST(RtStructImport, ContoursOffTheLoadedGridAreAnError)
{
    NP_REQUIRE_REALDICOM();
    Volume ct = rtReference();
    Geometry shifted = ct.geometry();
    shifted.originLps.z += 200.0;
    Volume elsewhere(shifted, 0.0f);
    try {
        importRtStruct((rtDir() / "rt.dcm").string(), elsewhere);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InconsistentGeometry);
        EXPECT_NE(std::string(e.what()).find("none of its 2 contours"), std::string::npos) << e.what();
    }
}

TEST(RtStructImport, CtFromTheLoaderGivesTheSameVoxels)
{
    NP_REQUIRE_REALDICOM();
    // The folder also holds the RTSTRUCTs; the loader picks the 2 CT slices.
    const Volume loaded = loadVolume(rtDir().string());
    ASSERT_EQ(loaded.info().sliceSopInstanceUids.size(), 2u);
    const StructureSet fromLoader = importRtStruct((rtDir() / "invalid_reference_rt.dcm").string(), loaded);
    const StructureSet fromHeaders =
        importRtStruct((rtDir() / "invalid_reference_rt.dcm").string(), rtReference());
    ASSERT_EQ(fromLoader.structures().size(), fromHeaders.structures().size());
    for (std::size_t s = 0; s < fromLoader.structures().size(); ++s)
        EXPECT_EQ(fromLoader.structures()[s].voxels, fromHeaders.structures()[s].voxels);
    EXPECT_TRUE(hasWarning(fromLoader, "4 contours reference 1 slice that is not loaded"));
}

} // namespace
} // namespace np::imaging
