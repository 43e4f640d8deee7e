// TotalSegmentator output (a folder of masks, a multilabel NIfTI with its label table in a header
// extension) imported onto an oblique, anisotropic CT grid. The NIfTI files are written by ITK in
// the test; the label-table extension is inserted by hand, byte by byte, as NIfTI-1 defines it.

#include "needleplan/imaging/TotalSegmentatorImport.h"

#include "TestSupport.h"
#include "needleplan/imaging/Error.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <zlib.h>

using namespace np;
using namespace np::imaging;
namespace fs = std::filesystem;

namespace {

Geometry ctGrid()
{
    Geometry g;
    g.size = {40, 36, 20};
    g.spacing = {1.0, 0.8, 2.0};
    const double a = 20.0 * 3.14159265358979323846 / 180.0; // oblique in-plane
    g.directionLps = Mat3{{std::cos(a), -std::sin(a), 0.0, std::sin(a), std::cos(a), 0.0, 0.0, 0.0, 1.0}};
    g.originLps = {-20.0, -15.0, -18.0};
    return g;
}

Volume ct()
{
    return Volume(ctGrid(), 0.0f);
}

/// Writes a uint8 NIfTI on `g` whose voxel value is value(centre LPS).
void writeNifti(const fs::path& path, const Geometry& g, const std::function<int(const Vec3&)>& value)
{
    using Image = itk::Image<std::uint8_t, 3>;
    auto image = Image::New();
    Image::RegionType region;
    region.SetSize({{static_cast<itk::SizeValueType>(g.size[0]), static_cast<itk::SizeValueType>(g.size[1]),
                     static_cast<itk::SizeValueType>(g.size[2])}});
    image->SetRegions(region);
    Image::SpacingType spacing;
    Image::PointType origin;
    Image::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        spacing[a] = g.spacing[a];
        origin[a] = g.originLps[a];
        for (unsigned b = 0; b < 3; ++b)
            direction(a, b) = g.directionLps(a, b);
    }
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->Allocate();
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                image->SetPixel({{i, j, k}}, static_cast<std::uint8_t>(
                                                 value(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}))));
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(image);
    writer->SetFileName(path.string());
    writer->Update();
}

std::function<int(const Vec3&)> ball(const Vec3& centre, double radius, int value = 1)
{
    return [=](const Vec3& p) { return distance(p, centre) <= radius ? value : 0; };
}

/// CT voxel centres inside the ball (the expected count when the mask is on the CT grid).
std::int64_t ctVoxelsIn(const Vec3& centre, double radius)
{
    const Geometry g = ctGrid();
    std::int64_t count = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                count += distance(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}), centre) <= radius;
    return count;
}

std::int64_t countOf(const LabelMap& labels, const std::string& name)
{
    const Segment* segment = labels.findSegment(name);
    if (!segment)
        return -1;
    std::int64_t count = 0;
    for (const std::uint16_t v : labels.labels())
        count += v == segment->labelValue;
    return count;
}

std::string readBytes(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Inserts a NIfTI-1 header extension (code 0, TotalSegmentator's Caret XML label table) into an
/// uncompressed single-file NIfTI, then writes it to `out` (gzip when the name ends in .gz).
void addExtension(const fs::path& nii, const fs::path& out, const std::string& payload,
                  std::int32_t declaredSize = 0)
{
    std::string bytes = readBytes(nii);
    ASSERT_GE(bytes.size(), 352u);
    std::int32_t headerSize = 0;
    std::memcpy(&headerSize, bytes.data(), 4);
    ASSERT_EQ(headerSize, 348); // little-endian NIfTI-1, as ITK writes it here
    float voxOffset = 0.0f;
    std::memcpy(&voxOffset, bytes.data() + 108, 4);
    const std::string data = bytes.substr(static_cast<std::size_t>(voxOffset));
    std::string extension = payload;
    while ((extension.size() + 8) % 16 != 0)
        extension.push_back('\0');
    const std::int32_t size = declaredSize ? declaredSize : static_cast<std::int32_t>(extension.size() + 8);
    const std::int32_t code = 0;
    std::string header = bytes.substr(0, 348);
    const float newOffset = static_cast<float>(352 + extension.size() + 8);
    std::memcpy(header.data() + 108, &newOffset, 4);
    std::string file = header + std::string("\1\0\0\0", 4);
    file.append(reinterpret_cast<const char*>(&size), 4);
    file.append(reinterpret_cast<const char*>(&code), 4);
    file += extension + data;
    if (out.extension() == ".gz") {
        gzFile gz = gzopen(out.string().c_str(), "wb");
        ASSERT_NE(gz, nullptr);
        gzwrite(gz, file.data(), static_cast<unsigned>(file.size()));
        gzclose(gz);
    } else {
        std::ofstream(out, std::ios::binary) << file;
    }
}

std::string caretTable(const std::vector<std::pair<int, std::string>>& labels)
{
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?> <CaretExtension>  <VolumeInformation "
                      "Index=\"0\">   <LabelTable>\n";
    for (const auto& [key, name] : labels)
        xml += "<Label Key=\"" + std::to_string(key) +
               "\" Red=\"1\" Green=\"0\" Blue=\"0\" Alpha=\"1\"><![CDATA[" + name + "]]></Label>\n";
    return xml + "  </LabelTable> </VolumeInformation></CaretExtension>\n";
}

bool anyContains(const std::vector<std::string>& texts, const std::string& part)
{
    for (const auto& t : texts)
        if (t.find(part) != std::string::npos)
            return true;
    return false;
}

} // namespace

TEST(TotalSegmentatorImport, RejectsEmptyFoldersUnreadableMasksAndOtherFiles)
{
    test::TempDir dir;
    const Volume reference = ct();
    EXPECT_FALSE(isTotalSegmentatorFolder(dir.path().string()));
    try {
        importTotalSegmentator(dir.path().string(), reference);
        FAIL() << "an empty folder must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::NotFound);
    }
    fs::create_directories(dir.path() / "segmentations");
    std::ofstream(dir.path() / "segmentations" / "liver.nii.gz") << "not a NIfTI at all";
    try {
        importTotalSegmentator(dir.path().string(), reference);
        FAIL() << "a broken mask must be refused";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("liver.nii.gz"), std::string::npos) << e.what();
    }
    std::ofstream(dir.path() / "notes.txt") << "x";
    EXPECT_THROW(importTotalSegmentator((dir.path() / "notes.txt").string(), reference), Error);
    EXPECT_THROW(readNiftiLabelTable((dir.path() / "missing.nii").string()), Error);
    std::ofstream(dir.path() / "tiny.nii") << "short";
    EXPECT_THROW(readNiftiLabelTable((dir.path() / "tiny.nii").string()), Error);
}

