// 3D Slicer markups: hand-written .mrk.json files in LPS and RAS, unknown keys, malformed files,
// the export of a plan, and how points and lines are placed in a plan.

#include "needleplan/planning/SlicerMarkups.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace np::planning {
namespace {

using nlohmann::json;

MarkupsContent parseText(const std::string& text)
{
    return parseMarkups(json::parse(text), "test.mrk.json");
}

ErrorCode codeOf(const std::string& text)
{
    try {
        parseText(text);
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;
}

void expectNear(const Vec3& a, const Vec3& b)
{
    EXPECT_NEAR(a.x, b.x, 1e-12);
    EXPECT_NEAR(a.y, b.y, 1e-12);
    EXPECT_NEAR(a.z, b.z, 1e-12);
}

// As 3D Slicer 5 writes them (a point list and a line), here in RAS.
const char* kRasFile = R"({
 "@schema": "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#",
 "markups": [
  {"type": "Fiducial", "coordinateSystem": "RAS", "coordinateUnits": "mm", "locked": false,
   "labelFormat": "%N-%d", "lastUsedControlPointNumber": 2,
   "controlPoints": [
    {"id": "1", "label": "L4 left", "position": [12.5, -40.0, 101.0], "positionStatus": "defined"},
    {"id": "2", "label": "F-2", "position": [-3.0, 7.25, -2.0], "positionStatus": "defined"}
   ],
   "measurements": [], "display": {"visibility": true}},
  {"type": "Line", "name": "L4 left #1", "coordinateSystem": "RAS",
   "controlPoints": [
    {"id": "1", "label": "L-1", "position": [60.0, -120.0, 110.0]},
    {"id": "2", "label": "L-2", "position": [12.5, -40.0, 101.0]}
   ]}
 ]
})";

TEST(SlicerMarkups, RasFileBecomesLpsByNegatingXAndY)
{
    const MarkupsContent content = parseText(kRasFile);
    EXPECT_TRUE(content.warnings.empty()) << content.warnings.front();
    ASSERT_EQ(content.points.size(), 2u);
    EXPECT_EQ(content.points[0].label, "L4 left");
    expectNear(content.points[0].positionLps, {-12.5, 40.0, 101.0});
    expectNear(content.points[1].positionLps, {3.0, -7.25, -2.0});
    ASSERT_EQ(content.lines.size(), 1u);
    EXPECT_EQ(content.lines[0].name, "L4 left #1");
    // Neither point is labelled: the first is the entry.
    expectNear(content.lines[0].entryLps, {-60.0, 120.0, 110.0});
    expectNear(content.lines[0].targetLps, {-12.5, 40.0, 101.0});
}

TEST(SlicerMarkups, LpsFileIsTakenAsWrittenAndLabelsPickTheEntry)
{
    const MarkupsContent content = parseText(R"({"@schema": "x", "markups": [
      {"type": "Line", "name": "drawn from the target", "coordinateSystem": "LPS", "coordinateUnits": "mm",
       "controlPoints": [{"label": "target", "position": [1, 2, 3]}, {"label": "entry", "position": [4, 5, 6]}]},
      {"type": "Fiducial", "controlPoints": [{"position": [7, 8, 9]}]}]})");
    ASSERT_EQ(content.lines.size(), 1u);
    expectNear(content.lines[0].entryLps, {4, 5, 6});
    expectNear(content.lines[0].targetLps, {1, 2, 3});
    // No coordinateSystem: LPS (the schema's default); an unlabelled point is named after its list.
    ASSERT_EQ(content.points.size(), 1u);
    expectNear(content.points[0].positionLps, {7, 8, 9});
    EXPECT_EQ(content.points[0].label, "point-1");
}

TEST(SlicerMarkups, UnknownKeysAndTypesAreSkippedWithAWarning)
{
    const MarkupsContent content = parseText(R"({"@schema": "x", "futureKey": 1, "markups": [
      {"type": "Fiducial", "colour": "red", "controlPoints": [{"label": "a", "position": [1, 2, 3], "weight": 2},
        {"label": "b", "position": [0, 0, 0], "positionStatus": "undefined"}]},
      {"type": "ROI", "name": "box", "controlPoints": []}]})");
    ASSERT_EQ(content.points.size(), 1u);
    EXPECT_EQ(content.points[0].label, "a");
    ASSERT_EQ(content.warnings.size(), 5u);
    std::string all;
    for (const auto& w : content.warnings)
        all += w + "\n";
    for (const char* expected : {"futureKey", "colour", "weight", "undefined", "ROI"})
        EXPECT_NE(all.find(expected), std::string::npos) << expected << "\n" << all;
}

