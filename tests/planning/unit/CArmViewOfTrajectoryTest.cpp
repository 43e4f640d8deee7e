// The C-arm model of imaging agrees with the angles planning prints: the bull's-eye view of a
// trajectory shows its needle as a point and the progression view shows its whole length, checked
// on DRRs of a voxelised needle (a partial-volume metal rod on an anisotropic oblique grid).

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <random>

using np::Mat3;
using np::Vec3;
using namespace np::imaging;
using namespace np::planning;

namespace {

constexpr double kNeedleRadiusMm = 0.6;

/// A metal rod (3000 HU) from entry to target in air, 4³ subsamples where the surface crosses a voxel.
Volume needleVolume(const Vec3& entryLps, const Vec3& targetLps)
{
    Geometry g;
    g.size = {110, 100, 90};
    g.spacing = {0.9, 1.1, 1.3};
    const double t = 0.3, c = std::cos(t), s = std::sin(t);
    g.directionLps = Mat3::fromColumns({c, 0, -s}, {0, 1, 0}, {s, 0, c});
    const Vec3 middle = (entryLps + targetLps) * 0.5;
    g.originLps = middle - g.lpsFromIjkLinear() * Vec3{54.5, 49.5, 44.5};
    Volume ct(g, -1000.0f);
    const Vec3 axis = normalized(targetLps - entryLps);
    const double length = distance(entryLps, targetLps);
    auto inside = [&](const Vec3& p) {
        const double along = dot(p - entryLps, axis);
        return along >= 0.0 && along <= length && norm(p - entryLps - axis * along) <= kNeedleRadiusMm;
    };
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 ijk{double(i), double(j), double(k)};
                const Vec3 p = g.lpsFromIjk(ijk);
                const double along = dot(p - entryLps, axis);
                const double radial = norm(p - entryLps - axis * along);
                if (radial > kNeedleRadiusMm + 1.2 || along < -1.2 || along > length + 1.2)
                    continue;
                int count = 0;
                for (int w = 0; w < 4; ++w)
                    for (int v = 0; v < 4; ++v)
                        for (int u = 0; u < 4; ++u)
                            count +=
                                inside(g.lpsFromIjk(ijk + Vec3{(u - 1.5) / 4, (v - 1.5) / 4, (w - 1.5) / 4}))
                                    ? 1
                                    : 0;
                ct.at(i, j, k) = static_cast<float>(-1000.0 + count / 64.0 * 4000.0);
            }
    return ct;
}

CArmParameters viewOf(const CarmAngles& angles, const Vec3& isocenterLps, const std::string& position)
{
    CArmParameters p;
    p.primaryDeg = angles.primaryDeg;
    p.secondaryDeg = angles.secondaryDeg;
    p.isocenterLps = isocenterLps;
    p.patientPosition = position;
    p.columns = 256;
    p.rows = 256;
    p.columnSpacingMm = 0.5;
    p.rowSpacingMm = 0.5;
    return p;
}

struct Case
{
    Vec3 entryLps;
    Vec3 targetLps;
    PatientPosition position;
    std::string positionName;
};

} // namespace

TEST(CArmViewOfTrajectory, DetectorDirectionsAgreeWithPlanning)
{
    std::mt19937 random(3);
    std::uniform_real_distribution<double> primary(-180.0, 180.0), secondary(-90.0, 90.0);
    for (int n = 0; n < 50; ++n) {
        const double a = primary(random), b = secondary(random);
        const Vec3 planning = detectorDirectionFromDicomAngles(a, b);
        CArmParameters p;
        p.primaryDeg = a;
        p.secondaryDeg = b;
        const Vec3 imaging = CArmGeometry(p).detectorDirectionLps();
        EXPECT_LT(norm(planning - imaging), 1e-12) << a << ", " << b;
    }
}

