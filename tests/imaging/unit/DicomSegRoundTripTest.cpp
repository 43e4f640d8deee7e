// DICOM SEG export and re-import, and the CIELab colour conversion.

#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <cmath>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;

Volume referenceCt(const Vec3& spacing, const Mat3& direction)
{
    Geometry g;
    g.size = {23, 17, 6};
    g.spacing = spacing;
    g.directionLps = direction;
    g.originLps = {-40.5, 12.25, 101.0};
    Volume ct(g, 0.0f);
    ct.info().seriesUid = "1.2.826.0.1.3680043.9.7777.1";
    ct.info().frameOfReferenceUid = "1.2.826.0.1.3680043.9.7777.2";
    for (int k = 0; k < 6; ++k)
        ct.info().sliceSopInstanceUids.push_back("1.2.826.0.1.3680043.9.7777.3." + std::to_string(k + 1));
    return ct;
}

StructureSet overlappingStructures(const Geometry& g)
{
    StructureSet set(g);
    set.add("kidney_left", {0.8, 0.3, 0.2});
    set.add("nerve_root_L4_left", {1.0, 0.9, 0.1});
    set.add("aorta", {0.9, 0.1, 0.1}); // stays empty
    auto& sphere = set.structures()[0].voxels;
    auto& slab = set.structures()[1].voxels;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                sphere[v] = (i - 10) * (i - 10) + (j - 8) * (j - 8) + 4 * (k - 2) * (k - 2) <= 30;
                // Only slices 1 and 2, overlapping the sphere; includes the last column (odd bit offsets).
                slab[v] = (k == 1 || k == 2) && i >= 9;
            }
    return set;
}

Mat3 oblique()
{
    const double a = 30.0 * kPi / 180.0, b = 10.0 * kPi / 180.0;
    const Mat3 aboutS{{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}};
    const Mat3 aboutL{{1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)}};
    return aboutL * aboutS;
}

TEST(DicomSegColor, WhiteAndRedMatchTheirCieLabValues)
{
    // White: L* 100, a* = b* = 0, scaled (65535, 128/255 * 65535, same).
    const auto white = dicomLabFromRgb({1.0, 1.0, 1.0});
    EXPECT_EQ(white[0], 65535);
    EXPECT_NEAR(white[1], 128.0 / 255.0 * 65535.0, 1.0);
    EXPECT_NEAR(white[2], 128.0 / 255.0 * 65535.0, 1.0);
    // sRGB red is L* 53.24, a* 80.09, b* 67.20 (D65).
    const auto red = dicomLabFromRgb({1.0, 0.0, 0.0});
    EXPECT_NEAR(red[0] * 100.0 / 65535.0, 53.24, 0.05);
    EXPECT_NEAR(red[1] * 255.0 / 65535.0 - 128.0, 80.09, 0.1);
    EXPECT_NEAR(red[2] * 255.0 / 65535.0 - 128.0, 67.20, 0.1);
    const auto back = rgbFromDicomLab(red);
    EXPECT_NEAR(back[0], 1.0, 0.005);
    EXPECT_NEAR(back[1], 0.0, 0.005);
    EXPECT_NEAR(back[2], 0.0, 0.005);
}

TEST(DicomSegExport, RejectsStructuresOnAnotherGridOrNone)
{
    np::test::TempDir dir;
    const Volume ct = referenceCt({1, 1, 2}, Mat3::identity());
    Geometry other = ct.geometry();
    other.size[0] = 5;
    EXPECT_THROW(writeDicomSeg(StructureSet(other), ct, (dir.path() / "a.dcm").string()), Error);
    EXPECT_THROW(writeDicomSeg(StructureSet(ct.geometry()), ct, (dir.path() / "b.dcm").string()), Error);
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "b.dcm"));
}

TEST(DicomSegExport, WriteToMissingFolderIsAnIoError)
{
    const Volume ct = referenceCt({1, 1, 2}, Mat3::identity());
    try {
        writeDicomSeg(overlappingStructures(ct.geometry()), ct, "/nonexistent-folder/x/seg.dcm");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Io);
    }
}

