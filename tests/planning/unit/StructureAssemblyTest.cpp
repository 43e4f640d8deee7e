// Flattening structures from several sources into one label map: overlaps go to the most severe
// structure, and no rule becomes less strict where a structure gives up voxels.

#include "needleplan/planning/StructureAssembly.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/TrajectoryEvaluator.h"

#include <gtest/gtest.h>
#include <random>

using namespace np;
using namespace np::imaging;
using namespace np::planning;

namespace {

/// A row of 10 voxels (1 mm) so that masks can be written as strings of '0'/'1'.
Geometry rowGeometry()
{
    Geometry g;
    g.size = {10, 1, 1};
    g.spacing = {1.0, 1.0, 1.0};
    return g;
}

void setMask(StructureMask& mask, const std::string& bits)
{
    for (std::size_t n = 0; n < bits.size(); ++n)
        mask.voxels[n] = bits[n] == '1' ? 1 : 0;
}

StructureInput input(const StructureMask& mask, StructureClass c, double marginMm)
{
    StructureInput in;
    in.spec.name = mask.segment.name;
    in.spec.structureClass = c;
    in.spec.marginMm = marginMm;
    in.source = "test";
    in.mask = &mask;
    return in;
}

/// Label values of the row as a string of digits.
std::string row(const LabelMap& labels)
{
    std::string text;
    for (std::int64_t i = 0; i < labels.geometry().size[0]; ++i)
        text += static_cast<char>('0' + labels.at(i, 0, 0));
    return text;
}

} // namespace

TEST(StructureAssembly, RejectsMasksOffTheGridAndMissingMasks)
{
    const Geometry g = rowGeometry();
    StructureSet set(g);
    set.add("a", {1, 0, 0});
    StructureMask wrong;
    wrong.segment.name = "wrong";
    wrong.voxels.assign(9, 1);
    EXPECT_THROW(assembleStructures(g, {input(wrong, StructureClass::Forbidden, 1.0)}), Error);
    StructureInput none;
    none.spec.name = "none";
    EXPECT_THROW(assembleStructures(g, {none}), Error);
    // No input at all: an empty label map of the grid.
    const StructureAssembly empty = assembleStructures(g, {});
    EXPECT_EQ(row(empty.labels), "0000000000");
    EXPECT_TRUE(empty.structures.empty());
}

TEST(StructureAssembly, SeverityDecidesOverlapsWhateverTheOrder)
{
    const Geometry g = rowGeometry();
    StructureSet set(g);
    // Each structure covers voxels 0-4 (shared by all) plus voxels of its own further right.
    setMask(set.add("ignored", {1, 1, 1}), "1111100000");
    setMask(set.add("target", {1, 1, 1}), "1111010000");
    setMask(set.add("caution", {1, 1, 1}), "1110001000");
    setMask(set.add("obstacle", {1, 1, 1}), "1100000100");
    setMask(set.add("forbidden", {1, 1, 1}), "1000000010");
    const auto& s = set.structures();
    std::vector<StructureInput> inputs = {
        input(s[0], StructureClass::Ignored, 0.0), input(s[1], StructureClass::Target, 0.0),
        input(s[2], StructureClass::Caution, 2.0), input(s[3], StructureClass::Obstacle, 0.0),
        input(s[4], StructureClass::Forbidden, 2.0)};
    // Labels are 1..5 in input order. Voxel 0 is in all five: forbidden (5). Voxel 1 in all but
    // forbidden: obstacle (4). Voxel 2: caution (3). Voxel 3: target (2). Voxel 4: ignored (1).
    const StructureAssembly a = assembleStructures(g, inputs);
    EXPECT_EQ(row(a.labels), "5432123450");
    ASSERT_EQ(a.structures.size(), 5u);
    for (std::size_t n = 0; n < 5; ++n) {
        EXPECT_EQ(a.structures[n].labelValue, n + 1);
        EXPECT_EQ(a.structures[n].name, s[n].segment.name);
        EXPECT_EQ(a.labels.segments()[n].labelValue, n + 1);
    }
    // Kept voxels: ignored keeps 1 of 5, target 2 of 5, caution 2 of 4, obstacle 2 of 3, forbidden 2 of 2.
    const std::int64_t kept[] = {1, 2, 2, 2, 2};
    const std::int64_t total[] = {5, 5, 4, 3, 2};
    for (std::size_t n = 0; n < 5; ++n) {
        EXPECT_EQ(a.details[n].voxelCount, total[n]) << n;
        EXPECT_EQ(a.details[n].keptVoxelCount, kept[n]) << n;
    }
    // Reversed input order: the same owners (labels are renumbered by the new order).
    std::vector<StructureInput> reversed(inputs.rbegin(), inputs.rend());
    const StructureAssembly b = assembleStructures(g, reversed);
    EXPECT_EQ(row(b.labels), "1234543210");
    // Notes name the loser and the owner; ignored structures giving up voxels are not worth a note.
    bool noted = false;
    for (const auto& note : a.notes) {
        EXPECT_EQ(note.find("\"ignored\" (ignored)"), std::string::npos) << note;
        noted = noted || note.find("\"obstacle\" (obstacle) overlaps \"forbidden\"") != std::string::npos;
    }
    EXPECT_TRUE(noted);
}

