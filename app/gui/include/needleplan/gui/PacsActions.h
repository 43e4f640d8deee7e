#pragma once
/// The File menu's PACS entries: "Open from PACS…" (the PACS browser) and "Send to PACS…" (the
/// plan's DICOM objects).

class QMenu;

namespace np::gui {

class MainWindow;

/// Adds "Open from PACS…" (object name "openFromPacsAction"): opens a PacsBrowserDialog
/// (object name "pacsBrowserDialog") whose Open loads the retrieved folder through
/// MainWindow::openPath, as File > Open does.
void addOpenFromPacsAction(MainWindow& window, QMenu* fileMenu);

} // namespace np::gui
