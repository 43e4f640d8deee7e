// DRR accuracy against closed-form chords. A sphere, a capped cylinder and an oriented box of known
// HU are voxelised with partial volumes (4³ subsamples in voxels the surface crosses) on an
// anisotropic, oblique grid; the expected water-equivalent path length of a ray is
// Σ (1 + HU/1000) × (chord through each shape), computed analytically. Only rays that stay more
// than two voxels (of the largest spacing) from every surface are scored, as the issue asks:
// no grazing of a surface, no crossing near a box edge or a cylinder rim.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <cmath>
#include <gtest/gtest.h>
#include <iostream>
#include <limits>
#include <random>
#include <vector>

using np::Mat3;
using np::Vec3;
using namespace np::imaging;

namespace {

Mat3 rotation(const Vec3& axisIn, double angleDeg)
{
    const Vec3 a = normalized(axisIn);
    const double t = angleDeg * M_PI / 180.0, c = std::cos(t), s = std::sin(t), k = 1.0 - c;
    return Mat3{{c + a.x * a.x * k, a.x * a.y * k - a.z * s, a.x * a.z * k + a.y * s, a.y * a.x * k + a.z * s,
                 c + a.y * a.y * k, a.y * a.z * k - a.x * s, a.z * a.x * k - a.y * s, a.z * a.y * k + a.x * s,
                 c + a.z * a.z * k}};
}

/// Interval [t0, t1] of the line origin + t·e (unit e) inside a shape; empty when t1 <= t0.
struct Interval
{
    double t0 = 0.0;
    double t1 = 0.0;
    double length() const { return std::max(0.0, t1 - t0); }
};

struct Shape
{
    enum Kind
    {
        Sphere,
        Cylinder,
        Box
    } kind = Sphere;
    Vec3 centerLps;
    Mat3 axes;     ///< columns: local axes (cylinder axis = column 2)
    Vec3 halfSize; ///< sphere: radius in x; cylinder: radius in x, half length in z; box: half sizes
    double hu = 0.0;

    double signedDistance(const Vec3& pLps) const
    {
        const Vec3 q = axes.transposed() * (pLps - centerLps);
        if (kind == Sphere)
            return norm(q) - halfSize.x;
        if (kind == Cylinder) {
            const double dx = std::hypot(q.x, q.y) - halfSize.x, dz = std::abs(q.z) - halfSize.z;
            return std::min(std::max(dx, dz), 0.0) + std::hypot(std::max(dx, 0.0), std::max(dz, 0.0));
        }
        const Vec3 d{std::abs(q.x) - halfSize.x, std::abs(q.y) - halfSize.y, std::abs(q.z) - halfSize.z};
        const Vec3 outside{std::max(d.x, 0.0), std::max(d.y, 0.0), std::max(d.z, 0.0)};
        return norm(outside) + std::min(std::max({d.x, d.y, d.z}), 0.0);
    }

