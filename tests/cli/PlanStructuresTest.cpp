// needleplan-cli plan with structures from several sources: the automatic segmentation (the
// default without --structures), the phantom's .seg.nrrd together with the automatic bone, and a
// real RTSTRUCT on its own two-slice CT.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"

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

const char* const kLeftTarget = "L4 medial branch left (SAP-TP junction)";

fs::path phantomDir()
{
    return test::binaryDir() / "sample-data" / "phantom";
}

Vec3 vec(const json& a)
{
    return {a[0].get<double>(), a[1].get<double>(), a[2].get<double>()};
}

/// Samples the shaft every 0.2 mm from the entry to `tipZoneMm` before the target and counts the
/// samples whose nearest voxel carries `label`.
int samplesInLabel(const LabelMap& labels, std::uint16_t label, const Vec3& entryLps, const Vec3& targetLps,
                   double tipZoneMm)
{
    const double length = distance(entryLps, targetLps);
    const Vec3 direction = (targetLps - entryLps) * (1.0 / length);
    const auto& size = labels.geometry().size;
    int hits = 0;
    for (double s = 0.0; s <= length - tipZoneMm; s += 0.2) {
        const Vec3 ijk = labels.geometry().ijkFromLps(entryLps + direction * s);
        const std::int64_t i = std::llround(ijk.x), j = std::llround(ijk.y), k = std::llround(ijk.z);
        if (i < 0 || j < 0 || k < 0 || i >= size[0] || j >= size[1] || k >= size[2])
            continue;
        hits += labels.at(i, j, k) == label ? 1 : 0;
    }
    return hits;
}

} // namespace

TEST(PlanStructures, BadAutoSegmentAndStructureFilesExitWith2)
{
    test::TempDir dir("np-plan-structures-bad");
    const std::string out = (dir.path() / "plan.json").string();
    const std::string image = (dir.path() / "missing-ct.nrrd").string();
    // An unknown structure for the automatic segmentation is refused before anything is loaded.
    auto r =
        test::runCli({"plan", "--image", image, "--auto-segment=kidney", "--target", "0,0,0", "--out", out});
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("kidney"), std::string::npos) << r.err;
    if (!fs::exists(phantomDir() / "targets.json"))
        GTEST_SKIP() << "sample phantom not generated at " << phantomDir() << " (build np_sample_phantom)";
    // A missing structure file, and a file that holds no structures (the targets JSON).
    for (const std::string& structures :
         {(dir.path() / "missing.seg.nrrd").string(), (phantomDir() / "targets.json").string()}) {
        r = test::runCli({"plan", "--image", (phantomDir() / "dicom").string(), "--structures", structures,
                          "--target", "0,0,0", "--out", out});
        EXPECT_EQ(r.exitCode, 2) << structures << ": " << r.err;
        EXPECT_FALSE(r.err.empty());
    }
    EXPECT_FALSE(fs::exists(out));
}

TEST(PlanStructures, WithoutStructuresThePhantomIsSegmentedAndTrajectoriesStayOutOfBone)
{
    if (!fs::exists(phantomDir() / "targets.json"))
        GTEST_SKIP() << "sample phantom not generated at " << phantomDir() << " (build np_sample_phantom)";
    test::TempDir dir("np-plan-auto");
    const std::string plan = (dir.path() / "plan.json").string();
    const auto r =
        test::runCli({"plan", "--image", (phantomDir() / "dicom").string(), "--targets",
                      (phantomDir() / "targets.json").string(), "--target-name", kLeftTarget, "--preset",
                      "lumbar-mbb", "--directions", "2000", "--top", "3", "--out", plan});
    ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("No --structures given: segmenting body,bone,spinal_canal,lung,bowel_gas automatically"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("Body and skin: the automatic segmentation's body"), std::string::npos);
    std::ifstream in(plan);
    const json saved = json::parse(in);
    // The plan's structures are the segmentation's: bone an obstacle, body ignored.
    bool bone = false;
    for (const auto& s : saved["structures"])
        if (s["name"] == "bone")
            bone = s["class"] == "obstacle";
    EXPECT_TRUE(bone) << saved["structures"].dump();
    // The vertebrae are no planning structures by default, yet their automatic labels name the
    // target's level: the phantom's L4 medial branch target lies on the root of L5's transverse
    // process (its generator places it there; its own vertebra_L5 label says the same).
    for (const auto& s : saved["structures"])
        EXPECT_EQ(s["name"].get<std::string>().rfind("vertebra", 0), std::string::npos) << s["name"];
    EXPECT_EQ(saved["targets"][0].value("vertebralLevel", ""), "L5") << saved["targets"][0].dump();
    EXPECT_NE(r.out.find("(L5)"), std::string::npos) << r.out;

    // Independent reference: the same segmentation written by `segment`.
    const std::string seg = (dir.path() / "auto.seg.nrrd").string();
    const auto segmented = test::runCli(
        {"segment", "--image", (phantomDir() / "dicom").string(), "--out", seg, "--only", "body,bone"});
    ASSERT_EQ(segmented.exitCode, 0) << segmented.err;
    const LabelMap labels = readLabelMap(seg);
    const Segment* boneSegment = labels.findSegment("bone");
    ASSERT_NE(boneSegment, nullptr);
    const auto& trajectories = saved["targets"][0]["trajectories"];
    ASSERT_GE(trajectories.size(), 1u);
    for (const auto& t : trajectories) {
        EXPECT_TRUE(t["safe"].get<bool>());
        // Outside bone up to the 2 mm tip zone (the 22G shaft keeps its 0.36 mm radius off the
        // bone's surface, which is more than a nearest-voxel sample needs).
        EXPECT_EQ(
            samplesInLabel(labels, boneSegment->labelValue, vec(t["entryLps"]), vec(t["targetLps"]), 2.0), 0);
        // Posterior approach: the entry lies behind the target.
        EXPECT_GT(t["entryLps"][1].get<double>(), t["targetLps"][1].get<double>() + 20.0);
    }
}

