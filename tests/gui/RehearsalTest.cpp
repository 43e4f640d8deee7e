// Rehearsal mode: the resident places a trajectory by clicks on the slice views without seeing the
// planner's answer, scores it, and the attempt lands in the CSV log with the errors and the safety
// verdict (checked against hand-computed values and the phantom's analytic anatomy).

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/RehearsalPanel.h"
#include "needleplan/gui/RehearsalSession.h"
#include "needleplan/gui/VirtualCArmModel.h"
#include "needleplan/gui/VirtualCArmPanel.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/planning/Needle.h"

#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace np::gui {
namespace {

using render::SliceOrientation;

/// Splits one CSV line (RFC 4180 quoting) into fields.
std::vector<std::string> splitCsv(const std::string& line)
{
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
                fields.back() += '"', ++i;
            else if (c == '"')
                quoted = false;
            else
                fields.back() += c;
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    return fields;
}

std::vector<std::vector<std::string>> readCsv(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    for (std::string line; std::getline(in, line);)
        rows.push_back(splitCsv(line));
    return rows;
}

std::string readText(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

RehearsalAttempt sampleAttempt(const QString& target)
{
    RehearsalAttempt attempt;
    attempt.timeUtc = QDateTime(QDate(2026, 1, 2), QTime(3, 4, 5), Qt::UTC);
    attempt.target = target;
    attempt.safe = false;
    attempt.verdictStructure = "vertebra_L5";
    attempt.verdictClearanceMm = -1.5;
    attempt.tipErrorMm = 4.0;
    attempt.summary << "UNSAFE: your path enters \"bone\", twice";
    return attempt;
}

TEST(RehearsalLog, FirstWriteHasTheHeaderAndLaterOnesAppend)
{
    test::TempDir folder("np-rehearsal-log");
    const auto path = folder.path() / "sub" / "log.csv";
    QString error;
    ASSERT_TRUE(RehearsalSession::appendToLog(QString::fromStdString(path.string()),
                                              sampleAttempt("L4, left"), &error))
        << error.toStdString();
    ASSERT_TRUE(
        RehearsalSession::appendToLog(QString::fromStdString(path.string()), sampleAttempt("L5"), &error));
    const auto rows = readCsv(path);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].size(), static_cast<std::size_t>(RehearsalSession::logColumns().size()));
    EXPECT_EQ(rows[0][0], "time_utc");
    EXPECT_EQ(rows[1][0], "2026-01-02T03:04:05Z");
    EXPECT_EQ(rows[1][1], "L4, left"); // quoted, the comma kept
    EXPECT_EQ(rows[1][2], "unsafe");
    EXPECT_EQ(rows[1][3], "vertebra_L5");
    EXPECT_EQ(rows[1][4], "-1.500");
    EXPECT_EQ(rows[1].back(), "UNSAFE: your path enters \"bone\", twice");
    EXPECT_EQ(rows[2][1], "L5");
}

