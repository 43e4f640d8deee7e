// Automatic segmentation against the lumbar phantom's ground truth (its label map, computed from
// the analytic shapes independently of the segmentation): bone with cancellous bone, the spinal
// canal and the vertebral levels, on prone, supine, anisotropic, oblique and coarse grids with
// partial volume and osteoporotic bone. Small grids keep the runtime short.

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <gtest/gtest.h>
#include <map>
#include <set>

namespace np::imaging {
namespace {

std::vector<std::uint8_t> truthMask(const LabelMap& labels, const std::vector<std::string>& names)
{
    std::set<std::uint16_t> wanted;
    for (const auto& segment : labels.segments())
        for (const auto& name : names)
            if (segment.name == name)
                wanted.insert(segment.labelValue);
    std::vector<std::uint8_t> mask(labels.labels().size());
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = wanted.count(labels.labels()[v]) ? 1 : 0;
    return mask;
}

const std::vector<std::string>& boneNames()
{
    static const std::vector<std::string> names{"vertebra_L3", "vertebra_L4",     "vertebra_L5",
                                                "sacrum",      "bone_ilium_left", "bone_ilium_right"};
    return names;
}

struct Agreement
{
    double dice = 0.0, sensitivity = 0.0;
};

Agreement agree(const StructureMask* found, const std::vector<std::uint8_t>& truth)
{
    std::int64_t both = 0, a = 0, b = 0;
    for (std::size_t v = 0; v < truth.size(); ++v) {
        const bool f = found && found->voxels[v];
        both += f && truth[v];
        a += f;
        b += truth[v];
    }
    return {a + b == 0 ? 1.0 : 2.0 * double(both) / double(a + b), b == 0 ? 1.0 : double(both) / double(b)};
}

/// Number of 6-connected components of a mask (flood fill).
int componentCount(const std::vector<std::uint8_t>& mask, const Size3& size)
{
    std::vector<std::uint8_t> seen(mask.size(), 0);
    std::vector<std::int64_t> stack;
    int components = 0;
    const std::int64_t nx = size[0], ny = size[1], nz = size[2];
    for (std::size_t start = 0; start < mask.size(); ++start) {
        if (!mask[start] || seen[start])
            continue;
        ++components;
        stack.push_back(static_cast<std::int64_t>(start));
        seen[start] = 1;
        while (!stack.empty()) {
            const std::int64_t v = stack.back();
            stack.pop_back();
            const std::int64_t i = v % nx, j = (v / nx) % ny, k = v / (nx * ny);
            const std::int64_t next[6] = {i > 0 ? v - 1 : -1,       i + 1 < nx ? v + 1 : -1,
                                          j > 0 ? v - nx : -1,      j + 1 < ny ? v + nx : -1,
                                          k > 0 ? v - nx * ny : -1, k + 1 < nz ? v + nx * ny : -1};
            for (const std::int64_t q : next)
                if (q >= 0 && mask[static_cast<std::size_t>(q)] && !seen[static_cast<std::size_t>(q)]) {
                    seen[static_cast<std::size_t>(q)] = 1;
                    stack.push_back(q);
                }
        }
    }
    return components;
}

struct Case
{
    const char* name;
    phantom::PhantomOptions options;
    double minBoneDice;
    double minLevelDice;
    double minCanalSensitivity;
};

void PrintTo(const Case& c, std::ostream* out)
{
    *out << c.name;
}

std::vector<Case> cases()
{
    std::vector<Case> all;
    phantom::PhantomOptions prone; // HFP
    prone.spacing = {1.6, 1.6, 2.0};
    prone.size = {150, 130, 83};
    all.push_back({"prone", prone, 0.95, 0.85, 0.95});
    phantom::PhantomOptions supine = prone;
    supine.patientPosition = "HFS";
    all.push_back({"supine", supine, 0.95, 0.85, 0.95});
    phantom::PhantomOptions anisotropic;
    anisotropic.spacing = {0.9, 1.4, 2.5};
    anisotropic.size = {260, 150, 66};
    all.push_back({"anisotropic", anisotropic, 0.95, 0.85, 0.95});
    phantom::PhantomOptions oblique = prone;
    oblique.obliqueDeg = 20.0;
    oblique.size = {170, 150, 95};
    all.push_back({"oblique", oblique, 0.95, 0.85, 0.95});
    // 3 mm voxels averaging 27 sub-voxels each (partial volume), cancellous bone at 80-140 HU:
    // below the 150 HU threshold, so it is found only as marrow enclosed by the cortex.
    phantom::PhantomOptions coarse;
    coarse.spacing = {3.0, 3.0, 3.0};
    coarse.size = {80, 70, 55};
    coarse.partialVolume = 3;
    coarse.cancellousHuOffset = -150.0;
    all.push_back({"coarse3mmOsteoporotic", coarse, 0.85, 0.7, 0.85});
    return all;
}

class SegmentationPhantom : public ::testing::TestWithParam<Case>
{
};

TEST_P(SegmentationPhantom, BoneCanalAndLevelsMatchTheGroundTruth)
{
    const Case c = GetParam();
    const phantom::Phantom p = phantom::generateLumbarPhantom(c.options);
    SegmentationOptions options;
    const StructureSet set = segmentStructures(p.ct, options);
    const Geometry& g = p.ct.geometry();

    // Bone, cortical and cancellous.
    const Agreement bone = agree(set.find("bone"), truthMask(p.labels, boneNames()));
    EXPECT_GE(bone.dice, c.minBoneDice) << c.name;

    // The canal: it covers the phantom's canal (epidural space and thecal sac; at 3 mm its rim
    // voxels read as bone by partial volume and are left to bone), is one connected structure and is present
    // in every slice between its ends, which reach both ends of the spine in view.
    const StructureMask* canal = set.find("spinal_canal");
    ASSERT_NE(canal, nullptr) << c.name;
    // The phantom's canal runs the whole field, but its sacrum closes no ring around it (the ala
    // leaves it open sideways): below the last lumbar ring the canal is only carried on for
    // canalEndExtensionMm (60 mm), so it is compared above z = -60 mm.
    std::vector<std::uint8_t> canalTruth = truthMask(p.labels, {"spinal_canal", "dura"});
    StructureMask canalAbove = *canal;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (g.lpsFromIjk({double(i), double(j), double(k)}).z < -60.0) {
                    const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                    canalTruth[v] = 0;
                    canalAbove.voxels[v] = 0;
                }
    const Agreement canalAgreement = agree(&canalAbove, canalTruth);
    EXPECT_GE(canalAgreement.sensitivity, c.minCanalSensitivity) << c.name;
    EXPECT_GE(canalAgreement.dice, 0.7) << c.name;
    EXPECT_EQ(componentCount(canal->voxels, g.size), 1) << c.name;
    double zLow = 1e9, zHigh = -1e9;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (canal->voxels[static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k))]) {
                    const double z = g.lpsFromIjk({double(i), double(j), double(k)}).z;
                    zLow = std::min(zLow, z);
                    zHigh = std::max(zHigh, z);
                }
    // The ring of L3 is at z 71..81, the last lumbar ring at z -3..7: the canal goes on past both.
    EXPECT_GT(zHigh, 85.0) << c.name;
    EXPECT_LT(zLow, -20.0) << c.name;
    for (std::int64_t v = 0; v < g.voxelCount(); ++v)
        ASSERT_FALSE(canal->voxels[static_cast<std::size_t>(v)] &&
                     set.find("bone")->voxels[static_cast<std::size_t>(v)])
            << "canal and bone overlap: " << c.name;

