// Projection images: XA written with their C-arm geometry load back to the same projection
// matrices; confidence and missing attributes; cine increments; malformed headers; dciodvfy (an
// independent validator) accepts what is written.

#include "needleplan/imaging/ProjectionImage.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <cmath>
#include <cstdio>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fstream>
#include <gtest/gtest.h>
#include <random>

using np::Vec3;
using namespace np::imaging;

namespace {

CArmParameters baseView(double primaryDeg, double secondaryDeg)
{
    CArmParameters p;
    p.primaryDeg = primaryDeg;
    p.secondaryDeg = secondaryDeg;
    p.sourceToDetectorMm = 1100.0;
    p.sourceToIsocenterMm = 780.0;
    p.isocenterLps = {12.0, -30.0, 45.0};
    p.columns = 64;
    p.rows = 48;
    p.columnSpacingMm = 0.61;
    p.rowSpacingMm = 0.59;
    return p;
}

std::vector<std::uint8_t> ramp(const CArmParameters& p, int frame)
{
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(p.columns * p.rows));
    for (std::size_t n = 0; n < pixels.size(); ++n)
        pixels[n] = static_cast<std::uint8_t>((n + 7 * frame) % 251);
    return pixels;
}

/// Largest distance, in pixels, between where 20 random points project in two views.
double worstDifference(const CArmGeometry& a, const CArmGeometry& b)
{
    std::mt19937 random(17);
    std::uniform_real_distribution<double> offset(-70.0, 70.0);
    double worst = 0.0;
    const ProjectionMatrix pa = a.projectionMatrix(), pb = b.projectionMatrix();
    for (int n = 0; n < 20; ++n) {
        const Vec3 point = a.parameters().isocenterLps + Vec3{offset(random), offset(random), offset(random)};
        const DetectorPixel u = pa.project(point), v = pb.project(point);
        worst = std::max(worst, std::hypot(u.column - v.column, u.row - v.row));
    }
    return worst;
}

void setAttribute(const std::string& path, const DcmTagKey& tag, const char* value)
{
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(path.c_str()).good());
    if (value == nullptr)
        file.getDataset()->findAndDeleteElement(tag);
    else
        ASSERT_TRUE(file.getDataset()->putAndInsertString(tag, value).good());
    ASSERT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
}

} // namespace

TEST(ProjectionImage, RejectsMissingNonDicomAndNonProjectionFiles)
{
    np::test::TempDir dir;
    EXPECT_THROW(loadProjectionImage((dir.path() / "absent.dcm").string()), np::Error);
    const std::string text = (dir.path() / "text.dcm").string();
    std::ofstream(text) << "not a DICOM file";
    EXPECT_THROW(loadProjectionImage(text), np::Error);
    // A CT slice is not a projection image.
    const std::string xa = (dir.path() / "xa.dcm").string();
    writeXaImage(xa, {CArmGeometry(baseView(0, 0))}, {ramp(baseView(0, 0), 0)});
    setAttribute(xa, DCM_Modality, "CT");
    setAttribute(xa, DCM_SOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    try {
        loadProjectionImage(xa);
        FAIL() << "a CT loaded as a projection";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::Unsupported);
        EXPECT_NE(std::string(e.what()).find("xa.dcm"), std::string::npos);
    }
    // Frames that do not match the views.
    EXPECT_THROW(writeXaImage(xa, {CArmGeometry(baseView(0, 0))}, {}), np::Error);
    EXPECT_THROW(writeXaImage(xa, {CArmGeometry(baseView(0, 0))}, {std::vector<std::uint8_t>(5)}), np::Error);
}

