// The loader on real scanner files from ../shared/data/realdicom (see its README.md).

#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "TestSupport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

namespace fs = std::filesystem;
using np::ErrorCode;
using np::Vec3;
using namespace np::imaging;

namespace {

std::string data(const std::string& relative)
{
    return (np::test::realDicomDir() / relative).string();
}

/// One slice read straight from its own header with DCMTK, independent of the loader.
struct RawSlice
{
    Vec3 positionLps, rowLps, columnLps;
    double rowSpacing = 0, columnSpacing = 0; // PixelSpacing[0], [1]
    int rows = 0, columns = 0;
    std::vector<double> values; // rescaled, padding as -1024
    double value(int x, int y) const { return values[static_cast<std::size_t>(y) * columns + x]; }
    Vec3 pixelLps(double x, double y) const { return positionLps + rowLps * (x * columnSpacing) + columnLps * (y * rowSpacing); }
};

RawSlice readRawSignedSlice(const std::string& path)
{
    RawSlice slice;
    DcmFileFormat file;
    EXPECT_TRUE(file.loadFile(path.c_str()).good()) << path;
    DcmDataset* d = file.getDataset();
    Float64 v = 0;
    for (int a = 0; a < 3; ++a) {
        d->findAndGetFloat64(DCM_ImagePositionPatient, v, static_cast<unsigned long>(a));
        slice.positionLps[a] = v;
        d->findAndGetFloat64(DCM_ImageOrientationPatient, v, static_cast<unsigned long>(a));
        slice.rowLps[a] = v;
        d->findAndGetFloat64(DCM_ImageOrientationPatient, v, static_cast<unsigned long>(a + 3));
        slice.columnLps[a] = v;
    }
    // ImageOrientationPatient holds unit vectors, written with limited digits.
    slice.rowLps = normalized(slice.rowLps);
    slice.columnLps = normalized(slice.columnLps);
    d->findAndGetFloat64(DCM_PixelSpacing, slice.rowSpacing, 0);
    d->findAndGetFloat64(DCM_PixelSpacing, slice.columnSpacing, 1);
    Uint16 rows = 0, columns = 0, pixelRepresentation = 0;
    d->findAndGetUint16(DCM_Rows, rows);
    d->findAndGetUint16(DCM_Columns, columns);
    d->findAndGetUint16(DCM_PixelRepresentation, pixelRepresentation);
    EXPECT_EQ(pixelRepresentation, 1) << path;
    slice.rows = rows;
    slice.columns = columns;
    Float64 slope = 1, intercept = 0;
    d->findAndGetFloat64(DCM_RescaleSlope, slope);
    d->findAndGetFloat64(DCM_RescaleIntercept, intercept);
    Sint16 padding = 0;
    const bool hasPadding = d->findAndGetSint16(DCM_PixelPaddingValue, padding).good();
    const Uint16* words = nullptr;
    EXPECT_TRUE(d->findAndGetUint16Array(DCM_PixelData, words).good()) << path;
    slice.values.resize(static_cast<std::size_t>(rows) * columns);
    for (std::size_t n = 0; n < slice.values.size(); ++n) {
        const auto stored = static_cast<Sint16>(words[n]);
        slice.values[n] = (hasPadding && stored == padding) ? -1024.0 : stored * slope + intercept;
    }
    return slice;
}

ErrorCode loadError(const std::string& path, std::string* message = nullptr)
{
    try {
        loadVolume(path);
    } catch (const np::Error& error) {
        if (message)
            *message = error.what();
        return error.code();
    }
    ADD_FAILURE() << path << " loaded without error";
    return ErrorCode::Internal;
}

} // namespace