    Interval chord(const Vec3& originLps, const Vec3& e) const
    {
        const Vec3 o = axes.transposed() * (originLps - centerLps);
        const Vec3 d = axes.transposed() * e;
        Interval in{-1e30, 1e30};
        auto slab = [&](double oc, double dc, double h) {
            if (std::abs(dc) < 1e-15) {
                if (std::abs(oc) > h)
                    in = {0.0, 0.0};
                return;
            }
            const double a = (-h - oc) / dc, b = (h - oc) / dc;
            in.t0 = std::max(in.t0, std::min(a, b));
            in.t1 = std::min(in.t1, std::max(a, b));
        };
        auto quadratic = [&](double qa, double qb, double qc) {
            const double disc = qb * qb - 4 * qa * qc;
            if (qa < 1e-15) {
                if (qc > 0)
                    in = {0.0, 0.0};
                return;
            }
            if (disc <= 0) {
                in = {0.0, 0.0};
                return;
            }
            const double r = std::sqrt(disc);
            in.t0 = std::max(in.t0, (-qb - r) / (2 * qa));
            in.t1 = std::min(in.t1, (-qb + r) / (2 * qa));
        };
        if (kind == Sphere) {
            quadratic(dot(d, d), 2 * dot(o, d), dot(o, o) - halfSize.x * halfSize.x);
        } else if (kind == Cylinder) {
            quadratic(d.x * d.x + d.y * d.y, 2 * (o.x * d.x + o.y * d.y),
                      o.x * o.x + o.y * o.y - halfSize.x * halfSize.x);
            slab(o.z, d.z, halfSize.z);
        } else {
            slab(o.x, d.x, halfSize.x);
            slab(o.y, d.y, halfSize.y);
            slab(o.z, d.z, halfSize.z);
        }
        return in;
    }
};

struct Scene
{
    Geometry geometry;
    Vec3 centerLps;
    std::vector<Shape> shapes;
    Volume ct;
};

/// 150 × 120 × 90 voxels of 0.8 × 1.1 × 1.6 mm, turned 25° about (1, 2, 2), air around three shapes.
Scene makeScene()
{
    Scene s;
    s.geometry.size = {150, 120, 90};
    s.geometry.spacing = {0.8, 1.1, 1.6};
    s.geometry.directionLps = rotation({1, 2, 2}, 25.0);
    s.centerLps = {5.0, -10.0, 20.0};
    const Vec3 halfExtentIjk{74.5, 59.5, 44.5};
    s.geometry.originLps = s.centerLps - s.geometry.lpsFromIjkLinear() * halfExtentIjk;
    Shape sphere;
    sphere.kind = Shape::Sphere;
    sphere.centerLps = s.centerLps + Vec3{-20, 0, 15};
    sphere.halfSize = {25, 25, 25};
    sphere.hu = 300;
    Shape cylinder;
    cylinder.kind = Shape::Cylinder;
    cylinder.centerLps = s.centerLps + Vec3{25, 12, -18};
    cylinder.axes = rotation({1, -1, 0.5}, 40.0);
    cylinder.halfSize = {12, 12, 20};
    cylinder.hu = 1200;
    Shape box;
    box.kind = Shape::Box;
    box.centerLps = s.centerLps + Vec3{-5, -28, -25};
    box.axes = rotation({0.3, 1, -0.2}, 30.0);
    box.halfSize = {16, 10, 7};
    box.hu = 0;
    s.shapes = {sphere, cylinder, box};

    s.ct = Volume(s.geometry, -1000.0f);
    const Vec3 sp = s.geometry.spacing;
    const double halfDiagonal = 0.5 * norm(sp);
    for (std::int64_t k = 0; k < s.geometry.size[2]; ++k)
        for (std::int64_t j = 0; j < s.geometry.size[1]; ++j)
            for (std::int64_t i = 0; i < s.geometry.size[0]; ++i) {
                const Vec3 ijk{double(i), double(j), double(k)};
                const Vec3 p = s.geometry.lpsFromIjk(ijk);
                double hu = -1000.0;
                for (const Shape& shape : s.shapes) {
                    const double sd = shape.signedDistance(p);
                    double fraction = 0.0;
                    if (sd < -halfDiagonal)
                        fraction = 1.0;
                    else if (sd < halfDiagonal) {
                        int inside = 0;
                        for (int c = 0; c < 4; ++c)
                            for (int b = 0; b < 4; ++b)
                                for (int a = 0; a < 4; ++a) {
                                    const Vec3 sub = ijk + Vec3{(a - 1.5) / 4, (b - 1.5) / 4, (c - 1.5) / 4};
                                    inside += shape.signedDistance(s.geometry.lpsFromIjk(sub)) < 0 ? 1 : 0;
                                }
                        fraction = inside / 64.0;
                    }
                    hu += fraction * (shape.hu + 1000.0);
                }
                s.ct.at(i, j, k) = static_cast<float>(hu);
            }
    return s;
}

const Scene& scene()
{
    static const Scene s = makeScene();
    return s;
}

const AttenuationVolume& attenuation()
{
    static const AttenuationVolume volume(scene().ct);
    return volume;
}

CArmParameters randomView(std::mt19937& random)
{
    std::uniform_real_distribution<double> primary(-180.0, 180.0), secondary(-60.0, 60.0), offset(-8.0, 8.0);
    CArmParameters p;
    p.primaryDeg = primary(random);
    p.secondaryDeg = secondary(random);
    p.isocenterLps = scene().centerLps + Vec3{offset(random), offset(random), offset(random)};
    p.sourceToDetectorMm = 1000.0;
    p.sourceToIsocenterMm = 700.0;
    p.columns = 160;
    p.rows = 150;
    p.columnSpacingMm = 1.2;
    p.rowSpacingMm = 1.3;
    return p;
}

/// True when a crossing point of the surface lies at least `margin` inside its face (not near a
/// box edge or a cylinder rim).
bool crossingIsClean(const Shape& shape, const Vec3& pLps, double margin)
{
    const Vec3 q = shape.axes.transposed() * (pLps - shape.centerLps);
    if (shape.kind == Shape::Sphere)
        return true;
    if (shape.kind == Shape::Cylinder) {
        const double radial = std::hypot(q.x, q.y);
        const bool onCap = std::abs(std::abs(q.z) - shape.halfSize.z) < std::abs(radial - shape.halfSize.x);
        return onCap ? radial < shape.halfSize.x - margin : std::abs(q.z) < shape.halfSize.z - margin;
    }
    int face = 0;
    double best = -1e30;
    for (int a = 0; a < 3; ++a)
        if (std::abs(q[a]) - shape.halfSize[a] > best) {
            best = std::abs(q[a]) - shape.halfSize[a];
            face = a;
        }
    for (int a = 0; a < 3; ++a)
        if (a != face && std::abs(q[a]) > shape.halfSize[a] - margin)
            return false;
    return true;
}

/// The filter: the ray passes more than `margin` from every surface it does not cross,
/// crosses surfaces away from edges and rims, and goes deeper than `margin` into every shape it
/// enters (no grazing). The shapes are convex, so each is entered at most once.
bool farFromSurfaces(const Scene& s, const RayLps& ray, double margin)
{
    const double tCenter = dot(s.centerLps - ray.originLps, ray.directionLps);
    for (const Shape& shape : s.shapes) {
        const Interval in = shape.chord(ray.originLps, ray.directionLps);
        if (in.length() <= 0.0) {
            // |sdf| is 1-Lipschitz: sampled every mm, the minimum is at most 0.5 mm too large.
            for (double t = tCenter - 110.0; t <= tCenter + 110.0; t += 1.0)
                if (shape.signedDistance(ray.originLps + ray.directionLps * t) <= margin + 0.5)
                    return false;
            continue;
        }
        if (!crossingIsClean(shape, ray.originLps + ray.directionLps * in.t0, margin) ||
            !crossingIsClean(shape, ray.originLps + ray.directionLps * in.t1, margin))
            return false;
        double deepest = 0.0;
        for (double t = in.t0; t <= in.t1; t += 0.25)
            deepest = std::min(deepest, shape.signedDistance(ray.originLps + ray.directionLps * t));
        if (deepest > -margin)
            return false;
    }
    return true;
}

double percentile(std::vector<double> values, double q)
{
    std::sort(values.begin(), values.end());
    const std::size_t index =
        std::min(values.size() - 1, static_cast<std::size_t>(q * (values.size() - 1) + 0.5));
    return values[index];
}

} // namespace

