// DICOM series writer: header values and pixels read back with DCMTK directly.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "TestSupport.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

namespace {

using np::Vec3;
using np::imaging::DicomWriteOptions;
using np::imaging::Geometry;
using np::imaging::Volume;
using np::imaging::writeDicomSeries;

// An oblique, anisotropic 5 x 4 x 3 grid. The direction columns are (2,2,1)/3, (-2,1,2)/3 and
// their cross product (1,-2,2)/3, all exact orthonormal vectors.
Geometry obliqueGeometry()
{
    Geometry g;
    g.size = {5, 4, 3};
    g.spacing = {0.7, 1.3, 2.5};
    g.originLps = {10.0, -20.0, 30.0};
    g.directionLps = np::Mat3::fromColumns({2.0 / 3, 2.0 / 3, 1.0 / 3}, {-2.0 / 3, 1.0 / 3, 2.0 / 3},
                                           {1.0 / 3, -2.0 / 3, 2.0 / 3});
    return g;
}

std::string stringOf(DcmItem& ds, const DcmTagKey& tag)
{
    OFString value;
    EXPECT_TRUE(ds.findAndGetOFStringArray(tag, value).good()) << DcmTag(tag).getTagName();
    return value.c_str();
}

double doubleOf(DcmDataset& ds, const DcmTagKey& tag, unsigned long pos = 0)
{
    Float64 value = 0;
    EXPECT_TRUE(ds.findAndGetFloat64(tag, value, pos).good()) << DcmTag(tag).getTagName() << " #" << pos;
    return value;
}

bool isValidUid(const std::string& uid)
{
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.')
        return false;
    for (std::size_t n = 0; n < uid.size(); ++n) {
        const char c = uid[n];
        if (c == '.') {
            if (uid[n + 1] == '.' || (n + 2 < uid.size() && uid[n + 1] == '0' && uid[n + 2] != '.'))
                return false;
        } else if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

TEST(DicomSeriesWriter, RejectsAnEmptyVolume)
{
    np::test::TempDir dir;
    EXPECT_THROW(writeDicomSeries(Volume{}, dir.path().string()), np::Error);
}

TEST(DicomSeriesWriter, RejectsBadOptions)
{
    np::test::TempDir dir;
    const Volume volume(obliqueGeometry(), 0.0f);
    DicomWriteOptions wrongCount;
    wrongCount.slicePositionsLps = {{0, 0, 0}, {0, 0, 1}};
    DicomWriteOptions badModality;
    badModality.modality = "XX";
    DicomWriteOptions badPosition;
    badPosition.patientPosition = "PRONE";
    DicomWriteOptions badSlope;
    badSlope.rescaleSlope = 0.0;
    for (const auto& options : {wrongCount, badModality, badPosition, badSlope}) {
        try {
            writeDicomSeries(volume, dir.path().string(), options);
            ADD_FAILURE() << "expected np::Error";
        } catch (const np::Error& e) {
            EXPECT_EQ(e.code(), np::ErrorCode::InvalidArgument) << e.what();
        }
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(DicomSeriesWriter, FailsCleanlyWhenTheFolderCannotBeCreated)
{
    np::test::TempDir dir;
    const auto blocker = dir.path() / "file";
    { std::ofstream(blocker.string()) << "x"; }
    const Volume volume(obliqueGeometry(), 0.0f);
    EXPECT_THROW(writeDicomSeries(volume, (blocker / "sub").string()), np::Error);
}

TEST(DicomSeriesWriter, ObliqueAnisotropicHeadersAndPixelsReadBack)
{
    np::test::TempDir dir;
    Volume volume(obliqueGeometry(), 0.0f);
    // value = 100 k + 10 j + i, plus two out-of-range voxels that must clamp.
    for (std::int64_t k = 0; k < 3; ++k)
        for (std::int64_t j = 0; j < 4; ++j)
            for (std::int64_t i = 0; i < 5; ++i)
                volume.at(i, j, k) = static_cast<float>(100 * k + 10 * j + i);
    volume.at(4, 3, 0) = -5000.0f;  // below -1024: stored 0
    volume.at(3, 3, 0) = 70000.0f;  // above 65535 - 1024: stored 65535
    volume.at(2, 3, 0) = 12.4f;     // rounds to stored 1036

    DicomWriteOptions options;
    options.patientPosition = "HFP";
    options.patientName = "Phantom^Test";
    options.patientId = "NP-1";
    options.seriesDescription = "round trip";
    const auto paths = writeDicomSeries(volume, (dir.path() / "series").string(), options);
    ASSERT_EQ(paths.size(), 3u);

    std::set<std::string> sopUids, studyUids, seriesUids, frameUids;
    for (int k = 0; k < 3; ++k) {
        DcmFileFormat file;
        ASSERT_TRUE(file.loadFile(paths[static_cast<std::size_t>(k)].c_str()).good());
        EXPECT_EQ(file.getDataset()->getOriginalXfer(), EXS_LittleEndianExplicit);
        DcmDataset& ds = *file.getDataset();
        EXPECT_EQ(stringOf(ds, DCM_SOPClassUID), UID_CTImageStorage);
        EXPECT_EQ(stringOf(ds, DCM_Modality), "CT");
        EXPECT_EQ(stringOf(ds, DCM_PatientPosition), "HFP");
        EXPECT_EQ(stringOf(ds, DCM_PatientName), "Phantom^Test");
        EXPECT_EQ(stringOf(ds, DCM_ImageType), "ORIGINAL\\PRIMARY\\AXIAL");
        EXPECT_EQ(stringOf(ds, DCM_RescaleType), "HU");
        EXPECT_EQ(stringOf(ds, DCM_InstanceNumber), std::to_string(k + 1));
        // Position of voxel (0,0,k): origin + k * 2.5 * (1,-2,2)/3.
        const double s = 2.5 * k / 3.0;
        EXPECT_NEAR(doubleOf(ds, DCM_ImagePositionPatient, 0), 10.0 + s, 1e-9);
        EXPECT_NEAR(doubleOf(ds, DCM_ImagePositionPatient, 1), -20.0 - 2 * s, 1e-9);
        EXPECT_NEAR(doubleOf(ds, DCM_ImagePositionPatient, 2), 30.0 + 2 * s, 1e-9);
        const double iop[6] = {2.0 / 3, 2.0 / 3, 1.0 / 3, -2.0 / 3, 1.0 / 3, 2.0 / 3};
        for (unsigned long n = 0; n < 6; ++n)
            EXPECT_NEAR(doubleOf(ds, DCM_ImageOrientationPatient, n), iop[n], 1e-12);
        // DICOM PixelSpacing: row spacing (between rows, along j) first, then column spacing.
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_PixelSpacing, 0), 1.3);
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_PixelSpacing, 1), 0.7);
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_SliceThickness), 2.5);
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_RescaleSlope), 1.0);
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_RescaleIntercept), -1024.0);
        Uint16 rows = 0, columns = 0, bitsAllocated = 0, bitsStored = 0, representation = 9;
        ds.findAndGetUint16(DCM_Rows, rows);
        ds.findAndGetUint16(DCM_Columns, columns);
        ds.findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
        ds.findAndGetUint16(DCM_BitsStored, bitsStored);
        ds.findAndGetUint16(DCM_PixelRepresentation, representation);
        EXPECT_EQ(rows, 4);
        EXPECT_EQ(columns, 5);
        EXPECT_EQ(bitsAllocated, 16);
        EXPECT_EQ(bitsStored, 16);
        EXPECT_EQ(representation, 0);
        const Uint16* pixels = nullptr;
        unsigned long count = 0;
        ASSERT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, pixels, &count).good());
        ASSERT_EQ(count, 20u);
        for (int j = 0; j < 4; ++j)
            for (int i = 0; i < 5; ++i) {
                int expected = 100 * k + 10 * j + i + 1024;
                if (k == 0 && j == 3 && i == 4)
                    expected = 0;
                if (k == 0 && j == 3 && i == 3)
                    expected = 65535;
                if (k == 0 && j == 3 && i == 2)
                    expected = 1036;
                EXPECT_EQ(pixels[j * 5 + i], expected) << i << "," << j << "," << k;
            }
        const std::string sop = stringOf(ds, DCM_SOPInstanceUID);
        EXPECT_TRUE(isValidUid(sop)) << sop;
        EXPECT_EQ(stringOf(*file.getMetaInfo(), DCM_MediaStorageSOPInstanceUID), sop);
        sopUids.insert(sop);
        studyUids.insert(stringOf(ds, DCM_StudyInstanceUID));
        seriesUids.insert(stringOf(ds, DCM_SeriesInstanceUID));
        frameUids.insert(stringOf(ds, DCM_FrameOfReferenceUID));
    }
    EXPECT_EQ(sopUids.size(), 3u);
    ASSERT_EQ(studyUids.size(), 1u);
    ASSERT_EQ(seriesUids.size(), 1u);
    ASSERT_EQ(frameUids.size(), 1u);
    EXPECT_TRUE(isValidUid(*studyUids.begin()));
    EXPECT_TRUE(isValidUid(*seriesUids.begin()));
    EXPECT_TRUE(isValidUid(*frameUids.begin()));
    EXPECT_NE(*studyUids.begin(), *seriesUids.begin());
    // Only the three slices remain: no temporary files.
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "series"))
        files += entry.is_regular_file() ? 1 : 0;
    EXPECT_EQ(files, 3);
}

