// Structures painted, erased or grown in the workstation are saved with the plan (a .seg.nrrd
// beside it, referenced by the plan) and restored when the plan opens; the unsaved-plan question
// names segmentation edits. Voxel counts are checked against shapes counted by hand here, on an
// oblique, anisotropic grid.

#include "GuiTestSupport.h"
#include "ObliqueGrid.h"
#include "TestSupport.h"
#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/SegmentEditor.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/PlanDocument.h"

#include <QStringList>
#include <QUndoStack>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <optional>

namespace np::gui {
namespace {

/// 30×28×18 voxels of 0.7×0.9×1.6 mm, rotated 0.3 rad about S and tilted 0.2 rad.
imaging::Geometry obliqueGrid()
{
    return test::obliqueGeometry({30, 28, 18}, {0.7, 0.9, 1.6}, {-11.0, -13.0, -14.0}, 0.3, 0.2);
}

/// Whether voxel (i, j, k) lies within `r` mm of `centreIjk` (an ellipsoid in index space); also
/// only on slice `onlyK` when it is ≥ 0.
bool inBall(const imaging::Geometry& g, std::int64_t i, std::int64_t j, std::int64_t k, const Vec3& centreIjk,
            double r, int onlyK = -1)
{
    if (onlyK >= 0 && k != onlyK)
        return false;
    const double dx = (static_cast<double>(i) - centreIjk.x) * g.spacing.x;
    const double dy = (static_cast<double>(j) - centreIjk.y) * g.spacing.y;
    const double dz = onlyK >= 0 ? 0.0 : (static_cast<double>(k) - centreIjk.z) * g.spacing.z;
    return dx * dx + dy * dy + dz * dz <= r * r;
}

std::int64_t countValue(const StructuresModel& structures, std::uint16_t value)
{
    if (!structures.labels())
        return 0;
    const auto& labels = structures.labels()->labels();
    return std::count(labels.begin(), labels.end(), value);
}

/// A volume with a series UID (so a plan recognises it) and a bone box of 8×6×5 voxels
/// (i 2..9, j 3..8, k 4..8) as if loaded from a file.
class SegmentationSaved : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_models = std::make_unique<Models>();
        imaging::Volume volume(m_grid, 40.0f);
        volume.info().seriesUid = "1.2.826.0.1.3680043.10.1";
        m_volume = std::make_shared<imaging::Volume>(std::move(volume));
        m_models->image.setVolume(m_volume, "/data/ct.nrrd");
        auto labels = std::make_shared<imaging::LabelMap>(m_grid);
        labels->segments() = {{"vertebra_L4", 1, {0.9, 0.9, 0.8}}};
        for (std::int64_t k = 4; k <= 8; ++k)
            for (std::int64_t j = 3; j <= 8; ++j)
                for (std::int64_t i = 2; i <= 9; ++i)
                    labels->at(i, j, k) = 1;
        emit m_models->image.labelsLoaded(labels); // as a label map read with the image
    }
    bool openPlan(const QString& path)
    {
        std::optional<bool> opened;
        const auto connection = QObject::connect(&m_models->plan, &PlanModel::planOpened,
                                                 [&](bool ok, const QString&) { opened = ok; });
        m_models->plan.openPlanFile(path);
        test::waitUntil([&] { return opened.has_value(); }, 20000);
        QObject::disconnect(connection);
        return opened.value_or(false);
    }

    /// The workstation's models, created once the application exists.
    struct Models
    {
        QUndoStack undo;
        BackgroundTask task;
        ImageModel image{task};
        StructuresModel structures{image, undo, task};
        PlanModel plan{image, structures, undo, task};
    };
    const imaging::Geometry m_grid = obliqueGrid();
    std::shared_ptr<imaging::Volume> m_volume;
    std::unique_ptr<Models> m_models;
    test::TempDir m_dir{"np-seg-save"};
};

