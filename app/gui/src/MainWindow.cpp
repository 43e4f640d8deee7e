#include "needleplan/gui/MainWindow.h"

#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/PlanningPanel.h"
#include "needleplan/gui/SegmentToolsPanel.h"
#include "needleplan/gui/SeriesPickerDialog.h"
#include "needleplan/gui/StructuresPanel.h"
#include "needleplan/imaging/Segmentation.h"

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTimer>
#include <QToolButton>
#include <cmath>
#include <cstdio>

namespace np::gui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_undo(new QUndoStack(this)), m_task(new BackgroundTask(this)),
      m_image(new ImageModel(*m_task, this)), m_view(new ViewStateModel(*m_image, this)),
      m_structures(new StructuresModel(*m_image, *m_undo, *m_task, this)),
      m_plan(new PlanModel(*m_image, *m_structures, *m_undo, *m_task, this))
{
    setObjectName("mainWindow");
    setWindowTitle(tr("NeedlePlan"));
    setAcceptDrops(true);
    resize(1560, 980);
    m_grid = new ViewGrid(*m_image, *m_structures, *m_plan, *m_view, *m_task, this);
    setCentralWidget(m_grid);
    m_fluoro = new FluoroWorkspace(*this, *m_image, *m_plan, *m_structures, *m_task);
    buildDocks();
    buildMenus();
    buildStatusBar();

    m_image->setSeriesChooser([this](std::shared_ptr<imaging::DicomScanResult> scan,
                                     std::shared_ptr<std::vector<QImage>> thumbnails,
                                     std::function<void(int)> answer) {
        auto* picker = new SeriesPickerDialog(*scan, *thumbnails, this);
        picker->setAttribute(Qt::WA_DeleteOnClose);
        connect(picker, &QDialog::finished, this, [picker, scan, answer](int result) {
            answer(result == QDialog::Accepted ? picker->selectedIndex() : -1);
        });
        if (m_scripted) {
            for (const auto& entry : scan->series)
                if (entry.kind == imaging::DicomSeriesKind::Volume && !entry.hasError()) {
                    picker->selectIndex(entry.index);
                    picker->accept();
                    return;
                }
        }
        picker->open();
    });

    // Models report to the window; the window forwards what scripted runs and tests wait for.
    connect(m_image, &ImageModel::errorOccurred, this, &MainWindow::reportError);
    connect(m_structures, &StructuresModel::errorOccurred, this, &MainWindow::reportError);
    connect(m_plan, &PlanModel::errorOccurred, this, &MainWindow::reportError);
    connect(m_grid, &ViewGrid::errorOccurred, this, &MainWindow::reportError);
    connect(m_fluoro, &FluoroWorkspace::errorOccurred, this, &MainWindow::reportError);
    connect(m_image, &ImageModel::loadFinished, this, &MainWindow::loadFinished);
    connect(m_image, &ImageModel::loadFinished, this, [this](bool ok) {
        if (!ok || !m_image->volume())
            return;
        setWindowTitle(tr("NeedlePlan — %1[*]").arg(QFileInfo(m_image->path()).fileName()));
        addRecent(m_image->path());
    });
    connect(m_image, &ImageModel::warning, this,
            [this](const QString& text) { statusBar()->showMessage(text, 8000); });
    connect(m_grid, &ViewGrid::surfacesReady, this, &MainWindow::surfacesReady);
    connect(m_plan, &PlanModel::fieldsReady, this, &MainWindow::fieldsReady);
    connect(m_plan, &PlanModel::searchFinished, this, &MainWindow::searchFinished);
    connect(m_plan, &PlanModel::planOpened, this, [this](bool ok) {
        if (const PlanTarget* active = ok ? m_plan->active() : nullptr)
            m_view->setCursorLps(active->targetLps);
    });
    connect(m_plan, &PlanModel::planOpened, this, &MainWindow::planOpened);
    connect(m_plan, &PlanModel::statusMessage, m_statusLabel, &QLabel::setText);
    connect(m_structures, &StructuresModel::structuresAdded, this, &MainWindow::structuresAdded);
    connect(m_structures, &StructuresModel::structuresUpdated, this, &MainWindow::structuresUpdated);
    connect(m_undo, &QUndoStack::cleanChanged, this, [this](bool clean) { setWindowModified(!clean); });

    auto* autosaveTimer = new QTimer(this);
    autosaveTimer->setInterval(30000);
    connect(autosaveTimer, &QTimer::timeout, this, &MainWindow::autosave);
    autosaveTimer->start();
    QTimer::singleShot(0, this, &MainWindow::offerRecovery);
}

