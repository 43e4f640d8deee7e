/// needleplan: the planning workstation.
/// Usage: needleplan [PATH] [--plan FILE] [--target-name NAME] [--screenshot FILE.png]

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/Theme.h"
#include "needleplan/gui/VtkOpenGLWidget.h"

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
    parser.addOptions({planOption, targetOption, screenshotOption});
    parser.process(app);

    np::gui::MainWindow window;
    const QString screenshot = parser.value(screenshotOption);
    const bool scripted = !screenshot.isEmpty();
    window.setScriptedMode(scripted);
    window.show();

    const QString targetName = parser.value(targetOption);
    const QStringList positional = parser.positionalArguments();
    const bool samplePhantom = positional.isEmpty();

    // After loading: plan the requested (or, for the phantom, the first) named target.
    QObject::connect(&window, &np::gui::MainWindow::loadFinished, &window,
                     [&window, &app, scripted, targetName, samplePhantom](bool ok, const QString& message) {
                         if (!ok) {
                             std::fprintf(stderr, "needleplan: load failed: %s\n", qPrintable(message));
                             if (scripted)
                                 app.exit(2);
                             return;
                         }
                         const auto& named = window.namedTargets();
                         const np::gui::NamedTargetEntry* chosen = nullptr;
                         for (const auto& target : named) {
                             if (!targetName.isEmpty() && target.name == targetName)
                                 chosen = &target;
                             // The sample opens on the L4 medial branch (or the first named target).
                             if (targetName.isEmpty() && samplePhantom &&
                                 (!chosen || (target.name.startsWith("L4 medial branch") && !chosen->name.startsWith("L4"))))
                                 chosen = &target;
                         }
                         if (!targetName.isEmpty() && !chosen) {
                             std::fprintf(stderr, "needleplan: no named target '%s'\n", qPrintable(targetName));
                             if (scripted)
                                 app.exit(2);
                             return;
                         }
                         if (chosen)
                             window.addTarget(chosen->name, chosen->positionLps);
                     });
    if (scripted) {
        QObject::connect(&window, &np::gui::MainWindow::surfacesReady, &window, [&window, &app, screenshot] {
            QTimer::singleShot(300, &window, [&window, &app, screenshot] {
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
    }
    QTimer::singleShot(0, &window, [&window, positional] {
        if (positional.isEmpty())
            window.openSamplePhantom();
        else
            window.openPath(positional.first());
    });
    return app.exec();
}
