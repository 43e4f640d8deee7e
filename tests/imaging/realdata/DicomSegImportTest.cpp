// DICOM SEG import on the dcmqi liver SEG, its encodings and the overlapping-segment SEG.

#include "StructureImportTestReference.h"
#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <gtest/gtest.h>
#include <map>

namespace np::imaging {
namespace {

std::filesystem::path segDir()
{
    return np::test::realDicomDir() / "06_seg_ct_liver";
}

Volume liverCt()
{
    return testref::referenceFromSlices(
        {segDir() / "ct" / "01.dcm", segDir() / "ct" / "02.dcm", segDir() / "ct" / "03.dcm"});
}

// Set bits per frame of an uncompressed 1-bit SEG, counted straight from the Pixel Data bytes
// (frames are packed back to back, least significant bit first), with each frame's segment number
// and z position.
struct FrameBits
{
    int segment;
    double zLps;
    std::int64_t setBits;
};

std::vector<FrameBits> countFrameBits(const std::filesystem::path& file)
{
    DcmFileFormat format;
    EXPECT_TRUE(format.loadFile(file.string().c_str()).good());
    DcmDataset& d = *format.getDataset();
    Uint16 rows = 0, columns = 0;
    Sint32 frames = 0;
    d.findAndGetUint16(DCM_Rows, rows);
    d.findAndGetUint16(DCM_Columns, columns);
    d.findAndGetSint32(DCM_NumberOfFrames, frames);
    const Uint8* bytes = nullptr;
    unsigned long length = 0;
    EXPECT_TRUE(d.findAndGetUint8Array(DCM_PixelData, bytes, &length).good());
    std::vector<FrameBits> result;
    DcmSequenceOfItems* perFrame = nullptr;
    d.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perFrame);
    const std::uint64_t framePixels = std::uint64_t(rows) * columns;
    for (Sint32 f = 0; f < frames; ++f) {
        FrameBits bits{0, 0.0, 0};
        DcmItem* item = perFrame->getItem(static_cast<unsigned long>(f));
        DcmItem* identification = nullptr;
        item->findAndGetSequenceItem(DCM_SegmentIdentificationSequence, identification);
        Uint16 segment = 0;
        identification->findAndGetUint16(DCM_ReferencedSegmentNumber, segment);
        bits.segment = segment;
        DcmItem* position = nullptr;
        item->findAndGetSequenceItem(DCM_PlanePositionSequence, position);
        position->findAndGetFloat64(DCM_ImagePositionPatient, bits.zLps, 2);
        for (std::uint64_t p = 0; p < framePixels; ++p) {
            const std::uint64_t index = std::uint64_t(f) * framePixels + p;
            bits.setBits += (bytes[index / 8] >> (index % 8)) & 1;
        }
        result.push_back(bits);
    }
    return result;
}

std::int64_t sliceCount(const StructureMask& mask, const Geometry& g, std::int64_t k)
{
    std::int64_t n = 0;
    for (std::int64_t v = 0; v < g.size[0] * g.size[1]; ++v)
        n += mask.voxels[static_cast<std::size_t>(k * g.size[0] * g.size[1] + v)];
    return n;
}

std::int64_t sliceOfZ(const Geometry& g, double zLps)
{
    return std::llround(g.ijkFromLps({g.originLps.x, g.originLps.y, zLps}).z);
}

TEST(DicomSegImport, CtImageIsNotASeg)
{
    NP_REQUIRE_REALDICOM();
    try {
        importDicomSeg((segDir() / "ct" / "01.dcm").string(), liverCt());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotDicom);
    }
}

TEST(DicomSegImport, Jpeg2000FailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    for (const char* name : {"liver_j2k.dcm", "liver_nonbyte_aligned_j2k.dcm"}) {
        try {
            importDicomSeg((segDir() / "seg_variants" / name).string(), liverCt());
            FAIL() << name;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::UnsupportedTransferSyntax) << name << ": " << e.what();
            EXPECT_NE(std::string(e.what()).find("1.2.840.10008.1.2.4.90"), std::string::npos) << e.what();
        }
    }
}

