#pragma once
/// Rehearsal mode (no widgets): the resident places a target and an entry on the open scan
/// without seeing the planner's answer; Score runs the planner's search at the exercise target
/// off the GUI thread, evaluates the resident's path with the planner's evaluator and measures it
/// against the planner's best trajectory (NeedleMeasurement), safety verdict first. Every scored
/// attempt is appended to a CSV log an educator can collect. Positions are LPS mm.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/NeedleMeasurement.h"

#include <QDateTime>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>
#include <vector>

namespace np::gui {

class BackgroundTask;
class ImageModel;
class PlanModel;
class PlanningSession;
class StructuresModel;

/// One scored attempt.
struct RehearsalAttempt
{
    QDateTime timeUtc;
    QString target;         ///< the exercise target's name
    Vec3 exerciseTargetLps; ///< where the planner aims
    Vec3 residentEntryLps;
    Vec3 residentTargetLps;
    /// The planner's best trajectory to the exercise target; empty when it found no safe one.
    std::optional<planning::Trajectory> plannerBest;
    /// The resident's path evaluated by the planner's evaluator.
    planning::Evaluation residentEvaluation;
    /// The resident's path against the planner's best (when there is one).
    std::optional<planning::NeedleMeasurement> measurement;
    double tipErrorMm = 0.0;         ///< resident's tip to the exercise target (always known)
    bool safe = false;               ///< the resident's path keeps every margin and misses the obstacles
    QString verdictStructure;        ///< the first violation's structure (unsafe) or the closest one (safe)
    double verdictClearanceMm = 0.0; ///< that structure's clearance (needle surface, mm)
    QStringList summary;             ///< readable verdict, the safety finding first
};

class RehearsalSession : public QObject
{
    Q_OBJECT
public:
    /// The CSV log's columns (its header line).
    static const QStringList& logColumns();
    /// Default log: rehearsal-log.csv in the user's application data folder.
    static QString defaultLogPath();
    /// Appends `attempt` to the CSV log at `path`: the header first when the file is new or empty;
    /// the file is written whole to a temporary file and renamed into place, so the rows already in
    /// it survive any failure. false with a message naming the file (e.g. a file that is not a
    /// rehearsal log, a folder that cannot be written).
    static bool appendToLog(const QString& path, const RehearsalAttempt& attempt, QString* error = nullptr);
    /// The CSV row of `attempt` (fields quoted where needed, no line end).
    static QString logRow(const RehearsalAttempt& attempt);

    RehearsalSession(ImageModel& image, StructuresModel& structures, PlanModel& plan, BackgroundTask& task,
                     QObject* parent = nullptr);
    ~RehearsalSession() override;

    bool active() const { return m_active; }
    /// Turns rehearsal on or off; turning it on starts a fresh attempt with the results hidden.
    void setActive(bool active);
    /// True once the attempt was scored: the planner's result may be shown.
    bool revealed() const { return m_attempt.has_value(); }
    bool scoring() const { return m_scoring; }

    /// The exercise targets offered: the image's named targets. Index −1: the resident's own
    /// target (the planner then plans to it, and only the path is compared).
    int exerciseTarget() const { return m_exerciseTarget; }
    void setExerciseTarget(int index);
    QString exerciseTargetName() const;

    const std::optional<Vec3>& residentTargetLps() const { return m_residentTargetLps; }
    const std::optional<Vec3>& residentEntryLps() const { return m_residentEntryLps; }
    /// Places the resident's target or entry (a click in rehearsal pick mode); after a score this
    /// starts the next attempt.
    void placeTarget(const Vec3& targetLps);
    void placeEntry(const Vec3& entryLps);
    /// Why Score cannot run now ("" when it can).
    QString cannotScoreReason() const;
    /// Scores the attempt in the background; scored() reports. Appends the attempt to the log.
    void score();
    /// Clears the resident's placement and hides the results again (the same exercise target).
    void tryAgain();
    const std::optional<RehearsalAttempt>& attempt() const { return m_attempt; }

    QString logPath() const { return m_logPath; }
    /// Chooses the log (remembered in the settings).
    void setLogPath(const QString& path);

signals:
    void activeChanged(bool active);
    /// The resident's placement, the exercise target or the revealed state changed.
    void attemptChanged();
    void scoringStarted();
    /// ok false: `message` says why nothing was scored. ok true: `message` is "" or the log's
    /// write failure (the attempt is scored and shown but not logged).
    void scored(bool ok, const QString& message);

private:
    void resetAttempt();

    ImageModel& m_image;
    StructuresModel& m_structures;
    PlanModel& m_plan;
    BackgroundTask& m_task;
    bool m_active = false;
    bool m_scoring = false;
    int m_exerciseTarget = -1;
    std::optional<Vec3> m_residentTargetLps;
    std::optional<Vec3> m_residentEntryLps;
    std::optional<RehearsalAttempt> m_attempt;
    QString m_logPath;
    std::shared_ptr<PlanningSession> m_session;
    const void* m_sessionLabels = nullptr;
    /// The last search (reused while the exercise target, needle, procedure and structures stay).
    struct SearchCache;
    std::shared_ptr<SearchCache> m_cache;
};

} // namespace np::gui
