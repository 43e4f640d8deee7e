// Long work off the GUI thread: progress reaches the GUI, cancel stops the job, queued jobs run
// in order, and errors arrive as np::Error codes.

#include <gtest/gtest.h>

#include <QApplication>

#include <atomic>
#include <chrono>
#include <thread>

#include "GuiTestSupport.h"
#include "needleplan/gui/BackgroundTask.h"

namespace np::gui {
namespace {

TEST(BackgroundTask, ErrorsArriveWithTheirCode)
{
    NP_REQUIRE_DISPLAY();
    BackgroundTask task;
    ErrorCode code = ErrorCode::Internal;
    QString message;
    bool done = false;
    task.start(
        "failing", [](ProgressSink&) { throw Error(ErrorCode::CorruptData, "slice 3 is truncated"); },
        [&] { done = true; },
        [&](ErrorCode c, const QString& m) {
            code = c;
            message = m;
            done = true;
        });
    ASSERT_TRUE(test::waitUntil([&] { return done; }, 60000));
    EXPECT_EQ(code, ErrorCode::CorruptData);
    EXPECT_EQ(message, "slice 3 is truncated");
    EXPECT_FALSE(task.busy());
}

TEST(BackgroundTask, CancelStopsTheRunningJobAndDropsTheQueue)
{
    NP_REQUIRE_DISPLAY();
    BackgroundTask task;
    std::atomic<bool> running{false};
    double lastFraction = -1.0;
    QObject::connect(&task, &BackgroundTask::progress, &task, [&](double f, const QString&) { lastFraction = f; });
    std::vector<std::string> outcomes;
    task.start(
        "endless",
        [&](ProgressSink& sink) {
            running = true;
            for (int i = 0;; ++i) {
                sink.report(0.25, "working");
                throwIfCancelled(&sink);
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        },
        [&] { outcomes.push_back("first done"); },
        [&](ErrorCode c, const QString&) { outcomes.push_back(c == ErrorCode::Cancelled ? "first cancelled" : "first failed"); });
    task.start(
        "queued", [](ProgressSink&) {}, [&] { outcomes.push_back("second done"); },
        [&](ErrorCode c, const QString&) { outcomes.push_back(c == ErrorCode::Cancelled ? "second cancelled" : "second failed"); });
    EXPECT_TRUE(task.busy());
    ASSERT_TRUE(test::waitUntil([&] { return running.load() && lastFraction == 0.25; }, 60000))
        << "no progress reached the GUI thread";
    task.cancel();
    ASSERT_TRUE(test::waitUntil([&] { return outcomes.size() == 2; }, 60000));
    EXPECT_EQ(outcomes[0], "second cancelled"); // dropped at once
    EXPECT_EQ(outcomes[1], "first cancelled");  // stopped at its next check
    EXPECT_FALSE(task.busy());
}

TEST(BackgroundTask, QueuedJobsRunInOrderOneAtATime)
{
    NP_REQUIRE_DISPLAY();
    BackgroundTask task;
    std::atomic<int> concurrent{0}, maxConcurrent{0};
    std::vector<int> order;
    for (int n = 0; n < 4; ++n)
        task.start(
            QString("job %1").arg(n),
            [&](ProgressSink&) {
                const int now = ++concurrent;
                maxConcurrent = std::max(maxConcurrent.load(), now);
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                --concurrent;
            },
            [&order, n] { order.push_back(n); }, [](ErrorCode, const QString&) {});
    ASSERT_TRUE(test::waitUntil([&] { return order.size() == 4; }, 60000));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(maxConcurrent.load(), 1);
}

} // namespace
} // namespace np::gui
