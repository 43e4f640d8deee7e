// Label-map files: .seg.nrrd write -> read, hand-written NRRD headers, malformed files.

#include <gtest/gtest.h>

#include <itkImage.h>
#include <itkImageFileWriter.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"

namespace {

using np::imaging::Geometry;
using np::imaging::LabelMap;
using np::imaging::readLabelMap;
using np::imaging::Segment;
using np::imaging::writeSegNrrd;

np::ErrorCode codeOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const np::Error& e) {
        return e.code();
    }
    ADD_FAILURE() << "expected np::Error";
    return np::ErrorCode::Internal;
}

std::string messageOf(const std::function<void()>& f)
{
    try {
        f();
    } catch (const np::Error& e) {
        return e.what();
    }
    return {};
}

Geometry obliqueAnisotropic()
{
    Geometry g;
    g.size = {6, 5, 4};
    g.spacing = {0.8, 1.1, 2.5};
    g.originLps = {-12.25, 40.5, 3.125};
    // Columns (2,2,1)/3, (-2,1,2)/3, (1,-2,2)/3: exact orthonormal.
    g.directionLps = np::Mat3::fromColumns({2.0 / 3, 2.0 / 3, 1.0 / 3}, {-2.0 / 3, 1.0 / 3, 2.0 / 3},
                                           {1.0 / 3, -2.0 / 3, 2.0 / 3});
    return g;
}

void writeText(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
}

std::string headerOf(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string line, header;
    while (std::getline(in, line) && !line.empty())
        header += line + "\n";
    return header;
}

TEST(LabelMapIO, MissingFileIsNotFound)
{
    EXPECT_EQ(codeOf([] { readLabelMap("/nonexistent/np/labels.seg.nrrd"); }), np::ErrorCode::NotFound);
}

TEST(LabelMapIO, GarbageFileIsAnErrorNamingTheFile)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "garbage.nrrd";
    writeText(path, "this is not an image\n");
    const std::string message = messageOf([&] { readLabelMap(path.string()); });
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
}

TEST(LabelMapIO, TruncatedDataIsCorrupt)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "short.nrrd";
    writeText(path, "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 4 4\nencoding: raw\n\nabc");
    EXPECT_EQ(codeOf([&] { readLabelMap(path.string()); }), np::ErrorCode::CorruptData);
}

TEST(LabelMapIO, MalformedSegmentKeysAreCorrupt)
{
    np::test::TempDir dir;
    const std::string base = "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 1 1\nencoding: raw\n"
                             "space: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
                             "space origin: (0,0,0)\n";
    const std::string cases[] = {
        "Segment0_Name:=a\nSegment0_LabelValue:=abc\n",
        "Segment0_Name:=a\nSegment0_LabelValue:=1\nSegment0_Color:=0.5 0.5\n",
        "Segment0_Name:=a\nSegment0_LabelValue:=70000\n",
        "Segment0_Name:=a\nSegment0_LabelValue:=1\nSegment1_Name:=b\nSegment1_LabelValue:=1\n",
        "Segment0_Name:=a\nSegment0_LabelValue:=1\nSegment0_Layer:=2\n",
    };
    int n = 0;
    for (const auto& keys : cases) {
        const auto path = dir.path() / ("bad" + std::to_string(n++) + ".seg.nrrd");
        writeText(path, base + keys + "\n" + std::string("\x01\x00", 2));
        EXPECT_EQ(codeOf([&] { readLabelMap(path.string()); }), np::ErrorCode::CorruptData) << keys;
        EXPECT_NE(messageOf([&] { readLabelMap(path.string()); }).find(path.string()), std::string::npos);
    }
}

TEST(LabelMapIO, NonIntegerValuesAreNotLabels)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "float.nrrd";
    writeText(path, "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 1 1\nencoding: text\n\n1.5 2\n");
    EXPECT_EQ(codeOf([&] { readLabelMap(path.string()); }), np::ErrorCode::CorruptData);
}

TEST(LabelMapIO, SeveralLayersAreUnsupported)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "layers.seg.nrrd";
    writeText(path, "NRRD0004\ntype: uint8\ndimension: 4\nsizes: 2 2 1 1\nkinds: list domain domain domain\n"
                    "encoding: text\nspace: left-posterior-superior\n"
                    "space directions: none (1,0,0) (0,1,0) (0,0,1)\nspace origin: (0,0,0)\n\n1 0 0 1\n");
    EXPECT_EQ(codeOf([&] { readLabelMap(path.string()); }), np::ErrorCode::Unsupported);
}