TEST(ProjectionImage, WrittenXaLoadsBackWithTheSameProjectionMatrices)
{
    np::test::TempDir dir;
    struct Case
    {
        const char* name;
        double primary, secondary;
        std::string position;
        int rotation;
        bool flip;
    };
    const Case cases[] = {{"supine AP", 0, 0, "HFS", 0, false},
                          {"prone PA cranial", 180, 12, "HFP", 0, false},
                          {"prone oblique", -155, -8, "HFP", 0, true},
                          {"rotated 90", 30, 20, "FFS", 90, false},
                          {"rotated 270, flipped", -75, 35, "HFS", 270, true}};
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        CArmParameters p = baseView(c.primary, c.secondary);
        p.patientPosition = c.position;
        p.imageRotationDeg = c.rotation;
        p.horizontalFlip = c.flip;
        const CArmGeometry view(p);
        const std::string path = (dir.path() / "view.dcm").string();
        writeXaImage(path, {view}, {ramp(p, 0)});
        const ProjectionImage image = loadProjectionImage(path);
        EXPECT_EQ(image.modality, "XA");
        EXPECT_EQ(image.frameCount, 1);
        EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full);
        EXPECT_TRUE(image.geometry.missing.empty());
        EXPECT_EQ(image.geometry.patientPosition, c.position);
        EXPECT_EQ(image.geometry.patientOrientation, view.patientOrientation());
        ASSERT_TRUE(image.geometry.detectorPixelSpacingMm);
        EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[0], 0.59);
        EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[1], 0.61);
        ASSERT_TRUE(image.geometry.isocenterPixelSpacingMm);
        EXPECT_NEAR((*image.geometry.isocenterPixelSpacingMm)[1], 0.61 * 780.0 / 1100.0, 1e-9);
        EXPECT_EQ(image.geometry.isocenterPixelSpacingSource, "ImagerPixelSpacing / magnification");
        EXPECT_LE(worstDifference(view, image.frameView(0, p.isocenterLps)), 0.1);
        // The pixels come back as written.
        const auto expected = ramp(p, 0);
        for (std::size_t n = 0; n < expected.size(); n += 97)
            ASSERT_EQ(image.pixels[n], expected[n]);
    }
}

TEST(ProjectionImage, CineWithPerFrameAnglesRoundTrips)
{
    np::test::TempDir dir;
    std::vector<CArmGeometry> views;
    std::vector<std::vector<std::uint8_t>> frames;
    for (int f = 0; f < 6; ++f) {
        CArmParameters p = baseView(-40.0 + 17.5 * f, 5.0 - 2.0 * f);
        p.patientPosition = "HFP";
        views.emplace_back(p);
        frames.push_back(ramp(p, f));
    }
    const std::string path = (dir.path() / "cine.dcm").string();
    XaWriteOptions options;
    options.frameTimeMs = 66.7;
    writeXaImage(path, views, frames, options);
    const ProjectionImage image = loadProjectionImage(path);
    ASSERT_EQ(image.frameCount, 6);
    EXPECT_EQ(image.geometry.positionerMotion, "DYNAMIC");
    EXPECT_NEAR(image.frameTimeMs, 66.7, 1e-9);
    for (int f = 0; f < 6; ++f) {
        EXPECT_NEAR(*image.geometry.frames[f].primaryDeg, -40.0 + 17.5 * f, 1e-9);
        EXPECT_NEAR(*image.geometry.frames[f].secondaryDeg, 5.0 - 2.0 * f, 1e-9);
        EXPECT_LE(worstDifference(views[f], image.frameView(f, views[f].parameters().isocenterLps)), 0.1);
        EXPECT_EQ(image.frame(f)[3], frames[f][3]);
    }
    // One average increment instead of one per frame: frame n is frame 1 plus n steps.
    setAttribute(path, DCM_PositionerPrimaryAngleIncrement, "2.5");
    setAttribute(path, DCM_PositionerSecondaryAngleIncrement, "-1");
    const ProjectionImage average = loadProjectionImage(path, false);
    EXPECT_TRUE(average.pixels.empty());
    EXPECT_NEAR(*average.geometry.frames[4].primaryDeg, -40.0 + 4 * 2.5, 1e-9);
    EXPECT_NEAR(*average.geometry.frames[4].secondaryDeg, 5.0 - 4.0, 1e-9);
    // A count that matches neither: only frame 1 has angles, and the listing says so.
    setAttribute(path, DCM_PositionerPrimaryAngleIncrement, "1\\2\\3");
    const ProjectionImage partial = loadProjectionImage(path, false);
    EXPECT_EQ(partial.geometry.confidence, GeometryConfidence::AnglesOnly);
    EXPECT_FALSE(partial.geometry.frames[2].primaryDeg);
    EXPECT_THROW(partial.frameView(2), np::Error);
}

