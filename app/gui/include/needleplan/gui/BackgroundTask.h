#pragma once
/// Runs long work (loading, surfaces, search) off the GUI thread with progress and cancel.

#include <QObject>
#include <QString>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

class QTimer;

namespace np::gui {

/// np::ProgressSink that a worker thread writes and the GUI polls. Thread-safe.
class PolledProgressSink : public ProgressSink
{
public:
    void report(double fraction, const std::string& stage) override;
    bool cancelRequested() const override { return m_cancel.load(); }
    void requestCancel() { m_cancel = true; }
    double fraction() const { return m_fraction.load(); }
    std::string stage() const;

private:
    std::atomic<double> m_fraction{0.0};
    std::atomic<bool> m_cancel{false};
    mutable std::mutex m_mutex;
    std::string m_stage;
};

/// One background job at a time; jobs started while one runs wait in a queue. `work` runs on a
/// worker thread; exactly one of `done` or `failed` then runs on the GUI thread (failed gets the
/// np::Error code and message; a cancelled job reports ErrorCode::Cancelled).
class BackgroundTask : public QObject
{
    Q_OBJECT
public:
    explicit BackgroundTask(QObject* parent = nullptr);
    ~BackgroundTask() override;

    bool busy() const { return m_busy; }
    /// Starts `work` now, or after the jobs already running or queued.
    bool start(const QString& title, std::function<void(ProgressSink&)> work, std::function<void()> done,
               std::function<void(ErrorCode, const QString&)> failed);
    /// Asks the running job to stop at its next check, and drops the queued ones.
    void cancel();
    /// Blocks (processing events) until the running job finished.
    void waitForIdle();

signals:
    void started(const QString& title);
    void progress(double fraction, const QString& stage);
    void finished();

private:
    struct Job
    {
        QString title;
        std::function<void(ProgressSink&)> work;
        std::function<void()> done;
        std::function<void(ErrorCode, const QString&)> failed;
    };
    void run(Job job);

    bool m_busy = false;
    std::vector<Job> m_queue;
    std::shared_ptr<PolledProgressSink> m_sink;
    QTimer* m_timer = nullptr;
};

} // namespace np::gui
