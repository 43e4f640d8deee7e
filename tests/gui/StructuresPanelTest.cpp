// The structures panel on the sample phantom: automatic segmentation and import add structures
// as one undo step, and the accessibility map is painted on the skin mesh of the 3D view.

#include "GuiTestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/StructureMerge.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/render/ModelScene.h"

#include <QApplication>
#include <QDialog>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QPushButton>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <gtest/gtest.h>
#include <string>
#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>

namespace np::gui {
namespace {

using render::SliceOrientation;

bool isPhantomBone(const std::string& name)
{
    return name.rfind("vertebra_", 0) == 0 || name == "sacrum" || name.rfind("bone_ilium", 0) == 0;
}

class StructuresPanel : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        QFile::remove(MainWindow::autosavePath());
        m_window = std::make_unique<MainWindow>();
        m_window->setScriptedMode(true);
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
        QObject::connect(m_window.get(), &MainWindow::surfacesReady, &listener,
                         [&] { surfaces = true; });
        m_window->openSamplePhantom();
        ASSERT_TRUE(test::waitUntil([&] { return loaded && (!ok || surfaces); }, 240000))
            << "the phantom did not load";
        ASSERT_TRUE(ok);
        ASSERT_TRUE(m_window->structuresModel().labels());
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

    /// Runs `start` and waits for structuresUpdated; returns its ok flag.
    bool waitForStructures(const std::function<void()>& start, QString* message = nullptr)
    {
        bool finished = false, ok = false;
        auto connection = QObject::connect(m_window.get(), &MainWindow::structuresUpdated, m_window.get(),
                                           [&](bool success, const QString& text) {
                                               finished = true;
                                               ok = success;
                                               if (message)
                                                   *message = text;
                                           });
        start();
        const bool done = test::waitUntil([&] { return finished; }, 180000);
        QObject::disconnect(connection);
        m_window->task().waitForIdle();
        return done && ok;
    }

    const StructureRow* row(const std::string& name) const
    {
        for (const StructureRow& r : m_window->structuresModel().rows())
            if (r.style.name == name)
                return &r;
        return nullptr;
    }

    std::unique_ptr<MainWindow> m_window;
};

TEST_F(StructuresPanel, PanelOffersTheStructureActions)
{
    for (const char* name :
         {"segmentButton", "importStructuresButton", "exportSegNrrdButton", "exportDicomSegButton"})
        EXPECT_NE(m_window->findChild<QPushButton*>(name), nullptr) << name;
}

TEST_F(StructuresPanel, SegmentDialogOffersTheDocumentedThresholds)
{
    // The dialog is modal: inspect and close it from inside its event loop.
    std::vector<double> values;
    bool seen = false;
    QTimer::singleShot(300, m_window.get(), [&] {
        auto* dialog = qobject_cast<QDialog*>(QApplication::activeModalWidget());
        if (!dialog)
            return;
        seen = true;
        for (QDoubleSpinBox* box : dialog->findChildren<QDoubleSpinBox*>())
            values.push_back(box->value());
        dialog->reject();
    });
    const int undoBefore = m_window->undoStack().count();
    m_window->findChild<QPushButton*>("segmentButton")->click();
    ASSERT_TRUE(seen) << "no dialog appeared";
    // imaging/Segmentation.h: body -400 HU, bone 150 HU, lung -400 HU.
    EXPECT_EQ(values, (std::vector<double>{-400.0, 150.0, -400.0}));
    EXPECT_EQ(m_window->undoStack().count(), undoBefore) << "a cancelled dialog changes nothing";
}

TEST_F(StructuresPanel, CancelledSegmentationChangesNothing)
{
    const auto before = m_window->structuresModel().labels();
    const int undoBefore = m_window->undoStack().count();
    bool finished = false, ok = true;
    QObject listener; // drops the connection before the locals it captures go away
    QObject::connect(m_window.get(), &MainWindow::structuresUpdated, &listener,
                     [&](bool success, const QString&) {
                         finished = true;
                         ok = success;
                     });
    m_window->segmentAutomatically(imaging::SegmentationOptions{});
    m_window->task().cancel();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 120000));
    EXPECT_FALSE(ok);
    EXPECT_EQ(m_window->structuresModel().labels(), before);
    EXPECT_EQ(m_window->undoStack().count(), undoBefore);
}

