// The workstation fed the reproducers of tests/data/crashers (hostile or broken files found by
// fuzzing): each gives an error dialog naming the file, nothing hangs, and the app stays usable.

#include <gtest/gtest.h>

#include <QApplication>
#include <QMessageBox>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/imaging/ImageLoader.h"

namespace np::gui {
namespace {

namespace fs = std::filesystem;
const fs::path kCrashers = NP_CRASHERS_DIR;

/// Waits for `signal` of `window` after `start`; returns its ok flag (false also on timeout).
template <typename Signal>
bool runAndWait(MainWindow& window, Signal signal, const std::function<void()>& start, QString* message,
                bool* finishedOut = nullptr)
{
    bool finished = false, ok = false;
    auto connection = QObject::connect(&window, signal, &window, [&](bool success, const QString& text) {
        finished = true;
        ok = success;
        if (message)
            *message = text;
    });
    start();
    test::waitUntil([&] { return finished; }, 120000);
    QObject::disconnect(connection);
    if (finishedOut)
        *finishedOut = finished;
    return ok;
}

/// The visible error dialog, closed after checking that it names `file`.
void expectErrorDialogNaming(MainWindow& window, const std::string& file)
{
    QMessageBox* box = nullptr;
    ASSERT_TRUE(test::waitUntil([&] {
        box = window.findChild<QMessageBox*>("errorBox");
        return box && box->isVisible();
    }, 60000)) << "no error dialog for " << file;
    const QString name = QString::fromStdString(fs::path(file).filename().string());
    EXPECT_TRUE(box->text().contains(name) || box->informativeText().contains(name) ||
                box->detailedText().contains(name))
        << box->text().toStdString();
    box->close();
    box->deleteLater();
    QApplication::processEvents();
}

imaging::Volume smallVolume()
{
    imaging::Geometry g;
    g.size = {20, 16, 10};
    g.spacing = {1.5, 1.5, 3.0};
    g.originLps = {5.0, 15.0, -5.0}; // holds the reproducer plan's target (26.1, 32.9, 9.5)
    imaging::Volume volume(g, -1000.0f);
    for (std::int64_t k = 2; k < 8; ++k)
        for (std::int64_t j = 4; j < 12; ++j)
            for (std::int64_t i = 5; i < 15; ++i)
                volume.at(i, j, k) = 300.0f;
    return volume;
}

class HostileInput : public ::testing::Test
{
protected:
    void SetUp() override
    {
        NP_REQUIRE_DISPLAY();
        m_window = std::make_unique<MainWindow>();
        m_window->setScriptedMode(false);
        m_window->resize(1200, 800);
        m_window->show();
    }
    void TearDown() override
    {
        if (m_window) {
            m_window->undoStack().setClean();
            m_window->close();
            m_window.reset();
        }
    }
    std::unique_ptr<MainWindow> m_window;
};

} // namespace

TEST_F(HostileInput, EveryHostileImageGivesADialogAndAValidImageOpensAfterwards)
{
    for (const char* name : {"nested_sequences_depth6000.dcm", "nrrd_ascii_long_token.nrrd",
                             "rows_columns_40000.dcm", "orientation_all_zero.dcm"}) {
        const std::string file = (kCrashers / name).string();
        QString message;
        bool finished = false;
        EXPECT_FALSE(runAndWait(
            *m_window, &MainWindow::loadFinished, [&] { m_window->openPath(QString::fromStdString(file)); },
            &message, &finished))
            << name << " opened";
        ASSERT_TRUE(finished) << name << ": loading never finished";
        EXPECT_TRUE(message.contains(QString::fromLatin1(name))) << message.toStdString();
        expectErrorDialogNaming(*m_window, file);
    }
    test::TempDir folder("np-gui-hostile");
    const auto valid = folder.path() / "valid.nrrd";
    imaging::writeVolumeNrrd(smallVolume(), valid.string());
    QString message;
    EXPECT_TRUE(runAndWait(
        *m_window, &MainWindow::loadFinished, [&] { m_window->openPath(QString::fromStdString(valid.string())); },
        &message))
        << message.toStdString();
    ASSERT_TRUE(m_window->imageModel().volume());
    EXPECT_EQ(m_window->imageModel().volume()->geometry().size[0], 20);
}

TEST_F(HostileInput, HostileStructuresAndAFarPlanGiveDialogsOnAnOpenImage)
{
    test::TempDir folder("np-gui-hostile");
    const auto valid = folder.path() / "valid.nrrd";
    imaging::writeVolumeNrrd(smallVolume(), valid.string());
    QString message;
    ASSERT_TRUE(runAndWait(
        *m_window, &MainWindow::loadFinished, [&] { m_window->openPath(QString::fromStdString(valid.string())); },
        &message))
        << message.toStdString();

    for (const char* name : {"nrrd_ascii_long_token.nrrd", "nested_sequences_depth6000.dcm",
                             "nrrd_unknown_field_1600_bytes.seg.nrrd"}) {
        const std::string file = (kCrashers / name).string();
        bool finished = false;
        EXPECT_FALSE(runAndWait(
            *m_window, &MainWindow::structuresUpdated,
            [&] { m_window->importStructureFile(QString::fromStdString(file)); }, &message, &finished))
            << name << " imported";
        ASSERT_TRUE(finished) << name << ": the import never finished";
        expectErrorDialogNaming(*m_window, file);
    }

    // The reproducer's image path does not exist here: refused with a dialog naming the plan file.
    const std::string plan = (kCrashers / "plan_entry_far_outside_image.needleplan.json").string();
    bool finished = false;
    EXPECT_FALSE(runAndWait(
        *m_window, &MainWindow::planOpened, [&] { m_window->openPlanFile(QString::fromStdString(plan)); },
        &message, &finished));
    ASSERT_TRUE(finished) << "opening the plan never finished";
    expectErrorDialogNaming(*m_window, plan);

    // The same plan on the open image: its trajectory entry lies 1e9 mm away; refused, never a hang.
    nlohmann::json document;
    std::ifstream(plan) >> document;
    document["image"]["path"] = valid.string();
    document["image"]["structuresPath"] = "";
    const auto far = folder.path() / "far.needleplan.json";
    std::ofstream(far) << document.dump(1);
    finished = false;
    EXPECT_FALSE(runAndWait(
        *m_window, &MainWindow::planOpened, [&] { m_window->openPlanFile(QString::fromStdString(far.string())); },
        &message, &finished));
    ASSERT_TRUE(finished) << "opening the far plan never finished";
    expectErrorDialogNaming(*m_window, far.string());

    // Still usable: the image is still there and a target can be added.
    ASSERT_TRUE(m_window->imageModel().volume());
    m_window->addTarget("after", Vec3{20.0, 25.0, 10.0});
    QApplication::processEvents();
}

} // namespace np::gui
