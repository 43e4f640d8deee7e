// Scripted runs of the workstation (--save-plan) and what a saved plan records: the image
// actually opened, as an absolute path, and where its structures came from.

#include "needleplan/gui/ScriptedRun.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/PlanDocument.h"

#include <QDir>
#include <QFile>
#include <fstream>
#include <gtest/gtest.h>

namespace np::gui {
namespace {

/// 24×20×12 voxels of 1.2×1.2×2.5 mm: soft tissue with a bone block.
imaging::Geometry grid()
{
    imaging::Geometry g;
    g.size = {24, 20, 12};
    g.spacing = {1.2, 1.2, 2.5};
    g.originLps = {-14.0, -12.0, -15.0};
    return g;
}

/// A case folder: ct/box.nrrd with structures.seg.nrrd and targets.json beside it.
void writeCase(const std::filesystem::path& folder)
{
    std::filesystem::create_directories(folder / "ct");
    imaging::Volume volume(grid(), 40.0f);
    imaging::LabelMap labels(grid());
    labels.segments() = {{"bone_sacrum", 1, {1, 1, 1}}};
    for (std::int64_t k = 2; k < 5; ++k)
        for (std::int64_t j = 2; j < 6; ++j)
            for (std::int64_t i = 2; i < 6; ++i) {
                volume.at(i, j, k) = 700.0f;
                labels.at(i, j, k) = 1;
            }
    imaging::writeVolumeNrrd(volume, (folder / "ct" / "box.nrrd").string());
    imaging::writeSegNrrd(labels, (folder / "ct" / "structures.seg.nrrd").string());
    std::ofstream(folder / "ct" / "targets.json")
        << R"({"targets": [{"name": "L4 left", "positionLps": [0.4, 1.2, 2.5]}]})";
}

/// Restores the working folder when the test ends.
struct WorkingFolder
{
    QString before = QDir::currentPath();
    explicit WorkingFolder(const std::filesystem::path& folder)
    {
        QDir::setCurrent(QString::fromStdString(folder.string()));
    }
    ~WorkingFolder() { QDir::setCurrent(before); }
};

// --save-plan: the image given by a relative path is recorded as the absolute path of the file
// actually opened, its structures file beside it, and the plan as shown after --target-name.
TEST(ScriptedRun, SavePlanWritesThePlanAsShownWithTheImageActuallyOpened)
{
    NP_REQUIRE_DISPLAY();
    QFile::remove(MainWindow::autosavePath());
    test::TempDir folder("np-gui-scripted");
    writeCase(folder.path());
    WorkingFolder working(folder.path());
    std::filesystem::create_directories(folder.path() / "out");

    MainWindow window;
    ScriptedRunOptions options;
    options.imagePath = "ct/box.nrrd";
    options.targetName = "L4 left";
    options.savePlan = "out/plan.needleplan.json";
    ScriptedRun run(window, options);
    int code = -1;
    QObject::connect(&run, &ScriptedRun::finished, [&](int exitCode) { code = exitCode; });
    window.resize(1200, 800);
    window.show();
    run.start();
    ASSERT_TRUE(test::waitUntil([&] { return code >= 0; }, 120000)) << "the scripted run did not finish";
    ASSERT_EQ(code, ExitWritten);

    const std::filesystem::path saved = folder.path() / "out" / "plan.needleplan.json";
    ASSERT_TRUE(std::filesystem::exists(saved));
    EXPECT_FALSE(std::filesystem::exists(saved.string() + ".tmp")) << "no temporary file is left";
    const planning::Plan plan = planning::loadPlan(saved.string());
    const std::string absoluteCt = std::filesystem::canonical(folder.path() / "ct").string();
    EXPECT_EQ(plan.image.path, absoluteCt + "/box.nrrd");
    EXPECT_EQ(plan.image.structuresPath, absoluteCt + "/structures.seg.nrrd");
    ASSERT_EQ(plan.targets.size(), 1u);
    EXPECT_EQ(plan.targets[0].name, "L4 left");
    EXPECT_NEAR(plan.targets[0].targetLps.x, 0.4, 1e-9);
    EXPECT_NEAR(plan.targets[0].targetLps.y, 1.2, 1e-9);
    EXPECT_NEAR(plan.targets[0].targetLps.z, 2.5, 1e-9);
    EXPECT_EQ(plan.targets[0].directionsSearched, 20000) << "the search ran before the plan was saved";
    // Written as Save writes: the plan is now clean and remembers its file.
    EXPECT_TRUE(window.undoStack().isClean());
    EXPECT_EQ(QFileInfo(window.planModel().planPath()).absoluteFilePath(),
              QString::fromStdString(saved.string()));
    window.close();
}

TEST(ScriptedRun, AMissingNamedTargetEndsWithTheLoadErrorCode)
{
    NP_REQUIRE_DISPLAY();
    test::TempDir folder("np-gui-scripted");
    writeCase(folder.path());
    MainWindow window;
    ScriptedRunOptions options;
    options.imagePath = QString::fromStdString((folder.path() / "ct" / "box.nrrd").string());
    options.targetName = "no such target";
    options.savePlan = QString::fromStdString((folder.path() / "plan.json").string());
    ScriptedRun run(window, options);
    int code = -1;
    QString message;
    QObject::connect(&run, &ScriptedRun::finished, [&](int exitCode, const QString& text) {
        code = exitCode;
        message = text;
    });
    run.start();
    ASSERT_TRUE(test::waitUntil([&] { return code >= 0; }, 60000));
    EXPECT_EQ(code, ExitLoadFailed);
    EXPECT_TRUE(message.contains("no such target")) << message.toStdString();
    EXPECT_FALSE(std::filesystem::exists(folder.path() / "plan.json"));
}

// A saved plan names where its structures came from: an imported file, then also the
// automatic segmentation; undoing the import takes its file back out.
TEST(ScriptedRun, SavedPlanNamesTheImportedStructuresFile)
{
    NP_REQUIRE_DISPLAY(); // the import is a background job (event loop)
    test::TempDir folder("np-gui-scripted");
    writeCase(folder.path());
    QUndoStack undo;
    BackgroundTask task;
    ImageModel image(task);
    StructuresModel structures(image, undo, task);
    PlanModel plan(image, structures, undo, task);
    image.setVolume(
        std::make_shared<imaging::Volume>(imaging::loadVolume((folder.path() / "ct" / "box.nrrd").string())),
        QString::fromStdString((folder.path() / "ct" / "box.nrrd").string()));
    EXPECT_EQ(plan.toDocument().image.structuresPath, "");
    bool done = false, ok = false;
    QObject listener;
    QObject::connect(&structures, &StructuresModel::structuresUpdated, &listener, [&](bool success) {
        done = true;
        ok = success;
    });
    const QString seg = QString::fromStdString((folder.path() / "ct" / "structures.seg.nrrd").string());
    structures.importStructureFile(seg);
    ASSERT_TRUE(test::waitUntil([&] { return done; }, 60000));
    ASSERT_TRUE(ok);
    EXPECT_EQ(plan.toDocument().image.structuresPath, seg.toStdString());
    undo.undo();
    EXPECT_EQ(plan.toDocument().image.structuresPath, "");
    undo.redo();
    EXPECT_EQ(plan.toDocument().image.structuresPath, seg.toStdString());
}

} // namespace
} // namespace np::gui
