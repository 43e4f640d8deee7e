// Saving a plan writes its structures (the .seg.nrrd beside it) off the GUI thread: the window keeps
// answering, the file reads back voxel for voxel through ITK's own reader, a failed write is a
// dialog naming the file with the plan left unsaved, and closing the window during a save waits for
// complete files.

#include "GuiTestSupport.h"
#include "ObliqueGrid.h"
#include "TestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/planning/PlanDocument.h"

#include <QApplication>
#include <QFile>
#include <QMessageBox>
#include <QTimer>
#include <QUndoStack>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <optional>
#include <unistd.h>

namespace np::gui {
namespace {

/// An oblique, anisotropic grid of `size` voxels of 0.8×0.65×1.9 mm (rotated 0.25 rad about S,
/// tilted 0.15 rad).
imaging::Geometry obliqueGrid(std::int64_t ni, std::int64_t nj, std::int64_t nk)
{
    return test::obliqueGeometry({ni, nj, nk}, {0.8, 0.65, 1.9}, {-60.0, -45.0, -80.0}, 0.25, 0.15);
}

/// Three structures in blocks: value ((i / blockI + j / blockJ + k / blockK) mod 4), 0 being
/// background.
/// Thin slabs keep the compressor busy; thick ones keep the window's surfaces small.
std::shared_ptr<imaging::LabelMap> stripedLabels(const imaging::Geometry& g, std::int64_t blockI = 3,
                                                 std::int64_t blockJ = 5, std::int64_t blockK = 1)
{
    auto labels = std::make_shared<imaging::LabelMap>(g);
    labels->segments() = {{"vertebra_L4", 1, {0.9, 0.9, 0.8}},
                          {"kidney_right", 2, {0.8, 0.3, 0.2}},
                          {"nerve_root_L4_left", 3, {1.0, 0.9, 0.1}}};
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                labels->at(i, j, k) = static_cast<std::uint16_t>((i / blockI + j / blockJ + k / blockK) % 4);
    return labels;
}

/// Differences between the .seg.nrrd at `path`, read by ITK's reader, and `expected`: voxel values
/// and the grid. "" when they are equal.
std::string compareWithItk(const std::filesystem::path& path, const imaging::LabelMap& expected)
{
    using Image = itk::Image<unsigned short, 3>;
    auto reader = itk::ImageFileReader<Image>::New();
    reader->SetFileName(path.string());
    try {
        reader->Update();
    } catch (const itk::ExceptionObject& e) {
        return std::string("ITK cannot read it: ") + e.GetDescription();
    }
    const Image* image = reader->GetOutput();
    const imaging::Geometry& g = expected.geometry();
    const auto size = image->GetLargestPossibleRegion().GetSize();
    for (unsigned a = 0; a < 3; ++a) {
        if (static_cast<std::int64_t>(size[a]) != g.size[static_cast<int>(a)])
            return "size differs on axis " + std::to_string(a);
        if (std::abs(image->GetSpacing()[a] - g.spacing[static_cast<int>(a)]) > 1e-6)
            return "spacing differs on axis " + std::to_string(a);
        if (std::abs(image->GetOrigin()[a] - g.originLps[static_cast<int>(a)]) > 1e-6)
            return "origin differs on axis " + std::to_string(a);
        for (unsigned b = 0; b < 3; ++b)
            if (std::abs(image->GetDirection()(a, b) -
                         g.directionLps(static_cast<int>(a), static_cast<int>(b))) > 1e-9)
                return "direction differs";
    }
    const unsigned short* voxels = image->GetBufferPointer();
    const auto& values = expected.labels();
    for (std::size_t n = 0; n < values.size(); ++n)
        if (voxels[n] != values[n])
            return "voxel " + std::to_string(n) + " is " + std::to_string(voxels[n]) + ", not " +
                   std::to_string(values[n]);
    return "";
}

std::vector<std::string> filesIn(const std::filesystem::path& folder)
{
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

/// The workstation's models without a window.
struct Models
{
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image{task};
    StructuresModel structures{image, undo, task};
    PlanModel plan{image, structures, undo, task};
};

TEST(PlanSavedInBackground, TheEventLoopTurnsDuringTheSaveAndTheStructuresReadBackVoxelForVoxel)
{
    NP_REQUIRE_DISPLAY();
    // 240×220×110 voxels (5.8 million): long enough to write that the event loop visibly turns.
    const imaging::Geometry grid = obliqueGrid(240, 220, 110);
    Models models;
    imaging::Volume volume(grid, 40.0f);
    volume.info().seriesUid = "1.2.826.0.1.3680043.10.7";
    models.image.setVolume(std::make_shared<imaging::Volume>(std::move(volume)), "/data/ct.nrrd");
    const auto labels = stripedLabels(grid);
    emit models.image.labelsLoaded(labels);
    ASSERT_EQ(models.structures.labels(), labels);
    models.plan.addTarget("L4 medial branch left", grid.lpsFromIjk({120.0, 110.0, 55.0}));
    ASSERT_FALSE(models.undo.isClean());

    test::TempDir folder("np-gui-background-save");
    const QString planPath = QString::fromStdString((folder.path() / "case.needleplan.json").string());
    int ticksWhileSaving = 0;
    QTimer ticker;
    ticker.setInterval(2);
    QObject::connect(&ticker, &QTimer::timeout, [&] { ticksWhileSaving += models.plan.saving() ? 1 : 0; });
    ticker.start();
    std::optional<bool> saved;
    QString error;
    models.plan.startSave(planPath, false, [&](bool ok, const QString& message) {
        saved = ok;
        error = message;
    });
    // startSave returned before the files were written: the GUI thread is free.
    EXPECT_TRUE(models.plan.saving());
    EXPECT_FALSE(saved.has_value());
    ASSERT_TRUE(test::waitUntil([&] { return saved.has_value(); }, 120000)) << "the save did not finish";
    ticker.stop();
    ASSERT_TRUE(*saved) << error.toStdString();
    EXPECT_GT(ticksWhileSaving, 0) << "a timer never fired while the structures were written";
    EXPECT_FALSE(models.plan.saving());
    EXPECT_TRUE(models.undo.isClean());
    EXPECT_FALSE(models.structures.editedSinceSaved());
    EXPECT_EQ(models.plan.planPath(), planPath);

    // On disk: the plan naming its structures, the structures equal voxel for voxel, nothing else.
    EXPECT_EQ(filesIn(folder.path()), (std::vector<std::string>{"case.needleplan.json", "case.seg.nrrd"}));
    const planning::Plan plan = planning::loadPlan(planPath.toStdString());
    EXPECT_EQ(plan.image.segmentationPath, "case.seg.nrrd");
    ASSERT_EQ(plan.targets.size(), 1u);
    EXPECT_EQ(compareWithItk(folder.path() / "case.seg.nrrd", *labels), "");
}

TEST(PlanSavedInBackground, ASecondSaveWaitsForTheFirstAndBothFilesAreComplete)
{
    NP_REQUIRE_DISPLAY();
    const imaging::Geometry grid = obliqueGrid(120, 100, 60);
    Models models;
    models.image.setVolume(std::make_shared<imaging::Volume>(grid, 40.0f), "/data/ct.nrrd");
    const auto labels = stripedLabels(grid);
    emit models.image.labelsLoaded(labels);
    models.plan.addTarget("L4 medial branch left", grid.lpsFromIjk({60.0, 50.0, 30.0}));

    test::TempDir folder("np-gui-queued-save");
    const QString first = QString::fromStdString((folder.path() / "first.needleplan.json").string());
    const QString second = QString::fromStdString((folder.path() / "second.needleplan.json").string());
    std::vector<QString> finished;
    models.plan.startSave(first, false,
                          [&](bool ok, const QString&) { finished.push_back(ok ? first : "failed"); });
    // An edit between the two: only the second save holds it.
    models.plan.addTarget("L5 medial branch left", grid.lpsFromIjk({60.0, 50.0, 40.0}));
    models.plan.startSave(second, false,
                          [&](bool ok, const QString&) { finished.push_back(ok ? second : "failed"); });
    models.plan.waitForSaves();
    ASSERT_EQ(finished, (std::vector<QString>{first, second})) << "the saves ran out of order or failed";
    EXPECT_EQ(planning::loadPlan(first.toStdString()).targets.size(), 1u);
    EXPECT_EQ(planning::loadPlan(second.toStdString()).targets.size(), 2u);
    EXPECT_EQ(compareWithItk(folder.path() / "first.seg.nrrd", *labels), "");
    EXPECT_EQ(compareWithItk(folder.path() / "second.seg.nrrd", *labels), "");
    EXPECT_TRUE(models.undo.isClean()) << "the last save holds every edit";
    EXPECT_EQ(models.plan.planPath(), second);
}

/// The workstation window (not scripted: errors are dialogs) with an image and its structures.
class PlanSavedFromTheWindow : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath());
        m_window = std::make_unique<MainWindow>();
        m_window->setScriptedMode(false);
        m_window->resize(1200, 800);
        m_window->show();
        imaging::Volume volume(m_grid, 40.0f);
        volume.info().seriesUid = "1.2.826.0.1.3680043.10.8";
        m_window->imageModel().setVolume(std::make_shared<imaging::Volume>(std::move(volume)),
                                         "/data/ct.nrrd");
        m_labels = stripedLabels(m_grid, 25, 20, 10);
        emit m_window->imageModel().labelsLoaded(m_labels);
        ASSERT_EQ(m_window->structuresModel().labels(), m_labels);
        m_window->addTarget("L4 medial branch left", m_grid.lpsFromIjk({50.0, 40.0, 20.0}));
        // A rename: a segmentation edit that only a save keeps.
        StructureRow renamed = m_window->structuresModel().rows()[1];
        renamed.style.name = "kidney_right_lower_pole";
        m_window->structuresModel().editRow(1, renamed, "Rename %1");
        ASSERT_TRUE(m_window->structuresModel().editedSinceSaved());
        ASSERT_FALSE(m_window->undoStack().isClean());
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->planModel().waitForSaves();
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
        QFile::remove(MainWindow::autosavePath());
    }
    const imaging::Geometry m_grid = obliqueGrid(100, 80, 40);
    std::shared_ptr<imaging::LabelMap> m_labels;
    std::unique_ptr<MainWindow> m_window;
};

