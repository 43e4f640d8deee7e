/// needleplan: the planning workstation.
/// Usage: needleplan [PATH] [--plan FILE] [--target-name NAME] [--screenshot FILE.png]
/// Exit codes of scripted runs (--screenshot): 0 written, 1 screenshot failed, 2 load error.

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/Theme.h"
#include "needleplan/gui/VtkOpenGLWidget.h"

namespace {

/// What a run still waits for before its screenshot.
struct RunState
{
    bool loaded = false;
    bool surfaces = false;
    bool searchPending = false;
    bool planPending = false;
    bool planRequested = false;
    bool finished = false;
};

} // namespace

int main(int argc, char** argv)
{
    np::gui::VtkOpenGLWidget::installDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QApplication::setApplicationName("NeedlePlan");
    QApplication::setOrganizationName("NeedlePlan");
    np::gui::applyDarkTheme(app);

    QCommandLineParser parser;
    parser.setApplicationDescription("NeedlePlan planning workstation");
    parser.addHelpOption();
    parser.addPositionalArgument("path", "DICOM file or folder, DICOMDIR, NRRD/NIfTI volume, or a phantom folder");
    const QCommandLineOption planOption("plan", "Open this plan (*.needleplan.json).", "FILE");
    const QCommandLineOption targetOption("target-name", "Plan the named target from targets.json.", "NAME");
    const QCommandLineOption screenshotOption("screenshot", "Write a PNG of the window and exit.", "FILE.png");
    const QCommandLineOption layoutOption("layout", "View layout: standard or trajectory.", "NAME", "standard");
    const QCommandLineOption sizeOption("size", "Window size in pixels, e.g. 1600x1000.", "WxH");
    parser.addOptions({planOption, targetOption, screenshotOption, layoutOption, sizeOption});
    parser.process(app);

    np::gui::MainWindow window;
    const QString screenshot = parser.value(screenshotOption);
    const bool scripted = !screenshot.isEmpty();
    window.setScriptedMode(scripted);
    const QStringList size = parser.value(sizeOption).split('x');
    if (size.size() == 2 && size[0].toInt() > 0 && size[1].toInt() > 0)
        window.resize(size[0].toInt(), size[1].toInt());
    window.show();
    if (parser.value(layoutOption) == "trajectory")
        window.setLayoutMode(1);

    const QString targetName = parser.value(targetOption);
    const QString planPath = parser.value(planOption);
    const QStringList positional = parser.positionalArguments();
    const bool samplePhantom = positional.isEmpty() && planPath.isEmpty();
    RunState state;

    QObject::connect(&window, &np::gui::MainWindow::loadFinished, &window, [&](bool ok, const QString& message) {
        if (!ok) {
            std::fprintf(stderr, "needleplan: load failed: %s\n", qPrintable(message));
            if (scripted && !state.finished) {
                state.finished = true;
                app.exit(2);
            }
            return;
        }
        if (state.loaded)
            return;
        state.loaded = true;
        if (!planPath.isEmpty()) {
            if (!state.planRequested) {
                state.planRequested = true;
                state.planPending = true;
                window.openPlanFile(planPath);
            }
            return;
        }
        // Plan the requested target; the sample opens on the L4 medial branch.
        const np::gui::NamedTargetEntry* chosen = nullptr;
        for (const auto& target : window.namedTargets()) {
            if (!targetName.isEmpty() && target.name == targetName)
                chosen = &target;
            if (targetName.isEmpty() && samplePhantom &&
                (!chosen || (target.name.startsWith("L4 medial branch") && !chosen->name.startsWith("L4"))))
                chosen = &target;
        }
        if (!targetName.isEmpty() && !chosen) {
            std::fprintf(stderr, "needleplan: no named target '%s' next to the image\n", qPrintable(targetName));
            if (scripted) {
                state.finished = true;
                app.exit(2);
            }
            return;
        }
        if (chosen) {
            window.addTarget(chosen->name, chosen->positionLps);
            if (window.structuresModel().labels()) {
                state.searchPending = true;
                window.findSafeTrajectories();
            }
        }
    });
    QObject::connect(&window, &np::gui::MainWindow::surfacesReady, &window, [&] { state.surfaces = true; });
    QObject::connect(&window, &np::gui::MainWindow::searchFinished, &window, [&](bool, const QString&) {
        state.searchPending = false;
    });
    QObject::connect(&window, &np::gui::MainWindow::planOpened, &window, [&](bool ok, const QString& message) {
        state.planPending = false;
        if (!ok) {
            std::fprintf(stderr, "needleplan: plan not opened: %s\n", qPrintable(message));
            if (scripted && !state.finished) {
                state.finished = true;
                app.exit(2);
            }
        } else {
            state.loaded = true;
        }
    });

    if (scripted) {
        auto* poll = new QTimer(&window);
        poll->setInterval(200);
        QObject::connect(poll, &QTimer::timeout, &window, [&, poll] {
            if (state.finished || !state.loaded || !state.surfaces || state.searchPending || state.planPending ||
                window.task().busy())
                return;
            poll->stop();
            state.finished = true;
            QTimer::singleShot(200, &window, [&] {
                QString error;
                if (!window.saveWindowScreenshot(screenshot, &error)) {
                    std::fprintf(stderr, "needleplan: %s\n", qPrintable(error));
                    app.exit(1);
                    return;
                }
                std::printf("needleplan: wrote %s\n", qPrintable(screenshot));
                app.exit(0);
            });
        });
        poll->start();
    }
    QTimer::singleShot(0, &window, [&] {
        if (!positional.isEmpty())
            window.openPath(positional.first());
        else if (!planPath.isEmpty()) {
            state.planRequested = true;
            state.planPending = true;
            window.openPlanFile(planPath);
        } else
            window.openSamplePhantom();
    });
    return app.exec();
}