TEST(ProjectionImage, ConfidenceNamesWhatIsMissing)
{
    np::test::TempDir dir;
    const CArmParameters p = baseView(20, -10);
    const std::string path = (dir.path() / "xa.dcm").string();
    writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)});
    setAttribute(path, DCM_DistanceSourceToDetector, nullptr);
    setAttribute(path, DCM_EstimatedRadiographicMagnificationFactor, nullptr);
    ProjectionImage image = loadProjectionImage(path, false);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::AnglesOnly);
    ASSERT_EQ(image.geometry.missing.size(), 1u);
    EXPECT_EQ(image.geometry.missing[0], "DistanceSourceToDetector (0018,1110)");
    try {
        image.frameView(0);
        FAIL() << "a view without SID";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::Unsupported);
        EXPECT_NE(std::string(e.what()).find("DistanceSourceToDetector"), std::string::npos);
    }
    // A malformed angle is named and the geometry drops to none.
    setAttribute(path, DCM_PositionerPrimaryAngle, "abc");
    image = loadProjectionImage(path, false);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::None);
    bool named = false;
    for (const auto& w : image.warnings)
        named = named || w.find("PositionerPrimaryAngle (0018,1510) is malformed") != std::string::npos;
    EXPECT_TRUE(named);
    // SID ≤ SOD cannot be a C-arm.
    writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)});
    setAttribute(path, DCM_DistanceSourceToDetector, "500");
    image = loadProjectionImage(path, false);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::AnglesOnly);
    // Image-intensifier systems are warned about.
    writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)});
    setAttribute(path, DCM_XRayReceptorType, "IMG_INTENSIFIER");
    image = loadProjectionImage(path, false);
    bool warned = false;
    for (const auto& w : image.warnings)
        warned = warned || w.find("image-intensifier") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST(ProjectionImage, PatientOrientationThatSaysMirroredIsFollowed)
{
    np::test::TempDir dir;
    const CArmParameters p = baseView(0, 0); // AP: heads-up orientation "L\F"
    const std::string path = (dir.path() / "xa.dcm").string();
    writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)});
    setAttribute(path, DCM_FieldOfViewHorizontalFlip, nullptr);
    setAttribute(path, DCM_PatientOrientation, "R\\F");
    const ProjectionImage image = loadProjectionImage(path, false);
    EXPECT_TRUE(image.geometry.horizontalFlip);
    CArmParameters mirrored = p;
    mirrored.horizontalFlip = true;
    EXPECT_LE(worstDifference(CArmGeometry(mirrored), image.frameView(0, p.isocenterLps)), 1e-6);
}

TEST(ProjectionImage, WrittenXaPassesDciodvfy)
{
    if (std::system("command -v dciodvfy > /dev/null 2>&1") != 0)
        GTEST_SKIP() << "dciodvfy (dicom3tools) is not installed";
    np::test::TempDir dir;
    std::vector<CArmGeometry> views;
    std::vector<std::vector<std::uint8_t>> frames;
    for (int f = 0; f < 3; ++f) {
        const CArmParameters p = baseView(10.0 * f, 0);
        views.emplace_back(p);
        frames.push_back(ramp(p, f));
    }
    const std::string path = (dir.path() / "cine.dcm").string();
    writeXaImage(path, views, frames);
    const std::string report = (dir.path() / "report.txt").string();
    std::system(("dciodvfy '" + path + "' > '" + report + "' 2>&1").c_str());
    std::ifstream in(report);
    std::string line, errors;
    while (std::getline(in, line))
        if (line.rfind("Error", 0) == 0)
            errors += line + "\n";
    EXPECT_TRUE(errors.empty()) << errors;
}

