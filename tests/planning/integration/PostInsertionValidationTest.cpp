// Post-insertion validation on the phantom with known truth: the post CT is the phantom moved by a
// known rigid transform with needles of known gauge along perturbed known paths (metal HU,
// streaks, noise, anisotropic voxels). Registration, detection, matching and the accuracy figures
// are checked against that truth.

#include "needleplan/planning/PostInsertionValidation.h"

#include "needleplan/imaging/Volume.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/PostInsertionPhantom.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"

#include <cmath>
#include <gtest/gtest.h>
#include <memory>

using namespace np;
using namespace np::planning;

namespace {

constexpr double kPi = 3.14159265358979323846;

/// The scanner grid of these tests: anisotropic 0.8 × 0.8 × 1.25 mm over a slab of the phantom (x ±70 mm).
phantom::PhantomOptions gridOptions()
{
    phantom::PhantomOptions o;
    o.spacing = {0.8, 0.8, 1.25};
    o.size = {175, 325, 132}; // x within ±70 mm of the midline, the whole depth and height
    return o;
}

struct PlanningSide
{
    phantom::Phantom phantom;
    BodyModel body;
    std::vector<StructureSpec> structures;
    std::unique_ptr<ClearanceFieldSet> fields;
};

const PlanningSide& planningSide()
{
    static const std::unique_ptr<PlanningSide> side = [] {
        auto s = std::make_unique<PlanningSide>();
        s->phantom = phantom::generateLumbarPhantom(gridOptions());
        s->body = BodyModel::fromCt(s->phantom.ct);
        s->structures = defaultStructures(s->phantom.labels);
        s->fields = std::make_unique<ClearanceFieldSet>(s->phantom.labels);
        return s;
    }();
    return *side;
}

Vec3 targetNamed(const std::string& prefix)
{
    for (const auto& t : planningSide().phantom.targets)
        if (t.name.rfind(prefix, 0) == 0)
            return t.positionLps;
    ADD_FAILURE() << "no phantom target " << prefix;
    return {};
}

/// Posterior-oblique outward direction, 20 degrees toward the target's side (LPS: +y posterior).
Vec3 outwardFor(const Vec3& target, double extraDeg = 0.0)
{
    const double a = (20.0 + extraDeg) * kPi / 180.0;
    return normalized(Vec3{(target.x >= 0 ? 1.0 : -1.0) * std::sin(a), std::cos(a), 0.12});
}

Plan planFor(const std::vector<std::string>& targetPrefixes)
{
    Plan plan;
    plan.needle = *findNeedle("22G-90mm");
    plan.structures = planningSide().structures;
    for (const auto& prefix : targetPrefixes) {
        PlanTarget target;
        target.name = prefix;
        target.targetLps = targetNamed(prefix);
        PlannedTrajectory planned;
        planned.rank = 1;
        planned.trajectory =
            Trajectory{target.targetLps + outwardFor(target.targetLps) * 75.0, target.targetLps, plan.needle};
        target.trajectories.push_back(planned);
        plan.targets.push_back(target);
    }
    return plan;
}

/// The actual needle: tip off the target by `tipOffset`, shaft turned by `turnDeg` from the plan.
phantom::PhantomNeedle actualNeedle(const Vec3& target, const Vec3& tipOffset, double turnDeg, int gauge = 22)
{
    const Vec3 tip = target + tipOffset;
    return {tip + outwardFor(target, turnDeg) * 80.0, tip, gauge};
}

double angleDeg(const Vec3& a, const Vec3& b)
{
    return std::atan2(norm(cross(a, b)), dot(a, b)) * 180.0 / kPi;
}

ValidationResult validate(const Plan& plan, const phantom::PostInsertionPhantom& post)
{
    const PlanningSide& side = planningSide();
    std::vector<Vec3> points;
    for (const auto& t : plannedTrajectories(plan))
        points.push_back(t.entryLps), points.push_back(t.targetLps);
    side.fields->prepareRegion(side.structures, points, 30.0);
    TrajectoryEvaluator evaluator(*side.fields, side.structures, &side.body);
    ValidationOptions options;
    options.evaluation.patientPosition = PatientPosition::HFP;
    return validatePostInsertion(plan, side.phantom.ct, post.ct, &evaluator, options);
}

phantom::PostInsertionPhantom makePost(const std::vector<phantom::PhantomNeedle>& needles, const Vec3& moveMm,
                                       const Vec3& moveDeg)
{
    phantom::PostInsertionOptions o;
    o.phantom = gridOptions();
    o.phantom.seed = 7; // other noise than the planning scan
    o.needles = needles;
    o.moveMm = moveMm;
    o.moveDeg = moveDeg;
    return phantom::generatePostInsertionCt(o);
}

} // namespace