TEST(DicomSegExport, StructuresWithoutAnyVoxelAreRejected)
{
    np::test::TempDir dir;
    const Volume ct = referenceCt({1, 1, 2}, Mat3::identity());
    StructureSet empty(ct.geometry());
    empty.add("aorta", {0.9, 0.1, 0.1});
    try {
        writeDicomSeg(empty, ct, (dir.path() / "e.dcm").string());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
        EXPECT_NE(std::string(e.what()).find("none of the structures holds a voxel"), std::string::npos);
    }
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "e.dcm"));
}

std::string textOf(DcmItem* item, const DcmTagKey& tag)
{
    OFString value;
    if (!item || item->findAndGetOFStringArray(tag, value).bad())
        return {};
    return value.c_str();
}

DcmItem* itemOf(DcmItem* item, const DcmTagKey& tag, unsigned long n = 0)
{
    DcmItem* found = nullptr;
    return item && item->findAndGetSequenceItem(tag, found, static_cast<signed long>(n)).good() ? found
                                                                                                : nullptr;
}

TEST(DicomSegExport, OnlyFramesHoldingASegmentWithTheCallersCodes)
{
    const Volume ct = referenceCt({0.7, 1.3, 3.1}, oblique());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "s.dcm").string();
    DicomSegWriteOptions options;
    options.coding = [](const Segment& segment) {
        SegmentCoding coding;
        if (segment.name == "kidney_left")
            coding = {{"SCT", "123037004", "Anatomical Structure"},
                      {"SCT", "64033007", "Kidney"},
                      {"SCT", "7771000", "Left"}};
        return coding; // empty for the others: the generic code
    };
    const auto warnings = writeDicomSeg(overlappingStructures(ct.geometry()), ct, path, options);
    EXPECT_TRUE(warnings.empty());
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    DcmDataset* d = file.getDataset();
    // The sphere (i-10)^2 + (j-8)^2 + 4 (k-2)^2 <= 30 reaches slices k = 0..4 (4 * 2^2 = 16 <= 30,
    // 4 * 3^2 = 36 > 30); the slab lies on slices 1 and 2; the aorta is empty: 5 + 2 frames.
    EXPECT_EQ(textOf(d, DCM_NumberOfFrames), "7");
    EXPECT_EQ(textOf(d, DCM_Modality), "SEG");
    EXPECT_EQ(textOf(d, DCM_SegmentationType), "BINARY");
    // The three segments are listed, the empty one too.
    DcmItem* kidney = itemOf(d, DCM_SegmentSequence, 0);
    ASSERT_NE(itemOf(d, DCM_SegmentSequence, 2), nullptr);
    EXPECT_EQ(textOf(itemOf(d, DCM_SegmentSequence, 2), DCM_SegmentLabel), "aorta");
    EXPECT_EQ(textOf(itemOf(kidney, DCM_SegmentedPropertyCategoryCodeSequence), DCM_CodeValue), "123037004");
    DcmItem* type = itemOf(kidney, DCM_SegmentedPropertyTypeCodeSequence);
    EXPECT_EQ(textOf(type, DCM_CodeValue), "64033007");
    EXPECT_EQ(textOf(type, DCM_CodingSchemeDesignator), "SCT");
    EXPECT_EQ(textOf(type, DCM_CodeMeaning), "Kidney");
    // The modifier (laterality) sits inside the type's item (PS3.3 C.8.20.2).
    EXPECT_EQ(textOf(itemOf(type, DCM_SegmentedPropertyTypeModifierCodeSequence), DCM_CodeValue), "7771000");
    DcmItem* root = itemOf(d, DCM_SegmentSequence, 1);
    EXPECT_EQ(textOf(itemOf(root, DCM_SegmentedPropertyCategoryCodeSequence), DCM_CodeValue), "91723000");
    EXPECT_EQ(textOf(itemOf(root, DCM_SegmentedPropertyTypeCodeSequence), DCM_CodeValue), "85756007");
    // Frames: segment 1 on slices 0..4, then segment 2 on slices 1 and 2, each with its position,
    // dimension index values and the CT slice it derives from.
    const int expectedSegment[] = {1, 1, 1, 1, 1, 2, 2};
    const int expectedSlice[] = {0, 1, 2, 3, 4, 1, 2};
    for (unsigned long f = 0; f < 7; ++f) {
        DcmItem* frame = itemOf(d, DCM_PerFrameFunctionalGroupsSequence, f);
        ASSERT_NE(frame, nullptr) << f;
        EXPECT_EQ(textOf(itemOf(frame, DCM_SegmentIdentificationSequence), DCM_ReferencedSegmentNumber),
                  std::to_string(expectedSegment[f]));
        Float64 ipp[3] = {};
        for (unsigned long c = 0; c < 3; ++c)
            itemOf(frame, DCM_PlanePositionSequence)->findAndGetFloat64(DCM_ImagePositionPatient, ipp[c], c);
        const Vec3 expected = ct.geometry().lpsFromIjk({0.0, 0.0, double(expectedSlice[f])});
        EXPECT_NEAR(distance(Vec3{ipp[0], ipp[1], ipp[2]}, expected), 0.0, 1e-6) << f;
        Uint32 segmentIndex = 0;
        itemOf(frame, DCM_FrameContentSequence)->findAndGetUint32(DCM_DimensionIndexValues, segmentIndex, 0);
        EXPECT_EQ(segmentIndex, static_cast<Uint32>(expectedSegment[f]));
        EXPECT_EQ(textOf(itemOf(itemOf(frame, DCM_DerivationImageSequence), DCM_SourceImageSequence),
                         DCM_ReferencedSOPInstanceUID),
                  ct.info().sliceSopInstanceUids[static_cast<std::size_t>(expectedSlice[f])]);
    }
    EXPECT_EQ(itemOf(d, DCM_PerFrameFunctionalGroupsSequence, 7), nullptr);
    EXPECT_NE(itemOf(d, DCM_DimensionIndexSequence, 1), nullptr);
    EXPECT_EQ(textOf(d, DCM_FrameOfReferenceUID), ct.info().frameOfReferenceUid);
    // No source file: the patient and study come from the options (an own study UID).
    EXPECT_FALSE(textOf(d, DCM_StudyInstanceUID).empty());
}