TEST_F(PlanSavedFromTheWindow, AWriteIntoAReadOnlyFolderIsADialogNamingTheFileAndThePlanStaysUnsaved)
{
    test::TempDir folder("np-gui-read-only");
    const auto readOnly = folder.path() / "read-only";
    std::filesystem::create_directory(readOnly);
    std::filesystem::permissions(readOnly,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    std::filesystem::path planFolder = readOnly;
    if (std::ofstream(readOnly / "probe").good()) {
        // Permission bits do not stop this user (root): /proc takes no new files from anyone.
        std::filesystem::remove(readOnly / "probe");
        planFolder = "/proc";
    }
    const QString planPath = QString::fromStdString((planFolder / "case.needleplan.json").string());
    const std::string segmentationPath = (planFolder / "case.seg.nrrd").string();
    m_window->startSavingPlan(planPath);
    QMessageBox* box = nullptr;
    ASSERT_TRUE(test::waitUntil(
        [&] {
            box = m_window->findChild<QMessageBox*>("errorBox");
            return box && box->isVisible();
        },
        60000))
        << "no error dialog";
    EXPECT_TRUE(box->text().contains(QString::fromStdString(segmentationPath))) << box->text().toStdString();
    box->done(QMessageBox::Ok);
    EXPECT_FALSE(m_window->planModel().saving());
    EXPECT_FALSE(m_window->undoStack().isClean());
    EXPECT_TRUE(m_window->isWindowModified());
    EXPECT_TRUE(m_window->structuresModel().editedSinceSaved());
    EXPECT_TRUE(m_window->planModel().planPath().isEmpty());
    EXPECT_EQ(m_window->structuresModel().labels(), m_labels) << "the structures were kept";
    EXPECT_FALSE(std::filesystem::exists(planFolder / "case.needleplan.json"));
    EXPECT_FALSE(std::filesystem::exists(segmentationPath));
    std::filesystem::permissions(readOnly, std::filesystem::perms::owner_all);
}

TEST_F(PlanSavedFromTheWindow, ClosingTheWindowDuringASaveWaitsForCompleteFiles)
{
    test::TempDir folder("np-gui-close-during-save");
    const auto planPath = folder.path() / "case.needleplan.json";
    m_window->startSavingPlan(QString::fromStdString(planPath.string()));
    ASSERT_TRUE(m_window->planModel().saving());
    // A question here would mean the save was not waited for; it is answered Cancel and counted.
    bool asked = false;
    QTimer guard;
    QObject::connect(&guard, &QTimer::timeout, [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
            asked = true;
            box->done(QMessageBox::Cancel);
        }
    });
    guard.start(200);
    const bool closed = m_window->close();
    guard.stop();
    EXPECT_FALSE(asked) << "closing asked to save a plan whose save was running";
    EXPECT_TRUE(closed);
    EXPECT_FALSE(m_window->planModel().saving());
    EXPECT_TRUE(m_window->undoStack().isClean());
    EXPECT_EQ(filesIn(folder.path()), (std::vector<std::string>{"case.needleplan.json", "case.seg.nrrd"}));
    const planning::Plan plan = planning::loadPlan(planPath.string());
    EXPECT_EQ(plan.image.segmentationPath, "case.seg.nrrd");
    ASSERT_EQ(plan.targets.size(), 1u);
    EXPECT_EQ(plan.targets[0].name, "L4 medial branch left");
    EXPECT_EQ(compareWithItk(folder.path() / "case.seg.nrrd", *m_labels), "");
    // The rename is in the file (the segment names as 3D Slicer reads them).
    std::ifstream header(folder.path() / "case.seg.nrrd", std::ios::binary);
    std::string text(4096, '\0');
    header.read(text.data(), static_cast<std::streamsize>(text.size()));
    EXPECT_NE(text.find("Segment1_Name:=kidney_right_lower_pole"), std::string::npos);
}

} // namespace
} // namespace np::gui
