// Behaviour of the DICOM loader on small files built here with DCMTK or the series writer, where
// every expected value follows from how the file was written.

#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "TestSupport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

namespace fs = std::filesystem;
using np::ErrorCode;
using np::Mat3;
using np::Vec3;
using namespace np::imaging;

namespace {

/// Everything one hand-made DICOM slice needs.
struct SliceSpec
{
    int rows = 3;
    int columns = 4;
    Vec3 positionLps{0, 0, 0};
    Vec3 rowCosine{1, 0, 0};
    Vec3 columnCosine{0, 1, 0};
    std::string pixelSpacing = "0.5\\0.25"; // rows (j) first, then columns (i)
    std::string sliceThickness = "1";
    int bitsAllocated = 16;
    int bitsStored = 16;
    int highBit = 15;
    int pixelRepresentation = 0;
    std::string photometric = "MONOCHROME2";
    std::string modality = "CT";
    std::string sopClass = UID_CTImageStorage;
    std::string imageType = "ORIGINAL\\PRIMARY\\AXIAL";
    std::string slope = "1";
    std::string intercept = "0";
    std::string seriesUid = "1.2.826.0.1.3680043.9.7777.1";
    std::string sopUid; // generated when empty
    int instanceNumber = 1;
    bool hasPadding = false;
    long padding = 0;
    bool hasPaddingLimit = false;
    long paddingLimit = 0;
    bool includePixelData = true;
    bool includeGeometry = true;
    std::vector<std::uint16_t> words; // 16-bit pixels (raw bit patterns)
    std::vector<std::uint8_t> bytes;  // 8-bit pixels
};

std::string ds(double value)
{
    std::ostringstream text;
    text.precision(10);
    text << value;
    return text.str();
}

std::string triple(const Vec3& v)
{
    return ds(v.x) + "\\" + ds(v.y) + "\\" + ds(v.z);
}

void writeSlice(const SliceSpec& spec, const fs::path& path, E_TransferSyntax xfer = EXS_LittleEndianExplicit)
{
    static int counter = 0;
    DcmFileFormat file;
    DcmDataset* d = file.getDataset();
    d->putAndInsertString(DCM_SOPClassUID, spec.sopClass.c_str());
    const std::string sop = spec.sopUid.empty() ? "1.2.826.0.1.3680043.9.7777.2." + std::to_string(++counter) : spec.sopUid;
    d->putAndInsertString(DCM_SOPInstanceUID, sop.c_str());
    d->putAndInsertString(DCM_Modality, spec.modality.c_str());
    d->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.9.7777.3");
    d->putAndInsertString(DCM_SeriesInstanceUID, spec.seriesUid.c_str());
    d->putAndInsertString(DCM_FrameOfReferenceUID, "1.2.826.0.1.3680043.9.7777.4");
    d->putAndInsertString(DCM_ImageType, spec.imageType.c_str());
    d->putAndInsertString(DCM_PatientPosition, "HFS");
    d->putAndInsertString(DCM_InstanceNumber, std::to_string(spec.instanceNumber).c_str());
    if (spec.includeGeometry) {
        d->putAndInsertString(DCM_ImagePositionPatient, triple(spec.positionLps).c_str());
        d->putAndInsertString(DCM_ImageOrientationPatient,
                              (triple(spec.rowCosine) + "\\" + triple(spec.columnCosine)).c_str());
        d->putAndInsertString(DCM_PixelSpacing, spec.pixelSpacing.c_str());
    }
    d->putAndInsertString(DCM_SliceThickness, spec.sliceThickness.c_str());
    d->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
    d->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.columns));
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    d->putAndInsertString(DCM_PhotometricInterpretation, spec.photometric.c_str());
    d->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(spec.bitsAllocated));
    d->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(spec.bitsStored));
    d->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(spec.highBit));
    d->putAndInsertUint16(DCM_PixelRepresentation, static_cast<Uint16>(spec.pixelRepresentation));
    d->putAndInsertString(DCM_RescaleSlope, spec.slope.c_str());
    d->putAndInsertString(DCM_RescaleIntercept, spec.intercept.c_str());
    if (spec.hasPadding) {
        if (spec.pixelRepresentation == 1)
            d->putAndInsertSint16(DCM_PixelPaddingValue, static_cast<Sint16>(spec.padding));
        else
            d->putAndInsertUint16(DCM_PixelPaddingValue, static_cast<Uint16>(spec.padding));
    }
    if (spec.hasPaddingLimit) {
        if (spec.pixelRepresentation == 1)
            d->putAndInsertSint16(DCM_PixelPaddingRangeLimit, static_cast<Sint16>(spec.paddingLimit));
        else
            d->putAndInsertUint16(DCM_PixelPaddingRangeLimit, static_cast<Uint16>(spec.paddingLimit));
    }
    if (spec.includePixelData) {
        if (spec.bitsAllocated == 8)
            d->putAndInsertUint8Array(DCM_PixelData, spec.bytes.data(), static_cast<unsigned long>(spec.bytes.size()));
        else
            d->putAndInsertUint16Array(DCM_PixelData, spec.words.data(), static_cast<unsigned long>(spec.words.size()));
    }
    ASSERT_TRUE(file.saveFile(path.string().c_str(), xfer).good()) << path;
}

/// Slice spec with 16-bit unsigned pixels value(i, j).
template <typename F>
SliceSpec slice16(const Vec3& positionLps, F value, int columns = 4, int rows = 3)
{
    SliceSpec spec;
    spec.columns = columns;
    spec.rows = rows;
    spec.positionLps = positionLps;
    for (int j = 0; j < rows; ++j)
        for (int i = 0; i < columns; ++i)
            spec.words.push_back(static_cast<std::uint16_t>(value(i, j)));
    return spec;
}

ErrorCode loadError(const std::string& path, std::string* message = nullptr, const LoadOptions& options = {})
{
    try {
        loadVolume(path, options);
    } catch (const np::Error& error) {
        if (message)
            *message = error.what();
        return error.code();
    }
    ADD_FAILURE() << "loading " << path << " did not fail";
    return ErrorCode::Internal;
}

Geometry obliqueGeometry(const Vec3& spacing, const Size3& size)
{
    Geometry g;
    g.size = size;
    g.spacing = spacing;
    g.originLps = {-31.5, 12.25, 104.0};
    // Rotated 20 degrees about S, then 10 degrees about the new row axis: oblique in every plane.
    const double a = 20.0 * M_PI / 180.0, b = 10.0 * M_PI / 180.0;
    const Mat3 aboutS = Mat3::fromColumns({std::cos(a), std::sin(a), 0}, {-std::sin(a), std::cos(a), 0}, {0, 0, 1});
    const Mat3 aboutRow = Mat3::fromColumns({1, 0, 0}, {0, std::cos(b), std::sin(b)}, {0, -std::sin(b), std::cos(b)});
    g.directionLps = aboutS * aboutRow;
    return g;
}

} // namespace

// ---------------------------------------------------------------- bad inputs first

