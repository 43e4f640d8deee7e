// Merging new structures into the workstation's one label map: overlaps go to the more severe
// class, same names replace, ignored structures never erase others. Checked voxel by voxel on a
// 4×1×1 grid where every expected label is worked out by hand.

#include "needleplan/gui/StructureMerge.h"

#include "needleplan/imaging/Error.h"

#include <gtest/gtest.h>

namespace np::gui {
namespace {

imaging::Geometry line4()
{
    imaging::Geometry g;
    g.size = {4, 1, 1};
    g.spacing = {0.7, 1.0, 2.5};
    return g;
}

/// Label map with "nerve_root_L4_left" (forbidden, label 1) on voxels 0-1, "psoas_left" (caution,
/// label 2) on voxel 2, voxel 3 empty.
imaging::LabelMap existingMap()
{
    imaging::LabelMap labels(line4());
    labels.segments() = {{"nerve_root_L4_left", 1, {1, 1, 0}}, {"psoas_left", 2, {1, 0, 0}}};
    labels.labels()[0] = 1;
    labels.labels()[1] = 1;
    labels.labels()[2] = 2;
    return labels;
}

std::vector<StructureRow> rowsOf(const imaging::LabelMap& labels)
{
    std::vector<StructureRow> rows;
    for (const imaging::Segment& segment : labels.segments())
        rows.push_back(defaultStructureRow(segment));
    return rows;
}

TEST(StructureMerge, SeverityOrder)
{
    EXPECT_GT(classSeverity(planning::StructureClass::Forbidden),
              classSeverity(planning::StructureClass::Obstacle));
    EXPECT_GT(classSeverity(planning::StructureClass::Obstacle),
              classSeverity(planning::StructureClass::Caution));
    EXPECT_GT(classSeverity(planning::StructureClass::Caution),
              classSeverity(planning::StructureClass::Target));
    EXPECT_GT(classSeverity(planning::StructureClass::Target),
              classSeverity(planning::StructureClass::Ignored));
}

TEST(StructureMerge, WrongGridOrMaskSizeIsRejected)
{
    const imaging::LabelMap labels = existingMap();
    imaging::Geometry other = line4();
    other.spacing.x = 0.8;
    imaging::StructureSet set(other);
    set.add("bone", {1, 1, 1}).voxels.assign(4, 1);
    EXPECT_THROW(mergeStructures(&labels, rowsOf(labels), set, line4()), Error);
    imaging::StructureSet shortMask(line4());
    shortMask.add("bone", {1, 1, 1}).voxels.assign(3, 1);
    EXPECT_THROW(mergeStructures(&labels, rowsOf(labels), shortMask, line4()), Error);
}

TEST(StructureMerge, BoneNeverTakesForbiddenVoxelsButTakesCautionAndBackground)
{
    const imaging::LabelMap labels = existingMap();
    imaging::StructureSet set(line4());
    set.add("bone", {1, 1, 1}).voxels.assign(4, 1); // obstacle everywhere
    const MergedStructures merged = mergeStructures(&labels, rowsOf(labels), set, line4());
    ASSERT_EQ(merged.rows.size(), 3u);
    EXPECT_EQ(merged.added, 1);
    EXPECT_EQ(merged.replaced, 0);
    const StructureRow& bone = merged.rows[2];
    EXPECT_EQ(bone.style.name, "bone");
    EXPECT_EQ(bone.spec.labelValue, 3); // the next free value
    EXPECT_EQ(bone.spec.structureClass, planning::StructureClass::Obstacle);
    const auto& v = merged.labels->labels();
    EXPECT_EQ(v[0], 1); // forbidden keeps its voxels
    EXPECT_EQ(v[1], 1);
    EXPECT_EQ(v[2], 3); // caution gives way to an obstacle
    EXPECT_EQ(v[3], 3); // background
    EXPECT_EQ(merged.changedLabels, (std::vector<std::uint16_t>{2, 3}));
    ASSERT_EQ(merged.labels->segments().size(), 3u);
    EXPECT_EQ(merged.labels->segments()[2].labelValue, 3);
    // The input is untouched (undo keeps it).
    EXPECT_EQ(labels.labels()[2], 2);
}

TEST(StructureMerge, IgnoredBodyOnlyFillsBackground)
{
    const imaging::LabelMap labels = existingMap();
    imaging::StructureSet set(line4());
    set.add("body", {1, 0.8, 0.7}).voxels.assign(4, 1);
    const MergedStructures merged = mergeStructures(&labels, rowsOf(labels), set, line4());
    const auto& v = merged.labels->labels();
    EXPECT_EQ(v[0], 1);
    EXPECT_EQ(v[1], 1);
    EXPECT_EQ(v[2], 2);
    EXPECT_EQ(v[3], 3);
    EXPECT_EQ(merged.rows[2].spec.structureClass, planning::StructureClass::Ignored);
}

TEST(StructureMerge, SameNameReplacesVoxelsAndKeepsTheRow)
{
    const imaging::LabelMap labels = existingMap();
    std::vector<StructureRow> rows = rowsOf(labels);
    rows[0].spec.marginMm = 4.5; // the user's own margin survives a re-import
    imaging::StructureSet set(line4());
    set.add("Nerve_Root_L4_Left", {0, 0, 1}).voxels = {0, 1, 1, 0};
    const MergedStructures merged = mergeStructures(&labels, rows, set, line4());
    EXPECT_EQ(merged.added, 0);
    EXPECT_EQ(merged.replaced, 1);
    ASSERT_EQ(merged.rows.size(), 2u);
    EXPECT_DOUBLE_EQ(merged.rows[0].spec.marginMm, 4.5);
    const auto& v = merged.labels->labels();
    EXPECT_EQ(v[0], 0); // no longer in the nerve
    EXPECT_EQ(v[1], 1);
    EXPECT_EQ(v[2], 1); // forbidden takes the caution voxel
    EXPECT_EQ(v[3], 0);
    EXPECT_EQ(merged.changedLabels, (std::vector<std::uint16_t>{1, 2}));
}

TEST(StructureMerge, WithoutExistingLabelsTheNewSetIsTheMap)
{
    imaging::StructureSet set(line4());
    set.add("body", {1, 0.8, 0.7}).voxels = {1, 1, 1, 0};
    set.add("lung", {0.5, 0.5, 1}).voxels = {0, 1, 0, 0};
    const MergedStructures merged = mergeStructures(nullptr, {}, set, line4());
    ASSERT_EQ(merged.rows.size(), 2u);
    EXPECT_EQ(merged.rows[1].spec.structureClass, planning::StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(merged.rows[1].spec.marginMm, 5.0);
    const auto& v = merged.labels->labels();
    EXPECT_EQ(v[0], 1);
    EXPECT_EQ(v[1], 2); // lung (forbidden) over body
    EXPECT_EQ(v[2], 1);
    EXPECT_EQ(v[3], 0);
}

} // namespace
} // namespace np::gui