TEST(DicomSegImport, LiverVoxelCountsEqualSetBitsPerSlice)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = liverCt();
    const auto bits = countFrameBits(segDir() / "liver.dcm");
    ASSERT_EQ(bits.size(), 3u);
    const StructureSet set = importDicomSeg((segDir() / "liver.dcm").string(), ct);
    ASSERT_EQ(set.structures().size(), 1u);
    const StructureMask& liver = set.structures()[0];
    EXPECT_EQ(liver.segment.name, "Liver");
    std::int64_t total = 0;
    for (const auto& frame : bits) {
        EXPECT_GT(frame.setBits, 0);
        EXPECT_EQ(sliceCount(liver, ct.geometry(), sliceOfZ(ct.geometry(), frame.zLps)), frame.setBits)
            << frame.zLps;
        total += frame.setBits;
    }
    EXPECT_EQ(liver.voxelCount(), total);
    EXPECT_TRUE(set.warnings().empty()) << set.warnings().front();
    // CIELab (41661, 41167, 40792) is L* 63.6, a* 32.2, b* 26.9: a reddish brown (r > g > b).
    EXPECT_GT(liver.segment.colorRgb[0], liver.segment.colorRgb[1]);
    EXPECT_GT(liver.segment.colorRgb[1], liver.segment.colorRgb[2]);
}

TEST(DicomSegImport, EncodingVariantsGiveTheSameVoxels)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = liverCt();
    const StructureSet base = importDicomSeg((segDir() / "liver.dcm").string(), ct);
    for (const char* name : {"liver_deflate.dcm", "liver_expb.dcm", "liver_rle.dcm"}) {
        const StructureSet variant = importDicomSeg((segDir() / "seg_variants" / name).string(), ct);
        ASSERT_EQ(variant.structures().size(), 1u) << name;
        EXPECT_EQ(variant.structures()[0].voxels, base.structures()[0].voxels) << name;
    }
}

TEST(DicomSegImport, NonByteAlignedFramesOnLargerCt)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = liverCt();
    // 510 x 510 frames: 260100 bits each, so frames 2 and 3 start in the middle of a byte.
    const auto bits = countFrameBits(segDir() / "seg_variants" / "liver_nonbyte_aligned.dcm");
    ASSERT_EQ(bits.size(), 3u);
    for (const char* name : {"liver_nonbyte_aligned.dcm", "liver_nonbyte_aligned_deflate.dcm",
                             "liver_nonbyte_aligned_rle.dcm"}) {
        const StructureSet set = importDicomSeg((segDir() / "seg_variants" / name).string(), ct);
        ASSERT_EQ(set.structures().size(), 1u) << name;
        std::int64_t total = 0;
        for (const auto& frame : bits) {
            EXPECT_EQ(sliceCount(set.structures()[0], ct.geometry(), sliceOfZ(ct.geometry(), frame.zLps)),
                      frame.setBits)
                << name << " z " << frame.zLps;
            total += frame.setBits;
        }
        EXPECT_EQ(set.structures()[0].voxelCount(), total) << name;
        // The SEG grid starts at the CT origin, so columns and rows 510 and 511 stay empty.
        const Geometry& g = ct.geometry();
        std::int64_t edge = 0;
        for (std::int64_t k = 0; k < g.size[2]; ++k)
            for (std::int64_t j = 0; j < g.size[1]; ++j)
                for (std::int64_t i = 510; i < 512; ++i)
                    edge += set.structures()[0].voxels[static_cast<std::size_t>(i + 512 * (j + 512 * k))];
        EXPECT_EQ(edge, 0);
    }
}