TEST(DicomLoader, EmptyFolderIsNotFound)
{
    np::test::TempDir dir;
    std::string message;
    EXPECT_EQ(loadError(dir.path().string(), &message), ErrorCode::NotFound);
    EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
}

TEST(DicomLoader, MissingPathIsNotFound)
{
    np::test::TempDir dir;
    EXPECT_EQ(loadError((dir.path() / "nothing-here").string()), ErrorCode::NotFound);
}

TEST(DicomLoader, NonDicomFileIsNotDicom)
{
    np::test::TempDir dir;
    const fs::path text = dir.path() / "notes.txt";
    std::ofstream(text) << "this is not a DICOM file, just some text that goes on for a while\n";
    std::string message;
    EXPECT_EQ(loadError(text.string(), &message), ErrorCode::NotDicom);
    EXPECT_NE(message.find("notes.txt"), std::string::npos) << message;
    // In a folder it is skipped with a reason, and the folder holds no image series.
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.skipped.size(), 1u);
    EXPECT_EQ(scan.skipped[0].reason, "not a DICOM file");
    EXPECT_TRUE(scan.series.empty());
}

TEST(DicomLoader, TruncatedFileIsCorruptData)
{
    np::test::TempDir dir;
    const fs::path path = dir.path() / "cut.dcm";
    writeSlice(slice16({0, 0, 0}, [](int i, int j) { return i + j; }, 64, 64), path);
    fs::resize_file(path, fs::file_size(path) - 4000); // cut into the pixel data
    std::string message;
    EXPECT_EQ(loadError(path.string(), &message), ErrorCode::CorruptData);
    EXPECT_NE(message.find("cut.dcm"), std::string::npos) << message;
}

TEST(DicomLoader, MissingPixelDataIsCorruptData)
{
    np::test::TempDir dir;
    SliceSpec spec = slice16({0, 0, 0}, [](int, int) { return 1; });
    spec.includePixelData = false;
    writeSlice(spec, dir.path() / "nopixels.dcm");
    std::string message;
    EXPECT_EQ(loadError((dir.path() / "nopixels.dcm").string(), &message), ErrorCode::CorruptData);
    EXPECT_NE(message.find("missing PixelData"), std::string::npos) << message;
    EXPECT_NE(message.find("nopixels.dcm"), std::string::npos) << message;
}

TEST(DicomLoader, ZeroAndNanPixelSpacingAreInconsistentGeometry)
{
    for (const std::string spacing : {"0\\0", "0.5\\0", "NaN\\NaN"}) {
        np::test::TempDir dir;
        SliceSpec spec = slice16({0, 0, 0}, [](int, int) { return 1; });
        spec.pixelSpacing = spacing;
        writeSlice(spec, dir.path() / "a.dcm");
        spec.positionLps = {0, 0, 1};
        writeSlice(spec, dir.path() / "b.dcm");
        std::string message;
        EXPECT_EQ(loadError(dir.path().string(), &message), ErrorCode::InconsistentGeometry) << spacing;
        EXPECT_NE(message.find("PixelSpacing"), std::string::npos) << message;
    }
}

TEST(DicomLoader, DuplicatePositionsNameBothFiles)
{
    np::test::TempDir dir;
    writeSlice(slice16({0, 0, 0}, [](int, int) { return 1; }), dir.path() / "first.dcm");
    writeSlice(slice16({0, 0, 2}, [](int, int) { return 2; }), dir.path() / "second.dcm");
    writeSlice(slice16({0, 0, 2}, [](int, int) { return 3; }), dir.path() / "third.dcm");
    std::string message;
    EXPECT_EQ(loadError(dir.path().string(), &message), ErrorCode::DuplicatePosition);
    EXPECT_NE(message.find("second.dcm"), std::string::npos) << message;
    EXPECT_NE(message.find("third.dcm"), std::string::npos) << message;
}

TEST(DicomLoader, AbsurdDimensionsAreRefusedBeforeAllocation)
{
    np::test::TempDir dir;
    // 65535 x 65535 pixels claimed, 12 bytes present: 16 GiB of float would be needed.
    SliceSpec spec = slice16({0, 0, 0}, [](int, int) { return 1; });
    spec.rows = 65535;
    spec.columns = 65535;
    writeSlice(spec, dir.path() / "huge.dcm");
    std::string message;
    EXPECT_EQ(loadError(dir.path().string(), &message), ErrorCode::TooLarge);
    EXPECT_NE(message.find("huge.dcm"), std::string::npos) << message;
}

TEST(DicomLoader, AbsurdPositionsAndSpacingsAreInconsistentGeometry)
{
    {
        np::test::TempDir dir;
        writeSlice(slice16({0, 0, 0}, [](int, int) { return 1; }), dir.path() / "a.dcm");
        writeSlice(slice16({0, 0, 1e9}, [](int, int) { return 1; }), dir.path() / "b.dcm");
        writeSlice(slice16({0, 0, 2e9}, [](int, int) { return 1; }), dir.path() / "c.dcm");
        EXPECT_EQ(loadError(dir.path().string()), ErrorCode::InconsistentGeometry);
    }
    {
        np::test::TempDir dir;
        writeSlice(slice16({0, 0, 0}, [](int, int) { return 1; }), dir.path() / "a.dcm");
        writeSlice(slice16({0, 0, std::nan("")}, [](int, int) { return 1; }), dir.path() / "nan.dcm");
        EXPECT_EQ(loadError(dir.path().string()), ErrorCode::InconsistentGeometry);
    }
    {
        np::test::TempDir dir;
        SliceSpec spec = slice16({0, 0, 0}, [](int, int) { return 1; });
        spec.pixelSpacing = "1e-300\\1e-300";
        writeSlice(spec, dir.path() / "tiny.dcm");
        EXPECT_EQ(loadError(dir.path().string()), ErrorCode::InconsistentGeometry);
    }
}

TEST(DicomLoader, MemoryCapIsHonoured)
{
    np::test::TempDir dir;
    for (int k = 0; k < 3; ++k)
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 1; }), dir.path() / ("s" + std::to_string(k) + ".dcm"));
    LoadOptions options;
    options.memoryCapBytes = 4 * 3 * 4 * 3 - 1; // one byte less than 4x3x3 floats
    EXPECT_EQ(loadError(dir.path().string(), nullptr, options), ErrorCode::TooLarge);
    options.memoryCapBytes = 4 * 3 * 4 * 3;
    EXPECT_NO_THROW(loadVolume(dir.path().string(), options));
}

TEST(DicomLoader, UnknownSeriesIndexOrUidIsNotFound)
{
    np::test::TempDir dir;
    writeSlice(slice16({0, 0, 0}, [](int, int) { return 1; }), dir.path() / "a.dcm");
    LoadOptions options;
    options.seriesIndex = 3;
    EXPECT_EQ(loadError(dir.path().string(), nullptr, options), ErrorCode::NotFound);
    options = {};
    options.seriesUid = "1.2.3.4";
    EXPECT_EQ(loadError(dir.path().string(), nullptr, options), ErrorCode::NotFound);
}

// ---------------------------------------------------------------- stacking

