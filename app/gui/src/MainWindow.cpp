#include "needleplan/gui/MainWindow.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDialog>
#include <QDialogButtonBox>
#include <QColorDialog>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTableWidget>
#include <QToolBar>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>
#include <cstdio>

#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/SeriesPickerDialog.h"
#include "needleplan/gui/StructureMerge.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/StructureImport.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/PlanValidation.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/TrajectorySearch.h"
#include "needleplan/render/ModelScene.h"
#if defined(NP_HAVE_PHANTOM)
#include "needleplan/phantom/LumbarPhantom.h"
#endif

namespace np::gui {

namespace {

QString mm(double value, int decimals = 1) { return QString::number(value, 'f', decimals) + QStringLiteral(" mm"); }
QString deg(double value) { return QString::number(value, 'f', 1) + QStringLiteral("°"); }

QColor toQColor(const render::Rgb& rgb)
{
    return QColor::fromRgbF(static_cast<float>(rgb[0]), static_cast<float>(rgb[1]), static_cast<float>(rgb[2]));
}

/// The phantom folder the build generated, or the one in the cache folder.
QString findSampleFolder()
{
    const QStringList candidates = {QStringLiteral(NP_BUILD_SAMPLE_DIR),
                                    QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/phantom"};
    for (const QString& folder : candidates)
        if (QFileInfo::exists(folder + "/dicom") && QFileInfo::exists(folder + "/structures.seg.nrrd"))
            return folder;
    return {};
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_undo(new QUndoStack(this)), m_task(new BackgroundTask(this)), m_image(new ImageModel(this)),
      m_view(new ViewStateModel(*m_image, this)), m_structures(new StructuresModel(*m_image, *m_undo, *m_task, this)),
      m_plan(new PlanModel(*m_image, *m_undo, this))
{
    setObjectName("mainWindow");
    setWindowTitle(tr("NeedlePlan"));
    setAcceptDrops(true);
    resize(1560, 980);
    buildViews();
    buildPanels();
    buildActions();

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setMaximumWidth(260);
    m_progress->setTextVisible(true);
    m_progress->hide();
    m_cancelButton = new QToolButton(this);
    m_cancelButton->setText(tr("Cancel"));
    m_cancelButton->hide();
    m_statusLabel = new QLabel(tr("Ready"), this);
    m_cursorLabel = new QLabel(this);
    statusBar()->addWidget(m_statusLabel, 1);
    statusBar()->addPermanentWidget(m_cursorLabel);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancelButton);
    connect(m_cancelButton, &QToolButton::clicked, m_task, &BackgroundTask::cancel);
    connect(m_task, &BackgroundTask::started, this, [this](const QString& title) {
        m_statusLabel->setText(title + QStringLiteral("…"));
        m_progress->setValue(0);
        m_progress->show();
        m_cancelButton->show();
    });
    connect(m_task, &BackgroundTask::progress, this, [this](double fraction, const QString& stage) {
        m_progress->setValue(static_cast<int>(1000 * std::clamp(fraction, 0.0, 1.0)));
        if (!stage.isEmpty())
            m_progress->setFormat(stage + QStringLiteral(" %p%"));
    });
    connect(m_task, &BackgroundTask::finished, this, [this] {
        m_progress->hide();
        m_cancelButton->hide();
        m_statusLabel->setText(tr("Ready"));
    });

    connect(m_image, &ImageModel::volumeChanged, this, [this] {
        std::shared_ptr<const imaging::Volume> volume = m_image->volume();
        for (SliceViewWidget* view : allSliceViews()) {
            view->scene().setVolume(volume);
            view->scene().setWindowLevel(m_view->window(), m_view->level());
            view->scene().setCursorLps(m_view->cursorLps());
        }
        m_modelView->scene().clearSurfaces();
        m_modelView->scene().setAccessMap({});
        updateCornerText();
        refreshSliceViews();
    });
    connect(m_structures, &StructuresModel::labelsChanged, this, [this] {
        refreshStructuresTable();
        // The skin carries the accessibility map in 3D.
        m_modelView->scene().setSkinLabel(m_structures->skinLabel());
    });
    connect(m_structures, &StructuresModel::structuresChanged, this, [this] {
        for (SliceViewWidget* view : allSliceViews())
            view->scene().setLabels(m_structures->labels(), m_structures->styles());
        m_modelView->scene().setStyles(m_structures->styles());
        refreshStructuresTable();
        refreshReadout();
        refreshSliceViews();
    });
    connect(m_view, &ViewStateModel::cursorChanged, this, [this] {
        for (SliceViewWidget* view : m_sliceViews)
            view->scene().setCursorLps(m_view->cursorLps());
        updateStatus();
        refreshSliceViews();
    });
    connect(m_image, &ImageModel::namedTargetsChanged, this, [this] {
        m_namedTargetCombo->clear();
        for (const NamedTargetEntry& target : m_image->namedTargets())
            m_namedTargetCombo->addItem(target.name);
        m_namedTargetCombo->setCurrentIndex(m_image->namedTargets().empty() ? -1 : 0);
    });
    connect(m_structures, &StructuresModel::labelsReplaced, this, &MainWindow::labelsReplaced);
    connect(m_structures, &StructuresModel::structuresAdded, this, &MainWindow::structuresAdded);
    connect(m_structures, &StructuresModel::structuresUpdated, this, &MainWindow::structuresUpdated);
    connect(m_structures, &StructuresModel::errorOccurred, this, &MainWindow::reportError);
    connect(m_view, &ViewStateModel::windowLevelChanged, this, [this] {
        const QString preset = m_view->windowPresetName();
        if (!preset.isEmpty())
            m_windowCombo->setCurrentText(preset);
        for (SliceViewWidget* view : allSliceViews())
            view->scene().setWindowLevel(m_view->window(), m_view->level());
        refreshSliceViews();
    });
    connect(m_plan, &PlanModel::planChanged, this, [this] {
        refreshPlanGraphics();
        refreshTrajectoryViews();
        refreshTargetsTree();
        refreshRankedTable();
        refreshReadout();
    });
    connect(m_undo, &QUndoStack::cleanChanged, this, [this](bool clean) { setWindowModified(!clean); });
    rebuildRecentMenu();
    m_autosaveTimer = new QTimer(this);
    m_autosaveTimer->setInterval(30000);
    connect(m_autosaveTimer, &QTimer::timeout, this, &MainWindow::autosave);
    m_autosaveTimer->start();
    // The accessibility map shown is the active target's, while its search results stand.
    connect(m_plan, &PlanModel::planChanged, this, [this] {
        const PlanTarget* target = m_plan->active();
        auto it = target ? m_accessMaps.find(target->name) : m_accessMaps.end();
        const bool valid = it != m_accessMaps.end() && !target->ranked.empty();
        m_modelView->scene().setAccessMap(valid ? it->second : std::vector<render::AccessPoint>{});
        m_modelView->scene().setAccessMapVisible(m_accessMapAction->isChecked());
        m_modelView->refresh();
    });
    QTimer::singleShot(0, this, &MainWindow::offerRecovery);
}

MainWindow::~MainWindow()
{
    m_task->cancel();
    m_task->waitForIdle();
}

SliceViewWidget* MainWindow::sliceView(render::SliceOrientation orientation) const
{
    for (SliceViewWidget* view : m_sliceViews)
        if (view->scene().orientation() == orientation)
            return view;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// Construction

QWidget* MainWindow::makeViewFrame(QWidget* view, const QString& title, const QColor& accent, QWidget* extra)
{
    auto* frame = new QWidget(this);
    frame->setObjectName("viewFrame");
    auto* layout = new QVBoxLayout(frame);
    layout->setContentsMargins(1, 1, 1, 1);
    layout->setSpacing(0);
    auto* bar = new QWidget(frame);
    bar->setObjectName("viewBar");
    bar->setStyleSheet(QStringLiteral("#viewBar { background: #1d2127; border-left: 3px solid %1; }").arg(accent.name()));
    auto* barLayout = new QHBoxLayout(bar);
    barLayout->setContentsMargins(8, 2, 4, 2);
    auto* label = new QLabel(title, bar);
    label->setStyleSheet(QStringLiteral("color: %1; font-weight: 600;").arg(accent.name()));
    barLayout->addWidget(label);
    barLayout->addStretch(1);
    if (extra) {
        extra->setParent(bar);
        barLayout->addWidget(extra, 2);
    }
    auto* shot = new QToolButton(bar);
    shot->setText(tr("PNG"));
    shot->setToolTip(tr("Save this view as PNG"));
    auto* maximise = new QToolButton(bar);
    maximise->setText(QStringLiteral("⤢"));
    maximise->setToolTip(tr("Maximise / restore this view (or double-click it)"));
    barLayout->addWidget(shot);
    barLayout->addWidget(maximise);
    layout->addWidget(bar);
    layout->addWidget(view, 1);
    connect(maximise, &QToolButton::clicked, this, [this, frame] { toggleMaximised(frame); });
    connect(shot, &QToolButton::clicked, this, [this, view, title] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save %1 view").arg(title),
                                                          title.toLower() + ".png", tr("PNG images (*.png)"));
        QString error;
        if (!path.isEmpty() && !saveViewScreenshot(view, path, &error))
            reportError(tr("Screenshot not saved"), error);
    });
    return frame;
}

void MainWindow::buildViews()
{
    auto* central = new QWidget(this);
    m_grid = new QGridLayout(central);
    m_grid->setContentsMargins(2, 2, 2, 2);
    m_grid->setSpacing(3);
    const std::pair<render::SliceOrientation, QColor> slices[] = {
        {render::SliceOrientation::Axial, QColor(236, 84, 77)},
        {render::SliceOrientation::Coronal, QColor(102, 204, 102)},
        {render::SliceOrientation::Sagittal, QColor(242, 217, 77)}};
    for (const auto& [orientation, accent] : slices) {
        auto* view = new SliceViewWidget(orientation, central);
        m_sliceViews.push_back(view);
        m_viewFrames.push_back(makeViewFrame(view, render::toString(orientation), accent));
        connect(view, &SliceViewWidget::cursorMoved, this, [this](const Vec3& p) { m_view->setCursorLps(p); });
        connect(view, &SliceViewWidget::windowLevelChanged, this,
                [this](double w, double l) { m_view->setWindowLevel(w, l); });
        connect(view, &SliceViewWidget::pointPicked, this, [this](const Vec3& p, PickMode mode) {
            if (mode == PickMode::SetTarget)
                placeTarget(p);
            else if (mode == PickMode::SetEntry)
                placeEntry(p);
            setPickMode(PickMode::Navigate);
        });
        connect(view, &SliceViewWidget::handleDragStarted, m_plan, [this](int) { m_plan->beginDrag(); });
        connect(view, &SliceViewWidget::handleDragged, m_plan,
                [this](int h, const Vec3& p) { m_plan->dragHandle(h, p); });
        connect(view, &SliceViewWidget::handleDragFinished, m_plan, [this](int) { m_plan->endDrag(); });
        QWidget* frame = m_viewFrames.back();
        connect(view, &SliceViewWidget::maximiseToggled, this, [this, frame] { toggleMaximised(frame); });
    }
    m_modelView = new ModelViewWidget(central);
    m_viewFrames.push_back(makeViewFrame(m_modelView, tr("3D"), QColor(120, 170, 240)));
    QWidget* modelFrame = m_viewFrames.back();
    connect(m_modelView, &ModelViewWidget::maximiseToggled, this, [this, modelFrame] { toggleMaximised(modelFrame); });

    // Trajectory views: a plane containing the needle (rotatable about it) and the probe's eye.
    m_needleView = new SliceViewWidget(render::SliceOrientation::Sagittal, central);
    m_needleView->setObjectName("needleView");
    m_needleView->scene().setViewName("Along needle");
    m_needleView->scene().setCrosshairVisible(false);
    m_rotationSlider = new QSlider(Qt::Horizontal);
    m_rotationSlider->setRange(-180, 180);
    m_rotationSlider->setToolTip(tr("Rotate the plane about the needle"));
    m_viewFrames.push_back(makeViewFrame(m_needleView, tr("Along needle"), QColor(90, 200, 230), m_rotationSlider));
    m_probeView = new SliceViewWidget(render::SliceOrientation::Axial, central);
    m_probeView->setObjectName("probeView");
    m_probeView->scene().setViewName("Probe's eye");
    m_probeView->scene().setCrosshairVisible(false);
    m_depthSlider = new QSlider(Qt::Horizontal);
    m_depthSlider->setRange(0, 1000);
    m_depthSlider->setValue(1000);
    m_depthSlider->setToolTip(tr("Depth along the needle, from the skin entry to the tip"));
    m_viewFrames.push_back(makeViewFrame(m_probeView, tr("Probe's eye"), QColor(200, 140, 230), m_depthSlider));
    for (SliceViewWidget* view : {m_needleView, m_probeView}) {
        connect(view, &SliceViewWidget::cursorMoved, this, [this, view](const Vec3& p) {
            if (view == m_probeView) {
                // Wheel and clicks move the probe along the needle.
                const PlanTarget* target = m_plan->active();
                if (target && target->entryLps) {
                    const Vec3 axis = target->targetLps - *target->entryLps;
                    const double t = dot(p - *target->entryLps, axis) / std::max(1e-9, dot(axis, axis));
                    m_depthSlider->setValue(static_cast<int>(std::lround(1000 * std::clamp(t, 0.0, 1.0))));
                }
                return;
            }
            m_view->setCursorLps(p);
        });
        connect(view, &SliceViewWidget::windowLevelChanged, this,
                [this](double w, double l) { m_view->setWindowLevel(w, l); });
        QWidget* frame = view == m_probeView ? m_viewFrames[5] : m_viewFrames[4];
        connect(view, &SliceViewWidget::maximiseToggled, this, [this, frame] { toggleMaximised(frame); });
    }
    connect(m_rotationSlider, &QSlider::valueChanged, this, [this] { refreshTrajectoryViews(); });
    connect(m_depthSlider, &QSlider::valueChanged, this, [this] { refreshTrajectoryViews(); });
    setCentralWidget(central);
    setLayoutMode(0);
}

void MainWindow::focus3dOnActiveTarget()
{
    const PlanTarget* target = m_plan->active();
    if (!target || !target->entryLps)
        return;
    // A posterolateral view of the target from the side of its entry.
    const Vec3 outward = normalized(*target->entryLps - target->targetLps);
    const Vec3 view = normalized(Vec3{outward.x, 0.0, 0.0} * 0.8 + Vec3{0, 1, 0});
    m_modelView->scene().lookAlong(target->targetLps, -view, {0, 0, 1}, 260.0);
    m_modelView->refresh();
}

std::vector<SliceViewWidget*> MainWindow::allSliceViews() const
{
    std::vector<SliceViewWidget*> views = m_sliceViews;
    views.push_back(m_needleView);
    views.push_back(m_probeView);
    return views;
}

void MainWindow::setLayoutMode(int mode)
{
    m_layoutMode = mode == 1 ? 1 : 0;
    for (QWidget* frame : m_viewFrames) {
        m_grid->removeWidget(frame);
        frame->hide();
    }
    // Standard: axial | 3D over coronal | sagittal. Trajectory: needle | 3D over probe | axial.
    const int order[2][4] = {{0, 3, 1, 2}, {4, 3, 5, 0}};
    for (int cell = 0; cell < 4; ++cell) {
        QWidget* frame = m_viewFrames[static_cast<std::size_t>(order[m_layoutMode][cell])];
        m_grid->addWidget(frame, cell / 2, cell % 2);
        frame->show();
    }
    m_maximised = nullptr;
    if (m_layoutCombo && m_layoutCombo->currentIndex() != m_layoutMode)
        m_layoutCombo->setCurrentIndex(m_layoutMode);
    refreshTrajectoryViews();
}

void MainWindow::setTrajectoryViewControls(double rotationDeg, double depthFraction)
{
    m_rotationSlider->setValue(static_cast<int>(std::lround(rotationDeg)));
    m_depthSlider->setValue(static_cast<int>(std::lround(1000 * std::clamp(depthFraction, 0.0, 1.0))));
    refreshTrajectoryViews();
}

void MainWindow::refreshTrajectoryViews()
{
    if (!m_needleView || !m_probeView)
        return;
    const PlanTarget* target = m_plan->active();
    if (!target || !target->entryLps || distance(*target->entryLps, target->targetLps) < 1e-6 || !m_image->volume()) {
        m_needleView->scene().setPositionText("no trajectory");
        m_probeView->scene().setPositionText("no trajectory");
        return;
    }
    const Vec3 entryLps = *target->entryLps;
    const Vec3 along = normalized(target->targetLps - entryLps);
    Vec3 reference = cross(along, Vec3{0, 0, 1});
    if (norm(reference) < 1e-3)
        reference = Vec3{1, 0, 0};
    reference = normalized(reference);
    const double angle = m_rotationSlider->value() * 3.14159265358979323846 / 180.0;
    const Vec3 rotated = reference * std::cos(angle) + cross(along, reference) * std::sin(angle);
    const double length = distance(entryLps, target->targetLps);

    // Along the needle: entry at the top, tip below.
    render::SliceScene& needle = m_needleView->scene();
    needle.setAxes(render::axesFromRightUp(rotated, -along));
    needle.setCursorLps(target->targetLps);
    needle.centreOn(0.5 * (entryLps + target->targetLps), 1.6 * length);
    char text[96];
    std::snprintf(text, sizeof text, "rotation %+d°", m_rotationSlider->value());
    needle.setPositionText(text);

    // Probe's eye: looking down the needle from the entry at the chosen depth.
    const double depth = m_depthSlider->value() / 1000.0 * length;
    render::SliceScene& probe = m_probeView->scene();
    render::SliceAxes axes;
    axes.towardViewerLps = -along;
    axes.rightLps = rotated;
    axes.upLps = cross(axes.towardViewerLps, axes.rightLps);
    probe.setAxes(axes);
    const Vec3 probeLps = entryLps + along * depth;
    probe.setCursorLps(probeLps);
    probe.centreOn(probeLps, 60.0);
    std::snprintf(text, sizeof text, "depth %.1f / %.1f mm", depth, length);
    probe.setPositionText(text);
    m_needleView->refresh();
    m_probeView->refresh();
}

void MainWindow::toggleMaximised(QWidget* view)
{
    QWidget* frame = view;
    while (frame && std::find(m_viewFrames.begin(), m_viewFrames.end(), frame) == m_viewFrames.end())
        frame = frame->parentWidget();
    if (!frame)
        return;
    if (m_maximised == frame) {
        setLayoutMode(m_layoutMode);
        return;
    }
    for (QWidget* other : m_viewFrames)
        other->setVisible(other == frame && m_grid->indexOf(other) >= 0);
    m_maximised = frame;
}

void MainWindow::buildPanels()
{
    // Structures (left).
    auto* structuresDock = new QDockWidget(tr("Structures"), this);
    structuresDock->setObjectName("structuresDock");
    auto* structuresPanel = new QWidget(structuresDock);
    auto* structuresLayout = new QVBoxLayout(structuresPanel);
    m_structuresTable = new QTableWidget(0, 6, structuresPanel);
    m_structuresTable->setObjectName("structuresTable");
    m_structuresTable->setHorizontalHeaderLabels({tr(""), tr(""), tr("Structure"), tr("Opacity"), tr("Class"), tr("Margin")});
    m_structuresTable->verticalHeader()->hide();
    m_structuresTable->verticalHeader()->setDefaultSectionSize(26);
    m_structuresTable->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_structuresTable->setColumnWidth(0, 26);
    m_structuresTable->setColumnWidth(1, 26);
    m_structuresTable->setColumnWidth(3, 62);
    m_structuresTable->setColumnWidth(4, 90);
    m_structuresTable->setColumnWidth(5, 74);
    m_structuresTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_structuresTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    structuresLayout->addWidget(m_structuresTable);
    auto* overlayRow = new QHBoxLayout();
    overlayRow->addWidget(new QLabel(tr("Slice overlay"), structuresPanel));
    auto* overlay = new QSlider(Qt::Horizontal, structuresPanel);
    overlay->setObjectName("overlayOpacitySlider");
    overlay->setRange(0, 100);
    overlay->setValue(45);
    overlay->setToolTip(tr("Opacity of the structure colours in the slice views"));
    connect(overlay, &QSlider::valueChanged, this, [this](int value) {
        for (SliceViewWidget* view : allSliceViews()) {
            view->scene().setLabelOpacity(value / 100.0);
            view->refresh();
        }
    });
    overlayRow->addWidget(overlay, 1);
    structuresLayout->addLayout(overlayRow);
    auto* loadSeg = new QPushButton(tr("Load segmentation…"), structuresPanel);
    loadSeg->setToolTip(tr("Replace all structures by a label map (.seg.nrrd or a plain label image)"));
    structuresLayout->addWidget(loadSeg);
    auto* structureButtons = new QGridLayout();
    auto* segmentButton = new QPushButton(tr("Segment automatically…"), structuresPanel);
    segmentButton->setObjectName("segmentButton");
    segmentButton->setToolTip(tr("Body, bone and lung from HU thresholds, added to the structures"));
    auto* importButton = new QPushButton(tr("Import structures…"), structuresPanel);
    importButton->setObjectName("importStructuresButton");
    importButton->setToolTip(tr("DICOM SEG, RTSTRUCT, .seg.nrrd or a label map with a colour table, added to the structures"));
    auto* exportNrrdButton = new QPushButton(tr("Export .seg.nrrd…"), structuresPanel);
    exportNrrdButton->setObjectName("exportSegNrrdButton");
    auto* exportSegButton = new QPushButton(tr("Export DICOM SEG…"), structuresPanel);
    exportSegButton->setObjectName("exportDicomSegButton");
    structureButtons->addWidget(segmentButton, 0, 0);
    structureButtons->addWidget(importButton, 0, 1);
    structureButtons->addWidget(exportNrrdButton, 1, 0);
    structureButtons->addWidget(exportSegButton, 1, 1);
    structuresLayout->addLayout(structureButtons);
    connect(segmentButton, &QPushButton::clicked, this, [this] { showSegmentDialog(); });
    connect(importButton, &QPushButton::clicked, this, [this] { showImportDialog(); });
    connect(exportNrrdButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export structures"), QString(),
                                                          tr("3D Slicer segmentation (*.seg.nrrd)"));
        QString error;
        if (!path.isEmpty() && !exportSegNrrd(path, &error))
            reportError(tr("Structures not exported"), error);
    });
    connect(exportSegButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export structures"), QString(), tr("DICOM SEG (*.dcm)"));
        QString error;
        if (!path.isEmpty() && !exportDicomSeg(path, &error))
            reportError(tr("Structures not exported"), error);
    });
    connect(loadSeg, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open segmentation"), QString(),
                                                          tr("Segmentations (*.seg.nrrd *.nrrd *.nii *.nii.gz *.mha *.mhd)"));
        if (!path.isEmpty())
            openSegmentation(path);
    });
    connect(m_structuresTable, &QTableWidget::cellClicked, this, [this](int row, int column) {
        if (row < 0 || row >= static_cast<int>(m_structures->rows().size()))
            return;
        StructureRow after = m_structures->rows()[static_cast<std::size_t>(row)];
        if (column == 1) {
            const QColor color = QColorDialog::getColor(toQColor(after.style.colorRgb), this, tr("Structure colour"));
            if (color.isValid()) {
                after.style.colorRgb = {color.redF(), color.greenF(), color.blueF()};
                editStructure(row, after, tr("Colour of %1"));
            }
        }
    });
    connect(m_structuresTable, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        const int row = item->row();
        if (item->column() != 0 || row < 0 || row >= static_cast<int>(m_structures->rows().size()))
            return;
        StructureRow after = m_structures->rows()[static_cast<std::size_t>(row)];
        const bool visible = item->checkState() == Qt::Checked;
        if (visible == after.style.visible)
            return;
        after.style.visible = visible;
        // Deferred: the table is rebuilt by the edit.
        QTimer::singleShot(0, this, [this, row, after] {
            editStructure(row, after, after.style.visible ? tr("Show %1") : tr("Hide %1"));
        });
    });
    structuresDock->setWidget(structuresPanel);
    structuresDock->setMinimumWidth(300);
    addDockWidget(Qt::LeftDockWidgetArea, structuresDock);

    // Planning (right).
    auto* planDock = new QDockWidget(tr("Planning"), this);
    planDock->setObjectName("planningDock");
    auto* planPanel = new QWidget(planDock);
    auto* planLayout = new QVBoxLayout(planPanel);
    auto* form = new QFormLayout();
    m_presetCombo = new QComboBox(planPanel);
    m_presetCombo->setObjectName("presetCombo");
    m_presetCombo->addItem(tr("Generic (all structures, nearest skin)"), QString());
    try {
        for (const std::string& name : planning::builtInPresetNames()) {
            QString title = QString::fromStdString(name);
            try {
                title = QString::fromStdString(planning::loadPreset(name).title);
            } catch (const std::exception&) {
            }
            m_presetCombo->addItem(title, QString::fromStdString(name));
        }
    } catch (const std::exception& error) {
        qWarning("presets not available: %s", error.what());
    }
    connect(m_presetCombo, &QComboBox::activated, this,
            [this](int index) { setPreset(m_presetCombo->itemData(index).toString()); });
    form->addRow(tr("Procedure"), m_presetCombo);
    m_needleCombo = new QComboBox(planPanel);
    m_needleCombo->setObjectName("needleCombo");
    for (const planning::Needle& needle : planning::needleCatalogue())
        m_needleCombo->addItem(QStringLiteral("%1  (%2 mm Ø)")
                                   .arg(QString::fromStdString(needle.name))
                                   .arg(needle.outerDiameterMm, 0, 'f', 2),
                               QString::fromStdString(needle.name));
    connect(m_needleCombo, &QComboBox::currentIndexChanged, this, [this](int index) {
        const std::string name = m_needleCombo->itemData(index).toString().toStdString();
        m_plan->setNeedle(name);
    });
    // Keep the combo in step with undo/redo and opened plans.
    connect(m_plan, &PlanModel::planChanged, this, [this] {
        const int index = m_needleCombo->findData(QString::fromStdString(m_plan->needleName()));
        if (index >= 0 && index != m_needleCombo->currentIndex()) {
            QSignalBlocker blocker(m_needleCombo);
            m_needleCombo->setCurrentIndex(index);
        }
    });
    form->addRow(tr("Needle"), m_needleCombo);
    m_namedTargetCombo = new QComboBox(planPanel);
    m_namedTargetCombo->setObjectName("namedTargetCombo");
    m_namedTargetCombo->setPlaceholderText(tr("(none found next to the image)"));
    form->addRow(tr("Named target"), m_namedTargetCombo);
    planLayout->addLayout(form);
    auto* addNamed = new QPushButton(tr("Add named target"), planPanel);
    connect(addNamed, &QPushButton::clicked, this, [this] {
        const int index = m_namedTargetCombo->currentIndex();
        if (index >= 0 && index < static_cast<int>(m_image->namedTargets().size()))
            addTarget(m_image->namedTargets()[static_cast<std::size_t>(index)].name,
                      m_image->namedTargets()[static_cast<std::size_t>(index)].positionLps);
    });
    auto* addAllNamed = new QPushButton(tr("Add all"), planPanel);
    addAllNamed->setToolTip(tr("Add every named target found next to the image"));
    connect(addAllNamed, &QPushButton::clicked, this, [this] {
        m_undo->beginMacro(tr("Add all named targets"));
        for (const NamedTargetEntry& target : m_image->namedTargets())
            addTarget(target.name, target.positionLps);
        m_undo->endMacro();
    });
    auto* namedRow = new QHBoxLayout();
    namedRow->addWidget(addNamed, 2);
    namedRow->addWidget(addAllNamed, 1);
    planLayout->addLayout(namedRow);

    auto* pickRow = new QHBoxLayout();
    auto* setTarget = new QPushButton(tr("Set target"), planPanel);
    setTarget->setObjectName("setTargetButton");
    setTarget->setToolTip(tr("Then click the target in any slice view"));
    auto* setEntry = new QPushButton(tr("Set entry"), planPanel);
    setEntry->setToolTip(tr("Then click the skin entry in any slice view"));
    pickRow->addWidget(setTarget);
    pickRow->addWidget(setEntry);
    planLayout->addLayout(pickRow);
    connect(setTarget, &QPushButton::clicked, this, [this] { setPickMode(PickMode::SetTarget); });
    connect(setEntry, &QPushButton::clicked, this, [this] { setPickMode(PickMode::SetEntry); });
    setTarget->setShortcut(QKeySequence(Qt::Key_T));
    setTarget->setToolTip(tr("Then click the target in any slice view (T)"));
    setEntry->setShortcut(QKeySequence(Qt::Key_E));
    setEntry->setToolTip(tr("Then click the skin entry in any slice view (E)"));

    m_targetsTree = new QTreeWidget(planPanel);
    m_targetsTree->setObjectName("targetsTree");
    m_targetsTree->setHeaderLabels({tr("Target"), tr("Status")});
    m_targetsTree->setRootIsDecorated(true);
    m_targetsTree->setMinimumHeight(120);
    m_targetsTree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    connect(m_targetsTree, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        const int index = item->data(0, Qt::UserRole).toInt();
        m_plan->setActiveTarget(index);
        if (const PlanTarget* target = m_plan->active())
            m_view->setCursorLps(target->targetLps);
    });
    m_targetsTree->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    connect(m_targetsTree, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
        if (column != 0 || item->parent())
            return;
        const int index = item->data(0, Qt::UserRole).toInt();
        if (index < 0 || index >= static_cast<int>(m_plan->targets().size()))
            return;
        const QString name = item->text(0);
        QTimer::singleShot(0, this, [this, index, name] { m_plan->renameTarget(index, name); });
    });
    planLayout->addWidget(m_targetsTree);
    auto* removeTarget = new QPushButton(tr("Remove target"), planPanel);
    connect(removeTarget, &QPushButton::clicked, this, [this] {
        m_plan->removeTarget(m_plan->activeTarget());
    });
    planLayout->addWidget(removeTarget);
    auto* find = new QPushButton(tr("Find safe trajectories"), planPanel);
    find->setObjectName("findButton");
    find->setToolTip(tr("Search thousands of directions from the active target and rank the safe ones"));
    connect(find, &QPushButton::clicked, this, &MainWindow::findSafeTrajectories);
    find->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    auto* searchRow = new QHBoxLayout();
    searchRow->addWidget(find, 2);
    auto* findAll = new QPushButton(tr("All targets"), planPanel);
    findAll->setToolTip(tr("Search every target of the plan, one after the other"));
    connect(findAll, &QPushButton::clicked, this, &MainWindow::searchAllTargets);
    searchRow->addWidget(findAll, 1);
    planLayout->addLayout(searchRow);

    m_readout = new QLabel(planPanel);
    m_readout->setObjectName("readout");
    m_readout->setTextFormat(Qt::RichText);
    m_readout->setWordWrap(true);
    m_readout->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_readout->setMinimumHeight(200);
    m_readout->setStyleSheet("QLabel { background: #15181d; border: 1px solid #2b3038; padding: 6px; }");
    planLayout->addWidget(m_readout, 1);

    m_rankedTable = new QTableWidget(0, 6, planPanel);
    m_rankedTable->setObjectName("rankedTable");
    m_rankedTable->setHorizontalHeaderLabels(
        {tr("#"), tr("Length"), tr("Clearance"), tr("Closest"), tr("CC / ML"), tr("C-arm")});
    m_rankedTable->verticalHeader()->hide();
    m_rankedTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_rankedTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_rankedTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_rankedTable->horizontalHeader()->setStretchLastSection(true);
    m_rankedTable->setMinimumHeight(140);
    connect(m_rankedTable, &QTableWidget::cellClicked, this, [this](int row, int) { selectCandidate(row); });
    planLayout->addWidget(m_rankedTable, 1);
    planDock->setWidget(planPanel);
    planDock->setMinimumWidth(340);
    planDock->setMaximumWidth(460);
    for (QComboBox* combo : {m_presetCombo, m_needleCombo, m_namedTargetCombo}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(18);
    }
    addDockWidget(Qt::RightDockWidgetArea, planDock);
    resizeDocks({structuresDock, planDock}, {380, 420}, Qt::Horizontal);
}

