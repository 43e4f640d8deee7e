// Projection images from real equipment (../shared/data/realdicom, see its README.md).

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <algorithm>
#include <gtest/gtest.h>
#include <numeric>

using namespace np::imaging;

namespace {

std::string data(const std::string& relative)
{
    return (np::test::realDicomDir() / relative).string();
}

double meanOver(const ProjectionImage& image, int frame, int column0, int column1, int row0, int row1)
{
    double sum = 0.0;
    int count = 0;
    for (int r = row0; r < row1; ++r)
        for (int c = column0; c < column1; ++c, ++count)
            sum += image.frame(frame)[static_cast<std::size_t>(r) * image.columns + c];
    return sum / count;
}

bool contains(const std::vector<std::string>& list, const std::string& text)
{
    return std::any_of(list.begin(), list.end(),
                       [&](const std::string& s) { return s.find(text) != std::string::npos; });
}

} // namespace

TEST(ProjectionRealData, XaCineLoadsAll96FramesWithAnglesOnly)
{
    NP_REQUIRE_REALDICOM();
    const ProjectionImage image = loadProjectionImage(data("08_xa/xa_96frames_jpegbaseline.dcm"));
    EXPECT_EQ(image.modality, "XA");
    EXPECT_EQ(image.frameCount, 96);
    EXPECT_EQ(image.columns, 512);
    EXPECT_EQ(image.rows, 512);
    EXPECT_DOUBLE_EQ(image.frameTimeMs, 33.0);
    ASSERT_EQ(image.pixels.size(), 96u * 512u * 512u);
    ASSERT_EQ(image.geometry.frames.size(), 96u);
    for (const auto& frame : image.geometry.frames) {
        EXPECT_DOUBLE_EQ(*frame.primaryDeg, -32.0);
        EXPECT_DOUBLE_EQ(*frame.secondaryDeg, 2.0);
    }
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::AnglesOnly);
    EXPECT_TRUE(contains(image.geometry.missing, "DistanceSourceToDetector (0018,1110)"));
    EXPECT_TRUE(contains(image.geometry.missing, "DistanceSourceToPatient (0018,1111)"));
    EXPECT_TRUE(contains(image.geometry.missing, "ImagerPixelSpacing (0018,1164)"));
    EXPECT_FALSE(image.geometry.isocenterPixelSpacingMm);
    EXPECT_THROW(image.frameView(0), np::Error);
    // Decoded JPEG: frames carry an image (not constant) and differ over the run.
    const auto [low, high] = std::minmax_element(image.pixels.begin(), image.pixels.begin() + 512 * 512);
    EXPECT_GT(*high - *low, 100.0f);
    EXPECT_NE(meanOver(image, 0, 0, 512, 0, 512), meanOver(image, 95, 0, 512, 0, 512));
}

TEST(ProjectionRealData, DxMonochrome1ShowsBoneBright)
{
    NP_REQUIRE_REALDICOM();
    const ProjectionImage image = loadProjectionImage(data("09_dx/dx_fuji_chest_small.dcm"));
    EXPECT_EQ(image.modality, "DX");
    EXPECT_TRUE(image.monochrome1);
    EXPECT_EQ(image.frameCount, 1);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::None);
    EXPECT_TRUE(contains(image.geometry.missing, "PositionerPrimaryAngle (0018,1510)"));
    ASSERT_TRUE(image.geometry.detectorPixelSpacingMm);
    EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[0], 1.2);
    ASSERT_TRUE(image.geometry.sourceToDetectorMm);
    EXPECT_DOUBLE_EQ(*image.geometry.sourceToDetectorMm, 1000.0);
    // A lateral chest radiograph of a dog: the spine runs along the top, air lies below the
    // belly at the bottom left. Shown as MONOCHROME1 should be, the spine is bright and air dark.
    const double spine = meanOver(image, 0, 80, 200, 20, 45);
    const double air = meanOver(image, 0, 0, 40, 150, image.rows);
    EXPECT_GT(spine, air + 50.0);
}
