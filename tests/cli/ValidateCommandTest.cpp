// needleplan-cli phantom --needle/--move and validate, end to end: a planning phantom, a plan made
// by hand, post-insertion CTs with known truth, one case, a manifest with a failing case in the
// middle, and shards that concatenate to the one run's rows.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/planning/PlanDocument.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace np;

namespace {

// A slab of the phantom around the spine (x ±70 mm, the whole depth and height) at 1.0 × 1.0 × 1.5 mm.
const std::vector<std::string> kGrid{"--spacing", "1.0,1.0,1.5", "--size", "140,260,110"};
// "L4 medial branch left (SAP-TP junction)" of the phantom's catalogue, and a planned entry 75 mm
// out along a posterior-oblique line.
const Vec3 kTarget{26.1120582002183, 32.937184428727356, 9.524621314472826};
const Vec3 kPlannedEntry{51.77, 103.41, 18.5};

std::string text(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines(const std::string& t)
{
    std::vector<std::string> out;
    std::stringstream s(t);
    for (std::string line; std::getline(s, line);)
        out.push_back(line);
    return out;
}

std::string csvTriple(const Vec3& v)
{
    std::ostringstream s;
    s.precision(10);
    s << v.x << "," << v.y << "," << v.z;
    return s.str();
}

class ValidateCommand : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_dir = new test::TempDir("np-validate-cli");
        const fs::path dir = s_dir->path();
        std::vector<std::string> phantom{"phantom", "--out", (dir / "planning").string()};
        phantom.insert(phantom.end(), kGrid.begin(), kGrid.end());
        const auto planning = test::runCli(phantom);
        ASSERT_EQ(planning.exitCode, 0) << planning.err;
        // The actual needle: 1 mm lateral and 1.5 mm deep of the plan, the shaft turned slightly.
        const Vec3 tip = kTarget + Vec3{1.0, -1.5, 0.0};
        const Vec3 entry = tip + (kPlannedEntry - kTarget) * 1.05 + Vec3{3, 0, -2};
        std::vector<std::string> post{"phantom",
                                      "--out",
                                      (dir / "post").string(),
                                      "--seed",
                                      "5",
                                      "--needle",
                                      csvTriple(entry) + ":" + csvTriple(tip) + ":22",
                                      "--move",
                                      "6,-4,5,3,-2,4"};
        post.insert(post.end(), kGrid.begin(), kGrid.end());
        const auto postResult = test::runCli(post);
        ASSERT_EQ(postResult.exitCode, 0) << postResult.err;

        planning::Plan plan;
        plan.image.path = "planning/dicom";
        plan.image.structuresPath = "planning/structures.seg.nrrd";
        plan.needle = *planning::findNeedle("22G-90mm");
        planning::PlanTarget target;
        target.name = "L4 medial branch left (SAP-TP junction)";
        target.targetLps = kTarget;
        planning::PlannedTrajectory trajectory;
        trajectory.rank = 1;
        trajectory.trajectory = {kPlannedEntry, kTarget, plan.needle};
        target.trajectories.push_back(trajectory);
        plan.targets.push_back(target);
        planning::savePlan(plan, (dir / "plan.json").string());
    }
    static void TearDownTestSuite()
    {
        delete s_dir;
        s_dir = nullptr;
    }
    static std::string path(const std::string& name) { return (s_dir->path() / name).string(); }
    static test::TempDir* s_dir;
};
test::TempDir* ValidateCommand::s_dir = nullptr;

} // namespace

TEST_F(ValidateCommand, BadArgumentsExitWithCode2)
{
    EXPECT_EQ(test::runCli({"validate"}).exitCode, 2);
    EXPECT_EQ(
        test::runCli({"validate", "--plan", path("missing.json"), "--post", path("post/dicom")}).exitCode, 2);
    EXPECT_EQ(test::runCli({"validate", "--manifest", path("missing.csv"), "--out", path("x.csv")}).exitCode,
              2);
    std::ofstream(path("bad-header.csv")) << "plan,image\nplan.json,post/dicom\n";
    const auto header =
        test::runCli({"validate", "--manifest", path("bad-header.csv"), "--out", path("x.csv")});
    EXPECT_EQ(header.exitCode, 2);
    EXPECT_NE(header.err.find("plan,post"), std::string::npos) << header.err;
    EXPECT_EQ(test::runCli({"validate", "--manifest", path("bad-header.csv"), "--out", path("x.csv"),
                            "--shard", "3/2"})
                  .exitCode,
              2);
    EXPECT_EQ(test::runCli({"phantom", "--out", path("p"), "--needle", "1,2,3:4,5"}).exitCode, 2);
    EXPECT_EQ(test::runCli({"phantom", "--out", path("p"), "--needle", "1,2,3:4,5,6:99"}).exitCode, 2);
    EXPECT_EQ(test::runCli({"phantom", "--out", path("p"), "--move", "1,2,3"}).exitCode, 2);
}