void MainWindow::buildActions()
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
        const QString path = QFileDialog::getOpenFileName(this, tr("Open volume"), QString(),
                                                          tr("Volumes (*.nrrd *.nhdr *.nii *.nii.gz *.mha *.mhd)"));
        if (!path.isEmpty())
            openPath(path);
    });
    file->addAction(tr("Open &segmentation…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open segmentation"), QString(),
                                                          tr("Segmentations (*.seg.nrrd *.nrrd *.nii *.nii.gz)"));
        if (!path.isEmpty())
            openSegmentation(path);
    });
    auto* sample = file->addAction(tr("Open sample &phantom"), this, [this] { openSamplePhantom(); });
    m_recentMenu = file->addMenu(tr("&Recent"));
    file->addSeparator();
    file->addAction(tr("Open p&lan…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open plan"), QString(), tr("Plans (*.needleplan.json *.json)"));
        if (!path.isEmpty())
            openPlanFile(path);
    });
    auto* savePlan = file->addAction(tr("&Save plan"), QKeySequence::Save, this, [this] {
        QString path = m_planPath;
        if (path.isEmpty())
            path = QFileDialog::getSaveFileName(this, tr("Save plan"), "plan.needleplan.json", tr("Plans (*.needleplan.json)"));
        QString error;
        if (!path.isEmpty() && !savePlanFile(path, &error))
            reportError(tr("Plan not saved"), error);
    });
    file->addAction(tr("Save plan &as…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save plan"), "plan.needleplan.json", tr("Plans (*.needleplan.json)"));
        QString error;
        if (!path.isEmpty() && !savePlanFile(path, &error))
            reportError(tr("Plan not saved"), error);
    });
    (void)savePlan;
    file->addSeparator();
    auto* screenshot = file->addAction(tr("Export &window screenshot…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save screenshot"), "needleplan.png",
                                                          tr("PNG images (*.png)"));
        QString error;
        if (!path.isEmpty() && !saveWindowScreenshot(path, &error))
            reportError(tr("Screenshot not saved"), error);
    });
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
        view->addAction(tr("Window: %1").arg(preset.name), this, [this, name = preset.name] { applyWindowPreset(name); });
    view->addSeparator();
    m_accessMapAction = view->addAction(tr("Accessibility map on the skin"));
    m_accessMapAction->setCheckable(true);
    m_accessMapAction->setChecked(true);
    connect(m_accessMapAction, &QAction::toggled, this, [this](bool on) {
        m_modelView->scene().setAccessMapVisible(on);
        m_modelView->refresh();
    });
    view->addAction(tr("Reset views"), this, [this] {
        for (SliceViewWidget* v : m_sliceViews) {
            v->scene().resetCamera();
            v->refresh();
        }
        m_modelView->scene().resetCamera();
        m_modelView->refresh();
    });

    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addAction(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open DICOM"), openDicom, &QAction::trigger);
    toolbar->addAction(style()->standardIcon(QStyle::SP_FileIcon), tr("Open volume"), openVolume, &QAction::trigger);
    toolbar->addAction(style()->standardIcon(QStyle::SP_DriveHDIcon), tr("Sample phantom"), sample, &QAction::trigger);
    toolbar->addSeparator();
    auto* undoShort = toolbar->addAction(style()->standardIcon(QStyle::SP_ArrowBack), tr("Undo"), m_undo, &QUndoStack::undo);
    auto* redoShort = toolbar->addAction(style()->standardIcon(QStyle::SP_ArrowForward), tr("Redo"), m_undo, &QUndoStack::redo);
    connect(m_undo, &QUndoStack::canUndoChanged, undoShort, &QAction::setEnabled);
    connect(m_undo, &QUndoStack::canRedoChanged, redoShort, &QAction::setEnabled);
    connect(m_undo, &QUndoStack::undoTextChanged, undoShort, [undoShort](const QString& t) { undoShort->setToolTip(tr("Undo %1").arg(t)); });
    connect(m_undo, &QUndoStack::redoTextChanged, redoShort, [redoShort](const QString& t) { redoShort->setToolTip(tr("Redo %1").arg(t)); });
    undoShort->setEnabled(false);
    redoShort->setEnabled(false);
    toolbar->addSeparator();
    toolbar->addWidget(new QLabel(tr(" Window "), toolbar));
    m_windowCombo = new QComboBox(toolbar);
    m_windowCombo->setObjectName("windowPresetCombo");
    for (const WindowPreset& preset : ViewStateModel::windowPresets())
        m_windowCombo->addItem(preset.name);
    connect(m_windowCombo, &QComboBox::textActivated, this, &MainWindow::applyWindowPreset);
    toolbar->addWidget(m_windowCombo);
    toolbar->addWidget(new QLabel(tr("  Layout "), toolbar));
    m_layoutCombo = new QComboBox(toolbar);
    m_layoutCombo->setObjectName("layoutCombo");
    m_layoutCombo->addItems({tr("Axial · Coronal · Sagittal · 3D"), tr("Trajectory: needle · probe's eye")});
    connect(m_layoutCombo, &QComboBox::activated, this, &MainWindow::setLayoutMode);
    toolbar->addWidget(m_layoutCombo);
    toolbar->addSeparator();
    toolbar->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("Screenshot"), screenshot, &QAction::trigger);
}