TEST(PlanStructures, PhantomSegNrrdTogetherWithAutomaticBone)
{
    if (!fs::exists(phantomDir() / "targets.json"))
        GTEST_SKIP() << "sample phantom not generated at " << phantomDir() << " (build np_sample_phantom)";
    test::TempDir dir("np-plan-seg-bone");
    const std::string plan = (dir.path() / "plan.json").string();
    const auto r =
        test::runCli({"plan", "--image", (phantomDir() / "dicom").string(), "--structures",
                      (phantomDir() / "structures.seg.nrrd").string(), "--auto-segment=bone", "--targets",
                      (phantomDir() / "targets.json").string(), "--target-name", kLeftTarget, "--preset",
                      "lumbar-mbb", "--directions", "2000", "--top", "2", "--out", plan});
    ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
    EXPECT_NE(r.out.find("Automatic segmentation: bone"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("from automatic segmentation"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("from " + (phantomDir() / "structures.seg.nrrd").string()), std::string::npos);
    // Without the automatic body the skin still comes from the CT.
    EXPECT_EQ(r.out.find("Body and skin: the automatic segmentation's body"), std::string::npos);
    std::ifstream in(plan);
    const json saved = json::parse(in);
    const LabelMap truth = readLabelMap((phantomDir() / "structures.seg.nrrd").string());
    // Every structure of the file plus the automatic bone is in the plan, with the file's nerves
    // forbidden.
    std::size_t nerves = 0;
    bool automaticBone = false;
    for (const auto& s : saved["structures"]) {
        const std::string name = s["name"];
        automaticBone = automaticBone || (name == "bone" && s["class"] == "obstacle");
        if (name.find("nerve") != std::string::npos || name.find("ramus") != std::string::npos) {
            EXPECT_EQ(s["class"], "forbidden") << name;
            ++nerves;
        }
    }
    EXPECT_TRUE(automaticBone);
    EXPECT_EQ(saved["structures"].size(), truth.segments().size() + 1u);
    EXPECT_GE(nerves, 1u);
    const auto& trajectories = saved["targets"][0]["trajectories"];
    ASSERT_GE(trajectories.size(), 1u);
    for (const auto& t : trajectories) {
        EXPECT_TRUE(t["safe"].get<bool>());
        // Forbidden clearances reported for the file's structures meet their margins.
        for (const auto& c : t["clearances"]) {
            if (c.contains("class") && c["class"] == "forbidden") {
                EXPECT_GE(c["clearanceMm"].get<double>(), c["marginMm"].get<double>()) << c.dump();
            }
        }
    }
}

TEST(PlanStructures, RealRtStructOnItsTwoSliceCtEndsCleanly)
{
    NP_REQUIRE_REALDICOM();
    const fs::path rt = test::realDicomDir() / "07_rtstruct" / "rtutils_mock";
    const Volume ct = loadVolume(rt.string());
    const auto& g = ct.geometry();
    const Vec3 centreLps = g.lpsFromIjk(Vec3{(static_cast<double>(g.size[0]) - 1.0) / 2.0,
                                             (static_cast<double>(g.size[1]) - 1.0) / 2.0, 0.0});
    const std::string target =
        std::to_string(centreLps.x) + "," + std::to_string(centreLps.y) + "," + std::to_string(centreLps.z);
    test::TempDir dir("np-plan-rt");
    const std::string plan = (dir.path() / "plan.json").string();
    const auto r = test::runCli({"plan", "--image", rt.string(), "--structures", (rt / "rt.dcm").string(),
                                 "--target", target, "--directions", "500", "--top", "2", "--out", plan});
    // A clean result or a clean error, never a crash or an internal failure.
    EXPECT_TRUE(r.exitCode == 0 || r.exitCode == 2 || r.exitCode == 4) << r.exitCode << r.err;
    if (r.exitCode == 0 || r.exitCode == 4) {
        // The RTSTRUCT's ROIs were used and listed, and the plan was written.
        EXPECT_NE(r.out.find("from " + (rt / "rt.dcm").string()), std::string::npos) << r.out;
        EXPECT_TRUE(fs::exists(plan));
    } else {
        EXPECT_FALSE(r.err.empty());
    }
    // The same with the automatic segmentation added, and check on one trajectory.
    const auto both =
        test::runCli({"plan", "--image", rt.string(), "--structures", (rt / "rt.dcm").string(),
                      "--auto-segment", "--target", target, "--directions", "500", "--out", plan});
    EXPECT_TRUE(both.exitCode == 0 || both.exitCode == 2 || both.exitCode == 4) << both.exitCode << both.err;
    const Vec3 entryLps = centreLps + Vec3{0.0, 60.0, 0.0};
    const auto check = test::runCli(
        {"check", "--image", rt.string(), "--structures", (rt / "rt.dcm").string(), "--entry",
         std::to_string(entryLps.x) + "," + std::to_string(entryLps.y) + "," + std::to_string(entryLps.z),
         "--target", target});
    EXPECT_TRUE(check.exitCode == 0 || check.exitCode == 2 || check.exitCode == 4)
        << check.exitCode << check.err;
}

TEST(PlanStructures, RealSegsWithAutomaticBodyAndBoneEndCleanly)
{
    NP_REQUIRE_REALDICOM();
    const fs::path data = test::realDicomDir() / "06_seg_ct_liver";
    const Volume ct = loadVolume((data / "ct").string());
    const auto& g = ct.geometry();
    const Vec3 centreLps = g.lpsFromIjk(Vec3{(static_cast<double>(g.size[0]) - 1.0) / 2.0,
                                             (static_cast<double>(g.size[1]) - 1.0) / 2.0, 1.0});
    const std::string target =
        std::to_string(centreLps.x) + "," + std::to_string(centreLps.y) + "," + std::to_string(centreLps.z);
    test::TempDir dir("np-plan-seg");
    const std::string plan = (dir.path() / "plan.json").string();
    // The liver SEG, the SEG with five overlapping segments, and the planner's body and bone.
    const auto r = test::runCli({"plan", "--image", (data / "ct").string(), "--structures",
                                 (data / "liver.dcm").string(), "--structures",
                                 (data / "partial_overlaps.dcm").string(), "--auto-segment=body,bone",
                                 "--target", target, "--directions", "300", "--top", "1", "--out", plan});
    EXPECT_TRUE(r.exitCode == 0 || r.exitCode == 2 || r.exitCode == 4) << r.exitCode << r.err;
    // Every structure is listed with its class before planning starts: the liver is forbidden
    // (5 mm), and the overlapping segments give up their shared voxels to it.
    EXPECT_NE(r.out.find("Liver"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("forbidden  margin  5.0 mm"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("bone"), std::string::npos);
    EXPECT_NE(r.err.find("overlaps \"Liver\" (forbidden, 5.0 mm)"), std::string::npos) << r.err;
    // A SEG the toolkit cannot decode is a clean error naming the file.
    const auto j2k = test::runCli({"plan", "--image", (data / "ct").string(), "--structures",
                                   (data / "seg_variants" / "liver_j2k.dcm").string(), "--target", target,
                                   "--out", plan + ".j2k"});
    EXPECT_EQ(j2k.exitCode, 2) << j2k.err;
    EXPECT_NE(j2k.err.find("liver_j2k.dcm"), std::string::npos) << j2k.err;
}