TEST(StructureAssembly, WithinAClassTheSmallerMarginLosesAndFullTiesKeepTheFirst)
{
    const Geometry g = rowGeometry();
    StructureSet set(g);
    setMask(set.add("nerve", {1, 1, 0}), "1111000000");
    setMask(set.add("artery", {1, 0, 0}), "0011110000");
    setMask(set.add("vein", {0, 0, 1}), "0000011100");
    const auto& s = set.structures();
    // nerve 2 mm, artery 3 mm: the artery owns voxels 2-3. vein 3 mm ties with the artery on
    // voxel 5: the artery, given first, keeps it.
    const StructureAssembly a = assembleStructures(g, {input(s[0], StructureClass::Forbidden, 2.0),
                                                       input(s[1], StructureClass::Forbidden, 3.0),
                                                       input(s[2], StructureClass::Forbidden, 3.0)});
    EXPECT_EQ(row(a.labels), "1122223300");
    const StructureAssembly b = assembleStructures(g, {input(s[2], StructureClass::Forbidden, 3.0),
                                                       input(s[1], StructureClass::Forbidden, 3.0),
                                                       input(s[0], StructureClass::Forbidden, 2.0)});
    // vein = 1, artery = 2, nerve = 3: now the vein, given first, keeps voxel 5.
    EXPECT_EQ(row(b.labels), "3322211100");
    EXPECT_FALSE(a.details[0].marginRaised);
    EXPECT_DOUBLE_EQ(a.structures[0].marginMm, 2.0); // the owner's margin is already the larger one
}

TEST(StructureAssembly, AForbiddenOwnerTakesOverTheLargerMarginOfAnObstacleItOverrides)
{
    const Geometry g = rowGeometry();
    StructureSet set(g);
    setMask(set.add("bone", {1, 1, 1}), "1111100000");
    setMask(set.add("nerve", {1, 1, 0}), "0001111000");
    setMask(set.add("disc", {1, 1, 0}), "0000000111"); // caution, no overlap
    const auto& s = set.structures();
    // An obstacle the user gave a 4 mm margin loses voxels 3-4 to a 2 mm nerve: those voxels must
    // still be kept 4 mm away, so the nerve's margin becomes 4 mm.
    const StructureAssembly a = assembleStructures(g, {input(s[0], StructureClass::Obstacle, 4.0),
                                                       input(s[1], StructureClass::Forbidden, 2.0),
                                                       input(s[2], StructureClass::Caution, 2.0)});
    EXPECT_EQ(row(a.labels), "1112222333");
    EXPECT_DOUBLE_EQ(a.structures[1].marginMm, 4.0);
    EXPECT_TRUE(a.details[1].marginRaised);
    EXPECT_DOUBLE_EQ(a.structures[0].marginMm, 4.0);
    EXPECT_FALSE(a.details[0].marginRaised);
    bool noted = false;
    for (const auto& note : a.notes)
        noted = noted || note.find("margin of \"nerve\" raised from 2.0 mm to 4.0 mm") != std::string::npos;
    EXPECT_TRUE(noted);
    // A caution structure losing voxels raises nothing (caution never forbids).
    setMask(set.structures()[2], "0000011111");
    const StructureAssembly b = assembleStructures(
        g, {input(s[1], StructureClass::Forbidden, 2.0), input(s[2], StructureClass::Caution, 6.0)});
    EXPECT_DOUBLE_EQ(b.structures[0].marginMm, 2.0);
    EXPECT_EQ(row(b.labels), "0001111222");
}

