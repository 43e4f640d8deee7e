// Colour tables: 3D Slicer .ctbl and ITK-SNAP label descriptions.

#include "needleplan/imaging/LabelColorTable.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <fstream>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

std::string writeText(const np::test::TempDir& dir, const std::string& name, const std::string& text)
{
    const auto path = dir.path() / name;
    std::ofstream(path) << text;
    return path.string();
}

ErrorCode codeOf(const std::string& path)
{
    try {
        readLabelColorTable(path);
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;
}

TEST(LabelColorTable, MissingFileIsNotFound)
{
    EXPECT_EQ(codeOf("/nonexistent/table.ctbl"), ErrorCode::NotFound);
}

TEST(LabelColorTable, MalformedRowsAreRejectedWithTheLine)
{
    np::test::TempDir dir;
    EXPECT_EQ(codeOf(writeText(dir, "a.ctbl", "# header\n1 bone 255 255\n")), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(writeText(dir, "b.ctbl", "70000 big 1 2 3 255\n")), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(writeText(dir, "c.ctbl", "1 a 1 2 3 255\n1 b 1 2 3 255\n")), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(writeText(dir, "d.ctbl", "1 a 1 2 300 255\n")), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(writeText(dir, "e.txt", "  1 255 0 0 1 1 1 \"unterminated\n")), ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(writeText(dir, "f.ctbl", "# only comments\n\n0 background 0 0 0 0\n")),
              ErrorCode::CorruptData);
    try {
        readLabelColorTable(writeText(dir, "g.ctbl", "1 ok 1 2 3 255\n2 broken x\n"));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    }
}

TEST(LabelColorTable, ReadsSlicerTable)
{
    np::test::TempDir dir;
    const auto table = readLabelColorTable(
        writeText(dir, "t.ctbl",
                  "# Color table file\n0 Background 0 0 0 0\n3 nerve_root_L4_left 255 204 0 255\n"
                  "12 aorta 255 0 51 255\n"));
    ASSERT_EQ(table.size(), 2u);
    EXPECT_EQ(table[0].value, 3);
    EXPECT_EQ(table[0].name, "nerve_root_L4_left");
    EXPECT_DOUBLE_EQ(table[0].colorRgb[1], 204.0 / 255.0);
    EXPECT_EQ(table[1].value, 12);
    EXPECT_DOUBLE_EQ(table[1].colorRgb[2], 51.0 / 255.0);
}

TEST(LabelColorTable, ReadsItkSnapDescriptionWithSpacesAndHashInNames)
{
    np::test::TempDir dir;
    const auto table =
        readLabelColorTable(writeText(dir, "labels.txt",
                                      "################################################\n"
                                      "# ITK-SnAP Label Description File\n"
                                      "    0     0    0    0        0  0  0    \"Clear Label\"\n"
                                      "    1   255    0    0        1  1  1    \"Psoas left\"\n"
                                      "    7     0  128  255      0.5  1  0    \"Vessel #2\"\n"));
    ASSERT_EQ(table.size(), 2u);
    EXPECT_EQ(table[0].name, "Psoas left");
    EXPECT_EQ(table[1].value, 7);
    EXPECT_EQ(table[1].name, "Vessel #2");
    EXPECT_DOUBLE_EQ(table[1].colorRgb[1], 128.0 / 255.0);
}

TEST(LabelColorTable, ApplyRenamesOnlyMatchingValues)
{
    Geometry g;
    g.size = {2, 1, 1};
    LabelMap labels(g);
    labels.segments() = {{"label_3", 3, {1, 1, 1}}, {"label_5", 5, {1, 1, 1}}};
    const int renamed =
        applyLabelColorTable(labels, {{3, "dura", {0.5, 0.25, 1.0}}, {9, "unused", {0, 0, 0}}});
    EXPECT_EQ(renamed, 1);
    EXPECT_EQ(labels.segments()[0].name, "dura");
    EXPECT_DOUBLE_EQ(labels.segments()[0].colorRgb[1], 0.25);
    EXPECT_EQ(labels.segments()[1].name, "label_5");
}

} // namespace
} // namespace np::imaging
