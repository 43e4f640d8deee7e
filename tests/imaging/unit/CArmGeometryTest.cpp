// The C-arm model against hand-worked views. With SID 1000 mm, SOD 750 mm and a 300 mm detector of
// 512 pixels, a point 10 mm from the isocentre, in the isocentre plane, lands
// 10 × (1000/750) / (300/512) = 22.7556 pixels from the image centre (255.5, 255.5).

#include "needleplan/imaging/CArmGeometry.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <gtest/gtest.h>
#include <random>

using np::Vec3;
using namespace np::imaging;

namespace {

constexpr double kCenter = 255.5;
constexpr double kTenMmInPixels = 10.0 * (1000.0 / 750.0) / (300.0 / 512.0);

CArmParameters view(double primaryDeg, double secondaryDeg, const std::string& position = "HFS")
{
    CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.isocenterLps = {10.0, -20.0, 30.0};
    p.patientPosition = position;
    return p;
}

void expectPixel(const DetectorPixel& actual, double column, double row)
{
    EXPECT_NEAR(actual.column, column, 1e-9);
    EXPECT_NEAR(actual.row, row, 1e-9);
}

} // namespace

TEST(CArmGeometry, RejectsImpossibleParameters)
{
    CArmParameters p = view(0, 0);
    p.sourceToDetectorMm = 700.0; // detector in front of the isocentre
    EXPECT_THROW(CArmGeometry{p}, np::Error);
    p = view(0, 0);
    p.imageRotationDeg = 45;
    EXPECT_THROW(CArmGeometry{p}, np::Error);
    p = view(0, 0);
    p.columns = 0;
    EXPECT_THROW(CArmGeometry{p}, np::Error);
    p = view(0, 0);
    p.rowSpacingMm = -0.1;
    EXPECT_THROW(CArmGeometry{p}, np::Error);
    p = view(std::nan(""), 0);
    EXPECT_THROW(CArmGeometry{p}, np::Error);
    p = view(0, 95);
    EXPECT_THROW(CArmGeometry{p}, np::Error);
}

TEST(CArmGeometry, ApViewOfSupinePatientShowsLeftOnTheRightAndHeadUp)
{
    const CArmGeometry carm(view(0, 0, "HFS"));
    const Vec3 iso{10.0, -20.0, 30.0};
    // Detector in front (anterior, -y), source 750 mm behind the isocentre.
    EXPECT_NEAR(carm.sourceLps().y, -20.0 + 750.0, 1e-9);
    EXPECT_NEAR(carm.detectorCenterLps().y, -20.0 + 750.0 - 1000.0, 1e-9);
    expectPixel(carm.project(iso), kCenter, kCenter);
    expectPixel(carm.project(iso + Vec3{10, 0, 0}), kCenter + kTenMmInPixels,
                kCenter); // patient's left: right
    expectPixel(carm.project(iso + Vec3{0, 0, 10}), kCenter, kCenter - kTenMmInPixels); // head: up
    expectPixel(carm.project(iso + Vec3{0, -200, 0}), kCenter, kCenter);                // along the beam
    // Closer to the source means more magnification: 100 mm posterior is 650 mm from the source.
    expectPixel(carm.project(iso + Vec3{10, 100, 0}), kCenter + 10.0 * (1000.0 / 650.0) / (300.0 / 512.0),
                kCenter);
    EXPECT_EQ(carm.patientOrientation(), "L\\F");
}

TEST(CArmGeometry, PaViewOfPronePatientShowsRightOnTheRight)
{
    // Prone, detector above the back: primary 180 (patient-based, independent of the position).
    const CArmGeometry prone(view(180, 0, "HFP"));
    const Vec3 iso{10.0, -20.0, 30.0};
    EXPECT_NEAR(prone.detectorDirectionLps().y, 1.0, 1e-12); // posterior
    expectPixel(prone.project(iso + Vec3{-10, 0, 0}), kCenter + kTenMmInPixels,
                kCenter); // patient's right: right
    expectPixel(prone.project(iso + Vec3{0, 0, 10}), kCenter, kCenter - kTenMmInPixels); // head: up
    EXPECT_EQ(prone.patientOrientation(), "R\\F");
    // The patient position is kept with the view but does not move it.
    const CArmGeometry supine(view(180, 0, "HFS"));
    EXPECT_EQ(prone.projectionMatrix().m, supine.projectionMatrix().m);
}

TEST(CArmGeometry, LateralViewsOfSupineAndPronePatients)
{
    const Vec3 iso{10.0, -20.0, 30.0};
    // LAO 90: detector on the patient's left, seen from there the back is on the right.
    const CArmGeometry left(view(90, 0, "HFS"));
    EXPECT_NEAR(left.detectorDirectionLps().x, 1.0, 1e-12);
    expectPixel(left.project(iso + Vec3{0, 10, 0}), kCenter + kTenMmInPixels, kCenter);
    expectPixel(left.project(iso + Vec3{0, 0, 10}), kCenter, kCenter - kTenMmInPixels);
    EXPECT_EQ(left.patientOrientation(), "P\\F");
    // RAO 90 (detector on the patient's right) of a prone patient: the front is on the right.
    const CArmGeometry right(view(-90, 0, "HFP"));
    EXPECT_NEAR(right.detectorDirectionLps().x, -1.0, 1e-12);
    expectPixel(right.project(iso + Vec3{0, -10, 0}), kCenter + kTenMmInPixels, kCenter);
    expectPixel(right.project(iso + Vec3{0, 0, 10}), kCenter, kCenter - kTenMmInPixels);
    EXPECT_EQ(right.patientOrientation(), "A\\F");
}

