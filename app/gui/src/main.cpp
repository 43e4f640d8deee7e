/// needleplan: the planning workstation.
/// Usage: needleplan [PATH] [--plan FILE] [--target-name NAME] [--screenshot FILE.png] [--save-plan FILE]
/// Exit codes of scripted runs (--screenshot, --save-plan): 0 written, 1 writing failed, 2 load error.

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ScriptedRun.h"
#include "needleplan/gui/Theme.h"
#include "needleplan/gui/VtkOpenGLWidget.h"

#include <QApplication>
#include <QCommandLineParser>

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
    parser.addPositionalArgument("path",
                                 "DICOM file or folder, DICOMDIR, NRRD/NIfTI volume, or a phantom folder");
    const QCommandLineOption planOption("plan", "Open this plan (*.needleplan.json).", "FILE");
    const QCommandLineOption targetOption("target-name", "Plan the named target from targets.json.", "NAME");
    const QCommandLineOption screenshotOption("screenshot", "Write a PNG of the window and exit.",
                                              "FILE.png");
    const QCommandLineOption savePlanOption(
        "save-plan", "Save the plan as shown (as File > Save plan does) and exit.", "FILE");
    const QCommandLineOption layoutOption("layout", "View layout: standard or trajectory.", "NAME",
                                          "standard");
    const QCommandLineOption sizeOption("size", "Window size in pixels, e.g. 1600x1000.", "WxH");
    parser.addOptions({planOption, targetOption, screenshotOption, savePlanOption, layoutOption, sizeOption});
    parser.process(app);

    np::gui::ScriptedRunOptions options;
    const QStringList positional = parser.positionalArguments();
    options.imagePath = positional.isEmpty() ? QString() : positional.first();
    options.planPath = parser.value(planOption);
    options.targetName = parser.value(targetOption);
    options.screenshot = parser.value(screenshotOption);
    options.savePlan = parser.value(savePlanOption);

    np::gui::MainWindow window;
    np::gui::ScriptedRun run(window, options);
    const QStringList size = parser.value(sizeOption).split('x');
    if (size.size() == 2 && size[0].toInt() > 0 && size[1].toInt() > 0)
        window.resize(size[0].toInt(), size[1].toInt());
    window.show();
    if (parser.value(layoutOption) == "trajectory")
        window.setLayoutMode(1);
    QObject::connect(&run, &np::gui::ScriptedRun::finished, &app, [&app](int code) { app.exit(code); });
    run.start();
    return app.exec();
}