TEST_F(StructuresPanel, ImportWithoutImageFailsCleanly)
{
    MainWindow empty;
    empty.setScriptedMode(true);
    bool finished = false, ok = true;
    QObject::connect(&empty, &MainWindow::structuresUpdated, &empty, [&](bool success, const QString&) {
        finished = true;
        ok = success;
    });
    empty.importStructureFile("/nonexistent/structures.seg.nrrd");
    EXPECT_TRUE(finished);
    EXPECT_FALSE(ok);
    EXPECT_EQ(empty.undoStack().count(), 0);
    QString error;
    EXPECT_FALSE(empty.exportSegNrrd(QDir::tempPath() + "/never.seg.nrrd", &error));
    EXPECT_FALSE(error.isEmpty());
}

TEST_F(StructuresPanel, SegmentingAddsBodyAndBoneAsOneUndoStep)
{
    const auto truth = m_window->structuresModel().labels();
    const std::size_t rowsBefore = m_window->structuresModel().rows().size();
    std::vector<bool> truthBone(65536, false);
    for (const imaging::Segment& segment : truth->segments())
        truthBone[segment.labelValue] = isPhantomBone(segment.name);
    const int undoBefore = m_window->undoStack().count();

    imaging::SegmentationOptions options;
    options.lung = false;
    options.bowelGas = options.spinalCanal = options.vertebrae = false; // body and bone only
    QString message;
    ASSERT_TRUE(waitForStructures([&] { m_window->segmentAutomatically(options); }, &message))
        << message.toStdString();
    EXPECT_EQ(m_window->undoStack().count(), undoBefore + 1);

    const StructureRow* body = row("body");
    const StructureRow* bone = row("bone");
    ASSERT_NE(body, nullptr);
    ASSERT_NE(bone, nullptr);
    // Planning defaults by name (planning/Structure.h): body ignored, bone an obstacle, 0 mm.
    EXPECT_EQ(body->spec.structureClass, planning::StructureClass::Ignored);
    EXPECT_EQ(bone->spec.structureClass, planning::StructureClass::Obstacle);
    EXPECT_DOUBLE_EQ(bone->spec.marginMm, 0.0);
    // The phantom already has a "body" (replaced in place, keeping its row); "bone" is new.
    EXPECT_EQ(m_window->structuresModel().rows().size(), rowsBefore + 1);

    const auto merged = m_window->structuresModel().labels();
    ASSERT_NE(merged, truth);
    const std::int64_t count = merged->geometry().voxelCount();
    std::int64_t bodyVoxels = 0, boneVoxels = 0, truthVoxels = 0, both = 0, forbiddenLost = 0;
    std::vector<int> severity(65536, 0);
    for (const StructureRow& r : m_window->structuresModel().rows())
        severity[r.spec.labelValue] = classSeverity(r.spec.structureClass);
    for (std::int64_t i = 0; i < count; ++i) {
        const std::uint16_t now = merged->labels()[i];
        const std::uint16_t before = truth->labels()[i];
        bodyVoxels += now == body->spec.labelValue;
        const bool segmented = now == bone->spec.labelValue;
        boneVoxels += segmented;
        truthVoxels += truthBone[before];
        both += segmented && truthBone[before];
        // A forbidden voxel of the phantom never goes to a less severe class.
        if (before != 0 && severity[before] == 4 && now != before)
            ++forbiddenLost;
    }
    EXPECT_GT(bodyVoxels, 0);
    EXPECT_GT(boneVoxels, 0);
    ASSERT_GT(truthVoxels, 0);
    const double dice = 2.0 * static_cast<double>(both) / static_cast<double>(boneVoxels + truthVoxels);
    EXPECT_GT(dice, 0.9) << "bone Dice against the phantom's vertebrae, sacrum and ilia";
    std::printf("bone Dice against the phantom's bones: %.4f\n", dice);
    EXPECT_EQ(forbiddenLost, 0);

    // One undo step brings the phantom's own structures back.
    m_window->undoStack().undo();
    EXPECT_EQ(m_window->structuresModel().labels(), truth);
    EXPECT_EQ(m_window->structuresModel().rows().size(), rowsBefore);
    EXPECT_EQ(row("bone"), nullptr);
    m_window->undoStack().redo();
    EXPECT_NE(row("bone"), nullptr);
}

