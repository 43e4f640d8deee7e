// Positions from plans, catalogues and the command line checked against the image's box.

#include "needleplan/planning/PlanValidation.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <functional>
#include <gtest/gtest.h>
#include <limits>

using namespace np;
using namespace np::planning;

namespace {

/// 10 x 20 x 5 voxels, spacing (2, 1, 3) mm, rotated 90 degrees about z: i runs along +y, j along -x.
/// The box spans i in [-0.5, 9.5] -> y in [-1, 19] mm, j in [-0.5, 19.5] -> x in [-19.5, 0.5] mm,
/// k in [-0.5, 4.5] -> z in [-1.5, 13.5] mm (origin at 0).
imaging::Geometry obliqueGrid()
{
    imaging::Geometry g;
    g.size = {10, 20, 5};
    g.spacing = {2.0, 1.0, 3.0};
    g.directionLps = Mat3::fromColumns({0, 1, 0}, {-1, 0, 0}, {0, 0, 1});
    return g;
}

ErrorCode codeOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal; // "did not throw"
}

} // namespace

TEST(PlanValidation, NonFiniteAndFarPointsAreRefusedWithSourceAndName)
{
    const auto g = obliqueGrid();
    const double inf = std::numeric_limits<double>::infinity();
    EXPECT_EQ(codeOf([&] {
                  requireTargetInImage({1e308, 1e308, 1e308}, g, "t.json", "target \"a\"");
              }),
              ErrorCode::InvalidArgument);
    EXPECT_EQ(codeOf([&] {
                  requireEntryNearImage({inf, 0, 0}, g, "p.json", "entry");
              }),
              ErrorCode::InvalidArgument);
    EXPECT_EQ(codeOf([&] {
                  requireEntryNearImage({0, 1e9, 0}, g, "p.json", "entry");
              }),
              ErrorCode::InvalidArgument);
    try {
        requireTargetInImage({0, 1e9, 0}, g, "t.json", "target \"far\"");
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("t.json: target \"far\"", 0), 0u) << message;
        EXPECT_NE(message.find("outside the image"), std::string::npos) << message;
    }
}

TEST(PlanValidation, TargetsInsideTheOrientedBoxPassAndJustOutsideFail)
{
    const auto g = obliqueGrid();
    // Corners of the box (hand-computed above) pass; half the largest spacing (1.5 mm) is tolerated.
    EXPECT_NO_THROW(requireTargetInImage({-19.5, -1.0, -1.5}, g, "", "t"));
    EXPECT_NO_THROW(requireTargetInImage({0.5, 19.0, 13.5}, g, "", "t"));
    EXPECT_NO_THROW(requireTargetInImage({0.5 + 1.4, 5.0, 5.0}, g, "", "t"));
    EXPECT_EQ(codeOf([&] {
                  requireTargetInImage({0.5 + 1.6, 5.0, 5.0}, g, "", "t");
              }),
              ErrorCode::InvalidArgument);
    // Along y the box ends at 19 mm (i axis, 2 mm spacing), along z at 13.5 mm.
    EXPECT_EQ(codeOf([&] {
                  requireTargetInImage({-5.0, 19.0 + 1.6, 5.0}, g, "", "t");
              }),
              ErrorCode::InvalidArgument);
    EXPECT_EQ(codeOf([&] {
                  requireTargetInImage({-5.0, 5.0, 13.5 + 1.6}, g, "", "t");
              }),
              ErrorCode::InvalidArgument);
}

TEST(PlanValidation, EntriesMayLieUpToTheMarginOutside)
{
    const auto g = obliqueGrid();
    // 3-4-5 triangle beyond the corner (0.5, 19, *): 180 mm along +x and 240 mm along +y = 300 mm.
    EXPECT_NO_THROW(requireEntryNearImage({0.5 + 180.0, 19.0 + 240.0 - 0.01, 5.0}, g, "", "entry"));
    EXPECT_EQ(codeOf([&] {
                  requireEntryNearImage({0.5 + 180.0, 19.0 + 240.0 + 0.1, 5.0}, g, "", "entry");
              }),
              ErrorCode::InvalidArgument);
}

TEST(PlanValidation, PlanWithFarEntryNamesFileTargetAndRank)
{
    const auto g = obliqueGrid();
    Plan plan;
    PlanTarget target;
    target.name = "L4 left";
    target.targetLps = {-5, 5, 5};
    PlannedTrajectory planned;
    planned.rank = 2;
    planned.trajectory.entryLps = {1e9, 0, 0};
    planned.trajectory.targetLps = target.targetLps;
    target.trajectories.push_back(planned);
    plan.targets.push_back(target);
    try {
        validatePlanAgainstImage(plan, g, "case.needleplan.json");
        FAIL() << "no error";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("case.needleplan.json"), std::string::npos) << message;
        EXPECT_NE(message.find("L4 left"), std::string::npos) << message;
        EXPECT_NE(message.find("trajectory 2 entry"), std::string::npos) << message;
    }
    plan.targets[0].trajectories[0].trajectory.entryLps = {-5, 60, 5};
    EXPECT_NO_THROW(validatePlanAgainstImage(plan, g, "case.needleplan.json"));
}
