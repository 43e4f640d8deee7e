// needleplan-cli pacs: end to end against a private Orthanc started by the test on a loopback port.

#include "CliRunner.h"
#include "PacsTestServers.h"
#include "TestSupport.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using np::test::runCli;
namespace fs = std::filesystem;

std::vector<std::string> connection(int port, const std::string& calledAe = "NPORTHANC")
{
    return {"--host", "127.0.0.1",         "--port", std::to_string(port), "--aet", "NPCLI", "--called-aet",
            calledAe, "--connect-timeout", "2",      "--dimse-timeout",    "5"};
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::size_t countFiles(const fs::path& folder)
{
    std::size_t count = 0;
    for (const auto& entry : fs::directory_iterator(folder))
        count += entry.is_regular_file();
    return count;
}

/// The one series `needleplan-cli info --json` finds under `folder` (the loader's own reading).
json onlySeries(const fs::path& folder)
{
    const auto info = runCli({"info", folder.string(), "--json"});
    EXPECT_EQ(info.exitCode, 0) << info.err;
    const json listing = json::parse(info.out);
    EXPECT_EQ(listing["series"].size(), 1u) << info.out;
    return listing["series"].empty() ? json() : listing["series"][0];
}

TEST(PacsCommand, BadArgumentsExitWithTwo)
{
    np::test::TempDir dir;
    const int port = np::test::freeLoopbackPort();
    const std::vector<std::vector<std::string>> cases = {
        {"pacs"},                                                // no subcommand
        std::vector<std::string>{"pacs", "echo", "--port", "0"}, // port out of range
        std::vector<std::string>{"pacs", "find", "--level", "image"} + connection(port),
        std::vector<std::string>{"pacs", "find", "--study-uid", "1.2.abc"} + connection(port),
        std::vector<std::string>{"pacs", "find", "--level", "patient", "--modality", "CT"} + connection(port),
        std::vector<std::string>{"pacs", "echo", "--called-aet", "AN-AE-TITLE-TOO-LONG"},
        std::vector<std::string>{"pacs", "get", "--out", dir.path().string()} + connection(port), // no study
        std::vector<std::string>{"pacs", "get", "--study-uid", "1.2.3", "--move-destination", "NPCLI",
                                 "--out", dir.path().string()} +
            connection(port), // no listen port
        std::vector<std::string>{"pacs", "store", (dir.path() / "missing.dcm").string()} + connection(port),
    };
    for (const auto& arguments : cases) {
        const auto result = runCli(arguments);
        std::string line;
        for (const auto& a : arguments)
            line += a + " ";
        EXPECT_EQ(result.exitCode, 2) << line << "\n" << result.err;
        EXPECT_FALSE(result.err.empty()) << line;
    }
}

TEST(PacsCommand, UnreachablePacsExitsWithFiveNamingServerAndOperation)
{
    const int port = np::test::freeLoopbackPort(); // nothing listens there
    const auto result = runCli(std::vector<std::string>{"pacs", "echo"} + connection(port));
    EXPECT_EQ(result.exitCode, 5) << result.err;
    EXPECT_NE(result.err.find("NPORTHANC@127.0.0.1:" + std::to_string(port)), std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find("C-ECHO"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("refused"), std::string::npos) << result.err;
}

TEST(PacsCommand, StoreFindGetAndMoveThePhantom)
{
    NP_REQUIRE_ORTHANC();
    np::test::TempDir dir;
    const auto phantom =
        runCli({"phantom", "--out", (dir.path() / "phantom").string(), "--spacing", "6,6,15"});
    ASSERT_EQ(phantom.exitCode, 0) << phantom.err;
    const fs::path dicom = dir.path() / "phantom" / "dicom";
    const json original = onlySeries(dicom);
    const int instances = static_cast<int>(countFiles(dicom));

    const int movePort = np::test::freeLoopbackPort();
    np::test::OrthancServer orthanc({{"NPCLI", movePort}});
    const auto pacs = connection(orthanc.dicomPort());

    auto result = runCli(std::vector<std::string>{"pacs", "echo"} + pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err << orthanc.log();

    result = runCli(std::vector<std::string>{"pacs", "store", dicom.string()} + pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("sent " + std::to_string(instances) + " instances"), std::string::npos)
        << result.out;

    result = runCli(
        std::vector<std::string>{"pacs", "find", "--level", "series", "--modality", "CT", "--json"} + pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json matches = json::parse(result.out);
    ASSERT_EQ(matches.size(), 1u) << result.out;
    const json& match = matches[0];
    for (const char* key : {"patientId", "patientName", "studyInstanceUid", "seriesInstanceUid", "modality",
                            "studyDate", "numberOfInstances"})
        EXPECT_TRUE(match.contains(key)) << key;
    EXPECT_EQ(match["seriesInstanceUid"], original["seriesUid"]);
    EXPECT_EQ(match["modality"], "CT");
    EXPECT_EQ(match["numberOfInstances"], instances);
    const std::string studyUid = match["studyInstanceUid"];

    result = runCli(std::vector<std::string>{"pacs", "find", "--level", "patient", "--patient-id",
                                             match["patientId"].get<std::string>(), "--json"} +
                    pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(json::parse(result.out).size(), 1u) << result.out;

    const fs::path viaGet = dir.path() / "get";
    result = runCli(std::vector<std::string>{"pacs", "get", "--study-uid", studyUid, "--series-uid",
                                             match["seriesInstanceUid"].get<std::string>(), "--out",
                                             viaGet.string()} +
                    pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_EQ(countFiles(viaGet), static_cast<std::size_t>(instances));
    const json gotten = onlySeries(viaGet);
    EXPECT_EQ(gotten["seriesUid"], original["seriesUid"]);
    EXPECT_EQ(gotten["size"], original["size"]);
    EXPECT_EQ(gotten["huRange"], original["huRange"]);

    const fs::path viaMove = dir.path() / "move";
    result = runCli(std::vector<std::string>{"pacs", "get", "--study-uid", studyUid, "--move-destination",
                                             "NPCLI", "--listen-port", std::to_string(movePort), "--out",
                                             viaMove.string()} +
                    pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const json moved = onlySeries(viaMove);
    EXPECT_EQ(moved["seriesUid"], original["seriesUid"]);
    EXPECT_EQ(moved["originLps"], original["originLps"]);
    EXPECT_EQ(moved["huRange"], original["huRange"]);

    // The case report (Encapsulated PDF) and its pictures (Secondary Capture) go back to the PACS,
    // which files them in the phantom's study next to the CT.
    const json plan = {
        {"schema", "needleplan.plan/1"},
        {"image", {{"path", dicom.string()}}},
        {"needle",
         {{"name", "22G-90mm"}, {"gauge", 22}, {"outerDiameterMm", 0.72}, {"usableLengthMm", 90.0}}},
        {"structures", json::array()},
        {"targets",
         {{{"name", "T"},
           {"targetLps", {0.0, 0.0, 0.0}},
           {"trajectories",
            {{{"entryLps", {20.0, 60.0, 10.0}},
              {"targetLps", {0.0, 0.0, 0.0}},
              {"safe", false},
              {"lengthMm", 64.0},
              {"clearances", json::array()},
              {"angles",
               {{"craniocaudalDeg", 0.0},
                {"craniocaudal", "axial"},
                {"mediolateralDeg", 0.0},
                {"mediolateralSide", "none"},
                {"bullseye", {{"primaryDeg", 0.0}, {"secondaryDeg", 0.0}}},
                {"progression", {{"primaryDeg", 90.0}, {"secondaryDeg", 0.0}}}}}}}}}}}};
    std::ofstream(dir.path() / "plan.json") << plan.dump(1);
    const fs::path reportDicom = dir.path() / "report-dicom";
    result = runCli({"report", "--plan", (dir.path() / "plan.json").string(), "--out",
                     (dir.path() / "report.pdf").string(), "--dicom-dir", reportDicom.string()});
    ASSERT_EQ(result.exitCode, 0) << result.err;
    const std::size_t reportObjects = countFiles(reportDicom);
    EXPECT_EQ(reportObjects, 5u); // the report, the 3D view, along the needle, two DRRs
    result = runCli(std::vector<std::string>{"pacs", "store", reportDicom.string()} + pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    EXPECT_NE(result.out.find("sent " + std::to_string(reportObjects) + " instances"), std::string::npos)
        << result.out;
    result = runCli(
        std::vector<std::string>{"pacs", "find", "--level", "series", "--study-uid", studyUid, "--json"} +
        pacs);
    ASSERT_EQ(result.exitCode, 0) << result.err;
    std::map<std::string, int> instancesByModality;
    for (const json& series : json::parse(result.out))
        instancesByModality[series["modality"].get<std::string>()] +=
            series["numberOfInstances"].is_number() ? series["numberOfInstances"].get<int>() : -1000;
    EXPECT_EQ(instancesByModality["CT"], instances) << result.out;
    EXPECT_EQ(instancesByModality["DOC"], 1) << result.out;
    EXPECT_EQ(instancesByModality["OT"], 4) << result.out;

    // An unknown called AE: association rejected, exit 5, the message says so.
    result = runCli(std::vector<std::string>{"pacs", "echo"} + connection(orthanc.dicomPort(), "WRONGAE"));
    EXPECT_EQ(result.exitCode, 5);
    EXPECT_NE(result.err.find("rejected"), std::string::npos) << result.err;
}

} // namespace
