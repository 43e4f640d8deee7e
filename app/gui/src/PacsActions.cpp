// File > Open from PACS… and File > Send to PACS….

#include "needleplan/gui/PacsActions.h"

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PacsBrowserDialog.h"

#include <QAction>
#include <QMenu>
#include <QPointer>

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

} // namespace np::gui