TEST(SlicerMarkups, MalformedFilesNameTheProblem)
{
    EXPECT_EQ(codeOf("[]"), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": 3})"), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": [{"type": "Fiducial", "controlPoints": [{"position": [1, 2]}]}]})"),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": [{"type": "Fiducial", "controlPoints": [{"position": [1, "a", 2]}]}]})"),
              ErrorCode::CorruptData);
    EXPECT_EQ(
        codeOf(R"({"markups": [{"type": "Fiducial", "coordinateSystem": "XYZ", "controlPoints": []}]})"),
        ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": [{"type": "Fiducial", "coordinateUnits": "um", "controlPoints": []}]})"),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": [{"type": "Line", "controlPoints": [{"position": [1, 2, 3]}]}]})"),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(R"({"markups": [{"type": "Line", "controlPoints": [{"position": [1, 2, 3]},
              {"position": [1, 2, 3]}]}]})"),
              ErrorCode::CorruptData);
    try {
        parseText(R"({"markups": [{"type": "Fiducial", "controlPoints": [{"position": [1, 2]}]}]})");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("test.mrk.json: markups[0].controlPoints[0].position"),
                  std::string::npos)
            << e.what();
    }
    np::test::TempDir dir;
    std::ofstream(dir.path() / "bad.mrk.json") << "{ not json";
    try {
        loadMarkups((dir.path() / "bad.mrk.json").string());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::CorruptData);
        EXPECT_NE(std::string(e.what()).find("bad.mrk.json"), std::string::npos);
    }
    EXPECT_THROW(loadMarkups((dir.path() / "missing.mrk.json").string()), Error);
}

Plan twoTargetPlan()
{
    Plan plan;
    plan.needle.name = "22G-90mm";
    PlanTarget a;
    a.name = "A";
    a.targetLps = {10, 20, 30};
    for (int rank = 1; rank <= 2; ++rank) {
        PlannedTrajectory p;
        p.rank = rank;
        p.trajectory = {Vec3{10.0 + rank, 80, 30}, a.targetLps, plan.needle};
        a.trajectories.push_back(p);
    }
    PlanTarget b;
    b.name = "B";
    b.targetLps = {-10, 20, 40};
    PlannedTrajectory p;
    p.rank = 1;
    p.trajectory = {Vec3{-15, 75, 45}, b.targetLps, plan.needle};
    b.trajectories.push_back(p);
    plan.targets = {a, b};
    return plan;
}

TEST(SlicerMarkups, PlanExportHasOnePointListAndOneLinePerRankedTrajectory)
{
    const json document = markupsFromPlan(twoTargetPlan());
    const json& markups = document.at("markups");
    ASSERT_EQ(markups.size(), 4u);
    EXPECT_EQ(markups[0]["type"], "Fiducial");
    EXPECT_EQ(markups[0]["controlPoints"].size(), 2u);
    EXPECT_EQ(markups[1]["type"], "Line");
    EXPECT_EQ(markups[1]["name"], "A #1");
    EXPECT_EQ(markups[2]["name"], "A #2");
    EXPECT_EQ(markups[3]["name"], "B #1");
    for (const auto& m : markups)
        EXPECT_EQ(m["coordinateSystem"], "LPS");
    EXPECT_EQ(markups[2]["controlPoints"][0]["label"], "entry");
    EXPECT_EQ(markups[2]["controlPoints"][0]["position"], json::array({12.0, 80.0, 30.0}));
    EXPECT_EQ(markups[3]["controlPoints"][1]["position"], json::array({-10.0, 20.0, 40.0}));
    const MarkupsContent back = parseMarkups(document, "export");
    EXPECT_TRUE(back.warnings.empty()) << back.warnings.front();
    EXPECT_EQ(back.points.size(), 2u);
    ASSERT_EQ(back.lines.size(), 3u);
    expectNear(back.lines[2].entryLps, {-15, 75, 45});
}

TEST(SlicerMarkups, PointsAndLinesArePlacedOnTargetsByNameThenByPosition)
{
    Plan plan = twoTargetPlan();
    MarkupsContent markups;
    markups.points.push_back({"B", {-10, 20, 42}}); // moves B: its trajectory no longer reaches it
    markups.points.push_back({"C", {0, 0, 0}});     // a new target
    markups.lines.push_back({"A #3", {20, 90, 30}, {10, 20, 30}});
    markups.lines.push_back({"my line", {5, 60, 0}, {0.3, 0.4, 0.0}}); // ends 0.5 mm from C
    markups.lines.push_back({"D", {50, 50, 50}, {40, 40, 40}});        // nothing there: new target D
    std::vector<std::string> notes;
    const auto placed = placeMarkupsInPlan(plan, markups, notes);
    ASSERT_EQ(plan.targets.size(), 4u);
    EXPECT_TRUE(plan.targets[1].trajectories.empty());
    expectNear(plan.targets[1].targetLps, {-10, 20, 42});
    EXPECT_EQ(plan.targets[2].name, "C");
    EXPECT_EQ(plan.targets[3].name, "D");
    ASSERT_EQ(placed.size(), 3u);
    EXPECT_EQ(placed[0].targetIndex, 0u);
    EXPECT_EQ(placed[1].targetIndex, 2u);
    EXPECT_EQ(placed[2].targetIndex, 3u);
    EXPECT_EQ(placed[0].trajectory.needle.name, "22G-90mm");
    EXPECT_EQ(notes.size(), 3u);
}

} // namespace
} // namespace np::planning