TEST(DicomSegImport, OverlappingSegmentsStaySeparate)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = liverCt();
    const auto bits = countFrameBits(segDir() / "partial_overlaps.dcm");
    ASSERT_EQ(bits.size(), 7u);
    const StructureSet set = importDicomSeg((segDir() / "partial_overlaps.dcm").string(), ct);
    ASSERT_EQ(set.structures().size(), 5u);
    const std::vector<std::string> names{"GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"};
    std::map<int, std::int64_t> expected;
    for (const auto& frame : bits)
        expected[frame.segment] += frame.setBits;
    for (int s = 0; s < 5; ++s) {
        EXPECT_EQ(set.structures()[static_cast<std::size_t>(s)].segment.name,
                  names[static_cast<std::size_t>(s)]);
        EXPECT_EQ(set.structures()[static_cast<std::size_t>(s)].voxelCount(), expected[s + 1])
            << names[static_cast<std::size_t>(s)];
    }
    // Overlaps survive in the set; flattening keeps one label per voxel, later segments on top.
    const std::int64_t overlaps = set.overlapVoxelCount();
    EXPECT_GT(overlaps, 0);
    const LabelMap flat = set.toLabelMap();
    std::int64_t labelled = 0;
    for (const auto v : flat.labels())
        labelled += v != 0;
    std::int64_t sum = 0;
    for (const auto& s : set.structures())
        sum += s.voxelCount();
    EXPECT_LT(labelled, sum);
    const auto& last = set.structures().back();
    for (std::size_t v = 0; v < last.voxels.size(); ++v) {
        if (last.voxels[v]) {
            ASSERT_EQ(flat.labels()[v], flat.segments().back().labelValue);
        }
    }
}

TEST(DicomSegImport, OtherSeriesWarnsWithUidsAndOtherGeometryFails)
{
    NP_REQUIRE_REALDICOM();
    Volume ct = liverCt();
    ct.info().seriesUid = "1.2.3.4.5";
    const StructureSet set = importDicomSeg((segDir() / "liver.dcm").string(), ct);
    ASSERT_FALSE(set.warnings().empty());
    EXPECT_NE(set.warnings().front().find("1.2.3.4.5"), std::string::npos);
    EXPECT_NE(set.warnings().front().find("1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"),
              std::string::npos);
    Geometry shifted = ct.geometry();
    shifted.originLps.z += 50.0;
    Volume elsewhere(shifted, 0.0f);
    try {
        importDicomSeg((segDir() / "liver.dcm").string(), elsewhere);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InconsistentGeometry) << e.what();
    }
}

TEST(DicomSegImport, CtFromTheLoaderGivesTheSameVoxels)
{
    NP_REQUIRE_REALDICOM();
    const Volume loaded = loadVolume((segDir() / "ct").string());
    ASSERT_EQ(loaded.info().sliceSopInstanceUids.size(), 3u);
    const Volume reference = liverCt();
    ASSERT_EQ(loaded.geometry().size, reference.geometry().size);
    for (const char* name : {"liver.dcm", "partial_overlaps.dcm"}) {
        const StructureSet fromLoader = importDicomSeg((segDir() / name).string(), loaded);
        const StructureSet fromHeaders = importDicomSeg((segDir() / name).string(), reference);
        EXPECT_TRUE(fromLoader.warnings().empty()) << fromLoader.warnings().front();
        ASSERT_EQ(fromLoader.structures().size(), fromHeaders.structures().size());
        for (std::size_t s = 0; s < fromLoader.structures().size(); ++s)
            EXPECT_EQ(fromLoader.structures()[s].voxels, fromHeaders.structures()[s].voxels) << name;
    }
}

TEST(DicomSegImport, ExportReferencingTheLoadedCtRoundTrips)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = loadVolume((segDir() / "ct").string());
    const StructureSet imported = importDicomSeg((segDir() / "partial_overlaps.dcm").string(), ct);
    np::test::TempDir dir;
    const std::string path = (dir.path() / "export.dcm").string();
    writeDicomSeg(imported, ct, path);
    const StructureSet back = importDicomSeg(path, ct);
    EXPECT_TRUE(back.warnings().empty()) << back.warnings().front();
    ASSERT_EQ(back.structures().size(), imported.structures().size());
    for (std::size_t s = 0; s < back.structures().size(); ++s) {
        EXPECT_EQ(back.structures()[s].segment.name, imported.structures()[s].segment.name);
        EXPECT_EQ(back.structures()[s].voxels, imported.structures()[s].voxels);
        for (std::size_t c = 0; c < 3; ++c)
            EXPECT_NEAR(back.structures()[s].segment.colorRgb[c],
                        imported.structures()[s].segment.colorRgb[c], 0.005);
    }
}

} // namespace
} // namespace np::imaging
