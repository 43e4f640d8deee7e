#pragma once
/// File > Report…: the PDF case report of the window's plan (np_report), with the workstation's 3D
/// view, optionally also as DICOM Encapsulated PDF and Secondary Capture in the CT's study.

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

/// Adds "Report…" (PDF) and "Report as DICOM…" to `fileMenu`.
void addCaseReportActions(MainWindow& window, QMenu* fileMenu);

} // namespace np::gui
