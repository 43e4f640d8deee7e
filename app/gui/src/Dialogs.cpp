#include "needleplan/gui/Dialogs.h"

#include <QMessageBox>

namespace np::gui {

void showErrorBox(QWidget* parent, const QString& title, const QString& message)
{
    qWarning("%s: %s", qPrintable(title), qPrintable(message));
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, parent);
    box->setObjectName("errorBox");
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

} // namespace np::gui
