#pragma once
/// A run of the workstation driven by its command line: open an image or a plan, plan a named
/// target, then (scripted) write a screenshot and/or save the plan as the Save action would, and
/// report an exit code. Interactive runs stop after planning the target.

#include <QObject>
#include <QString>

namespace np::gui {

class MainWindow;

struct ScriptedRunOptions
{
    QString imagePath;  ///< image to open ("" with a plan: the plan's image; neither: the sample)
    QString planPath;   ///< --plan
    QString targetName; ///< --target-name
    QString screenshot; ///< --screenshot
    QString savePlan;   ///< --save-plan
    /// True when the run writes something and then exits (screenshot or saved plan).
    bool scripted() const { return !screenshot.isEmpty() || !savePlan.isEmpty(); }
};

/// Exit codes of scripted runs.
enum ScriptedExit : int
{
    ExitWritten = 0,     ///< everything asked for was written
    ExitWriteFailed = 1, ///< the screenshot or the plan could not be written
    ExitLoadFailed = 2,  ///< the image, plan or named target could not be loaded
};

class ScriptedRun : public QObject
{
    Q_OBJECT
public:
    ScriptedRun(MainWindow& window, ScriptedRunOptions options, QObject* parent = nullptr);
    /// Starts loading (from the event loop); finished follows for scripted runs.
    void start();

signals:
    /// A scripted run is over: `code` is a ScriptedExit, `message` what went wrong ("" when written).
    void finished(int code, const QString& message);

private:
    void loaded(bool ok, const QString& message);
    void planOpened(bool ok, const QString& message);
    void poll();
    void finish(int code, const QString& message);
    void writeOutputs();

    MainWindow& m_window;
    ScriptedRunOptions m_options;
    bool m_loaded = false;
    bool m_surfaces = false;
    bool m_searchPending = false;
    bool m_planPending = false;
    bool m_planRequested = false;
    bool m_finished = false;
};

} // namespace np::gui
