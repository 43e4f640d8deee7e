// needleplan-cli report: a PDF from a hand-written plan on the real liver CT, read back with
// poppler's pdftotext; the DICOM Encapsulated PDF and Secondary Capture checked with dciodvfy.

#include "CliRunner.h"
#include "TestSupport.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;

std::string run(const std::string& command)
{
    std::string output;
    if (FILE* pipe = ::popen((command + " 2>&1").c_str(), "r")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
            output.append(buffer, n);
        ::pclose(pipe);
    }
    return output;
}

TEST(ReportCommand, PdfAndDicomObjectsOfAPlanOnTheLiverCt)
{
    NP_REQUIRE_REALDICOM();
    if (std::system("command -v pdftotext >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "pdftotext (Debian package poppler-utils) is not installed";
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
    const auto result = np::test::runCli({"report", "--plan", (dir.path() / "plan.json").string(), "--out",
                                          pdf.string(), "--dicom-dir", dicom.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const std::string text = run("pdftotext -layout '" + pdf.string() + "' -");
    for (const char* expected :
         {"Liver lesion segment VI", "64.3", "72.8", "-31.7", "58.3", "(-150.0, 40.0, -127.7)", "nerve roots",
          "Planning aid", "JANCT000", "99000", "2003-04-17"})
        EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
    for (const char* name : {"report.dcm", "picture_1.dcm"}) {
        ASSERT_TRUE(std::filesystem::exists(dicom / name)) << name;
        const auto verdict = np::test::runDciodvfy(dicom / name);
        NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
        EXPECT_EQ(verdict.errorCount, 0) << name << "\n" << verdict.errors;
    }
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
