// File > Open from PACS… against a private Orthanc holding the sample phantom: search by patient
// name, retrieve with progress, open; a cancelled retrieval; servers that refuse, say nothing or
// answer garbage. Expected values come from the phantom's own files (read with dcmdump).

#include "GuiTestSupport.h"
#include "PacsTestServers.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PacsBrowserDialog.h"

#include <QAction>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <sstream>

namespace np::gui {
namespace {

namespace fs = std::filesystem;

/// The values between [ and ] of each line of dcmdump's output that holds `tag` ("(0028,0030)").
std::vector<std::string> dumpedValues(const std::string& dump, const std::string& tag)
{
    std::vector<std::string> values;
    std::istringstream lines(dump);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.find(tag) == std::string::npos)
            continue;
        const auto open = line.find('['), close = line.rfind(']');
        if (open != std::string::npos && close != std::string::npos && close > open)
            values.push_back(line.substr(open + 1, close - open - 1));
    }
    return values;
}

std::vector<double> numbers(const std::string& text)
{
    std::vector<double> out;
    std::istringstream in(text);
    std::string part;
    while (std::getline(in, part, '\\'))
        out.push_back(std::atof(part.c_str()));
    return out;
}

/// What the phantom's DICOM files say about themselves, read with dcmtk's dcmdump.
struct PhantomFacts
{
    fs::path folder;
    int files = 0;
    std::string patientName;
    std::array<int, 3> size{};       ///< columns, rows, slices
    std::array<double, 3> spacing{}; ///< column, row, slice spacing (mm)
};

PhantomFacts readPhantomFacts(const fs::path& folder)
{
    PhantomFacts facts;
    facts.folder = folder;
    const std::string dump =
        test::runCommand("dcmdump -q +P 0010,0010 +P 0028,0010 +P 0028,0011 +P 0028,0030 +P 0020,0032 '" +
                         folder.string() + "'/*.dcm");
    const auto names = dumpedValues(dump, "(0010,0010)");
    const auto pixelSpacing = dumpedValues(dump, "(0028,0030)");
    const auto positions = dumpedValues(dump, "(0020,0032)");
    for (const auto& entry : fs::directory_iterator(folder))
        facts.files += entry.path().extension() == ".dcm";
    if (names.empty() || pixelSpacing.empty() || static_cast<int>(positions.size()) != facts.files ||
        facts.files < 2) {
        return facts;
    }
    // dcmdump prints US values bare: "(0028,0010) US 325".
    auto usValue = [&dump](const std::string& tag) {
        const auto at = dump.find(tag + " US ");
        return at == std::string::npos ? 0 : std::atoi(dump.c_str() + at + tag.size() + 4);
    };
    facts.patientName = names.front();
    facts.size = {usValue("(0028,0011)"), usValue("(0028,0010)"), facts.files};
    const auto inPlane = numbers(pixelSpacing.front()); // row spacing \ column spacing
    std::vector<std::array<double, 3>> points;
    for (const auto& text : positions) {
        const auto p = numbers(text);
        points.push_back({p.at(0), p.at(1), p.at(2)});
    }
    std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a[2] < b[2]; });
    const double extent =
        std::hypot(points.back()[0] - points.front()[0], points.back()[1] - points.front()[1],
                   points.back()[2] - points.front()[2]);
    facts.spacing = {inPlane.at(1), inPlane.at(0), extent / (facts.files - 1)};
    return facts;
}

/// The sample phantom's DICOM folder, as the build generates it.
fs::path samplePhantomFolder()
{
    return test::binaryDir() / "sample-data" / "phantom" / "dicom";
}

