// One needle against its plan: errors worked out by hand on straight lines, the actual path's
// evaluation on the synthetic patient (closed-form shapes), RF active-tip placement and matching.

#include "needleplan/planning/NeedleMeasurement.h"

#include "SyntheticPatient.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/planning/ClearanceField.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace np;
using namespace np::planning;

namespace {

constexpr double kPi = 3.14159265358979323846;

Needle needle(const std::string& name)
{
    return *findNeedle(name);
}

Trajectory path(const Vec3& entry, const Vec3& tip, const std::string& name = "22G-90mm")
{
    return Trajectory{entry, tip, needle(name)};
}

} // namespace

TEST(NeedleMeasurement, RejectsDegenerateAndNonFiniteNeedles)
{
    const Trajectory planned = path({0, 60, 0}, {0, 0, 0});
    EXPECT_THROW(compareNeedle(planned, path({1, 1, 1}, {1, 1, 1})), Error);
    EXPECT_THROW(compareNeedle(planned, path({std::nan(""), 1, 1}, {0, 0, 0})), Error);
    EXPECT_THROW(compareNeedle(path({0, 0, 0}, {0, 0, 0}), planned), Error);
    EXPECT_THROW(matchNeedles({planned}, {planned}, MatchOptions{0.0, 10.0}), Error);
}

TEST(NeedleMeasurement, IdenticalNeedleHasNoError)
{
    const Trajectory planned = path({10, 70, -5}, {3, 20, 4});
    const NeedleErrors e = compareNeedle(planned, planned);
    EXPECT_DOUBLE_EQ(e.tipErrorMm, 0.0);
    EXPECT_DOUBLE_EQ(e.tipAlongMm, 0.0);
    EXPECT_DOUBLE_EQ(e.tipAcrossMm, 0.0);
    EXPECT_DOUBLE_EQ(e.entryErrorMm, 0.0);
    EXPECT_NEAR(e.angleErrorDeg, 0.0, 1e-9);
}

TEST(NeedleMeasurement, TipOffsetAlongAndAcrossThePlannedAxis)
{
    // Planned: from posterior (+y) straight down to the origin, direction (0, -1, 0).
    const Trajectory planned = path({0, 60, 0}, {0, 0, 0});
    // Parallel needle, 2 mm too deep (further along -y) and 1.5 mm to the left (+x): 3-4-5 halved.
    const NeedleErrors deep = compareNeedle(planned, path({1.5, 58, 0}, {1.5, -2, 0}));
    EXPECT_NEAR(deep.tipErrorMm, 2.5, 1e-12);
    EXPECT_NEAR(deep.tipAlongMm, 2.0, 1e-12);
    EXPECT_NEAR(deep.tipAcrossMm, 1.5, 1e-12);
    EXPECT_NEAR(deep.tipAcrossLps.x, 1.5, 1e-12);
    EXPECT_NEAR(deep.tipAcrossLps.y, 0.0, 1e-12);
    EXPECT_NEAR(deep.entryErrorMm, std::hypot(1.5, 2.0), 1e-12);
    EXPECT_NEAR(deep.angleErrorDeg, 0.0, 1e-9);

    // 3 mm short (stops before the target) and 4 mm cranial (+z): 5 mm in all.
    const NeedleErrors shortTip = compareNeedle(planned, path({0, 63, 4}, {0, 3, 4}));
    EXPECT_NEAR(shortTip.tipErrorMm, 5.0, 1e-12);
    EXPECT_NEAR(shortTip.tipAlongMm, -3.0, 1e-12);
    EXPECT_NEAR(shortTip.tipAcrossMm, 4.0, 1e-12);
}

TEST(NeedleMeasurement, AngleAndEntryOfATiltedNeedleThroughTheTarget)
{
    const Trajectory planned = path({0, 60, 0}, {0, 0, 0});
    // Tip on the target, shaft tilted 10 degrees toward +x in the axial plane, 60 mm long.
    const double tilt = 10.0 * kPi / 180.0;
    const Vec3 entry{60.0 * std::sin(tilt), 60.0 * std::cos(tilt), 0};
    const NeedleErrors e = compareNeedle(planned, path(entry, {0, 0, 0}));
    EXPECT_NEAR(e.angleErrorDeg, 10.0, 1e-9);
    EXPECT_NEAR(e.tipErrorMm, 0.0, 1e-12);
    // The chord between the two entries on the 60 mm circle: 2 · 60 · sin(5°).
    EXPECT_NEAR(e.entryErrorMm, 120.0 * std::sin(tilt / 2), 1e-9);
    // A needle pointing the wrong way is 180 degrees off.
    EXPECT_NEAR(compareNeedle(planned, path({0, -60, 0}, {0, 0, 0})).angleErrorDeg, 180.0, 1e-9);
}

