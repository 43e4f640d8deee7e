// RTSTRUCT import on structure sets built here with DCMTK: placement on oblique and anisotropic
// grids, holes, malformed contours and reference checks.

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/RtStructImport.h"

#include <cmath>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace np::imaging {
namespace {

constexpr double kPi = 3.14159265358979323846;

struct Contour
{
    std::string type = "CLOSED_PLANAR";
    std::vector<Vec3> pointsLps;
    std::string sop;
    std::string rawData; // overrides the points when set
};

struct Roi
{
    int number;
    std::string name;
    std::vector<Contour> contours;
    int referencedNumber = -1; // -1: same as number
};

std::string writeRtStruct(const std::filesystem::path& path, const std::vector<Roi>& rois,
                          const std::string& seriesUid, const std::string& frameUid)
{
    DcmFileFormat file;
    DcmDataset& d = *file.getDataset();
    d.putAndInsertString(DCM_SOPClassUID, UID_RTStructureSetStorage);
    d.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.50");
    d.putAndInsertString(DCM_Modality, "RTSTRUCT");
    DcmItem* frame = nullptr;
    d.findOrCreateSequenceItem(DCM_ReferencedFrameOfReferenceSequence, frame, -2);
    frame->putAndInsertString(DCM_FrameOfReferenceUID, frameUid.c_str());
    if (!seriesUid.empty()) {
        DcmItem* study = nullptr;
        frame->findOrCreateSequenceItem(DCM_RTReferencedStudySequence, study, -2);
        DcmItem* series = nullptr;
        study->findOrCreateSequenceItem(DCM_RTReferencedSeriesSequence, series, -2);
        series->putAndInsertString(DCM_SeriesInstanceUID, seriesUid.c_str());
    }
    for (const Roi& roi : rois) {
        DcmItem* item = nullptr;
        d.findOrCreateSequenceItem(DCM_StructureSetROISequence, item, -2);
        item->putAndInsertString(DCM_ROINumber, std::to_string(roi.number).c_str());
        item->putAndInsertString(DCM_ROIName, roi.name.c_str());
        DcmItem* contourItem = nullptr;
        d.findOrCreateSequenceItem(DCM_ROIContourSequence, contourItem, -2);
        contourItem->putAndInsertString(
            DCM_ReferencedROINumber,
            std::to_string(roi.referencedNumber < 0 ? roi.number : roi.referencedNumber).c_str());
        contourItem->putAndInsertString(DCM_ROIDisplayColor, "0\\128\\255");
        for (const Contour& c : roi.contours) {
            DcmItem* ci = nullptr;
            contourItem->findOrCreateSequenceItem(DCM_ContourSequence, ci, -2);
            ci->putAndInsertString(DCM_ContourGeometricType, c.type.c_str());
            std::ostringstream data;
            data.precision(10);
            for (std::size_t p = 0; p < c.pointsLps.size(); ++p)
                data << (p ? "\\" : "") << c.pointsLps[p].x << "\\" << c.pointsLps[p].y << "\\"
                     << c.pointsLps[p].z;
            const std::string text = c.rawData.empty() ? data.str() : c.rawData;
            ci->putAndInsertString(DCM_ContourData, text.c_str());
            ci->putAndInsertString(DCM_NumberOfContourPoints, std::to_string(c.pointsLps.size()).c_str());
            if (!c.sop.empty()) {
                DcmItem* image = nullptr;
                ci->findOrCreateSequenceItem(DCM_ContourImageSequence, image, -2);
                image->putAndInsertString(DCM_ReferencedSOPInstanceUID, c.sop.c_str());
            }
        }
    }
    EXPECT_TRUE(file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit).good());
    return path.string();
}

Volume makeCt(const Vec3& spacing, const Mat3& direction)
{
    Geometry g;
    g.size = {120, 100, 4};
    g.spacing = spacing;
    g.directionLps = direction;
    g.originLps = {-30.0, 12.0, -40.0};
    Volume ct(g, 0.0f);
    ct.info().seriesUid = "1.2.826.0.1.3680043.9.7777.60";
    ct.info().frameOfReferenceUid = "1.2.826.0.1.3680043.9.7777.61";
    for (int k = 0; k < 4; ++k)
        ct.info().sliceSopInstanceUids.push_back("1.2.826.0.1.3680043.9.7777.62." + std::to_string(k));
    return ct;
}

