// The clinician's path on the sample phantom: click a target, search, see the chosen path in the
// 3D image read back from VTK, save the plan and open it again.

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/render/ImageCapture.h"

#include <QAbstractButton>
#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <QTableWidget>
#include <QTimer>
#include <cmath>
#include <fstream>
#include <gtest/gtest.h>
#include <vtkRenderer.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

class PhantomWorkflow : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath()); // a crashed earlier run would offer recovery
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1500, 950);
        m_window->show();
        ASSERT_TRUE(test::waitUntil(
            [&] {
                return m_window->sliceView(SliceOrientation::Axial)->isRenderingAvailable() &&
                       m_window->modelView()->isRenderingAvailable();
            },
            20000));
        bool loaded = false, ok = false, surfaces = false;
        QObject listener; // drops the connection before the locals it captures go away
        QObject::connect(m_window.get(), &MainWindow::loadFinished, &listener,
                         [&](bool success, const QString&) {
                             loaded = true;
                             ok = success;
                         });
        QObject::connect(m_window.get(), &MainWindow::surfacesReady, &listener, [&] { surfaces = true; });
        m_window->openSamplePhantom();
        ASSERT_TRUE(test::waitUntil([&] { return loaded && (!ok || surfaces); }, 240000))
            << "the phantom did not load";
        ASSERT_TRUE(ok) << "the sample phantom could not be opened or generated";
        ASSERT_TRUE(m_window->structuresModel().labels()) << "the phantom's structures were not loaded";
        ASSERT_FALSE(m_window->namedTargets().empty()) << "the phantom's targets.json was not found";
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }

    /// The L4 medial branch target (or the first one) of the phantom.
    NamedTargetEntry namedTarget() const
    {
        for (const NamedTargetEntry& target : m_window->namedTargets())
            if (target.name.startsWith("L4 medial branch"))
                return target;
        return m_window->namedTargets().front();
    }

    /// Places the target by a click on the axial view, runs the search and waits for it.
    void clickTargetAndSearch(const Vec3& wantedLps)
    {
        m_window->viewStateModel().setCursorLps(wantedLps);
        SliceViewWidget* axial = m_window->sliceView(SliceOrientation::Axial);
        const double dpr = axial->devicePixelRatioF();
        const Vec3 display = axial->scene().displayFromLps(wantedLps);
        m_window->setPickMode(PickMode::SetTarget);
        test::clickAt(axial, QPointF(display.x / dpr, display.y / dpr));
        ASSERT_EQ(m_window->planModel().targets().size(), 1u);
        const Vec3 placed = m_window->planModel().targets()[0].targetLps;
        EXPECT_LT(distance(placed, wantedLps), 1.0 * axial->scene().mmPerPixel() * dpr + 1e-6);

        bool finished = false, ok = false;
        QString message;
        auto connection = QObject::connect(m_window.get(), &MainWindow::searchFinished, m_window.get(),
                                           [&](bool success, const QString& text) {
                                               finished = true;
                                               ok = success;
                                               message = text;
                                           });
        m_window->findSafeTrajectories();
        ASSERT_TRUE(test::waitUntil([&] { return finished; }, 180000)) << "the search did not finish";
        QObject::disconnect(connection);
        ASSERT_TRUE(ok) << message.toStdString();
    }

    std::unique_ptr<MainWindow> m_window;
};

