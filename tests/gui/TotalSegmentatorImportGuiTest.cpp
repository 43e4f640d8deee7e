// TotalSegmentator's output imported in the workstation through the structures panel: its output
// folder (segmentations/<name>.nii.gz, a mask on another grid resampled by position) and a
// multilabel NIfTI with a class map; a mask that misses the CT is an error naming its file. The
// masks are written here with ITK; expected voxel counts are counted here from the balls' shapes.

#include "GuiTestSupport.h"
#include "ObliqueGrid.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TotalSegmentatorImportDialog.h"

#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QPushButton>
#include <QStringList>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <optional>

namespace np::gui {
namespace {

namespace fs = std::filesystem;

/// 36×32×20 voxels of 0.9×1.1×2.0 mm, rotated 0.25 rad about S and tilted 0.15 rad.
imaging::Geometry ctGrid()
{
    return test::obliqueGeometry({36, 32, 20}, {0.9, 1.1, 2.0}, {-15.0, -17.0, -20.0}, 0.25, 0.15);
}

/// Writes a uint8 NIfTI on `g` whose voxel value is value(voxel centre LPS).
void writeNifti(const fs::path& path, const imaging::Geometry& g,
                const std::function<int(const Vec3&)>& value)
{
    using Image = itk::Image<std::uint8_t, 3>;
    auto image = Image::New();
    Image::RegionType region;
    region.SetSize({{static_cast<itk::SizeValueType>(g.size[0]), static_cast<itk::SizeValueType>(g.size[1]),
                     static_cast<itk::SizeValueType>(g.size[2])}});
    image->SetRegions(region);
    Image::SpacingType spacing;
    Image::PointType origin;
    Image::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        spacing[a] = g.spacing[a];
        origin[a] = g.originLps[a];
        for (unsigned b = 0; b < 3; ++b)
            direction(a, b) = g.directionLps(static_cast<int>(a), static_cast<int>(b));
    }
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    image->Allocate();
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                image->SetPixel({{i, j, k}}, static_cast<std::uint8_t>(
                                                 value(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}))));
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetInput(image);
    writer->SetFileName(path.string());
    writer->Update();
}

std::function<int(const Vec3&)> ball(const Vec3& centre, double radius, int value = 1)
{
    return [=](const Vec3& p) { return distance(p, centre) <= radius ? value : 0; };
}

/// CT voxel centres within `radius` of `centre`.
std::int64_t ctVoxelsWithin(const Vec3& centre, double radius)
{
    const imaging::Geometry g = ctGrid();
    std::int64_t count = 0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                count +=
                    distance(g.lpsFromIjk(Vec3{double(i), double(j), double(k)}), centre) <= radius ? 1 : 0;
    return count;
}

class TotalSegmentatorInWorkstation : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = test::openScriptedWindow(1300, 850);
        imaging::Volume volume(ctGrid(), 40.0f);
        m_window->imageModel().setVolume(std::make_shared<imaging::Volume>(std::move(volume)),
                                         "/data/ct.nrrd");
        QApplication::processEvents();
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    /// Clicks the panel's button, fills in the dialog and clicks OK, as the user does; true when the
    /// import reports success.
    bool importThroughPanel(const fs::path& path, const QString& classMap = QString())
    {
        auto* button = m_window->findChild<QPushButton*>("importTotalSegmentatorButton");
        EXPECT_NE(button, nullptr);
        if (!button)
            return false;
        button->click();
        auto* dialog = m_window->findChild<TotalSegmentatorImportDialog*>("totalSegmentatorDialog");
        EXPECT_NE(dialog, nullptr);
        if (!dialog)
            return false;
        dialog->findChild<QLineEdit*>("totalSegmentatorPath")->setText(QString::fromStdString(path.string()));
        auto* classMaps = dialog->findChild<QComboBox*>("totalSegmentatorClassMap");
        const int index = classMap.isEmpty() ? 0 : classMaps->findData(classMap);
        EXPECT_GE(index, 0) << classMap.toStdString();
        classMaps->setCurrentIndex(index);
        std::optional<bool> updated;
        const auto connection =
            QObject::connect(&m_window->structuresModel(), &StructuresModel::structuresUpdated,
                             [&](bool ok, const QString&) { updated = ok; });
        dialog->findChild<QPushButton*>("totalSegmentatorOk")->click();
        EXPECT_TRUE(test::waitUntil([&] { return updated.has_value(); }, 20000));
        QObject::disconnect(connection);
        QApplication::processEvents(); // the closed dialog is deleted
        return updated.value_or(false);
    }
    std::int64_t count(const std::string& name) const
    {
        const StructuresModel& structures = m_window->structuresModel();
        for (const StructureRow& row : structures.rows())
            if (row.style.name == name)
                return std::count(structures.labels()->labels().begin(), structures.labels()->labels().end(),
                                  row.style.labelValue);
        return -1;
    }
    const StructureRow* row(const std::string& name) const
    {
        for (const StructureRow& r : m_window->structuresModel().rows())
            if (r.style.name == name)
                return &r;
        return nullptr;
    }
    std::unique_ptr<MainWindow> m_window;
    test::TempDir m_dir{"np-totalseg-gui"};
};