TEST(StructureAssembly, OwnersAreNeverLessStrictOnRandomOverlaps)
{
    Geometry g;
    g.size = {6, 5, 4};
    g.spacing = {0.7, 1.0, 2.5};
    std::mt19937 random(7);
    const StructureClass classes[] = {StructureClass::Ignored, StructureClass::Target,
                                      StructureClass::Caution, StructureClass::Obstacle,
                                      StructureClass::Forbidden};
    for (int trial = 0; trial < 50; ++trial) {
        StructureSet set(g);
        std::vector<StructureInput> inputs;
        const int count = 2 + static_cast<int>(random() % 5);
        for (int n = 0; n < count; ++n) {
            StructureMask& mask = set.add("s" + std::to_string(n), {1, 1, 1});
            for (auto& v : mask.voxels)
                v = random() % 3 == 0 ? 1 : 0;
        }
        for (int n = 0; n < count; ++n)
            inputs.push_back(input(set.structures()[static_cast<std::size_t>(n)], classes[random() % 5],
                                   static_cast<double>(random() % 4)));
        const StructureAssembly a = assembleStructures(g, inputs);
        for (std::size_t v = 0; v < a.labels.labels().size(); ++v) {
            const std::uint16_t owner = a.labels.data()[v];
            for (std::size_t n = 0; n < inputs.size(); ++n) {
                if (!inputs[n].mask->voxels[v])
                    continue;
                ASSERT_NE(owner, 0) << "a covered voxel lost every structure";
                const StructureSpec& o = a.structures[owner - 1u];
                const StructureSpec& mine = inputs[n].spec;
                ASSERT_GE(structureSeverity(o.structureClass), structureSeverity(mine.structureClass));
                if (o.structureClass == mine.structureClass ||
                    (mine.structureClass == StructureClass::Obstacle &&
                     o.structureClass == StructureClass::Forbidden)) {
                    ASSERT_GE(o.marginMm, mine.marginMm) << "trial " << trial;
                }
            }
        }
    }
}