TEST(DicomLoader, OrdersByPositionNotFileNameOrInstanceNumber)
{
    np::test::TempDir dir;
    // File names and InstanceNumbers run opposite to the positions along the normal (S).
    const double z[] = {10.0, 7.5, 12.5, 5.0};
    const char* names[] = {"a.dcm", "b.dcm", "c.dcm", "d.dcm"};
    for (int n = 0; n < 4; ++n) {
        SliceSpec spec = slice16({-3.0, 4.0, z[n]}, [&](int i, int j) { return 100 * static_cast<int>(z[n] * 2) + i + 4 * j; });
        spec.instanceNumber = 4 - n;
        spec.sliceThickness = "5"; // must not be used for spacing
        writeSlice(spec, dir.path() / names[n]);
    }
    const Volume volume = loadVolume(dir.path().string());
    const Geometry& g = volume.geometry();
    ASSERT_EQ(g.size, (Size3{4, 3, 4}));
    EXPECT_NEAR(g.spacing.x, 0.25, 1e-9); // PixelSpacing[1]: between columns
    EXPECT_NEAR(g.spacing.y, 0.5, 1e-9);  // PixelSpacing[0]: between rows
    EXPECT_NEAR(g.spacing.z, 2.5, 1e-9);  // from positions, not SliceThickness
    EXPECT_NEAR(distance(g.originLps, Vec3{-3.0, 4.0, 5.0}), 0.0, 1e-9);
    for (int k = 0; k < 4; ++k)
        for (int j = 0; j < 3; ++j)
            for (int i = 0; i < 4; ++i)
                EXPECT_EQ(volume.at(i, j, k), 100 * (10 + 5 * k) + i + 4 * j);
    ASSERT_EQ(volume.info().sliceSopInstanceUids.size(), 4u);
    EXPECT_TRUE(volume.info().warnings.empty());
}

TEST(DicomLoader, SingleSliceTakesSliceThicknessWithWarning)
{
    np::test::TempDir dir;
    SliceSpec spec = slice16({1, 2, 3}, [](int i, int) { return i; });
    spec.sliceThickness = "3.5";
    writeSlice(spec, dir.path() / "one.dcm");
    const Volume volume = loadVolume((dir.path() / "one.dcm").string());
    EXPECT_EQ(volume.geometry().size, (Size3{4, 3, 1}));
    EXPECT_NEAR(volume.geometry().spacing.z, 3.5, 1e-9);
    ASSERT_FALSE(volume.info().warnings.empty());
    EXPECT_NE(volume.info().warnings[0].find("SliceThickness"), std::string::npos);
}

TEST(DicomLoader, SeriesAtIdenticalPositionsWithDifferentUidsStayApart)
{
    np::test::TempDir dir;
    for (int s = 0; s < 2; ++s)
        for (int k = 0; k < 3; ++k) {
            SliceSpec spec = slice16({0, 0, 2.0 * k}, [&](int, int) { return 10 * s + k; });
            spec.seriesUid = "1.2.826.0.1.3680043.9.7777.10." + std::to_string(s);
            writeSlice(spec, dir.path() / ("s" + std::to_string(s) + "_" + std::to_string(k) + ".dcm"));
        }
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.series.size(), 2u);
    for (int s = 0; s < 2; ++s) {
        EXPECT_EQ(scan.series[static_cast<std::size_t>(s)].geometry.size[2], 3);
        LoadOptions options;
        options.seriesUid = "1.2.826.0.1.3680043.9.7777.10." + std::to_string(s);
        const Volume volume = loadVolume(dir.path().string(), options);
        EXPECT_EQ(volume.at(0, 0, 2), 10 * s + 2);
    }
}

TEST(DicomLoader, EchoesAtTheSamePositionsBecomeSeparateStacks)
{
    np::test::TempDir dir;
    for (int echo = 1; echo <= 2; ++echo)
        for (int k = 0; k < 3; ++k) {
            SliceSpec spec = slice16({0, 0, 4.0 * k}, [&](int, int) { return 100 * echo + k; });
            spec.modality = "MR";
            spec.sopClass = UID_MRImageStorage;
            writeSlice(spec, dir.path() / ("e" + std::to_string(echo) + "_" + std::to_string(k) + ".dcm"));
            DcmFileFormat file;
            const fs::path path = dir.path() / ("e" + std::to_string(echo) + "_" + std::to_string(k) + ".dcm");
            ASSERT_TRUE(file.loadFile(path.string().c_str()).good());
            file.getDataset()->putAndInsertString(DCM_EchoNumbers, std::to_string(echo).c_str());
            ASSERT_TRUE(file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit).good());
        }
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.series.size(), 2u);
    for (int index = 0; index < 2; ++index) {
        const DicomSeriesEntry& entry = scan.series[static_cast<std::size_t>(index)];
        EXPECT_FALSE(entry.hasError()) << entry.error;
        EXPECT_EQ(entry.geometry.size[2], 3);
        ASSERT_FALSE(entry.warnings.empty());
        EXPECT_NE(entry.warnings[0].find("EchoNumbers " + std::to_string(index + 1)), std::string::npos) << entry.warnings[0];
        const Volume volume = loadDicomSeries(scan, index);
        EXPECT_EQ(volume.at(0, 0, 2), 100 * (index + 1) + 2);
    }
}

TEST(DicomLoader, StacksInDifferentFramesOfReferenceOrSizesStayApart)
{
    np::test::TempDir dir;
    for (int k = 0; k < 2; ++k) {
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 1; }), dir.path() / ("a" + std::to_string(k) + ".dcm"));
        const fs::path path = dir.path() / ("b" + std::to_string(k) + ".dcm");
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 2; }), path);
        DcmFileFormat file;
        ASSERT_TRUE(file.loadFile(path.string().c_str()).good());
        file.getDataset()->putAndInsertString(DCM_FrameOfReferenceUID, "1.2.826.0.1.3680043.9.7777.99");
        ASSERT_TRUE(file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit).good());
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 3; }, 6, 5), dir.path() / ("c" + std::to_string(k) + ".dcm"));
    }
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.series.size(), 3u);
    for (const auto& entry : scan.series) {
        EXPECT_FALSE(entry.hasError()) << entry.error;
        EXPECT_EQ(entry.geometry.size[2], 2);
    }
}

namespace {
class ProgressRecorder : public np::ProgressSink
{
public:
    void report(double fraction, const std::string&) override
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_last = fraction;
        ++m_count;
        m_inRange = m_inRange && fraction >= 0.0 && fraction <= 1.0;
    }
    std::mutex m_mutex;
    double m_last = -1.0;
    int m_count = 0;
    bool m_inRange = true;
};
} // namespace

TEST(DicomLoader, ReportsProgressUpToCompletion)
{
    np::test::TempDir dir;
    for (int k = 0; k < 20; ++k)
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 1; }), dir.path() / ("s" + std::to_string(k) + ".dcm"));
    ProgressRecorder recorder;
    loadVolume(dir.path().string(), {}, &recorder);
    EXPECT_GE(recorder.m_count, 3);
    EXPECT_TRUE(recorder.m_inRange);
    EXPECT_EQ(recorder.m_last, 1.0);
}