TEST(DicomRealData, TiltedGeHeadCtLandsAtTrueLpsPositions)
{
    NP_REQUIRE_REALDICOM();
    const std::string folder = data("01_ct_ge_tilt_varspacing");
    const Volume volume = loadVolume(folder);
    const Geometry& g = volume.geometry();
    EXPECT_NO_THROW(g.validate("tilted CT"));
    EXPECT_EQ(volume.info().modality, "CT");
    bool tiltWarning = false, gapWarning = false;
    for (const auto& warning : volume.info().warnings) {
        tiltWarning = tiltWarning || warning.find("tilt") != std::string::npos;
        gapWarning = gapWarning || (warning.find("1.08") != std::string::npos && warning.find("7.00") != std::string::npos);
    }
    EXPECT_TRUE(tiltWarning);
    EXPECT_TRUE(gapWarning);

    std::vector<RawSlice> slices;
    for (const auto& entry : fs::directory_iterator(folder))
        slices.push_back(readRawSignedSlice(entry.path().string()));
    ASSERT_EQ(slices.size(), 28u);
    // The grid's third axis is the normal of the images (row x column), not the IPP step.
    const Vec3 normal = normalized(cross(slices[0].rowLps, slices[0].columnLps));
    EXPECT_NEAR(distance(g.directionLps.column(2), normal), 0.0, 1e-5);
    EXPECT_NEAR(std::acos(std::min(1.0, std::abs(normal.z))) * 180.0 / M_PI, 18.5, 0.1);
    std::sort(slices.begin(), slices.end(),
              [&](const RawSlice& a, const RawSlice& b) { return dot(a.positionLps, normal) < dot(b.positionLps, normal); });

    int slicesOnGridPlanes = 0;
    std::int64_t checked = 0;
    for (std::size_t s = 0; s < slices.size(); ++s) {
        const RawSlice& slice = slices[s];
        const double k = g.ijkFromLps(slice.positionLps).z;
        if (std::abs(k - std::round(k)) > 1e-4)
            continue; // between grid planes: blended with the neighbouring slice
        ++slicesOnGridPlanes;
        for (int y = 1; y + 1 < slice.rows; y += 3)
            for (int x = 0; x < slice.columns; x += 3) {
                const Vec3 pixelLps = slice.pixelLps(x, y);
                const float value = volume.sampleLps(pixelLps, -5000.0f);
                ASSERT_NE(value, -5000.0f) << "pixel " << x << "," << y << " of slice " << s << " lies outside the volume";
                if (s == 0) {
                    // The grid is anchored on the first slice's pixel lattice: exact.
                    ASSERT_NEAR(value, slice.value(x, y), 1e-2) << x << "," << y;
                } else {
                    // Bilinear resampling along the shear stays within the column neighbours.
                    const double low = std::min({slice.value(x, y - 1), slice.value(x, y), slice.value(x, y + 1)});
                    const double high = std::max({slice.value(x, y - 1), slice.value(x, y), slice.value(x, y + 1)});
                    ASSERT_GE(value, low - 0.5) << "slice " << s << " pixel " << x << "," << y;
                    ASSERT_LE(value, high + 0.5) << "slice " << s << " pixel " << x << "," << y;
                }
                ++checked;
            }
    }
    EXPECT_GE(slicesOnGridPlanes, 2); // at least the first and the last
    EXPECT_GT(checked, 50000);
}

TEST(DicomRealData, NineTransferSyntaxesDecodeIdenticallyAndJpeg2000FailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    const Volume reference = loadVolume(data("11_mr_same_image_9_ts/1.dcm"));
    EXPECT_EQ(reference.geometry().size, (Size3{384, 384, 1}));
    EXPECT_NEAR(reference.geometry().spacing.x, 3.25, 1e-3);
    for (int n = 2; n <= 8; ++n) {
        const Volume volume = loadVolume(data("11_mr_same_image_9_ts/" + std::to_string(n) + ".dcm"));
        EXPECT_EQ(volume.voxels(), reference.voxels()) << n << ".dcm";
        EXPECT_EQ(volume.geometry().size, reference.geometry().size);
    }
    std::string message;
    EXPECT_EQ(loadError(data("11_mr_same_image_9_ts/9.dcm"), &message), ErrorCode::UnsupportedTransferSyntax);
    EXPECT_NE(message.find("unsupported transfer syntax"), std::string::npos) << message;
    EXPECT_NE(message.find("9.dcm"), std::string::npos) << message;
}

TEST(DicomRealData, SmallMrEncodingsDecodeIdentically)
{
    NP_REQUIRE_REALDICOM();
    const Volume reference = loadVolume(data("13_mr_small_encodings/MR_small.dcm"));
    EXPECT_EQ(reference.geometry().size, (Size3{64, 64, 1}));
    for (const char* name : {"MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_RLE.dcm",
                             "MR_small_jpeg_ls_lossless.dcm", "MR_small_padded.dcm"}) {
        const Volume volume = loadVolume(data(std::string("13_mr_small_encodings/") + name));
        EXPECT_EQ(volume.voxels(), reference.voxels()) << name;
    }
    std::string message;
    EXPECT_EQ(loadError(data("13_mr_small_encodings/MR_small_jp2klossless.dcm"), &message),
              ErrorCode::UnsupportedTransferSyntax);
    EXPECT_NE(message.find("unsupported transfer syntax"), std::string::npos) << message;
}