namespace {

/// A 3-frame Enhanced XA built by hand: shared detector spacing and distances, per-frame angles
/// and equipment-based isocentre angles (functional groups), 8-bit pixels.
std::string writeEnhancedXa(const std::string& path, int perFrameItems)
{
    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    ds.putAndInsertString(DCM_SOPClassUID, UID_EnhancedXAImageStorage);
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.90.1");
    ds.putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.9.7777.90");
    ds.putAndInsertString(DCM_Modality, "XA");
    ds.putAndInsertString(DCM_PatientPosition, "HFP");
    ds.putAndInsertString(DCM_XRayReceptorType, "DIGITAL_DETECTOR");
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
    ds.putAndInsertUint16(DCM_Rows, 40);
    ds.putAndInsertUint16(DCM_Columns, 50);
    ds.putAndInsertUint16(DCM_BitsAllocated, 8);
    ds.putAndInsertUint16(DCM_BitsStored, 8);
    ds.putAndInsertUint16(DCM_HighBit, 7);
    ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
    ds.putAndInsertString(DCM_NumberOfFrames, "3");
    DcmItem* shared = nullptr;
    ds.findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
    DcmItem* item = nullptr;
    shared->findOrCreateSequenceItem(DCM_FramePixelDataPropertiesSequence, item, 0);
    item->putAndInsertString(DCM_ImagerPixelSpacing, "0.4\\0.5");
    shared->findOrCreateSequenceItem(DCM_XRayGeometrySequence, item, 0);
    item->putAndInsertString(DCM_DistanceSourceToIsocenter, "760");
    item->putAndInsertString(DCM_DistanceSourceToDetector, "1150");
    for (int f = 0; f < perFrameItems; ++f) {
        DcmItem* frame = nullptr;
        ds.findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frame, f);
        frame->findOrCreateSequenceItem(DCM_PositionerPositionSequence, item, 0);
        item->putAndInsertString(DCM_PositionerPrimaryAngle, std::to_string(170 + 5 * f).c_str());
        item->putAndInsertString(DCM_PositionerSecondaryAngle, std::to_string(-3 * f).c_str());
        frame->findOrCreateSequenceItem(DCM_IsocenterReferenceSystemSequence, item, 0);
        item->putAndInsertString(DCM_PositionerIsocenterPrimaryAngle, std::to_string(10 - 5 * f).c_str());
        item->putAndInsertString(DCM_PositionerIsocenterSecondaryAngle, "0");
    }
    std::vector<Uint8> pixels(3 * 40 * 50, 17);
    ds.putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
    EXPECT_TRUE(file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
    return path;
}

} // namespace

TEST(ProjectionImage, EnhancedXaFramesTakeTheirFunctionalGroups)
{
    np::test::TempDir dir;
    const ProjectionImage image = loadProjectionImage(writeEnhancedXa((dir.path() / "exa.dcm").string(), 3));
    EXPECT_TRUE(image.enhanced);
    ASSERT_EQ(image.frameCount, 3);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full)
        << (image.geometry.missing.empty() ? "" : image.geometry.missing[0]);
    ASSERT_TRUE(image.geometry.detectorPixelSpacingMm);
    EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[1], 0.5);
    EXPECT_EQ(image.frame(2)[0], 17.0f);
    for (int f = 0; f < 3; ++f) {
        const auto& frame = image.geometry.frames[f];
        EXPECT_DOUBLE_EQ(*frame.primaryDeg, 170.0 + 5 * f);
        EXPECT_DOUBLE_EQ(*frame.secondaryDeg, -3.0 * f);
        EXPECT_DOUBLE_EQ(*frame.isocenterPrimaryDeg, 10.0 - 5 * f);
        CArmParameters p;
        p.primaryDeg = 170.0 + 5 * f;
        p.secondaryDeg = -3.0 * f;
        p.sourceToDetectorMm = 1150;
        p.sourceToIsocenterMm = 760;
        p.isocenterLps = {1, 2, 3};
        p.columns = 50;
        p.rows = 40;
        p.rowSpacingMm = 0.4;
        p.columnSpacingMm = 0.5;
        EXPECT_LE(worstDifference(CArmGeometry(p), image.frameView(f, p.isocenterLps)), 1e-6);
    }
    // Per-frame groups that do not match the frame count are refused, naming the sequence.
    try {
        loadProjectionImage(writeEnhancedXa((dir.path() / "short.dcm").string(), 2), false);
        FAIL() << "two per-frame items for three frames";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::CorruptData);
        EXPECT_NE(std::string(e.what()).find("PerFrameFunctionalGroupsSequence"), std::string::npos);
    }
}