TEST_F(TotalSegmentatorInWorkstation, OutputFolderIsImportedOntoTheCtWithTerminologyClasses)
{
    const imaging::Geometry g = ctGrid();
    const fs::path masks = m_dir.path() / "segmentations";
    fs::create_directories(masks);
    const Vec3 aortaCentre = g.lpsFromIjk({10, 12, 8}), veinCentre = g.lpsFromIjk({25, 20, 11});
    writeNifti(masks / "aorta.nii.gz", g, ball(aortaCentre, 4.0));
    // The vein's mask on a 0.5 mm axis-aligned grid: resampled by position (nearest neighbour).
    imaging::Geometry fine;
    fine.size = {50, 50, 50};
    fine.spacing = {0.5, 0.5, 0.5};
    fine.originLps = veinCentre - Vec3{12.0, 12.0, 12.0};
    writeNifti(masks / "iliac_vena_left.nii.gz", fine, ball(veinCentre, 5.0));

    ASSERT_TRUE(importThroughPanel(m_dir.path()));
    EXPECT_EQ(count("aorta"), ctVoxelsWithin(aortaCentre, 4.0));
    // A CT voxel centre deeper than the fine grid's half diagonal (0.44 mm) inside the ball is
    // labelled, one that far outside is not.
    const std::int64_t vein = count("iliac_vena_left");
    EXPECT_GE(vein, ctVoxelsWithin(veinCentre, 5.0 - 0.45));
    EXPECT_LE(vein, ctVoxelsWithin(veinCentre, 5.0 + 0.45));
    EXPECT_GT(vein, 0);
    // Vessels are forbidden, never bone, whatever their name looks like.
    ASSERT_NE(row("aorta"), nullptr);
    ASSERT_NE(row("iliac_vena_left"), nullptr);
    EXPECT_EQ(row("aorta")->spec.structureClass, planning::StructureClass::Forbidden);
    EXPECT_EQ(row("iliac_vena_left")->spec.structureClass, planning::StructureClass::Forbidden);
    EXPECT_TRUE(m_window->structuresModel().warnings().join(" ").contains("resampled"))
        << m_window->structuresModel().warnings().join(" | ").toStdString();
    EXPECT_TRUE(m_window->structuresModel().source().endsWith(
        QString::fromStdString(m_dir.path().filename().string())));
    // One undo step.
    m_window->undoStack().undo();
    EXPECT_EQ(m_window->structuresModel().labels(), nullptr);
}

TEST_F(TotalSegmentatorInWorkstation, MaskThatMissesTheCtIsAnErrorNamingItsFile)
{
    const fs::path masks = m_dir.path() / "segmentations";
    fs::create_directories(masks);
    imaging::Geometry far = ctGrid();
    far.originLps = far.originLps + Vec3{0.0, 0.0, 400.0};
    writeNifti(masks / "liver.nii.gz", far, ball(far.lpsFromIjk({18, 16, 10}), 6.0));
    QStringList errors;
    QObject listening; // ends the connection before `errors` goes
    QObject::connect(&m_window->structuresModel(), &StructuresModel::errorOccurred, &listening,
                     [&](const QString&, const QString& message) { errors << message; });
    EXPECT_FALSE(importThroughPanel(m_dir.path()));
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(errors.front().contains("liver.nii.gz")) << errors.front().toStdString();
    EXPECT_EQ(m_window->structuresModel().labels(), nullptr);
    // A folder without masks is an error naming it.
    const fs::path empty = m_dir.path() / "nothing";
    fs::create_directories(empty);
    errors.clear();
    EXPECT_FALSE(importThroughPanel(empty));
    ASSERT_EQ(errors.count(), 1);
    EXPECT_TRUE(errors.front().contains("nothing")) << errors.front().toStdString();
}

TEST_F(TotalSegmentatorInWorkstation, MultilabelNiftiTakesItsNamesFromTheChosenClassMap)
{
    const imaging::Geometry g = ctGrid();
    const Vec3 first = g.lpsFromIjk({9, 9, 6}), second = g.lpsFromIjk({26, 22, 13});
    const fs::path file = m_dir.path() / "total.nii.gz";
    writeNifti(file, g, [&](const Vec3& p) {
        return distance(p, first) <= 4.5 ? 1 : distance(p, second) <= 3.5 ? 2 : 0;
    });
    // TotalSegmentator v2's 'total' numbering: 1 spleen, 2 kidney_right.
    ASSERT_TRUE(importThroughPanel(file, "totalsegmentator-v2"));
    EXPECT_EQ(count("spleen"), ctVoxelsWithin(first, 4.5));
    EXPECT_EQ(count("kidney_right"), ctVoxelsWithin(second, 3.5));
    ASSERT_NE(row("kidney_right"), nullptr);
    EXPECT_EQ(row("kidney_right")->spec.structureClass, planning::StructureClass::Forbidden);
    m_window->undoStack().undo();
    // Without a class map the labels are label_N, caution by default, with a warning.
    ASSERT_TRUE(importThroughPanel(file));
    EXPECT_EQ(count("label_1"), ctVoxelsWithin(first, 4.5));
    ASSERT_NE(row("label_2"), nullptr);
    EXPECT_EQ(row("label_2")->spec.structureClass, planning::StructureClass::Caution);
    EXPECT_FALSE(m_window->structuresModel().warnings().isEmpty());
}

} // namespace
} // namespace np::gui
