// Plan documents: round trips, atomic saves, corrupt and future files.

#include "needleplan/planning/PlanDocument.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace np;
using namespace np::planning;

namespace {

Plan samplePlan()
{
    Plan plan;
    plan.image = {"/data/ct", "1.2.3.4", "1.2.3.5", "HFP", "/data/structures.seg.nrrd", "plan.seg.nrrd"};
    plan.needle = *findNeedle("22G-90mm");
    plan.structures = {{"nerve_root_L4_left", 7, StructureClass::Forbidden, 2.0},
                       {"vertebra_L4", 3, StructureClass::Obstacle, 0.0}};
    PlanTarget target;
    target.name = "L4 medial branch left";
    target.targetLps = {12.5, 30.25, -101.0};
    target.preset = "lumbar-mbb";
    target.directionsSearched = 20000;
    target.feasibleDirections = 812;
    PlannedTrajectory p;
    p.rank = 1;
    p.score = 0.4375;
    p.pareto = true;
    p.trajectory = Trajectory{{40.0, 90.0, -100.0}, target.targetLps, plan.needle};
    Evaluation& e = p.evaluation;
    e.safe = false;
    e.lengthMm = 66.1;
    e.depthFromSkinMm = 60.5;
    e.skinFound = true;
    e.skinEntryLps = {38.0, 86.0, -100.1};
    e.skinAngleDeg = 12.5;
    e.clearances = {
        {"nerve_root_L4_left", 7, StructureClass::Forbidden, 1.25, 2.0, {20, 40, -100}, 50.0, true},
        {"vertebra_L4", 3, StructureClass::Obstacle, 0.5, 0.0, {15, 35, -100}, 60.0, false}};
    e.closestIndex = 0;
    Violation v;
    v.kind = ViolationKind::Margin;
    v.structure = "nerve_root_L4_left";
    v.clearanceMm = 1.75;
    v.marginMm = 2.0;
    v.positionLps = {21, 41, -100};
    v.depthFromEntryMm = 48.0;
    v.message = "passes 1.3 mm from nerve_root_L4_left";
    e.violations = {v};
    e.reasons = {v.message};
    e.warnings = {"a warning"};
    e.angles =
        computeTrajectoryAngles(p.trajectory.entryLps, p.trajectory.targetLps, PatientPosition::HFP, 0.0);
    target.trajectories = {p};
    plan.targets = {target, PlanTarget{"empty target", {1, 2, 3}, "generic", 0, 0, {}}};
    return plan;
}

void writeText(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

} // namespace

TEST(PlanDocument, MissingFileIsNotFound)
{
    try {
        loadPlan("/nonexistent/plan.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
}

TEST(PlanDocument, CorruptFilesFailCleanly)
{
    test::TempDir dir;
    const std::vector<std::string> bad = {
        "",
        "{",
        "[1, 2, 3]",
        "{\"schema\": \"something.else/1\"}",
        "{\"schema\": \"needleplan.plan/1\"}",
        "{\"schema\": \"needleplan.plan/1\", \"image\": {}, \"needle\": {\"name\": \"x\", \"gauge\": 22, "
        "\"outerDiameterMm\": -1, \"usableLengthMm\": 90}, \"structures\": [], \"targets\": []}",
        "{\"schema\": \"needleplan.plan/1\", \"image\": {}, \"needle\": {\"name\": \"x\", \"gauge\": 22, "
        "\"outerDiameterMm\": 0.7, \"usableLengthMm\": 90}, \"structures\": [{\"name\": 3}], \"targets\": "
        "[]}",
        "{\"schema\": \"needleplan.plan/1\", \"image\": {}, \"needle\": {\"name\": \"x\", \"gauge\": 22, "
        "\"outerDiameterMm\": 0.7, \"usableLengthMm\": 90}, \"structures\": [], \"targets\": [{\"name\": "
        "\"t\", "
        "\"targetLps\": [1, 2], \"trajectories\": []}]}",
        std::string("\x00\xff\xfe garbage", 12),
    };
    for (std::size_t n = 0; n < bad.size(); ++n) {
        const auto path = dir.path() / ("bad" + std::to_string(n) + ".json");
        writeText(path, bad[n]);
        try {
            loadPlan(path.string());
            ADD_FAILURE() << "accepted: " << bad[n];
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::CorruptData) << bad[n] << " → " << e.what();
            EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos);
        }
    }
    // Truncations of a valid file fail cleanly too.
    const std::string good = planToJson(samplePlan()).dump();
    for (std::size_t cut = 1; cut < good.size(); cut += 97) {
        const auto path = dir.path() / "cut.json";
        writeText(path, good.substr(0, cut));
        EXPECT_THROW(loadPlan(path.string()), Error);
    }
}

TEST(PlanDocument, FutureVersionIsUnsupported)
{
    test::TempDir dir;
    auto json = planToJson(samplePlan());
    json["schema"] = "needleplan.plan/2";
    const auto path = dir.path() / "future.json";
    writeText(path, json.dump());
    try {
        loadPlan(path.string());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Unsupported);
        EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos);
    }
}