MainWindow::~MainWindow()
{
    m_plan->waitForSaves(); // the undo stack its completion marks clean goes first
    m_task->cancel();
    m_task->waitForIdle();
    // The views and panels go before the models they are bound to.
    delete m_grid;
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        delete dock;
}

QTableWidget* MainWindow::rankedList() const
{
    return m_planningPanel->rankedList();
}
QString MainWindow::readoutHtml() const
{
    return m_planningPanel->readoutHtml();
}

void MainWindow::buildDocks()
{
    auto* structuresDock = new QDockWidget(tr("Structures"), this);
    structuresDock->setObjectName("structuresDock");
    structuresDock->setWidget(new StructuresPanel(*m_structures, *m_image, *m_view, structuresDock));
    structuresDock->setMinimumWidth(300);
    addDockWidget(Qt::LeftDockWidgetArea, structuresDock);
    auto* planDock = new QDockWidget(tr("Planning"), this);
    planDock->setObjectName("planningDock");
    m_planningPanel = new PlanningPanel(*m_plan, *m_image, *m_structures, *m_view, planDock);
    planDock->setWidget(m_planningPanel);
    planDock->setMinimumWidth(340);
    planDock->setMaximumWidth(460);
    addDockWidget(Qt::RightDockWidgetArea, planDock);
    resizeDocks({structuresDock, planDock}, {380, 420}, Qt::Horizontal);
    SegmentToolsPanel::addDock(*this, *m_image, *m_structures, *m_view, *m_undo, m_grid->allSliceViews());
}

void MainWindow::buildStatusBar()
{
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
        if (!m_plan->saveTask().busy())
            m_progress->hide();
        m_cancelButton->hide();
        m_statusLabel->setText(tr("Ready"));
    });
    // Saves run on a worker of their own (a search's Cancel never drops them): progress, no Cancel.
    BackgroundTask* saves = &m_plan->saveTask();
    connect(saves, &BackgroundTask::started, this, [this](const QString& title) {
        m_statusLabel->setText(title + QStringLiteral("…"));
        m_progress->setValue(0);
        m_progress->setFormat(QStringLiteral("%p%"));
        m_progress->show();
    });
    connect(saves, &BackgroundTask::progress, this, [this](double fraction, const QString& stage) {
        m_progress->setValue(static_cast<int>(1000 * std::clamp(fraction, 0.0, 1.0)));
        if (!stage.isEmpty())
            m_progress->setFormat(stage + QStringLiteral(" %p%"));
    });
    connect(saves, &BackgroundTask::finished, this, [this] {
        if (!m_task->busy())
            m_progress->hide();
    });
    connect(m_view, &ViewStateModel::pickModeChanged, this, [this] {
        const PickMode mode = m_view->pickMode();
        m_statusLabel->setText(mode == PickMode::SetTarget   ? tr("Click the target in a slice view")
                               : mode == PickMode::AddTarget ? tr("Click the new target in a slice view")
                               : mode == PickMode::SetEntry  ? tr("Click the skin entry in a slice view")
                                                             : tr("Ready"));
    });
    connect(m_view, &ViewStateModel::cursorChanged, this, [this] {
        const Vec3 p = m_view->cursorLps();
        const double value = m_image->valueAt(p);
        m_cursorLabel->setText(
            QStringLiteral("LPS %1, %2, %3 mm   %4")
                .arg(p.x, 0, 'f', 1)
                .arg(p.y, 0, 'f', 1)
                .arg(p.z, 0, 'f', 1)
                .arg(std::isnan(value) ? QString() : QStringLiteral("%1 HU").arg(value, 0, 'f', 0)));
    });
}

void MainWindow::setScriptedMode(bool scripted)
{
    m_scripted = scripted;
}

void MainWindow::reportError(const QString& title, const QString& message)
{
    if (m_scripted)
        qWarning("%s: %s", qPrintable(title), qPrintable(message));
    else
        showErrorBox(this, title, message);
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
    QMessageBox box(
        QMessageBox::Warning, tr("Structures added with warnings"),
        tr("%1.\n\nPlease check these %2 note(s) before planning:").arg(summary).arg(warnings.size()),
        QMessageBox::Ok, this);
    box.setInformativeText("• " + warnings.join("\n• "));
    box.exec();
}