// A circle of `radius` mm in the plane of slice k, centred at in-plane offsets (u, v) mm from voxel (0, 0,
// k).
std::vector<Vec3> circle(const Geometry& g, double u, double v, double radius, int k)
{
    std::vector<Vec3> points;
    for (int n = 0; n < 360; ++n) {
        const double t = 2.0 * kPi * n / 360.0;
        points.push_back(g.lpsFromIjk({0.0, 0.0, double(k)}) +
                         g.directionLps.column(0) * (u + radius * std::cos(t)) +
                         g.directionLps.column(1) * (v + radius * std::sin(t)));
    }
    return points;
}

std::int64_t sliceCount(const StructureMask& m, const Geometry& g, std::int64_t k)
{
    std::int64_t n = 0;
    for (std::int64_t v = 0; v < g.size[0] * g.size[1]; ++v)
        n += m.voxels[static_cast<std::size_t>(k * g.size[0] * g.size[1] + v)];
    return n;
}

bool hasWarning(const StructureSet& set, const std::string& text)
{
    for (const auto& w : set.warnings())
        if (w.find(text) != std::string::npos)
            return true;
    return false;
}

Mat3 oblique()
{
    const double a = 35.0 * kPi / 180.0, b = 20.0 * kPi / 180.0;
    const Mat3 aboutS{{std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}};
    const Mat3 aboutL{{1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)}};
    return aboutL * aboutS;
}

TEST(RtStructSynthetic, TruncatedFileFailsCleanly)
{
    np::test::TempDir dir;
    const Volume ct = makeCt({0.8, 0.8, 2.0}, Mat3::identity());
    const std::string path =
        writeRtStruct(dir.path() / "rt.dcm",
                      {{1, "nerve", {{"CLOSED_PLANAR", circle(ct.geometry(), 40, 40, 10, 1), "", ""}}}},
                      ct.info().seriesUid, ct.info().frameOfReferenceUid);
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size / 2);
    EXPECT_THROW(importRtStruct(path, ct), Error);
    std::ofstream(dir.path() / "empty.dcm").close();
    EXPECT_THROW(importRtStruct((dir.path() / "empty.dcm").string(), ct), Error);
}

TEST(RtStructSynthetic, MalformedContoursAreSkippedWithWarnings)
{
    np::test::TempDir dir;
    const Volume ct = makeCt({0.8, 0.8, 2.0}, Mat3::identity());
    const Geometry& g = ct.geometry();
    Contour good{"CLOSED_PLANAR", circle(g, 40, 40, 10, 1), ct.info().sliceSopInstanceUids[1], ""};
    Contour open{"OPEN_PLANAR", circle(g, 40, 40, 5, 2), "", ""};
    Contour badData{"CLOSED_PLANAR", {}, "", "1\\2\\3\\4\\5\\6\\7"};
    Contour notANumber{"CLOSED_PLANAR", {}, "", "1\\2\\abc\\4\\5\\6\\7\\8\\9"};
    const std::string path = writeRtStruct(
        dir.path() / "rt.dcm",
        {{1, "vessel", {good, open, badData, notANumber}}, {2, "empty", {}}, {3, "orphan", {good}, 9}},
        ct.info().seriesUid, ct.info().frameOfReferenceUid);
    const StructureSet set = importRtStruct(path, ct);
    ASSERT_EQ(set.structures().size(), 3u);
    EXPECT_GT(sliceCount(*set.find("vessel"), g, 1), 0);
    EXPECT_EQ(set.find("empty")->voxelCount(), 0);
    EXPECT_EQ(set.find("orphan")->voxelCount(), 0);
    EXPECT_TRUE(hasWarning(set, "1 contours are not CLOSED_PLANAR"));
    EXPECT_TRUE(hasWarning(set, "2 contours have malformed Contour Data"));
    EXPECT_TRUE(hasWarning(set, "refer to no defined ROI"));
    EXPECT_TRUE(hasWarning(set, "'empty' has no closed contours"));
    EXPECT_NEAR(set.find("vessel")->segment.colorRgb[1], 128.0 / 255.0, 1e-12);
}

TEST(RtStructSynthetic, OtherSeriesAndFrameAreNamedInWarnings)
{
    np::test::TempDir dir;
    const Volume ct = makeCt({0.8, 0.8, 2.0}, Mat3::identity());
    const std::string path =
        writeRtStruct(dir.path() / "rt.dcm",
                      {{1, "nerve", {{"CLOSED_PLANAR", circle(ct.geometry(), 40, 40, 10, 1), "", ""}}}},
                      "1.2.3.444", "1.2.3.555");
    const StructureSet set = importRtStruct(path, ct);
    EXPECT_TRUE(hasWarning(set, "wrong reference"));
    EXPECT_TRUE(hasWarning(set, "1.2.3.444"));
    EXPECT_TRUE(hasWarning(set, ct.info().seriesUid));
    EXPECT_TRUE(hasWarning(set, "1.2.3.555"));
}

