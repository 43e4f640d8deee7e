// Clearance fields against closed-form distances of analytic shapes, on anisotropic oblique grids.

#include "needleplan/planning/ClearanceField.h"

#include "AnalyticShapes.h"
#include "needleplan/imaging/Error.h"

#include <gtest/gtest.h>
#include <random>

using namespace np;
using namespace np::planning;

namespace {

StructureSpec spec(const std::string& name, std::uint16_t label, StructureClass c = StructureClass::Forbidden,
                   double margin = 2.0)
{
    return StructureSpec{name, label, c, margin};
}

imaging::LabelMap labelMapWithSegment(const imaging::Geometry& g, std::uint16_t label = 1)
{
    imaging::LabelMap labels(g);
    labels.segments().push_back({"shape", label, {1, 0, 0}});
    return labels;
}

/// Checks |reported − true| ≤ 0.5 × largest spacing at random points whose true distance lies in
/// [minTrue, maxTrue], inside the region of interest. Returns the worst error seen.
template <class Shape>
double worstError(const Shape& shape, const imaging::Geometry& g, const Vec3& centreLps, double radiusMm,
                  double minTrue, double maxTrue, std::mt19937& rng, int samples = 3000)
{
    imaging::LabelMap labels = labelMapWithSegment(g);
    test::voxelise(labels, shape, 1);
    ClearanceFieldSet fields(labels, ClearanceFieldOptions{20.0, 0.0, 2});
    fields.prepare({spec("shape", 1)}, centreLps, radiusMm);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    double worst = 0.0;
    int tested = 0;
    for (int attempt = 0; attempt < samples * 50 && tested < samples; ++attempt) {
        const Vec3 p = centreLps + Vec3{u(rng), u(rng), u(rng)} * radiusMm;
        if (distance(p, centreLps) > radiusMm)
            continue;
        const double truth = shape.signedDistance(p);
        if (truth < minTrue || truth > maxTrue)
            continue;
        ++tested;
        const double reported = fields.distanceMm(1, p);
        const double error = reported - truth;
        if (std::abs(error) > std::abs(worst))
            worst = error;
        EXPECT_LE(std::abs(error), 0.5 * g.maxSpacing())
            << "at " << p.x << "," << p.y << "," << p.z << " true " << truth << " reported " << reported;
        if (std::abs(error) > 0.5 * g.maxSpacing())
            break;
    }
    EXPECT_GT(tested, samples / 2);
    return worst;
}

} // namespace

TEST(ClearanceField, RejectsUnknownLabelAndBadRegion)
{
    const auto g = test::gridAround({0, 0, 0}, {10, 10, 10}, {1, 1, 1}, Mat3::identity());
    imaging::LabelMap labels = labelMapWithSegment(g);
    ClearanceFieldSet fields(labels);
    EXPECT_THROW(fields.prepare({spec("nope", 7)}, {0, 0, 0}, 10.0), Error);
    EXPECT_THROW(fields.prepare({spec("shape", 1)}, {0, 0, 0}, -1.0), Error);
    EXPECT_THROW(fields.prepare({spec("shape", 1)}, {0, std::nan(""), 0}, 5.0), Error);
    EXPECT_THROW(fields.distanceMm(1, {0, 0, 0}), Error); // never prepared
    EXPECT_THROW(ClearanceFieldSet(labels, ClearanceFieldOptions{0.0, 0.0, 2}), Error);
}

TEST(ClearanceField, AbsentStructureIsInfinitelyFar)
{
    const auto g = test::gridAround({0, 0, 0}, {10, 10, 10}, {1, 1, 1}, Mat3::identity());
    imaging::LabelMap labels = labelMapWithSegment(g);
    ClearanceFieldSet fields(labels);
    fields.prepare({spec("shape", 1)}, {0, 0, 0}, 10.0);
    EXPECT_TRUE(std::isinf(fields.distanceMm(1, {1, 2, 3})));
}