class DicomSegRoundTrip : public ::testing::TestWithParam<int>
{
};

TEST_P(DicomSegRoundTrip, ReimportGivesIdenticalMasksNamesAndColours)
{
    const Volume ct = GetParam() == 0   ? referenceCt({1.0, 1.0, 2.0}, Mat3::identity())
                      : GetParam() == 1 ? referenceCt({0.7, 1.3, 3.1}, Mat3::identity())
                                        : referenceCt({0.9, 0.8, 1.7}, oblique());
    const StructureSet original = overlappingStructures(ct.geometry());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "structures.dcm").string();
    writeDicomSeg(original, ct, path);
    const StructureSet back = importDicomSeg(path, ct);
    EXPECT_TRUE(back.warnings().empty()) << back.warnings().front();
    ASSERT_EQ(back.structures().size(), original.structures().size());
    for (std::size_t s = 0; s < original.structures().size(); ++s) {
        const auto& a = original.structures()[s];
        const auto& b = back.structures()[s];
        EXPECT_EQ(b.segment.name, a.segment.name);
        EXPECT_EQ(b.voxels, a.voxels) << a.segment.name;
        for (int c = 0; c < 3; ++c)
            EXPECT_NEAR(b.segment.colorRgb[static_cast<std::size_t>(c)],
                        a.segment.colorRgb[static_cast<std::size_t>(c)], 0.005);
    }
    EXPECT_GT(back.overlapVoxelCount(), 0);
}

INSTANTIATE_TEST_SUITE_P(Grids, DicomSegRoundTrip, ::testing::Values(0, 1, 2));

