#include "needleplan/gui/RehearsalPanel.h"

#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PlanGraphics.h"
#include "needleplan/gui/RehearsalSession.h"
#include "needleplan/gui/ViewGrid.h"
#include "needleplan/gui/ViewStateModel.h"

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QStatusBar>
#include <QVBoxLayout>

namespace np::gui {

namespace {

QString lpsText(const Vec3& p)
{
    return QStringLiteral("%1, %2, %3").arg(p.x, 0, 'f', 1).arg(p.y, 0, 'f', 1).arg(p.z, 0, 'f', 1);
}

/// The resident's path (neutral until scored, then in the verdict's colour) and, once scored, the
/// planner's best trajectory in gold.
PlanGraphics rehearsalGraphics(const RehearsalSession& session, double radiusMm)
{
    PlanGraphics graphics;
    if (!session.active())
        return graphics;
    const auto& attempt = session.attempt();
    if (session.residentTargetLps())
        graphics.targets.push_back({*session.residentTargetLps(), true});
    if (session.residentTargetLps() && session.residentEntryLps()) {
        render::TrajectoryGraphic resident;
        resident.entryLps = *session.residentEntryLps();
        resident.targetLps = *session.residentTargetLps();
        resident.radiusMm = radiusMm;
        resident.selected = true;
        resident.colorRgb = !attempt        ? render::Rgb{0.35, 0.7, 1.0}
                            : attempt->safe ? render::Rgb{0.2, 0.9, 0.35}
                                            : kUnsafeRgb;
        graphics.trajectories.push_back(resident);
    }
    if (attempt && attempt->plannerBest) {
        render::TrajectoryGraphic best;
        best.entryLps = attempt->plannerBest->entryLps;
        best.targetLps = attempt->plannerBest->targetLps;
        best.radiusMm = radiusMm;
        best.colorRgb = {1.0, 0.8, 0.15};
        graphics.trajectories.push_back(best);
        graphics.targets.push_back({attempt->plannerBest->targetLps, false});
    }
    return graphics;
}

} // namespace

RehearsalSession* addRehearsalMode(MainWindow& window, QMenu* planMenu)
{
    auto* session = new RehearsalSession(window.imageModel(), window.structuresModel(), window.planModel(),
                                         window.task(), &window);
    auto* dock = new QDockWidget(QObject::tr("Rehearsal"), &window);
    dock->setObjectName("rehearsalDock");
    dock->setWidget(new RehearsalPanel(*session, window.imageModel(), window.viewStateModel(), dock));
    dock->setMinimumWidth(320);
    window.addDockWidget(Qt::RightDockWidgetArea, dock);
    dock->hide();
    dock->toggleViewAction()->setEnabled(false);

    QAction* toggle = planMenu->addAction(QObject::tr("&Rehearsal mode"));
    toggle->setObjectName("rehearsalModeAction");
    toggle->setCheckable(true);
    toggle->setToolTip(QObject::tr("Place a trajectory without seeing the planner's answer, then score it"));
    QAction* score = planMenu->addAction(QObject::tr("&Score rehearsal"), session, &RehearsalSession::score);
    score->setObjectName("rehearsalScoreAction");
    QAction* again = planMenu->addAction(QObject::tr("&Try again"), session, &RehearsalSession::tryAgain);
    again->setObjectName("rehearsalTryAgainAction");
    score->setEnabled(false);
    again->setEnabled(false);
    QObject::connect(toggle, &QAction::toggled, session, &RehearsalSession::setActive);

    ViewGrid* grid = window.viewGrid();
    auto redraw = [&window, session, grid] {
        std::optional<std::pair<Vec3, Vec3>> followed;
        if (session->residentEntryLps() && session->residentTargetLps())
            followed = std::make_pair(*session->residentEntryLps(), *session->residentTargetLps());
        grid->setPlanHidden(session->active(), followed);
        grid->setOverlay(QStringLiteral("rehearsal"),
                         rehearsalGraphics(*session, window.planModel().needleRadiusMm()));
    };
    QObject::connect(session, &RehearsalSession::attemptChanged, grid, redraw);
    // The fluoroscopy tabs and the virtual C-arm follow the same rule: the resident's own path
    // (its bull's-eye view in the readout), the planner's best only once scored.
    auto redrawProjections = [&window, session] {
        if (!session->active()) {
            window.fluoro().setPathsOverride(std::nullopt);
            return;
        }
        const double radiusMm = window.planModel().needleRadiusMm();
        FluoroWorkspace::PathsOverride shown;
        if (session->residentTargetLps())
            shown.targetsLps.push_back(*session->residentTargetLps());
        if (session->residentEntryLps() && session->residentTargetLps()) {
            shown.paths.push_back({*session->residentEntryLps(), *session->residentTargetLps(), radiusMm});
            shown.active = 0;
        }
        if (session->revealed() && session->attempt()->plannerBest) {
            const planning::Trajectory& best = *session->attempt()->plannerBest;
            shown.paths.push_back({best.entryLps, best.targetLps, radiusMm});
            shown.targetsLps.push_back(best.targetLps);
        }
        window.fluoro().setPathsOverride(std::move(shown));
    };
    QObject::connect(session, &RehearsalSession::attemptChanged, &window, redrawProjections);
    QObject::connect(session, &RehearsalSession::activeChanged, &window, redrawProjections);
    QObject::connect(session, &RehearsalSession::activeChanged, &window,
                     [&window, session, dock, toggle, score, again, redraw](bool active) {
                         // Nothing of the planner shows while rehearsing: the planning panel goes.
                         if (auto* planning = window.findChild<QDockWidget*>("planningDock")) {
                             planning->setVisible(!active);
                             planning->toggleViewAction()->setEnabled(!active);
                         }
                         dock->setVisible(active);
                         toggle->setChecked(active);
                         score->setEnabled(active);
                         again->setEnabled(active);
                         if (!active)
                             window.viewStateModel().setPickMode(PickMode::Navigate);
                         redraw();
                     });
    // Clicks in rehearsal pick mode: the same mouse path as every placement.
    for (SliceViewWidget* slice : grid->allSliceViews())
        QObject::connect(slice, &SliceViewWidget::pointPicked, session,
                         [session](const Vec3& p, PickMode mode) {
                             if (mode == PickMode::RehearsalTarget)
                                 session->placeTarget(p);
                             else if (mode == PickMode::RehearsalEntry)
                                 session->placeEntry(p);
                         });
    QObject::connect(session, &RehearsalSession::scored, &window, [&window](bool ok, const QString& message) {
        window.statusBar()->showMessage(
            ok && message.isEmpty() ? QObject::tr("Rehearsal scored and logged") : message, 10000);
    });
    return session;
}

RehearsalPanel::RehearsalPanel(RehearsalSession& session, ImageModel& image, ViewStateModel& view,
                               QWidget* parent)
    : QWidget(parent), m_session(session), m_image(image), m_view(view)
{
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("Place your target and entry. The planner's answer stays hidden until you score."), this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout();
    m_targetCombo = new QComboBox(this);
    m_targetCombo->setObjectName("rehearsalTargetCombo");
    connect(m_targetCombo, &QComboBox::activated, this,
            [this](int index) { m_session.setExerciseTarget(m_targetCombo->itemData(index).toInt()); });
    form->addRow(tr("Exercise"), m_targetCombo);
    layout->addLayout(form);
    auto* pickRow = new QHBoxLayout();
    auto* placeTarget = new QPushButton(tr("Place target"), this);
    placeTarget->setObjectName("rehearsalPlaceTargetButton");
    placeTarget->setToolTip(tr("Then click your target in a slice view"));
    auto* placeEntry = new QPushButton(tr("Place entry"), this);
    placeEntry->setObjectName("rehearsalPlaceEntryButton");
    placeEntry->setToolTip(tr("Then click your skin entry in a slice view"));
    connect(placeTarget, &QPushButton::clicked, this,
            [this] { m_view.setPickMode(PickMode::RehearsalTarget); });
    connect(placeEntry, &QPushButton::clicked, this,
            [this] { m_view.setPickMode(PickMode::RehearsalEntry); });
    pickRow->addWidget(placeTarget);
    pickRow->addWidget(placeEntry);
    layout->addLayout(pickRow);
    m_placement = new QLabel(this);
    m_placement->setWordWrap(true);
    layout->addWidget(m_placement);
    auto* scoreRow = new QHBoxLayout();
    m_score = new QPushButton(tr("Score"), this);
    m_score->setObjectName("rehearsalScoreButton");
    m_tryAgain = new QPushButton(tr("Try again"), this);
    m_tryAgain->setObjectName("rehearsalTryAgainButton");
    connect(m_score, &QPushButton::clicked, &m_session, &RehearsalSession::score);
    connect(m_tryAgain, &QPushButton::clicked, &m_session, &RehearsalSession::tryAgain);
    scoreRow->addWidget(m_score);
    scoreRow->addWidget(m_tryAgain);
    layout->addLayout(scoreRow);
    m_message = new QLabel(this);
    m_message->setObjectName("rehearsalMessage");
    m_message->setWordWrap(true);
    m_message->setStyleSheet("color: #f0a030;");
    layout->addWidget(m_message);
    m_results = new QLabel(this);
    m_results->setObjectName("rehearsalResults");
    m_results->setWordWrap(true);
    m_results->setTextFormat(Qt::RichText);
    layout->addWidget(m_results);
    layout->addStretch(1);
    m_logLabel = new QLabel(this);
    m_logLabel->setWordWrap(true);
    auto* chooseLog = new QPushButton(tr("Log file…"), this);
    chooseLog->setObjectName("rehearsalLogButton");
    chooseLog->setToolTip(tr("Each scored attempt is appended to this CSV file"));
    connect(chooseLog, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Rehearsal log"), m_session.logPath(),
                                         tr("CSV files (*.csv)"), nullptr, QFileDialog::DontConfirmOverwrite);
        if (!path.isEmpty())
            m_session.setLogPath(path);
        refresh();
    });
    layout->addWidget(m_logLabel);
    layout->addWidget(chooseLog);

    connect(&m_session, &RehearsalSession::attemptChanged, this, &RehearsalPanel::refresh);
    connect(&m_session, &RehearsalSession::activeChanged, this, [this] {
        m_message->clear();
        refreshTargets();
        refresh();
    });
    connect(&m_session, &RehearsalSession::scoringStarted, this, [this] {
        m_message->setText(tr("Scoring: the planner searches the exercise target…"));
        refresh();
    });
    connect(&m_session, &RehearsalSession::scored, this, [this](bool, const QString& message) {
        m_message->setText(message);
        refresh();
    });
    connect(&m_image, &ImageModel::namedTargetsChanged, this, &RehearsalPanel::refreshTargets);
    refreshTargets();
    refresh();
}