TEST(StructureAssembly, DuplicateNamesAreRenamedAndGetTheirDefaultRules)
{
    const Geometry g = rowGeometry();
    StructureSet first(g), second(g);
    first.add("bone", {1, 1, 1});
    first.add("nerve_root_L4_left", {1, 1, 0});
    second.add("bone", {1, 1, 1});
    second.add("bone", {1, 1, 1});
    second.add("lung", {1, 0, 1});
    std::vector<StructureInput> inputs;
    std::vector<std::string> notes;
    appendStructureInputs(inputs, first, "a.seg.nrrd", &notes);
    appendStructureInputs(inputs, second, "automatic segmentation", &notes);
    ASSERT_EQ(inputs.size(), 5u);
    EXPECT_EQ(inputs[2].spec.name, "bone_2");
    EXPECT_EQ(inputs[3].spec.name, "bone_3");
    EXPECT_EQ(notes.size(), 2u);
    EXPECT_EQ(inputs[2].source, "automatic segmentation");
    EXPECT_EQ(inputs[2].mask, &second.structures()[0]);
    // Defaults from DOMAIN.md by name.
    EXPECT_EQ(inputs[0].spec.structureClass, StructureClass::Obstacle);
    EXPECT_EQ(inputs[2].spec.structureClass, StructureClass::Obstacle);
    EXPECT_EQ(inputs[1].spec.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(inputs[1].spec.marginMm, 2.0);
    EXPECT_EQ(inputs[4].spec.structureClass, StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(inputs[4].spec.marginMm, 5.0);
}

TEST(StructureAssembly, APathThroughAnOverlapStaysUnsafe)
{
    // A bone block (obstacle) and a nerve (forbidden, 2 mm) that swallows a whole slab of it, on an
    // anisotropic grid. The path crosses the bone only where the nerve owns the voxels: the bone
    // field has a hole there, and the path must still be unsafe, now through the nerve.
    Geometry g;
    g.size = {40, 20, 12};
    g.spacing = {1.0, 1.0, 2.0};
    StructureSet set(g);
    set.add("vertebra", {1, 1, 1});
    set.add("nerve_root", {1, 1, 0});
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const std::size_t v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                if (i >= 10 && i <= 25 && j >= 5 && j <= 14 && k >= 3 && k <= 8)
                    set.structures()[0].voxels[v] = 1;
                if (i >= 20 && i <= 30 && j >= 3 && j <= 16 && k >= 4 && k <= 7)
                    set.structures()[1].voxels[v] = 1;
            }
    std::vector<StructureInput> inputs;
    appendStructureInputs(inputs, set, "test");
    const StructureAssembly a = assembleStructures(g, inputs);
    ASSERT_EQ(a.labels.at(22, 10, 5), 2); // the nerve owns the overlap
    ClearanceFieldSet fields(a.labels);
    // Along y at x = 22, z = 11 (k = 5.5): through the overlap only, 17 mm before the tip.
    const Vec3 entry{22.0, 0.0, 11.0}, target{22.0, 19.0, 11.0};
    fields.prepareRegion(a.structures, {entry, target}, 5.0);
    TrajectoryEvaluator evaluator(fields, a.structures, nullptr);
    const Evaluation e = evaluator.evaluate({entry, target, *findNeedle("22G-90mm")});
    EXPECT_FALSE(e.safe);
    bool nerveViolated = false;
    for (const auto& c : e.clearances)
        if (c.structure == "nerve_root")
            nerveViolated = c.violated && c.clearanceMm < 0.0;
    EXPECT_TRUE(nerveViolated);
}

TEST(StructureAssembly, LabelMapInputsMatchTheirMasks)
{
    const Geometry g = rowGeometry();
    LabelMap labels(g);
    // Values: 1 bone, 2 nerve, 7 unnamed; a second segment with value 2 is ignored.
    labels.segments() = {
        {"vertebra_L4", 1, {1, 1, 1}}, {"nerve_root_L4_left", 2, {1, 1, 0}}, {"again", 2, {0, 0, 0}}};
    const std::uint16_t values[10] = {1, 1, 2, 2, 0, 7, 7, 0, 1, 0};
    for (std::int64_t i = 0; i < 10; ++i)
        labels.at(i, 0, 0) = values[i];
    StructureSet set(g);
    setMask(set.add("bone", {1, 1, 1}), "0111111000"); // the automatic bone, overlapping all three
    std::vector<StructureInput> inputs;
    appendStructureInputs(inputs, labels, "a.seg.nrrd");
    appendStructureInputs(inputs, set, "automatic segmentation");
    ASSERT_EQ(inputs.size(), 4u);
    EXPECT_EQ(inputs[0].spec.name, "vertebra_L4");
    EXPECT_EQ(inputs[1].spec.name, "nerve_root_L4_left");
    EXPECT_EQ(inputs[2].spec.name, "label_7");
    EXPECT_EQ(inputs[2].spec.structureClass, StructureClass::Caution);
    EXPECT_EQ(inputs[3].spec.name, "bone");
    const StructureAssembly a = assembleStructures(g, inputs);
    // Voxel by voxel: bone(file)=1 ties with the automatic bone (4) and keeps voxel 1 as given first;
    // the nerve (forbidden) keeps 2-3; the automatic bone (obstacle) beats label_7 (caution) on 5-6
    // and takes voxel 4 alone.
    EXPECT_EQ(row(a.labels), "1122444010");
    EXPECT_EQ(a.details[0].voxelCount, 3);
    EXPECT_EQ(a.details[2].voxelCount, 2);
    EXPECT_EQ(a.details[2].keptVoxelCount, 0);
    EXPECT_EQ(a.details[3].voxelCount, 6);
    EXPECT_EQ(a.details[3].keptVoxelCount, 3);
    EXPECT_EQ(a.labels.segments()[1].colorRgb[2], 0.0);
    // The same through StructureSet::fromLabelMap (one mask per segment).
    const StructureSet split = StructureSet::fromLabelMap(labels);
    std::vector<StructureInput> viaMasks;
    appendStructureInputs(viaMasks, split, "a.seg.nrrd");
    appendStructureInputs(viaMasks, set, "automatic segmentation");
    EXPECT_EQ(row(assembleStructures(g, viaMasks).labels), row(a.labels));
}
