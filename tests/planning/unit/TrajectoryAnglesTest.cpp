// Angle conventions with hand-made vectors (see TrajectoryAngles.h for the conventions).

#include "needleplan/planning/TrajectoryAngles.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using namespace np;
using namespace np::planning;

namespace {
const double kS45 = std::sqrt(0.5);
void expectVec(const Vec3& a, const Vec3& b, double tol = 1e-9)
{
    EXPECT_NEAR(a.x, b.x, tol);
    EXPECT_NEAR(a.y, b.y, tol);
    EXPECT_NEAR(a.z, b.z, tol);
}
} // namespace

TEST(TrajectoryAngles, RejectsCoincidentPoints)
{
    EXPECT_THROW(computeTrajectoryAngles({1, 2, 3}, {1, 2, 3}, PatientPosition::HFS), Error);
}

TEST(TrajectoryAngles, ParsesPatientPositions)
{
    EXPECT_EQ(parsePatientPosition(" hfp "), PatientPosition::HFP);
    EXPECT_EQ(parsePatientPosition("FFDR"), PatientPosition::FFDR);
    EXPECT_FALSE(parsePatientPosition(""));
    EXPECT_FALSE(parsePatientPosition("sitting"));
    expectVec(upDirectionLps(PatientPosition::HFS), {0, -1, 0});
    expectVec(upDirectionLps(PatientPosition::FFP), {0, 1, 0});
}

TEST(TrajectoryAngles, SupineAnteroposteriorNeedleIsZeroZero)
{
    // Needle from the front straight back: the detector sits in front of the chest.
    const auto a = computeTrajectoryAngles({0, -100, 0}, {0, 0, 0}, PatientPosition::HFS);
    EXPECT_NEAR(a.craniocaudalDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.mediolateralDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.primaryDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.secondaryDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.obliqueDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.tiltDeg, 0.0, 1e-9);
    expectVec(a.bullseye.detectorDirectionLps, {0, -1, 0});
}

TEST(TrajectoryAngles, ProneposteroanteriorNeedleIsVerticalOnTheTable)
{
    // Prone patient, needle from the back straight forward: detector above the back.
    const auto a = computeTrajectoryAngles({0, 100, 0}, {0, 0, 0}, PatientPosition::HFP);
    EXPECT_NEAR(std::abs(a.bullseye.primaryDeg), 180.0, 1e-9); // DICOM: detector behind the patient
    EXPECT_NEAR(a.bullseye.secondaryDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.obliqueDeg, 0.0, 1e-9); // table: straight up
    EXPECT_NEAR(a.bullseye.tiltDeg, 0.0, 1e-9);
    // Progression view: lateral, toward the entry's side (+x when the entry is not to the right).
    expectVec(a.progression.detectorDirectionLps, {1, 0, 0});
    EXPECT_NEAR(a.progression.primaryDeg, 90.0, 1e-9);
    EXPECT_NEAR(a.progression.obliqueDeg, 90.0, 1e-9);
}

TEST(TrajectoryAngles, LateralNeedleFromTheLeft)
{
    for (PatientPosition position : {PatientPosition::HFS, PatientPosition::HFP, PatientPosition::FFS}) {
        const auto a = computeTrajectoryAngles({100, 0, 0}, {0, 0, 0}, position);
        EXPECT_NEAR(a.mediolateralDeg, 90.0, 1e-9);
        EXPECT_EQ(a.mediolateralSide, "right");         // travels toward the patient's right
        EXPECT_NEAR(a.bullseye.primaryDeg, 90.0, 1e-9); // LAO 90: detector at the patient's left
        EXPECT_NEAR(a.bullseye.secondaryDeg, 0.0, 1e-9);
        EXPECT_NEAR(a.bullseye.obliqueDeg, 90.0, 1e-9);
        // The progression view of a lateral needle is the vertical one.
        expectVec(a.progression.detectorDirectionLps, upDirectionLps(position));
    }
}

TEST(TrajectoryAngles, Pure45DegreeCranialViewSupine)
{
    // Detector tilted 45° toward the head, supine: needle travels posteriorly and caudally.
    const auto a = computeTrajectoryAngles({0, -70, 70}, {0, 0, 0}, PatientPosition::HFS);
    EXPECT_NEAR(a.craniocaudalDeg, -45.0, 1e-9);
    EXPECT_EQ(a.craniocaudalName, "cranial-to-caudal");
    EXPECT_NEAR(a.bullseye.primaryDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.secondaryDeg, 45.0, 1e-9);
    EXPECT_NEAR(a.bullseye.tiltDeg, 45.0, 1e-9);
    expectVec(a.bullseye.detectorDirectionLps, {0, -kS45, kS45});
}