TEST(DicomSeriesWriter, SignedPixelsWithSlopeAndGivenUidsAndPositions)
{
    np::test::TempDir dir;
    Geometry g;
    g.size = {2, 1, 2};
    g.spacing = {1.0, 1.0, 3.0};
    Volume volume(g, 0.0f);
    volume.at(0, 0, 0) = -1000.0f; // / 0.5 = -2000
    volume.at(1, 0, 0) = 20000.0f; // / 0.5 = 40000, clamps to 32767
    volume.at(0, 0, 1) = -20000.0f; // clamps to -32768
    volume.at(1, 0, 1) = 0.74f;     // 1.48 rounds to 1
    DicomWriteOptions options;
    options.signedPixels = true;
    options.rescaleSlope = 0.5;
    options.rescaleIntercept = 0.0;
    options.studyUid = "1.2.3.4";
    options.seriesUid = "1.2.3.5";
    options.frameOfReferenceUid = "1.2.3.6";
    options.slicePositionsLps = {{1.0, 2.0, 3.0}, {1.0, 2.5, 7.0}}; // a tilted stack
    const auto paths = writeDicomSeries(volume, dir.path().string(), options);
    ASSERT_EQ(paths.size(), 2u);
    const Sint16 expected[2][2] = {{-2000, 32767}, {-32768, 1}};
    for (int k = 0; k < 2; ++k) {
        DcmFileFormat file;
        ASSERT_TRUE(file.loadFile(paths[static_cast<std::size_t>(k)].c_str()).good());
        DcmDataset& ds = *file.getDataset();
        EXPECT_EQ(stringOf(ds, DCM_StudyInstanceUID), "1.2.3.4");
        EXPECT_EQ(stringOf(ds, DCM_SeriesInstanceUID), "1.2.3.5");
        EXPECT_EQ(stringOf(ds, DCM_FrameOfReferenceUID), "1.2.3.6");
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_ImagePositionPatient, 1), k == 0 ? 2.0 : 2.5);
        EXPECT_DOUBLE_EQ(doubleOf(ds, DCM_ImagePositionPatient, 2), k == 0 ? 3.0 : 7.0);
        Uint16 representation = 0;
        ds.findAndGetUint16(DCM_PixelRepresentation, representation);
        EXPECT_EQ(representation, 1);
        const Uint16* pixels = nullptr;
        unsigned long count = 0;
        ASSERT_TRUE(ds.findAndGetUint16Array(DCM_PixelData, pixels, &count).good());
        ASSERT_EQ(count, 2u);
        for (int i = 0; i < 2; ++i)
            EXPECT_EQ(static_cast<Sint16>(pixels[i]), expected[k][i]);
    }
}

class CancelAtOnce : public np::ProgressSink
{
public:
    bool cancelRequested() const override { return true; }
};

TEST(DicomSeriesWriter, HonoursCancel)
{
    np::test::TempDir dir;
    const Volume volume(obliqueGeometry(), 0.0f);
    CancelAtOnce cancel;
    try {
        writeDicomSeries(volume, dir.path().string(), {}, &cancel);
        ADD_FAILURE() << "expected a cancel";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::Cancelled);
    }
}

TEST(DicomSeriesWriter, GeneratedUidsAreValidAndDistinct)
{
    std::set<std::string> uids;
    for (int n = 0; n < 100; ++n) {
        const std::string uid = np::imaging::generateDicomUid();
        EXPECT_TRUE(isValidUid(uid)) << uid;
        uids.insert(uid);
    }
    EXPECT_EQ(uids.size(), 100u);
}

} // namespace