QString RehearsalPanel::resultsHtml() const
{
    return m_results->text();
}

QString RehearsalPanel::message() const
{
    return m_message->text();
}

void RehearsalPanel::refreshTargets()
{
    const QSignalBlocker blocker(m_targetCombo);
    m_targetCombo->clear();
    for (std::size_t i = 0; i < m_image.namedTargets().size(); ++i)
        m_targetCombo->addItem(m_image.namedTargets()[i].name, static_cast<int>(i));
    m_targetCombo->addItem(tr("Your own target (the planner plans to it)"), -1);
    m_targetCombo->setCurrentIndex(std::max(0, m_targetCombo->findData(m_session.exerciseTarget())));
}

void RehearsalPanel::refresh()
{
    const QSignalBlocker blocker(m_targetCombo);
    m_targetCombo->setCurrentIndex(std::max(0, m_targetCombo->findData(m_session.exerciseTarget())));
    m_targetCombo->setEnabled(!m_session.scoring());
    QStringList placed;
    placed << (m_session.residentTargetLps()
                   ? tr("Your target: LPS %1 mm").arg(lpsText(*m_session.residentTargetLps()))
                   : tr("Your target: not placed"));
    placed << (m_session.residentEntryLps()
                   ? tr("Your entry: LPS %1 mm").arg(lpsText(*m_session.residentEntryLps()))
                   : tr("Your entry: not placed"));
    m_placement->setText(placed.join('\n'));
    m_score->setEnabled(!m_session.scoring() && !m_session.revealed());
    m_tryAgain->setEnabled(!m_session.scoring());
    m_logLabel->setText(tr("Log: %1").arg(m_session.logPath()));

    const auto& attempt = m_session.attempt();
    if (!attempt) {
        m_results->clear();
        return;
    }
    // The safety verdict first, then how close the attempt came to the planner's answer.
    QString html = attempt->safe
                       ? QStringLiteral("<p style='color:#3ad060;font-size:large'><b>SAFE</b></p>")
                       : QStringLiteral("<p style='color:#f04030;font-size:large'><b>UNSAFE</b></p>");
    if (!attempt->verdictStructure.isEmpty())
        html += tr("<p>%1: %2, clearance %3 mm</p>")
                    .arg(attempt->safe ? tr("Closest structure") : tr("First violation"),
                         attempt->verdictStructure.toHtmlEscaped())
                    .arg(attempt->verdictClearanceMm, 0, 'f', 1);
    html += QStringLiteral("<ul>");
    for (const QString& line : attempt->summary)
        html += QStringLiteral("<li>%1</li>").arg(line.toHtmlEscaped());
    html += QStringLiteral("</ul>");
    html += tr("<table><tr><td>Tip to target</td><td align=right>%1 mm</td></tr>")
                .arg(attempt->tipErrorMm, 0, 'f', 2);
    if (attempt->measurement) {
        const planning::NeedleErrors& e = attempt->measurement->errors;
        html += tr("<tr><td>along the planner's axis</td><td align=right>%1 mm</td></tr>"
                   "<tr><td>across it (lateral)</td><td align=right>%2 mm</td></tr>"
                   "<tr><td>Entry offset</td><td align=right>%3 mm</td></tr>"
                   "<tr><td>Angle to the planner's path</td><td align=right>%4°</td></tr>")
                    .arg(e.tipAlongMm, 0, 'f', 2)
                    .arg(e.tipAcrossMm, 0, 'f', 2)
                    .arg(e.entryErrorMm, 0, 'f', 2)
                    .arg(e.angleErrorDeg, 0, 'f', 1);
    }
    html += QStringLiteral("</table>");
    if (attempt->plannerBest)
        html += tr("<p>The planner's best (gold): entry LPS %1 mm, %2 mm long.</p>")
                    .arg(lpsText(attempt->plannerBest->entryLps))
                    .arg(attempt->plannerBest->lengthMm(), 0, 'f', 1);
    else
        html += tr("<p>The planner found no safe trajectory to %1.</p>").arg(attempt->target.toHtmlEscaped());
    m_results->setText(html);
}

} // namespace np::gui