TEST_F(PhantomWorkflow, ClickedTargetIsSearchedRankedAndDrawnIn3D)
{
    const NamedTargetEntry named = namedTarget();
    clickTargetAndSearch(named.positionLps);

    const PlanTarget& target = m_window->planModel().targets()[0];
    ASSERT_FALSE(target.ranked.empty()) << "no safe trajectory for " << named.name.toStdString();
    EXPECT_EQ(m_window->rankedList()->rowCount(), static_cast<int>(target.ranked.size()));
    EXPECT_EQ(target.selectedRank, 0);
    ASSERT_TRUE(target.entryLps);
    for (const TrajectoryRecord& record : target.ranked) {
        EXPECT_TRUE(record.evaluation.safe);
        EXPECT_NEAR(distance(record.targetLps, target.targetLps), 0.0, 1e-9);
        EXPECT_NEAR(record.evaluation.lengthMm, distance(record.entryLps, record.targetLps), 1e-6);
    }
    EXPECT_TRUE(m_window->readoutHtml().contains("SAFE"));

    // The selected path in the 3D image: capture with and without it, looking across the needle.
    ModelViewWidget* model = m_window->modelView();
    const Vec3 entryLps = *target.entryLps, targetLps = target.targetLps;
    const Vec3 along = normalized(targetLps - entryLps);
    Vec3 across = normalized(cross(along, {0, 0, 1}));
    model->scene().setAccessMapVisible(false);
    model->scene().lookAlong(0.5 * (entryLps + targetLps), across, {0, 0, 1});
    const render::RgbImage with = model->captureVtkImage();
    model->scene().setTrajectories({});
    const render::RgbImage without = model->captureVtkImage();
    ASSERT_GT(with.width, 50);
    ASSERT_EQ(with.width, without.width);
    vtkRenderer* renderer = model->scene().renderer();
    auto project = [&](const Vec3& p) {
        renderer->SetWorldPoint(p.x, p.y, p.z, 1.0);
        renderer->WorldToDisplay();
        double d[3];
        renderer->GetDisplayPoint(d);
        return QPointF(d[0], with.height - 1 - d[1]);
    };
    const QPointF a = project(entryLps), b = project(targetLps);
    // The other candidates are drawn too (fainter): pixels near them are neither near nor far.
    std::vector<std::pair<QPointF, QPointF>> others;
    for (const TrajectoryRecord& record : target.ranked)
        others.emplace_back(project(record.entryLps), project(record.targetLps));
    auto distanceToSegment = [](const QPointF& p, const QPointF& s0, const QPointF& s1) {
        const QPointF d = s1 - s0, v = p - s0;
        const double t =
            std::clamp(QPointF::dotProduct(v, d) / std::max(1e-9, QPointF::dotProduct(d, d)), -1.0, 1.0);
        const QPointF closest = s0 + d * t;
        return std::hypot(p.x() - closest.x(), p.y() - closest.y());
    };
    int changedNear = 0, changedFar = 0;
    for (int y = 0; y < with.height; ++y)
        for (int x = 0; x < with.width; ++x) {
            const std::uint8_t* p = with.pixel(x, y);
            const std::uint8_t* q = without.pixel(x, y);
            if (std::abs(p[0] - q[0]) + std::abs(p[1] - q[1]) + std::abs(p[2] - q[2]) < 30)
                continue;
            const QPointF pixel(x, y);
            if (distanceToSegment(pixel, a, b) < 8.0) {
                ++changedNear;
                continue;
            }
            bool nearOther = false;
            for (const auto& [s0, s1] : others)
                nearOther = nearOther || distanceToSegment(pixel, s0, s1) < 8.0;
            if (!nearOther)
                ++changedFar;
        }
    const double pathPixels = std::hypot(b.x() - a.x(), b.y() - a.y());
    EXPECT_GT(changedNear, 0.3 * pathPixels) << "the selected trajectory is not visible in the 3D image";
    EXPECT_LT(changedFar, changedNear / 4 + 30) << "pixels changed away from the trajectory";

    // A manual entry whose path runs through the spinal canal is reported unsafe, live.
    const imaging::LabelMap& labels = *m_window->structuresModel().labels();
    const imaging::Segment* canal = labels.findSegment("spinal_canal");
    if (!canal)
        canal = labels.findSegment("thecal_sac");
    ASSERT_NE(canal, nullptr) << "the phantom has no spinal canal label";
    Vec3 sumIjk;
    double count = 0;
    const auto& size = labels.geometry().size;
    const std::int64_t k = static_cast<std::int64_t>(std::lround(labels.geometry().ijkFromLps(targetLps).z));
    for (std::int64_t j = 0; j < size[1]; ++j)
        for (std::int64_t i = 0; i < size[0]; ++i)
            if (labels.at(i, j, k) == canal->labelValue) {
                sumIjk += Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)};
                count += 1;
            }
    ASSERT_GT(count, 0.0);
    const Vec3 canalLps = labels.geometry().lpsFromIjk(sumIjk / count);
    const Vec3 throughCanalLps = targetLps + (canalLps - targetLps) * 1.6;
    m_window->placeEntry(throughCanalLps);
    EXPECT_TRUE(test::waitUntil([&] { return m_window->readoutHtml().contains("UNSAFE"); }, 60000))
        << "a path through the spinal canal was not reported unsafe";
}

