// File > Send to PACS… on a coarse lumbar phantom: the structures as DICOM SEG and the case report as
// Encapsulated PDF (pictures as Secondary Capture) reach a private Orthanc in the phantom's study; a
// PACS that is not there gives a message naming it and the operation.

#include "GuiTestSupport.h"
#include "PacsTestServers.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/gui/PacsActions.h"

#include <QAction>
#include <QFile>
#include <filesystem>
#include <gtest/gtest.h>
#include <chrono>
#include <map>

namespace np::gui {
namespace {

TEST(PacsSend, PlanObjectsReachThePacsInThePhantomsStudy)
{
    NP_REQUIRE_DISPLAY();
    NP_REQUIRE_ORTHANC();
    QFile::remove(MainWindow::autosavePath());
    MainWindow window;
    window.setScriptedMode(true);
    window.resize(1200, 800);
    window.show();
    ASSERT_NE(window.findChild<QAction*>("sendToPacsAction"), nullptr);
    bool loaded = false, ok = false;
    QObject listener;
    QObject::connect(&window, &MainWindow::loadFinished, &listener,
                     [&](bool success, const QString&) { loaded = true, ok = success; });
    // The sample phantom on a coarser grid (same anatomy and structures): writing its SEG and
    // report takes seconds instead of a minute.
    test::TempDir phantomDir("np-pacs-send");
    phantom::PhantomOptions coarse;
    coarse.spacing = {2.0, 2.0, 2.5};
    phantom::writePhantom(phantom::generateLumbarPhantom(coarse), phantomDir.path().string());
    window.openPath(QString::fromStdString(phantomDir.path().string()));
    ASSERT_TRUE(test::waitUntil([&] { return loaded; }, 240000));
    ASSERT_TRUE(ok);
    ASSERT_TRUE(test::waitUntil([&] { return window.modelView()->isRenderingAvailable(); }, 20000));
    // No target: the report then holds the patient, the series, the structures and the 3D view
    // (its pictures along a needle are covered by CaseReportActionTest and take long to render).

    // The phantom's study, read from one of its files with dcmdump.
    std::filesystem::path ctFile;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(window.imageModel().path().toStdString()))
        if (entry.is_regular_file() && entry.path().extension() == ".dcm" && ctFile.empty())
            ctFile = entry.path();
    const std::string studyUid = test::dumpedDicomValue(ctFile, "0020,000d");
    ASSERT_FALSE(studyUid.empty()) << ctFile;

    test::OrthancServer orthanc({{"NPSEND", test::freeLoopbackPort()}});
    imaging::PacsSettings settings;
    settings.port = orthanc.dicomPort();
    settings.callingAeTitle = "NPSEND";
    settings.calledAeTitle = orthanc.aeTitle();
    settings.connectTimeoutSeconds = 2;
    settings.dimseTimeoutSeconds = 10;
    bool finished = false, sent = false;
    QString message;
    sendPlanToPacs(window, settings, {true, true}, [&](bool success, const QString& text) {
        finished = true, sent = success, message = text;
    });
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 180000));
    ASSERT_TRUE(sent) << message.toStdString() << "\n" << orthanc.log();
    EXPECT_TRUE(message.contains(QString::fromStdString(imaging::describeServer(settings))))
        << message.toStdString();

    imaging::PacsQuery query;
    query.level = imaging::PacsLevel::Series;
    query.studyInstanceUid = studyUid;
    std::map<std::string, int> instancesByModality;
    for (const imaging::PacsMatch& match : imaging::PacsClient(settings).find(query))
        instancesByModality[match.modality] += match.numberOfInstances;
    EXPECT_EQ(instancesByModality["SEG"], 1);
    EXPECT_EQ(instancesByModality["DOC"], 1);
    EXPECT_GE(instancesByModality["OT"], 1);
    const int total = instancesByModality["SEG"] + instancesByModality["DOC"] + instancesByModality["OT"];
    EXPECT_TRUE(message.contains(QString(": %1 instances").arg(total))) << message.toStdString();

    // A PACS that is not there: the C-ECHO that comes first fails; the message names the server and
    // the operation, and the window stays usable.
    settings.port = test::freeLoopbackPort();
    finished = false;
    sendPlanToPacs(window, settings, {true, true}, [&](bool success, const QString& text) {
        finished = true, sent = success, message = text;
    });
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 30000));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_FALSE(sent);
    EXPECT_TRUE(message.contains(QString::fromStdString(imaging::describeServer(settings))))
        << message.toStdString();
    EXPECT_TRUE(message.contains("C-ECHO")) << message.toStdString();
    EXPECT_FALSE(window.task().busy());
    // Nothing chosen: nothing is written or sent.
    finished = false;
    sendPlanToPacs(window, settings, {false, false}, [&](bool success, const QString& text) {
        finished = true, sent = success, message = text;
    });
    EXPECT_TRUE(finished);
    EXPECT_FALSE(sent);
    window.undoStack().setClean();
}

} // namespace
} // namespace np::gui
