#include "needleplan/gui/Theme.h"

#include <QApplication>
#include <QFont>
#include <QPalette>
#include <QStyleFactory>

namespace np::gui {

void applyDarkTheme(QApplication& app)
{
    app.setStyle(QStyleFactory::create("Fusion"));
    QPalette palette;
    const QColor window(37, 41, 47), base(26, 29, 34), text(216, 221, 227), accent(64, 132, 214);
    palette.setColor(QPalette::Window, window);
    palette.setColor(QPalette::WindowText, text);
    palette.setColor(QPalette::Base, base);
    palette.setColor(QPalette::AlternateBase, QColor(32, 36, 42));
    palette.setColor(QPalette::ToolTipBase, QColor(50, 55, 62));
    palette.setColor(QPalette::ToolTipText, text);
    palette.setColor(QPalette::Text, text);
    palette.setColor(QPalette::Button, QColor(48, 53, 60));
    palette.setColor(QPalette::ButtonText, text);
    palette.setColor(QPalette::BrightText, QColor(255, 90, 80));
    palette.setColor(QPalette::Highlight, accent);
    palette.setColor(QPalette::HighlightedText, Qt::white);
    palette.setColor(QPalette::Link, accent.lighter(130));
    palette.setColor(QPalette::PlaceholderText, QColor(130, 136, 145));
    palette.setColor(QPalette::Disabled, QPalette::Text, QColor(110, 115, 122));
    palette.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(110, 115, 122));
    palette.setColor(QPalette::Disabled, QPalette::WindowText, QColor(110, 115, 122));
    app.setPalette(palette);
    QFont font = app.font();
    font.setPointSizeF(9.5);
    app.setFont(font);
    app.setStyleSheet(R"(
        QMainWindow::separator { background: #1b1e23; width: 4px; height: 4px; }
        QDockWidget { font-weight: 600; }
        QDockWidget::title { background: #2c3138; padding: 5px 8px; }
        QToolBar { background: #2a2e35; border-bottom: 1px solid #1b1e23; spacing: 4px; padding: 3px; }
        QStatusBar { background: #22262c; }
        QHeaderView::section { background: #2c3138; color: #c6ccd4; border: none; padding: 4px; }
        QTableWidget, QTreeWidget { gridline-color: #2f343b; }
        QPushButton { padding: 5px 12px; border: 1px solid #4a525d; border-radius: 3px; background: #353b43; }
        QPushButton:hover { background: #3f4650; }
        QPushButton:pressed, QPushButton:checked { background: #2f6db5; }
        QPushButton#findButton { background: #2f6db5; font-weight: 600; }
        QToolButton { padding: 2px 6px; }
        QProgressBar { border: 1px solid #4a525d; border-radius: 3px; text-align: center; background: #1d2025; }
        QProgressBar::chunk { background: #2f6db5; }
    )");
}

} // namespace np::gui