TEST(CArmGeometry, CranialTiltOf45Degrees)
{
    const CArmGeometry carm(view(0, 45));
    const Vec3 iso{10.0, -20.0, 30.0};
    const double h = std::sqrt(0.5);
    EXPECT_NEAR(carm.detectorDirectionLps().y, -h, 1e-12);
    EXPECT_NEAR(carm.detectorDirectionLps().z, h, 1e-12);
    // A point 10 mm toward the head: depth 750 + 10·sin45 from the source, 10·cos45 above the
    // central ray (row direction w = (0, -sin45, -cos45) for primary 0).
    const double depth = 750.0 + 10.0 * h;
    const double rowOffset = -(1000.0 / depth) * (10.0 * h) / (300.0 / 512.0);
    expectPixel(carm.project(iso + Vec3{0, 0, 10}), kCenter, kCenter + rowOffset);
    // Left stays on the right, unmagnified beyond the isocentre plane.
    expectPixel(carm.project(iso + Vec3{10, 0, 0}), kCenter + kTenMmInPixels, kCenter);
}

TEST(CArmGeometry, FlippedAndRotatedDetectors)
{
    const Vec3 iso{10.0, -20.0, 30.0};
    CArmParameters p = view(20, -15);
    const CArmGeometry headsUp(p);
    p.horizontalFlip = true;
    const CArmGeometry flipped(p);
    p.horizontalFlip = false;
    p.imageRotationDeg = 90;
    const CArmGeometry rotated(p);
    p.imageRotationDeg = 180;
    const CArmGeometry upsideDown(p);
    std::mt19937 random(7);
    std::uniform_real_distribution<double> offset(-60.0, 60.0);
    for (int n = 0; n < 20; ++n) {
        const Vec3 point = iso + Vec3{offset(random), offset(random), offset(random)};
        const DetectorPixel h = headsUp.project(point);
        // Mirror: column c becomes 511 − c.
        expectPixel(flipped.project(point), 511.0 - h.column, h.row);
        // Turned clockwise by 90 degrees as displayed: what was up is now on the right.
        expectPixel(rotated.project(point), 511.0 - h.row, h.column);
        expectPixel(upsideDown.project(point), 511.0 - h.column, 511.0 - h.row);
    }
    // A point toward the head lands right of centre in the rotated image.
    EXPECT_GT(rotated.project(iso + Vec3{0, 0, 10}).column, kCenter + 1.0);
}

TEST(CArmGeometry, MatrixAndRaysAgreeWithProjection)
{
    std::mt19937 random(11);
    std::uniform_real_distribution<double> angle(-180.0, 180.0), tilt(-80.0, 80.0), offset(-80.0, 80.0);
    for (int view = 0; view < 20; ++view) {
        CArmParameters p;
        p.primaryDeg = angle(random);
        p.secondaryDeg = tilt(random);
        p.isocenterLps = {offset(random), offset(random), offset(random)};
        p.columns = 300 + view;
        p.rows = 200 + 2 * view;
        p.columnSpacingMm = 0.3 + 0.01 * view;
        p.rowSpacingMm = 0.45;
        p.imageRotationDeg = 90 * (view % 4);
        p.horizontalFlip = view % 3 == 0;
        const CArmGeometry carm(p);
        const ProjectionMatrix matrix = carm.projectionMatrix();
        for (int n = 0; n < 20; ++n) {
            const Vec3 point = p.isocenterLps + Vec3{offset(random), offset(random), offset(random)};
            const DetectorPixel direct = carm.project(point);
            const DetectorPixel viaMatrix = matrix.project(point);
            EXPECT_NEAR(direct.column, viaMatrix.column, 1e-9);
            EXPECT_NEAR(direct.row, viaMatrix.row, 1e-9);
            // The ray through the pixel passes through the point.
            const RayLps ray = carm.ray(direct);
            const Vec3 toPoint = point - ray.originLps;
            EXPECT_LT(norm(toPoint - ray.directionLps * dot(toPoint, ray.directionLps)), 1e-9);
            EXPECT_NEAR(matrix.depth(point), dot(toPoint, carm.detectorDirectionLps()), 1e-9);
        }
        // The central ray hits the isocentre and the detector centre.
        const DetectorPixel center = carm.centerPixel();
        const DetectorPixel iso = carm.project(p.isocenterLps);
        EXPECT_NEAR(iso.column, center.column, 1e-9);
        EXPECT_NEAR(iso.row, center.row, 1e-9);
        EXPECT_NEAR(distance(carm.detectorPointLps(center), carm.sourceLps()), p.sourceToDetectorMm, 1e-9);
    }
}

TEST(CArmGeometry, CineFramesFollowTheirAngles)
{
    // A rotational run of 5 frames, primary angle stepping 30° from RAO 60: each frame's view is the
    // view built from its own angles, and a point on the rotation axis (the isocentre's
    // head-foot line) stays on the central column.
    const Vec3 iso{10.0, -20.0, 30.0};
    for (int frame = 0; frame < 5; ++frame) {
        const CArmGeometry carm(view(-60.0 + 30.0 * frame, 0));
        const DetectorPixel axisPoint = carm.project(iso + Vec3{0, 0, 25});
        EXPECT_NEAR(axisPoint.column, kCenter, 1e-9);
        EXPECT_NEAR(axisPoint.row, kCenter - 2.5 * kTenMmInPixels, 1e-9);
        const Vec3 v = carm.detectorDirectionLps();
        const double primary = (-60.0 + 30.0 * frame) * M_PI / 180.0;
        EXPECT_NEAR(v.x, std::sin(primary), 1e-12);
        EXPECT_NEAR(v.y, -std::cos(primary), 1e-12);
    }
}
