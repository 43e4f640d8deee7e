// needleplan-cli plan and check, end to end, on a small synthetic patient written as NRRD files
// (body cylinder, a bone sphere with the target on its surface, a nerve sphere behind it) and on
// the sample phantom when the build generated it.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;
using namespace np;
using namespace np::imaging;

namespace {

/// Writes ct.nrrd and structures.seg.nrrd of the synthetic patient into `folder`.
void writeSyntheticPatient(const fs::path& folder)
{
    Geometry g;
    g.size = {107, 107, 50};
    g.spacing = {1.5, 1.5, 2.0};
    g.originLps = {-79.5, -79.5, -49.0};
    Volume ct(g, -1000.0f);
    LabelMap labels(g);
    labels.segments() = {{"vertebra_L4", 1, {1, 1, 1}}, {"nerve_root_L4_left", 2, {1, 1, 0}}};
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk(
                    Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
                if (std::hypot(p.x, p.y) <= 70.0)
                    ct.at(i, j, k) = 40.0f;
                if (distance(p, {0, 20, 0}) <= 9.0)
                    labels.at(i, j, k) = 1, ct.at(i, j, k) = 700.0f;
                else if (distance(p, {0, 46, 0}) <= 4.0)
                    labels.at(i, j, k) = 2;
            }
    writeVolumeNrrd(ct, (folder / "ct.nrrd").string());
    writeSegNrrd(labels, (folder / "structures.seg.nrrd").string());
}

class PlanCommand : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_dir = new test::TempDir("np-plan-cli");
        writeSyntheticPatient(s_dir->path());
    }
    static void TearDownTestSuite()
    {
        delete s_dir;
        s_dir = nullptr;
    }
    static std::string path(const std::string& name) { return (s_dir->path() / name).string(); }
    static std::vector<std::string> base(const std::string& command)
    {
        return {command, "--image", path("ct.nrrd"), "--structures", path("structures.seg.nrrd")};
    }
    static test::TempDir* s_dir;
};
test::TempDir* PlanCommand::s_dir = nullptr;

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

TEST_F(PlanCommand, BadArgumentsExitWithCode2)
{
    const std::string out = path("bad.json");
    EXPECT_EQ(test::runCli({"plan", "--out", out}).exitCode, 2);                                // no image
    EXPECT_EQ(test::runCli(base("plan") + std::vector<std::string>{"--out", out}).exitCode, 2); // no target
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{"--target", "1,2"},
          {"--target", "1,2,x"},
          {"--target", "1,2,3", "--preset", "nope"},
          {"--target", "1,2,3", "--needle", "99G-1mm"},
          {"--target", "1,2,3", "--margin", "kidney*=3"},
          {"--target", "1,2,3", "--margin", "nerve*=abc"},
          {"--target-name", "x"},
          {"--target-name", "x", "--targets", path("missing.json")}}) {
        const auto r = test::runCli(base("plan") + extra + std::vector<std::string>{"--out", out});
        EXPECT_EQ(r.exitCode, 2) << extra[0] << " " << extra[1] << ": " << r.err;
        EXPECT_FALSE(r.err.empty());
    }
    // A target outside the image is bad input, not "no trajectory".
    EXPECT_EQ(
        test::runCli(base("plan") + std::vector<std::string>{"--target", "500,0,0", "--out", out}).exitCode,
        2);
    EXPECT_EQ(test::runCli({"plan", "--image", path("missing.nrrd"), "--structures",
                            path("structures.seg.nrrd"), "--target", "0,29.5,0", "--out", out})
                  .exitCode,
              2);
    EXPECT_FALSE(fs::exists(out));
}

TEST_F(PlanCommand, PlansASafeTrajectoryAndWritesTheDocument)
{
    const std::string out = path("plan.json");
    const std::string map = path("accessibility.json");
    const auto r = test::runCli(base("plan") + std::vector<std::string>{"--target", "0,29.5,0", "--top", "3",
                                                                        "--directions", "3000", "--out", out,
                                                                        "--json", "--accessibility", map});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    // With --json the table goes to stderr and the plan to stdout.
    EXPECT_NE(r.err.find("rank"), std::string::npos);
    const json printed = json::parse(r.out);
    std::ifstream in(out);
    const json saved = json::parse(in);
    EXPECT_EQ(printed, saved);
    EXPECT_EQ(saved["schema"], "needleplan.plan/1");
    std::ifstream mapIn(map);
    const json accessibility = json::parse(mapIn);
    ASSERT_EQ(accessibility["targets"][0]["directions"].size(), 3000u);
    int feasible = 0;
    for (const auto& d : accessibility["targets"][0]["directions"])
        feasible += d["feasible"].get<bool>() ? 1 : 0;
    EXPECT_EQ(feasible, saved["targets"][0]["feasibleDirections"].get<int>());
    const auto& trajectories = saved["targets"][0]["trajectories"];
    ASSERT_GE(trajectories.size(), 1u);
    for (const auto& t : trajectories) {
        for (const char* key : {"entryLps", "targetLps", "safe", "lengthMm", "clearances", "score", "angles"})
            EXPECT_TRUE(t.contains(key)) << key;
        EXPECT_TRUE(t["safe"].get<bool>());
        // Closed form: the nerve sphere (radius 4 at y = 46) is at least its 2 mm margin (minus half a
        // largest spacing) from the shaft's surface.
        const Vec3 a{t["entryLps"][0], t["entryLps"][1], t["entryLps"][2]};
        const Vec3 b{t["targetLps"][0], t["targetLps"][1], t["targetLps"][2]};
        const Vec3 c{0, 46, 0};
        const double s = std::clamp(dot(c - a, b - a) / dot(b - a, b - a), 0.0, 1.0);
        EXPECT_GE(distance(a + (b - a) * s, c) - 4.0 - 0.36, 2.0 - 1.0);
        // The entry lies on the skin (the body cylinder of radius 70).
        EXPECT_NEAR(std::hypot(a.x, a.y), 70.0, 1.5);
    }
}