TEST_F(SegmentationSaved, PaintedAndErasedStructuresComeBackWithThePlanVoxelForVoxel)
{
    EXPECT_FALSE(m_models->structures.editedSinceSaved()) << "structures as loaded from their file";
    SegmentEditor editor(m_models->image, m_models->structures, m_models->undo);
    // A nerve root painted with a 4.45 mm sphere, a kidney with a 3.3 mm disc on slice 12 (the view
    // along the grid's k axis), and a 2.2 mm sphere erased out of the bone's corner.
    const std::uint16_t nerve =
        editor.addStructure("nerve_root_L4_left", planning::StructureClass::Forbidden, 2.5);
    ASSERT_EQ(nerve, 2);
    SegmentSettings settings = editor.settings();
    settings.shape = BrushShape::Sphere;
    settings.radiusMm = 4.45;
    editor.setSettings(settings);
    const Vec3 nerveIjk{20.0, 14.0, 9.0};
    editor.beginStroke(m_grid.lpsFromIjk(nerveIjk), m_grid.directionLps.column(2), m_grid.spacing.z);
    ASSERT_TRUE(editor.endStroke());
    const std::uint16_t kidney =
        editor.addStructure("kidney_right", planning::StructureClass::Forbidden, 3.0);
    ASSERT_EQ(kidney, 3);
    settings = editor.settings();
    settings.shape = BrushShape::Disc;
    settings.radiusMm = 3.3;
    editor.setSettings(settings);
    const Vec3 kidneyIjk{15.0, 22.0, 12.0};
    editor.beginStroke(m_grid.lpsFromIjk(kidneyIjk), m_grid.directionLps.column(2), m_grid.spacing.z);
    ASSERT_TRUE(editor.endStroke());
    settings = editor.settings();
    settings.tool = SegmentTool::Erase;
    settings.shape = BrushShape::Sphere;
    settings.radiusMm = 2.2;
    settings.labelValue = 1;
    editor.setSettings(settings);
    const Vec3 cornerIjk{9.0, 8.0, 8.0};
    editor.beginStroke(m_grid.lpsFromIjk(cornerIjk), m_grid.directionLps.column(2), m_grid.spacing.z);
    ASSERT_TRUE(editor.endStroke());

    // Counted by hand: voxel centres inside each shape (the bone box minus the erased ball).
    std::int64_t nerveCount = 0, kidneyCount = 0, boneCount = 0;
    for (std::int64_t k = 0; k < m_grid.size[2]; ++k)
        for (std::int64_t j = 0; j < m_grid.size[1]; ++j)
            for (std::int64_t i = 0; i < m_grid.size[0]; ++i) {
                const bool box = i >= 2 && i <= 9 && j >= 3 && j <= 8 && k >= 4 && k <= 8;
                boneCount += box && !inBall(m_grid, i, j, k, cornerIjk, 2.2) ? 1 : 0;
                nerveCount += inBall(m_grid, i, j, k, nerveIjk, 4.45) ? 1 : 0;
                kidneyCount += inBall(m_grid, i, j, k, kidneyIjk, 3.3, 12) ? 1 : 0;
            }
    ASSERT_LT(boneCount, 240);
    ASSERT_EQ(countValue(m_models->structures, 1), boneCount);
    ASSERT_EQ(countValue(m_models->structures, nerve), nerveCount);
    ASSERT_EQ(countValue(m_models->structures, kidney), kidneyCount);
    EXPECT_TRUE(m_models->structures.editedSinceSaved());
    EXPECT_TRUE(m_models->structures.unsavedChangesQuestion("closing").contains("segmentation edits"));
    m_models->plan.addTarget("L4 medial branch left", m_grid.lpsFromIjk({12.0, 12.0, 8.0}));

    const QString planPath = QString::fromStdString((m_dir.path() / "case.needleplan.json").string());
    QString error;
    ASSERT_TRUE(m_models->plan.savePlanFile(planPath, &error)) << error.toStdString();
    EXPECT_TRUE(m_models->undo.isClean());
    EXPECT_FALSE(m_models->structures.editedSinceSaved());
    EXPECT_FALSE(m_models->structures.unsavedChangesQuestion("closing").contains("segmentation"));
    // The plan and its structures, nothing else (no temporary file left behind).
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(m_dir.path()))
        files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{"case.needleplan.json", "case.seg.nrrd"}));
    EXPECT_EQ(planning::loadPlan(planPath.toStdString()).image.segmentationPath, "case.seg.nrrd");

    // The same image again drops the structures and the plan; opening the plan restores both.
    m_models->image.setVolume(m_volume, "/data/ct.nrrd");
    ASSERT_EQ(m_models->structures.labels(), nullptr);
    ASSERT_TRUE(openPlan(planPath));
    ASSERT_EQ(m_models->structures.rows().size(), 3u);
    EXPECT_EQ(m_models->structures.rows()[1].style.name, "nerve_root_L4_left");
    EXPECT_EQ(m_models->structures.rows()[1].spec.structureClass, planning::StructureClass::Forbidden);
    EXPECT_DOUBLE_EQ(m_models->structures.rows()[1].spec.marginMm, 2.5);
    EXPECT_EQ(m_models->structures.rows()[2].style.name, "kidney_right");
    EXPECT_DOUBLE_EQ(m_models->structures.rows()[2].spec.marginMm, 3.0);
    EXPECT_EQ(countValue(m_models->structures, 1), boneCount);
    EXPECT_EQ(countValue(m_models->structures, nerve), nerveCount);
    EXPECT_EQ(countValue(m_models->structures, kidney), kidneyCount);
    EXPECT_EQ(m_models->structures.labels()->geometry().size, m_grid.size);
    ASSERT_EQ(m_models->plan.targets().size(), 1u);
    EXPECT_FALSE(m_models->structures.editedSinceSaved());
    EXPECT_TRUE(m_models->undo.isClean());
}

