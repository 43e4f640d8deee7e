// File > Report…: the case report of the window's plan, with the workstation's 3D view.

#include "needleplan/gui/CaseReportAction.h"

#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/report/CaseReport.h"

#include <QAction>
#include <QFileDialog>
#include <QMenu>
#include <QStatusBar>
#include <memory>

namespace np::gui {

void writeCaseReport(MainWindow& window, const QString& pdfPath, const QString& dicomFolder,
                     std::function<void(bool ok, const QString& message)> finished)
{
    const planning::Plan plan = window.planModel().toDocument();
    const std::shared_ptr<const imaging::Volume> ct = window.imageModel().volume();
    // The 3D view as the user sees it, read back from VTK now (GUI thread).
    std::vector<report::ReportPicture> overview;
    ModelViewWidget* model = window.modelView();
    if (ct && model && model->isRenderingAvailable()) {
        const render::RgbImage view = model->captureVtkImage();
        if (view.width > 0 && view.height > 0)
            overview.push_back({"3D view as shown in the workstation (LPS; the needle of each target drawn)",
                                view.width, view.height, view.pixels});
    }
    auto content = std::make_shared<report::CaseReportContent>();
    window.task().start(
        QObject::tr("Case report"),
        [content, plan, ct](ProgressSink& progress) {
            *content = report::caseReportContent(plan, ct.get(), &progress);
        },
        [content, overview, ct, pdfPath, dicomFolder, finished] {
            content->overviewPictures = overview;
            if (overview.empty() && ct)
                content->notes.push_back("the 3D view could not be captured (no OpenGL rendering)");
            try {
                report::writeCaseReportPdf(*content, pdfPath.toStdString());
                QString message = QObject::tr("Report written to %1").arg(pdfPath);
                if (!dicomFolder.isEmpty()) {
                    if (!ct)
                        throw Error(ErrorCode::InvalidArgument, "the report as DICOM needs the plan's CT");
                    std::vector<std::string> warnings;
                    const auto written = report::writeCaseReportDicom(
                        *content, pdfPath.toStdString(), ct->info(), dicomFolder.toStdString(), warnings);
                    message += QObject::tr("; %1 DICOM objects in %2").arg(written.size()).arg(dicomFolder);
                    for (const auto& warning : warnings)
                        message += "; " + QString::fromStdString(warning);
                }
                finished(true, message);
            } catch (const std::exception& e) {
                finished(false, QString::fromStdString(e.what()));
            }
        },
        [finished](ErrorCode, const QString& message) { finished(false, message); });
}

void addCaseReportActions(MainWindow& window, QMenu* fileMenu)
{
    auto done = [&window](bool ok, const QString& message) {
        if (ok)
            window.statusBar()->showMessage(message, 10000);
        else
            showErrorBox(&window, QObject::tr("Report not written"), message);
    };
    QAction* pdf = fileMenu->addAction(QObject::tr("&Report…"), &window, [&window, done] {
        const QString path = QFileDialog::getSaveFileName(&window, QObject::tr("Save case report"),
                                                          "case-report.pdf", QObject::tr("PDF (*.pdf)"));
        if (!path.isEmpty())
            writeCaseReport(window, path, QString(), done);
    });
    pdf->setObjectName("caseReportAction");
    QAction* dicom = fileMenu->addAction(QObject::tr("Report as &DICOM…"), &window, [&window, done] {
        const QString folder = QFileDialog::getExistingDirectory(
            &window, QObject::tr("Folder for the report as DICOM (Encapsulated PDF and Secondary Capture)"));
        if (!folder.isEmpty())
            writeCaseReport(window, folder + "/case-report.pdf", folder, done);
    });
    dicom->setObjectName("caseReportDicomAction");
}

} // namespace np::gui
