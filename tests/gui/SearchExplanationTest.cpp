// Fault 5: a search that found nothing said nothing ("0 of 20000 directions feasible", and the
// panel still said "Press Set entry"). The explanation comes from the per-direction reasons.

#include "needleplan/gui/SearchExplanation.h"

#include "GuiTestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TrajectoryReadout.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QUndoStack>
#include <cmath>
#include <gtest/gtest.h>
#include <regex>

namespace np::gui {
namespace {

constexpr double kSpacing = 1.0;

/// 41³ voxels of 1 mm at the origin; the target at the centre voxel (20, 20, 20).
imaging::Geometry cube()
{
    imaging::Geometry g;
    g.size = {41, 41, 41};
    g.spacing = {kSpacing, kSpacing, kSpacing};
    g.originLps = {0.0, 0.0, 0.0};
    return g;
}
const Vec3 kTargetLps{20.0, 20.0, 20.0};

/// Body everywhere but a 3-voxel border, so every ray reaches a skin inside the image.
planning::BodyModel body()
{
    const imaging::Geometry g = cube();
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(g.size[0] * g.size[1] * g.size[2]), 0);
    for (std::int64_t k = 3; k < 38; ++k)
        for (std::int64_t j = 3; j < 38; ++j)
            for (std::int64_t i = 3; i < 38; ++i)
                mask[static_cast<std::size_t>((k * g.size[1] + j) * g.size[0] + i)] = 1;
    return planning::BodyModel::fromMask(g, std::move(mask));
}

/// First number before " mm inside" in `text`, or NaN.
double depthInside(const std::string& text)
{
    std::smatch match;
    if (std::regex_search(text, match, std::regex(R"(lies ([0-9.]+) mm inside)")))
        return std::stod(match[1]);
    return std::nan("");
}

TEST(SearchExplanation, TargetDeepInBoneSaysHowDeepAndTheTipZone)
{
    // A bone cube of 13 voxels (faces 6.5 mm from the centre) around the target.
    imaging::LabelMap labels(cube());
    labels.segments() = {{"bone_sacrum", 1, {1, 1, 1}}};
    for (std::int64_t k = 14; k <= 26; ++k)
        for (std::int64_t j = 14; j <= 26; ++j)
            for (std::int64_t i = 14; i <= 26; ++i)
                labels.at(i, j, k) = 1;
    const std::vector<planning::StructureSpec> specs = {planning::defaultStructureSpec("bone_sacrum", 1)};
    ASSERT_EQ(specs[0].structureClass, planning::StructureClass::Obstacle);
    planning::ClearanceFieldSet fields(labels);
    const planning::BodyModel bodyModel = body();
    const planning::Needle needle = *planning::findNeedle("22G-90mm");
    planning::SearchOptions options;
    options.directionCount = 400;
    const planning::SearchResult result = planning::planTarget(fields, specs, bodyModel, kTargetLps, needle,
                                                               planning::genericPreset(), options);
    ASSERT_TRUE(result.candidates.empty());
    const std::vector<std::string> clauses =
        explainEmptySearch(result, fields, specs, needle.radiusMm(), needle.usableLengthMm, 2.0);
    ASSERT_EQ(clauses.size(), 1u);
    EXPECT_NE(clauses[0].find("inside bone_sacrum; obstacles may only be touched in the last 2 mm"),
              std::string::npos)
        << clauses[0];
    // 6.5 mm to the cube's faces; the distance map is exact to half a voxel.
    EXPECT_NEAR(depthInside(clauses[0]), 6.5, 0.5 * kSpacing + 0.05) << clauses[0];
}

TEST(SearchExplanation, ANerveAllAroundNamesTheNerveAndItsMargin)
{
    // A nerve shell 10 to 12 mm from the target: every direction crosses it.
    imaging::LabelMap labels(cube());
    labels.segments() = {{"nerve_root_L4_left", 2, {1, 1, 0}}};
    for (std::int64_t k = 0; k < 41; ++k)
        for (std::int64_t j = 0; j < 41; ++j)
            for (std::int64_t i = 0; i < 41; ++i) {
                const double r =
                    std::sqrt(double((i - 20) * (i - 20) + (j - 20) * (j - 20) + (k - 20) * (k - 20)));
                if (r >= 10.0 && r <= 12.0)
                    labels.at(i, j, k) = 2;
            }
    const std::vector<planning::StructureSpec> specs = {
        planning::defaultStructureSpec("nerve_root_L4_left", 2)};
    ASSERT_EQ(specs[0].structureClass, planning::StructureClass::Forbidden);
    ASSERT_DOUBLE_EQ(specs[0].marginMm, 2.0);
    planning::ClearanceFieldSet fields(labels);
    const planning::BodyModel bodyModel = body();
    const planning::Needle needle = *planning::findNeedle("22G-90mm");
    planning::SearchOptions options;
    options.directionCount = 400;
    const planning::SearchResult result = planning::planTarget(fields, specs, bodyModel, kTargetLps, needle,
                                                               planning::genericPreset(), options);
    ASSERT_TRUE(result.candidates.empty());
    const std::vector<std::string> clauses =
        explainEmptySearch(result, fields, specs, needle.radiusMm(), needle.usableLengthMm, 2.0);
    ASSERT_EQ(clauses.size(), 1u);
    EXPECT_EQ(clauses[0], "every direction passes within 2 mm of nerve_root_L4_left");
}

TEST(SearchExplanation, MillimetresKeepOneDecimalAtMost)
{
    EXPECT_EQ(formatMillimetres(6.0), "6");
    EXPECT_EQ(formatMillimetres(6.04), "6");
    EXPECT_EQ(formatMillimetres(2.46), "2.5");
    EXPECT_EQ(searchNoteText({"a", "b"}), "a; b");
}

// The readout of a target whose search found nothing says why, not what to click next.
TEST(SearchExplanation, ReadoutOfAnEmptySearchSaysWhyInsteadOfPressSetEntry)
{
    PlanTarget target;
    target.name = "L5 dorsal ramus left";
    target.targetLps = kTargetLps;
    target.directionsSearched = 20000;
    target.feasibleDirections = 0;
    target.searchNote = {"every direction passes within 2 mm of nerve_root_L4_left"};
    ReadoutInput input;
    input.target = &target;
    const QString html = trajectoryReadoutHtml(input);
    EXPECT_FALSE(html.contains("Press")) << html.toStdString();
    EXPECT_TRUE(html.contains("No safe trajectory")) << html.toStdString();
    EXPECT_TRUE(html.contains("0 of 20000 directions")) << html.toStdString();
    EXPECT_TRUE(html.contains("every direction passes within 2 mm of nerve_root_L4_left"))
        << html.toStdString();
}

// Through the plan model: the search of a target deep in bone leaves the reason on the target and
// in the status line.
TEST(SearchExplanation, PlanModelSearchKeepsTheReasonOnTheTarget)
{
    NP_REQUIRE_DISPLAY(); // the search is a background job (event loop)
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    StructuresModel structures(image, undo, task);
    PlanModel plan(image, structures, undo, task);
    auto volume = std::make_shared<imaging::Volume>(cube(), -1000.0f);
    auto labels = std::make_shared<imaging::LabelMap>(cube());
    labels->segments() = {{"bone_sacrum", 1, {1, 1, 1}}};
    for (std::int64_t k = 3; k < 38; ++k)
        for (std::int64_t j = 3; j < 38; ++j)
            for (std::int64_t i = 3; i < 38; ++i) {
                volume->at(i, j, k) = 40.0f;
                if (std::abs(i - 20) <= 6 && std::abs(j - 20) <= 6 && std::abs(k - 20) <= 6) {
                    volume->at(i, j, k) = 700.0f;
                    labels->at(i, j, k) = 1;
                }
            }
    image.setVolume(volume, "/data/bone.nrrd");
    structures.setLabels(labels);
    plan.addTarget("L5 left", kTargetLps);
    QString status;
    bool finished = false;
    QObject listener;
    QObject::connect(&plan, &PlanModel::statusMessage, &listener,
                     [&](const QString& text) { status = text; });
    QObject::connect(&plan, &PlanModel::searchFinished, &listener, [&] { finished = true; });
    plan.searchTarget(0);
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    const PlanTarget& target = plan.targets()[0];
    EXPECT_TRUE(target.ranked.empty());
    EXPECT_EQ(target.directionsSearched, 20000);
    ASSERT_EQ(target.searchNote.size(), 1u);
    EXPECT_NEAR(depthInside(target.searchNote[0]), 6.5, 0.55) << target.searchNote[0];
    EXPECT_TRUE(status.contains("No safe trajectory for L5 left")) << status.toStdString();
    EXPECT_TRUE(status.contains("inside bone_sacrum")) << status.toStdString();
    // Moving the target drops the reason with the results.
    plan.moveActiveTarget(kTargetLps + Vec3{1.0, 0.0, 0.0});
    EXPECT_TRUE(plan.targets()[0].searchNote.empty());
}

} // namespace
} // namespace np::gui