TEST(PlanDocument, RoundTripKeepsEveryField)
{
    test::TempDir dir;
    const Plan plan = samplePlan();
    const auto path = (dir.path() / "plan.json").string();
    savePlan(plan, path);
    // No temporary file is left behind.
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
        ++files;
    EXPECT_EQ(files, 1);
    const Plan back = loadPlan(path);
    EXPECT_EQ(back.image.seriesUid, "1.2.3.4");
    EXPECT_EQ(back.image.patientPosition, "HFP");
    EXPECT_EQ(back.image.segmentationPath, "plan.seg.nrrd");
    EXPECT_EQ(back.needle.name, "22G-90mm");
    EXPECT_DOUBLE_EQ(back.needle.outerDiameterMm, 0.72);
    ASSERT_EQ(back.structures.size(), 2u);
    EXPECT_EQ(back.structures[1].structureClass, StructureClass::Obstacle);
    EXPECT_EQ(back.structures[0].labelValue, 7);
    ASSERT_EQ(back.targets.size(), 2u);
    EXPECT_EQ(back.targets[1].trajectories.size(), 0u);
    const auto& t = back.targets[0];
    EXPECT_EQ(t.name, "L4 medial branch left");
    EXPECT_EQ(t.targetLps, (Vec3{12.5, 30.25, -101.0}));
    EXPECT_EQ(t.feasibleDirections, 812);
    ASSERT_EQ(t.trajectories.size(), 1u);
    const auto& p = t.trajectories[0];
    const auto& original = plan.targets[0].trajectories[0];
    EXPECT_EQ(p.trajectory.entryLps, original.trajectory.entryLps);
    EXPECT_DOUBLE_EQ(p.score, 0.4375);
    EXPECT_TRUE(p.pareto);
    EXPECT_FALSE(p.evaluation.safe);
    EXPECT_DOUBLE_EQ(*p.evaluation.skinAngleDeg, 12.5);
    ASSERT_EQ(p.evaluation.clearances.size(), 2u);
    EXPECT_DOUBLE_EQ(p.evaluation.clearances[0].clearanceMm, 1.25);
    EXPECT_TRUE(p.evaluation.clearances[0].violated);
    EXPECT_EQ(p.evaluation.closestIndex, 0);
    ASSERT_EQ(p.evaluation.violations.size(), 1u);
    EXPECT_EQ(p.evaluation.violations[0].positionLps, (Vec3{21, 41, -100}));
    EXPECT_EQ(p.evaluation.warnings, std::vector<std::string>{"a warning"});
    EXPECT_DOUBLE_EQ(p.evaluation.angles.bullseye.primaryDeg, original.evaluation.angles.bullseye.primaryDeg);
    EXPECT_DOUBLE_EQ(p.evaluation.angles.progression.tiltDeg, original.evaluation.angles.progression.tiltDeg);
    EXPECT_EQ(p.evaluation.angles.towardMidline, original.evaluation.angles.towardMidline);
    // Saving what was loaded gives the same document.
    EXPECT_EQ(planToJson(back), planToJson(plan));
}

