#pragma once
/// The planning workstation's main window. It only assembles: the models (image, structures,
/// plan, view state), the view grid, the structures and planning panels, menus, the status bar,
/// and the questions that guard unsaved work. The methods below forward to the models for
/// scripted runs and tests.

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/FluoroWorkspace.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewGrid.h"
#include "needleplan/gui/ViewStateModel.h"

#include <QMainWindow>
#include <QStringList>
#include <QUndoStack>

class QLabel;
class QComboBox;
class QMenu;
class QProgressBar;
class QTableWidget;
class QToolButton;

namespace np::imaging {
struct SegmentationOptions;
}

namespace np::gui {

class ModelViewWidget;
class PlanningPanel;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    ImageModel& imageModel() { return *m_image; }
    StructuresModel& structuresModel() { return *m_structures; }
    PlanModel& planModel() { return *m_plan; }
    ViewStateModel& viewStateModel() { return *m_view; }
    QUndoStack& undoStack() { return *m_undo; }
    BackgroundTask& task() { return *m_task; }
    /// Projection images (XA, RF, DX, CR) in tabs beside the CT views.
    FluoroWorkspace& fluoro() { return *m_fluoro; }
    SliceViewWidget* sliceView(render::SliceOrientation orientation) const
    {
        return m_grid->sliceView(orientation);
    }
    ViewGrid* viewGrid() const { return m_grid; }
    ModelViewWidget* modelView() const { return m_grid->modelView(); }
    SliceViewWidget* needleView() const { return m_grid->needleView(); }
    SliceViewWidget* probeView() const { return m_grid->probeView(); }
    QTableWidget* rankedList() const;
    /// The trajectory readout text (HTML) shown in the planning panel.
    QString readoutHtml() const;

    /// Opens an image (ImageModel::open) once unsaved plan changes were saved or discarded.
    void openPath(const QString& path);
    void openSamplePhantom();
    /// Loads a label map onto the current image.
    void openSegmentation(const QString& path) { m_image->openLabelMap(path); }
    void segmentAutomatically(const imaging::SegmentationOptions& options)
    {
        m_structures->segmentAutomatically(options);
    }
    void importStructureFile(const QString& path, const QString& colorTablePath = QString())
    {
        m_structures->importStructureFile(path, colorTablePath);
    }
    const QStringList& structureWarnings() const { return m_structures->warnings(); }
    bool exportSegNrrd(const QString& path, QString* error = nullptr)
    {
        return m_structures->exportSegNrrd(path, error);
    }
    bool exportDicomSeg(const QString& path, QString* error = nullptr)
    {
        return m_structures->exportDicomSeg(path, error);
    }
    /// When set, problems are reported only through signals and stderr, never in dialogs.
    void setScriptedMode(bool scripted);

    const std::vector<NamedTargetEntry>& namedTargets() const { return m_image->namedTargets(); }
    /// Adds a target (undoable) and moves the crosshair to it.
    void addTarget(const QString& name, const Vec3& targetLps);
    /// Moves the active target (or adds one) as a click in a slice view after "Set target" does.
    void placeTarget(const Vec3& targetLps);
    void placeEntry(const Vec3& entryLps);
    void setPickMode(PickMode mode) { m_view->setPickMode(mode); }
    void selectCandidate(int rank) { m_plan->selectCandidate(rank); }
    void findSafeTrajectories() { m_plan->searchTarget(m_plan->activeTarget()); }
    void searchAllTargets() { m_plan->searchAllTargets(); }
    void searchTarget(int index) { m_plan->searchTarget(index); }
    void setPreset(const QString& name) { m_plan->setPreset(name); }
    /// Saves the plan (*.needleplan.json) and its structures, waiting for the outcome with the
    /// event loop turning; marks the undo history clean. false with a message.
    bool savePlanFile(const QString& path, QString* error = nullptr);
    /// What File > Save plan does: saves off the GUI thread with progress in the status bar and
    /// returns at once; a failure is shown in a dialog naming the file and leaves the plan unsaved.
    void startSavingPlan(const QString& path);
    /// Opens a plan once unsaved plan changes were saved or discarded.
    void openPlanFile(const QString& path);
    /// Where the crash-recovery copy of the plan is written.
    static QString autosavePath();
    /// Where the crash-recovery copy's structures are written (autosave.seg.nrrd beside it).
    static QString autosaveSegmentationPath();
    /// Starts writing the crash-recovery copy (off the GUI thread) when the plan has unsaved changes
    /// and no save runs (a timer does this every 30 s); a normal close or a successful save removes it with its structures, so the
    /// next start offers it only after a crash.
    void autosave();

    /// Writes the whole window as PNG (temporary file, then rename); false with a message.
    bool saveWindowScreenshot(const QString& path, QString* error = nullptr);
    bool saveViewScreenshot(QWidget* view, const QString& path, QString* error = nullptr)
    {
        return ViewGrid::saveViewScreenshot(view, path, error);
    }
    void toggleMaximised(QWidget* view) { m_grid->toggleMaximised(view); }
    void applyWindowPreset(const QString& name) { m_view->applyWindowPreset(name); }
    /// 0: axial, 3D, coronal, sagittal; 1: along the needle, 3D, probe's eye, axial.
    void setLayoutMode(int mode) { m_view->setLayoutMode(mode); }
    /// Rotation of the along-needle plane about the needle (degrees) and probe depth (0 skin, 1 tip).
    void setTrajectoryViewControls(double rotationDeg, double depthFraction)
    {
        m_view->setTrajectoryView(rotationDeg, depthFraction);
    }

signals:
    void loadFinished(bool ok, const QString& message);
    void surfacesReady();
    void fieldsReady();
    void searchFinished(bool ok, const QString& message);
    void planOpened(bool ok, const QString& message);
    void structuresUpdated(bool ok, const QString& message);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildMenus();
    void buildStatusBar();
    void buildDocks();
    void reportError(const QString& title, const QString& message);
    void structuresAdded(const QString& summary, const QStringList& warnings);
    /// Asks to save unsaved plan changes before they would be lost; false when the user cancels.
    bool confirmDiscardPlan(const QString& action);
    bool saveAs();
    /// Asks where to save; "" when the user cancels.
    QString askPlanPath();
    /// Waits for the saves in progress, with a note in the status bar.
    void waitForSaves();
    bool m_closing = false;
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void offerRecovery();

    QUndoStack* m_undo = nullptr;
    BackgroundTask* m_task = nullptr;
    ImageModel* m_image = nullptr;
    ViewStateModel* m_view = nullptr;
    StructuresModel* m_structures = nullptr;
    PlanModel* m_plan = nullptr;
    ViewGrid* m_grid = nullptr;
    FluoroWorkspace* m_fluoro = nullptr;
    PlanningPanel* m_planningPanel = nullptr;
    QComboBox* m_windowCombo = nullptr;
    QComboBox* m_layoutCombo = nullptr;
    QProgressBar* m_progress = nullptr;
    QToolButton* m_cancelButton = nullptr;
    QLabel* m_statusLabel = nullptr;
    QLabel* m_cursorLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    bool m_scripted = false;
};

} // namespace np::gui
