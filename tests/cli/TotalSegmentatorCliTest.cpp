// needleplan-cli with TotalSegmentator output: `structures import FOLDER|ML.nii.gz` and
// `check --structures FOLDER`, with the classification rule printed for each structure. The CT
// (NRRD) and the masks (NIfTI) are written in the test by ITK.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <algorithm>
#include <functional>
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>

namespace {

namespace fs = std::filesystem;
using np::Vec3;

/// 2 mm voxels, 60 x 60 x 30, identity directions, origin (-59, -59, -29): centred at 0.
np::imaging::Geometry grid()
{
    np::imaging::Geometry g;
    g.size = {60, 60, 30};
    g.spacing = {2.0, 2.0, 2.0};
    g.originLps = {-59.0, -59.0, -29.0};
    return g;
}

/// A mask on the test grid, or on that grid moved by `shiftLps` (mm).
void writeMask(const fs::path& path, const std::function<int(const Vec3&)>& value, const Vec3& shiftLps = {})
{
    auto g = grid();
    g.originLps = g.originLps + shiftLps;
    using Image = itk::Image<std::uint8_t, 3>;
    auto image = Image::New();
    Image::RegionType region;
    region.SetSize({{60, 60, 30}});
    image->SetRegions(region);
    Image::SpacingType spacing;
    spacing.Fill(2.0);
    image->SetSpacing(spacing);
    Image::PointType origin;
    origin[0] = g.originLps.x, origin[1] = g.originLps.y, origin[2] = g.originLps.z;
    image->SetOrigin(origin);
    image->Allocate();
    for (std::int64_t k = 0; k < 30; ++k)
        for (std::int64_t j = 0; j < 60; ++j)
            for (std::int64_t i = 0; i < 60; ++i)
                image->SetPixel({{i, j, k}}, static_cast<std::uint8_t>(
                                                 value(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}))));
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(image);
    writer->SetFileName(path.string());
    writer->Update();
}

/// A body cylinder (40 HU in air) of radius 50 mm along z.
fs::path writeCt(const fs::path& dir)
{
    np::imaging::Volume ct(grid(), -1000.0f);
    const auto g = grid();
    for (std::int64_t k = 0; k < 30; ++k)
        for (std::int64_t j = 0; j < 60; ++j)
            for (std::int64_t i = 0; i < 60; ++i) {
                const Vec3 p = g.lpsFromIjk(Vec3{double(i), double(j), double(k)});
                if (std::hypot(p.x, p.y) <= 50.0)
                    ct.at(i, j, k) = 40.0f;
            }
    const fs::path path = dir / "ct.nrrd";
    np::imaging::writeVolumeNrrd(ct, path.string());
    return path;
}

std::function<int(const Vec3&)> ball(const Vec3& centre, double radius, int value = 1)
{
    return [=](const Vec3& p) { return np::distance(p, centre) <= radius ? value : 0; };
}

TEST(TotalSegmentatorCli, ImportsAFolderAndPrintsTheRuleOfEachStructure)
{
    np::test::TempDir dir;
    const fs::path ct = writeCt(dir.path());
    const fs::path masks = dir.path() / "ts" / "segmentations";
    fs::create_directories(masks);
    writeMask(masks / "iliac_vena_left.nii.gz", ball({-20, -10, 0}, 6.0));
    writeMask(masks / "hip_left.nii.gz", ball({-30, 10, 0}, 8.0));
    writeMask(masks / "duodenum.nii.gz", ball({10, -25, 0}, 7.0));
    writeMask(masks / "autochthon_left.nii.gz", ball({-12, 30, 0}, 7.0));
    const std::string out = (dir.path() / "ts.seg.nrrd").string();
    const auto result = np::test::runCli(
        {"structures", "import", (dir.path() / "ts").string(), "--reference", ct.string(), "--out", out});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("forbidden 3.0 mm  [name: iliac_vena_left]"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("obstacle 0.0 mm  [name: hip_left]"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("forbidden 5.0 mm  [name: duodenum]"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("ignored 0.0 mm  [name: autochthon_left]"), std::string::npos) << result.out;
    const auto labels = np::imaging::readLabelMap(out);
    EXPECT_EQ(labels.segments().size(), 4u);
    EXPECT_NE(labels.findSegment("iliac_vena_left"), nullptr);

    // check with the folder as the structures: the listing says which rule classified each.
    const auto check =
        np::test::runCli({"check", "--image", ct.string(), "--structures", (dir.path() / "ts").string(),
                          "--entry", "0,50,0", "--target", "0,0,0"});
    ASSERT_TRUE(check.exitCode == 0 || check.exitCode == 4) << check.err;
    EXPECT_NE(check.out.find("[name: iliac_vena_left]"), std::string::npos) << check.out;
}

TEST(TotalSegmentatorCli, MultilabelNiftiWithAndWithoutAClassMap)
{
    np::test::TempDir dir;
    const fs::path ct = writeCt(dir.path());
    const fs::path ml = dir.path() / "total.nii.gz";
    // TotalSegmentator v2 numbering: 5 liver, 67 iliac_vena_left.
    writeMask(ml, [](const Vec3& p) {
        return np::distance(p, {20, -10, 0}) <= 8.0 ? 5 : np::distance(p, {-20, -10, 0}) <= 6.0 ? 67 : 0;
    });
    const std::string out = (dir.path() / "o.seg.nrrd").string();
    auto result =
        np::test::runCli({"structures", "import", ml.string(), "--reference", ct.string(), "--out", out});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.err.find("no class map"), std::string::npos) << result.err;
    EXPECT_NE(result.out.find("label_67"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("caution 2.0 mm  [fallback: no rule matched]"), std::string::npos)
        << result.out;

    result = np::test::runCli({"structures", "import", ml.string(), "--reference", ct.string(), "--out", out,
                               "--class-map", "totalsegmentator-v2"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("forbidden 3.0 mm  [name: iliac_vena_left]"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("forbidden 5.0 mm  [name: liver]"), std::string::npos) << result.out;

    result = np::test::runCli({"structures", "import", ml.string(), "--reference", ct.string(), "--out", out,
                               "--class-map", "mine"});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("totalsegmentator-v2"), std::string::npos) << result.err;
}

TEST(TotalSegmentatorCli, AMaskThatMissesTheCtIsBadInputNamingTheFile)
{
    np::test::TempDir dir;
    const fs::path ct = writeCt(dir.path());
    const fs::path folder = dir.path() / "ts" / "segmentations";
    fs::create_directories(folder);
    writeMask(folder / "liver.nii.gz", ball({20, -10, 0}, 8.0));
    // The colon's mask lies 500 mm to the patient's left of the CT: it covers none of it.
    writeMask(
        folder / "colon.nii.gz", [](const Vec3&) { return 1; }, Vec3{500.0, 0.0, 0.0});
    const fs::path out = dir.path() / "o.seg.nrrd";
    const auto result = np::test::runCli({"structures", "import", (dir.path() / "ts").string(), "--reference",
                                          ct.string(), "--out", out.string()});
    EXPECT_EQ(result.exitCode, 2) << result.out << result.err;
    EXPECT_NE(result.err.find("colon.nii.gz"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("does not overlap the CT"), std::string::npos) << result.err;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err; // one line
    EXPECT_FALSE(fs::exists(out));
}

} // namespace