TEST(RehearsalLog, FailuresSayWhyAndKeepTheRowsAlreadyLogged)
{
    test::TempDir folder("np-rehearsal-log");
    // A file that is not a rehearsal log is left alone.
    const auto foreign = folder.path() / "grades.csv";
    std::ofstream(foreign) << "name,grade\nA,1\n";
    QString error;
    EXPECT_FALSE(
        RehearsalSession::appendToLog(QString::fromStdString(foreign.string()), sampleAttempt("L4"), &error));
    EXPECT_TRUE(error.contains("not a NeedlePlan rehearsal log")) << error.toStdString();
    EXPECT_TRUE(error.contains("grades.csv")) << error.toStdString();
    EXPECT_EQ(readText(foreign), "name,grade\nA,1\n");
    // A log whose folder cannot be written: the message names it, the rows stay.
    const auto log = folder.path() / "log.csv";
    ASSERT_TRUE(
        RehearsalSession::appendToLog(QString::fromStdString(log.string()), sampleAttempt("L4"), &error));
    const std::string before = readText(log);
    std::filesystem::permissions(folder.path(),
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    const bool denied = !std::ofstream(folder.path() / "probe.tmp").good();
    const bool ok =
        RehearsalSession::appendToLog(QString::fromStdString(log.string()), sampleAttempt("L5"), &error);
    std::filesystem::permissions(folder.path(), std::filesystem::perms::owner_all);
    if (denied) {
        EXPECT_FALSE(ok);
        EXPECT_TRUE(error.contains("log.csv")) << error.toStdString();
        EXPECT_EQ(readText(log), before);
    } else {
        std::printf("read-only folder not checked: this user (root) may write into it anyway\n");
    }
    // A path below a plain file cannot become a log.
    EXPECT_FALSE(RehearsalSession::appendToLog(QString::fromStdString((foreign / "log.csv").string()),
                                               sampleAttempt("L4"), &error));
    EXPECT_FALSE(error.isEmpty());
    EXPECT_EQ(readText(foreign), "name,grade\nA,1\n");
}

class RehearsalOnPhantom : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = test::openScriptedWindow(1500, 950);
        ASSERT_TRUE(m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable());
        bool loaded = false, ok = false;
        QObject listener;
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener,
                         [&](bool success, const QString&) {
                             loaded = true;
                             ok = success;
                         });
        m_window->openSamplePhantom();
        ASSERT_TRUE(test::waitUntil([&] { return loaded; }, 240000)) << "the phantom did not load";
        ASSERT_TRUE(ok && m_window->structuresModel().labels()) << "the sample phantom has no structures";
        m_session = m_window->findChild<RehearsalSession*>("rehearsalSession");
        ASSERT_NE(m_session, nullptr);
        m_session->setLogPath(QString::fromStdString((m_folder.path() / "rehearsal.csv").string()));
    }
    void TearDown() override
    {
        if (m_session)
            m_session->setLogPath(RehearsalSession::defaultLogPath()); // the test's folder goes
        if (m_window) {
            m_window->task().cancel();
            m_window->task().waitForIdle();
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }

    /// Clicks `pointLps` on the axial view in `mode`, as the mouse does (the crosshair first
    /// brings the axial slice to the point).
    void clickOnAxial(const Vec3& pointLps, PickMode mode)
    {
        m_window->viewStateModel().setCursorLps(pointLps);
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        axial->renderNow();
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(pointLps);
        m_window->setPickMode(mode);
        test::clickAt(axial, QPointF(display.x / dpr, display.y / dpr));
    }

    /// Presses the panel's Score button and waits for the score.
    void pressScore()
    {
        bool finished = false, ok = false;
        QString message;
        auto connection = QObject::connect(m_session, &RehearsalSession::scored, m_window.get(),
                                           [&](bool success, const QString& text) {
                                               finished = true;
                                               ok = success;
                                               message = text;
                                           });
        auto* score = m_window->findChild<QPushButton*>("rehearsalScoreButton");
        ASSERT_NE(score, nullptr);
        ASSERT_TRUE(score->isEnabled());
        score->click();
        ASSERT_TRUE(test::waitUntil([&] { return finished; }, 180000)) << "scoring did not finish";
        QObject::disconnect(connection);
        ASSERT_TRUE(ok) << message.toStdString();
        EXPECT_TRUE(message.isEmpty()) << "the log was not written: " << message.toStdString();
    }

    QString resultsHtml() const { return m_window->findChild<QLabel*>("rehearsalResults")->text(); }

    /// View > Virtual C-arm (DRR), waiting for its attenuation volume.
    VirtualCArmModel& openVirtualCArm()
    {
        VirtualCArmPanel* panel = m_window->fluoro().openVirtualCArm();
        EXPECT_TRUE(test::waitUntil([&] { return panel->model().ready(); }, 120000))
            << "the virtual C-arm did not get ready";
        return panel->model();
    }

    test::TempDir m_folder{"np-gui-rehearsal"};
    std::unique_ptr<MainWindow> m_window;
    RehearsalSession* m_session = nullptr;
};

