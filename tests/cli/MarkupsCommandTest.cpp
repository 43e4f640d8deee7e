// needleplan-cli markups export / import with hand-written plans and markups files (LPS and RAS).

#include "CliRunner.h"
#include "TestSupport.h"

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

/// A minimal plan on the real liver CT (3 slices at z = -128.69 .. -126.69 LPS).
std::string planText(const std::string& image)
{
    const json angles = {{"craniocaudalDeg", 0.0},
                         {"craniocaudal", "axial"},
                         {"mediolateralDeg", 0.0},
                         {"mediolateralSide", "none"},
                         {"bullseye", {{"primaryDeg", 0.0}, {"secondaryDeg", 0.0}}},
                         {"progression", {{"primaryDeg", 90.0}, {"secondaryDeg", 0.0}}}};
    const json plan = {
        {"schema", "needleplan.plan/1"},
        {"image", {{"path", image}}},
        {"needle",
         {{"name", "22G-90mm"}, {"gauge", 22}, {"outerDiameterMm", 0.72}, {"usableLengthMm", 90.0}}},
        {"structures", json::array()},
        {"targets",
         {{{"name", "T"},
           {"targetLps", {1.5, 2.5, -127.69}},
           {"trajectories",
            {{{"entryLps", {-40.0, 60.0, -127.69}},
              {"targetLps", {1.5, 2.5, -127.69}},
              {"safe", false},
              {"lengthMm", 70.7},
              {"clearances", json::array()},
              {"angles", angles}}}}}}}};
    return plan.dump(1);
}

json readJson(const std::filesystem::path& path)
{
    std::ifstream in(path);
    return json::parse(in);
}

TEST(MarkupsCommand, ExportWritesTargetsAndOneLinePerTrajectoryInLps)
{
    np::test::TempDir dir;
    std::ofstream(dir.path() / "plan.json") << planText("/nowhere");
    const auto out = dir.path() / "plan.mrk.json";
    const auto result = np::test::runCli(
        {"markups", "export", "--plan", (dir.path() / "plan.json").string(), "--out", out.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json markups = readJson(out).at("markups");
    ASSERT_EQ(markups.size(), 2u);
    EXPECT_EQ(markups[0]["type"], "Fiducial");
    EXPECT_EQ(markups[0]["controlPoints"][0]["label"], "T");
    EXPECT_EQ(markups[1]["type"], "Line");
    EXPECT_EQ(markups[1]["name"], "T #1");
    EXPECT_EQ(markups[1]["coordinateSystem"], "LPS");
    EXPECT_EQ(markups[1]["controlPoints"][0]["position"], json::array({-40.0, 60.0, -127.69}));
}

TEST(MarkupsCommand, ImportOfRasLineAddsAnEvaluatedManualTrajectory)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    std::ofstream(dir.path() / "plan.json")
        << planText((np::test::realDicomDir() / "06_seg_ct_liver" / "ct").string());
    // RAS: x and y negated against LPS. The line's entry is LPS (-30, 70, -127.69), its target T.
    std::ofstream(dir.path() / "drawn.mrk.json") << R"({"@schema": "x", "markups": [
        {"type": "Line", "name": "T #7", "coordinateSystem": "RAS", "coordinateUnits": "mm", "sliceColor": "red",
         "controlPoints": [{"label": "entry", "position": [30.0, -70.0, -127.69]},
                           {"label": "target", "position": [-1.5, -2.5, -127.69]}]},
        {"type": "Fiducial", "coordinateSystem": "RAS", "controlPoints": [{"label": "U", "position": [-5, -6, -127.0]}]}]})";
    const auto out = dir.path() / "plan2.json";
    const auto result =
        np::test::runCli({"markups", "import", (dir.path() / "drawn.mrk.json").string(), "--plan",
                          (dir.path() / "plan.json").string(), "--out", out.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.err.find("sliceColor"), std::string::npos) << result.err; // unknown key: a warning
    const json plan = readJson(out);
    ASSERT_EQ(plan["targets"].size(), 2u);
    EXPECT_EQ(plan["targets"][1]["name"], "U");
    EXPECT_EQ(plan["targets"][1]["targetLps"], json::array({5.0, 6.0, -127.0}));
    const json& trajectories = plan["targets"][0]["trajectories"];
    ASSERT_EQ(trajectories.size(), 2u);
    const json& added = trajectories[1];
    EXPECT_EQ(added["origin"], "manual");
    EXPECT_EQ(added["rank"], 2);
    EXPECT_EQ(added["entryLps"], json::array({-30.0, 70.0, -127.69}));
    // Evaluated: length from the two points (sqrt(31.5^2 + 67.5^2)), a verdict and angles.
    EXPECT_NEAR(added["lengthMm"].get<double>(), std::sqrt(31.5 * 31.5 + 67.5 * 67.5), 1e-6);
    EXPECT_TRUE(added.contains("safe"));
    EXPECT_TRUE(added["angles"].contains("bullseye"));
}

TEST(MarkupsCommand, MalformedMarkupsIsBadInput)
{
    np::test::TempDir dir;
    std::ofstream(dir.path() / "plan.json") << planText("/nowhere");
    std::ofstream(dir.path() / "bad.mrk.json")
        << R"({"markups": [{"type": "Line", "controlPoints": [{"position": [1, 2]}]}]})";
    const auto result =
        np::test::runCli({"markups", "import", (dir.path() / "bad.mrk.json").string(), "--plan",
                          (dir.path() / "plan.json").string(), "--out", (dir.path() / "o.json").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("bad.mrk.json"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "o.json"));
}

} // namespace