// Every action that replaces the plan asks first when it has unsaved changes.
void MainWindow::openPath(const QString& path)
{
    if (m_fluoro->openIfProjection(path))
        return; // beside the CT, which stays
    if (confirmDiscardPlan(tr("opening another image")))
        m_image->open(path);
    else
        emit loadFinished(false, tr("the unsaved plan was kept"));
}

void MainWindow::openSamplePhantom()
{
    if (confirmDiscardPlan(tr("opening the sample phantom")))
        m_image->openSamplePhantom();
    else
        emit loadFinished(false, tr("the unsaved plan was kept"));
}

void MainWindow::openPlanFile(const QString& path)
{
    if (confirmDiscardPlan(tr("opening another plan")))
        m_plan->openPlanFile(path);
    else
        emit planOpened(false, tr("the unsaved plan was kept"));
}

bool MainWindow::savePlanFile(const QString& path, QString* error)
{
    if (!m_plan->savePlanFile(path, error))
        return false;
    // The plan and its structures are on disk: the crash-recovery copy holds nothing more.
    QFile::remove(autosavePath());
    QFile::remove(autosaveSegmentationPath());
    return true;
}

void MainWindow::startSavingPlan(const QString& path)
{
    m_plan->startSave(path, false, [this](bool ok, const QString& error) {
        if (!ok) {
            reportError(tr("Plan not saved"), error);
            return;
        }
        QFile::remove(autosavePath());
        QFile::remove(autosaveSegmentationPath());
    });
}

void MainWindow::waitForSaves()
{
    if (!m_plan->saving())
        return;
    m_statusLabel->setText(tr("Waiting for the plan to be saved…"));
    m_plan->waitForSaves();
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

QString MainWindow::askPlanPath()
{
    return QFileDialog::getSaveFileName(this, tr("Save plan"), "plan.needleplan.json",
                                        tr("Plans (*.needleplan.json)"));
}

bool MainWindow::saveAs()
{
    const QString path = askPlanPath();
    QString error;
    if (path.isEmpty())
        return false;
    if (!savePlanFile(path, &error)) {
        reportError(tr("Plan not saved"), error);
        return false;
    }
    return true;
}

bool MainWindow::confirmDiscardPlan(const QString& action)
{
    // A save in progress finishes first: its outcome decides whether anything is unsaved.
    waitForSaves();
    if (m_scripted || m_undo->isClean())
        return true;
    const auto answer = QMessageBox::question(
        this, tr("Unsaved plan"), m_structures->unsavedChangesQuestion(action),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Cancel)
        return false;
    if (answer == QMessageBox::Discard)
        return true;
    if (!m_plan->planPath().isEmpty()) {
        QString error;
        if (savePlanFile(m_plan->planPath(), &error))
            return true;
        reportError(tr("Plan not saved"), error);
        return false;
    }
    return saveAs();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_closing) { // a second close while the first waits for a save
        event->ignore();
        return;
    }
    m_closing = true;
    const bool confirmed = confirmDiscardPlan(tr("closing"));
    m_closing = false;
    if (!confirmed) {
        event->ignore();
        return;
    }
    m_task->cancel();
    // Saved, unchanged or discarded by the user's answer: no recovery copy is wanted.
    QFile::remove(autosavePath());
    QFile::remove(autosaveSegmentationPath());
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

QString MainWindow::autosavePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/autosave.needleplan.json";
}

QString MainWindow::autosaveSegmentationPath()
{
    return PlanModel::segmentationFileFor(autosavePath());
}

void MainWindow::autosave()
{
    if (m_undo->isClean() || !m_image->volume() || m_scripted || m_plan->saving())
        return;
    QDir().mkpath(QFileInfo(autosavePath()).absolutePath());
    m_plan->startSave(autosavePath(), true, [](bool ok, const QString& error) {
        if (!ok)
            qWarning("autosave failed: %s", qPrintable(error));
    });
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
            QFile::remove(autosaveSegmentationPath());
        }
    });
    box->open();
}

bool MainWindow::saveWindowScreenshot(const QString& path, QString* error)
{
    m_grid->renderNow();
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

} // namespace np::gui