class PacsBrowser : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath());
        m_cache = std::make_unique<test::TempDir>("np-pacs-cache");
    }

    /// Starts a private Orthanc and stores the phantom's first `count` slices (all when 0) into it.
    void startOrthancWithPhantom(int count = 0)
    {
        NP_REQUIRE_ORTHANC();
        const fs::path folder = samplePhantomFolder();
        if (!fs::is_directory(folder))
            GTEST_SKIP() << "the sample phantom was not generated (build target np_sample_phantom): "
                         << folder;
        m_facts = readPhantomFacts(folder);
        ASSERT_GT(m_facts.files, 1);
        ASSERT_FALSE(m_facts.patientName.empty());
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(folder))
            if (entry.path().extension() == ".dcm")
                files.push_back(entry.path());
        std::sort(files.begin(), files.end());
        if (count > 0 && count < static_cast<int>(files.size()))
            files.resize(count);
        m_orthanc = std::make_unique<test::OrthancServer>(
            std::vector<test::OrthancModality>{{"NPBROWSER", test::freeLoopbackPort()}});
        m_stored = imaging::PacsClient(orthancSettings()).store(files).sent;
        ASSERT_EQ(m_stored, static_cast<int>(files.size())) << m_orthanc->log();
    }

    imaging::PacsSettings orthancSettings() const
    {
        imaging::PacsSettings settings;
        settings.host = "127.0.0.1";
        settings.port = m_orthanc->dicomPort();
        settings.callingAeTitle = "NPBROWSER";
        settings.calledAeTitle = m_orthanc->aeTitle();
        settings.connectTimeoutSeconds = 2;
        settings.dimseTimeoutSeconds = 10;
        return settings;
    }

    /// Opens File > Open from PACS… with `settings` stored, as a user who typed them last time.
    PacsBrowserDialog* openBrowser(MainWindow& window, const imaging::PacsSettings& settings)
    {
        PacsBrowserModel::storeSettings(settings);
        QAction* action = window.findChild<QAction*>("openFromPacsAction");
        EXPECT_NE(action, nullptr);
        if (!action)
            return nullptr;
        action->trigger();
        auto* dialog = window.findChild<PacsBrowserDialog*>();
        EXPECT_NE(dialog, nullptr);
        if (dialog)
            dialog->model().setCacheFolder(QString::fromStdString(m_cache->path().string()));
        return dialog;
    }

    /// Types the phantom's name pattern, presses Search and waits for the answer.
    void searchPhantom(PacsBrowserDialog& dialog)
    {
        const std::string pattern = m_facts.patientName.substr(0, 4) + "*";
        dialog.findChild<QLineEdit*>("pacsPatientName")->setText(QString::fromStdString(pattern));
        bool finished = false, ok = false;
        QObject listener;
        QObject::connect(&dialog.model(), &PacsBrowserModel::searchFinished, &listener,
                         [&](bool success, const QString&) { finished = true, ok = success; });
        dialog.findChild<QPushButton*>("pacsSearchButton")->click();
        ASSERT_TRUE(test::waitUntil([&] { return finished; }, 30000));
        ASSERT_TRUE(ok) << dialog.statusText().toStdString();
    }

    std::unique_ptr<test::OrthancServer> m_orthanc;
    PhantomFacts m_facts;
    int m_stored = 0; ///< instances stored into Orthanc
    std::unique_ptr<test::TempDir> m_cache;
};

TEST_F(PacsBrowser, SearchByNameRetrieveWithProgressAndOpenTheSeries)
{
    startOrthancWithPhantom();
    if (HasFatalFailure() || IsSkipped())
        return;
    MainWindow window;
    window.setScriptedMode(true);
    window.show();
    PacsBrowserDialog* dialog = openBrowser(window, orthancSettings());
    ASSERT_NE(dialog, nullptr);

    // The server section's Echo reports success.
    QObject listener;
    bool echoed = false;
    QObject::connect(&dialog->model(), &PacsBrowserModel::echoFinished, &listener,
                     [&](bool, const QString&) { echoed = true; });
    dialog->findChild<QPushButton*>("pacsEchoButton")->click();
    ASSERT_TRUE(test::waitUntil([&] { return echoed; }, 20000));
    const QString echo = dialog->serverBox()->resultLabel()->text();
    EXPECT_TRUE(echo.startsWith("OK")) << echo.toStdString();

    searchPhantom(*dialog);
    auto* results = dialog->findChild<QTreeWidget*>("pacsResults");
    ASSERT_EQ(results->topLevelItemCount(), 1);
    QTreeWidgetItem* study = results->topLevelItem(0);
    EXPECT_EQ(study->text(0).toStdString(), m_facts.patientName);
    EXPECT_EQ(study->text(5).toInt(), m_facts.files);
    ASSERT_EQ(study->childCount(), 1);
    EXPECT_EQ(study->child(0)->text(3), "CT");
    EXPECT_EQ(study->child(0)->text(5).toInt(), m_facts.files);

    // Retrieve the series: progress counts up to files of files.
    std::vector<std::pair<int, int>> progress;
    QObject::connect(&dialog->model(), &PacsBrowserModel::retrieveProgress, &listener,
                     [&](int received, int expected) { progress.emplace_back(received, expected); });
    bool retrieved = false, ok = false;
    QObject::connect(&dialog->model(), &PacsBrowserModel::retrieveFinished, &listener,
                     [&](bool success, const QString&) { retrieved = true, ok = success; });
    dialog->selectResult(0, 0);
    auto* retrieve = dialog->findChild<QPushButton*>("pacsRetrieveButton");
    ASSERT_TRUE(retrieve->isEnabled());
    retrieve->click();
    EXPECT_TRUE(dialog->findChild<QPushButton*>("pacsCancelButton")->isEnabled());
    ASSERT_TRUE(test::waitUntil([&] { return retrieved; }, 60000));
    ASSERT_TRUE(ok) << dialog->statusText().toStdString();
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), std::make_pair(m_facts.files, m_facts.files));
    for (std::size_t n = 1; n < progress.size(); ++n)
        EXPECT_LE(progress[n - 1].first, progress[n].first);
    auto* bar = dialog->findChild<QProgressBar*>("pacsProgress");
    EXPECT_EQ(bar->value(), m_facts.files);
    EXPECT_EQ(bar->maximum(), m_facts.files);
    const fs::path folder = dialog->model().retrievedFolder().toStdString();
    int files = 0;
    for (const auto& entry : fs::directory_iterator(folder))
        files += entry.is_regular_file();
    EXPECT_EQ(files, m_facts.files);

    // Open loads it as File > Open does; the image has the phantom's size and spacing.
    bool loaded = false, loadOk = false;
    QObject::connect(&window, &MainWindow::loadFinished, &listener,
                     [&](bool success, const QString&) { loaded = true, loadOk = success; });
    auto* open = dialog->findChild<QPushButton*>("pacsOpenButton");
    ASSERT_TRUE(open->isEnabled());
    open->click();
    ASSERT_TRUE(test::waitUntil([&] { return loaded; }, 120000));
    ASSERT_TRUE(loadOk);
    const auto volume = window.imageModel().volume();
    ASSERT_TRUE(volume);
    for (int axis = 0; axis < 3; ++axis) {
        EXPECT_EQ(static_cast<int>(volume->geometry().size[axis]), m_facts.size[axis]) << axis;
        EXPECT_NEAR(volume->geometry().spacing[axis], m_facts.spacing[axis], 1e-3) << axis;
    }
    EXPECT_EQ(window.imageModel().path().toStdString(), folder.string());
    window.undoStack().setClean();
}

