#include "needleplan/gui/BackgroundTask.h"

#include "needleplan/imaging/Toolkit.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QFutureWatcher>
#include <QTimer>
#include <QtConcurrent/QtConcurrentRun>

#include <exception>
#include <memory>

namespace np::gui {

void PolledProgressSink::report(double fraction, const std::string& stage)
{
    m_fraction = fraction;
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stage = stage;
}

std::string PolledProgressSink::stage() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stage;
}

namespace {
struct Outcome
{
    bool ok = true;
    ErrorCode code = ErrorCode::Internal;
    QString message;
};
} // namespace

BackgroundTask::BackgroundTask(QObject* parent) : QObject(parent), m_timer(new QTimer(this))
{
    // Jobs use ITK on worker threads while this (the GUI) thread uses it too.
    imaging::prepareToolkitForThreads();
    m_timer->setInterval(80);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (m_sink)
            emit progress(m_sink->fraction(), QString::fromStdString(m_sink->stage()));
    });
}

BackgroundTask::~BackgroundTask()
{
    cancel();
    waitForIdle();
}

bool BackgroundTask::start(const QString& title, std::function<void(ProgressSink&)> work, std::function<void()> done,
                           std::function<void(ErrorCode, const QString&)> failed)
{
    Job job{title, std::move(work), std::move(done), std::move(failed)};
    if (m_busy)
        m_queue.push_back(std::move(job));
    else
        run(std::move(job));
    return true;
}

void BackgroundTask::run(Job job)
{
    m_busy = true;
    m_sink = std::make_shared<PolledProgressSink>();
    auto sink = m_sink;
    auto* watcher = new QFutureWatcher<Outcome>(this);
    auto done = job.done;
    auto failed = job.failed;
    connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, done, failed] {
        const Outcome outcome = watcher->result();
        watcher->deleteLater();
        m_timer->stop();
        m_busy = false;
        m_sink.reset();
        emit finished();
        if (outcome.ok)
            done();
        else
            failed(outcome.code, outcome.message);
        if (!m_busy && !m_queue.empty()) {
            Job next = std::move(m_queue.front());
            m_queue.erase(m_queue.begin());
            run(std::move(next));
        }
    });
    auto work = job.work;
    watcher->setFuture(QtConcurrent::run([sink, work]() -> Outcome {
        Outcome outcome;
        try {
            work(*sink);
            if (sink->cancelRequested())
                throw Error(ErrorCode::Cancelled, "cancelled");
        } catch (const Error& error) {
            outcome = {false, error.code(), QString::fromStdString(error.what())};
        } catch (const std::bad_alloc&) {
            outcome = {false, ErrorCode::TooLarge, QStringLiteral("not enough memory")};
        } catch (const std::exception& error) {
            outcome = {false, ErrorCode::Internal, QString::fromStdString(error.what())};
        }
        return outcome;
    }));
    m_timer->start();
    emit started(job.title);
}

void BackgroundTask::cancel()
{
    for (Job& job : m_queue)
        job.failed(ErrorCode::Cancelled, QStringLiteral("cancelled"));
    m_queue.clear();
    if (m_sink)
        m_sink->requestCancel();
}

void BackgroundTask::waitForIdle()
{
    while (m_busy)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

} // namespace np::gui
