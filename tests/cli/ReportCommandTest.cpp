// needleplan-cli report: a PDF from a hand-written plan on the real liver CT, read back with
// poppler's pdftotext; the DICOM Encapsulated PDF and Secondary Capture checked with dciodvfy.

#include "CliRunner.h"
#include "TestSupport.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>

namespace {

using nlohmann::json;

TEST(ReportCommand, PdfAndDicomObjectsOfAPlanOnTheLiverCt)
{
    NP_REQUIRE_REALDICOM();
    if (std::system("command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && "
                    "command -v pdfimages >/dev/null 2>&1 && command -v dcmdump >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "pdftotext/pdftoppm/pdfimages (poppler-utils) or dcmdump (dcmtk) is not installed";
    np::test::TempDir dir;
    const json angles = {{"craniocaudalDeg", 4.2},
                         {"craniocaudal", "cranial"},
                         {"mediolateralDeg", 23.4},
                         {"mediolateralSide", "right"},
                         {"bullseye", {{"primaryDeg", -31.7}, {"secondaryDeg", 8.9}}},
                         {"progression", {{"primaryDeg", 58.3}, {"secondaryDeg", 0.0}}}};
    const json plan = {
        {"schema", "needleplan.plan/1"},
        {"image", {{"path", (np::test::realDicomDir() / "06_seg_ct_liver" / "ct").string()}}},
        {"needle",
         {{"name", "22G-90mm"}, {"gauge", 22}, {"outerDiameterMm", 0.72}, {"usableLengthMm", 90.0}}},
        {"structures", json::array()},
        {"targets",
         {{{"name", "Liver lesion segment VI"},
           {"targetLps", {-80.0, 20.0, -127.69}},
           {"trajectories",
            {{{"entryLps", {-150.0, 40.0, -127.69}},
              {"targetLps", {-80.0, 20.0, -127.69}},
              {"safe", true},
              {"lengthMm", 72.8},
              {"depthFromSkinMm", 64.3},
              {"clearances", json::array()},
              {"angles", angles}}}}}}}};
    std::ofstream(dir.path() / "plan.json") << plan.dump(1);
    const auto pdf = dir.path() / "report.pdf";
    const auto dicom = dir.path() / "dicom";
    // The report takes the depth from the plan, the length and the C-arm angles from the two points
    // (the plan's stored angles are recomputed). Needle direction d = (70, -20, 0) / 72.8; length
    // sqrt(70^2 + 20^2) = 72.8. Bull's-eye: detector along -d = (-0.962, 0.275, 0); DICOM primary
    // angle atan2(x, -y) (LAO +, from anterior) = atan2(-0.962, -0.275) = -105.9 deg, secondary 0.
    // Progression: d is 15.9 deg from the left-right axis (< 17 deg), so the table's up axis
    // (anterior, supine FFS) made perpendicular to d: (-0.275, -0.962, 0), primary -15.9 deg.
    const auto result = np::test::runCli({"report", "--plan", (dir.path() / "plan.json").string(), "--out",
                                          pdf.string(), "--dicom-dir", dicom.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const std::string text =
        np::test::singleSpaced(np::test::runCommand("pdftotext -layout '" + pdf.string() + "' -"));
    for (const char* expected :
         {"Liver lesion segment VI", "64.3", "72.8", "-105.9", "-15.9", "(-150.0, 40.0, -127.7)",
          "nerve roots", "Planning aid", "JANCT000", "99000", "2003-04-17"})
        EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
    // Every page renders.
    const std::string info = np::test::runCommand("pdfinfo '" + pdf.string() + "'");
    const auto pagesAt = info.find("Pages:");
    ASSERT_NE(pagesAt, std::string::npos) << info;
    const int pages = std::atoi(info.c_str() + pagesAt + 6);
    EXPECT_GE(pages, 1);
    np::test::runCommand("pdftoppm -r 20 -png '" + pdf.string() + "' '" + (dir.path() / "page").string() +
                         "'");
    int rendered = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        rendered += entry.path().extension() == ".png" && std::filesystem::file_size(entry.path()) > 0;
    EXPECT_EQ(rendered, pages);
    // The pictures: the 3D bone surface view, along the needle, bull's-eye DRR, progression DRR.
    EXPECT_NE(text.find("CT along the needle"), std::string::npos);
    EXPECT_NE(text.find("3D view"), std::string::npos);
    EXPECT_NE(text.find("bull's-eye view"), std::string::npos);
    EXPECT_NE(text.find("progression view"), std::string::npos);
    const std::string pdfImages = np::test::runCommand("pdfimages -list '" + pdf.string() + "'");
    int images = 0;
    for (std::size_t at = pdfImages.find(" image "); at != std::string::npos;
         at = pdfImages.find(" image ", at + 1))
        ++images;
    EXPECT_EQ(images, 4) << pdfImages;

    // The DICOM objects: dciodvfy-clean, in the CT's study and patient, the pictures in one series.
    const auto ctFile = np::test::realDicomDir() / "06_seg_ct_liver" / "ct" / "01.dcm";
    const std::string studyUid = np::test::dumpedDicomValue(ctFile, "0020,000d");
    ASSERT_FALSE(studyUid.empty());
    std::set<std::string> pictureSeries;
    for (const char* name :
         {"report.dcm", "picture_1.dcm", "picture_2.dcm", "picture_3.dcm", "picture_4.dcm"}) {
        ASSERT_TRUE(std::filesystem::exists(dicom / name)) << name;
        EXPECT_EQ(np::test::dumpedDicomValue(dicom / name, "0020,000d"), studyUid) << name;
        EXPECT_EQ(np::test::dumpedDicomValue(dicom / name, "0010,0020"),
                  np::test::dumpedDicomValue(ctFile, "0010,0020"))
            << name;
        EXPECT_EQ(np::test::dumpedDicomValue(dicom / name, "0010,0010"),
                  np::test::dumpedDicomValue(ctFile, "0010,0010"))
            << name;
        if (std::string(name) != "report.dcm")
            pictureSeries.insert(np::test::dumpedDicomValue(dicom / name, "0020,000e"));
        const auto verdict = np::test::runDciodvfy(dicom / name);
        NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
        EXPECT_EQ(verdict.errorCount, 0) << name << "\n" << verdict.errors;
    }
    EXPECT_EQ(pictureSeries.size(), 1u);
    EXPECT_EQ(np::test::dumpedDicomValue(dicom / "report.dcm", "0008,0016"), "1.2.840.10008.5.1.4.1.1.104.1");
    EXPECT_EQ(np::test::dumpedDicomValue(dicom / "picture_1.dcm", "0008,0016"), "1.2.840.10008.5.1.4.1.1.7");
}

TEST(ReportCommand, MissingPlanIsBadInput)
{
    np::test::TempDir dir;
    const auto result = np::test::runCli(
        {"report", "--plan", (dir.path() / "none.json").string(), "--out", (dir.path() / "r.pdf").string()});
    EXPECT_EQ(result.exitCode, 2);
    EXPECT_NE(result.err.find("none.json"), std::string::npos) << result.err;
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "r.pdf"));
}

} // namespace
