#pragma once
/// Small dialogs shared by the window and the panels.

#include <QString>

class QWidget;

namespace np::gui {

/// A non-modal warning box (object name "errorBox") that deletes itself when closed; the message
/// also goes to the log.
void showErrorBox(QWidget* parent, const QString& title, const QString& message);

} // namespace np::gui