// ---------------------------------------------------------------------------------------------
// Loading

void MainWindow::reportError(const QString& title, const QString& message)
{
    qWarning("%s: %s", qPrintable(title), qPrintable(message));
    if (m_scripted)
        return;
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setObjectName("errorBox");
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::openPath(const QString& requested)
{
    if (m_task->busy()) {
        reportError(tr("Busy"), tr("Wait for the current task to finish, or cancel it."));
        emit loadFinished(false, tr("busy"));
        return;
    }
    QString path = requested;
    QFileInfo info(path);
    m_pendingSegmentation.clear();
    m_pendingTargets.clear();
    // A phantom-style folder: dicom/ plus structures.seg.nrrd and targets.json.
    if (info.isDir() && QFileInfo::exists(path + "/dicom")) {
        if (QFileInfo::exists(path + "/structures.seg.nrrd"))
            m_pendingSegmentation = path + "/structures.seg.nrrd";
        if (QFileInfo::exists(path + "/targets.json"))
            m_pendingTargets = path + "/targets.json";
        path += "/dicom";
    } else {
        const QString parent = info.isDir() ? info.absoluteFilePath() + "/.." : info.absolutePath();
        if (QFileInfo::exists(parent + "/structures.seg.nrrd"))
            m_pendingSegmentation = QDir::cleanPath(parent + "/structures.seg.nrrd");
        if (QFileInfo::exists(parent + "/targets.json"))
            m_pendingTargets = QDir::cleanPath(parent + "/targets.json");
    }
    const std::string nativePath = QDir::toNativeSeparators(path).toStdString();
    const QString shown = requested;
    auto failed = [this, shown](ErrorCode code, const QString& message) {
        if (code != ErrorCode::Cancelled)
            reportError(tr("Could not open %1").arg(QFileInfo(shown).fileName()),
                        message + tr("\n\nCheck that the path holds a readable image, or choose another series."));
        emit loadFinished(false, message);
    };
    if (imaging::isItkImageFile(nativePath)) {
        auto volume = std::make_shared<imaging::Volume>();
        m_task->start(
            tr("Loading %1").arg(QFileInfo(path).fileName()),
            [volume, nativePath](ProgressSink& sink) { *volume = imaging::loadVolume(nativePath, {}, &sink); },
            [this, volume, shown] { volumeLoaded(volume, shown); }, failed);
        return;
    }
    auto scan = std::make_shared<imaging::DicomScanResult>();
    auto thumbnails = std::make_shared<std::vector<QImage>>();
    m_task->start(
        tr("Scanning %1").arg(QFileInfo(path).fileName()),
        [scan, thumbnails, nativePath](ProgressSink& sink) {
            *scan = imaging::scanDicom(nativePath, &sink);
            if (scan->series.size() > 1)
                for (std::size_t i = 0; i < scan->series.size(); ++i) {
                    throwIfCancelled(&sink);
                    thumbnails->push_back(seriesThumbnail(*scan, static_cast<int>(i)));
                }
        },
        [this, scan, thumbnails, shown, failed] {
            std::vector<int> loadable;
            for (const auto& entry : scan->series)
                if (entry.kind == imaging::DicomSeriesKind::Volume && !entry.hasError())
                    loadable.push_back(entry.index);
            if (scan->series.empty()) {
                failed(ErrorCode::NotFound, tr("No DICOM images were found in %1 (%2 files skipped).")
                                                .arg(shown)
                                                .arg(scan->skipped.size()));
                return;
            }
            if (scan->series.size() == 1 && loadable.size() == 1) {
                loadDicomSeriesAt(scan, loadable.front(), shown);
                return;
            }
            auto* picker = new SeriesPickerDialog(*scan, *thumbnails, this);
            picker->setAttribute(Qt::WA_DeleteOnClose);
            connect(picker, &QDialog::finished, this, [this, picker, scan, shown](int result) {
                const int index = picker->selectedIndex();
                if (result == QDialog::Accepted && index >= 0)
                    loadDicomSeriesAt(scan, index, shown);
                else
                    emit loadFinished(false, tr("no series chosen"));
            });
            if (m_scripted && !loadable.empty()) {
                picker->selectIndex(loadable.front());
                picker->accept();
                return;
            }
            picker->open();
        },
        failed);
}

void MainWindow::loadDicomSeriesAt(std::shared_ptr<imaging::DicomScanResult> scan, int index, const QString& path)
{
    auto volume = std::make_shared<imaging::Volume>();
    m_task->start(
        tr("Loading series"),
        [scan, index, volume](ProgressSink& sink) { *volume = imaging::loadDicomSeries(*scan, index, {}, &sink); },
        [this, volume, path] { volumeLoaded(volume, path); },
        [this, path](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                reportError(tr("Could not load the series"), message);
            emit loadFinished(false, message);
        });
}

void MainWindow::volumeLoaded(std::shared_ptr<imaging::Volume> volume, const QString& path)
{
    m_planning.reset();
    m_undo->clear();
    const imaging::VolumeInfo& info = volume->info();
    m_image->setVolume(volume, path);
    setWindowTitle(tr("NeedlePlan — %1[*]").arg(QFileInfo(path).fileName()));
    addRecent(path);
    if (!m_pendingTargets.isEmpty())
        m_image->setNamedTargets(ImageModel::readTargetsJson(m_pendingTargets));
    for (const std::string& warning : info.warnings)
        statusBar()->showMessage(QString::fromStdString(warning), 8000);
    if (!m_pendingSegmentation.isEmpty()) {
        const QString segmentation = m_pendingSegmentation;
        m_pendingSegmentation.clear();
        // The segmentation load reports loadFinished.
        auto labels = std::make_shared<imaging::LabelMap>();
        const std::string native = segmentation.toStdString();
        m_task->start(
            tr("Loading structures"), [labels, native](ProgressSink&) { *labels = imaging::readLabelMap(native); },
            [this, labels] {
                m_structures->setLabels(labels);
                preparePlanning();
                startSurfaceBuild();
                emit loadFinished(true, QString());
            },
            [this](ErrorCode, const QString& message) {
                reportError(tr("Structures not loaded"), message);
                preparePlanning();
                startSurfaceBuild();
                emit loadFinished(true, QString());
            });
        return;
    }
    preparePlanning();
    startSurfaceBuild();
    emit loadFinished(true, QString());
}

void MainWindow::openSegmentation(const QString& path)
{
    if (!m_image->volume() || m_task->busy()) {
        reportError(tr("Structures not loaded"), m_task->busy() ? tr("Wait for the current task to finish.")
                                                                 : tr("Open an image first."));
        return;
    }
    auto labels = std::make_shared<imaging::LabelMap>();
    const std::string native = path.toStdString();
    m_task->start(
        tr("Loading structures"), [labels, native](ProgressSink&) { *labels = imaging::readLabelMap(native); },
        [this, labels] {
            m_structures->setLabels(labels);
            preparePlanning();
            startSurfaceBuild();
        },
        [this](ErrorCode, const QString& message) { reportError(tr("Structures not loaded"), message); });
}

void MainWindow::openSamplePhantom()
{
    const QString folder = findSampleFolder();
    if (!folder.isEmpty()) {
        openPath(folder);
        return;
    }
#if defined(NP_HAVE_PHANTOM)
    const QString cache = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/phantom";
    QDir().mkpath(cache);
    const std::string native = cache.toStdString();
    m_task->start(
        tr("Generating the sample phantom"),
        [native](ProgressSink& sink) {
            const phantom::Phantom generated = phantom::generateLumbarPhantom({}, &sink);
            phantom::writePhantom(generated, native, &sink);
        },
        [this, cache] { openPath(cache); },
        [this](ErrorCode, const QString& message) {
            reportError(tr("Sample phantom not available"), message);
            emit loadFinished(false, message);
        });
#else
    reportError(tr("Sample phantom not available"), tr("This build has no phantom generator and no generated phantom."));
    emit loadFinished(false, tr("no sample phantom"));
#endif
}

void MainWindow::startSurfaceBuild()
{
    auto volume = m_image->volume();
    auto labels = m_structures->labels();
    if (!volume)
        return;
    auto surfaces = std::make_shared<render::SurfaceSet>();
    std::vector<std::uint16_t> values;
    for (const StructureRow& row : m_structures->rows())
        if (row.style.name.find("fat") == std::string::npos && row.style.name.find("muscle") == std::string::npos)
            values.push_back(row.style.labelValue);
    m_task->start(
        tr("Building 3D surfaces"),
        [volume, labels, surfaces, values](ProgressSink& sink) {
            if (labels && !values.empty())
                *surfaces = render::buildLabelSurfaces(*labels, values, &sink);
            else
                *surfaces = render::buildThresholdSurface(*volume, 250.0, 1, &sink);
        },
        [this, surfaces, labels] {
            std::vector<render::StructureStyle> styles = m_structures->styles();
            if (!labels)
                styles.push_back({1, "bone (threshold)", {0.92, 0.88, 0.78}, 1.0, true});
            m_modelView->scene().setSurfaces(std::move(*surfaces), styles);
            refreshPlanGraphics();
            m_modelView->scene().resetCamera();
            focus3dOnActiveTarget();
            m_modelView->refresh();
            emit surfacesReady();
        },
        [this](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                reportError(tr("3D surfaces not built"), message);
        });
}

void MainWindow::showSegmentDialog()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Segment automatically"));
    auto* form = new QFormLayout(&dialog);
    const imaging::SegmentationOptions defaults;
    auto* body = new QCheckBox(tr("Body (skin surface)"), &dialog);
    auto* bone = new QCheckBox(tr("Bone"), &dialog);
    auto* lung = new QCheckBox(tr("Lung"), &dialog);
    body->setChecked(defaults.body);
    bone->setChecked(defaults.bone);
    lung->setChecked(defaults.lung);
    auto threshold = [&dialog](double value) {
        auto* box = new QDoubleSpinBox(&dialog);
        box->setRange(-1500.0, 3000.0);
        box->setDecimals(0);
        box->setSuffix(tr(" HU"));
        box->setValue(value);
        return box;
    };
    auto* bodyHu = threshold(defaults.bodyThresholdHu);
    auto* boneHu = threshold(defaults.boneThresholdHu);
    auto* lungHu = threshold(defaults.lungThresholdHu);
    bodyHu->setToolTip(tr("Tissue above this is body (fat about -100 HU, air -1000 HU)"));
    boneHu->setToolTip(tr("At or above this inside the body is bone (muscle 40-60 HU, cancellous bone 200-400 HU)"));
    lungHu->setToolTip(tr("Air or aerated lung inside the body is below this (lung -950 to -500 HU)"));
    form->addRow(body, bodyHu);
    form->addRow(bone, boneHu);
    form->addRow(lung, lungHu);
    form->addRow(new QLabel(tr("The body is always computed when bone or lung is asked for."), &dialog));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, &dialog, [&] {
        bodyHu->setValue(defaults.bodyThresholdHu);
        boneHu->setValue(defaults.boneThresholdHu);
        lungHu->setValue(defaults.lungThresholdHu);
    });
    if (dialog.exec() != QDialog::Accepted)
        return;
    imaging::SegmentationOptions options;
    options.body = body->isChecked();
    options.bone = bone->isChecked();
    options.lung = lung->isChecked();
    options.bodyThresholdHu = static_cast<float>(bodyHu->value());
    options.boneThresholdHu = static_cast<float>(boneHu->value());
    options.lungThresholdHu = static_cast<float>(lungHu->value());
    segmentAutomatically(options);
}

