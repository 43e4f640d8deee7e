// needleplan-cli phantom: end to end.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/LabelMapIO.h"

namespace {

using np::test::runCli;

TEST(PhantomCommand, BadArgumentsExitWithTwo)
{
    np::test::TempDir dir;
    const std::string out = (dir.path() / "p").string();
    const std::vector<std::vector<std::string>> cases = {
        {"phantom"},                                            // --out missing
        {"phantom", "--out", out, "--size", "10,20"},           // two values
        {"phantom", "--out", out, "--size", "a,b,c"},           // not numbers
        {"phantom", "--out", out, "--size", "10,0,10"},         // zero
        {"phantom", "--out", out, "--size", "10,2.5,10"},       // fraction
        {"phantom", "--out", out, "--spacing", "0,1,1"},        // zero spacing
        {"phantom", "--out", out, "--spacing", "1,nan,1"},      // NaN
        {"phantom", "--out", out, "--patient-position", "XYZ"}, // unknown position
        {"phantom", "--out", out, "--oblique-deg", "400"},      // out of range
        {"phantom", "--out", out, "--noise", "-3"},
        {"phantom", "--out", out, "--seed", "-1"},
    };
    for (const auto& arguments : cases) {
        const auto result = runCli(arguments);
        std::string line;
        for (const auto& a : arguments)
            line += a + " ";
        EXPECT_EQ(result.exitCode, 2) << line << "\n" << result.err;
        EXPECT_FALSE(result.err.empty()) << line;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "p" / "targets.json"));
}

TEST(PhantomCommand, WritesTheThreeOutputs)
{
    np::test::TempDir dir;
    const auto out = dir.path() / "phantom";
    const auto result = runCli({"phantom", "--out", out.string(), "--spacing", "2,2,2.5", "--oblique-deg", "15",
                                "--patient-position", "FFS", "--seed", "7"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_TRUE(std::filesystem::is_regular_file(out / "structures.seg.nrrd"));
    EXPECT_TRUE(std::filesystem::is_regular_file(out / "targets.json"));
    std::int64_t slices = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(out / "dicom"))
        ++slices;
    const auto labels = np::imaging::readLabelMap((out / "structures.seg.nrrd").string());
    EXPECT_EQ(slices, labels.geometry().size[2]);
    EXPECT_NEAR(labels.geometry().spacing.x, 2.0, 1e-12);
    EXPECT_NEAR(labels.geometry().spacing.z, 2.5, 1e-12);
    EXPECT_NE(labels.findSegment("dura"), nullptr);
    std::ifstream in(out / "targets.json");
    const auto document = nlohmann::json::parse(in);
    EXPECT_EQ(document["schema"], "needleplan.targets/1");
    EXPECT_EQ(document["coordinateSystem"], "LPS");
    EXPECT_GE(document["targets"].size(), 20u);
}

TEST(PhantomCommand, ExplicitSizeIsHonoured)
{
    np::test::TempDir dir;
    const auto out = dir.path() / "phantom";
    const auto result = runCli({"phantom", "--out", out.string(), "--size", "64,48,20", "--spacing", "3,3,3"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const auto labels = np::imaging::readLabelMap((out / "structures.seg.nrrd").string());
    EXPECT_EQ(labels.geometry().size, (np::imaging::Size3{64, 48, 20}));
}

} // namespace
