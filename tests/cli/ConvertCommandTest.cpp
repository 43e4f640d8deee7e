// needleplan-cli convert, end to end.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/ImageLoader.h"

namespace fs = std::filesystem;
using np::Mat3;
using namespace np::imaging;

namespace {

int lineCount(const std::string& text)
{
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

Volume writeSeries(const fs::path& folder, const std::string& seriesUid, float offset)
{
    Geometry geometry;
    geometry.size = {7, 6, 5};
    geometry.spacing = {0.8, 0.8, 1.7};
    geometry.originLps = {-5.0, 3.0, -40.0};
    geometry.directionLps = Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1}); // prone axial
    Volume volume(geometry);
    for (std::size_t n = 0; n < volume.voxels().size(); ++n)
        volume.voxels()[n] = offset + static_cast<float>(n % 97);
    DicomWriteOptions options;
    options.patientPosition = "HFP";
    options.seriesUid = seriesUid;
    writeDicomSeries(volume, folder.string(), options);
    return volume;
}

} // namespace

TEST(ConvertCommand, MissingOutputOptionExitsTwo)
{
    const auto result = np::test::runCli({"convert", "/tmp"});
    EXPECT_EQ(result.exitCode, 2);
}

TEST(ConvertCommand, OutputMustBeNrrd)
{
    np::test::TempDir dir;
    writeSeries(dir.path() / "a", "1.2.826.0.1.3680043.9.7777.63", 0.0f);
    const auto result = np::test::runCli({"convert", dir.path().string(), "--out", (dir.path() / "out.nii").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("out.nii"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir.path() / "out.nii"));
}

TEST(ConvertCommand, BadSeriesIndexExitsTwoNamingThePath)
{
    np::test::TempDir dir;
    writeSeries(dir.path() / "a", "1.2.826.0.1.3680043.9.7777.60", 0.0f);
    const auto result = np::test::runCli({"convert", dir.path().string(), "--series", "5", "--out",
                                          (dir.path() / "out.nrrd").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(lineCount(result.err), 1) << result.err;
    EXPECT_NE(result.err.find(dir.path().string()), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir.path() / "out.nrrd"));
}

TEST(ConvertCommand, WritesTheChosenSeriesExactlyAsHeld)
{
    np::test::TempDir dir;
    const Volume first = writeSeries(dir.path() / "a", "1.2.826.0.1.3680043.9.7777.61", -100.0f);
    const Volume second = writeSeries(dir.path() / "b", "1.2.826.0.1.3680043.9.7777.62", 500.0f);
    const fs::path out = dir.path() / "second.nrrd";
    const auto result = np::test::runCli(
        {"convert", dir.path().string(), "--series-uid", "1.2.826.0.1.3680043.9.7777.62", "--out", out.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    std::ifstream in(out);
    std::string line;
    bool lps = false;
    while (std::getline(in, line) && !line.empty())
        lps = lps || line == "space: left-posterior-superior";
    EXPECT_TRUE(lps);
    const Volume written = loadVolume(out.string());
    EXPECT_EQ(written.voxels(), second.voxels());
    const Geometry& g = written.geometry();
    EXPECT_EQ(g.size, second.geometry().size);
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(g.spacing[a], second.geometry().spacing[a], 1e-4);
        EXPECT_NEAR(g.originLps[a], second.geometry().originLps[a], 1e-4);
    }
    for (int n = 0; n < 9; ++n)
        EXPECT_NEAR(g.directionLps.m[static_cast<std::size_t>(n)], second.geometry().directionLps.m[static_cast<std::size_t>(n)], 1e-6);
    // By index as well.
    const fs::path byIndex = dir.path() / "first.nrrd";
    ASSERT_EQ(np::test::runCli({"convert", dir.path().string(), "--series", "0", "--out", byIndex.string()}).exitCode, 0);
    EXPECT_EQ(loadVolume(byIndex.string()).voxels(), first.voxels());
}

TEST(ConvertCommand, Jpeg2000FileExitsTwoWithUnsupportedTransferSyntax)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const auto result = np::test::runCli({"convert", (np::test::realDicomDir() / "11_mr_same_image_9_ts" / "9.dcm").string(),
                                          "--out", (dir.path() / "x.nrrd").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(lineCount(result.err), 1) << result.err;
    EXPECT_NE(result.err.find("unsupported transfer syntax"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("9.dcm"), std::string::npos) << result.err;
}

TEST(ConvertCommand, EveryRealDicomFileAndFolderConvertsOrFailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const fs::path root = np::test::realDicomDir();
    std::vector<fs::path> inputs{root};
    for (const auto& entry : fs::recursive_directory_iterator(root))
        inputs.push_back(entry.path());
    std::sort(inputs.begin(), inputs.end());
    int converted = 0;
    for (const fs::path& input : inputs) {
        const fs::path out = dir.path() / "out.nrrd";
        const auto result = np::test::runCli({"convert", input.string(), "--out", out.string()});
        ASSERT_TRUE(result.exitCode == 0 || result.exitCode == 2) << input << " exit " << result.exitCode << "\n" << result.err;
        if (result.exitCode == 0) {
            EXPECT_FALSE(loadVolume(out.string()).empty()) << input;
            ++converted;
        } else {
            EXPECT_NE(result.err.find("error:"), std::string::npos) << input << ": " << result.err;
        }
    }
    EXPECT_GT(converted, 30);
}
