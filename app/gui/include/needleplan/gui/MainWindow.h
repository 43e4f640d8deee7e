#pragma once
/// The planning workstation's main window: 2×2 views, structures and planning panels, loading
/// off the GUI thread, undo/redo and screenshots.

#include <QMainWindow>
#include <QStringList>
#include <QUndoStack>

#include <map>
#include <memory>
#include <vector>

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/render/SceneTypes.h"
#include "needleplan/render/SliceGeometry.h"

namespace np::planning {
struct Plan;
}

class QLabel;
class QComboBox;
class QProgressBar;
class QTableWidget;
class QTreeWidget;
class QToolButton;
class QGridLayout;
class QMenu;
class QTimer;
class QSlider;

namespace np::imaging {
struct DicomScanResult;
struct SegmentationOptions;
class StructureSet;
} // namespace np::imaging

namespace np::gui {

class ModelViewWidget;
class PlanningSession;

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
    SliceViewWidget* sliceView(render::SliceOrientation orientation) const;
    ModelViewWidget* modelView() const { return m_modelView; }
    QTableWidget* rankedList() const { return m_rankedTable; }

    /// Opens a DICOM file/folder/DICOMDIR or a NRRD/NIfTI/MetaImage file off the GUI thread;
    /// loadFinished reports the outcome. A phantom folder (dicom/ + structures.seg.nrrd) loads all.
    void openPath(const QString& path);
    /// Opens the sample phantom, generating it into the cache folder when the build has none.
    void openSamplePhantom();
    /// Loads a label map (.seg.nrrd or a plain label image) onto the current image.
    void openSegmentation(const QString& path);
    /// Segments body/bone/lung off the GUI thread and adds them to the structures (one undo step);
    /// structuresUpdated reports.
    void segmentAutomatically(const imaging::SegmentationOptions& options);
    /// Imports a DICOM SEG, RTSTRUCT or label map (with an optional colour table) off the GUI
    /// thread and adds its structures (one undo step); structuresUpdated reports.
    void importStructureFile(const QString& path, const QString& colorTablePath = QString());
    /// Warnings of the last import or segmentation.
    const QStringList& structureWarnings() const { return m_structures->warnings(); }
    /// Writes the current structures as a 3D Slicer .seg.nrrd; false with a message on failure.
    bool exportSegNrrd(const QString& path, QString* error = nullptr);
    /// Writes the current structures as a DICOM SEG referencing the image; false with a message.
    bool exportDicomSeg(const QString& path, QString* error = nullptr);
    /// When set, problems are reported only through signals and stderr, never in dialogs.
    void setScriptedMode(bool scripted) { m_scripted = scripted; }

    /// Targets offered by a targets.json found next to the image.
    const std::vector<NamedTargetEntry>& namedTargets() const { return m_image->namedTargets(); }
    /// Adds a target (undoable) at `targetLps` with `name` and makes it active.
    void addTarget(const QString& name, const Vec3& targetLps);
    /// Places the active target (or a new one) as a click in a slice view does.
    void placeTarget(const Vec3& targetLps);
    void placeEntry(const Vec3& entryLps);
    void setPickMode(PickMode mode);
    /// Chooses ranked candidate `rank` of the active target (undoable).
    void selectCandidate(int rank);

    /// Runs the automatic search for the active target off the GUI thread; searchFinished reports.
    void findSafeTrajectories();
    /// Searches every target of the plan, one after another.
    void searchAllTargets();
    /// Searches target `index` (queued behind running work).
    void searchTarget(int index);
    /// Procedure preset in use ("" for the generic one); choosing one applies its needle and
    /// structure rules (one undo step).
    void setPreset(const QString& name);
    /// Saves the plan (*.needleplan.json); marks the undo history clean.
    bool savePlanFile(const QString& path, QString* error = nullptr);
    /// Opens a plan; loads its image first when another image is shown. planOpened reports.
    void openPlanFile(const QString& path);
    /// Where the crash-recovery copy of the plan is written.
    static QString autosavePath();
    /// Writes the crash-recovery copy now when the plan has unsaved changes (a timer does this
    /// every 30 s); a normal close removes it, so the next start offers it only after a crash.
    void autosave();

