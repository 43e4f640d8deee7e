// The DICOM SEG of the phantom's structures, written onto the phantom's DICOM series: dicom3tools'
// dciodvfy (the standard's IOD validator) reports no error, it lies in the CT's study and frame of
// reference, and it reads back voxel for voxel.

#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/StructureSet.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#if __has_include("needleplan/phantom/LumbarPhantom.h")
#include "needleplan/phantom/LumbarPhantom.h"
#define NP_TEST_HAS_PHANTOM 1
#endif

#ifdef NP_TEST_HAS_PHANTOM

namespace {

using namespace np::imaging;

std::string attribute(const std::string& path, const DcmTagKey& tag)
{
    DcmFileFormat file;
    OFString value;
    if (file.loadFile(path.c_str()).bad() || file.getDataset()->findAndGetOFStringArray(tag, value).bad())
        return {};
    return value.c_str();
}

TEST(DicomSegConformance, PhantomSegPassesDciodvfyAndReadsBackVoxelForVoxel)
{
    // A coarse, anisotropic phantom keeps the test short; the anatomy is the same.
    np::phantom::PhantomOptions options;
    options.spacing = {2.4, 2.0, 3.0};
    const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom(options);
    np::test::TempDir dir;
    np::phantom::writePhantom(phantom, dir.path().string());
    const Volume ct = loadVolume((dir.path() / "dicom").string());
    const StructureSet structures = StructureSet::fromLabelMap(phantom.labels);
    const std::string path = (dir.path() / "structures.dcm").string();
    const auto warnings = writeDicomSeg(structures, ct, path);
    EXPECT_TRUE(warnings.empty()) << warnings.front();

    const auto verdict = np::test::runDciodvfy(path);
    NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
    EXPECT_EQ(verdict.errorCount, 0) << verdict.errors;

    // The CT's patient, study and frame of reference, read from one of its files.
    const std::string slice = ct.info().sourceDicomFile;
    ASSERT_FALSE(slice.empty());
    for (const DcmTagKey& tag :
         {DCM_PatientName, DCM_PatientID, DCM_StudyInstanceUID, DCM_FrameOfReferenceUID})
        EXPECT_EQ(attribute(path, tag), attribute(slice, tag)) << DcmTag(tag).getTagName();
    EXPECT_NE(attribute(path, DCM_SeriesInstanceUID), attribute(slice, DCM_SeriesInstanceUID));

    // One frame per structure and slice holding any of its voxels, counted here from the label map.
    const Geometry& g = phantom.labels.geometry();
    const std::int64_t sliceVoxels = g.size[0] * g.size[1];
    std::int64_t frames = 0;
    for (const Segment& segment : phantom.labels.segments())
        for (std::int64_t k = 0; k < g.size[2]; ++k) {
            bool any = false;
            for (std::int64_t v = 0; v < sliceVoxels && !any; ++v)
                any = phantom.labels.labels()[static_cast<std::size_t>(k * sliceVoxels + v)] ==
                      segment.labelValue;
            frames += any;
        }
    EXPECT_EQ(attribute(path, DCM_NumberOfFrames), std::to_string(frames));
    EXPECT_LT(frames, static_cast<std::int64_t>(phantom.labels.segments().size()) * g.size[2]);

    const StructureSet back = importDicomSeg(path, ct);
    EXPECT_TRUE(back.warnings().empty()) << back.warnings().front();
    ASSERT_EQ(back.structures().size(), structures.structures().size());
    for (std::size_t s = 0; s < structures.structures().size(); ++s) {
        EXPECT_EQ(back.structures()[s].segment.name, structures.structures()[s].segment.name);
        EXPECT_TRUE(back.structures()[s].voxels == structures.structures()[s].voxels)
            << structures.structures()[s].segment.name;
    }
}

} // namespace

#endif