TEST(ProjectionImage, AHeaderClaimingMorePixelsThanMemoryHoldsIsRefusedBeforeReading)
{
    // 65535 x 65535 pixels in 100000 frames would need 65535 * 65535 * 100000 * 4 bytes (about
    // 1.7 PB) of display values: refused from the header (TooLarge, the file named), never allocated.
    np::test::TempDir dir;
    const CArmParameters p = baseView(0, 0);
    const std::string path = (dir.path() / "huge.dcm").string();
    writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)});
    setAttribute(path, DCM_Rows, "65535");
    setAttribute(path, DCM_Columns, "65535");
    setAttribute(path, DCM_NumberOfFrames, "100000");
    try {
        (void)loadProjectionImage(path);
        FAIL() << "a 1.7 PB projection image was read";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::TooLarge) << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    // The header alone (a listing) is still readable.
    const ProjectionImage header = loadProjectionImage(path, false);
    EXPECT_EQ(header.rows, 65535);
    EXPECT_EQ(header.frameCount, 100000);
    // 2000 x 2000 pixels in 300 frames (4.8 GB of values) is over the 4 GiB default cap as well.
    setAttribute(path, DCM_Rows, "2000");
    setAttribute(path, DCM_Columns, "2000");
    setAttribute(path, DCM_NumberOfFrames, "300");
    try {
        (void)loadProjectionImage(path);
        FAIL() << "a 4.8 GB projection image was read";
    } catch (const np::Error& e) {
        EXPECT_EQ(e.code(), np::ErrorCode::TooLarge) << e.what();
    }
}

namespace {

/// Where `pointLps` lands on the detector of a C-arm, worked out as a pinhole by hand from the
/// conventions of PS3.3 C.8.7.5 and the heads-up display (independent of CArmGeometry): the
/// detector direction v of the patient-based angles, the source SOD before the isocentre along v,
/// the point scaled onto the detector plane SID from the source, its offset along the heads-up
/// right (cos α, sin α, 0) and down (sin α sin β, −cos α sin β, −cos β) axes, then the image turned
/// clockwise as displayed and mirrored, in stored pixels about the centre pixel.
DetectorPixel handProjection(const CArmParameters& p, const Vec3& pointLps)
{
    const double a = p.primaryDeg * M_PI / 180.0, b = p.secondaryDeg * M_PI / 180.0;
    const Vec3 v{std::sin(a) * std::cos(b), -std::cos(a) * std::cos(b), std::sin(b)};
    const Vec3 right{std::cos(a), std::sin(a), 0.0};
    const Vec3 down{std::sin(a) * std::sin(b), -std::cos(a) * std::sin(b), -std::cos(b)};
    const Vec3 source = p.isocenterLps - v * p.sourceToIsocenterMm;
    const Vec3 d = pointLps - source;
    const double scale = p.sourceToDetectorMm / dot(d, v);
    const Vec3 onDetector = d * scale - v * p.sourceToDetectorMm;
    double x = dot(onDetector, right), y = dot(onDetector, down); // mm, heads-up
    for (int turn = 0; turn < (p.imageRotationDeg / 90) % 4; ++turn) {
        const double turnedX = -y, turnedY = x; // 90° clockwise on the screen (rows grow downward)
        x = turnedX;
        y = turnedY;
    }
    if (p.horizontalFlip)
        x = -x;
    return {0.5 * (p.columns - 1) + x / p.columnSpacingMm, 0.5 * (p.rows - 1) + y / p.rowSpacingMm};
}

/// Largest distance, in pixels, between the hand pinhole and a loaded view on 20 random points
/// within 70 mm of the isocentre.
double worstAgainstHand(const CArmParameters& expected, const CArmGeometry& loaded)
{
    std::mt19937 random(29);
    std::uniform_real_distribution<double> offset(-70.0, 70.0);
    double worst = 0.0;
    for (int n = 0; n < 20; ++n) {
        const Vec3 point = expected.isocenterLps + Vec3{offset(random), offset(random), offset(random)};
        const DetectorPixel u = handProjection(expected, point), v = loaded.project(point);
        worst = std::max(worst, std::hypot(u.column - v.column, u.row - v.row));
    }
    return worst;
}

std::string readText(const std::string& path, const DcmTagKey& tag)
{
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad())
        return "<unreadable>";
    OFString value;
    file.getDataset()->findAndGetOFStringArray(tag, value);
    return value.c_str();
}