void MainWindow::showImportDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import structures"), QString(),
        tr("Structures (*.dcm *.seg.nrrd *.nrrd *.nii *.nii.gz *.mha *.mhd);;All files (*)"));
    if (path.isEmpty())
        return;
    QString colorTable;
    if (!path.endsWith(".dcm", Qt::CaseInsensitive) && !path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) {
        bool labelMap = false;
        try {
            labelMap = imaging::detectStructureFile(path.toStdString()) == imaging::StructureFileKind::LabelMap;
        } catch (const std::exception&) {
        }
        if (labelMap &&
            QMessageBox::question(this, tr("Colour table"),
                                  tr("Name the labels with a colour table (3D Slicer .ctbl or ITK-SNAP label description)?")) ==
                QMessageBox::Yes)
            colorTable = QFileDialog::getOpenFileName(this, tr("Colour table"), QFileInfo(path).absolutePath(),
                                                      tr("Colour tables (*.ctbl *.txt *.label);;All files (*)"));
    }
    importStructureFile(path, colorTable);
}

void MainWindow::segmentAutomatically(const imaging::SegmentationOptions& options)
{
    m_structures->segmentAutomatically(options);
}

void MainWindow::importStructureFile(const QString& path, const QString& colorTablePath)
{
    m_structures->importStructureFile(path, colorTablePath);
}