TEST(LabelMapIO, WriteRejectsZeroAndDuplicateLabelValues)
{
    np::test::TempDir dir;
    Geometry g;
    g.size = {2, 2, 2};
    LabelMap labels(g);
    labels.segments() = {Segment{"a", 0, {1, 0, 0}}};
    EXPECT_EQ(codeOf([&] { writeSegNrrd(labels, (dir.path() / "x.seg.nrrd").string()); }),
              np::ErrorCode::InvalidArgument);
    labels.segments() = {Segment{"a", 1, {1, 0, 0}}, Segment{"b", 1, {0, 1, 0}}};
    EXPECT_EQ(codeOf([&] { writeSegNrrd(labels, (dir.path() / "x.seg.nrrd").string()); }),
              np::ErrorCode::InvalidArgument);
    EXPECT_THROW(writeSegNrrd(LabelMap{}, (dir.path() / "y.seg.nrrd").string()), np::Error);
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

void expectRoundTrip(const LabelMap& labels, const std::filesystem::path& path)
{
    writeSegNrrd(labels, path.string());
    const LabelMap back = readLabelMap(path.string());
    const Geometry& a = labels.geometry();
    const Geometry& b = back.geometry();
    EXPECT_EQ(a.size, b.size);
    for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(a.spacing[c], b.spacing[c], 1e-12);
        EXPECT_NEAR(a.originLps[c], b.originLps[c], 1e-12);
        for (int r = 0; r < 3; ++r)
            EXPECT_NEAR(a.directionLps(r, c), b.directionLps(r, c), 1e-12);
    }
    EXPECT_EQ(labels.labels(), back.labels());
    ASSERT_EQ(labels.segments().size(), back.segments().size());
    for (std::size_t n = 0; n < labels.segments().size(); ++n) {
        EXPECT_EQ(labels.segments()[n].name, back.segments()[n].name);
        EXPECT_EQ(labels.segments()[n].labelValue, back.segments()[n].labelValue);
        EXPECT_EQ(labels.segments()[n].colorRgb, back.segments()[n].colorRgb);
    }
}

TEST(LabelMapIO, SegNrrdRoundTripObliqueAnisotropicUint16)
{
    np::test::TempDir dir;
    LabelMap labels(obliqueAnisotropic());
    labels.segments() = {Segment{"nerve_root_L4_left", 300, {0.1, 0.2, 0.3}},
                         Segment{"vertebra L4 (body)", 2, {1.0, 0.984313725490196, 0.0}},
                         Segment{"empty_structure", 7, {0.0, 0.0, 1.0}}};
    labels.at(1, 2, 3) = 300;
    labels.at(2, 2, 3) = 300;
    labels.at(0, 0, 0) = 2;
    labels.at(5, 4, 1) = 2;
    const auto path = dir.path() / "structures.seg.nrrd";
    expectRoundTrip(labels, path);

    const std::string header = headerOf(path);
    EXPECT_NE(header.find("type: unsigned short"), std::string::npos) << header;
    EXPECT_NE(header.find("space: left-posterior-superior"), std::string::npos);
    EXPECT_NE(header.find("Segmentation_MasterRepresentation:=Binary labelmap"), std::string::npos);
    EXPECT_NE(header.find("Segment0_Name:=nerve_root_L4_left"), std::string::npos);
    EXPECT_NE(header.find("Segment0_LabelValue:=300"), std::string::npos);
    EXPECT_NE(header.find("Segment0_Layer:=0"), std::string::npos);
    // Extent of label 300: i 1..2, j 2..2, k 3..3; label 2: i 0..5, j 0..4, k 0..1; 7 is empty.
    EXPECT_NE(header.find("Segment0_Extent:=1 2 2 2 3 3"), std::string::npos);
    EXPECT_NE(header.find("Segment1_Extent:=0 5 0 4 0 1"), std::string::npos);
    EXPECT_NE(header.find("Segment2_Extent:=0 -1 0 -1 0 -1"), std::string::npos);
    EXPECT_NE(header.find("Segment0_Color:=0.1 0.2 0.3"), std::string::npos);
    // Only the final file remains in the folder.
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        files += entry.is_regular_file() ? 1 : 0;
    EXPECT_EQ(files, 1);
}

