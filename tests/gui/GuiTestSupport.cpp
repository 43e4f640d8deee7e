#include "GuiTestSupport.h"

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/Theme.h"
#include "needleplan/gui/VtkOpenGLWidget.h"

#include <QApplication>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMouseEvent>
#include <QWidget>
#include <cstdlib>
#include <memory>

namespace np::test {

namespace {

/// True once the X server of `display` (":N" or ":N.S" on this machine) accepts a connection on its
/// local socket, trying for up to `seconds`. Qt aborts the process when it cannot connect, and an
/// Xvfb under load has refused single connections now and then.
bool xServerAccepts(const char* display, int seconds)
{
    const std::string text(display);
    if (text.empty() || text[0] != ':')
        return true; // a remote or unusual display: leave it to Qt
    const std::string number = text.substr(1, text.find('.') == std::string::npos ? std::string::npos : text.find('.') - 1);
    const std::string socketPath = "/tmp/.X11-unix/X" + number;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socketPath.size() >= sizeof address.sun_path)
        return true;
    std::memcpy(address.sun_path, socketPath.c_str(), socketPath.size() + 1);
    for (int attempt = 0; attempt < seconds * 5; ++attempt) {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0) {
            const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
            ::close(fd);
            if (connected)
                return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
}

} // namespace

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
    if (!xServerAccepts(display, 10)) {
        std::fprintf(stderr, "np_gui_tests: the X server %s accepted no connection in 10 s\n", display);
        return false;
    }
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