    // Levels: exactly L3, L4, L5 and the sacrum, each matching its bone in the ground truth.
    std::set<std::string> levelNames;
    for (const auto& s : set.structures())
        if (s.segment.name.rfind("vertebra_", 0) == 0 || s.segment.name == "sacrum")
            levelNames.insert(s.segment.name);
    EXPECT_EQ(levelNames, (std::set<std::string>{"vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum"}))
        << c.name;
    for (const char* level : {"vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum"})
        EXPECT_GE(agree(set.find(level), truthMask(p.labels, {level})).dice, c.minLevelDice)
            << c.name << " " << level;

    // No thorax, no gas: no lung.
    EXPECT_EQ(set.find("lung"), nullptr) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Grids, SegmentationPhantom, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                             return std::string(param.param.name);
                         });

const phantom::Phantom& smallPhantom()
{
    static const phantom::Phantom p = [] {
        phantom::PhantomOptions options;
        options.spacing = {2.0, 2.0, 2.0};
        options.size = {120, 105, 83};
        return phantom::generateLumbarPhantom(options);
    }();
    return p;
}

TEST(SegmentationLevels, LowestLumbarCorrectionRenamesEveryLevel)
{
    const phantom::Phantom& p = smallPhantom();
    SegmentationOptions options;
    selectStructures(options, "vertebrae");
    options.lowestLumbar = "L4"; // as if the user had counted one level less
    const StructureSet set = segmentStructures(p.ct, options);
    std::set<std::string> names;
    for (const auto& s : set.structures())
        names.insert(s.segment.name);
    EXPECT_EQ(names, (std::set<std::string>{"vertebra_L2", "vertebra_L3", "vertebra_L4", "sacrum"}));
    // The phantom's L5 now carries the name L4.
    EXPECT_GE(agree(set.find("vertebra_L4"), truthMask(p.labels, {"vertebra_L5"})).dice, 0.85);
    bool said = false;
    for (const auto& w : set.warnings())
        said = said || w.find("named L4 as asked") != std::string::npos;
    EXPECT_TRUE(said);
}

