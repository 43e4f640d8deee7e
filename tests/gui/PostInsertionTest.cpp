// A post-insertion CT opened onto the open plan: registered, its needle found and measured, drawn
// in magenta beside the plan, with the table of errors; checked against the phantom generator's
// truth (the needle's known tip and path, the known motion). A scan without a needle says so and
// draws nothing.

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PostInsertionModel.h"
#include "needleplan/gui/PostInsertionPanel.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/phantom/PostInsertionPhantom.h"

#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <cmath>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

constexpr double kPi = 3.14159265358979323846;

double angleDeg(const Vec3& a, const Vec3& b)
{
    return std::atan2(norm(cross(a, b)), dot(a, b)) * 180.0 / kPi;
}

/// A slab of the phantom (x within ±70 mm, anisotropic voxels) on the scanner of the post CT.
phantom::PostInsertionOptions postOptions(std::vector<phantom::PhantomNeedle> needles)
{
    phantom::PostInsertionOptions o;
    o.phantom.spacing = {0.8, 0.8, 1.25};
    o.phantom.size = {175, 325, 132};
    o.phantom.seed = 7; // other noise than the planning scan
    o.needles = std::move(needles);
    o.moveMm = {8.0, -6.0, 5.0};
    o.moveDeg = {3.0, -4.0, 5.0};
    return o;
}

class PostInsertionOnPhantom : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = test::openScriptedWindow(1500, 950);
        ASSERT_TRUE(m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable());
        m_model = m_window->findChild<PostInsertionModel*>("postInsertionModel");
        ASSERT_NE(m_model, nullptr);
    }

    /// Opens the sample phantom (or a small flat volume) as the planning CT.
    void openPlanningCt(bool phantom)
    {
        bool loaded = false, ok = false;
        QObject listener;
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener,
                         [&](bool success, const QString&) {
                             loaded = true;
                             ok = success;
                         });
        if (phantom) {
            m_window->openSamplePhantom();
        } else {
            imaging::Geometry g;
            g.size = {40, 40, 20};
            g.spacing = {1.5, 1.5, 2.5};
            g.originLps = {-30.0, -30.0, -25.0};
            imaging::writeVolumeNrrd(imaging::Volume(g, 40.0f), (m_folder.path() / "flat.nrrd").string());
            m_window->openPath(QString::fromStdString((m_folder.path() / "flat.nrrd").string()));
        }
        ASSERT_TRUE(test::waitUntil([&] { return loaded; }, 240000)) << "the planning CT did not load";
        ASSERT_TRUE(ok);
        ASSERT_TRUE(!phantom || m_window->structuresModel().labels())
            << "the sample phantom has no structures";
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->task().cancel();
            m_window->task().waitForIdle();
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }

    /// Opens `path` as the post-insertion CT and waits for the outcome.
    std::pair<bool, QString> openPost(const std::filesystem::path& path)
    {
        bool finished = false, ok = false;
        QString message;
        auto connection = QObject::connect(m_model, &PostInsertionModel::finished, m_window.get(),
                                           [&](bool success, const QString& text) {
                                               finished = true;
                                               ok = success;
                                               message = text;
                                           });
        m_model->open(QString::fromStdString(path.string()));
        EXPECT_TRUE(test::waitUntil([&] { return finished; }, 240000)) << "the validation did not finish";
        QObject::disconnect(connection);
        return {ok, message};
    }

    QTableWidget* table() const { return m_window->findChild<QTableWidget*>("postInsertionTable"); }

    test::TempDir m_folder{"np-gui-post"};
    std::unique_ptr<MainWindow> m_window;
    PostInsertionModel* m_model = nullptr;
};

