// StructureSet: overlapping masks and their flattening to one label per voxel.

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/StructureSet.h"

#include <gtest/gtest.h>

namespace np::imaging {
namespace {

std::vector<std::uint16_t> valuesOf(const LabelMap& labels)
{
    return {labels.labels().begin(), labels.labels().end()};
}

Geometry line(std::int64_t n)
{
    Geometry g;
    g.size = {n, 1, 1};
    g.spacing = {2.0, 2.5, 4.0};
    return g;
}

TEST(StructureSet, LabelValuesAreAssignedInOrder)
{
    StructureSet set(line(4));
    EXPECT_EQ(set.add("body", {1, 0, 0}).segment.labelValue, 1);
    EXPECT_EQ(set.add("bone", {0, 1, 0}).segment.labelValue, 2);
    EXPECT_EQ(set.find("bone")->voxels.size(), 4u);
    EXPECT_EQ(set.find("lung"), nullptr);
    EXPECT_DOUBLE_EQ(set.voxelVolumeMl(), 2.0 * 2.5 * 4.0 / 1000.0);
}

TEST(StructureSet, LaterStructureWinsWhereTheyOverlap)
{
    StructureSet set(line(5));
    set.add("body", {1, 0, 0}).voxels = {1, 1, 1, 1, 0};
    set.add("bone", {0, 1, 0}).voxels = {0, 1, 1, 0, 0};
    set.add("nerve", {0, 0, 1}).voxels = {0, 0, 1, 0, 1};
    EXPECT_EQ(set.overlapVoxelCount(), 2);
    const LabelMap flat = set.toLabelMap();
    EXPECT_EQ(valuesOf(flat), (std::vector<std::uint16_t>{1, 2, 3, 1, 3}));
    ASSERT_EQ(flat.segments().size(), 3u);
    EXPECT_EQ(flat.segments()[2].name, "nerve");
}

TEST(StructureSet, DuplicateOrZeroLabelValuesAreRenumbered)
{
    StructureSet set(line(2));
    set.add("a", {1, 0, 0}).voxels = {1, 0};
    set.add("b", {0, 1, 0}).voxels = {0, 1};
    set.structures()[0].segment.labelValue = 7;
    set.structures()[1].segment.labelValue = 7;
    const LabelMap flat = set.toLabelMap();
    EXPECT_EQ(valuesOf(flat), (std::vector<std::uint16_t>{1, 2}));
    EXPECT_EQ(flat.segments()[1].labelValue, 2);
}

TEST(StructureSet, FromLabelMapSplitsSegmentsAndNamesUnknownValues)
{
    LabelMap labels(line(5));
    labels.labels() = {0, 4, 4, 9, 0};
    labels.segments() = {{"psoas", 4, {0.1, 0.2, 0.3}}, {"empty", 5, {1, 1, 1}}};
    const StructureSet set = StructureSet::fromLabelMap(labels);
    ASSERT_EQ(set.structures().size(), 3u);
    EXPECT_EQ(set.find("psoas")->voxelCount(), 2);
    EXPECT_EQ(set.find("empty")->voxelCount(), 0);
    ASSERT_NE(set.find("label_9"), nullptr);
    EXPECT_EQ(set.find("label_9")->voxels, (std::vector<std::uint8_t>{0, 0, 0, 1, 0}));
    // And back: the same labels.
    EXPECT_EQ(set.toLabelMap().labels(), labels.labels());
}

TEST(StructureSet, MaskOfWrongSizeIsAnInternalError)
{
    StructureSet set(line(3));
    set.add("a", {1, 1, 1}).voxels.resize(2);
    EXPECT_THROW(set.toLabelMap(), Error);
}

} // namespace
} // namespace np::imaging