void MainWindow::structuresAdded(const QString& summary, const QStringList& warnings)
{
    statusBar()->showMessage(summary, 8000);
    if (warnings.isEmpty())
        return;
    if (m_scripted) {
        for (const QString& warning : warnings)
            std::fprintf(stderr, "warning: %s\n", qPrintable(warning));
        return;
    }
    QMessageBox box(QMessageBox::Warning, tr("Structures added with warnings"),
                    tr("%1.\n\nPlease check these %2 note(s) before planning:").arg(summary).arg(warnings.size()),
                    QMessageBox::Ok, this);
    box.setInformativeText("• " + warnings.join("\n• "));
    box.exec();
}

void MainWindow::labelsReplaced()
{
    // A new planning session drops every clearance field of the previous labels; jobs still
    // running or queued keep the old session alive through their own reference.
    preparePlanning();
    refreshSliceViews();
    startSurfaceBuild();
    refreshReadout();
}

bool MainWindow::exportSegNrrd(const QString& path, QString* error)
{
    if (!m_structures->exportSegNrrd(path, error))
        return false;
    statusBar()->showMessage(tr("Structures exported to %1").arg(path), 8000);
    return true;
}

bool MainWindow::exportDicomSeg(const QString& path, QString* error)
{
    if (!m_structures->exportDicomSeg(path, error))
        return false;
    statusBar()->showMessage(tr("Structures exported to %1").arg(path), 8000);
    return true;
}

void MainWindow::preparePlanning()
{
    m_planning = std::make_shared<PlanningSession>(m_image->volume(), m_structures->labels());
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

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (!m_scripted && !m_undo->isClean()) {
        const auto answer = QMessageBox::question(this, tr("Unsaved plan"),
                                                  tr("The plan has unsaved changes. Save them before closing?"),
                                                  QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel,
                                                  QMessageBox::Save);
        if (answer == QMessageBox::Cancel) {
            event->ignore();
            return;
        }
        if (answer == QMessageBox::Save) {
            QString path = m_planPath;
            if (path.isEmpty())
                path = QFileDialog::getSaveFileName(this, tr("Save plan"), "plan.needleplan.json", tr("Plans (*.needleplan.json)"));
            QString error;
            if (path.isEmpty() || !savePlanFile(path, &error)) {
                if (!path.isEmpty())
                    reportError(tr("Plan not saved"), error);
                event->ignore();
                return;
            }
        }
    }
    m_task->cancel();
    QFile::remove(autosavePath());
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty())
        return;
    const QString path = urls.first().toLocalFile();
    if (path.endsWith(".seg.nrrd"))
        openSegmentation(path);
    else
        openPath(path);
    event->acceptProposedAction();
}

// ---------------------------------------------------------------------------------------------
// Planning edits

