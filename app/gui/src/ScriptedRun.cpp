#include "needleplan/gui/ScriptedRun.h"

#include "needleplan/gui/MainWindow.h"

#include <QTimer>
#include <cstdio>

namespace np::gui {

ScriptedRun::ScriptedRun(MainWindow& window, ScriptedRunOptions options, QObject* parent)
    : QObject(parent), m_window(window), m_options(std::move(options))
{
    window.setScriptedMode(m_options.scripted());
    connect(&window, &MainWindow::loadFinished, this, &ScriptedRun::loaded);
    connect(&window, &MainWindow::surfacesReady, this, [this] { m_surfaces = true; });
    connect(&window, &MainWindow::searchFinished, this, [this] { m_searchPending = false; });
    connect(&window, &MainWindow::planOpened, this, &ScriptedRun::planOpened);
}

void ScriptedRun::start()
{
    if (m_options.scripted()) {
        auto* timer = new QTimer(this);
        timer->setInterval(200);
        connect(timer, &QTimer::timeout, this, [this, timer] {
            if (m_finished)
                timer->stop();
            else
                poll();
        });
        timer->start();
    }
    QTimer::singleShot(0, this, [this] {
        if (!m_options.imagePath.isEmpty())
            m_window.openPath(m_options.imagePath);
        else if (!m_options.planPath.isEmpty()) {
            m_planRequested = true;
            m_planPending = true;
            m_window.openPlanFile(m_options.planPath);
        } else
            m_window.openSamplePhantom();
    });
}

void ScriptedRun::loaded(bool ok, const QString& message)
{
    if (!ok) {
        std::fprintf(stderr, "needleplan: load failed: %s\n", qPrintable(message));
        finish(ExitLoadFailed, tr("load failed: %1").arg(message));
        return;
    }
    if (m_loaded)
        return;
    m_loaded = true;
    if (!m_options.planPath.isEmpty()) {
        if (!m_planRequested) {
            m_planRequested = true;
            m_planPending = true;
            m_window.openPlanFile(m_options.planPath);
        }
        return;
    }
    // Plan the requested target; the sample opens on the L4 medial branch.
    const bool sample = m_options.imagePath.isEmpty();
    const NamedTargetEntry* chosen = nullptr;
    for (const auto& target : m_window.namedTargets()) {
        if (!m_options.targetName.isEmpty() && target.name == m_options.targetName)
            chosen = &target;
        if (m_options.targetName.isEmpty() && sample &&
            (!chosen || (target.name.startsWith("L4 medial branch") && !chosen->name.startsWith("L4"))))
            chosen = &target;
    }
    if (!m_options.targetName.isEmpty() && !chosen) {
        const QString text = tr("no named target '%1' next to the image").arg(m_options.targetName);
        std::fprintf(stderr, "needleplan: %s\n", qPrintable(text));
        finish(ExitLoadFailed, text);
        return;
    }
    if (chosen) {
        m_window.addTarget(chosen->name, chosen->positionLps);
        if (m_window.structuresModel().labels()) {
            m_searchPending = true;
            m_window.findSafeTrajectories();
        }
    }
}

void ScriptedRun::planOpened(bool ok, const QString& message)
{
    m_planPending = false;
    if (!ok) {
        std::fprintf(stderr, "needleplan: plan not opened: %s\n", qPrintable(message));
        finish(ExitLoadFailed, tr("plan not opened: %1").arg(message));
        return;
    }
    m_loaded = true;
}

void ScriptedRun::poll()
{
    // A screenshot waits for the 3D surfaces; a saved plan only for the plan.
    const bool surfacesNeeded = !m_options.screenshot.isEmpty();
    if (m_finished || !m_loaded || (surfacesNeeded && !m_surfaces) || m_searchPending || m_planPending ||
        m_window.task().busy())
        return;
    m_finished = true;
    QTimer::singleShot(200, this, [this] { writeOutputs(); });
}

void ScriptedRun::writeOutputs()
{
    QString error;
    if (!m_options.savePlan.isEmpty()) {
        if (!m_window.savePlanFile(m_options.savePlan, &error)) {
            std::fprintf(stderr, "needleplan: plan not saved: %s\n", qPrintable(error));
            emit finished(ExitWriteFailed, error);
            return;
        }
        std::printf("needleplan: wrote %s\n", qPrintable(m_options.savePlan));
    }
    if (!m_options.screenshot.isEmpty()) {
        if (!m_window.saveWindowScreenshot(m_options.screenshot, &error)) {
            std::fprintf(stderr, "needleplan: %s\n", qPrintable(error));
            emit finished(ExitWriteFailed, error);
            return;
        }
        std::printf("needleplan: wrote %s\n", qPrintable(m_options.screenshot));
    }
    std::fflush(stdout);
    emit finished(ExitWritten, QString());
}

void ScriptedRun::finish(int code, const QString& message)
{
    if (!m_options.scripted() || m_finished)
        return;
    m_finished = true;
    emit finished(code, message);
}

} // namespace np::gui