TEST(NeedleMeasurement, ErrorsDoNotDependOnTheFrame)
{
    // The same configuration rotated about an oblique axis and shifted gives the same numbers.
    const Mat3 r = test::rotation({1, 2, 3}, 0.7);
    const Vec3 shift{-12, 30, 150};
    const Trajectory planned = path(r * Vec3{0, 60, 0} + shift, shift);
    const NeedleErrors e =
        compareNeedle(planned, path(r * Vec3{1.5, 58, 0} + shift, r * Vec3{1.5, -2, 0} + shift));
    EXPECT_NEAR(e.tipErrorMm, 2.5, 1e-9);
    EXPECT_NEAR(e.tipAlongMm, 2.0, 1e-9);
    EXPECT_NEAR(e.tipAcrossMm, 1.5, 1e-9);
    EXPECT_NEAR(e.angleErrorDeg, 0.0, 1e-6);
}

TEST(NeedleMeasurement, RfActiveTipParallelOffsetAndTilt)
{
    const Trajectory planned = path({0, 60, 0}, {0, 0, 0}, "20G-100mm-RF10");
    // An injection needle has no active tip.
    EXPECT_FALSE(measureActiveTip(planned, path({0, 60, 0}, {0, 0, 0})).has_value());

    // Parallel, 1.5 mm lateral: every point of the active tip is 1.5 mm from the line.
    const auto parallel = measureActiveTip(planned, path({1.5, 60, 0}, {1.5, -1, 0}, "20G-100mm-RF10"));
    ASSERT_TRUE(parallel.has_value());
    EXPECT_DOUBLE_EQ(parallel->activeTipMm, 10.0);
    EXPECT_NEAR(parallel->maxDistanceMm, 1.5, 1e-12);
    EXPECT_NEAR(parallel->meanDistanceMm, 1.5, 1e-12);
    EXPECT_NEAR(parallel->angleDeg, 0.0, 1e-9);
    EXPECT_TRUE(parallel->withinTolerance);

    // Tip on the line, tilted 15 degrees: the active tip's proximal end is 10 sin 15° = 2.59 mm off.
    const double tilt = 15.0 * kPi / 180.0;
    const auto tilted = measureActiveTip(
        planned, path(Vec3{0, std::cos(tilt), std::sin(tilt)} * 70.0, {0, 0, 0}, "20G-100mm-RF10"));
    ASSERT_TRUE(tilted.has_value());
    EXPECT_NEAR(tilted->maxDistanceMm, 10.0 * std::sin(tilt), 1e-9);
    EXPECT_NEAR(tilted->meanDistanceMm, 5.0 * std::sin(tilt), 1e-9);
    EXPECT_NEAR(tilted->angleDeg, 15.0, 1e-9);
    EXPECT_NEAR(tilted->activeStartLps.y, 10.0 * std::cos(tilt), 1e-9);
    EXPECT_FALSE(tilted->withinTolerance);
    // A looser limit accepts it.
    EXPECT_TRUE(
        measureActiveTip(
            planned, path(Vec3{0, std::cos(tilt), std::sin(tilt)} * 70.0, {0, 0, 0}, "20G-100mm-RF10"), 3.0)
            ->withinTolerance);
}

TEST(NeedleMeasurement, WithoutStructuresTheNeedleIsNotCalledSafe)
{
    const Trajectory planned = path({0, 60, 0}, {0, 0, 0});
    const NeedleMeasurement m = measureNeedle(planned, path({1.5, 58, 0}, {1.5, -2, 0}), nullptr);
    EXPECT_FALSE(m.actualSafe);
    EXPECT_FALSE(m.actualEvaluation.has_value());
    ASSERT_FALSE(m.summary.empty());
    EXPECT_EQ(m.summary.front().rfind("NOT CHECKED", 0), 0u) << m.summary.front();
    EXPECT_NEAR(m.errors.tipErrorMm, 2.5, 1e-12);
}