/// Lines of dciodvfy's report on `path` that start with "Error".
std::string dciodvfyErrors(const std::string& path, const std::string& reportPath, int* warnings = nullptr)
{
    std::system(("dciodvfy '" + path + "' > '" + reportPath + "' 2>&1").c_str());
    std::ifstream in(reportPath);
    std::string line, errors;
    int warningCount = 0;
    while (std::getline(in, line)) {
        if (line.rfind("Error", 0) == 0)
            errors += line + "\n";
        if (line.rfind("Warning", 0) == 0)
            ++warningCount;
    }
    if (warnings)
        *warnings = warningCount;
    return errors;
}

} // namespace

TEST(ProjectionImage, DicomKindParsesItsTwoNames)
{
    EXPECT_EQ(parseXaDicomKind("xa"), XaDicomKind::Xa);
    EXPECT_EQ(parseXaDicomKind("Enhanced-XA"), XaDicomKind::EnhancedXa);
    EXPECT_FALSE(parseXaDicomKind("enhanced"));
    EXPECT_FALSE(parseXaDicomKind(""));
    EXPECT_STREQ(toString(XaDicomKind::EnhancedXa), "enhanced-xa");
}

TEST(ProjectionImage, EnhancedXaLoadsBackOnTheHandPinholeForSupineProneFlippedAndRotated)
{
    np::test::TempDir dir;
    struct Case
    {
        const char* name;
        double primary, secondary;
        std::string position;
        int rotation;
        bool flip;
    };
    const Case cases[] = {{"supine AP", 0, 0, "HFS", 0, false},
                          {"supine lateral cranial", 90, 20, "HFS", 0, false},
                          {"prone PA cranial", 180, 12, "HFP", 0, false},
                          {"prone oblique, flipped", -155, -8, "HFP", 0, true},
                          {"rotated 90", 30, 20, "FFS", 90, false},
                          {"rotated 180", -60, -25, "HFP", 180, false},
                          {"rotated 270, flipped", -75, 35, "HFS", 270, true}};
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        CArmParameters p = baseView(c.primary, c.secondary);
        p.patientPosition = c.position;
        p.imageRotationDeg = c.rotation;
        p.horizontalFlip = c.flip;
        const std::string path = (dir.path() / "view.dcm").string();
        XaWriteOptions options;
        options.kind = XaDicomKind::EnhancedXa;
        writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)}, options);
        EXPECT_EQ(readText(path, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.12.1.1");
        const ProjectionImage image = loadProjectionImage(path);
        EXPECT_TRUE(image.enhanced);
        EXPECT_EQ(image.modality, "XA");
        ASSERT_EQ(image.frameCount, 1);
        EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full)
            << (image.geometry.missing.empty() ? "" : image.geometry.missing[0]);
        EXPECT_EQ(image.geometry.patientPosition, c.position);
        EXPECT_EQ(image.geometry.fieldOfViewRotationDeg, (360 - c.rotation) % 360);
        EXPECT_EQ(image.geometry.horizontalFlip, c.flip);
        ASSERT_TRUE(image.geometry.detectorPixelSpacingMm);
        EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[0], 0.59);
        EXPECT_DOUBLE_EQ((*image.geometry.detectorPixelSpacingMm)[1], 0.61);
        EXPECT_NEAR(*image.geometry.sourceToDetectorMm, 1100.0, 1e-9);
        EXPECT_NEAR(*image.geometry.sourceToIsocenterMm, 780.0, 1e-3); // FL
        EXPECT_LE(worstAgainstHand(p, image.frameView(0, p.isocenterLps)), 0.1);
        // Nothing of the orientation check second-guesses the written image.
        for (const auto& w : image.warnings)
            EXPECT_EQ(w.find("PatientOrientation"), std::string::npos) << w;
        const auto expected = ramp(p, 0);
        for (std::size_t n = 0; n < expected.size(); n += 97)
            ASSERT_EQ(image.pixels[n], expected[n]);
    }
    // The AP view of a supine patient, by hand: the patient's left to the image's right, feet down.
    CArmParameters ap = baseView(0, 0);
    const std::string path = (dir.path() / "ap.dcm").string();
    XaWriteOptions options;
    options.kind = XaDicomKind::EnhancedXa;
    writeXaImage(path, {CArmGeometry(ap)}, {ramp(ap, 0)}, options);
    EXPECT_EQ(loadProjectionImage(path, false).geometry.patientOrientation, "L\\F");
}