TEST_F(PacsBrowser, CancelledRetrievalKeepsNothingAndTheBrowserStaysUsable)
{
    startOrthancWithPhantom(12); // a dozen slices of the series: enough to stop in the middle
    if (HasFatalFailure() || IsSkipped())
        return;
    MainWindow window;
    window.setScriptedMode(true);
    PacsBrowserDialog* dialog = openBrowser(window, orthancSettings());
    ASSERT_NE(dialog, nullptr);
    dialog->show();
    searchPhantom(*dialog);
    QObject listener;
    bool finished = false, ok = true;
    QString message;
    QObject::connect(
        &dialog->model(), &PacsBrowserModel::retrieveFinished, &listener,
        [&](bool success, const QString& text) { finished = true, ok = success, message = text; });
    dialog->selectResult(0, -1); // the whole study
    dialog->findChild<QPushButton*>("pacsRetrieveButton")->click();
    auto* cancel = dialog->findChild<QPushButton*>("pacsCancelButton");
    ASSERT_TRUE(cancel->isEnabled());
    cancel->click(); // before the first instance arrives: the retrieval stops at that instance
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 30000));
    EXPECT_FALSE(ok);
    EXPECT_TRUE(message.contains("cancelled")) << message.toStdString();
    EXPECT_LT(dialog->model().retrieveCount().received, m_stored);
    EXPECT_TRUE(dialog->model().retrievedFolder().isEmpty());
    EXPECT_FALSE(dialog->findChild<QPushButton*>("pacsOpenButton")->isEnabled());
    // Nothing is left in the cache, not even the partial folder.
    int left = 0;
    for (const auto& entry : fs::recursive_directory_iterator(m_cache->path()))
        left += entry.is_regular_file();
    EXPECT_EQ(left, 0);
    // The browser still works: the search runs again.
    EXPECT_TRUE(dialog->findChild<QPushButton*>("pacsRetrieveButton")->isEnabled());
    searchPhantom(*dialog);

    // The PACS refuses an AE title it does not know: the message names the server and C-FIND.
    dialog->findChild<QLineEdit*>("pacsCalledAe")->setText("NOSUCHAE");
    bool searched = false, searchOk = true;
    QObject::connect(&dialog->model(), &PacsBrowserModel::searchFinished, &listener,
                     [&](bool success, const QString&) { searched = true, searchOk = success; });
    dialog->findChild<QPushButton*>("pacsSearchButton")->click();
    ASSERT_TRUE(test::waitUntil([&] { return searched; }, 20000));
    EXPECT_FALSE(searchOk);
    const QString status = dialog->statusText();
    EXPECT_TRUE(status.contains(QString("NOSUCHAE@127.0.0.1:%1").arg(m_orthanc->dicomPort())))
        << status.toStdString();
    EXPECT_TRUE(status.contains("C-FIND")) << status.toStdString();
    EXPECT_TRUE(status.contains("rejected")) << status.toStdString();
    dialog->reject();
}

