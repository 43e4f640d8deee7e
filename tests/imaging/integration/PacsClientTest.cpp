// PACS networking against a real PACS (a private Orthanc started by the test on a loopback port)
// and against loopback servers that misbehave: refused, silent, hang-up, garbage.

#include "needleplan/imaging/PacsClient.h"

#include "PacsTestServers.h"
#include "TestSupport.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <chrono>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <fstream>
#include <gtest/gtest.h>
#include <set>

using namespace np::imaging;
namespace fs = std::filesystem;

namespace {

constexpr const char* kOurAe = "NPTEST";

PacsSettings settingsFor(int port, const std::string& calledAe = "NPORTHANC")
{
    PacsSettings settings;
    settings.host = "127.0.0.1";
    settings.port = port;
    settings.callingAeTitle = kOurAe;
    settings.calledAeTitle = calledAe;
    settings.connectTimeoutSeconds = 2;
    settings.dimseTimeoutSeconds = 5;
    return settings;
}

/// Runs `action`, expects an np::Error of `code`, and returns its message.
template <typename Action> std::string expectError(np::ErrorCode code, Action action)
{
    try {
        action();
    } catch (const np::Error& error) {
        EXPECT_EQ(error.code(), code) << error.what();
        return error.what();
    }
    ADD_FAILURE() << "no error thrown";
    return "";
}

/// The attributes the test reads straight from the written files (independent of the client).
struct FileIdentity
{
    std::string patientId, patientName, studyUid, seriesUid, modality;
};

FileIdentity identityOf(const fs::path& file)
{
    DcmFileFormat format;
    EXPECT_TRUE(format.loadFile(file.c_str()).good()) << file;
    FileIdentity identity;
    OFString value;
    DcmDataset* data = format.getDataset();
    if (data->findAndGetOFString(DCM_PatientID, value).good())
        identity.patientId = value.c_str();
    if (data->findAndGetOFString(DCM_PatientName, value).good())
        identity.patientName = value.c_str();
    if (data->findAndGetOFString(DCM_StudyInstanceUID, value).good())
        identity.studyUid = value.c_str();
    if (data->findAndGetOFString(DCM_SeriesInstanceUID, value).good())
        identity.seriesUid = value.c_str();
    if (data->findAndGetOFString(DCM_Modality, value).good())
        identity.modality = value.c_str();
    return identity;
}

std::vector<fs::path> filesIn(const fs::path& folder)
{
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(folder))
        if (entry.is_regular_file())
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

/// A coarse grid: few slices, so that storing into Orthanc stays quick.
np::phantom::PhantomOptions smallPhantomOptions()
{
    np::phantom::PhantomOptions options;
    options.spacing = {6.0, 6.0, 15.0};
    return options;
}

/// A small phantom CT, written once per test process.
const fs::path& phantomDicomFolder()
{
    static np::test::TempDir dir("np-pacs-phantom");
    static const fs::path folder = [] {
        const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom(smallPhantomOptions());
        np::phantom::writePhantom(phantom, dir.path().string());
        return dir.path() / "dicom";
    }();
    return folder;
}

void expectSameVolume(const Volume& loaded, const Volume& original)
{
    ASSERT_EQ(loaded.geometry().size, original.geometry().size);
    for (int a = 0; a < 3; ++a) {
        EXPECT_DOUBLE_EQ(loaded.geometry().spacing[a], original.geometry().spacing[a]);
        EXPECT_DOUBLE_EQ(loaded.geometry().originLps[a], original.geometry().originLps[a]);
    }
    ASSERT_EQ(loaded.voxels().size(), original.voxels().size());
    std::size_t differing = 0;
    for (std::size_t n = 0; n < loaded.voxels().size(); ++n)
        differing += loaded.voxels()[n] != original.voxels()[n];
    EXPECT_EQ(differing, 0u);
    EXPECT_EQ(loaded.info().seriesUid, original.info().seriesUid);
}

class CancelAfterFirst : public np::ProgressSink
{
public:
    void report(double, const std::string& stage) override
    {
        if (stage.rfind("received", 0) == 0)
            m_received = true;
    }
    bool cancelRequested() const override { return m_received; }

private:
    std::atomic<bool> m_received{false};
};

} // namespace