TEST_F(PlanCommand, NoFeasibleTrajectoryExitsWith4AndStillWritesThePlan)
{
    const std::string out = path("short.json");
    const auto r =
        test::runCli(base("plan") + std::vector<std::string>{"--target", "0,29.5,0", "--needle", "25G-30mm",
                                                             "--directions", "500", "--out", out});
    EXPECT_EQ(r.exitCode, 4) << r.err;
    EXPECT_NE(r.out.find("no trajectory meets the constraints"), std::string::npos);
    std::ifstream in(out);
    EXPECT_TRUE(json::parse(in)["targets"][0]["trajectories"].empty());
}

TEST_F(PlanCommand, CheckReportsSafeAndUnsafeTrajectories)
{
    // 40° lateral, clear of the nerve: safe.
    const auto safe = test::runCli(
        base("check") + std::vector<std::string>{"--entry", "38.6,75.5,0", "--target", "0,29.5,0", "--json"});
    ASSERT_EQ(safe.exitCode, 0) << safe.err << safe.out;
    const json j = json::parse(safe.out);
    for (const char* key : {"safe", "lengthMm", "clearances", "violations", "angles"})
        EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j["safe"].get<bool>());
    EXPECT_NEAR(j["lengthMm"].get<double>(), std::hypot(38.6, 46.0), 1e-6);
    // Straight down the back through the nerve: unsafe, exit 4, and the nerve is named.
    const auto unsafe =
        test::runCli(base("check") + std::vector<std::string>{"--entry", "0,75,0", "--target", "0,29.5,0"});
    EXPECT_EQ(unsafe.exitCode, 4);
    EXPECT_NE(unsafe.out.find("UNSAFE"), std::string::npos);
    EXPECT_NE(unsafe.out.find("nerve_root_L4_left"), std::string::npos);
    // A smaller margin makes no difference to a path that goes through the nerve.
    EXPECT_EQ(test::runCli(base("check") + std::vector<std::string>{"--entry", "0,75,0", "--target",
                                                                    "0,29.5,0", "--margin", "nerve_root_*=0"})
                  .exitCode,
              4);
    EXPECT_EQ(test::runCli(base("check") + std::vector<std::string>{"--entry", "1,2,3", "--target", "1,2,3"})
                  .exitCode,
              2);
}

TEST(PlanCommandPhantom, PlansANamedPhantomTargetWithItsPreset)
{
    const fs::path dir = test::binaryDir() / "sample-data" / "phantom";
    if (!fs::exists(dir / "targets.json"))
        GTEST_SKIP() << "sample phantom not generated at " << dir << " (build the np_sample_phantom target)";
    test::TempDir out("np-plan-phantom");
    const std::string plan = (out.path() / "plan.json").string();
    const auto r =
        test::runCli({"plan", "--image", (dir / "dicom").string(), "--structures",
                      (dir / "structures.seg.nrrd").string(), "--targets", (dir / "targets.json").string(),
                      "--target-name", "L4 medial branch left (SAP-TP junction)", "--target-name",
                      "L4 medial branch right (SAP-TP junction)", "--preset", "lumbar-mbb", "--directions",
                      "3000", "--top", "2", "--out", plan});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    std::ifstream in(plan);
    const json saved = json::parse(in);
    ASSERT_EQ(saved["targets"].size(), 2u);
    EXPECT_EQ(saved["image"]["patientPosition"], "HFP");
    EXPECT_NE(r.out.find("LPS mm (L5), preset lumbar-mbb"), std::string::npos) << r.out;
    for (const auto& target : saved["targets"]) {
        // The L4 medial branch crosses the root of L5's transverse process: the target sits on L5
        // (the phantom's vertebra_L5 label), and the printed table says so.
        EXPECT_EQ(target.value("vertebralLevel", ""), "L5");
        ASSERT_GE(target["trajectories"].size(), 1u);
        const auto& best = target["trajectories"][0];
        EXPECT_TRUE(best["safe"].get<bool>());
        // Posterior ipsilateral oblique: entry behind the target and on its side of the midline.
        const double targetX = target["targetLps"][0], entryX = best["entryLps"][0];
        EXPECT_GT(best["entryLps"][1].get<double>(), target["targetLps"][1].get<double>() + 20.0);
        EXPECT_GT(entryX * targetX, 0.0);
        EXPECT_GT(std::abs(entryX), std::abs(targetX));
    }
}

