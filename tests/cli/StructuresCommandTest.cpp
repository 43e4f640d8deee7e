// needleplan-cli structures import: SEG, RTSTRUCT and label maps onto a reference CT.

#include "CliRunner.h"
#include "TestSupport.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <gtest/gtest.h>

namespace {

std::filesystem::path data()
{
    return np::test::realDicomDir();
}

TEST(StructuresCommand, MissingSubcommandOrReferenceIsBadInput)
{
    EXPECT_EQ(np::test::runCli({"structures"}).exitCode, 2);
    np::test::TempDir dir;
    EXPECT_EQ(
        np::test::runCli({"structures", "import", "x.dcm", "--out", (dir.path() / "o.seg.nrrd").string()})
            .exitCode,
        2);
}

TEST(StructuresCommand, UnknownFileIsBadInput)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const auto result = np::test::runCli({"structures", "import", (data() / "README.md").string(),
                                          "--reference", (data() / "06_seg_ct_liver" / "ct").string(),
                                          "--out", (dir.path() / "o.seg.nrrd").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("README.md"), std::string::npos) << result.err;
}

TEST(StructuresCommand, LiverSegPrintsCountAndWritesSegNrrd)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const std::string out = (dir.path() / "liver.seg.nrrd").string();
    const auto result =
        np::test::runCli({"structures", "import", (data() / "06_seg_ct_liver" / "liver.dcm").string(),
                          "--reference", (data() / "06_seg_ct_liver" / "ct").string(), "--out", out});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const auto labels = np::imaging::readLabelMap(out);
    ASSERT_NE(labels.findSegment("Liver"), nullptr);
    std::int64_t liver = 0;
    for (const auto v : labels.labels())
        liver += v == labels.findSegment("Liver")->labelValue;
    EXPECT_GT(liver, 0);
    EXPECT_NE(result.out.find("Liver"), std::string::npos);
    EXPECT_NE(result.out.find(std::to_string(liver) + " voxels"), std::string::npos) << result.out;
}

TEST(StructuresCommand, Jpeg2000SegFailsCleanly)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const auto result = np::test::runCli(
        {"structures", "import", (data() / "06_seg_ct_liver" / "seg_variants" / "liver_j2k.dcm").string(),
         "--reference", (data() / "06_seg_ct_liver" / "ct").string(), "--out",
         (dir.path() / "o.seg.nrrd").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("1.2.840.10008.1.2.4.90"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "o.seg.nrrd"));
}

TEST(StructuresCommand, BrokenRtStructReferencesAreWarned)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const auto rt = data() / "07_rtstruct" / "rtutils_mock";
    const auto invalid =
        np::test::runCli({"structures", "import", (rt / "invalid_reference_rt.dcm").string(), "--reference",
                          rt.string(), "--out", (dir.path() / "a.seg.nrrd").string()});
    ASSERT_EQ(invalid.exitCode, 0) << invalid.err;
    EXPECT_NE(invalid.err.find("4 contours reference 1 slice that is not loaded"), std::string::npos)
        << invalid.err;
    EXPECT_NE(invalid.out.find("ROI-4"), std::string::npos);
    const auto missing =
        np::test::runCli({"structures", "import", (rt / "non_existent_reference_rt.dcm").string(),
                          "--reference", rt.string(), "--out", (dir.path() / "b.seg.nrrd").string()});
    ASSERT_EQ(missing.exitCode, 0) << missing.err;
    EXPECT_NE(missing.err.find("missing reference"), std::string::npos) << missing.err;
}

TEST(StructuresCommand, SegNrrdReimportKeepsVoxels)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const std::string first = (dir.path() / "a.seg.nrrd").string();
    const std::string second = (dir.path() / "b.seg.nrrd").string();
    const std::string ct = (data() / "06_seg_ct_liver" / "ct").string();
    ASSERT_EQ(np::test::runCli({"structures", "import", (data() / "06_seg_ct_liver" / "liver.dcm").string(),
                                "--reference", ct, "--out", first})
                  .exitCode,
              0);
    const auto again = np::test::runCli({"structures", "import", first, "--reference", ct, "--out", second});
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_EQ(np::imaging::readLabelMap(first).labels(), np::imaging::readLabelMap(second).labels());
}

} // namespace

namespace {

TEST(StructuresCommand, ExportWritesAConformantSegInTheCtsStudy)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const std::string out = (dir.path() / "liver-again.dcm").string();
    const auto result = np::test::runCli({"structures", "export", "--structures",
                                          (data() / "06_seg_ct_liver" / "liver.dcm").string(), "--reference",
                                          (data() / "06_seg_ct_liver" / "ct").string(), "--out", out});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("1 segments, 1 with voxels"), std::string::npos) << result.out;
    const auto verdict = np::test::runDciodvfy(out);
    NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
    EXPECT_EQ(verdict.errorCount, 0) << verdict.errors;
}

TEST(StructuresCommand, ExportWithoutStructuresFileIsBadInput)
{
    NP_REQUIRE_REALDICOM();
    np::test::TempDir dir;
    const auto result = np::test::runCli(
        {"structures", "export", "--structures", (dir.path() / "missing.seg.nrrd").string(), "--reference",
         (data() / "06_seg_ct_liver" / "ct").string(), "--out", (dir.path() / "o.dcm").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("missing.seg.nrrd"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "o.dcm"));
}

} // namespace
