// needleplan-cli triangulate end to end on two XA files written with hand-worked geometry: AP
// (primary 0) and LAO 90, SID 1000 mm, SOD 750 mm, 512 pixels over 300 mm. Without poses the point
// is relative to the shared isocentre. The point (12, 30, −8) lies at depth 720 mm in the AP view
// (column offset 12, row offset 8) and 762 mm in the lateral view (column offset 30, row offset 8);
// a pixel offset is (1000/depth)·offset/(300/512).

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using np::Vec3;
using namespace np::imaging;

namespace {

constexpr double kPitch = 300.0 / 512.0;

std::string writeView(const fs::path& folder, const std::string& name, double primaryDeg)
{
    CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.isocenterLps = {100.0, 200.0, 300.0}; // not stored in an XA
    const std::string path = (folder / name).string();
    writeXaImage(path, {CArmGeometry(p)}, {std::vector<std::uint8_t>(512 * 512, 100)});
    return path;
}

std::string mark(const std::string& path, double column, double row)
{
    return path + ":" + std::to_string(column) + "," + std::to_string(row);
}

} // namespace

TEST(TriangulateCommand, RejectsBadMarksAndPoseFiles)
{
    np::test::TempDir dir;
    const std::string ap = writeView(dir.path(), "ap.dcm", 0.0);
    const std::string lateral = writeView(dir.path(), "lat.dcm", 90.0);
    EXPECT_EQ(np::test::runCli({"triangulate", "--view", mark(ap, 10, 10)}).exitCode, 2);
    EXPECT_EQ(
        np::test::runCli({"triangulate", "--view", ap + ":ten,10", "--view", mark(lateral, 10, 10)}).exitCode,
        2);
    const auto outside =
        np::test::runCli({"triangulate", "--view", mark(ap, 600, 10), "--view", mark(lateral, 10, 10)});
    EXPECT_EQ(outside.exitCode, 2);
    EXPECT_NE(outside.err.find("outside"), std::string::npos) << outside.err;
    const fs::path junk = dir.path() / "pose.json";
    std::ofstream(junk) << "{\"schema\":\"needleplan.fluoro-pose/1\",\"registered\":false}";
    const auto refused =
        np::test::runCli({"triangulate", "--view", mark(ap, 10, 10), "--view", mark(lateral, 10, 10),
                          "--pose1", junk.string(), "--pose2", junk.string()});
    EXPECT_EQ(refused.exitCode, 2);
    EXPECT_NE(refused.err.find("did not succeed"), std::string::npos) << refused.err;
    EXPECT_EQ(np::test::runCli({"triangulate", "--view", mark(ap, 10, 10), "--view",
                                (dir.path() / "missing.dcm").string() + ":1,1"})
                  .exitCode,
              2);
}

TEST(TriangulateCommand, FindsAHandWorkedPointRelativeToTheIsocenter)
{
    np::test::TempDir dir;
    const std::string ap = writeView(dir.path(), "ap.dcm", 0.0);
    const std::string lateral = writeView(dir.path(), "lat.dcm", 90.0);
    const double apColumn = 255.5 + (1000.0 / 720.0) * 12.0 / kPitch,
                 apRow = 255.5 + (1000.0 / 720.0) * 8.0 / kPitch;
    const double latColumn = 255.5 + (1000.0 / 762.0) * 30.0 / kPitch,
                 latRow = 255.5 + (1000.0 / 762.0) * 8.0 / kPitch;
    const auto r = np::test::runCli({"triangulate", "--view", mark(ap, apColumn, apRow), "--view",
                                     mark(lateral, latColumn, latRow), "--json"});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const json out = json::parse(r.out);
    // std::to_string keeps 6 decimals: 1e-6 px is about 4e-7 mm.
    EXPECT_NEAR(out["pointLps"][0].get<double>(), 12.0, 1e-4);
    EXPECT_NEAR(out["pointLps"][1].get<double>(), 30.0, 1e-4);
    EXPECT_NEAR(out["pointLps"][2].get<double>(), -8.0, 1e-4);
    EXPECT_TRUE(out["relativeToIsocenter"].get<bool>());
    EXPECT_NEAR(out["rayGapMm"].get<double>(), 0.0, 1e-4);
    EXPECT_NEAR(out["epipolarLineInView2"]["mark2DistancePx"].get<double>(), 0.0, 1e-4);
    EXPECT_FALSE(out["gapWarning"].get<bool>());

    // 10 rows lower in the AP view: the rays miss by 10 × pitch × 0.72 = 4.2 mm, with a warning.
    const auto moved = np::test::runCli({"triangulate", "--view", mark(ap, apColumn, apRow + 10.0), "--view",
                                         mark(lateral, latColumn, latRow), "--json"});
    ASSERT_EQ(moved.exitCode, 0) << moved.err;
    const json far = json::parse(moved.out);
    EXPECT_NEAR(far["rayGapMm"].get<double>(), 10.0 * kPitch * 0.72, 0.1);
    EXPECT_TRUE(far["gapWarning"].get<bool>());
    EXPECT_NE(moved.err.find("warning"), std::string::npos);
}