TEST(DicomLoader, LocalizersSecondaryCapturesAndOtherOrientationsAreSeparateEntries)
{
    np::test::TempDir dir;
    for (int k = 0; k < 3; ++k)
        writeSlice(slice16({0, 0, 2.0 * k}, [&](int, int) { return k; }), dir.path() / ("ax" + std::to_string(k) + ".dcm"));
    SliceSpec scout = slice16({0, 0, 1.0}, [](int, int) { return 7; });
    scout.imageType = "ORIGINAL\\PRIMARY\\LOCALIZER";
    writeSlice(scout, dir.path() / "scout.dcm");
    SliceSpec capture = slice16({0, 0, 3.0}, [](int, int) { return 9; });
    capture.sopClass = UID_SecondaryCaptureImageStorage;
    writeSlice(capture, dir.path() / "capture.dcm");
    for (int k = 0; k < 2; ++k) {
        SliceSpec sagittal = slice16({1.0 * k, 0, 0}, [](int, int) { return 5; });
        sagittal.rowCosine = {0, 1, 0};
        sagittal.columnCosine = {0, 0, -1};
        writeSlice(sagittal, dir.path() / ("sag" + std::to_string(k) + ".dcm"));
    }
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.series.size(), 4u);
    int volumes = 0, localizers = 0, captures = 0;
    for (const auto& entry : scan.series) {
        if (entry.kind == DicomSeriesKind::Volume) {
            ++volumes;
            EXPECT_TRUE(entry.geometry.size[2] == 3 || entry.geometry.size[2] == 2);
        }
        localizers += entry.kind == DicomSeriesKind::Localizer;
        captures += entry.kind == DicomSeriesKind::SecondaryCapture;
    }
    EXPECT_EQ(volumes, 2);
    EXPECT_EQ(localizers, 1);
    EXPECT_EQ(captures, 1);
    // The default choice is a volume, and the axial stack keeps its three slices.
    const Volume volume = loadVolume((dir.path()).string());
    EXPECT_GE(volume.geometry().size[2], 2);
}

TEST(DicomLoader, MissingSliceIsResampledWithWarning)
{
    np::test::TempDir dir;
    // Slices at z = 0, 2.5, 5, (7.5 missing), 10; values 4 * z so linear interpolation is exact.
    for (double z : {0.0, 2.5, 5.0, 10.0})
        writeSlice(slice16({0, 0, z}, [&](int, int) { return static_cast<int>(4 * z); }),
                   dir.path() / ("z" + std::to_string(static_cast<int>(z * 10)) + ".dcm"));
    const Volume volume = loadVolume(dir.path().string());
    ASSERT_EQ(volume.geometry().size[2], 5);
    EXPECT_NEAR(volume.geometry().spacing.z, 2.5, 1e-9);
    for (int k = 0; k < 5; ++k)
        EXPECT_NEAR(volume.at(1, 1, k), 4 * 2.5 * k, 1e-4) << k;
    ASSERT_FALSE(volume.info().warnings.empty());
    const std::string& warning = volume.info().warnings[0];
    EXPECT_NE(warning.find("2.50"), std::string::npos) << warning;
    EXPECT_NE(warning.find("5.00"), std::string::npos) << warning;
    EXPECT_TRUE(volume.info().sliceSopInstanceUids.empty()); // resampled: no one-to-one slices
}

namespace {

/// Builds a volume whose voxel values are f(LPS) = 2x - 3y + 5z + 200 on slices placed at the
/// given positions (possibly sheared or unevenly spaced), writes it, loads it, and checks that
/// every voxel the loader produced inside the data equals f at its own LPS position.
void checkResampledLinearField(const Geometry& sliceGeometry, const std::vector<Vec3>& positionsLps,
                               const std::string& expectedWarning, const std::string& patientPosition)
{
    const auto field = [](const Vec3& p) { return 2.0 * p.x - 3.0 * p.y + 5.0 * p.z + 200.0; };
    Volume source(sliceGeometry);
    const Vec3 rowLps = sliceGeometry.directionLps.column(0), columnLps = sliceGeometry.directionLps.column(1);
    for (std::int64_t k = 0; k < sliceGeometry.size[2]; ++k)
        for (std::int64_t j = 0; j < sliceGeometry.size[1]; ++j)
            for (std::int64_t i = 0; i < sliceGeometry.size[0]; ++i) {
                const Vec3 p = positionsLps[static_cast<std::size_t>(k)] + rowLps * (i * sliceGeometry.spacing.x) +
                               columnLps * (j * sliceGeometry.spacing.y);
                source.at(i, j, k) = static_cast<float>(std::round(field(p)));
            }
    np::test::TempDir dir;
    DicomWriteOptions options;
    options.slicePositionsLps = positionsLps;
    options.patientPosition = patientPosition;
    options.rescaleIntercept = -1024.0;
    writeDicomSeries(source, dir.path().string(), options);
    const Volume volume = loadVolume(dir.path().string());
    const Geometry& g = volume.geometry();
    EXPECT_NO_THROW(g.validate("loaded"));
    bool warned = false;
    for (const auto& warning : volume.info().warnings)
        warned = warned || warning.find(expectedWarning) != std::string::npos;
    EXPECT_TRUE(warned) << "no warning containing '" << expectedWarning << "'";
    EXPECT_EQ(volume.info().patientPosition, patientPosition);
    std::int64_t checked = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const float value = volume.at(i, j, k);
                if (value == -1024.0f)
                    continue; // outside the data (air fill)
                const Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                ASSERT_NEAR(value, field(p), 0.51) << "voxel " << i << "," << j << "," << k;
                ++checked;
            }
    // The data covers most of the grid.
    EXPECT_GT(checked, g.voxelCount() / 2);
}

} // namespace

TEST(DicomLoader, GantryTiltIsResampledToTrueLpsPositions)
{
    // 30 x 20 pixels, 0.8 x 0.6 mm, 12 slices 2 mm apart along the normal, each shifted 0.7 mm
    // along the column direction (a tilt of atan(0.7 / 2) = 19.3 degrees).
    Geometry slices;
    slices.size = {30, 20, 12};
    slices.spacing = {0.8, 0.6, 2.0};
    std::vector<Vec3> positions;
    for (int k = 0; k < 12; ++k)
        positions.push_back(Vec3{-10.0, 5.0, 30.0} + Vec3{0, 0.7 * k, 2.0 * k});
    checkResampledLinearField(slices, positions, "tilt", "HFS");
}

TEST(DicomLoader, ObliqueProneTiltedStackIsResampledToTrueLpsPositions)
{
    Geometry slices = obliqueGeometry({0.9, 0.5, 1.5}, {24, 26, 10});
    const Vec3 normal = slices.directionLps.column(2), column = slices.directionLps.column(1),
               row = slices.directionLps.column(0);
    std::vector<Vec3> positions;
    for (int k = 0; k < 10; ++k)
        positions.push_back(slices.originLps + normal * (1.5 * k) + column * (-0.4 * k) + row * (0.15 * k));
    checkResampledLinearField(slices, positions, "tilt", "HFP");
}

