#pragma once
/// File > Report…: the PDF case report of the window's plan (np_report), with the workstation's 3D
/// view, optionally also as DICOM Encapsulated PDF and Secondary Capture in the CT's study.

#include "needleplan/imaging/PacsClient.h"

#include <QString>
#include <functional>

class QMenu;

namespace np::gui {

class MainWindow;

/// Writes the case report of `window`'s plan to `pdfPath`: captures the 3D view now, builds the
/// pictures (along-needle reslice, DRRs) in the background, then writes the PDF and, when
/// `dicomFolder` is not empty, report.dcm and picture_N.dcm into it. `finished(ok, message)` runs on
/// the GUI thread with the files written or the error.
void writeCaseReport(MainWindow& window, const QString& pdfPath, const QString& dicomFolder,
                     std::function<void(bool ok, const QString& message)> finished);

/// Writes the case report as DICOM (Encapsulated PDF and Secondary Capture) into a temporary folder
/// and sends it by C-STORE to the PACS of `settings`, in the background; `finished(ok, message)`
/// runs on the GUI thread (the message names the server and the number of instances, or the error).
void sendCaseReportToPacs(MainWindow& window, const imaging::PacsSettings& settings,
                          std::function<void(bool ok, const QString& message)> finished);

/// Adds "Report…" (PDF), "Report as DICOM…" and "Send report to PACS…" to `fileMenu`. The PACS's
/// host, port and AE titles are asked for and kept in the settings ("pacs/...").
void addCaseReportActions(MainWindow& window, QMenu* fileMenu);

} // namespace np::gui