TEST(TotalSegmentatorImport, FolderOfMasksOnTheCtGrid)
{
    test::TempDir dir;
    const fs::path masks = dir.path() / "segmentations";
    fs::create_directories(masks);
    const Geometry g = ctGrid();
    const Vec3 aortaCentre = g.lpsFromIjk({10, 12, 8}), veinCentre = g.lpsFromIjk({28, 20, 10}),
               boneCentre = g.lpsFromIjk({20, 8, 12});
    writeNifti(masks / "aorta.nii.gz", g, ball(aortaCentre, 4.0));
    writeNifti(masks / "iliac_vena_left.nii.gz", g, ball(veinCentre, 5.0));
    writeNifti(masks / "vertebrae_L4.nii.gz", g, ball(boneCentre, 6.0));
    writeNifti(masks / "brain.nii.gz", g, [](const Vec3&) { return 0; });
    const Volume reference = ct();
    for (const fs::path& given : {dir.path(), masks}) {
        EXPECT_TRUE(isTotalSegmentatorFolder(given.string()));
        std::vector<std::string> warnings;
        const LabelMap labels = importTotalSegmentator(given.string(), reference, {}, &warnings);
        ASSERT_EQ(labels.segments().size(), 3u);
        EXPECT_EQ(countOf(labels, "aorta"), ctVoxelsIn(aortaCentre, 4.0));
        EXPECT_EQ(countOf(labels, "iliac_vena_left"), ctVoxelsIn(veinCentre, 5.0));
        EXPECT_EQ(countOf(labels, "vertebrae_L4"), ctVoxelsIn(boneCentre, 6.0));
        EXPECT_EQ(countOf(labels, "brain"), -1); // empty: skipped, with a note
        EXPECT_TRUE(anyContains(warnings, "brain")) << "no note about the empty mask";
        EXPECT_FALSE(anyContains(warnings, "resampled"));
    }
}

TEST(TotalSegmentatorImport, MaskOnAnotherGridIsResampledByPosition)
{
    test::TempDir dir;
    Geometry fine;
    fine.size = {60, 60, 60};
    fine.spacing = {0.5, 0.5, 0.5};
    fine.originLps = {-20.0, -10.0, -15.0};
    const Vec3 centre{-5.0, 3.0, 0.0};
    writeNifti(dir.path() / "kidney_left.nii.gz", fine, ball(centre, 6.0));
    std::vector<std::string> warnings;
    const LabelMap labels = importTotalSegmentator(dir.path().string(), ct(), {}, &warnings);
    ASSERT_EQ(labels.segments().size(), 1u);
    EXPECT_TRUE(anyContains(warnings, "resampled"));
    const Geometry g = ctGrid();
    // Nearest neighbour on a 0.5 mm source: a CT voxel centre more than the source's half diagonal
    // (0.44 mm) inside the ball is labelled, one that far outside is not.
    int checked = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                const double d = distance(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}), centre) - 6.0;
                if (d < -0.45) {
                    EXPECT_EQ(labels.at(i, j, k), labels.segments()[0].labelValue);
                    ++checked;
                } else if (d > 0.45) {
                    EXPECT_EQ(labels.at(i, j, k), 0);
                }
            }
    EXPECT_GT(checked, 100);
}

