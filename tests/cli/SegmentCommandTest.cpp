// needleplan-cli segment: end to end on a synthetic CT written as NRRD.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <cmath>
#include <gtest/gtest.h>

namespace {

using namespace np::imaging;

// 2 mm voxels, 40 x 40 x 5: a body disc of radius 30 mm (40 HU) holding a bone disc of radius
// 10 mm (700 HU), air (-1000 HU) around. Centred on the grid so both discs are symmetric.
std::string writeCt(const np::test::TempDir& dir)
{
    Geometry g;
    g.size = {40, 40, 5};
    g.spacing = {2.0, 2.0, 2.0};
    g.originLps = {-39.0, -39.0, 0.0};
    Volume ct(g, -1000.0f);
    for (std::int64_t k = 0; k < 5; ++k)
        for (std::int64_t j = 0; j < 40; ++j)
            for (std::int64_t i = 0; i < 40; ++i) {
                const np::Vec3 p = g.lpsFromIjk({double(i), double(j), double(k)});
                const double r = std::hypot(p.x, p.y);
                ct.at(i, j, k) = r <= 10.0 ? 700.0f : (r <= 30.0 ? 40.0f : -1000.0f);
            }
    const std::string path = (dir.path() / "ct.nrrd").string();
    writeVolumeNrrd(ct, path);
    return path;
}

std::int64_t countInside(double radius)
{
    std::int64_t n = 0;
    for (int j = 0; j < 40; ++j)
        for (int i = 0; i < 40; ++i)
            n += std::hypot(-39.0 + 2.0 * i, -39.0 + 2.0 * j) <= radius;
    return n * 5;
}

TEST(SegmentCommand, MissingArgumentsAndBadValuesAreBadInput)
{
    np::test::TempDir dir;
    EXPECT_EQ(np::test::runCli({"segment", "--out", (dir.path() / "s.seg.nrrd").string()}).exitCode, 2);
    EXPECT_EQ(np::test::runCli({"segment", "--image", (dir.path() / "none.nrrd").string(), "--out",
                                (dir.path() / "s.seg.nrrd").string()})
                  .exitCode,
              2);
    const std::string ct = writeCt(dir);
    const auto unknown = np::test::runCli(
        {"segment", "--image", ct, "--out", (dir.path() / "s.seg.nrrd").string(), "--only", "body,liver"});
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_NE(unknown.err.find("liver"), std::string::npos) << unknown.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "s.seg.nrrd"));
}

TEST(SegmentCommand, WritesBodyAndBoneWithCountsAndVolumes)
{
    np::test::TempDir dir;
    const std::string ct = writeCt(dir);
    const std::string out = (dir.path() / "structures.seg.nrrd").string();
    const auto result = np::test::runCli({"segment", "--image", ct, "--out", out, "--only", "body,bone"});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const LabelMap labels = readLabelMap(out);
    ASSERT_NE(labels.findSegment("body"), nullptr);
    ASSERT_NE(labels.findSegment("bone"), nullptr);
    EXPECT_EQ(labels.findSegment("lung"), nullptr);
    std::int64_t body = 0, bone = 0;
    for (const auto v : labels.labels()) {
        body += v == labels.findSegment("body")->labelValue;
        bone += v == labels.findSegment("bone")->labelValue;
    }
    // Bone is drawn over the body in the label map, so the body label holds the ring only.
    EXPECT_EQ(bone, countInside(10.0));
    EXPECT_EQ(body + bone, countInside(30.0));
    // 8 mm^3 voxels: the printed volume in ml is count * 0.008.
    char line[64];
    std::snprintf(line, sizeof line, "%.2f ml", double(bone) * 0.008);
    EXPECT_NE(result.out.find(line), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(std::to_string(bone) + " voxels"), std::string::npos) << result.out;
}

TEST(SegmentCommand, AddsTheSpinalCanalAndLevelNamesAndTakesALevelCorrection)
{
    np::test::TempDir dir;
    const auto generated = np::test::runCli({"phantom", "--out", (dir.path() / "phantom").string(),
                                             "--spacing", "2,2,2", "--size", "120,105,83"});
    ASSERT_EQ(generated.exitCode, 0) << generated.err;
    const std::string image = (dir.path() / "phantom" / "dicom").string();
    const std::string out = (dir.path() / "auto.seg.nrrd").string();
    const auto segmented = np::test::runCli({"segment", "--image", image, "--out", out});
    ASSERT_EQ(segmented.exitCode, 0) << segmented.err;
    const LabelMap labels = readLabelMap(out);
    for (const char* name :
         {"body", "bone", "spinal_canal", "vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum"})
        EXPECT_NE(labels.findSegment(name), nullptr) << name << "\n" << segmented.out;
    EXPECT_EQ(labels.findSegment("lung"), nullptr);
    // The canal is a forbidden structure with the canal's margin.
    const auto canalLine = segmented.out.find("spinal_canal");
    ASSERT_NE(canalLine, std::string::npos);
    EXPECT_NE(segmented.out.substr(canalLine, segmented.out.find('\n', canalLine) - canalLine)
                  .find("forbidden 3.0 mm"),
              std::string::npos)
        << segmented.out;
    EXPECT_NE(segmented.err.find("counted up from the sacrum"), std::string::npos) << segmented.err;

    const std::string corrected = (dir.path() / "corrected.seg.nrrd").string();
    const auto renamed = np::test::runCli(
        {"segment", "--image", image, "--out", corrected, "--lowest-lumbar", "L4", "--only", "vertebrae"});
    ASSERT_EQ(renamed.exitCode, 0) << renamed.err;
    const LabelMap relabelled = readLabelMap(corrected);
    EXPECT_NE(relabelled.findSegment("vertebra_L2"), nullptr);
    EXPECT_EQ(relabelled.findSegment("vertebra_L5"), nullptr);
    EXPECT_EQ(relabelled.findSegment("spinal_canal"), nullptr) << "--only leaves the canal out";

    const auto bad = np::test::runCli({"segment", "--image", image, "--out",
                                       (dir.path() / "bad.seg.nrrd").string(), "--lowest-lumbar", "X9"});
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("X9"), std::string::npos) << bad.err;
}