// --- Failures without any PACS -----------------------------------------------------------------

TEST(PacsClient, RejectsInvalidSettings)
{
    PacsSettings settings = settingsFor(104);
    settings.port = 70000;
    EXPECT_NE(expectError(np::ErrorCode::InvalidArgument, [&] { PacsClient{settings}; }).find("port"),
              std::string::npos);
    settings = settingsFor(104);
    settings.calledAeTitle = "THIS-AE-TITLE-IS-TOO-LONG";
    EXPECT_NE(expectError(np::ErrorCode::InvalidArgument, [&] { PacsClient{settings}; }).find("AE title"),
              std::string::npos);
    PacsClient client(settingsFor(104));
    PacsRetrieveRequest request;
    request.studyInstanceUid = "1.2.x";
    request.outputFolder = "/tmp";
    EXPECT_NE(expectError(np::ErrorCode::InvalidArgument, [&] { client.retrieve(request); }).find("1.2.x"),
              std::string::npos);
}

TEST(PacsClient, RefusedConnectionNamesServerAndOperation)
{
    const int port = np::test::freeLoopbackPort(); // nothing listens there
    const std::string message =
        expectError(np::ErrorCode::Network, [&] { PacsClient(settingsFor(port)).echo(); });
    EXPECT_NE(message.find("NPORTHANC@127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
    EXPECT_NE(message.find("C-ECHO"), std::string::npos) << message;
    EXPECT_NE(message.find("refused"), std::string::npos) << message;
}

TEST(PacsClient, SilentServerTimesOutWithClearMessage)
{
    np::test::FakeTcpServer server(np::test::FakeServerBehaviour::Silent);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = expectError(np::ErrorCode::Network, [&] {
        PacsQuery query;
        PacsClient(settingsFor(server.port())).find(query);
    });
    // The wait is bounded by the 2 s connect timeout (generous margin: this checks "no hang").
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
    EXPECT_NE(message.find("C-FIND"), std::string::npos) << message;
    EXPECT_NE(message.find("no answer"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(server.port())), std::string::npos) << message;
}

TEST(PacsClient, HangUpIsReportedAsDroppedConnection)
{
    np::test::FakeTcpServer server(np::test::FakeServerBehaviour::HangUp);
    const std::string message =
        expectError(np::ErrorCode::Network, [&] { PacsClient(settingsFor(server.port())).echo(); });
    EXPECT_NE(message.find("C-ECHO"), std::string::npos) << message;
    EXPECT_NE(message.find("dropped"), std::string::npos) << message;
}

TEST(PacsClient, GarbageAnswerIsReportedAsMalformed)
{
    np::test::FakeTcpServer server(np::test::FakeServerBehaviour::Garbage);
    const std::string message =
        expectError(np::ErrorCode::Network, [&] { PacsClient(settingsFor(server.port())).echo(); });
    EXPECT_NE(message.find("C-ECHO"), std::string::npos) << message;
    EXPECT_NE(message.find("malformed"), std::string::npos) << message;
}

// --- Against Orthanc -------------------------------------------------------------------------------

class PacsOrthanc : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_ORTHANC();
        m_movePort = np::test::freeLoopbackPort();
        m_orthanc = std::make_unique<np::test::OrthancServer>(
            std::vector<np::test::OrthancModality>{{kOurAe, m_movePort}});
    }

    PacsClient client() const { return PacsClient(settingsFor(m_orthanc->dicomPort())); }

    /// Stores the phantom and returns what its files say about themselves.
    FileIdentity storePhantom()
    {
        const auto files = filesIn(phantomDicomFolder());
        const PacsStoreResult stored = client().store({phantomDicomFolder()});
        EXPECT_EQ(stored.sent, static_cast<int>(files.size()));
        EXPECT_TRUE(stored.skipped.empty());
        return identityOf(files.front());
    }

    int m_movePort = 0;
    std::unique_ptr<np::test::OrthancServer> m_orthanc;
};