TEST(SegmentationLevels, WithoutSacrumInViewTheCountIsUncertain)
{
    // Only the slices above z = -8 mm: L5 (body z -13..13) is cut, the sacrum is out of view.
    const phantom::Phantom& p = smallPhantom();
    const Geometry& full = p.ct.geometry();
    std::int64_t firstK = 0;
    while (full.lpsFromIjk({0, 0, double(firstK)}).z < -8.0)
        ++firstK;
    Geometry g = full;
    g.size[2] = full.size[2] - firstK;
    g.originLps = full.lpsFromIjk({0, 0, double(firstK)});
    Volume ct(g, 0.0f);
    std::copy(p.ct.data() + firstK * full.size[0] * full.size[1], p.ct.data() + full.voxelCount(), ct.data());
    SegmentationOptions options;
    selectStructures(options, "vertebrae,spinal_canal");
    const StructureSet set = segmentStructures(ct, options);
    EXPECT_EQ(set.find("sacrum"), nullptr);
    bool uncertain = false;
    for (const auto& w : set.warnings())
        uncertain = uncertain ||
                    (w.find("uncertain") != std::string::npos && w.find("no sacrum") != std::string::npos);
    EXPECT_TRUE(uncertain);
    ASSERT_NE(set.find("spinal_canal"), nullptr);
}

TEST(SegmentationLevels, OnlyCanLeaveTheCanalAndLevelsOut)
{
    const phantom::Phantom& p = smallPhantom();
    SegmentationOptions options;
    selectStructures(options, "body,bone");
    const StructureSet set = segmentStructures(p.ct, options);
    ASSERT_EQ(set.structures().size(), 2u);
    EXPECT_EQ(set.structures()[0].segment.name, "body");
    EXPECT_EQ(set.structures()[1].segment.name, "bone");
}

TEST(SegmentationLevels, RejectsAnUnknownLowestLumbarName)
{
    SegmentationOptions options;
    options.lowestLumbar = "X5";
    Geometry g;
    g.size = {8, 8, 8};
    EXPECT_THROW(segmentStructures(Volume(g, 0.0f), options), Error);
}

} // namespace
} // namespace np::imaging