void MainWindow::setPickMode(PickMode mode)
{
    for (SliceViewWidget* view : m_sliceViews) {
        view->setPickMode(mode);
        view->setCursor(mode == PickMode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
    }
    m_statusLabel->setText(mode == PickMode::SetTarget  ? tr("Click the target in a slice view")
                           : mode == PickMode::SetEntry ? tr("Click the skin entry in a slice view")
                                                        : tr("Ready"));
}

void MainWindow::addTarget(const QString& name, const Vec3& targetLps)
{
    m_plan->addTarget(name, targetLps);
    m_view->setCursorLps(targetLps);
}

void MainWindow::placeTarget(const Vec3& targetLps)
{
    m_plan->moveActiveTarget(targetLps);
    m_view->setCursorLps(targetLps);
}

void MainWindow::placeEntry(const Vec3& entryLps)
{
    if (!m_plan->setEntry(entryLps))
        reportError(tr("No target"), tr("Set a target first, then its entry."));
}

void MainWindow::selectCandidate(int rank) { m_plan->selectCandidate(rank); }

void MainWindow::editStructure(int row, const StructureRow& after, const QString& text)
{
    m_structures->editRow(row, after, text);
}

void MainWindow::applyWindowPreset(const QString& name)
{
    m_view->applyWindowPreset(name);
}

// ---------------------------------------------------------------------------------------------
// Refreshing views and panels

void MainWindow::refreshSliceViews()
{
    for (SliceViewWidget* view : allSliceViews())
        view->refresh();
}

void MainWindow::refreshPlanGraphics()
{
    std::vector<render::TrajectoryGraphic> trajectories;
    std::vector<render::TargetGraphic> targets;
    const double radius = m_plan->needleRadiusMm();
    const std::vector<planning::StructureSpec> specs = [&] {
        std::vector<planning::StructureSpec> s;
        for (const StructureRow& row : m_structures->rows())
            s.push_back(row.spec);
        return s;
    }();
    std::optional<Vec3> entryHandle, targetHandle;
    for (std::size_t t = 0; t < m_plan->targets().size(); ++t) {
        const PlanTarget& target = m_plan->targets()[t];
        const bool isActive = static_cast<int>(t) == m_plan->activeTarget();
        targets.push_back({target.targetLps, isActive});
        if (isActive) {
            targetHandle = target.targetLps;
            // Other candidates of the active target, faint.
            for (std::size_t r = 0; r < target.ranked.size() && r < 5; ++r) {
                if (static_cast<int>(r) == target.selectedRank)
                    continue;
                render::TrajectoryGraphic candidate;
                candidate.entryLps = target.ranked[r].entryLps;
                candidate.targetLps = target.targetLps;
                candidate.radiusMm = radius;
                candidate.colorRgb = {0.55, 0.6, 0.7};
                trajectories.push_back(candidate);
            }
        }
        if (!target.entryLps)
            continue;
        render::TrajectoryGraphic graphic;
        graphic.entryLps = *target.entryLps;
        graphic.targetLps = target.targetLps;
        graphic.radiusMm = radius;
        graphic.selected = isActive;
        graphic.showHandles = isActive;
        graphic.colorRgb = {0.2, 0.9, 0.35};
        if (!m_planningBusy && m_planning && m_planning->hasLabels() && m_planning->fieldsCover(target.targetLps, specs)) {
            try {
                const auto needle = planning::findNeedle(m_plan->needleName());
                if (auto evaluation = m_planning->evaluate(specs, *target.entryLps, target.targetLps, *needle)) {
                    double worst = 1e9, margin = 0;
                    if (evaluation->closestIndex >= 0) {
                        const auto& c = evaluation->clearances[static_cast<std::size_t>(evaluation->closestIndex)];
                        worst = c.clearanceMm;
                        margin = c.marginMm;
                    }
                    graphic.colorRgb = evaluation->safe ? render::clearanceColor(worst, margin) : render::Rgb{0.95, 0.2, 0.15};
                    // Clearance colour along the shaft: red below the margin, amber within 1 mm of it.
                    for (double slack : m_planning->slackAlong(specs, *target.entryLps, target.targetLps, radius, 48))
                        graphic.colorsAlongRgb.push_back(render::clearanceColor(slack, 0.0));
                }
            } catch (const std::exception&) {
            }
        }
        if (isActive)
            entryHandle = graphic.entryLps;
        trajectories.push_back(graphic);
    }
    for (SliceViewWidget* view : allSliceViews()) {
        view->scene().setTrajectories(trajectories);
        view->scene().setTargets(targets);
        view->setHandles(entryHandle, targetHandle);
        view->refresh();
    }
    m_modelView->scene().setTrajectories(trajectories);
    m_modelView->scene().setTargets(targets);
    m_modelView->refresh();
}

void MainWindow::refreshStructuresTable()
{
    const auto& structures = m_structures->rows();
    QSignalBlocker blocker(m_structuresTable);
    m_structuresTable->setRowCount(static_cast<int>(structures.size()));
    static const planning::StructureClass classes[] = {planning::StructureClass::Ignored, planning::StructureClass::Forbidden,
                                                       planning::StructureClass::Obstacle, planning::StructureClass::Caution,
                                                       planning::StructureClass::Target};
    for (std::size_t r = 0; r < structures.size(); ++r) {
        const StructureRow& row = structures[r];
        const int rowIndex = static_cast<int>(r);
        auto* visible = new QTableWidgetItem();
        visible->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        visible->setCheckState(row.style.visible ? Qt::Checked : Qt::Unchecked);
        visible->setToolTip(tr("Show or hide"));
        m_structuresTable->setItem(rowIndex, 0, visible);
        auto* color = new QTableWidgetItem();
        color->setBackground(toQColor(row.style.colorRgb));
        color->setToolTip(tr("Click to change the colour"));
        m_structuresTable->setItem(rowIndex, 1, color);
        auto* name = new QTableWidgetItem(QString::fromStdString(row.style.name));
        if (!row.style.visible)
            name->setForeground(QColor(120, 125, 135));
        m_structuresTable->setItem(rowIndex, 2, name);

        auto* opacity = qobject_cast<QSpinBox*>(m_structuresTable->cellWidget(rowIndex, 3));
        if (!opacity) {
            opacity = new QSpinBox();
            opacity->setRange(0, 100);
            opacity->setSuffix("%");
            opacity->setFrame(false);
            m_structuresTable->setCellWidget(rowIndex, 3, opacity);
            connect(opacity, &QSpinBox::valueChanged, this, [this, rowIndex](int value) {
                StructureRow after = m_structures->rows()[static_cast<std::size_t>(rowIndex)];
                after.style.opacity = value / 100.0;
                editStructure(rowIndex, after, tr("Opacity of %1"));
            });
        }
        {
            QSignalBlocker b(opacity);
            opacity->setValue(static_cast<int>(std::lround(row.style.opacity * 100)));
        }
        auto* classCombo = qobject_cast<QComboBox*>(m_structuresTable->cellWidget(rowIndex, 4));
        if (!classCombo) {
            classCombo = new QComboBox();
            classCombo->setFrame(false);
            for (planning::StructureClass c : classes)
                classCombo->addItem(planning::toString(c));
            m_structuresTable->setCellWidget(rowIndex, 4, classCombo);
            connect(classCombo, &QComboBox::currentIndexChanged, this, [this, rowIndex](int index) {
                StructureRow after = m_structures->rows()[static_cast<std::size_t>(rowIndex)];
                after.spec.structureClass = classes[index];
                editStructure(rowIndex, after, tr("Class of %1"));
            });
        }
        {
            QSignalBlocker b(classCombo);
            for (int c = 0; c < 5; ++c)
                if (classes[c] == row.spec.structureClass)
                    classCombo->setCurrentIndex(c);
        }
        auto* margin = qobject_cast<QDoubleSpinBox*>(m_structuresTable->cellWidget(rowIndex, 5));
        if (!margin) {
            margin = new QDoubleSpinBox();
            margin->setRange(0, 20);
            margin->setSingleStep(0.5);
            margin->setDecimals(1);
            margin->setSuffix(" mm");
            margin->setFrame(false);
            m_structuresTable->setCellWidget(rowIndex, 5, margin);
            connect(margin, &QDoubleSpinBox::valueChanged, this, [this, rowIndex](double value) {
                StructureRow after = m_structures->rows()[static_cast<std::size_t>(rowIndex)];
                after.spec.marginMm = value;
                editStructure(rowIndex, after, tr("Margin of %1"));
            });
        }
        {
            QSignalBlocker b(margin);
            margin->setValue(row.spec.marginMm);
        }
    }
}

void MainWindow::refreshTargetsTree()
{
    QSignalBlocker blocker(m_targetsTree);
    m_targetsTree->clear();
    for (std::size_t t = 0; t < m_plan->targets().size(); ++t) {
        const PlanTarget& target = m_plan->targets()[t];
        auto* item = new QTreeWidgetItem(m_targetsTree);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        item->setText(0, QString::fromStdString(target.name));
        item->setData(0, Qt::UserRole, static_cast<int>(t));
        QString status = target.entryLps ? tr("trajectory set") : tr("no trajectory");
        if (!target.ranked.empty())
            status = tr("%1 candidates").arg(target.ranked.size());
        item->setText(1, status);
        auto* position = new QTreeWidgetItem(item);
        position->setText(0, QStringLiteral("Target LPS  %1, %2, %3")
                                 .arg(target.targetLps.x, 0, 'f', 1)
                                 .arg(target.targetLps.y, 0, 'f', 1)
                                 .arg(target.targetLps.z, 0, 'f', 1));
        position->setData(0, Qt::UserRole, static_cast<int>(t));
        if (target.entryLps) {
            auto* entry = new QTreeWidgetItem(item);
            entry->setText(0, QStringLiteral("Entry LPS  %1, %2, %3")
                                  .arg(target.entryLps->x, 0, 'f', 1)
                                  .arg(target.entryLps->y, 0, 'f', 1)
                                  .arg(target.entryLps->z, 0, 'f', 1));
            entry->setData(0, Qt::UserRole, static_cast<int>(t));
        }
        item->setExpanded(static_cast<int>(t) == m_plan->activeTarget());
        if (static_cast<int>(t) == m_plan->activeTarget()) {
            m_targetsTree->setCurrentItem(item);
            QFont bold = item->font(0);
            bold.setBold(true);
            item->setFont(0, bold);
        }
    }
}

void MainWindow::refreshRankedTable()
{
    QSignalBlocker blocker(m_rankedTable);
    const PlanTarget* target = m_plan->active();
    const int rows = target ? static_cast<int>(target->ranked.size()) : 0;
    m_rankedTable->setRowCount(rows);
    for (int r = 0; r < rows; ++r) {
        const TrajectoryRecord& record = target->ranked[static_cast<std::size_t>(r)];
        const planning::Evaluation& e = record.evaluation;
        m_rankedTable->setItem(r, 0, new QTableWidgetItem(QString::number(r + 1)));
        m_rankedTable->setItem(r, 1, new QTableWidgetItem(mm(e.lengthMm)));
        QString clearance = QStringLiteral("–"), closest;
        if (e.closestIndex >= 0 && e.closestIndex < static_cast<int>(e.clearances.size())) {
            const auto& c = e.clearances[static_cast<std::size_t>(e.closestIndex)];
            clearance = c.clearanceMm > 99 ? QStringLiteral("> 99 mm") : mm(c.clearanceMm);
            closest = QString::fromStdString(c.structure);
        }
        auto* clearanceItem = new QTableWidgetItem(clearance);
        clearanceItem->setForeground(e.safe ? QColor(94, 224, 122) : QColor(240, 80, 64));
        m_rankedTable->setItem(r, 2, clearanceItem);
        m_rankedTable->setItem(r, 3, new QTableWidgetItem(closest));
        m_rankedTable->setItem(r, 4, new QTableWidgetItem(QStringLiteral("%1 / %2")
                                                               .arg(deg(e.angles.craniocaudalDeg))
                                                               .arg(deg(e.angles.mediolateralDeg))));
        m_rankedTable->setItem(r, 5, new QTableWidgetItem(QStringLiteral("%1 %2 %3 %4")
                                                               .arg(e.angles.bullseye.primaryDeg >= 0 ? "LAO" : "RAO")
                                                               .arg(std::abs(e.angles.bullseye.primaryDeg), 0, 'f', 0)
                                                               .arg(e.angles.bullseye.secondaryDeg >= 0 ? "CRA" : "CAU")
                                                               .arg(std::abs(e.angles.bullseye.secondaryDeg), 0, 'f', 0)));
        for (int c = 0; c < 6; ++c)
            m_rankedTable->item(r, c)->setToolTip(QString::fromStdString(record.evaluation.safe ? "safe" : "unsafe"));
    }
    if (target && target->selectedRank >= 0)
        m_rankedTable->selectRow(target->selectedRank);
}

QString MainWindow::readoutHtml() const { return m_readout->text(); }

void MainWindow::refreshReadout()
{
    const PlanTarget* target = m_plan->active();
    if (!target) {
        m_readout->setText(tr("<i>No target. Press <b>Set target</b> and click in a slice view, or add a named target.</i>"));
        return;
    }
    QString html = QStringLiteral("<b>%1</b><br>").arg(QString::fromStdString(target->name).toHtmlEscaped());
    if (!target->entryLps) {
        html += tr("Target set. Press <b>Set entry</b> and click the skin entry.");
        m_readout->setText(html);
        return;
    }
    const auto needle = planning::findNeedle(m_plan->needleName());
    const planning::PatientPosition position =
        m_planning ? m_planning->patientPosition() : planning::PatientPosition::HFS;
    std::optional<planning::Evaluation> evaluation;
    if (!m_planningBusy && m_planning && m_planning->hasLabels() && needle) {
        try {
            std::vector<planning::StructureSpec> specs;
            for (const StructureRow& row : m_structures->rows())
                specs.push_back(row.spec);
            if (!m_planning->fieldsCover(target->targetLps, specs) && !m_plan->dragging() && !m_fieldsJobPending) {
                // Distance maps around a new target: computed off the GUI thread, then shown.
                m_fieldsJobPending = true;
                m_planningBusy = true;
                ++m_pendingSearches;
                std::shared_ptr<PlanningSession> session = m_planning;
                const Vec3 targetLps = target->targetLps;
                const double radius = needle->usableLengthMm + 20.0;
                m_task->start(
                    tr("Computing clearance fields"),
                    [session, specs, targetLps, radius](ProgressSink& sink) {
                        session->prepareFields(specs, targetLps, radius, &sink);
                    },
                    [this] {
                        m_fieldsJobPending = false;
                        m_planningBusy = --m_pendingSearches > 0;
                        refreshPlanGraphics();
                        refreshReadout();
                        emit fieldsReady();
                    },
                    [this](ErrorCode code, const QString& message) {
                        m_fieldsJobPending = false;
                        m_planningBusy = --m_pendingSearches > 0;
                        if (code != ErrorCode::Cancelled)
                            reportError(tr("Clearance not measured"), message);
                    });
                html += tr("<i>Measuring clearance…</i><br>");
            }
            if (m_planning->fieldsCover(target->targetLps, specs))
                evaluation = m_planning->evaluate(specs, *target->entryLps, target->targetLps, *needle);
        } catch (const std::exception& error) {
            html += QStringLiteral("<span style='color:#e07060'>%1</span><br>").arg(QString(error.what()).toHtmlEscaped());
        }
    }
    const planning::TrajectoryAngles angles =
        evaluation ? evaluation->angles : planning::computeTrajectoryAngles(*target->entryLps, target->targetLps, position);
    const double length = distance(*target->entryLps, target->targetLps);
    html += QStringLiteral("<table cellspacing='2'>");
    auto row = [&html](const QString& key, const QString& value) {
        html += QStringLiteral("<tr><td style='color:#9aa3ad'>%1</td><td>%2</td></tr>").arg(key, value);
    };
    if (evaluation)
        row(tr("Verdict"), evaluation->safe ? QStringLiteral("<span style='color:#5ee07a'><b>SAFE</b></span>")
                                            : QStringLiteral("<span style='color:#f05040'><b>UNSAFE</b></span>"));
    row(tr("Length"), mm(length) + (needle ? tr(" of %1 usable").arg(mm(needle->usableLengthMm, 0)) : QString()));
    if (evaluation && evaluation->skinFound)
        row(tr("Depth from skin"), mm(evaluation->depthFromSkinMm));
    row(tr("Craniocaudal"), deg(angles.craniocaudalDeg) + " " + QString::fromStdString(angles.craniocaudalName));
    QString mediolateral = deg(angles.mediolateralDeg);
    if (!angles.mediolateralSide.empty())
        mediolateral += tr(" toward the %1").arg(QString::fromStdString(angles.mediolateralSide));
    if (angles.towardMidline)
        mediolateral += *angles.towardMidline ? tr(" (medial)") : tr(" (lateral)");
    row(tr("Mediolateral"), mediolateral);
    row(tr("C-arm bull's-eye"), QStringLiteral("%1 %2, %3 %4")
                                    .arg(angles.bullseye.primaryDeg >= 0 ? "LAO" : "RAO")
                                    .arg(deg(std::abs(angles.bullseye.primaryDeg)))
                                    .arg(angles.bullseye.secondaryDeg >= 0 ? "CRA" : "CAU")
                                    .arg(deg(std::abs(angles.bullseye.secondaryDeg))));
    row(tr("C-arm progression"), QStringLiteral("%1 %2, %3 %4")
                                     .arg(angles.progression.primaryDeg >= 0 ? "LAO" : "RAO")
                                     .arg(deg(std::abs(angles.progression.primaryDeg)))
                                     .arg(angles.progression.secondaryDeg >= 0 ? "CRA" : "CAU")
                                     .arg(deg(std::abs(angles.progression.secondaryDeg))));
    html += QStringLiteral("</table>");
    if (evaluation) {
        html += tr("<br><b>Clearance</b> (needle surface to structure)<table cellspacing='2'>");
        std::vector<const planning::StructureClearance*> sorted;
        for (const auto& c : evaluation->clearances)
            if (c.structureClass == planning::StructureClass::Forbidden || c.structureClass == planning::StructureClass::Caution)
                sorted.push_back(&c);
        std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) {
            return a->clearanceMm - a->marginMm < b->clearanceMm - b->marginMm;
        });
        for (std::size_t i = 0; i < sorted.size() && i < 8; ++i) {
            const auto& c = *sorted[i];
            const QString color = c.clearanceMm < c.marginMm ? "#f05040" : (c.clearanceMm < c.marginMm + 1 ? "#f0c040" : "#d8dde3");
            html += QStringLiteral("<tr><td>%1</td><td style='color:%2'>%3</td><td style='color:#9aa3ad'>margin %4</td></tr>")
                        .arg(QString::fromStdString(c.structure).toHtmlEscaped(), color,
                             c.clearanceMm > 99 ? QStringLiteral("&gt; 99 mm") : mm(c.clearanceMm), mm(c.marginMm));
        }
        html += QStringLiteral("</table>");
        for (const auto& violation : evaluation->violations)
            html += QStringLiteral("<span style='color:#f05040'>• %1</span><br>")
                        .arg(QString::fromStdString(violation.message).toHtmlEscaped());
    } else if (!m_structures->labels()) {
        html += tr("<br><i>No structures loaded: clearance is not measured.</i>");
    }
    m_readout->setText(html);
}