TEST(DicomLoader, UnevenSpacingIsResampledWithSmallestAndLargestGap)
{
    Geometry slices;
    slices.size = {8, 6, 7};
    slices.spacing = {1.1, 0.9, 1.0};
    std::vector<Vec3> positions;
    double z = -20.0;
    for (int k = 0; k < 7; ++k) {
        positions.push_back({4.0, -2.0, z});
        z += (k % 2 == 0) ? 2.0 : 3.0;
    }
    checkResampledLinearField(slices, positions, "from 2.00 to 3.00 mm", "FFS");
}

TEST(DicomLoader, UnevenStackWhoseGridHasAsManySlicesIsStillResampled)
{
    // Gaps 2.0, 2.0, 2.6 mm: the uniform grid also has 4 slices (2.2 mm apart), but they are not
    // the original slices.
    Geometry slices;
    slices.size = {5, 4, 4};
    slices.spacing = {1.0, 1.0, 1.0};
    checkResampledLinearField(slices, {{0, 0, 0}, {0, 0, 2.0}, {0, 0, 4.0}, {0, 0, 6.6}}, "from 2.00 to 2.60 mm", "HFS");
}

TEST(DicomLoader, RoundTripObliqueAnisotropicProneSeries)
{
    for (const std::string position : {"HFS", "HFP", "FFP"}) {
        const Geometry geometry = obliqueGeometry({0.7, 1.3, 2.1}, {9, 7, 6});
        Volume source(geometry);
        for (std::int64_t k = 0; k < 6; ++k)
            for (std::int64_t j = 0; j < 7; ++j)
                for (std::int64_t i = 0; i < 9; ++i)
                    source.at(i, j, k) = static_cast<float>(i + 10 * j + 100 * k - 500);
        np::test::TempDir dir;
        DicomWriteOptions options;
        options.patientPosition = position;
        const auto files = writeDicomSeries(source, dir.path().string(), options);
        const Volume volume = loadVolume(dir.path().string());
        const Geometry& g = volume.geometry();
        ASSERT_EQ(g.size, geometry.size);
        for (int a = 0; a < 3; ++a) {
            EXPECT_NEAR(g.spacing[a], geometry.spacing[a], 1e-4);
            EXPECT_NEAR(g.originLps[a], geometry.originLps[a], 1e-4);
        }
        for (int n = 0; n < 9; ++n)
            EXPECT_NEAR(g.directionLps.m[static_cast<std::size_t>(n)], geometry.directionLps.m[static_cast<std::size_t>(n)], 1e-5);
        EXPECT_EQ(volume.voxels(), source.voxels());
        EXPECT_EQ(volume.info().patientPosition, position);
        EXPECT_EQ(volume.info().modality, "CT");
        EXPECT_TRUE(volume.info().warnings.empty());
        EXPECT_EQ(volume.info().sliceSopInstanceUids.size(), 6u);
    }
}

// ---------------------------------------------------------------- pixel values

TEST(DicomLoader, BitsStoredMasksHighBitsAndSignExtends)
{
    np::test::TempDir dir;
    // Unsigned 12-bit with garbage in the top 4 bits: 0xF123 -> 0x123 = 291.
    SliceSpec unsignedSpec = slice16({0, 0, 0}, [](int i, int) { return 0xF000 | (0x120 + i); });
    unsignedSpec.bitsStored = 12;
    unsignedSpec.highBit = 11;
    writeSlice(unsignedSpec, dir.path() / "u12.dcm");
    Volume volume = loadVolume((dir.path() / "u12.dcm").string());
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(volume.at(i, 0, 0), 0x120 + i);
    // Signed 12-bit: 0x0FFF is -1, 0x0800 is -2048, 0x07FF is 2047 (top bits ignored).
    SliceSpec signedSpec = slice16({0, 0, 0}, [](int i, int) {
        const int raw[] = {0x0FFF, 0x0800, 0xA7FF, 0x0001};
        return raw[i];
    });
    signedSpec.bitsStored = 12;
    signedSpec.highBit = 11;
    signedSpec.pixelRepresentation = 1;
    writeSlice(signedSpec, dir.path() / "s12.dcm");
    volume = loadVolume((dir.path() / "s12.dcm").string());
    EXPECT_EQ(volume.at(0, 0, 0), -1);
    EXPECT_EQ(volume.at(1, 0, 0), -2048);
    EXPECT_EQ(volume.at(2, 0, 0), 2047);
    EXPECT_EQ(volume.at(3, 0, 0), 1);
}

TEST(DicomLoader, RescaleGivesHuAndPaddingBecomesAir)
{
    np::test::TempDir dir;
    // Signed 16-bit, slope 2, intercept -100, padding -2000 up to the range limit -1990.
    SliceSpec spec = slice16({0, 0, 0}, [](int i, int j) {
        const int raw[3][4] = {{-2000, -1995, -1990, -1989}, {0, 1, 50, 600}, {-32768, 32767, -1, 7}};
        return static_cast<std::uint16_t>(static_cast<std::int16_t>(raw[j][i]));
    });
    spec.pixelRepresentation = 1;
    spec.slope = "2";
    spec.intercept = "-100";
    spec.hasPadding = true;
    spec.padding = -2000;
    spec.hasPaddingLimit = true;
    spec.paddingLimit = -1990;
    writeSlice(spec, dir.path() / "ct.dcm");
    const Volume volume = loadVolume((dir.path() / "ct.dcm").string());
    EXPECT_EQ(volume.at(0, 0, 0), -1024.0f);
    EXPECT_EQ(volume.at(1, 0, 0), -1024.0f);
    EXPECT_EQ(volume.at(2, 0, 0), -1024.0f);
    EXPECT_EQ(volume.at(3, 0, 0), -1989 * 2 - 100);
    EXPECT_EQ(volume.at(0, 1, 0), -100);
    EXPECT_EQ(volume.at(1, 1, 0), -98);
    EXPECT_EQ(volume.at(2, 1, 0), 0);
    EXPECT_EQ(volume.at(3, 1, 0), 1100);
    EXPECT_EQ(volume.at(0, 2, 0), -32768 * 2 - 100);
    EXPECT_EQ(volume.at(1, 2, 0), 32767 * 2 - 100);
    EXPECT_EQ(volume.at(2, 2, 0), -102);
    EXPECT_EQ(volume.at(3, 2, 0), -86);
}

TEST(DicomLoader, PaddingOfNonCtBecomesTheImageMinimum)
{
    np::test::TempDir dir;
    SliceSpec spec = slice16({0, 0, 0}, [](int i, int j) { return i == 0 && j == 0 ? 0 : 100 + i + 4 * j; });
    spec.modality = "MR";
    spec.sopClass = UID_MRImageStorage;
    spec.hasPadding = true;
    spec.padding = 0;
    writeSlice(spec, dir.path() / "mr.dcm");
    const Volume volume = loadVolume((dir.path() / "mr.dcm").string());
    EXPECT_EQ(volume.at(0, 0, 0), 101.0f); // the smallest real value
    EXPECT_EQ(volume.at(1, 0, 0), 101.0f);
    EXPECT_EQ(volume.at(3, 2, 0), 111.0f);
}

