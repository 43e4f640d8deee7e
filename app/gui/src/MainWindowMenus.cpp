// MainWindow: menus, the toolbar and the recent files.

#include "needleplan/gui/CaseReportAction.h"
#include "needleplan/gui/FluoroWorkspace.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PacsActions.h"
#include "needleplan/gui/PostInsertionPanel.h"
#include "needleplan/gui/RehearsalPanel.h"

#include <QAction>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QStyle>
#include <QToolBar>

namespace np::gui {

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QToolBar* toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName("mainToolbar");
    toolbar->setMovable(false);
    auto* openDicom = file->addAction(tr("Open DICOM &folder…"), this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Open DICOM folder"));
        if (!path.isEmpty())
            openPath(path);
    });
    openDicom->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open DICOM f&ile or DICOMDIR…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open DICOM file"));
        if (!path.isEmpty())
            openPath(path);
    });
    auto* openVolume = file->addAction(tr("Open &volume (NRRD, NIfTI, MetaImage)…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open volume"), QString(), tr("Volumes (*.nrrd *.nhdr *.nii *.nii.gz *.mha *.mhd)"));
        if (!path.isEmpty())
            openPath(path);
    });
    file->addAction(tr("Open &segmentation…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open segmentation"), QString(), tr("Segmentations (*.seg.nrrd *.nrrd *.nii *.nii.gz)"));
        if (!path.isEmpty())
            openSegmentation(path);
    });
    auto* sample = file->addAction(tr("Open sample &phantom"), this, [this] { openSamplePhantom(); });
    addOpenFromPacsAction(*this, file);
    m_recentMenu = file->addMenu(tr("&Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(tr("Open p&lan…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open plan"), QString(),
                                                          tr("Plans (*.needleplan.json *.json)"));
        if (!path.isEmpty())
            openPlanFile(path);
    });
    file->addAction(tr("&Save plan"), QKeySequence::Save, this, [this] {
        if (m_plan->planPath().isEmpty()) {
            const QString path = askPlanPath();
            if (!path.isEmpty())
                startSavingPlan(path);
            return;
        }
        startSavingPlan(m_plan->planPath());
    });
    file->addAction(tr("Save plan &as…"), this, [this] {
        const QString path = askPlanPath();
        if (!path.isEmpty())
            startSavingPlan(path);
    });
    file->addSeparator();
    auto* screenshot = file->addAction(tr("Export &window screenshot…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save screenshot"), "needleplan.png",
                                                          tr("PNG images (*.png)"));
        QString error;
        if (!path.isEmpty() && !saveWindowScreenshot(path, &error))
            reportError(tr("Screenshot not saved"), error);
    });
    addCaseReportActions(*this, file);
    addSendToPacsAction(*this, file);
    addPostInsertionValidation(*this, file);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = m_undo->createUndoAction(this, tr("&Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = m_undo->createRedoAction(this, tr("&Redo"));
    redo->setShortcut(QKeySequence::Redo);
    edit->addAction(undo);
    edit->addAction(redo);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (const WindowPreset& preset : ViewStateModel::windowPresets())
        view->addAction(tr("Window: %1").arg(preset.name), this,
                        [this, name = preset.name] { applyWindowPreset(name); });
    view->addSeparator();
    view->addAction(tr("Virtual &C-arm (DRR)"), this, [this] { m_fluoro->openVirtualCArm(); });
    connect(m_fluoro, &FluoroWorkspace::targetRequested, this, &MainWindow::addTarget);
    QAction* volumeRendering = view->addAction(tr("&Volume rendering in 3D"));
    volumeRendering->setObjectName("volumeRenderingAction");
    volumeRendering->setCheckable(true);
    connect(volumeRendering, &QAction::toggled, m_view, &ViewStateModel::setVolumeRendering);
    connect(m_view, &ViewStateModel::volumeRenderingChanged, volumeRendering,
            [this, volumeRendering] { volumeRendering->setChecked(m_view->volumeRendering()); });
    QAction* accessMap = view->addAction(tr("Accessibility map on the skin"));
    accessMap->setCheckable(true);
    accessMap->setChecked(true);
    connect(accessMap, &QAction::toggled, m_grid, &ViewGrid::setAccessMapVisible);
    view->addAction(tr("Reset views"), m_grid, &ViewGrid::resetViews);
    addRehearsalMode(*this, menuBar()->addMenu(tr("&Plan")));

    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open DICOM"), openDicom,
                       &QAction::trigger);
    toolbar->addAction(style()->standardIcon(QStyle::SP_FileIcon), tr("Open volume"), openVolume,
                       &QAction::trigger);
    toolbar->addAction(style()->standardIcon(QStyle::SP_DriveHDIcon), tr("Sample phantom"), sample,
                       &QAction::trigger);
    toolbar->addSeparator();
    auto* undoShort = toolbar->addAction(style()->standardIcon(QStyle::SP_ArrowBack), tr("Undo"), m_undo,
                                         &QUndoStack::undo);
    auto* redoShort = toolbar->addAction(style()->standardIcon(QStyle::SP_ArrowForward), tr("Redo"), m_undo,
                                         &QUndoStack::redo);
    connect(m_undo, &QUndoStack::canUndoChanged, undoShort, &QAction::setEnabled);
    connect(m_undo, &QUndoStack::canRedoChanged, redoShort, &QAction::setEnabled);
    connect(m_undo, &QUndoStack::undoTextChanged, undoShort,
            [undoShort](const QString& t) { undoShort->setToolTip(tr("Undo %1").arg(t)); });
    connect(m_undo, &QUndoStack::redoTextChanged, redoShort,
            [redoShort](const QString& t) { redoShort->setToolTip(tr("Redo %1").arg(t)); });
    undoShort->setEnabled(false);
    redoShort->setEnabled(false);
    toolbar->addSeparator();
    toolbar->addWidget(new QLabel(tr(" Window "), toolbar));
    m_windowCombo = new QComboBox(toolbar);
    m_windowCombo->setObjectName("windowPresetCombo");
    for (const WindowPreset& preset : ViewStateModel::windowPresets())
        m_windowCombo->addItem(preset.name);
    connect(m_windowCombo, &QComboBox::textActivated, this, &MainWindow::applyWindowPreset);
    connect(m_view, &ViewStateModel::windowLevelChanged, m_windowCombo, [this] {
        const QString preset = m_view->windowPresetName();
        if (!preset.isEmpty())
            m_windowCombo->setCurrentText(preset);
    });
    toolbar->addWidget(m_windowCombo);
    // Window and level typed in (HU); a drag in a slice view or a preset updates them.
    auto* windowSpin = new QDoubleSpinBox(toolbar);
    windowSpin->setObjectName("windowSpin");
    windowSpin->setRange(1.0, 10000.0);
    windowSpin->setDecimals(0);
    windowSpin->setPrefix(tr("W "));
    windowSpin->setKeyboardTracking(false);
    auto* levelSpin = new QDoubleSpinBox(toolbar);
    levelSpin->setObjectName("levelSpin");
    levelSpin->setRange(-3000.0, 5000.0);
    levelSpin->setDecimals(0);
    levelSpin->setPrefix(tr("L "));
    levelSpin->setKeyboardTracking(false);
    auto showWindowLevel = [this, windowSpin, levelSpin] {
        const QSignalBlocker blockWindow(windowSpin), blockLevel(levelSpin);
        windowSpin->setValue(m_view->window());
        levelSpin->setValue(m_view->level());
    };
    showWindowLevel();
    connect(m_view, &ViewStateModel::windowLevelChanged, windowSpin, showWindowLevel);
    connect(windowSpin, &QDoubleSpinBox::valueChanged, this,
            [this](double window) { m_view->setWindowLevel(window, m_view->level()); });
    connect(levelSpin, &QDoubleSpinBox::valueChanged, this,
            [this](double level) { m_view->setWindowLevel(m_view->window(), level); });
    toolbar->addWidget(windowSpin);
    toolbar->addWidget(levelSpin);
    // Thick-slab maximum intensity projection on the axial, coronal and sagittal views.
    auto* slabSpin = new QDoubleSpinBox(toolbar);
    slabSpin->setObjectName("slabSpin");
    slabSpin->setRange(0.0, 200.0);
    slabSpin->setDecimals(0);
    slabSpin->setSingleStep(5.0);
    slabSpin->setPrefix(tr("MIP "));
    slabSpin->setSuffix(tr(" mm"));
    slabSpin->setSpecialValueText(tr("MIP off"));
    slabSpin->setToolTip(tr("Thick-slab maximum intensity projection (0: thin slices)"));
    connect(slabSpin, &QDoubleSpinBox::valueChanged, m_view, &ViewStateModel::setSlabThicknessMm);
    toolbar->addWidget(slabSpin);
    toolbar->addWidget(new QLabel(tr("  Layout "), toolbar));
    m_layoutCombo = new QComboBox(toolbar);
    m_layoutCombo->setObjectName("layoutCombo");
    m_layoutCombo->addItems({tr("Axial · Coronal · Sagittal · 3D"), tr("Trajectory: needle · probe's eye")});
    connect(m_layoutCombo, &QComboBox::activated, this, &MainWindow::setLayoutMode);
    connect(m_view, &ViewStateModel::layoutChanged, m_layoutCombo,
            [this] { m_layoutCombo->setCurrentIndex(m_view->layoutMode()); });
    toolbar->addWidget(m_layoutCombo);
    toolbar->addSeparator();
    toolbar->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Screenshot"), screenshot,
                       &QAction::trigger);
}

void MainWindow::addRecent(const QString& path)
{
    QSettings settings;
    QStringList recent = settings.value("recentFiles").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue("recentFiles", recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value("recentFiles").toStringList();
    for (const QString& path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openPath(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

} // namespace np::gui
