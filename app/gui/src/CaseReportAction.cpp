// File > Report…: the case report of the window's plan, with the workstation's 3D view.

#include "needleplan/gui/CaseReportAction.h"

#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/report/CaseReport.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QLineEdit>
#include <QMenu>
#include <QSettings>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
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

void sendCaseReportToPacs(MainWindow& window, const imaging::PacsSettings& settings,
                          std::function<void(bool ok, const QString& message)> finished)
{
    auto folder = std::make_shared<QTemporaryDir>();
    if (!folder->isValid()) {
        finished(
            false,
            QObject::tr("cannot create a temporary folder for the report: %1").arg(folder->errorString()));
        return;
    }
    const QString dicom = folder->filePath("dicom");
    writeCaseReport(
        window, folder->filePath("case-report.pdf"), dicom,
        [&window, settings, folder, dicom, finished](bool ok, const QString& message) {
            if (!ok) {
                finished(false, message);
                return;
            }
            auto result = std::make_shared<imaging::PacsStoreResult>();
            window.task().start(
                QObject::tr("Send to PACS"),
                [settings, dicom, result](ProgressSink& progress) {
                    *result = imaging::PacsClient(settings).store({dicom.toStdString()}, &progress);
                },
                [folder, result, settings, finished] {
                    finished(true, QObject::tr("Case report sent to %1: %2 instances")
                                       .arg(QString::fromStdString(imaging::describeServer(settings)))
                                       .arg(result->sent));
                },
                [folder, finished](ErrorCode, const QString& error) { finished(false, error); });
        });
}

namespace {

/// Asks for the PACS's host, port and AE titles, starting from and saving to the settings.
bool askPacsSettings(QWidget* parent, imaging::PacsSettings& settings)
{
    QSettings stored;
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Send report to PACS"));
    auto* form = new QFormLayout(&dialog);
    auto* host = new QLineEdit(stored.value("pacs/host", QString::fromStdString(settings.host)).toString());
    auto* port = new QSpinBox;
    port->setRange(1, 65535);
    port->setValue(stored.value("pacs/port", settings.port).toInt());
    auto* calling = new QLineEdit(
        stored.value("pacs/callingAeTitle", QString::fromStdString(settings.callingAeTitle)).toString());
    auto* called = new QLineEdit(
        stored.value("pacs/calledAeTitle", QString::fromStdString(settings.calledAeTitle)).toString());
    calling->setMaxLength(16);
    called->setMaxLength(16);
    form->addRow(QObject::tr("Host"), host);
    form->addRow(QObject::tr("Port"), port);
    form->addRow(QObject::tr("Our AE title"), calling);
    form->addRow(QObject::tr("PACS AE title"), called);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted)
        return false;
    settings.host = host->text().trimmed().toStdString();
    settings.port = port->value();
    settings.callingAeTitle = calling->text().trimmed().toStdString();
    settings.calledAeTitle = called->text().trimmed().toStdString();
    stored.setValue("pacs/host", host->text().trimmed());
    stored.setValue("pacs/port", port->value());
    stored.setValue("pacs/callingAeTitle", calling->text().trimmed());
    stored.setValue("pacs/calledAeTitle", called->text().trimmed());
    return true;
}

} // namespace

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
    QAction* pacs = fileMenu->addAction(QObject::tr("Send report to &PACS…"), &window, [&window, done] {
        imaging::PacsSettings settings;
        if (askPacsSettings(&window, settings))
            sendCaseReportToPacs(window, settings, done);
    });
    pacs->setObjectName("caseReportPacsAction");
}

} // namespace np::gui