TEST(NeedleMeasurement, NeedleOnTargetThatCrossedANerveMarginIsAFailureReportedFirst)
{
    // Anisotropic, oblique grid: the synthetic patient's nerve sphere (radius 4) sits 16.5 mm
    // straight posterior of the target; a 40 degree lateral approach passes it safely.
    for (const Mat3& direction : {Mat3::identity(), test::rotation({1, 2, 3}, 0.4)}) {
        test::SyntheticPatient patient = test::makeSyntheticPatient({1.0, 0.8, 1.5}, direction);
        const planning::BodyModel body = planning::BodyModel::fromCt(patient.ct);
        ClearanceFieldSet fields(patient.labels);
        fields.prepare(patient.structures, patient.targetLps, 95.0);
        TrajectoryEvaluator evaluator(fields, patient.structures, &body);
        EvaluationOptions options;
        options.patientPosition = PatientPosition::HFP;

        const Vec3 target = patient.targetLps;
        const Vec3 lateral = normalized(Vec3{std::sin(0.7), std::cos(0.7), 0});
        const Trajectory planned = path(target + lateral * 60.0, target);
        // The actual needle ends 0.5 mm from the target (lateral, +x) but came straight from
        // posterior, through the nerve root.
        const Vec3 tip = target + Vec3{0.5, 0, 0};
        const Trajectory actual = path(tip + Vec3{0, 60, 0}, tip);
        const NeedleMeasurement m = measureNeedle(planned, actual, &evaluator, options);

        ASSERT_TRUE(m.actualEvaluation.has_value());
        ASSERT_TRUE(m.plannedEvaluation.has_value());
        EXPECT_TRUE(m.plannedEvaluation->safe);
        EXPECT_FALSE(m.actualSafe);
        ASSERT_FALSE(m.actualEvaluation->violations.empty());
        EXPECT_EQ(m.actualEvaluation->violations.front().structure, "nerve_root_L4_left");
        EXPECT_NEAR(m.errors.tipErrorMm, 0.5, 1e-12);
        // Directions (0, -1, 0) and -(sin 0.7, cos 0.7, 0): 0.7 rad apart.
        EXPECT_NEAR(m.errors.angleErrorDeg, 0.7 * 180.0 / kPi, 1e-9);
        ASSERT_GE(m.summary.size(), 2u);
        EXPECT_EQ(m.summary.front().rfind("UNSAFE", 0), 0u) << m.summary.front();
        EXPECT_NE(m.summary.front().find("nerve_root_L4_left"), std::string::npos) << m.summary.front();

        // Entry errors use where each line crosses the skin (body cylinder of radius 70 about z):
        // the straight posterior line from x = 0.5 crosses at y = sqrt(70² − 0.5²).
        EXPECT_NEAR(m.actualSkinEntryLps.x, 0.5, 1e-9);
        EXPECT_NEAR(m.actualSkinEntryLps.y, std::sqrt(4900.0 - 0.25), 1.0);
        const double b = dot(Vec3{target.x, target.y, 0}, lateral);
        const double c = target.x * target.x + target.y * target.y - 4900.0;
        const Vec3 plannedSkin = target + lateral * (-b + std::sqrt(b * b - c));
        EXPECT_NEAR(distance(m.plannedSkinEntryLps, plannedSkin), 0.0, 1.0);
        EXPECT_NEAR(m.errors.entryErrorMm, distance(m.actualSkinEntryLps, m.plannedSkinEntryLps), 1e-12);

        // The same needle from the planned side is safe and says so first.
        const NeedleMeasurement good =
            measureNeedle(planned, path(tip + lateral * 60.0, tip), &evaluator, options);
        EXPECT_TRUE(good.actualSafe);
        EXPECT_EQ(good.summary.front().rfind("SAFE", 0), 0u) << good.summary.front();
    }
}

TEST(NeedleMeasurement, MatchesByProximityAndDirectionAndReportsTheUnmatched)
{
    const Trajectory left = path({40, 80, 0}, {15, 20, 0});
    const Trajectory right = path({-40, 80, 0}, {-15, 20, 0});
    const std::vector<Trajectory> planned{left, right};
    const std::vector<Trajectory> actual{
        path({-41, 80, 1}, {-16, 21, 0}), // near the right plan
        path({0, 90, 80}, {0, 30, 70}),   // 70 mm away from both targets
        path({41, 79, 0}, {15.5, 20, 0}), // near the left plan
    };
    const auto matches = matchNeedles(actual, planned);
    ASSERT_EQ(matches.size(), 3u);
    EXPECT_EQ(matches[0].plannedIndex, 1);
    EXPECT_NEAR(matches[0].tipDistanceMm, std::sqrt(2.0), 1e-12);
    EXPECT_EQ(matches[1].plannedIndex, -1);
    EXPECT_FALSE(matches[1].reason.empty());
    EXPECT_EQ(matches[2].plannedIndex, 0);
    EXPECT_NEAR(matches[2].tipDistanceMm, 0.5, 1e-12);

    // Pointing the other way: close, but not a match by direction.
    const auto reversed = matchNeedles({path({-9.5, -40, 0}, {15.5, 20, 0})}, {left});
    ASSERT_EQ(reversed.size(), 1u);
    EXPECT_EQ(reversed[0].plannedIndex, -1);
    EXPECT_NEAR(reversed[0].angleDeg, 180.0, 1e-9);
    EXPECT_NEAR(reversed[0].tipDistanceMm, 0.5, 1e-12);

    // Two needles at one target: the closer one takes it, the other is reported.
    const auto twice =
        matchNeedles({path({40, 80, 0}, {18, 20, 0}), path({40, 80, 0}, {15.2, 20, 0})}, {left});
    EXPECT_EQ(twice[0].plannedIndex, -1);
    EXPECT_NE(twice[0].reason.find("closer"), std::string::npos) << twice[0].reason;
    EXPECT_EQ(twice[1].plannedIndex, 0);

    // No plan at all.
    EXPECT_EQ(matchNeedles({left}, {})[0].plannedIndex, -1);
}