TEST(DrrRenderer, RejectsEmptyVolume)
{
    EXPECT_THROW(AttenuationVolume{Volume{}}, np::Error);
    const AttenuationVolume empty;
    EXPECT_THROW(renderDrr(empty, CArmGeometry(CArmParameters{})), np::Error);
}

TEST(DrrRenderer, HomogeneousWaterBoxGivesItsExactLength)
{
    // 40 × 30 × 20 voxels of water at 0.5 × 1.0 × 2.0 mm: a ray along each axis through the middle
    // crosses 20, 30 and 40 mm.
    Geometry g;
    g.size = {40, 30, 20};
    g.spacing = {0.5, 1.0, 2.0};
    g.originLps = {0, 0, 0};
    const AttenuationVolume water(Volume(g, 0.0f));
    const Vec3 middle = g.lpsFromIjk({19.5, 14.5, 9.5});
    EXPECT_NEAR(waterEquivalentPathLengthMm(water, middle - Vec3{500, 0, 0}, middle + Vec3{500, 0, 0}), 20.0,
                1e-3);
    EXPECT_NEAR(waterEquivalentPathLengthMm(water, middle - Vec3{0, 500, 0}, middle + Vec3{0, 500, 0}), 30.0,
                1e-3);
    EXPECT_NEAR(waterEquivalentPathLengthMm(water, middle - Vec3{0, 0, 500}, middle + Vec3{0, 0, 500}), 40.0,
                1e-3);
    // Air gives nothing, and a ray that misses the volume gives nothing.
    EXPECT_EQ(waterEquivalentPathLengthMm(AttenuationVolume(Volume(g, -1000.0f)), middle - Vec3{500, 0, 0},
                                          middle + Vec3{500, 0, 0}),
              0.0);
    EXPECT_EQ(waterEquivalentPathLengthMm(water, Vec3{-500, 100, 0}, Vec3{500, 100, 0}), 0.0);
}