TEST_F(PacsBrowser, DeadServersGiveMessagesNamingServerAndOperationWithinTheTimeout)
{
    MainWindow window;
    window.setScriptedMode(true);
    imaging::PacsSettings settings;
    settings.host = "127.0.0.1";
    settings.callingAeTitle = "NPBROWSER";
    settings.calledAeTitle = "DEADPACS";
    settings.connectTimeoutSeconds = 2;
    settings.dimseTimeoutSeconds = 2;
    PacsBrowserDialog* dialog = openBrowser(window, settings);
    ASSERT_NE(dialog, nullptr);
    dialog->show();
    auto* port = dialog->findChild<QSpinBox*>("pacsPort");

    struct Case
    {
        const char* what;
        std::unique_ptr<test::FakeTcpServer> server;
        const char* expected;
    };
    std::vector<Case> cases;
    cases.push_back({"nothing listening", nullptr, "refused"});
    cases.push_back({"accepts TCP, never answers",
                     std::make_unique<test::FakeTcpServer>(test::FakeServerBehaviour::Silent), "no answer"});
    cases.push_back({"answers garbage",
                     std::make_unique<test::FakeTcpServer>(test::FakeServerBehaviour::Garbage), "malformed"});
    for (Case& c : cases) {
        const int serverPort = c.server ? c.server->port() : test::freeLoopbackPort();
        port->setValue(serverPort);
        const QString server = QString("DEADPACS@127.0.0.1:%1").arg(serverPort);
        // Echo from the server section.
        QObject listener;
        bool echoed = false, echoOk = true;
        QString echoMessage;
        QObject::connect(
            &dialog->model(), &PacsBrowserModel::echoFinished, &listener,
            [&](bool success, const QString& text) { echoed = true, echoOk = success, echoMessage = text; });
        const auto start = std::chrono::steady_clock::now();
        dialog->findChild<QPushButton*>("pacsEchoButton")->click();
        ASSERT_TRUE(test::waitUntil([&] { return echoed; }, 20000)) << c.what;
        EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15)) << c.what;
        EXPECT_FALSE(echoOk) << c.what;
        EXPECT_TRUE(echoMessage.contains(server)) << c.what << ": " << echoMessage.toStdString();
        EXPECT_TRUE(echoMessage.contains("C-ECHO")) << c.what << ": " << echoMessage.toStdString();
        EXPECT_TRUE(echoMessage.contains(c.expected)) << c.what << ": " << echoMessage.toStdString();
        EXPECT_TRUE(dialog->serverBox()->resultLabel()->text().contains(server)) << c.what;
        // Search: the message names the server and C-FIND; the dialog is usable again afterwards.
        bool searched = false, searchOk = true;
        QObject::connect(&dialog->model(), &PacsBrowserModel::searchFinished, &listener,
                         [&](bool success, const QString&) { searched = true, searchOk = success; });
        dialog->findChild<QPushButton*>("pacsSearchButton")->click();
        ASSERT_TRUE(test::waitUntil([&] { return searched; }, 20000)) << c.what;
        EXPECT_FALSE(searchOk) << c.what;
        EXPECT_TRUE(dialog->statusText().contains(server))
            << c.what << ": " << dialog->statusText().toStdString();
        EXPECT_TRUE(dialog->statusText().contains("C-FIND"))
            << c.what << ": " << dialog->statusText().toStdString();
        EXPECT_FALSE(dialog->model().busy());
        EXPECT_TRUE(dialog->findChild<QPushButton*>("pacsSearchButton")->isEnabled());
    }
    // The settings typed are remembered for the next time.
    EXPECT_EQ(PacsBrowserModel::storedSettings().calledAeTitle, "DEADPACS");
    EXPECT_EQ(PacsBrowserModel::storedSettings().connectTimeoutSeconds, 2);
    // A date range that ends before it starts is refused before anything is sent.
    PacsSearchFields fields;
    fields.studyDateFrom = QDate(2024, 5, 2);
    fields.studyDateTo = QDate(2024, 5, 1);
    EXPECT_THROW(PacsBrowserModel::studyQuery(fields), Error);
    fields.studyDateTo = QDate(2024, 6, 30);
    fields.modality = "ct";
    const imaging::PacsQuery query = PacsBrowserModel::studyQuery(fields);
    EXPECT_EQ(query.studyDate, "20240502-20240630");
    EXPECT_EQ(query.modality, "CT");
    dialog->reject();
}

} // namespace
} // namespace np::gui