TEST(ClearanceField, SingleVoxelIsotropicMatchesHalfVoxelSurface)
{
    // One inside voxel at the centre, spacing 1: the surface is the voxel's faces, 0.5 mm from its
    // centre. Along an axis, 3 voxels away: raw distance 3, reported 3 − 0.5 = 2.5.
    const auto g = test::gridAround({0, 0, 0}, {21, 21, 21}, {1, 1, 1}, Mat3::identity());
    imaging::LabelMap labels = labelMapWithSegment(g);
    labels.at(10, 10, 10) = 1;
    ClearanceFieldSet fields(labels);
    fields.prepare({spec("shape", 1)}, {0, 0, 0}, 8.0);
    EXPECT_NEAR(fields.distanceMm(1, {3, 0, 0}), 2.5, 1e-5);
    EXPECT_NEAR(fields.distanceMm(1, {0, 0, -5}), 4.5, 1e-5);
    EXPECT_LT(fields.distanceMm(1, {0, 0, 0}), 0.0);
}

TEST(ClearanceField, SphereIsotropicAxisAligned)
{
    std::mt19937 rng(11);
    const auto g = test::gridAround({0, 0, 0}, {80, 80, 80}, {1, 1, 1}, Mat3::identity());
    worstError(test::Sphere{{0.3, -0.2, 0.1}, 12.0}, g, {0, 0, 0}, 35.0, 0.0, 18.0, rng);
}

TEST(ClearanceField, SphereAnisotropicOblique)
{
    std::mt19937 rng(12);
    const Mat3 dir = test::rotation({1, 2, 3}, 0.7);
    const auto g = test::gridAround({10, -20, 30}, {90, 70, 40}, {0.7, 0.9, 1.8}, dir);
    worstError(test::Sphere{{11, -19, 31}, 9.5}, g, {10, -20, 30}, 28.0, 0.0, 18.0, rng);
}

TEST(ClearanceField, CylinderAnisotropicOblique)
{
    std::mt19937 rng(13);
    const Mat3 dir = test::rotation({-2, 1, 0.5}, 0.9);
    const auto g = test::gridAround({0, 0, 0}, {80, 90, 45}, {0.8, 0.6, 1.5}, dir);
    worstError(test::Cylinder{{0.4, 0.2, -0.3}, normalized(Vec3{1, 0.3, 0.8}), 4.0}, g, {0, 0, 0}, 25.0, 0.0,
               18.0, rng);
}

TEST(ClearanceField, SlabAnisotropicOblique)
{
    std::mt19937 rng(14);
    const Mat3 dir = test::rotation({0.3, -1, 2}, 0.5);
    const auto g = test::gridAround({5, 5, 5}, {70, 70, 40}, {0.75, 0.75, 2.0}, dir);
    worstError(test::Slab{{5.2, 4.9, 5.3}, normalized(Vec3{0.2, 1, -0.4}), 3.0}, g, {5, 5, 5}, 25.0, 0.0,
               18.0, rng);
}

TEST(ClearanceField, RandomShapesOnRandomGridsStayWithinHalfLargestSpacing)
{
    std::mt19937 rng(2024);
    std::uniform_real_distribution<double> spacing(0.5, 2.0), angle(0.0, 3.0), unit(-1.0, 1.0);
    for (int trial = 0; trial < 12; ++trial) {
        const Vec3 s{spacing(rng), spacing(rng), spacing(rng)};
        const Mat3 dir = test::rotation(test::randomUnit(rng), angle(rng));
        const imaging::Size3 size{static_cast<std::int64_t>(60 / s.x), static_cast<std::int64_t>(60 / s.y),
                                  static_cast<std::int64_t>(60 / s.z)};
        const auto g = test::gridAround({0, 0, 0}, size, s, dir);
        const Vec3 c{unit(rng), unit(rng), unit(rng)};
        switch (trial % 3) {
        case 0:
            worstError(test::Sphere{c, 6.0 + 4.0 * std::abs(unit(rng))}, g, {0, 0, 0}, 24.0, 0.0, 15.0, rng,
                       800);
            break;
        case 1:
            worstError(test::Cylinder{c, test::randomUnit(rng), 2.0 + 3.0 * std::abs(unit(rng))}, g,
                       {0, 0, 0}, 24.0, 0.0, 15.0, rng, 800);
            break;
        default:
            worstError(test::Slab{c, test::randomUnit(rng), 1.5 + 3.0 * std::abs(unit(rng))}, g, {0, 0, 0},
                       24.0, 0.0, 15.0, rng, 800);
            break;
        }
    }
}

