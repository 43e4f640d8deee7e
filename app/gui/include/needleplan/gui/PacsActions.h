#pragma once
/// The File menu's PACS entries: "Open from PACS…" (the PACS browser) and "Send to PACS…" (the
/// plan's DICOM objects).

#include "needleplan/imaging/PacsClient.h"

#include <QString>
#include <functional>

class QMenu;

namespace np::gui {

class MainWindow;

/// What File > Send to PACS… sends of the plan.
struct PacsSendOptions
{
    bool structures = true; ///< the structures as DICOM SEG on the plan's CT
    bool report = true;     ///< the case report as Encapsulated PDF, its pictures as Secondary Capture
};

/// Writes the chosen DICOM objects of `window`'s plan into a temporary folder with the project's
/// writers (StructuresModel::exportDicomSeg, writeCaseReport), then sends them by C-STORE in the
/// window's background task (status bar progress and Cancel). `finished(ok, message)` runs on the
/// GUI thread: what was sent to which server, or the error naming the server and the operation.
void sendPlanToPacs(MainWindow& window, const imaging::PacsSettings& settings, PacsSendOptions options,
                    std::function<void(bool ok, const QString& message)> finished);

/// Adds "Send to PACS…" (object name "sendToPacsAction"): a dialog (object name "pacsSendDialog")
/// with the server section (remembered, with Echo) and what to send, then sendPlanToPacs.
void addSendToPacsAction(MainWindow& window, QMenu* fileMenu);

/// Adds "Open from PACS…" (object name "openFromPacsAction"): opens a PacsBrowserDialog
/// (object name "pacsBrowserDialog") whose Open loads the retrieved folder through
/// MainWindow::openPath, as File > Open does.
void addOpenFromPacsAction(MainWindow& window, QMenu* fileMenu);

} // namespace np::gui