TEST(LabelMapIO, SegNrrdRoundTripUint8WithProneDirection)
{
    np::test::TempDir dir;
    Geometry g;
    g.size = {7, 3, 2};
    g.spacing = {0.8, 0.8, 1.0};
    g.originLps = {100.0, 50.0, -30.0};
    g.directionLps = np::Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1});
    LabelMap labels(g);
    labels.segments() = {Segment{"bone", 1, {0.9, 0.9, 0.8}}, Segment{"dura", 255, {0.2, 0.6, 1.0}}};
    for (std::int64_t i = 0; i < 7; ++i)
        labels.at(i, 1, 1) = static_cast<std::uint16_t>(i % 2 ? 255 : 1);
    const auto path = dir.path() / "prone.seg.nrrd";
    expectRoundTrip(labels, path);
    EXPECT_NE(headerOf(path).find("type: unsigned char"), std::string::npos);
}

TEST(LabelMapIO, PlainLabelNrrdInRasSpaceBecomesLpsWithNamedLabels)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "plain.nrrd";
    // RAS origin (10, 20, 30) is LPS (-10, -20, 30); RAS axis (0.5, 0, 0) is LPS (-0.5, 0, 0).
    writeText(path, "NRRD0004\ntype: short\ndimension: 3\nsizes: 3 2 1\nencoding: text\n"
                    "space: right-anterior-superior\n"
                    "space directions: (0.5,0,0) (0,0,2) (0,-3,0)\nspace origin: (10,20,30)\n\n"
                    "0 3 3 7 0 0\n");
    const LabelMap labels = readLabelMap(path.string());
    const Geometry& g = labels.geometry();
    EXPECT_EQ(g.size, (np::imaging::Size3{3, 2, 1}));
    EXPECT_NEAR(g.originLps.x, -10.0, 1e-12);
    EXPECT_NEAR(g.originLps.y, -20.0, 1e-12);
    EXPECT_NEAR(g.originLps.z, 30.0, 1e-12);
    EXPECT_NEAR(g.spacing.x, 0.5, 1e-12);
    EXPECT_NEAR(g.spacing.y, 2.0, 1e-12);
    EXPECT_NEAR(g.spacing.z, 3.0, 1e-12);
    // Axis j runs RAS +S = LPS +z; axis k runs RAS -A = LPS +y.
    const np::Vec3 i = g.directionLps.column(0), j = g.directionLps.column(1), k = g.directionLps.column(2);
    EXPECT_NEAR(i.x, -1.0, 1e-12);
    EXPECT_NEAR(j.z, 1.0, 1e-12);
    EXPECT_NEAR(k.y, 1.0, 1e-12);
    EXPECT_EQ(labels.at(1, 0, 0), 3);
    EXPECT_EQ(labels.at(0, 1, 0), 7);
    ASSERT_EQ(labels.segments().size(), 2u);
    EXPECT_EQ(labels.segments()[0].name, "label_3");
    EXPECT_EQ(labels.segments()[0].labelValue, 3);
    EXPECT_EQ(labels.segments()[1].name, "label_7");
    ASSERT_NE(labels.findSegment("label_7"), nullptr);
}

TEST(LabelMapIO, UnclaimedValuesInASegNrrdAreAdded)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "partial.seg.nrrd";
    writeText(path, "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 3 1 1\nencoding: text\n"
                    "space: left-posterior-superior\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
                    "space origin: (0,0,0)\nSegment0_ID:=Segment_1\nSegment0_Name:=kidney_left\n"
                    "Segment0_LabelValue:=4\nSegment0_Color:=1 0 0.5\n\n4 9 0\n");
    const LabelMap labels = readLabelMap(path.string());
    ASSERT_EQ(labels.segments().size(), 2u);
    EXPECT_EQ(labels.segments()[0].name, "kidney_left");
    EXPECT_EQ(labels.segments()[0].colorRgb, (std::array<double, 3>{1.0, 0.0, 0.5}));
    EXPECT_EQ(labels.segments()[1].name, "label_9");
}