TEST(TrajectoryAngles, Pure45DegreeCranialViewProne)
{
    const auto a = computeTrajectoryAngles({0, 70, 70}, {0, 0, 0}, PatientPosition::HFP);
    EXPECT_NEAR(a.craniocaudalDeg, -45.0, 1e-9);
    EXPECT_NEAR(std::abs(a.bullseye.primaryDeg), 180.0, 1e-9);
    EXPECT_NEAR(a.bullseye.secondaryDeg, 45.0, 1e-9); // CRA 45 in DICOM terms as well
    EXPECT_NEAR(a.bullseye.obliqueDeg, 0.0, 1e-9);
    EXPECT_NEAR(a.bullseye.tiltDeg, 45.0, 1e-9);
    // A caudal-to-cranial needle (entry below the target) gives a caudal tilt.
    const auto b = computeTrajectoryAngles({0, 70, -70}, {0, 0, 0}, PatientPosition::HFP);
    EXPECT_NEAR(b.craniocaudalDeg, 45.0, 1e-9);
    EXPECT_EQ(b.craniocaudalName, "caudal-to-cranial");
    EXPECT_NEAR(b.bullseye.tiltDeg, -45.0, 1e-9);
    EXPECT_NEAR(b.bullseye.secondaryDeg, -45.0, 1e-9);
}

TEST(TrajectoryAngles, ProneIpsilateralObliqueTowardTheMidline)
{
    // Right-sided target at x = −30; entry 20° oblique from the sagittal plane, lateral to it.
    const double r = 20.0 * M_PI / 180.0;
    const Vec3 target{-30, 0, 0};
    const Vec3 entry = target + Vec3{-std::sin(r), std::cos(r), 0} * 80.0;
    const auto a = computeTrajectoryAngles(entry, target, PatientPosition::HFP, 0.0);
    EXPECT_NEAR(a.mediolateralDeg, 20.0, 1e-9);
    EXPECT_EQ(a.mediolateralSide, "left");
    ASSERT_TRUE(a.towardMidline.has_value());
    EXPECT_TRUE(*a.towardMidline);
    EXPECT_NEAR(a.bullseye.obliqueDeg, -20.0, 1e-9); // detector rotated toward the patient's right
    EXPECT_NEAR(a.bullseye.primaryDeg, -160.0, 1e-9);
    // Supine, the same direction reads as an RAO of 160° in DICOM and table terms alike.
    const auto s = computeTrajectoryAngles(entry, target, PatientPosition::HFS, 0.0);
    EXPECT_NEAR(s.bullseye.primaryDeg, -160.0, 1e-9);
    EXPECT_NEAR(s.bullseye.obliqueDeg, -160.0, 1e-9);
}

TEST(TrajectoryAngles, CarmAnglesRoundTrip)
{
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> primary(-179.0, 179.0), secondary(-89.0, 89.0);
    for (PatientPosition position : {PatientPosition::HFS, PatientPosition::HFP, PatientPosition::FFS,
                                     PatientPosition::FFP, PatientPosition::HFDL, PatientPosition::HFDR}) {
        for (int n = 0; n < 200; ++n) {
            const double a = primary(rng), b = secondary(rng);
            double a2 = 0, b2 = 0;
            dicomAnglesFromDetectorDirection(detectorDirectionFromDicomAngles(a, b), a2, b2);
            EXPECT_NEAR(a2, a, 1e-7);
            EXPECT_NEAR(b2, b, 1e-7);
            tableAnglesFromDetectorDirection(detectorDirectionFromTableAngles(a, b, position), position, a2,
                                             b2);
            EXPECT_NEAR(a2, a, 1e-7);
            EXPECT_NEAR(b2, b, 1e-7);
            // The progression view is perpendicular to the needle; the bull's-eye view is along it.
            const Vec3 entry = detectorDirectionFromDicomAngles(a, b) * 90.0;
            const auto angles = computeTrajectoryAngles(entry, {0, 0, 0}, position);
            EXPECT_NEAR(dot(angles.progression.detectorDirectionLps, normalized(entry)), 0.0, 1e-9);
            EXPECT_NEAR(angles.bullseye.primaryDeg, a, 1e-7);
            EXPECT_NEAR(angles.bullseye.secondaryDeg, b, 1e-7);
        }
    }
}