TEST(PlanDocument, StableKeysArePresent)
{
    const auto json = planToJson(samplePlan());
    EXPECT_EQ(json["schema"], "needleplan.plan/1");
    const auto& trajectory = json["targets"][0]["trajectories"][0];
    for (const char* key : {"entryLps", "targetLps", "safe", "lengthMm", "clearances", "score", "angles"})
        EXPECT_TRUE(trajectory.contains(key)) << key;
    for (const char* key : {"structure", "clearanceMm", "marginMm"})
        EXPECT_TRUE(trajectory["clearances"][0].contains(key)) << key;
}

TEST(PlanDocument, SaveIntoMissingFolderIsAnIoError)
{
    try {
        savePlan(samplePlan(), "/nonexistent-folder/x/plan.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
    }
}

TEST(PlanDocument, StructureVisibilityAndOpacityAreOptionalAndComeBack)
{
    test::TempDir dir;
    Plan plan = samplePlan();
    plan.structureDisplays = {{false, 0.3}, {}};
    const auto path = (dir.path() / "plan.json").string();
    savePlan(plan, path);
    // The first structure carries both keys; the second, with nothing to say, neither.
    nlohmann::json written;
    std::ifstream(path) >> written;
    EXPECT_EQ(written["structures"][0]["visible"], false);
    EXPECT_DOUBLE_EQ(written["structures"][0]["opacity"].get<double>(), 0.3);
    EXPECT_FALSE(written["structures"][1].contains("visible"));
    EXPECT_FALSE(written["structures"][1].contains("opacity"));
    const Plan back = loadPlan(path);
    ASSERT_EQ(back.structureDisplays.size(), 2u);
    EXPECT_EQ(back.structureDisplays[0].visible, std::optional<bool>(false));
    EXPECT_EQ(back.structureDisplays[0].opacity, std::optional<double>(0.3));
    EXPECT_FALSE(back.structureDisplays[1].visible.has_value());
    EXPECT_FALSE(back.structureDisplays[1].opacity.has_value());

    // A plan written before the keys existed: every structure keeps its default look.
    for (auto& structure : written["structures"]) {
        structure.erase("visible");
        structure.erase("opacity");
    }
    writeText(dir.path() / "old.json", written.dump(2));
    const Plan old = loadPlan((dir.path() / "old.json").string());
    ASSERT_EQ(old.structures.size(), 2u);
    for (const StructureDisplay& display : old.structureDisplays) {
        EXPECT_FALSE(display.visible.has_value());
        EXPECT_FALSE(display.opacity.has_value());
    }
}

TEST(PlanDocument, AMalformedVisibilityOrOpacityIsCorruptDataNamingTheFileAndTheField)
{
    test::TempDir dir;
    const nlohmann::json good = planToJson(samplePlan());
    const std::vector<std::pair<const char*, nlohmann::json>> bad = {{"opacity", "abc"}, {"opacity", 7},
                                                                     {"opacity", -0.1},  {"opacity", nullptr},
                                                                     {"visible", "yes"}, {"visible", 1}};
    for (std::size_t n = 0; n < bad.size(); ++n) {
        nlohmann::json document = good;
        document["structures"][1][bad[n].first] = bad[n].second;
        const auto path = dir.path() / ("bad" + std::to_string(n) + ".json");
        writeText(path, document.dump());
        try {
            loadPlan(path.string());
            ADD_FAILURE() << "accepted " << bad[n].first << " = " << bad[n].second.dump();
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_EQ(e.code(), ErrorCode::CorruptData) << message;
            EXPECT_NE(message.find(path.string()), std::string::npos) << message;
            EXPECT_NE(message.find("structures[1]"), std::string::npos) << message;
            EXPECT_NE(message.find(bad[n].first), std::string::npos) << message;
        }
    }
}
