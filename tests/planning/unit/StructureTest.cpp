// Structure defaults by name, overrides and class names.

#include "needleplan/planning/Structure.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Needle.h"

#include <gtest/gtest.h>

using namespace np;
using namespace np::planning;

TEST(Structure, ParsesClassNamesAndRejectsUnknown)
{
    EXPECT_EQ(parseStructureClass("obstacle"), StructureClass::Obstacle);
    EXPECT_STREQ(toString(StructureClass::Caution), "caution");
    EXPECT_THROW(parseStructureClass("Forbidden!"), Error);
    EXPECT_THROW(parseStructureClass(""), Error);
}

TEST(Structure, DefaultsFollowTheDomainTable)
{
    struct Case
    {
        const char* name;
        StructureClass c;
        double margin;
    };
    const Case cases[] = {
        {"nerve_root_L4_right", StructureClass::Forbidden, 2.0},
        {"Nerve_Root_L5_left", StructureClass::Forbidden, 2.0},
        {"spinal_canal", StructureClass::Forbidden, 3.0},
        {"thecal_sac", StructureClass::Forbidden, 3.0},
        {"dura", StructureClass::Forbidden, 3.0},
        {"aorta", StructureClass::Forbidden, 3.0},
        {"ivc", StructureClass::Forbidden, 3.0},
        {"vertebral_artery_left", StructureClass::Forbidden, 3.0},
        {"radicular_artery", StructureClass::Forbidden, 3.0},
        {"kidney_left", StructureClass::Forbidden, 5.0},
        {"lung", StructureClass::Forbidden, 5.0},
        {"pleura", StructureClass::Forbidden, 5.0},
        {"bowel", StructureClass::Forbidden, 5.0},
        {"bone", StructureClass::Obstacle, 0.0},
        {"vertebra_L4", StructureClass::Obstacle, 0.0},
        {"sacrum", StructureClass::Obstacle, 0.0},
        {"psoas_left", StructureClass::Caution, 0.0},
        {"skin", StructureClass::Ignored, 0.0},
        {"body", StructureClass::Ignored, 0.0},
        {"muscle", StructureClass::Ignored, 0.0},
        {"fat", StructureClass::Ignored, 0.0},
        {"label_7", StructureClass::Caution, 2.0},
    };
    for (const auto& c : cases) {
        const StructureSpec spec = defaultStructureSpec(c.name, 3);
        EXPECT_EQ(spec.structureClass, c.c) << c.name;
        EXPECT_DOUBLE_EQ(spec.marginMm, c.margin) << c.name;
        EXPECT_EQ(spec.labelValue, 3);
    }
}

TEST(Structure, DefaultsForEveryLabelMapSegment)
{
    imaging::Geometry g;
    g.size = {2, 2, 2};
    imaging::LabelMap labels(g);
    labels.segments() = {{"bone", 1, {1, 1, 1}}, {"nerve_root_L3_left", 2, {1, 1, 0}}};
    const auto specs = defaultStructures(labels);
    ASSERT_EQ(specs.size(), 2u);
    EXPECT_EQ(specs[1].labelValue, 2);
    EXPECT_EQ(specs[1].structureClass, StructureClass::Forbidden);
}

TEST(Structure, GlobOverrides)
{
    EXPECT_TRUE(matchesPattern("nerve_root_L4_right", "nerve_root_*"));
    EXPECT_TRUE(matchesPattern("nerve_root_L4_right", "*L4*"));
    EXPECT_TRUE(matchesPattern("Aorta", "aorta"));
    EXPECT_FALSE(matchesPattern("aorta", "aort"));
    EXPECT_FALSE(matchesPattern("nerve_root_L4_right", "*L5*"));
    std::vector<StructureSpec> specs{defaultStructureSpec("nerve_root_L4_right", 1),
                                     defaultStructureSpec("nerve_root_L5_right", 2),
                                     defaultStructureSpec("aorta", 3)};
    EXPECT_EQ(overrideStructures(specs, "nerve_root_*", 4.0), 2);
    EXPECT_DOUBLE_EQ(specs[0].marginMm, 4.0);
    EXPECT_DOUBLE_EQ(specs[2].marginMm, 3.0);
    const StructureClass caution = StructureClass::Caution;
    EXPECT_EQ(overrideStructures(specs, "aorta", 1.0, &caution), 1);
    EXPECT_EQ(specs[2].structureClass, StructureClass::Caution);
    EXPECT_EQ(overrideStructures(specs, "kidney*", 1.0), 0);
    EXPECT_THROW(overrideStructures(specs, "aorta", -1.0), Error);
    EXPECT_THROW(overrideStructures(specs, "aorta", std::nan("")), Error);
}

TEST(Needle, CatalogueAndParsedNames)
{
    const auto n = findNeedle("22G-90mm");
    ASSERT_TRUE(n);
    EXPECT_DOUBLE_EQ(n->radiusMm(), 0.36);
    EXPECT_DOUBLE_EQ(n->usableLengthMm, 90.0);
    const auto rf = findNeedle("20G-100mm-RF10");
    ASSERT_TRUE(rf);
    EXPECT_TRUE(rf->isRadiofrequency());
    EXPECT_DOUBLE_EQ(rf->outerDiameterMm, 0.91);
    EXPECT_FALSE(findNeedle("19G-90mm"));
    EXPECT_FALSE(findNeedle("22G"));
    EXPECT_FALSE(findNeedle("22G-0mm"));
}

TEST(Needle, ParsesCustomNamesAndRejectsMalformedOnes)
{
    const auto custom = findNeedle("21G-120.5mm-RF5");
    ASSERT_TRUE(custom);
    EXPECT_EQ(custom->gauge, 21);
    EXPECT_DOUBLE_EQ(custom->outerDiameterMm, 0.82);
    EXPECT_DOUBLE_EQ(custom->usableLengthMm, 120.5);
    EXPECT_DOUBLE_EQ(custom->activeTipMm, 5.0);
    for (const char* bad : {"", "G-90mm", "2G-90mm", "222G-90mm", "22G-90", "22G-90mmX", "22G-90mm-RF",
                            "22G-90mm-RF10x", "22G-.5mm", "22G-90.mm", "22G-90mm-RF90", "22G-500mm"})
        EXPECT_FALSE(findNeedle(bad)) << bad;
}
