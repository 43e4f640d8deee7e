// DICOM SEG export onto real CTs: dicom3tools' dciodvfy reports no error, and the SEG reads back
// voxel for voxel. The dcmqi liver and overlapping SEGs are imported onto their CT and written
// again; on the tilted GE head CT (resampled, so no per-slice references) a ball is written.

#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/ImageLoader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

namespace np::imaging {
namespace {

std::string attribute(const std::string& path, const DcmTagKey& tag)
{
    DcmFileFormat file;
    OFString value;
    if (file.loadFile(path.c_str()).bad() || file.getDataset()->findAndGetOFStringArray(tag, value).bad())
        return {};
    return value.c_str();
}

void expectConformantAndIdentical(const StructureSet& structures, const Volume& ct, const std::string& path)
{
    const auto warnings = writeDicomSeg(structures, ct, path);
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    const StructureSet back = importDicomSeg(path, ct);
    ASSERT_EQ(back.structures().size(), structures.structures().size());
    for (std::size_t s = 0; s < structures.structures().size(); ++s) {
        EXPECT_EQ(back.structures()[s].segment.name, structures.structures()[s].segment.name);
        EXPECT_TRUE(back.structures()[s].voxels == structures.structures()[s].voxels)
            << structures.structures()[s].segment.name;
    }
    for (const DcmTagKey& tag : {DCM_PatientName, DCM_PatientID, DCM_StudyInstanceUID, DCM_StudyDate})
        EXPECT_EQ(attribute(path, tag), attribute(ct.info().sourceDicomFile, tag))
            << DcmTag(tag).getTagName();
    const auto verdict = np::test::runDciodvfy(path);
    NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
    EXPECT_EQ(verdict.errorCount, 0) << verdict.errors;
}

TEST(DicomSegExportRealCt, LiverAndOverlappingSegsWrittenAgainPassDciodvfy)
{
    NP_REQUIRE_REALDICOM();
    const auto folder = np::test::realDicomDir() / "06_seg_ct_liver";
    const Volume ct = loadVolume((folder / "ct").string());
    ASSERT_EQ(ct.info().sliceSopInstanceUids.size(), 3u);
    np::test::TempDir dir;
    for (const char* name : {"liver.dcm", "partial_overlaps.dcm"}) {
        SCOPED_TRACE(name);
        const StructureSet imported = importDicomSeg((folder / name).string(), ct);
        expectConformantAndIdentical(imported, ct, (dir.path() / name).string());
    }
}

TEST(DicomSegExportRealCt, BallOnTheTiltedResampledCtPassesDciodvfy)
{
    NP_REQUIRE_REALDICOM();
    const Volume ct = loadVolume((np::test::realDicomDir() / "01_ct_ge_tilt_varspacing").string());
    const Geometry& g = ct.geometry();
    StructureSet structures(g);
    structures.add("ball", {0.2, 0.8, 0.3});
    auto& voxels = structures.structures()[0].voxels;
    const Vec3 centreLps =
        g.lpsFromIjk({double(g.size[0]) / 2, double(g.size[1]) / 2, double(g.size[2]) / 2});
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                voxels[static_cast<std::size_t>(i + g.size[0] * (j + g.size[1] * k))] =
                    distance(g.lpsFromIjk({double(i), double(j), double(k)}), centreLps) <= 20.0;
    np::test::TempDir dir;
    expectConformantAndIdentical(structures, ct, (dir.path() / "ball.dcm").string());
}

} // namespace
} // namespace np::imaging