TEST_F(PhantomWorkflow, PlanSavedAndOpenedAgainRestoresTargetsAndTrajectories)
{
    const NamedTargetEntry named = namedTarget();
    clickTargetAndSearch(named.positionLps);
    // Choose the second candidate, as a user clicking the ranked list would.
    const PlanTarget saved = m_window->planModel().targets()[0];
    const int chosen = saved.ranked.size() > 1 ? 1 : 0;
    m_window->selectCandidate(chosen);
    const PlanTarget expected = m_window->planModel().targets()[0];

    test::TempDir folder("np-gui-plan");
    const QString path = QString::fromStdString((folder.path() / "case.needleplan.json").string());
    QString error;
    ASSERT_TRUE(m_window->savePlanFile(path, &error)) << error.toStdString();
    EXPECT_TRUE(m_window->undoStack().isClean());

    // Change the plan, then open the saved file.
    m_window->planModel().removeTarget(0);
    ASSERT_TRUE(m_window->planModel().targets().empty());
    bool opened = false, ok = false;
    QObject listener; // drops the connection before the locals it captures go away
    QObject::connect(m_window.get(), &MainWindow::planOpened, &listener, [&](bool success, const QString&) {
        opened = true;
        ok = success;
    });
    // The plan in memory has unsaved changes: opening another plan asks first; discard them.
    bool asked = false;
    QTimer::singleShot(200, m_window.get(), [&] {
        if (auto* question = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            asked = true;
            question->button(QMessageBox::Discard)->click();
        }
    });
    m_window->openPlanFile(path);
    EXPECT_TRUE(asked);
    ASSERT_TRUE(test::waitUntil([&] { return opened; }, 60000));
    ASSERT_TRUE(ok);
    ASSERT_EQ(m_window->planModel().targets().size(), 1u);
    const PlanTarget& restored = m_window->planModel().targets()[0];
    EXPECT_EQ(restored.name, expected.name);
    EXPECT_NEAR(distance(restored.targetLps, expected.targetLps), 0.0, 1e-9);
    ASSERT_TRUE(restored.entryLps);
    EXPECT_NEAR(distance(*restored.entryLps, *expected.entryLps), 0.0, 1e-9);
    EXPECT_EQ(restored.ranked.size(), expected.ranked.size());
    EXPECT_EQ(restored.selectedRank, chosen);
    EXPECT_TRUE(m_window->undoStack().isClean());

    // A corrupt plan is refused with a message, and the plan in memory stays.
    const auto corrupt = folder.path() / "corrupt.needleplan.json";
    std::ofstream(corrupt) << "{\"schema\": \"needleplan.plan/1\", \"targets\": [ {\"name\": 3";
    opened = false;
    m_window->openPlanFile(QString::fromStdString(corrupt.string()));
    ASSERT_TRUE(test::waitUntil([&] { return opened; }, 60000));
    EXPECT_FALSE(ok);
    QMessageBox* box = m_window->findChild<QMessageBox*>("errorBox");
    ASSERT_NE(box, nullptr);
    box->close();
    EXPECT_EQ(m_window->planModel().targets().size(), 1u);
}

} // namespace
} // namespace np::gui