TEST(DicomSegImport, SegOfAnotherSeriesWarnsAndOffGridFails)
{
    const Volume ct = referenceCt({1.0, 1.0, 2.0}, Mat3::identity());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "s.dcm").string();
    writeDicomSeg(overlappingStructures(ct.geometry()), ct, path);
    Volume otherSeries = ct;
    otherSeries.info().seriesUid = "1.2.3";
    const StructureSet set = importDicomSeg(path, otherSeries);
    ASSERT_FALSE(set.warnings().empty());
    EXPECT_NE(set.warnings()[0].find("1.2.826.0.1.3680043.9.7777.1"), std::string::npos);
    EXPECT_NE(set.warnings()[0].find("1.2.3"), std::string::npos);
    // Half a slice off: no frame lies on a slice.
    Geometry shifted = ct.geometry();
    shifted.originLps.z += 1.0;
    Volume elsewhere(shifted, 0.0f);
    try {
        importDicomSeg(path, elsewhere);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InconsistentGeometry);
    }
    // A finer CT in-plane: frames are resampled nearest neighbour; slice 1's slab (i >= 9 of 23
    // columns at 1 mm) covers columns whose centres lie at x >= 8.5 mm from the first centre.
    Geometry finer = ct.geometry();
    finer.size = {46, 34, 6};
    finer.spacing = {0.5, 0.5, 2.0};
    finer.originLps = ct.geometry().originLps - Vec3{0.25, 0.25, 0.0};
    Volume fine(finer, 0.0f);
    const StructureSet resampled = importDicomSeg(path, fine);
    const auto& slab = resampled.find("nerve_root_L4_left")->voxels;
    // Columns 0..45 at x = -0.25 + 0.5 i (relative to the coarse first centre); the coarse pixel
    // is round(x) so columns with x >= 8.5 (i >= 18) are set: 28 columns x 34 rows x 2 slices.
    std::int64_t count = 0;
    for (const auto v : slab)
        count += v;
    EXPECT_EQ(count, 28 * 34 * 2);
}

TEST(DicomSegImport, MalformedSegsFailCleanly)
{
    const Volume ct = referenceCt({1.0, 1.0, 2.0}, Mat3::identity());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "s.dcm").string();
    writeDicomSeg(overlappingStructures(ct.geometry()), ct, path);
    auto rewrite = [&](const std::string& name, const std::function<void(DcmDataset&)>& change) {
        DcmFileFormat file;
        EXPECT_TRUE(file.loadFile(path.c_str()).good());
        change(*file.getDataset());
        const std::string out = (dir.path() / name).string();
        EXPECT_TRUE(file.saveFile(out.c_str(), EXS_LittleEndianExplicit).good());
        return out;
    };
    auto codeOf = [&](const std::string& file) {
        try {
            importDicomSeg(file, ct);
        } catch (const Error& e) {
            return e.code();
        }
        return ErrorCode::Internal;
    };
    EXPECT_EQ(
        codeOf(rewrite("frames.dcm", [](DcmDataset& d) { d.putAndInsertString(DCM_NumberOfFrames, "999"); })),
        ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(rewrite("nopixels.dcm", [](DcmDataset& d) { delete d.remove(DCM_PixelData); })),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(rewrite("short.dcm",
                             [](DcmDataset& d) {
                                 const Uint8 few[4] = {1, 2, 3, 4};
                                 d.putAndInsertUint8Array(DCM_PixelData, few, 4);
                             })),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(rewrite("bits.dcm", [](DcmDataset& d) { d.putAndInsertUint16(DCM_BitsAllocated, 16); })),
              ErrorCode::CorruptData);
    EXPECT_EQ(codeOf(rewrite("type.dcm",
                             [](DcmDataset& d) { d.putAndInsertString(DCM_SegmentationType, "LABELMAP"); })),
              ErrorCode::Unsupported);
    EXPECT_EQ(codeOf(rewrite("nosegments.dcm", [](DcmDataset& d) { delete d.remove(DCM_SegmentSequence); })),
              ErrorCode::CorruptData);
    // Truncated in the middle of the pixel data, and not DICOM at all.
    const std::string truncated = (dir.path() / "truncated.dcm").string();
    std::filesystem::copy_file(path, truncated);
    std::filesystem::resize_file(truncated, std::filesystem::file_size(truncated) - 40);
    EXPECT_NE(codeOf(truncated), ErrorCode::Internal);
    std::ofstream(dir.path() / "text.dcm") << "hello";
    EXPECT_EQ(codeOf((dir.path() / "text.dcm").string()), ErrorCode::NotDicom);
}