TEST_F(PacsOrthanc, EchoSucceedsAndUnknownCalledAeIsRejected)
{
    EXPECT_NO_THROW(client().echo()) << m_orthanc->log();
    const std::string message = expectError(
        np::ErrorCode::Network, [&] { PacsClient(settingsFor(m_orthanc->dicomPort(), "NOSUCHAE")).echo(); });
    EXPECT_NE(message.find("NOSUCHAE@127.0.0.1"), std::string::npos) << message;
    EXPECT_NE(message.find("rejected"), std::string::npos) << message;
}

TEST_F(PacsOrthanc, StoredPhantomIsFoundAtEachLevel)
{
    const FileIdentity phantom = storePhantom();
    const int instances = static_cast<int>(filesIn(phantomDicomFolder()).size());

    PacsQuery query;
    query.level = PacsLevel::Patient;
    query.patientId = phantom.patientId;
    auto matches = client().find(query);
    ASSERT_EQ(matches.size(), 1u);
    EXPECT_EQ(matches[0].patientId, phantom.patientId);
    EXPECT_EQ(matches[0].patientName, phantom.patientName);
    EXPECT_EQ(matches[0].numberOfInstances, instances);

    query.level = PacsLevel::Study;
    matches = client().find(query);
    ASSERT_EQ(matches.size(), 1u);
    EXPECT_EQ(matches[0].studyInstanceUid, phantom.studyUid);
    EXPECT_EQ(matches[0].modality, "CT");
    EXPECT_EQ(matches[0].numberOfInstances, instances);

    query = {};
    query.level = PacsLevel::Series;
    query.studyInstanceUid = phantom.studyUid;
    matches = client().find(query);
    ASSERT_EQ(matches.size(), 1u);
    EXPECT_EQ(matches[0].seriesInstanceUid, phantom.seriesUid);
    EXPECT_EQ(matches[0].studyInstanceUid, phantom.studyUid);
    EXPECT_EQ(matches[0].modality, "CT");
    EXPECT_EQ(matches[0].numberOfInstances, instances);

    // A wildcard on the name finds it; another patient ID or modality finds nothing.
    query = {};
    query.level = PacsLevel::Study;
    query.patientName = phantom.patientName.substr(0, 3) + "*";
    EXPECT_EQ(client().find(query).size(), 1u);
    query.patientName.clear();
    query.patientId = "NO-SUCH-PATIENT";
    EXPECT_TRUE(client().find(query).empty());
    query.patientId.clear();
    query.modality = "MR";
    EXPECT_TRUE(client().find(query).empty());
}

TEST_F(PacsOrthanc, SeriesRetrievedByCGetLoadsIdentically)
{
    const FileIdentity phantom = storePhantom();
    np::test::TempDir out("np-pacs-get");
    PacsRetrieveRequest request;
    request.studyInstanceUid = phantom.studyUid;
    request.seriesInstanceUid = phantom.seriesUid;
    request.outputFolder = out.path() / "cache";
    const PacsRetrieveResult result = client().retrieve(request);
    const auto originals = filesIn(phantomDicomFolder());
    EXPECT_EQ(result.files.size(), originals.size());
    EXPECT_EQ(result.completed, static_cast<int>(originals.size()));
    EXPECT_EQ(filesIn(request.outputFolder).size(), originals.size()); // no temporary files left
    expectSameVolume(loadVolume(request.outputFolder.string()), loadVolume(phantomDicomFolder().string()));
}