TEST(TotalSegmentatorImport, MaskThatMissesTheCtIsAnErrorNamingTheFile)
{
    test::TempDir dir;
    Geometry far = ctGrid();
    far.originLps = {900.0, 900.0, 900.0};
    writeNifti(dir.path() / "colon.nii.gz", far, [](const Vec3&) { return 1; });
    try {
        importTotalSegmentator(dir.path().string(), ct());
        FAIL() << "a mask that misses the CT must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::InconsistentGeometry);
        EXPECT_NE(std::string(e.what()).find("colon.nii.gz"), std::string::npos) << e.what();
    }
}

TEST(TotalSegmentatorImport, MultilabelNiftiNamesFromItsLabelTable)
{
    test::TempDir dir;
    const Geometry g = ctGrid();
    const Vec3 a = g.lpsFromIjk({10, 10, 10}), b = g.lpsFromIjk({30, 20, 10}), c = g.lpsFromIjk({20, 30, 5});
    writeNifti(dir.path() / "plain.nii", g, [&](const Vec3& p) {
        return distance(p, a) <= 4.0 ? 52 : distance(p, b) <= 4.0 ? 67 : distance(p, c) <= 3.0 ? 200 : 0;
    });
    const std::string table =
        caretTable({{52, "aorta"}, {67, "iliac_vena_left"}, {117, "costal_cartilages"}});
    for (const char* name : {"total.nii", "total.nii.gz"}) {
        addExtension(dir.path() / "plain.nii", dir.path() / name, table);
        const auto names = readNiftiLabelTable((dir.path() / name).string());
        ASSERT_EQ(names.size(), 3u) << name;
        EXPECT_EQ(names.at(67), "iliac_vena_left");
        std::vector<std::string> warnings;
        const LabelMap labels = importTotalSegmentator((dir.path() / name).string(), ct(), {}, &warnings);
        EXPECT_EQ(countOf(labels, "aorta"), ctVoxelsIn(a, 4.0)) << name;
        EXPECT_EQ(countOf(labels, "iliac_vena_left"), ctVoxelsIn(b, 4.0)) << name;
        EXPECT_EQ(countOf(labels, "label_200"), ctVoxelsIn(c, 3.0)) << name; // not in the table
        EXPECT_TRUE(anyContains(warnings, "not in the class map")) << name;
    }
}

TEST(TotalSegmentatorImport, MultilabelNiftiWithoutAClassMap)
{
    test::TempDir dir;
    const Geometry g = ctGrid();
    const Vec3 a = g.lpsFromIjk({10, 10, 10}), b = g.lpsFromIjk({30, 20, 10});
    writeNifti(dir.path() / "ml.nii.gz", g, [&](const Vec3& p) {
        return distance(p, a) <= 4.0 ? 5 : distance(p, b) <= 4.0 ? 7 : 0;
    });
    const std::string path = (dir.path() / "ml.nii.gz").string();
    EXPECT_TRUE(readNiftiLabelTable(path).empty());
    std::vector<std::string> warnings;
    LabelMap labels = importTotalSegmentator(path, ct(), {}, &warnings);
    EXPECT_EQ(countOf(labels, "label_5"), ctVoxelsIn(a, 4.0));
    EXPECT_EQ(countOf(labels, "label_7"), ctVoxelsIn(b, 4.0));
    EXPECT_TRUE(anyContains(warnings, "no class map"));
    // A class map from the caller (TotalSegmentator v2 numbering: 5 is the liver).
    TotalSegmentatorImportOptions options;
    options.classMap = {{5, "liver"}, {6, "stomach"}};
    warnings.clear();
    labels = importTotalSegmentator(path, ct(), options, &warnings);
    EXPECT_EQ(countOf(labels, "liver"), ctVoxelsIn(a, 4.0));
    EXPECT_EQ(countOf(labels, "label_7"), ctVoxelsIn(b, 4.0));
    EXPECT_FALSE(anyContains(warnings, "no class map"));
}

TEST(TotalSegmentatorImport, MalformedLabelTableIsIgnoredWithAWarning)
{
    test::TempDir dir;
    const Geometry g = ctGrid();
    const Vec3 a = g.lpsFromIjk({10, 10, 10});
    writeNifti(dir.path() / "plain.nii", g, ball(a, 4.0, 3));
    // The extension claims more bytes than the header holds.
    addExtension(dir.path() / "plain.nii", dir.path() / "bad.nii", caretTable({{3, "aorta"}}), 4000);
    std::vector<std::string> warnings;
    EXPECT_TRUE(readNiftiLabelTable((dir.path() / "bad.nii").string(), &warnings).empty());
    EXPECT_TRUE(anyContains(warnings, "malformed"));
}