TEST_F(ValidateCommand, OneCaseTableJsonAndCsvAgreeWithTheTruth)
{
    const auto r = test::runCli({"validate", "--plan", path("plan.json"), "--post", path("post/dicom"),
                                 "--json", "--csv", path("one.csv")});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const json result = json::parse(r.out);
    ASSERT_TRUE(result["registration"]["succeeded"].get<bool>()) << result["registration"]["verdict"];
    ASSERT_EQ(result["needles"].size(), 1u);
    const json& needle = result["needles"][0];
    for (const char* key : {"target", "tipErrorMm", "tipAlongMm", "tipAcrossMm", "entryErrorMm",
                            "angleErrorDeg", "actualSafe", "tipLps", "entryLps"})
        EXPECT_TRUE(needle.contains(key)) << key;
    EXPECT_EQ(needle["target"], "L4 medial branch left (SAP-TP junction)");
    // The truth: tip 1 mm lateral (+x) and 1.5 mm toward -y of the target.
    const json truth = json::parse(text(path("post/truth.json")));
    const auto tipTruth = truth["needles"][0]["tipLps"];
    const Vec3 tip{needle["tipLps"][0], needle["tipLps"][1], needle["tipLps"][2]};
    EXPECT_LE(distance(tip, Vec3{tipTruth[0], tipTruth[1], tipTruth[2]}), 1.0);
    EXPECT_NEAR(needle["tipErrorMm"].get<double>(), std::hypot(1.0, 1.5), 1.0);
    const auto csv = lines(text(path("one.csv")));
    ASSERT_EQ(csv.size(), 2u);
    EXPECT_EQ(csv[0].rfind("case,plan,post,status,reason,needle,target,tipErrorMm", 0), 0u) << csv[0];
    EXPECT_NE(csv[1].find(",ok,"), std::string::npos) << csv[1];
}

TEST_F(ValidateCommand, ManifestWithAFailingCaseInTheMiddleAndShardsThatConcatenate)
{
    {
        std::ofstream manifest(path("cases.csv"));
        manifest << "plan,post\nplan.json,post/dicom\nplan.json,missing/dicom\nplan.json,post/dicom\n";
    }
    const auto all = test::runCli({"validate", "--manifest", path("cases.csv"), "--out", path("all.csv")});
    ASSERT_EQ(all.exitCode, 0) << all.err;
    const auto rows = lines(text(path("all.csv")));
    ASSERT_EQ(rows.size(), 4u) << text(path("all.csv"));
    EXPECT_EQ(rows[1].rfind("1,plan.json,post/dicom,ok,", 0), 0u) << rows[1];
    EXPECT_EQ(rows[2].rfind("2,plan.json,missing/dicom,failed,", 0), 0u) << rows[2];
    EXPECT_NE(rows[2].find("missing"), std::string::npos) << rows[2];
    EXPECT_EQ(rows[3].rfind("3,plan.json,post/dicom,ok,", 0), 0u) << rows[3];
    // Summary statistics beside the CSV, not in it.
    const json summary = json::parse(text(path("all.summary.json")));
    EXPECT_EQ(summary["cases"], 3);
    EXPECT_EQ(summary["failedCases"], 1);
    EXPECT_EQ(summary["needlesMeasured"], 2);
    for (const char* key : {"mean", "sd", "median", "p95", "worst"})
        EXPECT_TRUE(summary["metrics"]["tipErrorMm"].contains(key)) << key;
    // The same case twice gives the same numbers: SD 0.
    EXPECT_NEAR(summary["metrics"]["tipErrorMm"]["sd"].get<double>(), 0.0, 1e-9);

    const auto first = test::runCli(
        {"validate", "--manifest", path("cases.csv"), "--out", path("s1.csv"), "--shard", "1/2"});
    const auto second = test::runCli(
        {"validate", "--manifest", path("cases.csv"), "--out", path("s2.csv"), "--shard", "2/2"});
    ASSERT_EQ(first.exitCode, 0) << first.err;
    ASSERT_EQ(second.exitCode, 0) << second.err;
    EXPECT_EQ(text(path("s1.csv")) + text(path("s2.csv")), text(path("all.csv")));
}