TEST(ClearanceField, BeyondCapIsALowerBound)
{
    const auto g = test::gridAround({0, 0, 0}, {100, 100, 100}, {1, 1, 1}, Mat3::identity());
    imaging::LabelMap labels = labelMapWithSegment(g);
    const test::Sphere sphere{{-30, 0, 0}, 5.0};
    test::voxelise(labels, sphere, 1);
    ClearanceFieldSet fields(labels, ClearanceFieldOptions{10.0, 0.0, 2});
    fields.prepare({spec("shape", 1)}, {0, 0, 0}, 45.0);
    for (double x : {-10.0, 0.0, 20.0, 40.0}) {
        const Vec3 p{x, 3, -2};
        const double reported = fields.distanceMm(1, p);
        EXPECT_LE(reported, sphere.signedDistance(p) + 0.5);
        EXPECT_GE(reported, 10.0 - 1e-9);
    }
}

TEST(ClearanceField, ReusesFieldsForSmallMovesAndRecomputesForLargeOnes)
{
    const auto g = test::gridAround({0, 0, 0}, {120, 120, 60}, {1, 1, 2}, Mat3::identity());
    imaging::LabelMap labels = labelMapWithSegment(g);
    test::voxelise(labels, test::Sphere{{0, 0, 0}, 5.0}, 1);
    ClearanceFieldSet fields(labels, ClearanceFieldOptions{10.0, 10.0, 2});
    const std::vector<StructureSpec> structures{spec("shape", 1)};
    fields.prepare(structures, {0, 0, 0}, 20.0);
    EXPECT_EQ(fields.computedMapCount(), 1);
    fields.prepare(structures, {3, -2, 1}, 20.0); // within the padding: reused
    EXPECT_EQ(fields.computedMapCount(), 1);
    std::vector<StructureSpec> moreMargin = structures;
    moreMargin[0].marginMm = 7.0; // exact range 7 + 12 mm beyond the field's: recomputed once, wider
    fields.prepare(moreMargin, {0, 0, 0}, 20.0);
    EXPECT_EQ(fields.computedMapCount(), 2);
    EXPECT_GE(fields.field(1)->capMm(), 19.0);
    moreMargin[0].marginMm = 3.0; // within the exact range: margins do not touch the fields
    fields.prepare(moreMargin, {0, 0, 0}, 20.0);
    fields.prepare(structures, {0, 0, 0}, 20.0);
    EXPECT_EQ(fields.computedMapCount(), 2);
    fields.prepare(structures, {30, 0, 0}, 20.0); // far move: recomputed
    EXPECT_EQ(fields.computedMapCount(), 3);
}

TEST(ClearanceField, InvalidateRecomputesOnlyTheEditedStructure)
{
    const auto g = test::gridAround({0, 0, 0}, {60, 60, 60}, {1, 1, 1}, Mat3::identity());
    imaging::LabelMap labels(g);
    labels.segments() = {{"a", 1, {1, 0, 0}}, {"b", 2, {0, 1, 0}}};
    test::voxelise(labels, test::Sphere{{-10, 0, 0}, 4.0}, 1);
    test::voxelise(labels, test::Sphere{{10, 0, 0}, 4.0}, 2);
    ClearanceFieldSet fields(labels, ClearanceFieldOptions{15.0, 5.0, 2});
    const std::vector<StructureSpec> structures{spec("a", 1), spec("b", 2)};
    fields.prepare(structures, {0, 0, 0}, 20.0);
    EXPECT_EQ(fields.computedMapCount(), 2);
    EXPECT_NEAR(fields.distanceMm(2, {10, 10, 0}), 6.0, 0.5);
    // Edit structure b: it moves 5 mm toward +y.
    for (auto& v : labels.labels())
        if (v == 2)
            v = 0;
    test::voxelise(labels, test::Sphere{{10, 5, 0}, 4.0}, 2);
    fields.invalidate(2);
    fields.prepare(structures, {0, 0, 0}, 20.0);
    EXPECT_EQ(fields.computedMapCount(), 3); // only b again
    EXPECT_NEAR(fields.distanceMm(2, {10, 10, 0}), 1.0, 0.5);
    EXPECT_NEAR(fields.distanceMm(1, {-10, 10, 0}), 6.0, 0.5);
}
