// Rigid CT-to-CT registration on analytic scenes moved by a known rigid transform: the post CT is
// sampled from the moved shapes directly (no resampling of the planning CT), on a different,
// anisotropic grid, with a steel needle and noise in it.

#include "needleplan/imaging/RigidRegistration.h"

#include "../../planning/unit/AnalyticShapes.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace np;
using namespace np::imaging;

namespace {

/// A smooth step from `inside` to `outside` across a surface at signed distance 0 (0.6 mm wide),
/// so voxel-centre sampling is free of staircase artefacts.
double blend(double signedDistanceMm, double inside, double outside)
{
    const double w = 1.0 / (1.0 + std::exp(signedDistanceMm / 0.6));
    return outside + (inside - outside) * w;
}

/// A torso-like scene in planning LPS: an elliptic body, a "spine" of bone spheres, an off-centre
/// organ and a rod, so that no rotation or shift maps it onto itself.
double scene(const Vec3& p)
{
    const double body = std::sqrt(p.x * p.x / (85.0 * 85.0) + p.y * p.y / (60.0 * 60.0)) * 60.0 - 60.0;
    double value = blend(body, 40.0, -1000.0);
    for (int level = -2; level <= 2; ++level) {
        const Vec3 centre{0.0, 25.0, 28.0 * level};
        value = blend(distance(p, centre) - 13.0, 700.0 + 40.0 * level, value);
        const Vec3 process{level % 2 == 0 ? 22.0 : -22.0, 40.0, 28.0 * level + 6.0};
        value = blend(distance(p, process) - 6.0, 1000.0, value);
    }
    value = blend(distance(p, Vec3{-40, -20, 10}) - 18.0, 90.0, value);   // organ
    value = blend(distance(p, Vec3{35, -25, -30}) - 12.0, -120.0, value); // fat pad
    const double rod = std::hypot(p.x - 50.0, p.z - 15.0) - 5.0;          // along y, at x 50
    if (std::abs(p.y) < 30.0)
        value = blend(rod, 600.0, value);
    return value;
}

struct Case
{
    Volume planning;
    Volume post;
    RigidTransform postFromPlanning; ///< the known motion of the anatomy
};

/// Planning CT on one grid; the post CT on another (anisotropic), showing the scene moved by
/// `motion` plus a steel needle along `needleEntry` → `needleTip` (planning LPS, moved with it).
Case makeCase(const RigidTransform& motion, bool withNeedle = true, double noiseHu = 10.0)
{
    Case c;
    c.postFromPlanning = motion;
    const Geometry planningGrid =
        test::gridAround({0, 5, 0}, {120, 90, 80}, {1.6, 1.6, 2.0}, Mat3::identity());
    const Geometry postGrid =
        test::gridAround({3, 2, -4}, {150, 115, 56}, {1.3, 1.25, 3.0}, test::rotation({0, 0, 1}, 0.05));
    std::uint32_t state = 99u;
    const auto noise = [&state] {
        state = state * 1664525u + 1013904223u;
        return (static_cast<double>(state >> 8) / 16777216.0 - 0.5) * 2.0;
    };
    c.planning = Volume(planningGrid, 0.0f);
    for (std::int64_t k = 0; k < planningGrid.size[2]; ++k)
        for (std::int64_t j = 0; j < planningGrid.size[1]; ++j)
            for (std::int64_t i = 0; i < planningGrid.size[0]; ++i)
                c.planning.at(i, j, k) =
                    static_cast<float>(scene(planningGrid.lpsFromIjk(Vec3{double(i), double(j), double(k)})) +
                                       noiseHu * noise());
    const RigidTransform planningFromPost = motion.inverse();
    const Vec3 entry = motion.apply({20, 75, 5}), tip = motion.apply({8, 30, 2});
    c.post = Volume(postGrid, 0.0f);
    for (std::int64_t k = 0; k < postGrid.size[2]; ++k)
        for (std::int64_t j = 0; j < postGrid.size[1]; ++j)
            for (std::int64_t i = 0; i < postGrid.size[0]; ++i) {
                const Vec3 p = postGrid.lpsFromIjk(Vec3{double(i), double(j), double(k)});
                double value = scene(planningFromPost.apply(p)) + noiseHu * noise();
                if (withNeedle && test::segmentPointDistance(entry, tip, p) < 0.6)
                    value = 15000.0;
                c.post.at(i, j, k) = static_cast<float>(value);
            }
    return c;
}

double errorAt(const RegistrationResult& r, const Case& c, const Vec3& planningPoint)
{
    const Vec3 post = c.postFromPlanning.apply(planningPoint);
    return distance(r.planningFromPost.apply(post), planningPoint);
}

struct CancelAtOnce : ProgressSink
{
    bool cancelRequested() const override { return true; }
};

} // namespace