TEST_F(RehearsalOnPhantom, ClickedAttemptsAreScoredAgainstTheHiddenPlanAndLogged)
{
    NamedTargetEntry exercise;
    int exerciseIndex = -1;
    for (std::size_t i = 0; i < m_window->namedTargets().size(); ++i)
        if (m_window->namedTargets()[i].name.startsWith("L4 medial branch left")) {
            exercise = m_window->namedTargets()[i];
            exerciseIndex = static_cast<int>(i);
        }
    ASSERT_GE(exerciseIndex, 0) << "the phantom has no L4 medial branch left target";
    // A plan trajectory exists before rehearsal: it must disappear from the views.
    m_window->addTarget("planned", exercise.positionLps);
    m_window->placeEntry(exercise.positionLps + Vec3{0, 60, 0});
    ASSERT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 1u);

    // The virtual C-arm shows the plan's trajectory before rehearsal.
    VirtualCArmModel& carm = openVirtualCArm();
    ASSERT_EQ(carm.paths().size(), 1u);
    EXPECT_EQ(carm.paths()[0].targetLps, exercise.positionLps);

    auto* mode = m_window->findChild<QAction*>("rehearsalModeAction");
    ASSERT_NE(mode, nullptr);
    mode->trigger();
    // Rehearsal: nothing of the plan on the C-arm, and no bull's-eye view to compare with yet.
    EXPECT_TRUE(carm.paths().empty());
    EXPECT_FALSE(carm.degreesFromBullseye());
    ASSERT_TRUE(m_session->active());
    auto* combo = m_window->findChild<QComboBox*>("rehearsalTargetCombo");
    combo->setCurrentIndex(combo->findData(exerciseIndex));
    emit combo->activated(combo->currentIndex());
    ASSERT_EQ(m_session->exerciseTarget(), exerciseIndex);

    // Attempt 1: the target 4 mm superior of the exercise target (+S), the entry from the right
    // and posterior, across the midline: the path crosses bone.
    const double k = 4.0;
    const Vec3 residentTarget = exercise.positionLps + Vec3{0, 0, k};
    const Vec3 boneEntry{-45.0, 80.0, residentTarget.z};
    clickOnAxial(residentTarget, PickMode::RehearsalTarget);
    clickOnAxial(boneEntry, PickMode::RehearsalEntry);
    ASSERT_TRUE(m_session->residentTargetLps() && m_session->residentEntryLps());
    EXPECT_LT(distance(*m_session->residentTargetLps(), residentTarget), 0.05);
    EXPECT_LT(distance(*m_session->residentEntryLps(), boneEntry), 0.05);

    // Hidden before Score: no planning panel or ranked list, only the resident's path drawn (in
    // the neutral colour), no results, and no search result in the plan.
    auto* planningDock = m_window->findChild<QDockWidget*>("planningDock");
    EXPECT_FALSE(planningDock->isVisible());
    EXPECT_FALSE(m_window->rankedList()->isVisible());
    EXPECT_TRUE(m_window->findChild<QDockWidget*>("rehearsalDock")->isVisible());
    const PlanGraphics& hidden = m_window->viewGrid()->drawnGraphics();
    ASSERT_EQ(hidden.trajectories.size(), 1u);
    EXPECT_LT(distance(hidden.trajectories[0].entryLps, *m_session->residentEntryLps()), 1e-9);
    EXPECT_TRUE(resultsHtml().isEmpty());

    // The virtual C-arm works from the resident's own path: it is the one projected, and its
    // bull's-eye preset looks straight down it (entry and target on the same detector point, the
    // target at the isocentre in the middle of the detector), the readout saying 0 degrees.
    ASSERT_EQ(carm.paths().size(), 1u);
    EXPECT_EQ(carm.paths()[0].entryLps, *m_session->residentEntryLps());
    EXPECT_EQ(carm.paths()[0].targetLps, *m_session->residentTargetLps());
    EXPECT_EQ(carm.activePath(), 0);
    m_window->fluoro().virtualCArm()->findChild<QAbstractButton*>("carmBullsEye")->click();
    ASSERT_TRUE(carm.degreesFromBullseye());
    EXPECT_LT(*carm.degreesFromBullseye(), 0.05);
    EXPECT_TRUE(carm.readout().contains("0.0° from the bull's-eye")) << carm.readout().toStdString();
    {
        const imaging::CArmGeometry view = carm.view();
        const auto projection = view.projectionMatrix();
        const auto entryPixel = projection.project(*m_session->residentEntryLps());
        const auto targetPixel = projection.project(*m_session->residentTargetLps());
        EXPECT_NEAR(entryPixel.column, targetPixel.column, 0.5);
        EXPECT_NEAR(entryPixel.row, targetPixel.row, 0.5);
        EXPECT_NEAR(targetPixel.column, 0.5 * (view.parameters().columns - 1), 0.05);
        EXPECT_NEAR(targetPixel.row, 0.5 * (view.parameters().rows - 1), 0.05);
    }

    // The truth: the phantom's analytic anatomy along the resident's path (beyond the 2 mm tip
    // zone) names the bone it crosses.
    std::string boneCrossed;
    const Vec3 e = *m_session->residentEntryLps(), t = *m_session->residentTargetLps();
    for (double s = 0.0; s < distance(e, t) - 3.0 && boneCrossed.empty(); s += 0.25) {
        const std::string name = phantom::structureAt(e + normalized(t - e) * s);
        if (name.rfind("vertebra", 0) == 0 || name == "sacrum")
            boneCrossed = name;
    }
    ASSERT_FALSE(boneCrossed.empty()) << "the chosen entry does not cross bone in the phantom";

    pressScore();
    ASSERT_TRUE(m_session->revealed());
    ASSERT_TRUE(m_session->attempt()->plannerBest) << "the planner found no safe path to the exercise target";
    const planning::Trajectory best = *m_session->attempt()->plannerBest;
    EXPECT_LT(distance(best.targetLps, exercise.positionLps), 1e-6);
    // Revealed: the verdict first, the planner's best drawn beside the resident's path.
    const QString html = resultsHtml();
    ASSERT_TRUE(html.contains("UNSAFE")) << html.toStdString();
    EXPECT_LT(html.indexOf("UNSAFE"), html.indexOf("Tip to target"));
    EXPECT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 2u);
    EXPECT_TRUE(m_window->planModel().targets()[0].ranked.empty())
        << "the rehearsal search leaked into the plan";
    // Scored: the planner's best appears on the C-arm too, the readout still the resident's.
    ASSERT_EQ(carm.paths().size(), 2u);
    EXPECT_EQ(carm.paths()[1].entryLps, best.entryLps);
    EXPECT_EQ(carm.paths()[1].targetLps, best.targetLps);
    EXPECT_EQ(carm.activePath(), 0);
    EXPECT_LT(*carm.degreesFromBullseye(), 0.05);

    // Attempt 2: on the planner's own line, 3 mm short of its target. By hand: tip error 3, along
    // -3, across 0, angle 0, entry offset 0 (the same skin crossing), and safe (a sub-segment of
    // a safe path).
    m_window->findChild<QPushButton*>("rehearsalTryAgainButton")->click();
    EXPECT_FALSE(m_session->revealed());
    EXPECT_TRUE(resultsHtml().isEmpty());
    EXPECT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 0u);
    EXPECT_TRUE(carm.paths().empty()) << "the next attempt starts without the planner's answer";
    const Vec3 shortTarget = best.targetLps - best.directionLps() * 3.0;
    clickOnAxial(shortTarget, PickMode::RehearsalTarget);
    clickOnAxial(best.entryLps, PickMode::RehearsalEntry);
    pressScore();

    const auto rows = readCsv(m_folder.path() / "rehearsal.csv");
    ASSERT_EQ(rows.size(), 3u) << "header and two attempts";
    const QStringList columns = RehearsalSession::logColumns();
    auto cell = [&](std::size_t row, const char* column) {
        const int index = columns.indexOf(column);
        EXPECT_GE(index, 0) << column;
        return rows[row].at(static_cast<std::size_t>(index));
    };
    auto value = [&](std::size_t row, const char* column) { return std::stod(cell(row, column)); };
    EXPECT_EQ(cell(0, "tip_error_mm"), "tip_error_mm");
    // Attempt 1: unsafe, naming the bone; tip error k; along and across from the planner's axis.
    EXPECT_EQ(cell(1, "target"), exercise.name.toStdString());
    EXPECT_EQ(cell(1, "verdict"), "unsafe");
    EXPECT_EQ(cell(1, "structure"), boneCrossed) << cell(1, "summary");
    EXPECT_LT(value(1, "clearance_mm"), 0.0);
    EXPECT_NEAR(value(1, "tip_error_mm"), k, 0.05);
    const Vec3 offset = residentTarget - exercise.positionLps;
    const double along = dot(offset, best.directionLps());
    EXPECT_NEAR(value(1, "tip_along_mm"), along, 0.05);
    EXPECT_NEAR(value(1, "tip_across_mm"), std::sqrt(k * k - along * along), 0.05);
    const Vec3 residentDirection = normalized(residentTarget - boneEntry);
    EXPECT_NEAR(value(1, "angle_error_deg"),
                std::acos(std::clamp(dot(residentDirection, best.directionLps()), -1.0, 1.0)) * 180.0 /
                    std::acos(-1.0),
                0.1);
    // Attempt 2.
    EXPECT_EQ(cell(2, "verdict"), "safe") << cell(2, "summary");
    EXPECT_NEAR(value(2, "tip_error_mm"), 3.0, 0.05);
    EXPECT_NEAR(value(2, "tip_along_mm"), -3.0, 0.05);
    EXPECT_NEAR(value(2, "tip_across_mm"), 0.0, 0.05);
    EXPECT_NEAR(value(2, "angle_error_deg"), 0.0, 0.1);
    EXPECT_NEAR(value(2, "entry_error_mm"), 0.0, 0.1);

    // Rehearsal off: the planning panel and the plan's trajectory come back.
    mode->trigger();
    EXPECT_FALSE(m_session->active());
    EXPECT_TRUE(planningDock->isVisible());
    EXPECT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 1u);
    ASSERT_EQ(carm.paths().size(), 1u);
    EXPECT_EQ(carm.paths()[0].targetLps, exercise.positionLps);
}

TEST_F(RehearsalOnPhantom, ScoreWithoutAnEntrySaysWhatIsMissing)
{
    m_window->findChild<QAction*>("rehearsalModeAction")->trigger();
    clickOnAxial(m_window->namedTargets().front().positionLps, PickMode::RehearsalTarget);
    bool ok = true;
    QString message;
    QObject::connect(m_session, &RehearsalSession::scored, m_window.get(),
                     [&](bool success, const QString& text) {
                         ok = success;
                         message = text;
                     });
    m_window->findChild<QPushButton*>("rehearsalScoreButton")->click();
    EXPECT_FALSE(ok);
    EXPECT_TRUE(message.contains("entry")) << message.toStdString();
    EXPECT_FALSE(QFile::exists(QString::fromStdString((m_folder.path() / "rehearsal.csv").string())));
}

} // namespace
} // namespace np::gui
