#pragma once
/// File > Open post-insertion CT: the PostInsertionModel, its dock with the table of errors
/// (target, needle, tip error, along, lateral, entry, angle, verdict) and the needles found drawn
/// in magenta beside the plan in the slice, trajectory and 3D views. When the plan changes after the
/// measurement the table is marked stale and "Re-measure against the current plan" appears.

#include <QWidget>

class QLabel;
class QMenu;
class QPushButton;
class QTableWidget;

namespace np::gui {

class MainWindow;
class PostInsertionModel;

/// Creates the model (object name "postInsertionModel", a child of `window`), its dock
/// ("postInsertionDock") and the actions of `fileMenu` ("openPostInsertionFolderAction",
/// "openPostInsertionFileAction"), and draws its needles in the window's views.
PostInsertionModel* addPostInsertionValidation(MainWindow& window, QMenu* fileMenu);

class PostInsertionPanel : public QWidget
{
    Q_OBJECT
public:
    PostInsertionPanel(PostInsertionModel& model, QWidget* parent = nullptr);

    QTableWidget* table() const { return m_table; }
    /// The registration line, or why nothing was measured.
    QString statusText() const;

private:
    void refresh();

    PostInsertionModel& m_model;
    QLabel* m_status = nullptr;
    QTableWidget* m_table = nullptr;
    QPushButton* m_remeasure = nullptr;
};

} // namespace np::gui