TEST(LabelMapIO, MetaImageAndNiftiLoadAsPlainLabels)
{
    np::test::TempDir dir;
    Geometry g;
    g.size = {4, 3, 2};
    g.spacing = {0.5, 0.75, 2.0};
    g.originLps = {1, 2, 3};
    LabelMap labels(g);
    labels.segments() = {Segment{"a", 5, {1, 0, 0}}};
    labels.at(3, 2, 1) = 5;
    // Write as .seg.nrrd, then re-read as a plain MetaImage written by hand from the same bytes.
    const auto mha = dir.path() / "plain.mha";
    {
        std::ofstream out(mha, std::ios::binary);
        out << "ObjectType = Image\nNDims = 3\nDimSize = 4 3 2\nElementSpacing = 0.5 0.75 2\n"
               "Offset = 1 2 3\nTransformMatrix = 1 0 0 0 1 0 0 0 1\nElementType = MET_UCHAR\n"
               "ElementDataFile = LOCAL\n";
        for (auto v : labels.labels())
            out.put(static_cast<char>(v));
    }
    const LabelMap back = readLabelMap(mha.string());
    EXPECT_EQ(back.labels(), labels.labels());
    ASSERT_EQ(back.segments().size(), 1u);
    EXPECT_EQ(back.segments()[0].name, "label_5");
    EXPECT_NEAR(back.geometry().spacing.y, 0.75, 1e-12);
    EXPECT_NEAR(back.geometry().originLps.z, 3.0, 1e-12);
}

TEST(LabelMapIO, NiftiLabelsLoadInLpsWithNamedLabels)
{
    np::test::TempDir dir;
    using Image = itk::Image<std::int16_t, 3>;
    auto image = Image::New();
    Image::RegionType region;
    region.SetSize({{3, 2, 2}});
    image->SetRegions(region);
    Image::SpacingType spacing;
    spacing[0] = 0.7;
    spacing[1] = 1.2;
    spacing[2] = 2.5;
    image->SetSpacing(spacing);
    Image::PointType origin;
    origin[0] = -5.0;
    origin[1] = 7.0;
    origin[2] = 11.0;
    image->SetOrigin(origin);
    // A prone-style axial direction in LPS: columns (-1,0,0), (0,-1,0), (0,0,1).
    Image::DirectionType direction;
    direction.SetIdentity();
    direction(0, 0) = -1.0;
    direction(1, 1) = -1.0;
    image->SetDirection(direction);
    image->Allocate();
    image->FillBuffer(0);
    image->SetPixel({{2, 1, 1}}, 12);
    image->SetPixel({{0, 0, 1}}, 4);
    const auto path = dir.path() / "labels.nii.gz";
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(image);
    writer->SetFileName(path.string());
    writer->Update();

    const LabelMap labels = readLabelMap(path.string());
    const Geometry& g = labels.geometry();
    EXPECT_EQ(g.size, (np::imaging::Size3{3, 2, 2}));
    EXPECT_NEAR(g.spacing.x, 0.7, 1e-6);
    EXPECT_NEAR(g.spacing.z, 2.5, 1e-6);
    EXPECT_NEAR(g.originLps.x, -5.0, 1e-5);
    EXPECT_NEAR(g.originLps.y, 7.0, 1e-5);
    EXPECT_NEAR(g.directionLps(0, 0), -1.0, 1e-6);
    EXPECT_NEAR(g.directionLps(1, 1), -1.0, 1e-6);
    EXPECT_EQ(labels.at(2, 1, 1), 12);
    EXPECT_EQ(labels.at(0, 0, 1), 4);
    ASSERT_EQ(labels.segments().size(), 2u);
    EXPECT_EQ(labels.segments()[0].name, "label_4");
    EXPECT_EQ(labels.segments()[1].name, "label_12");
}

TEST(LabelMapIO, NegativeLabelValuesAreRejected)
{
    np::test::TempDir dir;
    const auto path = dir.path() / "negative.nrrd";
    writeText(path, "NRRD0004\ntype: short\ndimension: 3\nsizes: 2 1 1\nencoding: text\n\n-3 1\n");
    EXPECT_EQ(codeOf([&] { readLabelMap(path.string()); }), np::ErrorCode::CorruptData);
}

} // namespace