TEST(DicomLoader, EightBitMonochrome1IsInverted)
{
    np::test::TempDir dir;
    SliceSpec spec;
    spec.bitsAllocated = 8;
    spec.bitsStored = 8;
    spec.highBit = 7;
    spec.photometric = "MONOCHROME1";
    spec.modality = "MR";
    spec.sopClass = UID_MRImageStorage;
    spec.bytes = {0, 1, 2, 3, 10, 20, 30, 40, 200, 250, 254, 255};
    writeSlice(spec, dir.path() / "m1.dcm");
    const Volume volume = loadVolume((dir.path() / "m1.dcm").string());
    for (int n = 0; n < 12; ++n)
        EXPECT_EQ(volume.voxels()[static_cast<std::size_t>(n)], 255 - spec.bytes[static_cast<std::size_t>(n)]);
}

TEST(DicomLoader, EveryDecodableTransferSyntaxGivesIdenticalPixels)
{
    static std::once_flag encoders;
    std::call_once(encoders, [] {
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
    });
    np::test::TempDir dir;
    SliceSpec spec = slice16({0, 0, 0}, [](int i, int j) { return (i * 37 + j * 101) % 4096; }, 32, 24);
    spec.bitsStored = 12;
    spec.highBit = 11;
    spec.intercept = "-1024";
    const fs::path reference = dir.path() / "reference.dcm";
    writeSlice(spec, reference);
    const Volume expected = loadVolume(reference.string());
    const DJ_RPLossless jpegLossless;
    const DJLSRepresentationParameter jpegLsLossless(2, OFTrue);
    const DcmRLERepresentationParameter rle;
    struct Variant
    {
        E_TransferSyntax xfer;
        const DcmRepresentationParameter* parameter;
    };
    const Variant variants[] = {{EXS_LittleEndianImplicit, nullptr},
                                {EXS_BigEndianExplicit, nullptr},
                                {EXS_DeflatedLittleEndianExplicit, nullptr},
                                {EXS_RLELossless, &rle},
                                {EXS_JPEGProcess14SV1, &jpegLossless},
                                {EXS_JPEGLSLossless, &jpegLsLossless}};
    for (const Variant& variant : variants) {
        DcmFileFormat file;
        ASSERT_TRUE(file.loadFile(reference.string().c_str()).good());
        ASSERT_TRUE(file.getDataset()->chooseRepresentation(variant.xfer, variant.parameter).good())
            << DcmXfer(variant.xfer).getXferName();
        const fs::path path = dir.path() / ("variant" + std::to_string(static_cast<int>(variant.xfer)) + ".dcm");
        ASSERT_TRUE(file.saveFile(path.string().c_str(), variant.xfer).good()) << DcmXfer(variant.xfer).getXferName();
        const Volume volume = loadVolume(path.string());
        EXPECT_EQ(volume.voxels(), expected.voxels()) << DcmXfer(variant.xfer).getXferName();
    }
}

// ---------------------------------------------------------------- enhanced multi-frame

TEST(DicomLoader, EnhancedMultiFramePositionsComeFromPerFrameGroups)
{
    np::test::TempDir dir;
    const int columns = 5, rows = 4, frames = 4;
    // Frames stored in the order z = 6, 0, 9, 3 (spacing 3 along S), oblique rows.
    const double z[] = {6.0, 0.0, 9.0, 3.0};
    const double c = std::cos(0.3), s = std::sin(0.3);
    DcmFileFormat file;
    DcmDataset* d = file.getDataset();
    d->putAndInsertString(DCM_SOPClassUID, UID_EnhancedCTImageStorage);
    d->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.20");
    d->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.9.7777.21");
    d->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.9.7777.22");
    d->putAndInsertString(DCM_FrameOfReferenceUID, "1.2.826.0.1.3680043.9.7777.23");
    d->putAndInsertString(DCM_Modality, "CT");
    d->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL\\NONE");
    d->putAndInsertUint16(DCM_Rows, rows);
    d->putAndInsertUint16(DCM_Columns, columns);
    d->putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    d->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    d->putAndInsertUint16(DCM_BitsAllocated, 16);
    d->putAndInsertUint16(DCM_BitsStored, 16);
    d->putAndInsertUint16(DCM_HighBit, 15);
    d->putAndInsertUint16(DCM_PixelRepresentation, 0);
    DcmItem* shared = nullptr;
    ASSERT_TRUE(d->findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good());
    DcmItem* measures = nullptr;
    shared->findOrCreateSequenceItem(DCM_PixelMeasuresSequence, measures, 0);
    measures->putAndInsertString(DCM_PixelSpacing, "0.6\\0.4");
    measures->putAndInsertString(DCM_SliceThickness, "7");
    DcmItem* orientation = nullptr;
    shared->findOrCreateSequenceItem(DCM_PlaneOrientationSequence, orientation, 0);
    orientation->putAndInsertString(DCM_ImageOrientationPatient,
                                    (ds(c) + "\\" + ds(s) + "\\0\\" + ds(-s) + "\\" + ds(c) + "\\0").c_str());
    DcmItem* transform = nullptr;
    shared->findOrCreateSequenceItem(DCM_PixelValueTransformationSequence, transform, 0);
    transform->putAndInsertString(DCM_RescaleSlope, "1");
    transform->putAndInsertString(DCM_RescaleIntercept, "-1000");
    std::vector<Uint16> pixels;
    for (int f = 0; f < frames; ++f) {
        DcmItem* perFrame = nullptr;
        d->findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, perFrame, f);
        DcmItem* position = nullptr;
        perFrame->findOrCreateSequenceItem(DCM_PlanePositionSequence, position, 0);
        position->putAndInsertString(DCM_ImagePositionPatient, triple({1.0, 2.0, z[f]}).c_str());
        for (int j = 0; j < rows; ++j)
            for (int i = 0; i < columns; ++i)
                pixels.push_back(static_cast<Uint16>(1000 + 100 * z[f] + i + 10 * j));
    }
    d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    const fs::path path = dir.path() / "enhanced.dcm";
    ASSERT_TRUE(file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit).good());

    const Volume volume = loadVolume(path.string());
    const Geometry& g = volume.geometry();
    ASSERT_EQ(g.size, (Size3{5, 4, 4}));
    EXPECT_NEAR(g.spacing.x, 0.4, 1e-9);
    EXPECT_NEAR(g.spacing.y, 0.6, 1e-9);
    EXPECT_NEAR(g.spacing.z, 3.0, 1e-9);
    EXPECT_NEAR(distance(g.originLps, Vec3{1.0, 2.0, 0.0}), 0.0, 1e-9);
    EXPECT_NEAR(distance(g.directionLps.column(0), Vec3{c, s, 0}), 0.0, 1e-6);
    for (int k = 0; k < 4; ++k)
        for (int j = 0; j < rows; ++j)
            for (int i = 0; i < columns; ++i)
                EXPECT_EQ(volume.at(i, j, k), 100 * 3 * k + i + 10 * j) << i << "," << j << "," << k;
}