void MainWindow::updateCornerText()
{
    auto volume = m_image->volume();
    std::string left, right;
    if (volume) {
        const imaging::VolumeInfo& info = volume->info();
        left = (info.modality.empty() ? std::string("Image") : info.modality) +
               (info.patientPosition.empty() ? std::string() : "  " + info.patientPosition);
        std::string description = info.description.empty() ? QFileInfo(m_image->path()).fileName().toStdString() : info.description;
        if (description.size() > 40) // the slice views shorten it further to fit their width
            description = description.substr(0, 37) + "...";
        left += "\n" + description;
        const auto& g = volume->geometry();
        char size[128];
        std::snprintf(size, sizeof size, "%lldx%lldx%lld\n%.2gx%.2gx%.2g mm", static_cast<long long>(g.size[0]),
                      static_cast<long long>(g.size[1]), static_cast<long long>(g.size[2]), g.spacing.x, g.spacing.y,
                      g.spacing.z);
        right = size;
    }
    for (SliceViewWidget* view : allSliceViews())
        view->scene().setCornerText(left, right);
}

void MainWindow::updateStatus()
{
    const Vec3 p = m_view->cursorLps();
    const double value = m_image->valueAt(p);
    m_cursorLabel->setText(QStringLiteral("LPS %1, %2, %3 mm   %4")
                               .arg(p.x, 0, 'f', 1)
                               .arg(p.y, 0, 'f', 1)
                               .arg(p.z, 0, 'f', 1)
                               .arg(std::isnan(value) ? QString() : QStringLiteral("%1 HU").arg(value, 0, 'f', 0)));
}

// ---------------------------------------------------------------------------------------------
// Search, presets and plan files

std::vector<planning::StructureSpec> MainWindow::structureSpecs() const
{
    std::vector<planning::StructureSpec> specs;
    for (const StructureRow& row : m_structures->rows())
        specs.push_back(row.spec);
    return specs;
}

void MainWindow::setPreset(const QString& name)
{
    planning::Preset preset;
    try {
        preset = name.isEmpty() ? planning::genericPreset() : planning::loadPreset(name.toStdString());
    } catch (const std::exception& error) {
        reportError(tr("Preset not loaded"), QString::fromStdString(error.what()));
        return;
    }
    m_plan->setPresetName(name.toStdString());
    const int presetIndex = m_presetCombo->findData(name);
    if (presetIndex >= 0)
        m_presetCombo->setCurrentIndex(presetIndex);
    // The preset's needle and structure rules, applied to the defaults, as one undo step.
    std::vector<planning::StructureSpec> specs;
    for (const StructureRow& row : m_structures->rows())
        specs.push_back(planning::defaultStructureSpec(row.style.name, row.style.labelValue));
    planning::applyPresetRules(preset, specs);
    m_undo->beginMacro(tr("Preset %1").arg(QString::fromStdString(preset.title)));
    if (planning::findNeedle(preset.needle))
        m_plan->setNeedle(preset.needle);
    m_structures->applyRules(specs, tr("Rules of %1").arg(QString::fromStdString(preset.title)));
    m_undo->endMacro();
}

void MainWindow::findSafeTrajectories() { searchTarget(m_plan->activeTarget()); }

void MainWindow::searchAllTargets()
{
    if (m_plan->targets().empty()) {
        reportError(tr("No target"), tr("Add targets first (named targets, or Set target and a click)."));
        emit searchFinished(false, tr("no target"));
        return;
    }
    for (int index = 0; index < static_cast<int>(m_plan->targets().size()); ++index)
        searchTarget(index);
}

void MainWindow::searchTarget(int index)
{
    const PlanTarget* active =
        index >= 0 && index < static_cast<int>(m_plan->targets().size()) ? &m_plan->targets()[static_cast<std::size_t>(index)] : nullptr;
    if (!active) {
        reportError(tr("No target"), tr("Set a target first: press Set target and click in a slice view."));
        emit searchFinished(false, tr("no target"));
        return;
    }
    if (!m_planning || !m_planning->hasLabels()) {
        reportError(tr("No structures"), tr("The search needs structures. Load a segmentation (.seg.nrrd) first."));
        emit searchFinished(false, tr("no structures"));
        return;
    }
    const auto needle = planning::findNeedle(m_plan->needleName());
    planning::Preset preset;
    try {
        preset = m_plan->presetName().empty() ? planning::genericPreset() : planning::loadPreset(m_plan->presetName());
    } catch (const std::exception& error) {
        reportError(tr("Preset not loaded"), QString::fromStdString(error.what()));
        emit searchFinished(false, QString::fromStdString(error.what()));
        return;
    }
    const PlanTarget before = *active;
    const std::vector<planning::StructureSpec> specs = structureSpecs();
    auto result = std::make_shared<planning::SearchResult>();
    std::shared_ptr<PlanningSession> session = m_planning;
    const planning::Needle chosenNeedle = needle ? *needle : planning::needleCatalogue().front();
    ++m_pendingSearches;
    m_planningBusy = true;
    m_task->start(
        tr("Searching trajectories for %1").arg(QString::fromStdString(before.name)),
        [session, specs, before, chosenNeedle, preset, result](ProgressSink& sink) {
            *result = session->search(specs, before.targetLps, chosenNeedle, preset, 20000, &sink);
        },
        [this, index, before, result] {
            m_planningBusy = --m_pendingSearches > 0;
            // The target may have changed or gone while the search ran: then the result is stale.
            const auto& targets = m_plan->targets();
            if (index >= static_cast<int>(targets.size()) || targets[static_cast<std::size_t>(index)].name != before.name ||
                distance(targets[static_cast<std::size_t>(index)].targetLps, before.targetLps) > 1e-9) {
                m_statusLabel->setText(tr("The target changed during the search; search again."));
                emit searchFinished(false, tr("target changed"));
                return;
            }
            const PlanTarget current = targets[static_cast<std::size_t>(index)];
            PlanTarget after = current;
            after.ranked.clear();
            after.ranked.clear();
            for (const planning::Candidate& candidate : result->candidates)
                after.ranked.push_back({candidate.trajectory.entryLps, candidate.trajectory.targetLps, candidate.score,
                                        candidate.pareto, candidate.evaluation});
            after.directionsSearched = static_cast<int>(result->directions.size());
            after.feasibleDirections = result->feasibleCount;
            after.selectedRank = after.ranked.empty() ? -1 : 0;
            if (!after.ranked.empty())
                after.entryLps = after.ranked.front().entryLps;
            m_plan->editTarget(index, after, tr("Find safe trajectories"));
            // Accessibility map: every direction that reached the skin.
            std::vector<render::AccessPoint> points;
            float best = 0.0f, worst = 0.0f;
            bool any = false;
            for (const auto& d : result->directions)
                if (d.feasible) {
                    best = any ? std::max(best, d.score) : d.score;
                    worst = any ? std::min(worst, d.score) : d.score;
                    any = true;
                }
            for (const auto& d : result->directions)
                if (d.reachedSkin) {
                    const double quality = d.feasible && best > worst ? (d.score - worst) / (best - worst) : 1.0;
                    points.push_back({d.skinEntryLps, d.feasible, quality});
                }
            m_accessMaps[after.name] = points;
            m_modelView->scene().setAccessMap(points);
            m_modelView->scene().setAccessMapVisible(m_accessMapAction->isChecked());
            focus3dOnActiveTarget();
            refreshPlanGraphics();
            refreshReadout();
            m_statusLabel->setText(tr("%1 safe trajectories; %2 of %3 directions feasible")
                                       .arg(after.ranked.size())
                                       .arg(after.feasibleDirections)
                                       .arg(after.directionsSearched));
            emit searchFinished(true, QString());
        },
        [this](ErrorCode code, const QString& message) {
            m_planningBusy = --m_pendingSearches > 0;
            if (code != ErrorCode::Cancelled)
                reportError(tr("Search failed"), message);
            emit searchFinished(false, message);
        });
}