TEST(CArmViewOfTrajectory, BullseyeShowsNeedleAsPointAndProgressionShowsItsLength)
{
    const std::vector<Case> cases = {
        // Prone lumbar medial branch: posterior entry, 20° oblique, 15° caudal-to-cranial.
        {{-30.0, 95.0, 10.0}, {-12.0, 40.0, 25.0}, PatientPosition::HFP, "HFP"},
        // Supine anterior oblique needle.
        {{25.0, -70.0, -20.0}, {5.0, -15.0, 0.0}, PatientPosition::HFS, "HFS"},
        // Lateral approach from the left.
        {{60.0, 10.0, 5.0}, {10.0, 5.0, 0.0}, PatientPosition::HFP, "HFP"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("entry " + std::to_string(c.entryLps.x) + " position " + c.positionName);
        const TrajectoryAngles angles = computeTrajectoryAngles(c.entryLps, c.targetLps, c.position);
        const AttenuationVolume volume(needleVolume(c.entryLps, c.targetLps));

        // Bull's-eye: entry and target project to one pixel, and so does the rendered needle.
        const CArmGeometry bullseye(viewOf(angles.bullseye, c.targetLps, c.positionName));
        const DetectorPixel target = bullseye.project(c.targetLps);
        const DetectorPixel entry = bullseye.project(c.entryLps);
        EXPECT_LT(std::hypot(target.column - entry.column, target.row - entry.row), 1e-6);
        const DrrImage drr = renderDrr(volume, bullseye);
        const float peak = *std::max_element(drr.pathLengthMm.begin(), drr.pathLengthMm.end());
        // Metal (μ/μw = 4) along the whole needle, thinned by the partial volumes of a 1.2 mm rod in
        // voxels of about 1.1 mm (the axis voxels hold about 40 % metal).
        EXPECT_GT(peak, 0.3 * 4.0 * distance(c.entryLps, c.targetLps));
        double weight = 0.0, column = 0.0, row = 0.0, farthest = 0.0;
        for (int r = 0; r < drr.rows; ++r)
            for (int q = 0; q < drr.columns; ++q)
                if (drr.at(q, r) > 0.5f * peak) {
                    weight += drr.at(q, r);
                    column += q * drr.at(q, r);
                    row += r * drr.at(q, r);
                }
        column /= weight;
        row /= weight;
        for (int r = 0; r < drr.rows; ++r)
            for (int q = 0; q < drr.columns; ++q)
                if (drr.at(q, r) > 0.05f * peak)
                    farthest = std::max(farthest, std::hypot(q - column, r - row));
        EXPECT_LT(std::hypot(column - target.column, row - target.row), 0.5);
        // Everything the needle darkens lies within its radius plus one voxel (the partial volumes),
        // magnified and in pixels, plus one pixel: a few pixels, against the ~100 of its length.
        const double radiusPixels = (kNeedleRadiusMm + 1.3) * bullseye.magnification() / 0.5;
        EXPECT_LT(farthest, radiusPixels + 1.0);

        // Progression: the needle spans its full length (at the isocentre's magnification) and the
        // rendered shadow covers it from end to end.
        const CArmGeometry progression(
            viewOf(angles.progression, (c.entryLps + c.targetLps) * 0.5, c.positionName));
        const DetectorPixel a = progression.project(c.entryLps);
        const DetectorPixel b = progression.project(c.targetLps);
        const double lengthPixels = std::hypot(a.column - b.column, a.row - b.row);
        const double expectedPixels = distance(c.entryLps, c.targetLps) * progression.magnification() / 0.5;
        EXPECT_NEAR(lengthPixels, expectedPixels, 0.08 * expectedPixels);
        const DrrImage side = renderDrr(volume, progression);
        for (double f : {0.05, 0.5, 0.95}) {
            const Vec3 onNeedle = c.entryLps + (c.targetLps - c.entryLps) * f;
            const DetectorPixel p = progression.project(onNeedle);
            const int q = static_cast<int>(std::lround(p.column)), r = static_cast<int>(std::lround(p.row));
            ASSERT_TRUE(q >= 0 && r >= 0 && q < side.columns && r < side.rows);
            // The chord across a 1.2 mm rod is about 1 mm of metal, 4 mm water-equivalent.
            EXPECT_GT(side.at(q, r), 1.5f) << "fraction " << f;
        }
    }
}