TEST(DicomRealData, SingleSliceVariantsDecodeOrFailCleanly)
{
    NP_REQUIRE_REALDICOM();
    // UNCR is the raw original; UNCI is the same slice after a lossy (irreversible) round trip, so
    // it agrees only approximately, except where the original is padding.
    const Volume reversible = loadVolume(data("10_ct_single_slice_variants/693_UNCR.dcm"));
    const Volume irreversible = loadVolume(data("10_ct_single_slice_variants/693_UNCI.dcm"));
    ASSERT_EQ(reversible.geometry().size, (Size3{512, 512, 1}));
    ASSERT_EQ(irreversible.geometry().size, reversible.geometry().size);
    // (The lossy copy turned the padding value into -2016, no longer padding: compare inside the body.)
    // Agreement is measured as the correlation of the two images (1 for identical images).
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    std::size_t inside = 0;
    for (std::size_t n = 0; n < reversible.voxels().size(); ++n)
        if (reversible.voxels()[n] > -1024.0f) {
            const double a = reversible.voxels()[n], b = irreversible.voxels()[n];
            sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
            ++inside;
        }
    ASSERT_GT(inside, 10000u);
    const double count = static_cast<double>(inside);
    const double correlation = (sab - sa * sb / count) /
                               std::sqrt((saa - sa * sa / count) * (sbb - sb * sb / count));
    EXPECT_GT(correlation, 0.95);
    // Padding -2000 (stored in 14 signed bits) becomes air; the body keeps values above it.
    const auto [low, high] = std::minmax_element(reversible.voxels().begin(), reversible.voxels().end());
    EXPECT_EQ(*low, -1024.0f);
    EXPECT_EQ(reversible.at(0, 0, 0), -1024.0f);
    EXPECT_GT(*high, 0.0f);
    for (const char* name : {"693_J2KR.dcm", "693_J2KI.dcm"}) {
        std::string message;
        EXPECT_EQ(loadError(data(std::string("10_ct_single_slice_variants/") + name), &message),
                  ErrorCode::UnsupportedTransferSyntax) << name;
        EXPECT_NE(message.find("unsupported transfer syntax"), std::string::npos) << message;
    }
    const Volume small = loadVolume(data("10_ct_single_slice_variants/CT_small.dcm"));
    EXPECT_EQ(small.geometry().size, (Size3{128, 128, 1}));
    const Volume jpegLossless = loadVolume(data("10_ct_single_slice_variants/siemens_ct_jpegll_UN_sequence.dcm"));
    EXPECT_EQ(jpegLossless.geometry().size, (Size3{512, 512, 1}));
}

TEST(DicomRealData, SegRtstructXaAndDxAreRecognised)
{
    NP_REQUIRE_REALDICOM();
    const DicomScanResult seg = scanDicom(data("06_seg_ct_liver"));
    bool segSkipped = false;
    for (const auto& skipped : seg.skipped)
        if (fs::path(skipped.path).filename() == "liver.dcm")
            segSkipped = skipped.reason.find("SEG") != std::string::npos;
    EXPECT_TRUE(segSkipped);
    ASSERT_EQ(seg.series.size(), 1u); // the three CT slices
    EXPECT_EQ(seg.series[0].geometry.size[2], 3);
    const Volume ct = loadVolume(data("06_seg_ct_liver/ct"));
    EXPECT_EQ(ct.info().sliceSopInstanceUids.size(), 3u);
    EXPECT_EQ(*std::min_element(ct.voxels().begin(), ct.voxels().end()), -1024.0f); // padding -2000 is air

    const DicomScanResult rt = scanDicom(data("07_rtstruct/rtutils_mock"));
    int rtstructs = 0;
    for (const auto& skipped : rt.skipped)
        rtstructs += skipped.reason.find("RTSTRUCT") != std::string::npos;
    EXPECT_EQ(rtstructs, 3);
    ASSERT_EQ(rt.series.size(), 1u);
    EXPECT_EQ(rt.series[0].kind, DicomSeriesKind::Volume);

    const DicomScanResult xa = scanDicom(data("08_xa"));
    ASSERT_EQ(xa.series.size(), 1u);
    EXPECT_EQ(xa.series[0].kind, DicomSeriesKind::Projection);
    EXPECT_EQ(xa.series[0].modality, "XA");
    EXPECT_EQ(xa.series[0].geometry.size[2], 96);
    EXPECT_EQ(loadError(data("08_xa")), ErrorCode::NotFound); // no volume to load by default

    const DicomScanResult dx = scanDicom(data("09_dx"));
    ASSERT_EQ(dx.series.size(), 1u);
    EXPECT_EQ(dx.series[0].kind, DicomSeriesKind::Projection);
    EXPECT_EQ(dx.series[0].modality, "DX");
}

TEST(DicomRealData, WholeFolderScansWithoutThrowing)
{
    NP_REQUIRE_REALDICOM();
    const DicomScanResult scan = scanDicom(np::test::realDicomDir().string());
    EXPECT_GE(scan.series.size(), 8u);
    for (const auto& entry : scan.series) {
        if (entry.hasError() || (entry.kind == DicomSeriesKind::Projection && entry.geometry.size[2] > 1))
            continue;
        try {
            const Volume volume = loadDicomSeries(scan, entry.index);
            EXPECT_EQ(volume.geometry().voxelCount(), static_cast<std::int64_t>(volume.voxels().size()));
        } catch (const np::Error& error) {
            EXPECT_TRUE(np::isInputError(error.code())) << error.what();
        }
    }
}
