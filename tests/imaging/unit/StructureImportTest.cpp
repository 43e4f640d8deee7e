// Label-map import onto the CT grid, file-type detection, and the .seg.nrrd round trip.

#include "needleplan/imaging/StructureImport.h"

#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <fstream>
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>

namespace np::imaging {
namespace {

Geometry ctGrid()
{
    Geometry g;
    g.size = {12, 10, 5};
    g.spacing = {1.0, 1.0, 2.0};
    g.originLps = {-5.0, -4.0, 10.0};
    return g;
}

ErrorCode codeOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;
}

TEST(StructureImport, DetectionRejectsMissingFolderAndUnknownFiles)
{
    np::test::TempDir dir;
    EXPECT_EQ(codeOf([&] { detectStructureFile((dir.path() / "none.dcm").string()); }), ErrorCode::NotFound);
    EXPECT_EQ(codeOf([&] { detectStructureFile(dir.path().string()); }), ErrorCode::Unsupported);
    std::ofstream(dir.path() / "notes.txt") << "hello";
    EXPECT_EQ(codeOf([&] { detectStructureFile((dir.path() / "notes.txt").string()); }),
              ErrorCode::Unsupported);
    std::ofstream(dir.path() / "fake.dcm") << "not dicom at all";
    EXPECT_EQ(codeOf([&] { detectStructureFile((dir.path() / "fake.dcm").string()); }), ErrorCode::NotDicom);
}

TEST(StructureImport, DetectsSegNrrdAndDicomSeg)
{
    np::test::TempDir dir;
    LabelMap labels(ctGrid());
    labels.segments() = {{"bone", 1, {1, 1, 1}}};
    labels.at(3, 3, 2) = 1;
    writeSegNrrd(labels, (dir.path() / "s.seg.nrrd").string());
    EXPECT_EQ(detectStructureFile((dir.path() / "s.seg.nrrd").string()), StructureFileKind::LabelMap);
    Volume ct(ctGrid(), 0.0f);
    writeDicomSeg(StructureSet::fromLabelMap(labels), ct, (dir.path() / "s.dcm").string());
    EXPECT_EQ(detectStructureFile((dir.path() / "s.dcm").string()), StructureFileKind::DicomSeg);
}

TEST(StructureImport, LabelMapOnSameGridIsCopied)
{
    LabelMap labels(ctGrid());
    labels.segments() = {{"dura", 2, {0.1, 0.2, 0.3}}};
    labels.at(1, 2, 3) = 2;
    std::vector<std::string> warnings;
    const StructureSet set = labelMapOnGrid(labels, ctGrid(), "labels", &warnings);
    EXPECT_TRUE(warnings.empty());
    ASSERT_EQ(set.structures().size(), 1u);
    EXPECT_EQ(set.find("dura")->voxelCount(), 1);
    EXPECT_EQ(set.toLabelMap().labels(), labels.labels());
}

TEST(StructureImport, LabelMapOnCoarserShiftedGridIsResampledByPosition)
{
    // Source: 2 x 2 x 4 mm voxels, 3x3x3, first centre at (-4.3, -3.2, 10.6).
    Geometry source;
    source.size = {3, 3, 3};
    source.spacing = {2.0, 2.0, 4.0};
    source.originLps = {-4.3, -3.2, 10.6};
    LabelMap labels(source);
    labels.segments() = {{"psoas_left", 5, {1, 0, 0}}};
    labels.at(2, 0, 0) = 5;
    std::vector<std::string> warnings;
    const StructureSet set = labelMapOnGrid(labels, ctGrid(), "labels", &warnings);
    ASSERT_EQ(warnings.size(), 1u);
    // CT centres x = -5 + i, y = -4 + j, z = 10 + 2k have source indices (i - 0.7) / 2,
    // (j - 0.8) / 2 and (2k - 0.6) / 4. The nearest index is (2, 0, 0) for i = 4, 5 (1.65, 2.15;
    // i = 6 gives 2.65, beyond the grid), j = 0, 1 (-0.4, 0.1) and k = 0, 1 (-0.15, 0.35).
    const auto& mask = set.find("psoas_left")->voxels;
    std::int64_t count = 0;
    for (const auto v : mask)
        count += v;
    EXPECT_EQ(count, 8);
    for (std::int64_t k : {0, 1})
        for (std::int64_t j : {0, 1})
            for (std::int64_t i : {4, 5})
                EXPECT_EQ(mask[static_cast<std::size_t>(i + 12 * (j + 10 * k))], 1)
                    << i << "," << j << "," << k;
}

TEST(StructureImport, LabelMapThatMissesTheCtIsAnError)
{
    Geometry far = ctGrid();
    far.originLps.z += 500.0;
    LabelMap labels(far);
    EXPECT_EQ(codeOf([&] { labelMapOnGrid(labels, ctGrid(), "labels"); }), ErrorCode::InconsistentGeometry);
}

TEST(StructureImport, SegNrrdRoundTripIsIdentical)
{
    np::test::TempDir dir;
    Geometry g = ctGrid();
    g.spacing = {0.7, 1.1, 2.5};
    StructureSet set(g);
    set.add("bone", {0.9, 0.9, 0.8});
    set.add("nerve_root_L4_left", {1.0, 0.8, 0.0});
    auto& bone = set.structures()[0];
    auto& nerve = set.structures()[1];
    for (std::size_t v = 0; v < bone.voxels.size(); ++v) {
        bone.voxels[v] = v % 7 == 0;
        nerve.voxels[v] = v % 11 == 3 && v % 7 != 0;
    }
    const LabelMap flat = set.toLabelMap();
    const std::string path = (dir.path() / "structures.seg.nrrd").string();
    writeSegNrrd(flat, path);
    const StructureSet back = importStructures(path, Volume(g, 0.0f));
    ASSERT_EQ(back.structures().size(), 2u);
    EXPECT_EQ(back.find("bone")->voxels, bone.voxels);
    EXPECT_EQ(back.find("nerve_root_L4_left")->voxels, nerve.voxels);
    EXPECT_NEAR(back.find("nerve_root_L4_left")->segment.colorRgb[1], 0.8, 1e-3);
}

TEST(StructureImport, PlainLabelMapIsNamedByColourTable)
{
    np::test::TempDir dir;
    LabelMap labels(ctGrid());
    labels.segments() = {{"label_3", 3, {1, 1, 1}}, {"label_4", 4, {1, 1, 1}}};
    labels.at(0, 0, 0) = 3;
    labels.at(1, 0, 0) = 4;
    const std::string path = (dir.path() / "labels.seg.nrrd").string();
    writeSegNrrd(labels, path);
    std::ofstream(dir.path() / "t.ctbl") << "3 aorta 255 0 0 255\n";
    StructureImportOptions options;
    options.colorTablePath = (dir.path() / "t.ctbl").string();
    const StructureSet set = importStructures(path, Volume(ctGrid(), 0.0f), options);
    ASSERT_NE(set.find("aorta"), nullptr);
    EXPECT_EQ(set.find("aorta")->voxelCount(), 1);
    EXPECT_DOUBLE_EQ(set.find("aorta")->segment.colorRgb[0], 1.0);
    EXPECT_NE(set.find("label_4"), nullptr);
    ASSERT_EQ(set.warnings().size(), 1u) << "one value is not in the table";
}

TEST(StructureImport, NiftiLabelMapWithItkSnapDescriptionOnAnotherGrid)
{
    np::test::TempDir dir;
    // A 10 x 10 x 4 NIfTI label image with 2 mm voxels and an oblique direction (rotation of 90
    // degrees about S: i runs along +P, j along -L), label 7 in voxels i in 2..4, j in 3..5, k = 1.
    using LabelImage = itk::Image<std::uint16_t, 3>;
    auto image = LabelImage::New();
    LabelImage::RegionType region;
    LabelImage::SizeType size;
    size[0] = 10;
    size[1] = 10;
    size[2] = 4;
    region.SetSize(size);
    image->SetRegions(region);
    image->Allocate(true);
    LabelImage::SpacingType spacing;
    spacing.Fill(2.0);
    image->SetSpacing(spacing);
    LabelImage::PointType origin;
    origin[0] = 3.0;
    origin[1] = -2.0;
    origin[2] = 10.0;
    image->SetOrigin(origin);
    LabelImage::DirectionType direction;
    direction.Fill(0.0);
    direction[1][0] = 1.0;  // i along +y (P)
    direction[0][1] = -1.0; // j along -x (R)
    direction[2][2] = 1.0;
    image->SetDirection(direction);
    for (int i = 2; i <= 4; ++i)
        for (int j = 3; j <= 5; ++j)
            image->SetPixel({{i, j, 1}}, 7);
    const std::string path = (dir.path() / "labels.nii.gz").string();
    auto writer = itk::ImageFileWriter<LabelImage>::New();
    writer->SetInput(image);
    writer->SetFileName(path);
    writer->Update();
    std::ofstream(dir.path() / "labels.txt")
        << "    0     0    0    0        0  0  0    \"Clear Label\"\n"
           "    7   255  128    0        1  1  1    \"nerve root L4 left\"\n";
    // The CT: 1 mm voxels, identity direction, first centre at (-20.3, -4.3, 10), so that no CT
    // centre falls half way between two label voxel centres.
    Geometry g;
    g.size = {32, 32, 4};
    g.spacing = {1.0, 1.0, 2.0};
    g.originLps = {-20.3, -4.3, 10.0};
    StructureImportOptions options;
    options.colorTablePath = (dir.path() / "labels.txt").string();
    const StructureSet set = importStructures(path, Volume(g, 0.0f), options);
    const StructureMask* nerve = set.find("nerve root L4 left");
    ASSERT_NE(nerve, nullptr);
    EXPECT_NEAR(nerve->segment.colorRgb[1], 128.0 / 255.0, 1e-9);
    // Label voxel (i, j, k) has its centre at x = 3 - 2j, y = -2 + 2i, z = 10 + 2k; a CT voxel
    // takes the label of the label voxel nearest to its centre.
    std::int64_t expected = 0;
    for (std::int64_t k = 0; k < 4; ++k)
        for (std::int64_t j = 0; j < 32; ++j)
            for (std::int64_t i = 0; i < 32; ++i) {
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                // Continuous label index: i_l = (y + 2) / 2, j_l = (3 - x) / 2, k_l = (z - 10) / 2.
                const long il = std::lround((p.y + 2.0) / 2.0), jl = std::lround((3.0 - p.x) / 2.0),
                           kl = std::lround((p.z - 10.0) / 2.0);
                const bool inside = il >= 2 && il <= 4 && jl >= 3 && jl <= 5 && kl == 1;
                expected += inside;
                EXPECT_EQ(nerve->voxels[static_cast<std::size_t>(i + 32 * (j + 32 * k))] != 0, inside)
                    << i << "," << j << "," << k;
            }
    EXPECT_EQ(nerve->voxelCount(), expected);
    // x in (-8, -2]: 6 columns (-7.3 .. -2.3), y in (1, 7): 6 rows (1.7 .. 6.7), one slice.
    EXPECT_EQ(expected, 36);
    EXPECT_FALSE(set.warnings().empty()) << "resampling is reported";
}

} // namespace
} // namespace np::imaging