TEST_F(SegmentationSaved, AnUnreadableSegmentationIsAnErrorNamingItsFileAndThePlanStillOpens)
{
    const QString planPath = QString::fromStdString((m_dir.path() / "broken.needleplan.json").string());
    ASSERT_TRUE(m_models->plan.savePlanFile(planPath));
    const std::string segmentation = (m_dir.path() / "broken.seg.nrrd").string();
    ASSERT_TRUE(std::filesystem::exists(segmentation));
    std::filesystem::resize_file(segmentation, 40); // cut inside the header
    m_models->image.setVolume(m_volume, "/data/ct.nrrd");
    QStringList errors;
    QObject listening; // ends the connection before `errors` goes
    QObject::connect(&m_models->plan, &PlanModel::errorOccurred, &listening,
                     [&](const QString&, const QString& message) { errors << message; });
    ASSERT_TRUE(openPlan(planPath));
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(errors.front().contains("broken.seg.nrrd")) << errors.front().toStdString();
    EXPECT_EQ(m_models->structures.labels(), nullptr);

    // A segmentation on another grid (another image's) is refused the same way.
    imaging::Geometry other = m_grid;
    other.spacing.x = 0.75;
    imaging::LabelMap foreign(other);
    foreign.segments() = {{"kidney_left", 1, {1, 0, 0}}};
    foreign.at(3, 3, 3) = 1;
    imaging::writeSegNrrd(foreign, segmentation);
    errors.clear();
    ASSERT_TRUE(openPlan(planPath));
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(errors.front().contains("not on the image's voxel grid"));
    EXPECT_EQ(m_models->structures.labels(), nullptr);
}

TEST_F(SegmentationSaved, EachStructuresVisibilityAndOpacityComeBackWithThePlan)
{
    SegmentEditor editor(m_models->image, m_models->structures, m_models->undo);
    ASSERT_EQ(editor.addStructure("kidney_right", planning::StructureClass::Forbidden, 3.0), 2);
    ASSERT_EQ(m_models->structures.rows().size(), 2u);
    // Both start shown and opaque (neither is skin, fat or muscle).
    for (const StructureRow& row : m_models->structures.rows()) {
        EXPECT_TRUE(row.style.visible) << row.style.name;
        EXPECT_DOUBLE_EQ(row.style.opacity, 1.0) << row.style.name;
    }
    StructureRow hidden = m_models->structures.rows()[0];
    hidden.style.visible = false;
    m_models->structures.editRow(0, hidden, "Hide %1");
    StructureRow faint = m_models->structures.rows()[1];
    faint.style.opacity = 0.3;
    m_models->structures.editRow(1, faint, "Opacity of %1");

    const QString planPath = QString::fromStdString((m_dir.path() / "display.needleplan.json").string());
    QString error;
    ASSERT_TRUE(m_models->plan.savePlanFile(planPath, &error)) << error.toStdString();

    // Closed and opened again, by new models (a new window) on the same image.
    m_models = std::make_unique<Models>();
    m_models->image.setVolume(m_volume, "/data/ct.nrrd");
    ASSERT_TRUE(openPlan(planPath));
    ASSERT_EQ(m_models->structures.rows().size(), 2u);
    const StructureRow& bone = m_models->structures.rows()[0];
    const StructureRow& kidney = m_models->structures.rows()[1];
    EXPECT_EQ(bone.style.name, "vertebra_L4");
    EXPECT_FALSE(bone.style.visible);
    EXPECT_DOUBLE_EQ(bone.style.opacity, 1.0);
    EXPECT_EQ(kidney.style.name, "kidney_right");
    EXPECT_TRUE(kidney.style.visible);
    EXPECT_DOUBLE_EQ(kidney.style.opacity, 0.3);
    EXPECT_TRUE(m_models->undo.isClean());

    // Showing it again is one undo step, as before the save.
    StructureRow shown = m_models->structures.rows()[0];
    shown.style.visible = true;
    m_models->structures.editRow(0, shown, "Show %1");
    EXPECT_TRUE(m_models->structures.rows()[0].style.visible);
    m_models->undo.undo();
    EXPECT_FALSE(m_models->structures.rows()[0].style.visible);
    EXPECT_TRUE(m_models->undo.isClean());
    m_models->undo.redo();
    EXPECT_TRUE(m_models->structures.rows()[0].style.visible);
}