TEST(ProjectionImage, EnhancedXaSweepKeepsEachFramesAngles)
{
    np::test::TempDir dir;
    std::vector<CArmGeometry> views;
    std::vector<CArmParameters> parameters;
    std::vector<std::vector<std::uint8_t>> frames;
    for (int f = 0; f < 7; ++f) {
        // Uneven steps in both angles, through ±180 (a prone patient seen from behind).
        CArmParameters p = baseView(std::remainder(150.0 + 11.0 * f + 0.5 * f * f, 360.0), 8.0 - 3.5 * f);
        p.patientPosition = "HFP";
        p.horizontalFlip = true;
        p.imageRotationDeg = 90;
        parameters.push_back(p);
        views.emplace_back(p);
        frames.push_back(ramp(p, f));
    }
    const std::string path = (dir.path() / "sweep.dcm").string();
    XaWriteOptions options;
    options.kind = XaDicomKind::EnhancedXa;
    options.frameTimeMs = 40.0;
    writeXaImage(path, views, frames, options);
    const ProjectionImage image = loadProjectionImage(path);
    EXPECT_TRUE(image.enhanced);
    ASSERT_EQ(image.frameCount, 7);
    EXPECT_EQ(image.geometry.confidence, GeometryConfidence::Full);
    EXPECT_NEAR(image.frameTimeMs, 40.0, 1e-9);
    for (int f = 0; f < 7; ++f) {
        SCOPED_TRACE(f);
        EXPECT_NEAR(*image.geometry.frames[f].primaryDeg, parameters[f].primaryDeg, 1e-9);
        EXPECT_NEAR(*image.geometry.frames[f].secondaryDeg, parameters[f].secondaryDeg, 1e-9);
        EXPECT_LE(worstAgainstHand(parameters[f], image.frameView(f, parameters[f].isocenterLps)), 0.1);
        EXPECT_EQ(image.frame(f)[11], frames[f][11]);
    }
}

