// File > Open from PACS… and File > Send to PACS….

#include "needleplan/gui/PacsActions.h"

#include "needleplan/gui/CaseReportAction.h"
#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PacsBrowserDialog.h"

#include <QAction>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QLabel>
#include <QMenu>
#include <QPointer>
#include <QPushButton>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QVBoxLayout>
#include <memory>

namespace np::gui {

void addOpenFromPacsAction(MainWindow& window, QMenu* fileMenu)
{
    QAction* action = fileMenu->addAction(QObject::tr("Open from P&ACS…"), &window, [&window] {
        if (auto* open = window.findChild<PacsBrowserDialog*>()) {
            open->raise();
            open->activateWindow();
            return;
        }
        QPointer<MainWindow> guard(&window);
        auto* dialog = new PacsBrowserDialog(
            [guard](const QString& folder) {
                if (guard)
                    guard->openPath(folder);
            },
            &window);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
    });
    action->setObjectName("openFromPacsAction");
}

namespace {

/// Writes the chosen objects into a temporary folder, then sends them (the PACS answered a C-ECHO).
void writeAndSend(MainWindow& window, const imaging::PacsSettings& settings, PacsSendOptions options,
                  std::function<void(bool ok, const QString& message)> finished)
{
    const QString server = QString::fromStdString(imaging::describeServer(settings));
    auto folder = std::make_shared<QTemporaryDir>();
    if (!folder->isValid()) {
        finished(false, QObject::tr("Cannot create a temporary folder for the DICOM objects: %1")
                            .arg(folder->errorString()));
        return;
    }
    const QString dicom = folder->filePath("dicom");
    QDir().mkpath(dicom);
    QStringList parts;
    if (options.structures) {
        QString error;
        if (!window.exportDicomSeg(dicom + "/structures-seg.dcm", &error)) {
            finished(false,
                     QObject::tr("The structures could not be written as DICOM SEG, nothing was sent to "
                                 "%1: %2")
                         .arg(server, error));
            return;
        }
        parts << QObject::tr("the structures as DICOM SEG");
    }
    // Sends the folder once everything is written; C-STORE progress shows in the status bar.
    QPointer<MainWindow> guard(&window);
    auto send = [guard, settings, server, folder, dicom, finished](QStringList parts) {
        if (!guard) {
            return;
        }
        auto result = std::make_shared<imaging::PacsStoreResult>();
        guard->task().start(
            QObject::tr("Send to PACS"),
            [settings, dicom, result](ProgressSink& progress) {
                *result = imaging::PacsClient(settings).store({dicom.toStdString()}, &progress);
            },
            [folder, result, server, parts, finished] {
                finished(true, QObject::tr("Sent to %1: %2 instances (%3).")
                                   .arg(server)
                                   .arg(result->sent)
                                   .arg(parts.join(QObject::tr("; "))));
            },
            [folder, server, finished](ErrorCode code, const QString& error) {
                finished(
                    false,
                    code == ErrorCode::Cancelled
                        ? QObject::tr("Sending to %1 cancelled; the PACS may hold part of it.").arg(server)
                        : error);
            });
    };
    if (!options.report) {
        send(parts);
        return;
    }
    writeCaseReport(
        window, folder->filePath("case-report.pdf"), dicom,
        [send, parts, server, finished, dicom](bool ok, const QString& message) mutable {
            if (!ok) {
                finished(false, QObject::tr("The case report could not be written, nothing was sent "
                                            "to %1: %2")
                                    .arg(server, message));
                return;
            }
            const int pictures = QDir(dicom).entryList({"picture_*.dcm"}, QDir::Files).size();
            parts << QObject::tr("the case report as Encapsulated PDF with %1 pictures as Secondary "
                                 "Capture")
                         .arg(pictures);
            send(parts);
        });
}

} // namespace

void sendPlanToPacs(MainWindow& window, const imaging::PacsSettings& settings, PacsSendOptions options,
                    std::function<void(bool ok, const QString& message)> finished)
{
    const QString server = QString::fromStdString(imaging::describeServer(settings));
    if (!options.structures && !options.report) {
        finished(false, QObject::tr("Nothing chosen to send to %1.").arg(server));
        return;
    }
    if (!window.imageModel().volume()) {
        finished(false,
                 QObject::tr("Open an image and plan first: there is nothing to send to %1.").arg(server));
        return;
    }
    try {
        imaging::validatePacsSettings(settings);
    } catch (const std::exception& error) {
        finished(false, QObject::tr("Not sent to %1: %2").arg(server, QString::fromStdString(error.what())));
        return;
    }
    // A C-ECHO first: a PACS that is not there is reported in seconds, before the objects are
    // written (the report's pictures take a while).
    QPointer<MainWindow> guard(&window);
    window.task().start(
        QObject::tr("C-ECHO"), [settings](ProgressSink&) { imaging::PacsClient(settings).echo(); },
        [guard, settings, options, finished] {
            if (guard)
                writeAndSend(*guard, settings, options, finished);
        },
        [finished](ErrorCode, const QString& error) { finished(false, error); });
}

namespace {

/// The Send to PACS dialog: the server section and what to send.
class PacsSendDialog : public QDialog
{
public:
    explicit PacsSendDialog(QWidget* parent) : QDialog(parent), m_echo(new PacsBrowserModel(this))
    {
        setObjectName("pacsSendDialog");
        setWindowTitle(tr("Send to PACS"));
        auto* layout = new QVBoxLayout(this);
        m_server = new PacsServerBox(m_echo->settings(), this);
        layout->addWidget(m_server);
        m_structures = new QCheckBox(tr("Structures as DICOM SEG"), this);
        m_structures->setObjectName("pacsSendStructures");
        m_structures->setChecked(true);
        m_report =
            new QCheckBox(tr("Case report as Encapsulated PDF, its pictures as Secondary Capture"), this);
        m_report->setObjectName("pacsSendReport");
        m_report->setChecked(true);
        layout->addWidget(m_structures);
        layout->addWidget(m_report);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
        buttons->addButton(tr("Send"), QDialogButtonBox::AcceptRole)->setObjectName("pacsSendButton");
        connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
        connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
        layout->addWidget(buttons);
        connect(m_server, &PacsServerBox::echoRequested, this, [this] {
            m_echo->setSettings(m_server->settings());
            PacsBrowserModel::storeSettings(m_server->settings());
            m_server->resultLabel()->setText(tr("Sending C-ECHO…"));
            m_echo->echo();
        });
        connect(m_echo, &PacsBrowserModel::echoFinished, this, [this](bool ok, const QString& message) {
            m_server->resultLabel()->setText((ok ? tr("OK: ") : tr("Failed: ")) + message);
        });
    }

