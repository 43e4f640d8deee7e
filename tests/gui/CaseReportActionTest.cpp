// File > Report… on the sample phantom: the PDF holds the target, the 3D view read back from VTK and
// the CT pictures; the DICOM objects pass dciodvfy and sit in the phantom's study.

#include "needleplan/gui/CaseReportAction.h"

#include "GuiTestSupport.h"
#include "PacsTestServers.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"

#include <QAction>
#include <QFile>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>
#include <map>

namespace np::gui {
namespace {

TEST(CaseReportAction, ReportOfAHandPlacedTrajectoryHoldsThe3DViewAndGoesToDicom)
{
    NP_REQUIRE_DISPLAY();
    if (std::system("command -v pdftotext >/dev/null 2>&1 && command -v pdfimages >/dev/null 2>&1 && "
                    "command -v dcmdump >/dev/null 2>&1") != 0)
        GTEST_SKIP() << "pdftotext/pdfimages (poppler-utils) or dcmdump (dcmtk) is not installed";
    QFile::remove(MainWindow::autosavePath());
    MainWindow window;
    window.setScriptedMode(true);
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(test::waitUntil([&] { return window.modelView()->isRenderingAvailable(); }, 20000));
    bool loaded = false, ok = false, surfaces = false;
    QObject listener;
    QObject::connect(&window, &MainWindow::loadFinished, &listener, [&](bool success, const QString&) {
        loaded = true;
        ok = success;
    });
    QObject::connect(&window, &MainWindow::surfacesReady, &listener, [&] { surfaces = true; });
    window.openSamplePhantom();
    ASSERT_TRUE(test::waitUntil([&] { return loaded && (!ok || surfaces); }, 240000));
    ASSERT_TRUE(ok);
    ASSERT_FALSE(window.namedTargets().empty());

    // The menu holds the action.
    QAction* action = window.findChild<QAction*>("caseReportAction");
    ASSERT_NE(action, nullptr);
    EXPECT_EQ(action->text(), QObject::tr("&Report…"));

    // A target and a hand-placed entry 60 mm behind it (not searched, hence not evaluated).
    const NamedTargetEntry named = window.namedTargets().front();
    window.addTarget(named.name, named.positionLps);
    window.placeEntry(named.positionLps + Vec3{20, 55, 5});
    ASSERT_EQ(window.planModel().targets().size(), 1u);
    ASSERT_TRUE(window.planModel().targets()[0].entryLps);

    np::test::TempDir dir;
    const QString pdf = QString::fromStdString((dir.path() / "report.pdf").string());
    const QString dicom = QString::fromStdString((dir.path() / "dicom").string());
    bool finished = false, written = false;
    QString message;
    writeCaseReport(window, pdf, dicom, [&](bool success, const QString& text) {
        finished = true;
        written = success;
        message = text;
    });
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    ASSERT_TRUE(written) << message.toStdString();

    const std::string pdfText =
        test::singleSpaced(test::runCommand("pdftotext -layout '" + pdf.toStdString() + "' -"));
    for (const std::string& expected :
         {named.name.toStdString(), std::string("3D view as shown in the workstation"),
          std::string("NOT EVALUATED"), std::string("bull's-eye view"), std::string("Planning aid"),
          std::string("NP-PHANTOM")})
        EXPECT_NE(pdfText.find(expected), std::string::npos) << expected << "\n" << pdfText;
    // Five pictures: the workstation's 3D view, the bone surface view, the CT along the needle, two
    // DRRs.
    const std::string images = test::runCommand("pdfimages -list '" + pdf.toStdString() + "'");
    int count = 0;
    for (std::size_t at = images.find(" image "); at != std::string::npos;
         at = images.find(" image ", at + 1))
        ++count;
    EXPECT_EQ(count, 5) << images;

    // report.dcm and five pictures, in the phantom's study, dciodvfy-clean.
    const auto ctFolder = std::filesystem::path(window.imageModel().path().toStdString());
    std::filesystem::path ctFile;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(ctFolder))
        if (entry.is_regular_file() && entry.path().extension() == ".dcm" && ctFile.empty())
            ctFile = entry.path();
    ASSERT_FALSE(ctFile.empty()) << ctFolder;
    const std::string studyUid = test::dumpedDicomValue(ctFile, "0020,000d");
    ASSERT_FALSE(studyUid.empty()) << ctFile;
    for (const char* name : {"report.dcm", "picture_1.dcm", "picture_5.dcm"}) {
        const auto path = std::filesystem::path(dicom.toStdString()) / name;
        ASSERT_TRUE(std::filesystem::exists(path)) << name << "\n" << message.toStdString();
        EXPECT_EQ(test::dumpedDicomValue(path, "0020,000d"), studyUid) << name;
        const auto verdict = np::test::runDciodvfy(path);
        NP_SKIP_UNLESS_DCIODVFY_RAN(verdict);
        EXPECT_EQ(verdict.errorCount, 0) << name << "\n" << verdict.errors;
    }
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dicom.toStdString()) / "picture_6.dcm"));

    // Send report to PACS: a private Orthanc files the report and the pictures in the phantom's study.
    if (np::test::orthancExecutable().empty()) {
        std::cout << "[ SKIPPED  ] the Send to PACS part: Orthanc not found (Debian package orthanc)\n";
        window.undoStack().setClean();
        return;
    }
    EXPECT_NE(window.findChild<QAction*>("caseReportPacsAction"), nullptr);
    // Orthanc answers C-FIND only from the modalities it knows.
    np::test::OrthancServer orthanc({{"NPGUI", np::test::freeLoopbackPort()}});
    imaging::PacsSettings settings;
    settings.port = orthanc.dicomPort();
    settings.callingAeTitle = "NPGUI";
    settings.calledAeTitle = orthanc.aeTitle();
    settings.connectTimeoutSeconds = 2;
    settings.dimseTimeoutSeconds = 10;
    finished = false;
    sendCaseReportToPacs(window, settings, [&](bool success, const QString& text) {
        finished = true;
        written = success;
        message = text;
    });
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    ASSERT_TRUE(written) << message.toStdString() << "\n" << orthanc.log();
    EXPECT_TRUE(message.contains("6 instances")) << message.toStdString();
    imaging::PacsQuery query;
    query.level = imaging::PacsLevel::Series;
    query.studyInstanceUid = studyUid;
    std::map<std::string, int> instancesByModality;
    for (const imaging::PacsMatch& match : imaging::PacsClient(settings).find(query))
        instancesByModality[match.modality] += match.numberOfInstances;
    EXPECT_EQ(instancesByModality["DOC"], 1);
    EXPECT_EQ(instancesByModality["OT"], 5);

    // A PACS that is not there: the message names the server; the window stays usable.
    settings.port = np::test::freeLoopbackPort();
    finished = false;
    sendCaseReportToPacs(window, settings, [&](bool success, const QString& text) {
        finished = true;
        written = success;
        message = text;
    });
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    EXPECT_FALSE(written);
    EXPECT_TRUE(message.contains(QString::number(settings.port))) << message.toStdString();
    EXPECT_FALSE(window.task().busy());
    window.undoStack().setClean();
}

} // namespace
} // namespace np::gui