TEST(DicomLoader, EnhancedMrEchoesAtTheSamePositionsBecomeSeparateStacks)
{
    np::test::TempDir dir;
    const int columns = 4, rows = 3;
    // Six frames: echoes 12 ms and 30 ms interleaved, at z = 0, 2, 4.
    const double z[] = {0, 0, 2, 2, 4, 4};
    const char* echo[] = {"12", "30", "12", "30", "12", "30"};
    DcmFileFormat file;
    DcmDataset* d = file.getDataset();
    d->putAndInsertString(DCM_SOPClassUID, UID_EnhancedMRImageStorage);
    d->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.30");
    d->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.9.7777.31");
    d->putAndInsertString(DCM_Modality, "MR");
    d->putAndInsertUint16(DCM_Rows, rows);
    d->putAndInsertUint16(DCM_Columns, columns);
    d->putAndInsertString(DCM_NumberOfFrames, "6");
    d->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    d->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    d->putAndInsertUint16(DCM_BitsAllocated, 16);
    d->putAndInsertUint16(DCM_BitsStored, 12);
    d->putAndInsertUint16(DCM_HighBit, 11);
    d->putAndInsertUint16(DCM_PixelRepresentation, 0);
    DcmItem* shared = nullptr;
    ASSERT_TRUE(d->findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good());
    DcmItem* item = nullptr;
    shared->findOrCreateSequenceItem(DCM_PixelMeasuresSequence, item, 0);
    item->putAndInsertString(DCM_PixelSpacing, "1\\1");
    shared->findOrCreateSequenceItem(DCM_PlaneOrientationSequence, item, 0);
    item->putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
    std::vector<Uint16> pixels;
    for (int f = 0; f < 6; ++f) {
        DcmItem* perFrame = nullptr;
        d->findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, perFrame, f);
        perFrame->findOrCreateSequenceItem(DCM_PlanePositionSequence, item, 0);
        item->putAndInsertString(DCM_ImagePositionPatient, triple({0, 0, z[f]}).c_str());
        perFrame->findOrCreateSequenceItem(DCM_MREchoSequence, item, 0);
        item->putAndInsertString(DCM_EffectiveEchoTime, echo[f]);
        for (int n = 0; n < rows * columns; ++n)
            pixels.push_back(static_cast<Uint16>(100 * (f % 2) + 10 * z[f]));
    }
    d->putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    const fs::path path = dir.path() / "echoes.dcm";
    ASSERT_TRUE(file.saveFile(path.string().c_str(), EXS_LittleEndianExplicit).good());

    const DicomScanResult scan = scanDicom(path.string());
    ASSERT_EQ(scan.series.size(), 2u);
    for (const auto& entry : scan.series) {
        ASSERT_FALSE(entry.hasError()) << entry.error;
        EXPECT_EQ(entry.geometry.size, (Size3{4, 3, 3}));
        EXPECT_NEAR(entry.geometry.spacing.z, 2.0, 1e-9);
        const Volume volume = loadDicomSeries(scan, entry.index);
        const bool late = entry.warnings[0].find("EffectiveEchoTime 30") != std::string::npos;
        for (int k = 0; k < 3; ++k)
            EXPECT_EQ(volume.at(1, 1, k), (late ? 100 : 0) + 20 * k) << entry.warnings[0];
    }
}

// ---------------------------------------------------------------- other formats

TEST(ImageLoader, NrrdRoundTripKeepsVoxelsAndLpsGeometry)
{
    np::test::TempDir dir;
    const Geometry geometry = obliqueGeometry({0.7, 1.3, 2.1}, {5, 4, 3});
    Volume source(geometry);
    for (std::size_t n = 0; n < source.voxels().size(); ++n)
        source.voxels()[n] = 0.25f * static_cast<float>(n) - 3.0f;
    const std::string path = (dir.path() / "volume.nrrd").string();
    writeVolumeNrrd(source, path);
    std::ifstream in(path);
    std::string headerText, line;
    while (std::getline(in, line) && !line.empty())
        headerText += line + "\n";
    EXPECT_NE(headerText.find("space: left-posterior-superior"), std::string::npos);
    EXPECT_NE(headerText.find("type: float"), std::string::npos);
    const Volume loaded = loadVolume(path);
    EXPECT_EQ(loaded.voxels(), source.voxels());
    const Geometry& g = loaded.geometry();
    EXPECT_EQ(g.size, geometry.size);
    for (int a = 0; a < 3; ++a) {
        EXPECT_NEAR(g.spacing[a], geometry.spacing[a], 1e-9);
        EXPECT_NEAR(g.originLps[a], geometry.originLps[a], 1e-9);
    }
    for (int n = 0; n < 9; ++n)
        EXPECT_NEAR(g.directionLps.m[static_cast<std::size_t>(n)], geometry.directionLps.m[static_cast<std::size_t>(n)], 1e-9);
    // No temporary file is left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path()))
        ++files;
    EXPECT_EQ(files, 1u);
}

TEST(ImageLoader, MetaImageLoadsWithItsSpacingAndOrigin)
{
    np::test::TempDir dir;
    const fs::path path = dir.path() / "small.mha";
    {
        std::ofstream out(path, std::ios::binary);
        out << "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
               "DimSize = 3 2 2\nElementSpacing = 0.5 0.75 2.5\nOffset = -10 20 5\n"
               "ElementType = MET_FLOAT\nElementDataFile = LOCAL\n";
        for (int n = 0; n < 12; ++n) {
            const float value = 1.5f * static_cast<float>(n) - 4.0f;
            out.write(reinterpret_cast<const char*>(&value), sizeof value);
        }
    }
    const Volume volume = loadVolume(path.string());
    EXPECT_EQ(volume.geometry().size, (Size3{3, 2, 2}));
    EXPECT_NEAR(distance(volume.geometry().spacing, Vec3{0.5, 0.75, 2.5}), 0.0, 1e-9);
    EXPECT_NEAR(distance(volume.geometry().originLps, Vec3{-10, 20, 5}), 0.0, 1e-9);
    EXPECT_EQ(volume.at(1, 0, 0), -2.5f);
    EXPECT_EQ(volume.at(2, 1, 1), 1.5f * 11 - 4.0f);
}

TEST(ImageLoader, CorruptNrrdIsCorruptData)
{
    np::test::TempDir dir;
    const fs::path path = dir.path() / "broken.nrrd";
    std::ofstream(path) << "NRRD0004\ntype: float\ndimension: 3\nsizes: 10 10 10\nencoding: raw\n\nshort";
    std::string message;
    const ErrorCode code = loadError(path.string(), &message);
    EXPECT_TRUE(code == ErrorCode::CorruptData || code == ErrorCode::NotFound) << message;
    EXPECT_NE(message.find("broken.nrrd"), std::string::npos) << message;
}

// ---------------------------------------------------------------- DICOMDIR, cancel, non-image objects