TEST_F(PacsOrthanc, StudyRetrievedByCMoveLoadsIdentically)
{
    const FileIdentity phantom = storePhantom();
    np::test::TempDir out("np-pacs-move");
    PacsRetrieveRequest request;
    request.studyInstanceUid = phantom.studyUid;
    request.outputFolder = out.path();
    request.moveDestinationAeTitle = kOurAe;
    request.listenPort = m_movePort;
    const PacsRetrieveResult result = client().retrieve(request);
    const auto originals = filesIn(phantomDicomFolder());
    EXPECT_EQ(result.files.size(), originals.size());
    EXPECT_EQ(result.completed, static_cast<int>(originals.size()));
    expectSameVolume(loadVolume(out.path().string()), loadVolume(phantomDicomFolder().string()));
}

TEST_F(PacsOrthanc, MoveToUnknownDestinationIsAnErrorStatus)
{
    const FileIdentity phantom = storePhantom();
    np::test::TempDir out("np-pacs-move");
    PacsRetrieveRequest request;
    request.studyInstanceUid = phantom.studyUid;
    request.outputFolder = out.path();
    request.moveDestinationAeTitle = "UNKNOWNDEST";
    request.listenPort = np::test::freeLoopbackPort();
    const std::string message = expectError(np::ErrorCode::Network, [&] { client().retrieve(request); });
    EXPECT_NE(message.find("C-MOVE"), std::string::npos) << message;
    EXPECT_NE(message.find("status 0x"), std::string::npos) << message;
}

TEST_F(PacsOrthanc, RetrievalCanBeCancelled)
{
    const FileIdentity phantom = storePhantom();
    np::test::TempDir out("np-pacs-cancel");
    PacsRetrieveRequest request;
    request.studyInstanceUid = phantom.studyUid;
    request.outputFolder = out.path();
    CancelAfterFirst cancel;
    expectError(np::ErrorCode::Cancelled, [&] { client().retrieve(request, &cancel); });
    EXPECT_LT(filesIn(out.path()).size(), filesIn(phantomDicomFolder()).size());
    EXPECT_NO_THROW(client().echo()); // the PACS is still usable
}

TEST_F(PacsOrthanc, SegmentationSentBackIsFiledWithTheStudy)
{
    const FileIdentity phantom = storePhantom();
    const Volume ct = loadVolume(phantomDicomFolder().string());
    const np::phantom::Phantom generated = np::phantom::generateLumbarPhantom(smallPhantomOptions());
    np::test::TempDir out("np-pacs-seg");
    const fs::path segPath = out.path() / "structures.seg.dcm";
    DicomSegWriteOptions options;
    options.studyUid = phantom.studyUid;
    options.patientId = phantom.patientId;
    options.patientName = phantom.patientName;
    writeDicomSeg(StructureSet::fromLabelMap(generated.labels), ct, segPath.string(), options);
    const FileIdentity seg = identityOf(segPath);

    // A missing path is named; a folder with a non-DICOM file sends the SEG and lists the other.
    const std::string missing = expectError(np::ErrorCode::NotFound, [&] {
        client().store({segPath, out.path() / "no-such-file.dcm"});
    });
    EXPECT_NE(missing.find("no-such-file.dcm"), std::string::npos) << missing;
    std::ofstream(out.path() / "notes.txt") << "not DICOM";
    const PacsStoreResult stored = client().store({out.path()});
    EXPECT_EQ(stored.sent, 1);
    ASSERT_EQ(stored.skipped.size(), 1u);
    EXPECT_NE(stored.skipped[0].find("notes.txt"), std::string::npos);

    PacsQuery query;
    query.level = PacsLevel::Series;
    query.studyInstanceUid = phantom.studyUid;
    const auto matches = client().find(query);
    std::set<std::string> modalities, series;
    for (const auto& match : matches) {
        modalities.insert(match.modality);
        series.insert(match.seriesInstanceUid);
    }
    EXPECT_EQ(modalities, (std::set<std::string>{"CT", "SEG"}));
    EXPECT_EQ(series, (std::set<std::string>{phantom.seriesUid, seg.seriesUid}));
    EXPECT_EQ(seg.modality, "SEG");
}
