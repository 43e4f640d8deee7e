#pragma once
/// Rehearsal mode in the window: Plan > Rehearsal mode, Score and Try again, and a thin panel of
/// the RehearsalSession (exercise target, placing the target and entry, the score, the log).
/// While rehearsal is on the planning panel, the plan's trajectories, candidates and
/// accessibility map are hidden; only the resident's path is drawn until Score.

#include <QWidget>

class QComboBox;
class QLabel;
class QMenu;
class QPushButton;

namespace np::gui {

class ImageModel;
class MainWindow;
class RehearsalSession;
class ViewStateModel;

/// Creates the session (object name "rehearsalSession", a child of `window`), its dock
/// ("rehearsalDock") and the actions of `planMenu` ("rehearsalModeAction", "rehearsalScoreAction",
/// "rehearsalTryAgainAction"), and binds them to the views.
RehearsalSession* addRehearsalMode(MainWindow& window, QMenu* planMenu);

class RehearsalPanel : public QWidget
{
    Q_OBJECT
public:
    RehearsalPanel(RehearsalSession& session, ImageModel& image, ViewStateModel& view,
                   QWidget* parent = nullptr);

    /// The score as shown (HTML; empty before Score).
    QString resultsHtml() const;
    /// The last message (why Score cannot run, a log that could not be written).
    QString message() const;

private:
    void refresh();
    void refreshTargets();

    RehearsalSession& m_session;
    ImageModel& m_image;
    ViewStateModel& m_view;
    QComboBox* m_targetCombo = nullptr;
    QLabel* m_placement = nullptr;
    QLabel* m_results = nullptr;
    QLabel* m_message = nullptr;
    QLabel* m_logLabel = nullptr;
    QPushButton* m_score = nullptr;
    QPushButton* m_tryAgain = nullptr;
};

} // namespace np::gui