TEST(RigidTransform, ComposeInverseAndAnglesByHand)
{
    // 90 degrees about z maps +x onto +y; about the centre (10, 0, 0) the point (11, 0, 0) goes to (10, 1,
    // 0).
    const RigidTransform r = RigidTransform::fromAnglesDeg({0, 0, 90}, {0, 0, 5}, {10, 0, 0});
    const Vec3 p = r.apply({11, 0, 0});
    EXPECT_NEAR(p.x, 10.0, 1e-12);
    EXPECT_NEAR(p.y, 1.0, 1e-12);
    EXPECT_NEAR(p.z, 5.0, 1e-12);
    EXPECT_NEAR(r.rotationAngleDeg(), 90.0, 1e-9);
    const Vec3 back = r.inverse().apply(p);
    EXPECT_NEAR(distance(back, {11, 0, 0}), 0.0, 1e-12);
    const RigidTransform identity = r.compose(r.inverse());
    EXPECT_NEAR(identity.rotationAngleDeg(), 0.0, 1e-6);
    EXPECT_NEAR(norm(identity.translationMm), 0.0, 1e-12);
}

TEST(RigidRegistration, RejectsEmptyVolumesAndBadOptions)
{
    const Volume ct(test::gridAround({0, 0, 0}, {10, 10, 10}, {1, 1, 1}, Mat3::identity()), 0.0f);
    EXPECT_THROW(registerRigid(Volume{}, ct), Error);
    RegistrationOptions bad;
    bad.iterationsPerLevel = {10};
    EXPECT_THROW(registerRigid(ct, ct, bad), Error);
    bad = {};
    bad.levelSpacingsMm = {6.0, -1.0, 1.0};
    EXPECT_THROW(registerRigid(ct, ct, bad), Error);
}

TEST(RigidRegistration, RecoversAKnownMotionOf20MmAnd15DegreesWithTheNeedleMasked)
{
    const RigidTransform motion = RigidTransform::fromAnglesDeg({6, -4, 12.5}, {14, -10, 8}, {0, 0, 0});
    ASSERT_NEAR(motion.rotationAngleDeg(), 14.5, 0.5);
    const Case c = makeCase(motion);
    const RegistrationResult r = registerRigid(c.planning, c.post);
    ASSERT_TRUE(r.succeeded) << r.verdict;
    EXPECT_GT(r.correlation, 0.95) << r.verdict;
    EXPECT_LT(r.correlationBefore, r.correlation);
    // Registration error at a target near the spine and at the rod, in planning LPS.
    EXPECT_LE(errorAt(r, c, {8, 30, 2}), 0.5);
    EXPECT_LE(errorAt(r, c, {50, 0, 15}), 0.5);
    EXPECT_LE(errorAt(r, c, {-40, -20, 10}), 0.5);
}

TEST(RigidRegistration, UnrelatedScansGiveAFailureVerdict)
{
    const Case c = makeCase(RigidTransform{}, false);
    // A post CT of a uniform block of tissue: nothing to match.
    Volume other(c.post.geometry(), -1000.0f);
    const Geometry& g = other.geometry();
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const Vec3 p = g.lpsFromIjk(Vec3{double(i), double(j), double(k)});
                other.at(i, j, k) = std::abs(p.x - 60.0) < 25.0 && std::abs(p.y + 40) < 20.0
                                        ? static_cast<float>(300.0 * std::sin(p.z * 0.3))
                                        : -1000.0f;
            }
    const RegistrationResult r = registerRigid(c.planning, other);
    EXPECT_FALSE(r.succeeded);
    EXPECT_NE(r.verdict.find("failed"), std::string::npos) << r.verdict;
}

TEST(RigidRegistration, Cancels)
{
    const Case c = makeCase(RigidTransform{}, false, 0.0);
    CancelAtOnce cancel;
    try {
        registerRigid(c.planning, c.post, {}, &cancel);
        FAIL() << "expected a cancel";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}