    imaging::PacsSettings settings() const { return m_server->settings(); }
    PacsSendOptions options() const { return {m_structures->isChecked(), m_report->isChecked()}; }

private:
    PacsBrowserModel* m_echo;
    PacsServerBox* m_server = nullptr;
    QCheckBox* m_structures = nullptr;
    QCheckBox* m_report = nullptr;
};

} // namespace

void addSendToPacsAction(MainWindow& window, QMenu* fileMenu)
{
    QAction* action = fileMenu->addAction(QObject::tr("Send to PAC&S…"), &window, [&window] {
        auto* dialog = new PacsSendDialog(&window);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        QPointer<MainWindow> guard(&window);
        QObject::connect(dialog, &QDialog::accepted, &window, [guard, dialog] {
            if (!guard)
                return;
            const imaging::PacsSettings settings = dialog->settings();
            PacsBrowserModel::storeSettings(settings);
            sendPlanToPacs(*guard, settings, dialog->options(), [guard](bool ok, const QString& message) {
                if (!guard)
                    return;
                guard->statusBar()->showMessage(message, 15000);
                if (!ok)
                    showErrorBox(guard, QObject::tr("Not sent to PACS"), message);
            });
        });
        dialog->open();
    });
    action->setObjectName("sendToPacsAction");
}

} // namespace np::gui