TEST_F(PlanCommand, WithoutStructuresTheCtIsSegmentedAndTheBoneAvoided)
{
    const std::string out = path("auto.json");
    const auto r = test::runCli({"plan", "--image", path("ct.nrrd"), "--target", "0,29.5,0", "--top", "3",
                                 "--directions", "3000", "--out", out});
    ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("No --structures given: segmenting body,bone,spinal_canal,lung,bowel_gas automatically"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Body and skin: the automatic segmentation's body"), std::string::npos);
    // The listing names each structure with its class and margin; the lung is reported absent.
    EXPECT_NE(r.out.find("bone"), std::string::npos);
    EXPECT_NE(r.out.find("obstacle"), std::string::npos);
    EXPECT_NE(r.out.find("from automatic segmentation"), std::string::npos);
    EXPECT_NE(r.err.find("automatic segmentation"), std::string::npos) << r.err;
    std::ifstream in(out);
    const json saved = json::parse(in);
    const auto& trajectories = saved["targets"][0]["trajectories"];
    ASSERT_GE(trajectories.size(), 1u);
    for (const auto& t : trajectories) {
        EXPECT_TRUE(t["safe"].get<bool>());
        // Closed form: the shaft up to the 2 mm tip zone stays outside the bone sphere (radius 9 at
        // y = 20), less half the largest spacing for the voxelisation.
        const Vec3 a{t["entryLps"][0], t["entryLps"][1], t["entryLps"][2]};
        const Vec3 b{t["targetLps"][0], t["targetLps"][1], t["targetLps"][2]};
        const Vec3 tip = b + (a - b) * (2.0 / distance(a, b));
        const Vec3 c{0, 20, 0};
        const double s = std::clamp(dot(c - a, tip - a) / dot(tip - a, tip - a), 0.0, 1.0);
        EXPECT_GE(distance(a + (tip - a) * s, c), 9.0 - 1.0);
        // The segmented body is the cylinder of radius 70: the entry lies on it.
        EXPECT_NEAR(std::hypot(a.x, a.y), 70.0, 1.5);
    }
}

TEST_F(PlanCommand, RepeatedStructureFilesAndAutomaticBoneAreCombined)
{
    const std::string out = path("combined.json");
    const auto r =
        test::runCli(base("plan") + std::vector<std::string>{"--structures", path("structures.seg.nrrd"),
                                                             "--auto-segment=bone", "--target", "0,29.5,0",
                                                             "--directions", "2000", "--out", out});
    ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
    // The second copy is renamed; it and the automatic bone lose the shared voxels to the first.
    EXPECT_NE(r.out.find("vertebra_L4_2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("nerve_root_L4_left_2"), std::string::npos);
    EXPECT_NE(r.out.find("Automatic segmentation: bone"), std::string::npos);
    EXPECT_NE(r.out.find("after overlaps"), std::string::npos);
    EXPECT_NE(r.err.find("overlaps \"vertebra_L4\""), std::string::npos) << r.err;
    std::ifstream in(out);
    const json saved = json::parse(in);
    EXPECT_EQ(saved["structures"].size(), 5u);
    for (const auto& t : saved["targets"][0]["trajectories"]) {
        // The nerve keeps its margin, whichever copy owns its voxels.
        const Vec3 a{t["entryLps"][0], t["entryLps"][1], t["entryLps"][2]};
        const Vec3 b{t["targetLps"][0], t["targetLps"][1], t["targetLps"][2]};
        const Vec3 c{0, 46, 0};
        const double s = std::clamp(dot(c - a, b - a) / dot(b - a, b - a), 0.0, 1.0);
        EXPECT_GE(distance(a + (b - a) * s, c) - 4.0 - 0.36, 2.0 - 1.0);
    }
}

TEST_F(PlanCommand, CheckWithoutStructuresUsesTheAutomaticBone)
{
    const auto safe = test::runCli(
        {"check", "--image", path("ct.nrrd"), "--entry", "38.6,75.5,0", "--target", "0,29.5,0", "--json"});
    ASSERT_EQ(safe.exitCode, 0) << safe.err << safe.out;
    EXPECT_TRUE(json::parse(safe.out)["safe"].get<bool>()); // stdout stays pure JSON
    // Through the centre of the bone sphere, 10 mm before the tip: unsafe, bone named.
    const auto unsafe =
        test::runCli({"check", "--image", path("ct.nrrd"), "--entry", "0,75,0", "--target", "0,10,0"});
    EXPECT_EQ(unsafe.exitCode, 4) << unsafe.err << unsafe.out;
    EXPECT_NE(unsafe.out.find("passes through bone"), std::string::npos) << unsafe.out;
}