TEST(ProjectionImage, WrittenEnhancedXaPassesDciodvfy)
{
    if (std::system("command -v dciodvfy > /dev/null 2>&1") != 0)
        GTEST_SKIP() << "dciodvfy (dicom3tools) is not installed";
    np::test::TempDir dir;
    XaWriteOptions options;
    options.kind = XaDicomKind::EnhancedXa;
    options.frameOfReferenceUid = "1.2.826.0.1.3680043.9.7777.91";
    const CArmParameters single = baseView(25, -10);
    const std::string one = (dir.path() / "single.dcm").string();
    writeXaImage(one, {CArmGeometry(single)}, {ramp(single, 0)}, options);
    int warnings = 0;
    EXPECT_EQ(dciodvfyErrors(one, (dir.path() / "single.txt").string(), &warnings), "");
    std::vector<CArmGeometry> views;
    std::vector<std::vector<std::uint8_t>> frames;
    for (int f = 0; f < 4; ++f) {
        CArmParameters p = baseView(-30.0 + 20.0 * f, 5.0 * f);
        p.patientPosition = "HFP";
        views.emplace_back(p);
        frames.push_back(ramp(p, f));
    }
    const std::string several = (dir.path() / "sweep.dcm").string();
    writeXaImage(several, views, frames, options);
    EXPECT_EQ(dciodvfyErrors(several, (dir.path() / "sweep.txt").string(), &warnings), "");
}

TEST(ProjectionImage, WrittenXaAndEnhancedXaCarryTheCtPatientAndStudyInANewSeries)
{
    np::test::TempDir dir;
    // A CT slice with a full patient and study, written by DCMTK here.
    const std::string ctPath = (dir.path() / "ct.dcm").string();
    {
        DcmFileFormat file;
        DcmDataset& ds = *file.getDataset();
        ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
        ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.9.7777.92.1.1");
        ds.putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.9.7777.92.1");
        ds.putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.9.7777.92");
        ds.putAndInsertString(DCM_Modality, "CT");
        ds.putAndInsertString(DCM_PatientName, "Test^Lumbar^Ann");
        ds.putAndInsertString(DCM_PatientID, "NP-4711");
        ds.putAndInsertString(DCM_PatientBirthDate, "19610229");
        ds.putAndInsertString(DCM_PatientSex, "F");
        ds.putAndInsertString(DCM_StudyID, "S42");
        ds.putAndInsertString(DCM_AccessionNumber, "ACC-991");
        ds.putAndInsertString(DCM_StudyDate, "20240117");
        ds.putAndInsertString(DCM_StudyTime, "081530");
        ds.putAndInsertString(DCM_ReferringPhysicianName, "Doe^John");
        ASSERT_TRUE(file.saveFile(ctPath.c_str(), EXS_LittleEndianExplicit).good());
    }
    const CArmParameters p = baseView(10, 5);
    for (XaDicomKind kind : {XaDicomKind::Xa, XaDicomKind::EnhancedXa}) {
        SCOPED_TRACE(toString(kind));
        const std::string path = (dir.path() / "drr.dcm").string();
        XaWriteOptions options;
        options.kind = kind;
        options.sourceDicomFile = ctPath;
        EXPECT_TRUE(writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)}, options).empty());
        for (const DcmTagKey& tag :
             {DCM_PatientName, DCM_PatientID, DCM_PatientBirthDate, DCM_PatientSex, DCM_StudyInstanceUID,
              DCM_StudyID, DCM_AccessionNumber, DCM_StudyDate, DCM_StudyTime, DCM_ReferringPhysicianName})
            EXPECT_EQ(readText(path, tag), readText(ctPath, tag)) << DcmTag(tag).getTagName();
        EXPECT_EQ(readText(path, DCM_PatientName), "Test^Lumbar^Ann");
        const std::string series = readText(path, DCM_SeriesInstanceUID);
        EXPECT_FALSE(series.empty());
        EXPECT_NE(series, readText(ctPath, DCM_SeriesInstanceUID));
    }
    // An unreadable source file: a warning naming it, and the DRR in a study of its own.
    const std::string path = (dir.path() / "alone.dcm").string();
    XaWriteOptions options;
    options.sourceDicomFile = (dir.path() / "absent.dcm").string();
    const auto warnings = writeXaImage(path, {CArmGeometry(p)}, {ramp(p, 0)}, options);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("absent.dcm"), std::string::npos);
    EXPECT_NE(readText(path, DCM_StudyInstanceUID), "1.2.826.0.1.3680043.9.7777.92");
    EXPECT_EQ(readText(path, DCM_PatientID), "DRR");
}
