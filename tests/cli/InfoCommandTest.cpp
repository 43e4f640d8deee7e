// needleplan-cli info, end to end.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Volume.h"

namespace fs = std::filesystem;
using nlohmann::json;
using np::Mat3;
using np::Vec3;
using namespace np::imaging;

namespace {

int lineCount(const std::string& text)
{
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

/// An oblique, anisotropic 6 x 5 x 4 CT with values -1000 + i + 10 j + 100 k, written as DICOM.
Geometry writeSmallSeries(const fs::path& folder, const std::string& patientPosition)
{
    Geometry geometry;
    geometry.size = {6, 5, 4};
    geometry.spacing = {0.6, 0.9, 2.5};
    geometry.originLps = {10.0, -20.0, 30.0};
    const double a = 0.4;
    geometry.directionLps = Mat3::fromColumns({std::cos(a), std::sin(a), 0}, {0, 0, -1}, {-std::sin(a), std::cos(a), 0});
    Volume volume(geometry);
    for (std::int64_t k = 0; k < 4; ++k)
        for (std::int64_t j = 0; j < 5; ++j)
            for (std::int64_t i = 0; i < 6; ++i)
                volume.at(i, j, k) = static_cast<float>(-1000 + i + 10 * j + 100 * k);
    DicomWriteOptions options;
    options.patientPosition = patientPosition;
    options.seriesDescription = "small oblique";
    options.seriesUid = "1.2.826.0.1.3680043.9.7777.50";
    writeDicomSeries(volume, folder.string(), options);
    return geometry;
}

} // namespace

TEST(InfoCommand, MissingPathExitsTwoWithOneLineNamingIt)
{
    const auto result = np::test::runCli({"info", "/no/such/folder/anywhere"});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(lineCount(result.err), 1) << result.err;
    EXPECT_NE(result.err.find("/no/such/folder/anywhere"), std::string::npos) << result.err;
}

TEST(InfoCommand, NonDicomFileExitsTwo)
{
    np::test::TempDir dir;
    const fs::path text = dir.path() / "readme.txt";
    std::ofstream(text) << "plain text, not an image\n";
    const auto result = np::test::runCli({"info", text.string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_EQ(lineCount(result.err), 1) << result.err;
    EXPECT_NE(result.err.find("readme.txt"), std::string::npos) << result.err;
}

TEST(InfoCommand, JsonListsSeriesWithStableKeysAndSkippedFiles)
{
    np::test::TempDir dir;
    const Geometry geometry = writeSmallSeries(dir.path() / "ct", "HFP");
    std::ofstream(dir.path() / "notes.txt") << "not DICOM\n";
    const auto result = np::test::runCli({"info", dir.path().string(), "--json"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json document = json::parse(result.out);
    ASSERT_TRUE(document.contains("series"));
    ASSERT_TRUE(document.contains("skipped"));
    ASSERT_EQ(document["series"].size(), 1u);
    const json& series = document["series"][0];
    for (const char* key : {"index", "seriesUid", "modality", "description", "size", "spacing", "originLps", "direction",
                            "patientPosition", "huRange", "warnings", "kind", "error"})
        EXPECT_TRUE(series.contains(key)) << key;
    EXPECT_EQ(series["index"], 0);
    EXPECT_EQ(series["kind"], "volume");
    EXPECT_EQ(series["seriesUid"], "1.2.826.0.1.3680043.9.7777.50");
    EXPECT_EQ(series["modality"], "CT");
    EXPECT_EQ(series["description"], "small oblique");
    EXPECT_EQ(series["patientPosition"], "HFP");
    EXPECT_EQ(series["size"], json::array({6, 5, 4}));
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(series["spacing"][a].get<double>(), geometry.spacing[a], 1e-4);
        EXPECT_NEAR(series["originLps"][a].get<double>(), geometry.originLps[a], 1e-4);
    }
    // Row-major; column c is the LPS direction of axis c.
    ASSERT_EQ(series["direction"].size(), 9u);
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c)
            EXPECT_NEAR(series["direction"][3 * r + c].get<double>(), geometry.directionLps(r, c), 1e-5) << r << "," << c;
    EXPECT_EQ(series["huRange"], json::array({-1000.0, -1000.0 + 5 + 40 + 300}));
    EXPECT_TRUE(series["warnings"].empty());
    EXPECT_TRUE(series["error"].is_null());
    ASSERT_EQ(document["skipped"].size(), 1u);
    EXPECT_NE(document["skipped"][0]["path"].get<std::string>().find("notes.txt"), std::string::npos);
    EXPECT_EQ(document["skipped"][0]["reason"], "not a DICOM file");
}

TEST(InfoCommand, TextListingShowsEverySeriesAndSkippedFile)
{
    np::test::TempDir dir;
    writeSmallSeries(dir.path() / "ct", "HFS");
    std::ofstream(dir.path() / "notes.txt") << "not DICOM\n";
    const auto result = np::test::runCli({"info", dir.path().string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("1.2.826.0.1.3680043.9.7777.50"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("[6, 5, 4]"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("notes.txt: not a DICOM file"), std::string::npos) << result.out;
}

TEST(InfoCommand, EveryRealDicomFileAndFolderGivesAResultOrACleanError)
{
    NP_REQUIRE_REALDICOM();
    const fs::path root = np::test::realDicomDir();
    std::vector<fs::path> inputs{root};
    for (const auto& entry : fs::recursive_directory_iterator(root))
        inputs.push_back(entry.path());
    std::sort(inputs.begin(), inputs.end());
    int listed = 0;
    for (const fs::path& input : inputs) {
        const auto result = np::test::runCli({"info", input.string(), "--json"});
        ASSERT_TRUE(result.exitCode == 0 || result.exitCode == 2) << input << " exit " << result.exitCode << "\n" << result.err;
        if (result.exitCode == 2) {
            EXPECT_EQ(lineCount(result.err), 1) << input << ": " << result.err;
            continue;
        }
        const json document = json::parse(result.out);
        EXPECT_TRUE(document.contains("series") && document.contains("skipped")) << input;
        listed += static_cast<int>(document["series"].size());
    }
    EXPECT_GT(listed, 40);
}