    /// Writes the whole window as PNG; false with a message on failure.
    bool saveWindowScreenshot(const QString& path, QString* error = nullptr);
    /// Writes one view's VTK image as PNG.
    bool saveViewScreenshot(QWidget* view, const QString& path, QString* error = nullptr);
    /// Maximises a view in the 2×2 grid, or restores the grid when it is already maximised.
    void toggleMaximised(QWidget* view);
    /// Applies a window/level preset by name ("Bone", "Soft tissue", "Spine").
    void applyWindowPreset(const QString& name);
    /// 0: axial, 3D, coronal, sagittal; 1: along the needle, 3D, probe's eye, axial.
    void setLayoutMode(int mode);
    SliceViewWidget* needleView() const { return m_needleView; }
    SliceViewWidget* probeView() const { return m_probeView; }
    /// Rotation of the along-needle plane about the needle (degrees) and probe depth (0 skin, 1 tip).
    void setTrajectoryViewControls(double rotationDeg, double depthFraction);
    /// The trajectory readout text (HTML) shown in the planning panel.
    QString readoutHtml() const;

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
    void buildActions();
    void buildViews();
    void buildPanels();
    QWidget* makeViewFrame(QWidget* view, const QString& title, const QColor& accent, QWidget* extra = nullptr);
    void refreshTrajectoryViews();
    void focus3dOnActiveTarget();
    std::vector<SliceViewWidget*> allSliceViews() const;
    void reportError(const QString& title, const QString& message);
    void addRecent(const QString& path);
    void rebuildRecentMenu();
    void loadDicomSeriesAt(std::shared_ptr<imaging::DicomScanResult> scan, int index, const QString& path);
    void volumeLoaded(std::shared_ptr<imaging::Volume> volume, const QString& path);
    void startSurfaceBuild();
    void preparePlanning();
    void showSegmentDialog();
    void showImportDialog();
    void structuresAdded(const QString& summary, const QStringList& warnings);
    void labelsReplaced();
    void refreshSliceViews();
    void refreshPlanGraphics();
    void refreshStructuresTable();
    void refreshTargetsTree();
    void refreshRankedTable();
    void refreshReadout();
    void updateCornerText();
    void updateStatus();
    void editStructure(int row, const StructureRow& after, const QString& text);
    /// Puts a loaded plan (read from `path`) into the workspace; the image must already be open.
    void applyPlan(const planning::Plan& plan, const QString& path);
    void offerRecovery();
    std::vector<planning::StructureSpec> structureSpecs() const;

    QUndoStack* m_undo = nullptr;
    BackgroundTask* m_task = nullptr;
    ImageModel* m_image = nullptr;
    ViewStateModel* m_view = nullptr;
    StructuresModel* m_structures = nullptr;
    PlanModel* m_plan = nullptr;
    std::shared_ptr<PlanningSession> m_planning;
    std::vector<SliceViewWidget*> m_sliceViews;
    ModelViewWidget* m_modelView = nullptr;
    std::vector<QWidget*> m_viewFrames;
    QGridLayout* m_grid = nullptr;
    QWidget* m_maximised = nullptr;
    QTableWidget* m_structuresTable = nullptr;
    QTreeWidget* m_targetsTree = nullptr;
    QTableWidget* m_rankedTable = nullptr;
    QLabel* m_readout = nullptr;
    QComboBox* m_needleCombo = nullptr;
    QComboBox* m_namedTargetCombo = nullptr;
    QComboBox* m_windowCombo = nullptr;
    QComboBox* m_presetCombo = nullptr;
    QComboBox* m_layoutCombo = nullptr;
    SliceViewWidget* m_needleView = nullptr;
    SliceViewWidget* m_probeView = nullptr;
    QSlider* m_rotationSlider = nullptr;
    QSlider* m_depthSlider = nullptr;
    int m_layoutMode = 0;
    QAction* m_accessMapAction = nullptr;
    bool m_planningBusy = false;
    int m_pendingSearches = 0; ///< queued or running jobs that use the planning session
    bool m_fieldsJobPending = false;
    std::map<std::string, std::vector<render::AccessPoint>> m_accessMaps;
    QString m_planPath;
    QTimer* m_autosaveTimer = nullptr;
    QProgressBar* m_progress = nullptr;
    QToolButton* m_cancelButton = nullptr;
    QLabel* m_statusLabel = nullptr;
    QLabel* m_cursorLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QAction* m_setTargetAction = nullptr;
    QAction* m_setEntryAction = nullptr;
    QString m_pendingSegmentation;
    QString m_pendingTargets;
    bool m_scripted = false;
};

} // namespace np::gui
