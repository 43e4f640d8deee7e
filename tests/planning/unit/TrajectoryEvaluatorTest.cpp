// Full trajectory evaluation on a synthetic patient with closed-form answers.

#include "needleplan/planning/TrajectoryEvaluator.h"

#include "SyntheticPatient.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/ClearanceField.h"

#include <gtest/gtest.h>

using namespace np;
using namespace np::planning;

namespace {

struct Fixture
{
    test::SyntheticPatient patient;
    BodyModel body;
    std::unique_ptr<ClearanceFieldSet> fields;
    Fixture(const Vec3& spacing, const Mat3& direction = Mat3::identity())
        : patient(test::makeSyntheticPatient(spacing, direction)), body(BodyModel::fromCt(patient.ct))
    {
        fields = std::make_unique<ClearanceFieldSet>(patient.labels);
        fields->prepare(patient.structures, patient.targetLps, 95.0);
    }
    Evaluation evaluate(const Vec3& entry, const Vec3& target, const std::string& needle = "22G-90mm",
                        std::vector<StructureSpec> structures = {}) const
    {
        TrajectoryEvaluator evaluator(*fields, structures.empty() ? patient.structures : structures, &body);
        EvaluationOptions options;
        options.patientPosition = PatientPosition::HFP;
        options.midlineXLps = 0.0;
        return evaluator.evaluate(Trajectory{entry, target, *findNeedle(needle)}, options);
    }
    const StructureClearance* clearanceOf(const Evaluation& e, const std::string& name) const
    {
        for (const auto& c : e.clearances)
            if (c.structure == name)
                return &c;
        return nullptr;
    }
};

} // namespace

TEST(TrajectoryEvaluator, RejectsDegenerateTrajectories)
{
    Fixture f({2, 2, 2});
    EXPECT_THROW(f.evaluate({1, 2, 3}, {1, 2, 3}), Error);
    EXPECT_THROW(f.evaluate({std::nan(""), 2, 3}, {1, 2, 3}), Error);
    Needle broken;
    TrajectoryEvaluator evaluator(*f.fields, f.patient.structures, &f.body);
    EXPECT_THROW(evaluator.evaluate(Trajectory{{0, 60, 0}, f.patient.targetLps, broken}), Error);
}

TEST(TrajectoryEvaluator, ObliqueTrajectoryIsSafeWithClosedFormClearances)
{
    for (const Mat3& dir : {Mat3::identity(), test::rotation({1, 2, 3}, 0.4)}) {
        Fixture f({1.0, 0.8, 1.5}, dir);
        const double tolerance = 0.5 * 1.5;
        // From 40° lateral (patient left) in the axial plane, to the target.
        const Vec3 target = f.patient.targetLps;
        const Vec3 u = normalized(Vec3{std::sin(0.7), std::cos(0.7), 0});
        const Vec3 entry = target + u * 60.0;
        const Evaluation e = f.evaluate(entry, target);
        EXPECT_TRUE(e.safe) << (e.reasons.empty() ? "" : e.reasons[0]);
        const double r = 0.36;
        const auto* nerve = f.clearanceOf(e, "nerve_root_L4_left");
        ASSERT_NE(nerve, nullptr);
        const double trueNerve = test::segmentPointDistance(entry, target, f.patient.nerve.centre) - 4.0 - r;
        EXPECT_NEAR(nerve->clearanceMm, trueNerve, tolerance);
        // Skin: the body cylinder of radius 70 crossed from the target outward.
        ASSERT_TRUE(e.skinFound);
        // |target + t u|_xy = 70 → t² + 2 t (target·u) + |target|² − 70² = 0.
        const double b = dot(Vec3{target.x, target.y, 0}, u),
                     c = target.x * target.x + target.y * target.y - 4900.0;
        const double depth = -b + std::sqrt(b * b - c);
        EXPECT_NEAR(e.depthFromSkinMm, depth, 1.0);
        // Skin normal is radial: the angle to the needle is that between u and the radial direction.
        const Vec3 skin = target + u * depth;
        const double expectedSkinAngle =
            std::acos(dot(normalized(Vec3{skin.x, skin.y, 0}), u)) * 180.0 / M_PI;
        ASSERT_TRUE(e.skinAngleDeg);
        EXPECT_NEAR(*e.skinAngleDeg, expectedSkinAngle, 4.0);
        EXPECT_NEAR(e.angles.mediolateralDeg, 40.1, 0.1);
    }
}