TEST_F(SegmentationSaved,
       APlanWithoutVisibilityOrOpacityOpensWithTheDefaultsAndABadValueIsAnErrorNamingTheFile)
{
    const QString planPath = QString::fromStdString((m_dir.path() / "old.needleplan.json").string());
    StructureRow hidden = m_models->structures.rows()[0];
    hidden.style.visible = false;
    hidden.style.opacity = 0.5;
    m_models->structures.editRow(0, hidden, "Hide %1");
    ASSERT_TRUE(m_models->plan.savePlanFile(planPath));
    nlohmann::json document;
    std::ifstream(planPath.toStdString()) >> document;
    ASSERT_EQ(document["structures"].size(), 1u);
    ASSERT_EQ(document["structures"][0]["visible"], false);

    // As a plan written before the keys existed: the structure is shown, opaque.
    const auto rewrite = [&](const nlohmann::json& text) {
        std::ofstream(planPath.toStdString()) << text.dump(2);
    };
    nlohmann::json old = document;
    old["structures"][0].erase("visible");
    old["structures"][0].erase("opacity");
    rewrite(old);
    m_models = std::make_unique<Models>();
    m_models->image.setVolume(m_volume, "/data/ct.nrrd");
    ASSERT_TRUE(openPlan(planPath));
    ASSERT_EQ(m_models->structures.rows().size(), 1u);
    EXPECT_TRUE(m_models->structures.rows()[0].style.visible);
    EXPECT_DOUBLE_EQ(m_models->structures.rows()[0].style.opacity, 1.0);

    // An opacity that is not a number in 0..1 refuses the plan, as other bad fields do, naming the
    // file and the field.
    for (const nlohmann::json& opacity : {nlohmann::json("abc"), nlohmann::json(7)}) {
        nlohmann::json bad = document;
        bad["structures"][0]["opacity"] = opacity;
        rewrite(bad);
        QStringList errors;
        QObject listening;
        QObject::connect(&m_models->plan, &PlanModel::errorOccurred, &listening,
                         [&](const QString&, const QString& message) { errors << message; });
        EXPECT_FALSE(openPlan(planPath)) << opacity.dump();
        ASSERT_EQ(errors.size(), 1) << opacity.dump();
        EXPECT_TRUE(errors.front().contains(planPath)) << errors.front().toStdString();
        EXPECT_TRUE(errors.front().contains("opacity")) << errors.front().toStdString();
    }
}

TEST_F(SegmentationSaved, APlanWithoutStructuresWritesNoSegmentation)
{
    m_models->image.setVolume(m_volume, "/data/ct.nrrd");
    const QString planPath = QString::fromStdString((m_dir.path() / "empty.needleplan.json").string());
    ASSERT_TRUE(m_models->plan.savePlanFile(planPath));
    EXPECT_FALSE(std::filesystem::exists(m_dir.path() / "empty.seg.nrrd"));
    EXPECT_EQ(planning::loadPlan(planPath.toStdString()).image.segmentationPath, "");
    EXPECT_EQ(PlanModel::segmentationFileFor("/a/b/case.needleplan.json"), "/a/b/case.seg.nrrd");
    EXPECT_EQ(PlanModel::segmentationFileFor("/a/b/case.json"), "/a/b/case.seg.nrrd");
}

} // namespace
} // namespace np::gui