TEST(PostInsertionValidation, MovedPhantomOneNeedleMeetsTheAccuracyFigures)
{
    const std::string name = "L4 medial branch left";
    const Plan plan = planFor({name});
    const Vec3 target = targetNamed(name);
    const phantom::PhantomNeedle truth = actualNeedle(target, {0.8, -0.6, 1.1}, 3.0);
    // 19.7 mm and about 14 degrees.
    const auto post = makePost({truth}, {12, -10, 12}, {5, -8, 10});
    ASSERT_GT(post.postFromPlanning.rotationAngleDeg(), 13.0);
    ASSERT_GT(norm(post.postFromPlanning.translationMm), 0.0);

    const ValidationResult r = validate(plan, post);
    ASSERT_TRUE(r.registration.succeeded) << r.registration.verdict;
    // Registration error at the target: the truth maps the target into the post CT, the registration back.
    const Vec3 targetInPost = post.postFromPlanning.apply(target);
    const double registrationError = distance(r.registration.planningFromPost.apply(targetInPost), target);
    EXPECT_LE(registrationError, 0.5);
    RecordProperty("registrationErrorAtTargetMm", std::to_string(registrationError));

    ASSERT_TRUE(r.completed) << r.failure;
    ASSERT_EQ(r.needles.size(), 1u);
    const ValidatedNeedle& n = r.needles.front();
    ASSERT_TRUE(n.measurement.has_value()) << n.match.reason;
    EXPECT_EQ(n.target, name);
    // The measurement against the truth (planning frame).
    const double tipError = distance(n.tipLps, truth.tipLps);
    const double angleError = angleDeg(normalized(n.tipLps - n.entryLps), normalized(truth.tipLps - truth.entryLps));
    EXPECT_LE(tipError, 0.5);
    EXPECT_LE(angleError, 0.5);
    RecordProperty("tipErrorMm", std::to_string(tipError));
    RecordProperty("angleErrorDeg", std::to_string(angleError));
    // The reported errors against the plan agree with the truth's own errors.
    const NeedleErrors truthErrors = compareNeedle(plan.targets[0].trajectories[0].trajectory,
                                                   Trajectory{truth.entryLps, truth.tipLps, plan.needle});
    EXPECT_NEAR(n.measurement->errors.tipErrorMm, truthErrors.tipErrorMm, 0.5);
    EXPECT_NEAR(n.measurement->errors.tipAlongMm, truthErrors.tipAlongMm, 0.5);
    EXPECT_NEAR(n.measurement->errors.angleErrorDeg, truthErrors.angleErrorDeg, 0.5);
    EXPECT_TRUE(n.measurement->actualEvaluation.has_value());
    // The entry: where the truth's line leaves the phantom's body (analytic shapes).
    const auto& inserted = post.needles.front();
    ASSERT_TRUE(inserted.skinFound);
    ASSERT_TRUE(n.detected.entryFound);
    EXPECT_LE(distance(n.entryLps, inserted.skinEntryLps), 1.5);
}

TEST(PostInsertionValidation, TwoNeedlesInOneScanAreMatchedToTheirTargets)
{
    const std::string left = "L4 medial branch left", right = "L5 dorsal ramus right";
    const Plan plan = planFor({left, right});
    const auto truthLeft = actualNeedle(targetNamed(left), {-0.5, 0.4, 0.7}, -2.0);
    const auto truthRight = actualNeedle(targetNamed(right), {0.6, 0.3, -0.9}, 4.0, 20);
    const auto post = makePost({truthRight, truthLeft}, {-6, 4, 3}, {0, 3, -4});
    const ValidationResult r = validate(plan, post);
    ASSERT_TRUE(r.completed) << r.failure;
    ASSERT_EQ(r.needles.size(), 2u);
    for (const ValidatedNeedle& n : r.needles) {
        ASSERT_TRUE(n.measurement.has_value()) << n.match.reason;
        const auto& truth = n.target == left ? truthLeft : truthRight;
        EXPECT_LE(distance(n.tipLps, truth.tipLps), 0.5) << n.target;
        EXPECT_LE(angleDeg(normalized(n.tipLps - n.entryLps), normalized(truth.tipLps - truth.entryLps)), 0.5)
            << n.target;
    }
    EXPECT_NE(r.needles[0].target, r.needles[1].target);
}

TEST(PostInsertionValidation, ScanWithoutNeedleIsAFailedCaseWithItsReason)
{
    const Plan plan = planFor({"L4 medial branch left"});
    const auto post = makePost({}, {3, -2, 5}, {2, 0, 3});
    const ValidationResult r = validate(plan, post);
    EXPECT_TRUE(r.registration.succeeded) << r.registration.verdict;
    EXPECT_FALSE(r.completed);
    EXPECT_NE(r.failure.find("no needle"), std::string::npos) << r.failure;
}

TEST(PostInsertionValidation, NeedleMatchingNoPlanIsReportedNotDropped)
{
    const std::string planned = "L4 medial branch left";
    const Plan plan = planFor({planned});
    // One needle where planned, one at another level and side that no trajectory of the plan targets.
    const auto onPlan = actualNeedle(targetNamed(planned), {0.3, 0.2, -0.4}, 1.0);
    const auto stray = actualNeedle(targetNamed("L3 medial branch right"), {0, 0, 0}, 0.0);
    const auto post = makePost({onPlan, stray}, {0, 0, 0}, {0, 0, 0});
    const ValidationResult r = validate(plan, post);
    ASSERT_TRUE(r.completed) << r.failure;
    ASSERT_EQ(r.needles.size(), 2u);
    int matched = 0, unmatched = 0;
    for (const ValidatedNeedle& n : r.needles) {
        if (n.measurement) {
            ++matched;
            EXPECT_EQ(n.target, planned);
        } else {
            ++unmatched;
            EXPECT_FALSE(n.match.reason.empty());
            EXPECT_LE(distance(n.tipLps, stray.tipLps), 0.5);
        }
    }
    EXPECT_EQ(matched, 1);
    EXPECT_EQ(unmatched, 1);
}
