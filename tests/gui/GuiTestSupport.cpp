#include "GuiTestSupport.h"

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/Theme.h"
#include "needleplan/gui/VtkOpenGLWidget.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMouseEvent>
#include <QWidget>
#include <cstdlib>
#include <memory>

namespace np::test {

bool ensureGuiApplication()
{
    // Never destroyed: tearing Qt down after VTK's static cleanup at exit is not safe.
    static QApplication* app = nullptr;
    static int argc = 1;
    static char name[] = "np_gui_tests";
    static char* argv[] = {name, nullptr};
    if (app)
        return true;
    const char* display = std::getenv("DISPLAY");
    if (!display || !*display)
        return false;
    qputenv("QT_QPA_PLATFORM", "xcb");
    // Each test process gets its own settings and autosave folder (ctest runs tests in parallel);
    // the cache, where a generated phantom lives, stays shared.
    const QByteArray own =
        QDir::tempPath().toUtf8() + "/np-gui-tests-" + QByteArray::number(QCoreApplication::applicationPid());
    qputenv("XDG_DATA_HOME", own + "/data");
    qputenv("XDG_CONFIG_HOME", own + "/config");
    np::gui::VtkOpenGLWidget::installDefaultSurfaceFormat();
    app = new QApplication(argc, argv);
    QApplication::setOrganizationName("NeedlePlanTests");
    QApplication::setApplicationName("NeedlePlanTests");
    np::gui::applyDarkTheme(*app);
    return true;
}

bool waitUntil(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    return true;
}

namespace {
void send(QWidget* widget, QEvent::Type type, const QPointF& position, Qt::MouseButton button,
          Qt::MouseButtons buttons, Qt::KeyboardModifiers modifiers)
{
    QMouseEvent event(type, position, widget->mapToGlobal(position), button, buttons, modifiers);
    QApplication::sendEvent(widget, &event);
}
} // namespace

void clickAt(QWidget* widget, const QPointF& position, bool shift)
{
    const Qt::KeyboardModifiers modifiers = shift ? Qt::ShiftModifier : Qt::NoModifier;
    send(widget, QEvent::MouseButtonPress, position, Qt::LeftButton, Qt::LeftButton, modifiers);
    send(widget, QEvent::MouseButtonRelease, position, Qt::LeftButton, Qt::NoButton, modifiers);
    QApplication::processEvents();
}

void dragFromTo(QWidget* widget, const QPointF& from, const QPointF& to, int steps)
{
    send(widget, QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
    for (int s = 1; s <= steps; ++s) {
        const QPointF p = from + (to - from) * (static_cast<double>(s) / steps);
        send(widget, QEvent::MouseMove, p, Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
        QApplication::processEvents();
    }
    send(widget, QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton, Qt::NoModifier);
    QApplication::processEvents();
}

std::unique_ptr<gui::MainWindow> openScriptedWindow(int width, int height)
{
    QFile::remove(gui::MainWindow::autosavePath());
    auto window = std::make_unique<gui::MainWindow>();
    window->setScriptedMode(true);
    window->resize(width, height);
    window->show();
    waitUntil([&] { return window->sliceView(render::SliceOrientation::Axial)->isRenderingAvailable(); },
              20000);
    return window;
}

} // namespace np::test