struct DiceCase
{
    const char* name;
    std::vector<std::string> phantomArguments;
};

void PrintTo(const DiceCase& c, std::ostream* out)
{
    *out << c.name;
}

class SegmentPhantomDice : public ::testing::TestWithParam<DiceCase>
{
};

double dice(std::int64_t both, std::int64_t a, std::int64_t b)
{
    return a + b == 0 ? 1.0 : 2.0 * double(both) / double(a + b);
}

bool isBoneName(const std::string& name)
{
    return name.rfind("vertebra_", 0) == 0 || name.rfind("sacrum", 0) == 0 || name.rfind("bone_", 0) == 0;
}

// The phantom's ground truth: body = every label except the table; bone = the vertebrae, sacrum
// and ilia. The automatic result: body = any label (bone lies inside the body), bone = "bone"
// with the named vertebrae.
TEST_P(SegmentPhantomDice, BodyAndBoneDiceAtLeast095)
{
    const DiceCase c = GetParam();
    np::test::TempDir dir;
    std::vector<std::string> phantom{"phantom", "--out", (dir.path() / "phantom").string()};
    phantom.insert(phantom.end(), c.phantomArguments.begin(), c.phantomArguments.end());
    const auto generated = np::test::runCli(phantom);
    ASSERT_EQ(generated.exitCode, 0) << generated.err;
    const std::string out = (dir.path() / "auto.seg.nrrd").string();
    const auto segmented =
        np::test::runCli({"segment", "--image", (dir.path() / "phantom" / "dicom").string(), "--out", out});
    ASSERT_EQ(segmented.exitCode, 0) << segmented.err;
    const LabelMap truth = readLabelMap((dir.path() / "phantom" / "structures.seg.nrrd").string());
    const LabelMap automatic = readLabelMap(out);
    ASSERT_EQ(truth.labels().size(), automatic.labels().size());
    std::vector<std::uint8_t> truthBody(65536, 0), truthBone(65536, 0);
    for (const auto& segment : truth.segments()) {
        truthBody[segment.labelValue] = segment.name != "table";
        truthBone[segment.labelValue] = isBoneName(segment.name);
    }
    ASSERT_NE(automatic.findSegment("bone"), nullptr);
    // The named vertebrae are drawn over "bone" in the label map: together they are the bone.
    std::vector<std::uint8_t> autoBoneLabel(65536, 0);
    for (const auto& segment : automatic.segments())
        autoBoneLabel[segment.labelValue] = segment.name == "bone" || isBoneName(segment.name);
    std::int64_t bodyBoth = 0, bodyTruth = 0, bodyAuto = 0, boneBoth = 0, boneTruth = 0, boneAuto = 0;
    for (std::size_t v = 0; v < truth.labels().size(); ++v) {
        const std::uint16_t t = truth.labels()[v], a = automatic.labels()[v];
        const bool tb = t != 0 && truthBody[t], ab = a != 0;
        const bool tbone = truthBone[t] != 0, abone = autoBoneLabel[a] != 0;
        bodyBoth += tb && ab;
        bodyTruth += tb;
        bodyAuto += ab;
        boneBoth += tbone && abone;
        boneTruth += tbone;
        boneAuto += abone;
    }
    const double bodyDice = dice(bodyBoth, bodyTruth, bodyAuto),
                 boneDice = dice(boneBoth, boneTruth, boneAuto);
    std::cout << "[ dice     ] " << c.name << ": body " << bodyDice << ", bone " << boneDice << "\n";
    RecordProperty("body_dice", std::to_string(bodyDice));
    RecordProperty("bone_dice", std::to_string(boneDice));
    EXPECT_GE(bodyDice, 0.95) << c.name;
    EXPECT_GE(boneDice, 0.95) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Phantom, SegmentPhantomDice,
    ::testing::Values(DiceCase{"default", {}}, DiceCase{"anisotropic", {"--spacing", "0.7,1.1,2.0"}},
                      DiceCase{"oblique", {"--spacing", "0.9,0.9,1.2", "--oblique-deg", "20"}},
                      DiceCase{"supine", {"--patient-position", "HFS", "--spacing", "1.0,1.0,1.5"}}),
    [](const ::testing::TestParamInfo<DiceCase>& param) { return std::string(param.param.name); });

} // namespace