TEST(RtStructSynthetic, ReferenceToAnUnloadedImageOnALoadedSliceIsPlacedByCoordinates)
{
    np::test::TempDir dir;
    const Volume ct = makeCt({0.8, 0.8, 2.0}, Mat3::identity());
    const Geometry& g = ct.geometry();
    // One contour on slice 1 naming an image that is not loaded, one beyond the last slice
    // naming another such image.
    std::vector<Vec3> beyond = circle(g, 40, 40, 6, 1);
    for (Vec3& p : beyond)
        p.z += 20.0;
    const std::string path = writeRtStruct(dir.path() / "rt.dcm",
                                           {{1,
                                             "dura",
                                             {{"CLOSED_PLANAR", circle(g, 40, 40, 6, 1), "1.2.999.1", ""},
                                              {"CLOSED_PLANAR", beyond, "1.2.999.2", ""}}}},
                                           ct.info().seriesUid, ct.info().frameOfReferenceUid);
    const StructureSet set = importRtStruct(path, ct);
    EXPECT_GT(sliceCount(*set.find("dura"), g, 1), 0);
    EXPECT_EQ(set.find("dura")->voxelCount(), sliceCount(*set.find("dura"), g, 1));
    EXPECT_TRUE(hasWarning(
        set, "1 contours reference images that are not among the loaded slices but lie on loaded slices"));
    EXPECT_TRUE(hasWarning(set, "1 contours reference 2 slices that are not loaded"));
}

TEST(RtStructSynthetic, CancelStopsTheImport)
{
    struct CancelNow : ProgressSink
    {
        bool cancelRequested() const override { return true; }
    } cancel;
    np::test::TempDir dir;
    const Volume ct = makeCt({0.8, 0.8, 2.0}, Mat3::identity());
    const std::string path =
        writeRtStruct(dir.path() / "rt.dcm",
                      {{1, "nerve", {{"CLOSED_PLANAR", circle(ct.geometry(), 40, 40, 10, 1), "", ""}}}},
                      ct.info().seriesUid, ct.info().frameOfReferenceUid);
    try {
        importRtStruct(path, ct, &cancel);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    }
}

class RtStructGrids : public ::testing::TestWithParam<int>
{
};

TEST_P(RtStructGrids, RingWithHoleHasTheClosedFormArea)
{
    const Volume ct = GetParam() == 0   ? makeCt({0.8, 0.8, 2.0}, Mat3::identity())
                      : GetParam() == 1 ? makeCt({0.6, 1.1, 3.0}, Mat3::identity())
                                        : makeCt({0.7, 0.9, 1.5}, oblique());
    const Geometry& g = ct.geometry();
    np::test::TempDir dir;
    // Outer radius 20 mm, hole radius 8 mm, on slice 2; and a separate 5 mm island on slice 2.
    const std::string path = writeRtStruct(dir.path() / "rt.dcm",
                                           {{1,
                                             "psoas_left",
                                             {{"CLOSED_PLANAR", circle(g, 40, 45, 20, 2), "", ""},
                                              {"CLOSED_PLANAR", circle(g, 42, 44, 8, 2), "", ""},
                                              {"CLOSED_PLANAR", circle(g, 75, 45, 5, 2), "", ""}}}},
                                           ct.info().seriesUid, ct.info().frameOfReferenceUid);
    const StructureSet set = importRtStruct(path, ct);
    EXPECT_TRUE(set.warnings().empty()) << set.warnings().front();
    const double area = double(sliceCount(set.structures()[0], g, 2)) * g.spacing.x * g.spacing.y;
    const double trueArea = kPi * (20.0 * 20.0 - 8.0 * 8.0 + 5.0 * 5.0);
    const double band = 2.0 * kPi * (20.0 + 8.0 + 5.0) * std::max(g.spacing.x, g.spacing.y);
    EXPECT_NEAR(area, trueArea, band);
    EXPECT_EQ(set.structures()[0].voxelCount(), sliceCount(set.structures()[0], g, 2));
}

INSTANTIATE_TEST_SUITE_P(Grids, RtStructGrids, ::testing::Values(0, 1, 2));

} // namespace
} // namespace np::imaging
