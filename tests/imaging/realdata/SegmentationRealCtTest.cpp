// Automatic segmentation on a real CT: the three slices of 06_seg_ct_liver (GE, 0.81 mm pixels,
// 1.25 mm slices) cross the liver dome, both lung bases, the stomach, a lower thoracic vertebra and
// its ribs. References: the liver from its DICOM SEG (made by others), and points marked by hand on
// slice 02 (pixel column, row; read off the image in a 40/400 HU window for bone and canal and a
// -850/300 HU window for lung): the centre of the vertebral body's cancellous bone (256, 367), the
// canal in front of the lamina (256, 391), the right lung base (150, 370) and the left (420, 340).

#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/StructureImport.h"

#include <gtest/gtest.h>

namespace np::imaging {
namespace {

/// Slice 02's ImagePositionPatient and pixel spacing (rows along +x, columns along +y).
Vec3 markedPointLps(double column, double row)
{
    return {-235.199997 + 0.810547 * column, -226.800003 + 0.810547 * row, -127.690002};
}

bool inMask(const StructureMask* mask, const Geometry& g, const Vec3& pointLps)
{
    if (!mask)
        return false;
    const Vec3 ijk = g.ijkFromLps(pointLps);
    const std::int64_t i = std::llround(ijk.x), j = std::llround(ijk.y), k = std::llround(ijk.z);
    if (i < 0 || j < 0 || k < 0 || i >= g.size[0] || j >= g.size[1] || k >= g.size[2])
        return false;
    return mask->voxels[static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k))] != 0;
}

TEST(SegmentationRealCt, LiverDomeSlicesKeepTheLiverOutAndFindLungBasesAndCancellousBone)
{
    NP_REQUIRE_REALDICOM();
    const auto dir = np::test::realDicomDir() / "06_seg_ct_liver";
    const Volume ct = loadVolume((dir / "ct").string());
    const StructureSet liverSet = importStructures((dir / "liver.dcm").string(), ct);
    ASSERT_EQ(liverSet.structures().size(), 1u);
    const StructureMask& liver = liverSet.structures().front();
    ASSERT_GT(liver.voxelCount(), 1000);

    const StructureSet set = segmentStructures(ct);
    const Geometry& g = ct.geometry();

    // The liver is soft tissue: none of it is bone, lung, gas or canal. (The SEG's outline takes in
    // a rim of the lung beside the dome: its voxels below -400 HU are air, and left out.)
    std::int64_t liverAir = 0;
    for (std::size_t v = 0; v < liver.voxels.size(); ++v)
        liverAir += liver.voxels[v] && ct.voxels()[v] < -400.0f;
    std::cout << "[ liver    ] " << liver.voxelCount() << " voxels, " << liverAir
              << " of them below -400 HU\n";
    for (const char* name : {"bone", "lung", "bowel_gas", "spinal_canal"}) {
        const StructureMask* s = set.find(name);
        if (!s)
            continue;
        std::int64_t overlap = 0;
        for (std::size_t v = 0; v < liver.voxels.size(); ++v)
            overlap += liver.voxels[v] && ct.voxels()[v] >= -400.0f && s->voxels[v];
        EXPECT_EQ(overlap, 0) << name;
    }
    // The cancellous bone in the middle of the vertebral body is bone; the canal is not.
    EXPECT_TRUE(inMask(set.find("bone"), g, markedPointLps(256, 367)));
    EXPECT_FALSE(inMask(set.find("bone"), g, markedPointLps(256, 391)));
    // Both lung bases are lung, not bowel gas.
    for (const Vec3& point : {markedPointLps(150, 370), markedPointLps(420, 340)}) {
        EXPECT_TRUE(inMask(set.find("lung"), g, point)) << point.x << ", " << point.y;
        EXPECT_FALSE(inMask(set.find("bowel_gas"), g, point)) << point.x << ", " << point.y;
    }
    for (const auto& w : set.warnings())
        std::cout << "[ note     ] " << w << "\n";
    // Three slices hold no chain of vertebral rings long enough to name levels.
    for (const auto& s : set.structures())
        EXPECT_NE(s.segment.name.rfind("vertebra_", 0), 0u) << s.segment.name;
    std::cout << "[ canal    ] "
              << (inMask(set.find("spinal_canal"), g, markedPointLps(256, 391)) ? "found" : "not found")
              << " at the marked point\n";
}

} // namespace
} // namespace np::imaging