TEST_F(PostInsertionOnPhantom, NeedleIsMeasuredAgainstTheTruthAndAScanWithoutOneSaysSo)
{
    openPlanningCt(true);
    NamedTargetEntry named;
    for (const NamedTargetEntry& target : m_window->namedTargets())
        if (target.name.startsWith("L4 medial branch left"))
            named = target;
    ASSERT_FALSE(named.name.isEmpty());
    // The plan: a posterior-oblique path 75 mm long, 20 degrees toward the left.
    const double a = 20.0 * kPi / 180.0;
    const Vec3 outward = normalized(Vec3{std::sin(a), std::cos(a), 0.12});
    m_window->addTarget(named.name, named.positionLps);
    m_window->placeEntry(named.positionLps + outward * 75.0);
    ASSERT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 1u);

    // A scan without a needle: a clear message, the plan's row says none was found, nothing drawn.
    phantom::PostInsertionOptions emptyOptions = postOptions({});
    emptyOptions.phantom.spacing = {1.2, 1.2, 2.0}; // coarser: only "no needle" is checked here
    emptyOptions.phantom.size = {117, 217, 83};
    const auto empty = phantom::generatePostInsertionCt(emptyOptions);
    imaging::writeVolumeNrrd(empty.ct, (m_folder.path() / "no-needle.nrrd").string());
    const auto [emptyOk, emptyMessage] = openPost(m_folder.path() / "no-needle.nrrd");
    EXPECT_FALSE(emptyOk);
    EXPECT_TRUE(emptyMessage.contains("no needle")) << emptyMessage.toStdString();
    EXPECT_TRUE(emptyMessage.contains("no-needle.nrrd")) << emptyMessage.toStdString();
    EXPECT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 1u);
    ASSERT_EQ(table()->rowCount(), 1);
    EXPECT_EQ(table()->item(0, 1)->text(), "none found");
    EXPECT_TRUE(m_window->findChild<QDockWidget*>("postInsertionDock")->isVisible());

    // A 22 G needle with its tip off the target by a known offset, turned 3 degrees further out.
    const Vec3 tipOffset{0.8, -0.6, 1.1};
    const Vec3 tipLps = named.positionLps + tipOffset;
    const double b = 23.0 * kPi / 180.0;
    const Vec3 needleOutward = normalized(Vec3{std::sin(b), std::cos(b), 0.12});
    const phantom::PhantomNeedle truth{tipLps + needleOutward * 80.0, tipLps, 22};
    const auto post = phantom::generatePostInsertionCt(postOptions({truth}));
    imaging::writeVolumeNrrd(post.ct, (m_folder.path() / "needle.nrrd").string());
    const auto [ok, message] = openPost(m_folder.path() / "needle.nrrd");
    ASSERT_TRUE(ok) << message.toStdString();

    // By hand from the truth: the tip error is |offset|; along the planned axis (entry → target,
    // -outward) it is -offset·outward, across it the rest; the angle is between the two outward
    // directions. The accuracy figures (0.5 mm, 0.5 degree) are the tolerances.
    const double tipError = norm(tipOffset);
    const double along = -dot(tipOffset, outward);
    const double across = std::sqrt(tipError * tipError - along * along);
    ASSERT_EQ(table()->rowCount(), 1);
    EXPECT_EQ(table()->item(0, 0)->text(), named.name);
    EXPECT_EQ(table()->item(0, 1)->text(), "needle 1");
    EXPECT_NEAR(table()->item(0, 2)->text().toDouble(), tipError, 0.5);
    EXPECT_NEAR(table()->item(0, 3)->text().toDouble(), along, 0.5);
    EXPECT_NEAR(table()->item(0, 4)->text().toDouble(), across, 0.5);
    EXPECT_NEAR(table()->item(0, 6)->text().toDouble(), angleDeg(outward, needleOutward), 0.5);
    const QString verdict = table()->item(0, 7)->text();
    EXPECT_TRUE(verdict.startsWith("SAFE") || verdict.startsWith("UNSAFE")) << verdict.toStdString();

    // Drawn beside the plan, in the needles' colour, tip where the truth puts it.
    const PlanGraphics& drawn = m_window->viewGrid()->drawnGraphics();
    ASSERT_EQ(drawn.trajectories.size(), 2u);
    const render::TrajectoryGraphic& needle = drawn.trajectories[1];
    EXPECT_EQ(needle.colorRgb, kActualNeedleRgb);
    EXPECT_LT(distance(needle.targetLps, tipLps), 0.5);
    EXPECT_LT(angleDeg(normalized(needle.entryLps - needle.targetLps), needleOutward), 0.5);

    // The plan changes after the measurement: the target moves 4 mm to the patient's left. The
    // table is marked stale (it compares with the previous plan) and offers to re-measure.
    auto* remeasure = m_window->findChild<QPushButton*>("postInsertionRemeasureButton");
    ASSERT_NE(remeasure, nullptr);
    auto* status = m_window->findChild<QLabel*>("postInsertionStatus");
    EXPECT_FALSE(remeasure->isVisible());
    EXPECT_FALSE(m_model->stale());
    const Vec3 shift{4.0, 0.0, 0.0};
    m_window->placeTarget(named.positionLps + shift);
    EXPECT_TRUE(m_model->stale());
    EXPECT_TRUE(remeasure->isVisible());
    EXPECT_TRUE(status->text().contains("plan has changed")) << status->text().toStdString();
    EXPECT_TRUE(table()->item(0, 7)->text().startsWith("STALE")) << table()->item(0, 7)->text().toStdString();
    // Undoing the move brings back the plan that was measured: no longer stale.
    m_window->undoStack().undo();
    EXPECT_FALSE(m_model->stale());
    EXPECT_FALSE(remeasure->isVisible());
    EXPECT_FALSE(table()->item(0, 7)->text().startsWith("STALE"));
    m_window->undoStack().redo();
    ASSERT_TRUE(remeasure->isVisible());

    // Re-measure: the same needle against the moved target. By hand: the tip error is now
    // |offset - shift|.
    bool remeasured = false, remeasuredOk = false;
    auto connection = QObject::connect(m_model, &PostInsertionModel::finished, m_window.get(),
                                       [&](bool success, const QString&) {
                                           remeasured = true;
                                           remeasuredOk = success;
                                       });
    remeasure->click();
    ASSERT_TRUE(test::waitUntil([&] { return remeasured; }, 240000)) << "the re-measure did not finish";
    QObject::disconnect(connection);
    ASSERT_TRUE(remeasuredOk) << status->text().toStdString();
    EXPECT_FALSE(m_model->stale());
    EXPECT_FALSE(remeasure->isVisible());
    ASSERT_EQ(table()->rowCount(), 1);
    EXPECT_NEAR(table()->item(0, 2)->text().toDouble(), norm(tipOffset - shift), 0.5);
    EXPECT_FALSE(table()->item(0, 7)->text().startsWith("STALE"));

    // A trajectory added (a second target with its entry) or removed makes it stale again.
    m_window->addTarget("second", named.positionLps + Vec3{0.0, 0.0, 30.0});
    EXPECT_FALSE(m_model->stale()) << "a target without an entry has no trajectory yet";
    m_window->placeEntry(named.positionLps + Vec3{0.0, 0.0, 30.0} + outward * 70.0);
    EXPECT_TRUE(m_model->stale());
    m_window->planModel().removeTarget(1);
    EXPECT_FALSE(m_model->stale()) << "back to the measured plan";
    m_window->planModel().removeTarget(0);
    EXPECT_TRUE(m_model->stale());
    EXPECT_TRUE(remeasure->isVisible());
}

TEST_F(PostInsertionOnPhantom, UnreadableScanOrNoTrajectoryIsAClearMessage)
{
    openPlanningCt(false);
    // No trajectory in the plan yet.
    auto [ok, message] = openPost(m_folder.path() / "missing.nrrd");
    EXPECT_FALSE(ok);
    EXPECT_TRUE(message.contains("no trajectory")) << message.toStdString();
    m_window->addTarget("T", {0, 0, 0});
    m_window->placeEntry({0, 25, 0});
    std::tie(ok, message) = openPost(m_folder.path() / "missing.nrrd");
    EXPECT_FALSE(ok);
    EXPECT_TRUE(message.contains("missing.nrrd")) << message.toStdString();
    EXPECT_EQ(m_window->viewGrid()->drawnGraphics().trajectories.size(), 1u);
}

} // namespace
} // namespace np::gui