TEST(TrajectoryEvaluator, StraightPosteriorPathHitsTheNerveAndReportsWhereFirst)
{
    Fixture f({1.0, 1.0, 1.0});
    const Vec3 entry{0, 69, 0};
    const Evaluation e = f.evaluate(entry, f.patient.targetLps);
    EXPECT_FALSE(e.safe);
    ASSERT_FALSE(e.violations.empty());
    const Violation& first = e.violations.front();
    EXPECT_EQ(first.kind, ViolationKind::Margin);
    EXPECT_EQ(first.structure, "nerve_root_L4_left");
    // Walking in from y = 69, the margin (2 mm + radius 0.36) is first reached at y = 46 + 4 + 2.36.
    EXPECT_NEAR(first.positionLps.y, 52.36, 0.5 + 0.1);
    EXPECT_NEAR(first.depthFromEntryMm, 69 - 52.36, 0.6);
}

TEST(TrajectoryEvaluator, BoneBeforeTheTipZoneIsAnObstacle)
{
    Fixture f({1.0, 1.0, 1.0});
    // A target on the far (anterior) side of the bone sphere: the path crosses the bone.
    const Vec3 target{0, 10.5, 0};
    const Vec3 entry{30, 60, 0};
    const Evaluation e = f.evaluate(entry, target);
    EXPECT_FALSE(e.safe);
    bool obstacle = false;
    for (const auto& v : e.violations)
        obstacle |= v.kind == ViolationKind::Obstacle && v.structure == "vertebra_L4";
    EXPECT_TRUE(obstacle);
    // Ending on the bone surface from a clear direction is fine: only the tip zone touches bone.
    const Vec3 u = normalized(Vec3{std::sin(0.7), std::cos(0.7), 0});
    const Evaluation ok = f.evaluate(f.patient.targetLps + u * 50.0, f.patient.targetLps);
    EXPECT_TRUE(ok.safe) << (ok.reasons.empty() ? "" : ok.reasons[0]);
}

TEST(TrajectoryEvaluator, NeedleTooShortForTheDepth)
{
    Fixture f({1.0, 1.0, 1.0});
    // Skin to target: sqrt(70² − 10²) = 69.3 mm, more than the 50 mm needle.
    const Evaluation e = f.evaluate({10, 80, 20}, {10, 0, 20}, "25G-50mm");
    EXPECT_FALSE(e.safe);
    ASSERT_FALSE(e.violations.empty());
    EXPECT_EQ(e.violations.front().kind, ViolationKind::Length);
    EXPECT_NEAR(e.depthFromSkinMm, std::sqrt(4900.0 - 100.0), 1.0);
}

TEST(TrajectoryEvaluator, MarginOverrideChangesTheVerdictWithoutNewFields)
{
    Fixture f({1.0, 1.0, 1.0});
    const int before = f.fields->computedMapCount();
    // Passes the nerve sphere (radius 4) at an axis distance of 8 mm: clearance 3.64 mm.
    const Vec3 target{8, 46, 0};
    const Vec3 entry{8, 69, 30};
    auto structures = f.patient.structures;
    const Evaluation safe = f.evaluate(entry, target, "22G-90mm", structures);
    EXPECT_TRUE(safe.safe);
    overrideStructures(structures, "nerve_root_*", 4.5);
    const Evaluation unsafe = f.evaluate(entry, target, "22G-90mm", structures);
    EXPECT_FALSE(unsafe.safe);
    EXPECT_EQ(f.fields->computedMapCount(), before);
}