TEST(DicomLoader, DicomdirListsTheReferencedSeries)
{
    np::test::TempDir dir;
    fs::create_directories(dir.path() / "DICOM");
    for (int k = 0; k < 3; ++k) {
        SliceSpec spec = slice16({0, 0, 1.5 * k}, [&](int i, int) { return 10 * k + i; });
        spec.instanceNumber = k + 1;
        const fs::path file = dir.path() / "DICOM" / ("IM" + std::to_string(k + 1));
        writeSlice(spec, file);
        // Media files carry the attributes a DICOMDIR record needs.
        DcmFileFormat image;
        ASSERT_TRUE(image.loadFile(file.string().c_str()).good());
        image.getDataset()->putAndInsertString(DCM_PatientID, "NP-TEST");
        image.getDataset()->putAndInsertString(DCM_PatientName, "Test^Patient");
        image.getDataset()->putAndInsertString(DCM_StudyDate, "20260101");
        image.getDataset()->putAndInsertString(DCM_StudyTime, "120000");
        image.getDataset()->putAndInsertString(DCM_StudyID, "1");
        image.getDataset()->putAndInsertString(DCM_AccessionNumber, "");
        image.getDataset()->putAndInsertString(DCM_SeriesNumber, "1");
        ASSERT_TRUE(image.saveFile(file.string().c_str(), EXS_LittleEndianExplicit).good());
    }
    // A file the DICOMDIR does not reference is not part of the listing.
    writeSlice(slice16({0, 0, 99}, [](int, int) { return 0; }), dir.path() / "STRAY");
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path()); // DICOMDIR file IDs are relative to its folder
    {
        DicomDirInterface dicomdir;
        dicomdir.enableInventMode(OFTrue);
        ASSERT_TRUE(dicomdir.createNewDicomDir(DicomDirInterface::AP_GeneralPurpose, "DICOMDIR").good());
        for (int k = 0; k < 3; ++k)
            ASSERT_TRUE(dicomdir.addDicomFile(("DICOM/IM" + std::to_string(k + 1)).c_str()).good());
        ASSERT_TRUE(dicomdir.writeDicomDir().good());
    }
    fs::current_path(cwd);
    const DicomScanResult scan = scanDicom((dir.path() / "DICOMDIR").string());
    ASSERT_EQ(scan.series.size(), 1u);
    EXPECT_EQ(scan.series[0].geometry.size[2], 3);
    const Volume volume = loadVolume((dir.path() / "DICOMDIR").string());
    EXPECT_NEAR(volume.geometry().spacing.z, 1.5, 1e-9);
    EXPECT_EQ(volume.at(2, 0, 2), 22.0f);
    // Scanning the folder instead finds the stray slice too, and lists the DICOMDIR as skipped.
    const DicomScanResult folder = scanDicom(dir.path().string());
    bool dicomdirSkipped = false;
    for (const auto& skipped : folder.skipped)
        dicomdirSkipped = dicomdirSkipped || skipped.reason.find("DICOMDIR") != std::string::npos;
    EXPECT_TRUE(dicomdirSkipped);
}

namespace {
class CancellingSink : public np::ProgressSink
{
public:
    bool cancelRequested() const override { return true; }
};
} // namespace

TEST(DicomLoader, CancelStopsLoading)
{
    np::test::TempDir dir;
    for (int k = 0; k < 4; ++k)
        writeSlice(slice16({0, 0, 1.0 * k}, [](int, int) { return 1; }), dir.path() / ("s" + std::to_string(k) + ".dcm"));
    CancellingSink cancel;
    try {
        loadVolume(dir.path().string(), {}, &cancel);
        ADD_FAILURE() << "not cancelled";
    } catch (const np::Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::Cancelled);
    }
}

TEST(DicomLoader, NonImageObjectsAreSkippedWithTheirKind)
{
    np::test::TempDir dir;
    writeSlice(slice16({0, 0, 0}, [](int, int) { return 1; }), dir.path() / "ct.dcm");
    DcmFileFormat report;
    report.getDataset()->putAndInsertString(DCM_SOPClassUID, UID_BasicTextSRStorage);
    report.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.70");
    report.getDataset()->putAndInsertString(DCM_Modality, "SR");
    ASSERT_TRUE(report.saveFile((dir.path() / "report.dcm").string().c_str(), EXS_LittleEndianExplicit).good());
    DcmFileFormat state;
    state.getDataset()->putAndInsertString(DCM_SOPClassUID, UID_GrayscaleSoftcopyPresentationStateStorage);
    state.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.71");
    state.getDataset()->putAndInsertString(DCM_Modality, "PR");
    ASSERT_TRUE(state.saveFile((dir.path() / "state.dcm").string().c_str(), EXS_LittleEndianExplicit).good());
    const DicomScanResult scan = scanDicom(dir.path().string());
    ASSERT_EQ(scan.series.size(), 1u);
    ASSERT_EQ(scan.skipped.size(), 2u);
    EXPECT_NE(scan.skipped[0].reason.find("structured report"), std::string::npos) << scan.skipped[0].reason;
    EXPECT_NE(scan.skipped[1].reason.find("presentation state"), std::string::npos) << scan.skipped[1].reason;
    // Given alone, a non-image object cannot be loaded, and the message says what it is.
    std::string message;
    EXPECT_EQ(loadError((dir.path() / "report.dcm").string(), &message), ErrorCode::NotFound);
    EXPECT_NE(message.find("structured report"), std::string::npos) << message;
}

TEST(DicomLoader, DamagedFilesNeverCrash)
{
    np::test::TempDir dir;
    const fs::path original = dir.path() / "original.dcm";
    SliceSpec spec = slice16({0, 0, 0}, [](int i, int j) { return i * 3 + j; }, 16, 12);
    spec.hasPadding = true;
    spec.padding = 0;
    writeSlice(spec, original);
    std::ifstream in(original, std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    const std::string bytes = content.str();
    ASSERT_GT(bytes.size(), 400u);
    const fs::path damaged = dir.path() / "damaged.dcm";
    std::uint32_t random = 20260101u;
    int failures = 0, loads = 0;
    for (int attempt = 0; attempt < 300; ++attempt) {
        std::string copy = bytes;
        if (attempt % 3 == 0) {
            copy.resize(static_cast<std::size_t>(attempt) * bytes.size() / 300); // truncated anywhere
        } else {
            for (int flip = 0; flip < 1 + attempt % 5; ++flip) { // a few bytes overwritten anywhere
                random = random * 1664525u + 1013904223u;
                copy[random % copy.size()] = static_cast<char>(random >> 24);
            }
        }
        std::ofstream(damaged, std::ios::binary | std::ios::trunc).write(copy.data(), static_cast<std::streamsize>(copy.size()));
        try {
            const Volume volume = loadVolume(damaged.string());
            EXPECT_EQ(volume.voxels().size(), static_cast<std::size_t>(volume.geometry().voxelCount()));
            ++loads;
        } catch (const np::Error& error) {
            EXPECT_TRUE(np::isInputError(error.code())) << error.what();
            ++failures;
        }
    }
    EXPECT_GT(failures, 50);
    EXPECT_GT(loads, 10);
}