TEST_F(StructuresPanel, ReimportingTheExportIsOneUndoStepAndChangesNoVoxel)
{
    QTemporaryDir dir;
    ASSERT_TRUE(dir.isValid());
    const QString path = dir.filePath("structures.seg.nrrd");
    QString error;
    ASSERT_TRUE(m_window->exportSegNrrd(path, &error)) << error.toStdString();
    ASSERT_TRUE(m_window->exportDicomSeg(dir.filePath("structures.dcm"), &error)) << error.toStdString();
    EXPECT_GT(QFileInfo(dir.filePath("structures.dcm")).size(), 0);

    const auto before = m_window->structuresModel().labels();
    const std::vector<StructureRow> rowsBefore = m_window->structuresModel().rows();
    const int undoBefore = m_window->undoStack().count();
    QString message;
    ASSERT_TRUE(waitForStructures([&] { m_window->importStructureFile(path); }, &message))
        << message.toStdString();
    EXPECT_EQ(m_window->undoStack().count(), undoBefore + 1);
    const auto after = m_window->structuresModel().labels();
    ASSERT_NE(after, before);
    ASSERT_EQ(m_window->structuresModel().rows().size(), rowsBefore.size())
        << "same names replace, none is added";
    EXPECT_TRUE(std::equal(before->labels().begin(), before->labels().end(), after->labels().begin()));

    m_window->undoStack().undo();
    EXPECT_EQ(m_window->structuresModel().labels(), before);
    EXPECT_EQ(m_window->undoStack().index(), undoBefore);
}

TEST_F(StructuresPanel, AccessibilityMapIsPaintedOnTheSkinMesh)
{
    // The skin (or body) surface of the phantom.
    std::uint16_t skin = 0;
    for (const char* key : {"skin", "body"})
        for (const StructureRow& r : m_window->structuresModel().rows())
            if (skin == 0 && r.style.name.find(key) != std::string::npos)
                skin = r.style.labelValue;
    ASSERT_NE(skin, 0) << "the phantom has no skin or body structure";
    const NamedTargetEntry named = m_window->namedTargets().front();
    m_window->addTarget(named.name, named.positionLps);
    bool finished = false, ok = false;
    QObject listener; // drops the connection before the locals it captures go away
    QObject::connect(m_window.get(), &MainWindow::searchFinished, &listener,
                     [&](bool success, const QString&) {
                         finished = true;
                         ok = success;
                     });
    m_window->findSafeTrajectories();
    ASSERT_TRUE(test::waitUntil([&] { return finished; }, 180000));
    ASSERT_TRUE(ok);
    m_window->task().waitForIdle();

    vtkPolyData* mesh = m_window->modelView()->scene().surfacePolyData(skin);
    ASSERT_NE(mesh, nullptr);
    vtkDataArray* colors = mesh->GetPointData()->GetArray(render::ModelScene::accessColorArrayName());
    ASSERT_NE(colors, nullptr) << "the skin mesh carries no accessibility colours";
    ASSERT_EQ(colors->GetNumberOfTuples(), mesh->GetNumberOfPoints());
    const StructureRow* skinRow = nullptr;
    for (const StructureRow& r : m_window->structuresModel().rows())
        if (r.style.labelValue == skin)
            skinRow = &r;
    ASSERT_NE(skinRow, nullptr);
    std::int64_t painted = 0, feasible = 0, infeasible = 0;
    for (vtkIdType n = 0; n < colors->GetNumberOfTuples(); ++n) {
        double rgb[3];
        colors->GetTuple(n, rgb);
        const bool plain = std::abs(rgb[0] - skinRow->style.colorRgb[0] * 255.0) < 1.0 &&
                           std::abs(rgb[1] - skinRow->style.colorRgb[1] * 255.0) < 1.0 &&
                           std::abs(rgb[2] - skinRow->style.colorRgb[2] * 255.0) < 1.0;
        painted += !plain;
        // Feasible: yellow (235, 205, 40) to green (40, 190, 60); infeasible: (150, 55, 55).
        feasible += !plain && rgb[1] >= 189.0 && rgb[2] <= 61.0;
        infeasible += !plain && rgb[0] == 150.0 && rgb[1] == 55.0 && rgb[2] == 55.0;
    }
    EXPECT_GT(painted, 0);
    EXPECT_GT(feasible, 0) << "the phantom's target has feasible directions";
    EXPECT_GT(infeasible, 0) << "and infeasible ones";
    EXPECT_LT(painted, mesh->GetNumberOfPoints()) << "the far side of the body is not reached";

    // Hidden map: the plain skin again.
    m_window->modelView()->scene().setAccessMapVisible(false);
}

} // namespace
} // namespace np::gui
