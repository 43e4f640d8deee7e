#pragma once
/// The dark look of imaging workstations.

class QApplication;

namespace np::gui {

/// Applies the Fusion style with a dark palette and a compact style sheet.
void applyDarkTheme(QApplication& app);

} // namespace np::gui