TEST(DrrRenderer, MatchesClosedFormChordsOnObliqueAnisotropicGrid)
{
    const Scene& s = scene();
    // The shapes lie inside the grid: the outermost voxels are air.
    for (std::int64_t k = 0; k < s.geometry.size[2]; k += s.geometry.size[2] - 1)
        for (std::int64_t j = 0; j < s.geometry.size[1]; ++j)
            for (std::int64_t i = 0; i < s.geometry.size[0]; ++i)
                ASSERT_EQ(s.ct.at(i, j, k), -1000.0f);
    const double margin = 2.0 * s.geometry.maxSpacing();
    std::vector<double> relativeErrors;
    double worstEmpty = 0.0;
    std::mt19937 random(2024);
    for (int v = 0; v < 4; ++v) {
        const CArmGeometry view(randomView(random));
        DrrOptions options;
        options.threads = 2;
        const DrrImage drr = renderDrr(attenuation(), view, options);
        for (int row = 0; row < drr.rows; ++row)
            for (int column = 0; column < drr.columns; ++column) {
                const RayLps ray = view.ray({double(column), double(row)});
                if (!farFromSurfaces(s, ray, margin))
                    continue;
                double expected = 0.0;
                for (const Shape& shape : s.shapes)
                    expected +=
                        (1.0 + shape.hu / 1000.0) * shape.chord(ray.originLps, ray.directionLps).length();
                const double actual = drr.at(column, row);
                if (expected == 0.0)
                    worstEmpty = std::max(worstEmpty, std::abs(actual));
                else
                    relativeErrors.push_back(std::abs(actual - expected) / expected);
            }
    }
    ASSERT_GT(relativeErrors.size(), 5000u);
    const double median = percentile(relativeErrors, 0.5);
    const double p99 = percentile(relativeErrors, 0.99);
    std::cout << "DRR vs closed-form chords: " << relativeErrors.size() << " rays, median relative error "
              << 100 * median << " %, 99th percentile " << 100 * p99 << " %, max "
              << 100 * percentile(relativeErrors, 1.0) << " %; rays missing every shape: max " << worstEmpty
              << " mm\n";
    EXPECT_LE(median, 0.005);
    EXPECT_LE(p99, 0.02);
    EXPECT_LT(worstEmpty, 0.01);
}

TEST(DrrRenderer, SimdAndScalarPathsAndThreadCountsAgree)
{
    std::mt19937 random(99);
    for (int v = 0; v < 3; ++v) {
        CArmParameters p = randomView(random);
        if (v == 0)
            p.primaryDeg = 90.0; // lateral: rays along the grid's first axis family
        const CArmGeometry view(p);
        DrrOptions scalar;
        scalar.allowSimd = false;
        scalar.threads = 1;
        DrrOptions simd;
        simd.threads = 3;
        const DrrImage a = renderDrr(attenuation(), view, scalar);
        const DrrImage b = renderDrr(attenuation(), view, simd);
        ASSERT_EQ(a.pathLengthMm.size(), b.pathLengthMm.size());
        for (std::size_t n = 0; n < a.pathLengthMm.size(); ++n)
            ASSERT_NEAR(a.pathLengthMm[n], b.pathLengthMm[n], 1e-4 * (1.0 + a.pathLengthMm[n]))
                << "pixel " << n;
        // The single-ray entry point gives the same sums.
        const RayLps ray = view.ray({80.0, 75.0});
        const Vec3 end = view.detectorPointLps({80.0, 75.0});
        EXPECT_NEAR(waterEquivalentPathLengthMm(attenuation(), ray.originLps, end), a.at(80, 75),
                    1e-4 * (1.0 + a.at(80, 75)));
    }
}

