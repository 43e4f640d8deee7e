// The post-insertion phantom: at rest and without needles it is the phantom itself; moved, each
// voxel shows the anatomy at the inverse motion of its centre (the analytic shapes); the needle's
// metal lies on the given path; bad options are refused.

#include "needleplan/phantom/PostInsertionPhantom.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <gtest/gtest.h>

using namespace np;
using namespace np::phantom;

namespace {

PostInsertionOptions coarse()
{
    PostInsertionOptions o;
    o.phantom.spacing = {3.0, 3.0, 3.0};
    o.phantom.noiseHu = 0.0;
    return o;
}

bool isBoneName(const std::string& name)
{
    return name.rfind("vertebra", 0) == 0 || name == "sacrum" || name.rfind("bone_", 0) == 0;
}

} // namespace

TEST(PostInsertionPhantom, RefusesBadNeedlesAndMotions)
{
    PostInsertionOptions o = coarse();
    o.needles = {{{0, 90, 10}, {0, 30, 10}, 99}};
    EXPECT_THROW(generatePostInsertionCt(o), Error);
    o.needles = {{{0, 30, 10}, {0, 30, 10.5}, 22}};
    EXPECT_THROW(generatePostInsertionCt(o), Error);
    o.needles.clear();
    o.moveMm = {60, 0, 0};
    EXPECT_THROW(generatePostInsertionCt(o), Error);
    o.moveMm = {};
    o.moveDeg = {0, 50, 0};
    EXPECT_THROW(generatePostInsertionCt(o), Error);
}

TEST(PostInsertionPhantom, AtRestWithoutNeedlesItIsThePhantom)
{
    const PostInsertionOptions o = coarse();
    const PostInsertionPhantom post = generatePostInsertionCt(o);
    const Phantom rest = generateLumbarPhantom(o.phantom);
    ASSERT_EQ(post.ct.voxels().size(), rest.ct.voxels().size());
    EXPECT_TRUE(std::equal(post.ct.voxels().begin(), post.ct.voxels().end(), rest.ct.voxels().begin()));
}

TEST(PostInsertionPhantom, MovedVoxelsShowTheAnatomyAtTheInverseMotion)
{
    PostInsertionOptions o = coarse();
    o.moveMm = {12, -10, 12};
    o.moveDeg = {5, -8, 10};
    const PostInsertionPhantom post = generatePostInsertionCt(o);
    // The motion is a rotation about the L4 body centre, then the translation.
    const Vec3 l4 = vertebralBodyCentreLps("L4");
    EXPECT_NEAR(distance(post.postFromPlanning.apply(l4), l4 + o.moveMm), 0.0, 1e-9);
    const imaging::RigidTransform restFromPost = post.postFromPlanning.inverse();
    const auto& g = post.ct.geometry();
    std::int64_t checked = 0, agree = 0;
    for (std::int64_t k = 0; k < g.size[2]; k += 2)
        for (std::int64_t j = 0; j < g.size[1]; j += 2)
            for (std::int64_t i = 0; i < g.size[0]; i += 2) {
                const Vec3 p = g.lpsFromIjk(Vec3{double(i), double(j), double(k)});
                const std::string name = structureAt(restFromPost.apply(p));
                const float value = post.ct.at(i, j, k);
                ++checked;
                // Bone is above 200 HU (cancellous 230–290, cortex 1150), air −1000, soft tissue below 200.
                if (isBoneName(name) == (value > 200.0f) && (name.empty() == (value <= -999.0f)))
                    ++agree;
            }
    ASSERT_GT(checked, 1000);
    EXPECT_EQ(agree, checked);
}

TEST(PostInsertionPhantom, NeedleMetalLiesOnTheMovedPathWithItsTruth)
{
    PostInsertionOptions o = coarse();
    o.phantom.spacing = {1.0, 1.0, 1.0};
    o.phantom.size = {100, 260, 60};
    const Vec3 tip{26.1, 32.9, 9.5}, entry{52.0, 103.0, 18.5};
    o.needles = {{entry, tip, 18}};
    o.moveMm = {3, -2, 4};
    o.moveDeg = {0, 0, 5};
    o.streakHu = 0.0;
    const PostInsertionPhantom post = generatePostInsertionCt(o);
    ASSERT_EQ(post.needles.size(), 1u);
    const InsertedNeedle& n = post.needles.front();
    EXPECT_DOUBLE_EQ(n.outerDiameterMm, 1.27);
    EXPECT_NEAR(distance(n.tipPostLps, post.postFromPlanning.apply(tip)), 0.0, 1e-9);
    // 18 G fills more than a third of a 1 mm voxel on its axis: well above 2500 HU mid-shaft; and
    // nothing metal 5 mm beyond the tip.
    const Vec3 d = normalized(n.tipPostLps - n.entryPostLps);
    EXPECT_GT(post.ct.sampleLps(n.tipPostLps - d * 20.0, -1000.0f), 2500.0f);
    EXPECT_LT(post.ct.sampleLps(n.tipPostLps + d * 5.0, -1000.0f), 2000.0f);
    // The truth's skin entry is on the path and leaves the body there.
    ASSERT_TRUE(n.skinFound);
    const Vec3 toSkin = n.skinEntryLps - tip;
    EXPECT_NEAR(norm(cross(toSkin, normalized(entry - tip))), 0.0, 1e-6);
    EXPECT_FALSE(structureAt(n.skinEntryLps - normalized(toSkin) * 0.5).empty());
    EXPECT_TRUE(structureAt(n.skinEntryLps + normalized(toSkin) * 0.5).empty());
}