class CancelNow : public ProgressSink
{
public:
    bool cancelRequested() const override { return true; }
};

TEST(DicomSegImport, CancelStopsTheImport)
{
    const Volume ct = referenceCt({1.0, 1.0, 2.0}, Mat3::identity());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "s.dcm").string();
    writeDicomSeg(overlappingStructures(ct.geometry()), ct, path);
    CancelNow cancel;
    try {
        importDicomSeg(path, ct, &cancel);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}

// Rewrites a written BINARY SEG as FRACTIONAL (8-bit frames, Maximum Fractional Value 200):
// every set pixel becomes 150 (75 %) and the unset pixels of column 0 become 100 (exactly half),
// column 1 gets 99 (just under half); the rest stays 0.
void makeFractional(const std::string& path, std::int64_t columns, std::int64_t rows)
{
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    DcmDataset& d = *file.getDataset();
    const Uint8* bits = nullptr;
    unsigned long length = 0;
    ASSERT_TRUE(d.findAndGetUint8Array(DCM_PixelData, bits, &length).good());
    Sint32 frames = 0;
    d.findAndGetSint32(DCM_NumberOfFrames, frames);
    const std::int64_t framePixels = columns * rows;
    std::vector<Uint8> bytes(static_cast<std::size_t>(framePixels * frames), 0);
    for (std::int64_t p = 0; p < framePixels * frames; ++p) {
        const bool set = (bits[p / 8] >> (p % 8)) & 1;
        const std::int64_t column = (p % framePixels) % columns;
        bytes[static_cast<std::size_t>(p)] = set ? 150 : (column == 0 ? 100 : (column == 1 ? 99 : 0));
    }
    d.putAndInsertString(DCM_SegmentationType, "FRACTIONAL");
    d.putAndInsertString(DCM_SegmentationFractionalType, "PROBABILITY");
    d.putAndInsertUint16(DCM_MaximumFractionalValue, 200);
    d.putAndInsertUint16(DCM_BitsAllocated, 8);
    d.putAndInsertUint16(DCM_BitsStored, 8);
    d.putAndInsertUint16(DCM_HighBit, 7);
    d.putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size()));
    ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

TEST(DicomSegImport, FractionalFramesAreInsideFromHalfTheMaximum)
{
    const Volume ct = referenceCt({1.0, 1.0, 2.0}, Mat3::identity());
    const StructureSet original = overlappingStructures(ct.geometry());
    np::test::TempDir dir;
    const std::string path = (dir.path() / "fractional.dcm").string();
    writeDicomSeg(original, ct, path);
    makeFractional(path, 23, 17);
    const StructureSet back = importDicomSeg(path, ct);
    ASSERT_EQ(back.structures().size(), 3u);
    const Geometry& g = ct.geometry();
    for (std::size_t s = 0; s < 2; ++s) {
        const auto& a = original.structures()[s].voxels;
        const auto& b = back.structures()[s].voxels;
        for (std::int64_t k = 0; k < g.size[2]; ++k) {
            bool frameWritten = false;
            for (std::int64_t v = 0; v < g.size[0] * g.size[1]; ++v)
                frameWritten = frameWritten || a[static_cast<std::size_t>(k * g.size[0] * g.size[1] + v)];
            for (std::int64_t j = 0; j < g.size[1]; ++j)
                for (std::int64_t i = 0; i < g.size[0]; ++i) {
                    const auto v = static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k));
                    // Written frames: set pixels (150) and column 0 (100 = half) are inside,
                    // column 1 (99) is not. Slices without a frame stay empty.
                    const bool expected = frameWritten && (a[v] || i == 0);
                    ASSERT_EQ(b[v] != 0, expected) << s << " " << i << "," << j << "," << k;
                }
        }
    }
}

} // namespace
} // namespace np::imaging
