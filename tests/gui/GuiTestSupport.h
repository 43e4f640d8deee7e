#pragma once
/// Helpers of the GUI tests: one QApplication per process, event pumping and synthesised input.

#include <QPointF>
#include <functional>
#include <memory>

class QWidget;
namespace np::gui {
class MainWindow;
}

namespace np::test {

/// Creates the QApplication on first use (with VTK's surface format). False when there is no
/// X display (the tests then skip with the reason).
bool ensureGuiApplication();

/// Processes events until `done` returns true or `timeoutMs` passes; returns `done()`.
bool waitUntil(const std::function<bool()>& done, int timeoutMs = 60000);

/// Sends press + release of the left button at `position` (widget pixels), as a real click does.
void clickAt(QWidget* widget, const QPointF& position, bool shift = false);
/// Left-button press, moves in `steps` equal steps, and release.
void dragFromTo(QWidget* widget, const QPointF& from, const QPointF& to, int steps);

/// A fresh workstation window in scripted mode (no modal questions), without a left-over autosave,
/// resized, shown, and waited for until its axial view can render (up to 20 s; callers check
/// isRenderingAvailable()).
std::unique_ptr<gui::MainWindow> openScriptedWindow(int width, int height);

} // namespace np::test

/// Skips the current test when no X display is available.
#define NP_REQUIRE_DISPLAY()                                                                                 \
    do {                                                                                                     \
        if (!::np::test::ensureGuiApplication())                                                             \
            GTEST_SKIP()                                                                                     \
                << "no X display: run the gui tests under xvfb-run -a -s \"-screen 0 1600x1000x24\"";        \
    } while (0)