/// The SIMD kernel reads voxels from row windows when neighbouring rays stay close and gathers
/// them otherwise (rays far apart, odd image widths, rays leaving the grid); every case must give
/// the scalar path's sums.
TEST(DrrRenderer, RowWindowsAndGathersGiveTheScalarSums)
{
    std::mt19937 random(7);
    const double pitchesMm[] = {0.25, 1.2,
                                5.0}; // rays far closer than voxels, about one voxel, several voxels apart
    for (const double pitch : pitchesMm)
        for (int v = 0; v < 2; ++v) {
            CArmParameters p = randomView(random);
            p.columns = 61; // not a multiple of the 8 rays per instruction
            p.rows = 37;
            p.columnSpacingMm = pitch;
            p.rowSpacingMm = pitch;
            const CArmGeometry view(p);
            DrrOptions scalar;
            scalar.allowSimd = false;
            scalar.threads = 1;
            DrrOptions simd;
            simd.threads = 2;
            const DrrImage a = renderDrr(attenuation(), view, scalar);
            const DrrImage b = renderDrr(attenuation(), view, simd);
            ASSERT_EQ(a.pathLengthMm.size(), b.pathLengthMm.size());
            double largest = 0.0;
            for (std::size_t n = 0; n < a.pathLengthMm.size(); ++n) {
                largest = std::max(largest, static_cast<double>(a.pathLengthMm[n]));
                ASSERT_NEAR(a.pathLengthMm[n], b.pathLengthMm[n], 1e-4 * (1.0 + a.pathLengthMm[n]))
                    << "pixel " << n << ", pitch " << pitch << " mm";
            }
            EXPECT_GT(largest, 10.0) << "the view should see the shapes";
        }
}

TEST(DrrRenderer, CancelsWhenAsked)
{
    struct Cancel : np::ProgressSink
    {
        bool cancelRequested() const override { return true; }
    } cancel;
    std::mt19937 random(1);
    EXPECT_THROW(
        {
            try {
                renderDrr(attenuation(), CArmGeometry(randomView(random)), {}, &cancel);
            } catch (const np::Error& e) {
                EXPECT_EQ(e.code(), np::ErrorCode::Cancelled);
                throw;
            }
        },
        np::Error);
}

TEST(DrrRenderer, DisplayShowsDenseMatterDark)
{
    DrrImage drr;
    drr.columns = 3;
    drr.rows = 1;
    drr.pathLengthMm = {0.0f, 100.0f, 300.0f};
    const auto display = drrDisplayImage(drr);
    EXPECT_GT(display[0], display[1]);
    EXPECT_GT(display[1], display[2]);
    DrrDisplayOptions inverted;
    inverted.invert = true;
    const auto bright = drrDisplayImage(drr, inverted);
    EXPECT_LT(bright[0], bright[1]);
    EXPECT_LT(bright[1], bright[2]);
}

TEST(DrrRenderer, AWindowOfTheDetectorPlaneGivesThePixelsOfALargerDetector)
{
    // Windows of 16 × 12 pixels whose first pixel is the view's pixel (20, 30) or (−8, 26) (reaching
    // past the 64 × 64 detector's edges) must equal those pixels of one 96 × 96 detector with the same
    // centre and pitch (its pixel = the 64-pixel view's pixel + 16).
    CArmParameters p;
    p.primaryDeg = 20.0;
    p.secondaryDeg = -10.0;
    p.isocenterLps = scene().centerLps;
    p.columns = 64;
    p.rows = 64;
    p.columnSpacingMm = 1.2;
    p.rowSpacingMm = 1.3;
    const CArmGeometry view(p);
    CArmParameters large = p;
    large.columns = 96;
    large.rows = 96;
    DrrOptions options;
    options.allowSimd = false;
    const DrrImage full = renderDrr(attenuation(), CArmGeometry(large), options);
    CArmParameters windowParameters = p;
    windowParameters.columns = 16;
    windowParameters.rows = 12;
    // The window's own view is centred like the others: the rendered pixel (0, 0) is the window
    // view's pixel (firstColumn, firstRow), i.e. the 64-pixel view's (first − (31.5 − 7.5), ...).
    const CArmGeometry windowView(windowParameters);
    double largest = 0.0;
    for (const auto& first : {std::pair<int, int>{20, 30}, std::pair<int, int>{-8, 26}}) {
        options.firstColumn = first.first - (31.5 - 7.5);
        options.firstRow = first.second - (31.5 - 5.5);
        const DrrImage window = renderDrr(attenuation(), windowView, options);
        for (int r = 0; r < windowParameters.rows; ++r)
            for (int c = 0; c < windowParameters.columns; ++c) {
                const float expected = full.at(first.first + c + 16, first.second + r + 16);
                largest = std::max(largest, static_cast<double>(expected));
                EXPECT_NEAR(window.at(c, r), expected, 1e-3 + 1e-5 * expected)
                    << "window at (" << first.first << ", " << first.second << "), pixel (" << c << ", " << r
                    << ")";
            }
    }
    EXPECT_GT(largest, 1.0); // the windows see the shapes
}
