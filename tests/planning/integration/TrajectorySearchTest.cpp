// Automatic search on a synthetic patient, checked against closed-form geometry.

#include "needleplan/planning/TrajectorySearch.h"

#include "../unit/SyntheticPatient.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/planning/ClearanceField.h"

#include <gtest/gtest.h>

using namespace np;
using namespace np::planning;

namespace {

class CancelAfter : public ProgressSink
{
public:
    bool cancelRequested() const override { return true; }
};

/// Independent check of one path against the analytic shapes: nerve clearance ≥ margin − tolerance
/// and no bone before the tip zone (beyond the tolerance).
void expectTrulySafe(const test::SyntheticPatient& p, const Vec3& entry, const Vec3& target, double tipZone,
                     double tolerance)
{
    const double r = 0.36;
    EXPECT_GE(test::segmentPointDistance(entry, target, p.nerve.centre) - p.nerve.radius - r,
              2.0 - tolerance);
    const double length = distance(entry, target);
    if (length > tipZone) {
        const Vec3 tipZoneStart = target + normalized(entry - target) * tipZone;
        EXPECT_GE(test::segmentPointDistance(entry, tipZoneStart, p.bone.centre) - p.bone.radius - r,
                  -tolerance);
    }
}

} // namespace

TEST(TrajectorySearch, FibonacciCapStaysInsideTheWindowAndIsBalanced)
{
    const Vec3 axis = normalized(Vec3{1, 2, -1});
    const auto directions = fibonacciCapDirections(axis, 30.0, 5000);
    ASSERT_EQ(directions.size(), 5000u);
    Vec3 mean;
    for (const auto& d : directions) {
        EXPECT_NEAR(norm(d), 1.0, 1e-12);
        EXPECT_GE(dot(d, axis), std::cos(30.0 * M_PI / 180.0) - 1e-12);
        mean += d;
    }
    EXPECT_GT(dot(normalized(mean), axis), 0.9999);
    EXPECT_TRUE(fibonacciCapDirections(axis, 30.0, 0).empty());
}

TEST(TrajectorySearch, RejectsBadOptionsAndHonoursCancel)
{
    auto p = test::makeSyntheticPatient({2, 2, 2});
    const BodyModel body = BodyModel::fromCt(p.ct);
    ClearanceFieldSet fields(p.labels);
    fields.prepare(p.structures, p.targetLps, 95.0);
    TrajectorySearch search(fields, p.structures, body);
    SearchOptions options;
    options.directionCount = 0;
    EXPECT_THROW(search.run(p.targetLps, *findNeedle("22G-90mm"), {}, options), Error);
    options.directionCount = 100;
    options.topK = 0;
    EXPECT_THROW(search.run(p.targetLps, *findNeedle("22G-90mm"), {}, options), Error);
    options.topK = 3;
    CancelAfter cancel;
    try {
        search.run(p.targetLps, *findNeedle("22G-90mm"), {}, options, &cancel);
        FAIL() << "expected cancel";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}

TEST(TrajectorySearch, FindsSafeSpreadTrajectoriesAndNeverCallsAnUnsafeRayFeasible)
{
    for (const Mat3& dir : {Mat3::identity(), test::rotation({-1, 2, 0.5}, 0.5)}) {
        const Vec3 spacing{1.2, 0.9, 1.6};
        auto p = test::makeSyntheticPatient(spacing, dir);
        const BodyModel body = BodyModel::fromCt(p.ct);
        ClearanceFieldSet fields(p.labels);
        Preset preset = genericPreset();
        preset.approachFrom = "posterior";
        preset.windowDeg = 60.0;
        SearchOptions options;
        options.directionCount = 4000;
        options.topK = 4;
        options.minSeparationDeg = 10.0;
        const auto result =
            planTarget(fields, p.structures, body, p.targetLps, *findNeedle("22G-90mm"), preset, options);
        ASSERT_EQ(result.directions.size(), 4000u);
        EXPECT_GT(result.feasibleCount, 100);
        EXPECT_LT(result.feasibleCount, 4000);
        EXPECT_GT(result.paretoCount, 0);
        ASSERT_EQ(result.candidates.size(), 4u);
        const double tolerance = 0.5 * 1.6;
        for (std::size_t a = 0; a < result.candidates.size(); ++a) {
            const auto& c = result.candidates[a];
            EXPECT_TRUE(c.evaluation.safe);
            expectTrulySafe(p, c.trajectory.entryLps, c.trajectory.targetLps, preset.tipZoneMm, tolerance);
            // The entry lies on the body cylinder's surface.
            EXPECT_NEAR(std::hypot(c.trajectory.entryLps.x, c.trajectory.entryLps.y), 70.0, 1.6);
            for (std::size_t b = 0; b < a; ++b) {
                const Vec3 da = normalized(c.trajectory.entryLps - p.targetLps);
                const Vec3 db = normalized(result.candidates[b].trajectory.entryLps - p.targetLps);
                EXPECT_GE(std::acos(std::min(1.0, dot(da, db))) * 180.0 / M_PI, 10.0 - 1e-6);
                EXPECT_LE(c.score, result.candidates[b].score);
            }
        }
        // Every ray the march calls feasible is truly safe; the straight posterior ray is not.
        double bestPosterior = -1.0;
        const DirectionResult* posterior = nullptr;
        for (const auto& d : result.directions) {
            EXPECT_LE(std::acos(std::min(1.0, dot(d.directionLps, Vec3{0, 1, 0}))) * 180.0 / M_PI,
                      60.0 + 1e-6);
            if (d.feasible) {
                expectTrulySafe(p, d.skinEntryLps, p.targetLps, preset.tipZoneMm, tolerance);
            }
            if (d.directionLps.y > bestPosterior)
                bestPosterior = d.directionLps.y, posterior = &d;
        }
        // The march and the full evaluation agree: no feasible ray is refused by the evaluator.
        EXPECT_EQ(result.rejectedByFullEvaluation, 0);
        TrajectoryEvaluator evaluator(fields, p.structures, &body);
        EvaluationOptions evaluation;
        evaluation.tipZoneMm = preset.tipZoneMm;
        for (const auto& d : result.directions)
            if (d.feasible) {
                const Evaluation e = evaluator.evaluate(
                    Trajectory{d.skinEntryLps, p.targetLps, *findNeedle("22G-90mm")}, evaluation);
                EXPECT_TRUE(e.safe) << (e.reasons.empty() ? "" : e.reasons[0]);
            }
        ASSERT_NE(posterior, nullptr);
        EXPECT_FALSE(posterior->feasible);
        EXPECT_EQ(posterior->reason, RejectReason::Forbidden);
    }
}

TEST(TrajectorySearch, ReportsNoTrajectoryWhenTheNeedleIsTooShort)
{
    auto p = test::makeSyntheticPatient({2, 2, 2});
    const BodyModel body = BodyModel::fromCt(p.ct);
    ClearanceFieldSet fields(p.labels);
    SearchOptions options;
    options.directionCount = 500;
    const Needle shortNeedle = *findNeedle("25G-30mm");
    const auto result =
        planTarget(fields, p.structures, body, p.targetLps, shortNeedle, genericPreset(), options);
    EXPECT_EQ(result.feasibleCount, 0);
    EXPECT_TRUE(result.candidates.empty());
    for (const auto& d : result.directions)
        EXPECT_TRUE(d.reason == RejectReason::TooLong || d.reason == RejectReason::Forbidden ||
                    d.reason == RejectReason::Obstacle);
}