QString MainWindow::autosavePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.needleplan.json";
}

namespace {

planning::Plan planFromModels(const ImageModel& image, const StructuresModel& structures, const PlanModel& workspace,
                              const QString& imagePath, const QString& structuresPath)
{
    planning::Plan plan;
    if (auto volume = image.volume()) {
        const imaging::VolumeInfo& info = volume->info();
        plan.image.path = imagePath.toStdString();
        plan.image.seriesUid = info.seriesUid;
        plan.image.frameOfReferenceUid = info.frameOfReferenceUid;
        plan.image.patientPosition = info.patientPosition;
    }
    plan.image.structuresPath = structuresPath.toStdString();
    if (auto needle = planning::findNeedle(workspace.needleName()))
        plan.needle = *needle;
    plan.structures = structures.specs();
    for (const PlanTarget& target : workspace.targets()) {
        planning::PlanTarget out;
        out.name = target.name;
        out.targetLps = target.targetLps;
        out.preset = workspace.presetName();
        out.directionsSearched = target.directionsSearched;
        out.feasibleDirections = target.feasibleDirections;
        // The trajectory in use comes first: a manual one, or the chosen search result.
        if (target.entryLps && target.selectedRank < 0) {
            planning::PlannedTrajectory manual;
            manual.rank = 0;
            manual.origin = "manual";
            manual.trajectory = {*target.entryLps, target.targetLps, plan.needle};
            manual.evaluation.lengthMm = distance(*target.entryLps, target.targetLps);
            out.trajectories.push_back(manual);
        }
        for (std::size_t r = 0; r < target.ranked.size(); ++r) {
            planning::PlannedTrajectory t;
            t.rank = static_cast<int>(r) + 1;
            t.origin = static_cast<int>(r) == target.selectedRank ? "search-selected" : "search";
            t.trajectory = {target.ranked[r].entryLps, target.ranked[r].targetLps, plan.needle};
            t.evaluation = target.ranked[r].evaluation;
            t.score = target.ranked[r].score;
            t.pareto = target.ranked[r].pareto;
            out.trajectories.push_back(t);
        }
        plan.targets.push_back(out);
    }
    return plan;
}

} // namespace

bool MainWindow::savePlanFile(const QString& path, QString* error)
{
    try {
        planning::savePlan(planFromModels(*m_image, *m_structures, *m_plan, m_image->path(), QString()), path.toStdString());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    m_planPath = path;
    m_undo->setClean();
    QFile::remove(autosavePath());
    statusBar()->showMessage(tr("Plan saved to %1").arg(path), 5000);
    return true;
}

void MainWindow::openPlanFile(const QString& path)
{
    planning::Plan plan;
    try {
        plan = planning::loadPlan(path.toStdString());
    } catch (const std::exception& e) {
        reportError(tr("Plan not opened"), QString::fromStdString(e.what()));
        emit planOpened(false, QString::fromStdString(e.what()));
        return;
    }
    const QString imagePath = QString::fromStdString(plan.image.path);
    const bool sameImage = m_image->volume() &&
                           (imagePath.isEmpty() || QFileInfo(imagePath) == QFileInfo(m_image->path()) ||
                            (!plan.image.seriesUid.empty() && plan.image.seriesUid == m_image->volume()->info().seriesUid));
    if (sameImage) {
        applyPlan(plan, path);
        return;
    }
    if (imagePath.isEmpty() || !QFileInfo::exists(imagePath)) {
        const QString message = tr("The plan's image %1 was not found. Open the image, then the plan.").arg(imagePath);
        reportError(tr("Plan not opened"), message);
        emit planOpened(false, message);
        return;
    }
    auto* connection = new QMetaObject::Connection;
    *connection = connect(this, &MainWindow::loadFinished, this,
                          [this, connection, plan, path](bool ok, const QString& message) {
                              QObject::disconnect(*connection);
                              delete connection;
                              if (ok)
                                  applyPlan(plan, path);
                              else
                                  emit planOpened(false, message);
                          });
    openPath(imagePath);
}

void MainWindow::applyPlan(const planning::Plan& plan, const QString& path)
{
    if (m_image->volume()) {
        // Positions far outside the image are refused before anything is drawn or evaluated.
        try {
            planning::validatePlanAgainstImage(plan, m_image->volume()->geometry(), path.toStdString());
        } catch (const std::exception& e) {
            reportError(tr("Plan not opened"), QString::fromStdString(e.what()));
            emit planOpened(false, QString::fromStdString(e.what()));
            return;
        }
    }
    m_undo->clear();
    m_plan->clear();
    m_plan->setNeedleName(plan.needle.name.empty() ? m_plan->needleName() : plan.needle.name);
    // Structure rules by label value.
    for (std::size_t r = 0; r < m_structures->rows().size(); ++r) {
        StructureRow row = m_structures->rows()[r];
        for (const planning::StructureSpec& spec : plan.structures)
            if (spec.labelValue == row.spec.labelValue && spec.name == row.spec.name)
                row.spec = spec;
        m_structures->setRow(static_cast<int>(r), row);
    }
    for (const planning::PlanTarget& in : plan.targets) {
        PlanTarget target;
        target.name = in.name;
        target.targetLps = in.targetLps;
        target.directionsSearched = in.directionsSearched;
        target.feasibleDirections = in.feasibleDirections;
        if (!in.preset.empty())
            m_plan->setPresetName(in.preset);
        for (const planning::PlannedTrajectory& t : in.trajectories) {
            if (t.origin == "manual") {
                target.entryLps = t.trajectory.entryLps;
                continue;
            }
            if (t.origin == "search-selected")
                target.selectedRank = static_cast<int>(target.ranked.size());
            target.ranked.push_back({t.trajectory.entryLps, t.trajectory.targetLps, t.score, t.pareto, t.evaluation});
        }
        if (!target.entryLps && !target.ranked.empty()) {
            if (target.selectedRank < 0)
                target.selectedRank = 0;
            target.entryLps = target.ranked[static_cast<std::size_t>(target.selectedRank)].entryLps;
        }
        m_plan->insertTarget(static_cast<int>(m_plan->targets().size()), target);
    }
    m_plan->setActiveTarget(m_plan->targets().empty() ? -1 : 0);
    if (const PlanTarget* active = m_plan->active())
        m_view->setCursorLps(active->targetLps);
    m_planPath = path;
    m_undo->setClean();
    if (path.endsWith(".recovered.json")) {
        // A recovered plan has no file of its own yet: Save asks where, and closing asks first.
        m_planPath.clear();
        m_undo->resetClean();
    }
    const int presetIndex = m_presetCombo->findData(QString::fromStdString(m_plan->presetName()));
    if (presetIndex >= 0)
        m_presetCombo->setCurrentIndex(presetIndex);
    focus3dOnActiveTarget();
    emit planOpened(true, QString());
}

void MainWindow::autosave()
{
    if (m_undo->isClean() || !m_image->volume() || m_scripted)
        return;
    QDir().mkpath(QFileInfo(autosavePath()).absolutePath());
    try {
        planning::savePlan(planFromModels(*m_image, *m_structures, *m_plan, m_image->path(), QString()), autosavePath().toStdString());
    } catch (const std::exception& e) {
        qWarning("autosave failed: %s", e.what());
    }
}

void MainWindow::offerRecovery()
{
    if (m_scripted || !QFileInfo::exists(autosavePath()))
        return;
    auto* box = new QMessageBox(QMessageBox::Question, tr("Recover plan"),
                                tr("NeedlePlan did not close normally last time. Recover the unsaved plan?"),
                                QMessageBox::Yes | QMessageBox::Discard, this);
    box->setObjectName("recoveryBox");
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this](int result) {
        const QString path = autosavePath();
        if (result == QMessageBox::Yes) {
            const QString recovered = path + ".recovered.json";
            QFile::remove(recovered);
            QFile::rename(path, recovered);
            openPlanFile(recovered);
        } else {
            QFile::remove(path);
        }
    });
    box->open();
}

// ---------------------------------------------------------------------------------------------
// Screenshots

bool MainWindow::saveWindowScreenshot(const QString& path, QString* error)
{
    for (SliceViewWidget* view : allSliceViews())
        if (view->isVisible())
            view->renderNow();
    m_modelView->renderNow();
    const QPixmap pixmap = grab();
    const QString temporary = path + ".tmp.png";
    if (pixmap.isNull() || !pixmap.save(temporary, "PNG")) {
        if (error)
            *error = tr("Could not write %1").arg(path);
        QFile::remove(temporary);
        return false;
    }
    QFile::remove(path);
    if (!QFile::rename(temporary, path)) {
        if (error)
            *error = tr("Could not move the screenshot to %1").arg(path);
        return false;
    }
    return true;
}

bool MainWindow::saveViewScreenshot(QWidget* view, const QString& path, QString* error)
{
    auto* vtkView = qobject_cast<VtkOpenGLWidget*>(view);
    if (!vtkView) {
        if (error)
            *error = tr("Not a rendered view");
        return false;
    }
    try {
        render::writePng(vtkView->captureVtkImage(), path.toStdString());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

} // namespace np::gui
