#pragma once
/// The plan: named targets, each with its trajectory and ranked search results, the active one,
/// the needle and the procedure preset; the planning session that measures clearance and searches
/// off the GUI thread; plan files. Owns the plan's undo commands (a drag merges into one step) and
/// signals every change. No widgets.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/TrajectoryEvaluator.h"
#include "needleplan/render/SceneTypes.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QUndoStack;

namespace np::gui {

class BackgroundTask;
class ImageModel;
struct NamedTargetEntry;
class PlanningSession;
class StructuresModel;

/// A ranked candidate found by the search, with the planner's full evaluation.
struct TrajectoryRecord
{
    Vec3 entryLps;
    Vec3 targetLps;
    double score = 0.0;
    bool pareto = false;
    planning::Evaluation evaluation;
};

/// What a search's results depend on: the needle, the procedure and the structures (the label
/// map and every structure's class and margin).
struct SearchContext
{
    std::string needle;
    std::string preset;
    const void* labels = nullptr; ///< identity of the label map searched
    /// Whether that label map still exists: once it is gone its address may be reused by another.
    std::weak_ptr<const void> labelsAlive;
    std::vector<planning::StructureSpec> specs;
};

/// One named target of the plan.
struct PlanTarget
{
    std::string name; ///< e.g. "L4 medial branch left"
    Vec3 targetLps;
    std::optional<Vec3> entryLps;         ///< the trajectory's entry, once set or chosen
    std::vector<TrajectoryRecord> ranked; ///< search results, best first
    int selectedRank = -1;                ///< index into ranked whose entry is in use, or -1
    int directionsSearched = 0;
    int feasibleDirections = 0;
    /// Why the last search found no safe trajectory (clauses, most directions first); empty
    /// when it found some or none ran since the target moved.
    std::vector<std::string> searchNote;
    /// What the results were found with (nullopt: no search ran).
    std::optional<SearchContext> searchContext;
};

class PlanModel : public QObject
{
    Q_OBJECT
public:
    /// A new image in `image` drops the plan; new labels in `structures` a new planning session.
    /// Edits go to `undo`, slow work to `task`.
    PlanModel(ImageModel& image, StructuresModel& structures, QUndoStack& undo, BackgroundTask& task,
              QObject* parent = nullptr);
    ~PlanModel() override;

    const std::vector<PlanTarget>& targets() const { return m_targets; }
    int activeTarget() const { return m_activeTarget; }
    const PlanTarget* active() const;
    /// Makes target `index` active (not an edit: no undo step).
    void setActiveTarget(int index);
    std::string needleName() const { return m_needleName; }
    std::string presetName() const { return m_presetName; }
    /// Needle shaft radius of the chosen needle (mm).
    double needleRadiusMm() const;
    /// A fresh name "Target N" not used yet.
    std::string nextTargetName() const;

    // Undoable edits (one undo step each).
    /// Adds a target at `targetLps` named `name` (a fresh name when empty) and makes it active.
    void addTarget(const QString& name, const Vec3& targetLps);
    /// Adds several targets as one undo step.
    void addTargets(const std::vector<NamedTargetEntry>& entries);
    /// Moves the active target to `targetLps` (its results go), or adds one when there is none.
    void moveActiveTarget(const Vec3& targetLps);
    /// Sets the entry of the active target's trajectory; false when there is no active target.
    bool setEntry(const Vec3& entryLps);
    void removeTarget(int index);
    void renameTarget(int index, const QString& name);
    /// Chooses ranked candidate `rank` of the active target.
    void selectCandidate(int rank);
    void setNeedle(const std::string& name);
    /// Replaces target `index` with `after` (an edit the panels and searches compute).
    void editTarget(int index, const PlanTarget& after, const QString& text);

    /// A handle drag on the active target: begin, moves (handle 0 entry, 1 target), end. The
    /// moves of one drag are one undo step.
    void beginDrag();
    void dragHandle(int handle, const Vec3& pointLps);
    void endDrag();
    bool dragging() const { return m_dragKey != 0; }

    // Without undo: used by the undo commands, opening plans and loading.
    void insertTarget(int index, const PlanTarget& target);
    void removeTargetAt(int index);
    void replaceTarget(int index, const PlanTarget& target);
    void clear();
    void setNeedleName(const std::string& name);
    void setPresetName(const std::string& name);

    // Planning (PlanModelSearch.cpp).
    /// Chooses a procedure preset ("" generic) and applies its needle and structure rules as one
    /// undo step; false (and errorOccurred) when it cannot be loaded.
    bool setPreset(const QString& name);
    /// Searches target `index` off the GUI thread (queued behind running work); searchFinished reports.
    void searchTarget(int index);
    /// Searches every target, one after another.
    void searchAllTargets();
    /// True while a job uses the planning session (evaluations wait for it).
    bool sessionBusy() const { return m_pendingJobs > 0; }
    /// True while clearance fields around the active target are being computed.
    bool measuring() const { return m_fieldsJobPending; }
    /// Evaluation of target `index`'s trajectory with the prepared fields. nullopt without an
    /// entry, without structures, or while the fields do not cover the target: then a job
    /// prepares them (when `prepare`) and fieldsReady follows.
    std::optional<planning::Evaluation> evaluation(int index, bool prepare = true);
    /// Clearance minus margin (mm) along target `index`'s shaft at `samples` points; empty when
    /// not measured.
    std::vector<double> slackAlong(int index, int samples) const;
    /// The vertebra target `index` sits on, from the structures' vertebra labels (planning's
    /// VertebralLevel): "L5", "L4 (or L5)" between two levels, "" when none lies within 20 mm or
    /// there are no vertebra labels (PlanModelLevels.cpp).
    QString vertebralLevel(int index) const;
    /// A note when the CT's patient position does not suit the procedure's approach ("" if it does).
    QString positionNote() const;
    /// Patient position of the image (HFS without one).
    planning::PatientPosition patientPosition() const;
    /// The needle, procedure and structures a search would use now.
    SearchContext currentSearchContext() const;
    /// What changed since target `index`'s results were found ("the needle", "the procedure",
    /// "the structures"); empty while they are current or there are none. Undoing the change
    /// makes them current again.
    QStringList staleBecause(int index) const;
    bool resultsStale(int index) const { return !staleBecause(index).isEmpty(); }
    /// Accessibility map of target `index` from its last search (empty when none or stale).
    std::vector<render::AccessPoint> accessMap(int index) const;

    // Measurements on slice views, stored with the plan (PlanModelMeasurements.cpp).
    const std::vector<planning::Measurement>& measurements() const { return m_measurements; }
    /// Adds a measurement as one undo step; false for a kind or point count the plan cannot hold.
    bool addMeasurement(const planning::Measurement& measurement);
    /// Deletes measurement `index` as one undo step.
    void removeMeasurement(int index);
    /// Replaces every measurement without undo (undo commands, opening plans).
    void setMeasurements(std::vector<planning::Measurement> measurements);

    // Plan files (PlanModelFiles.cpp).
    /// The plan as a document (the image actually opened, its structures file).
    planning::Plan toDocument() const;
    /// Replaces the plan by a document's (the image must already be open); not undoable.
    void applyDocument(const planning::Plan& plan);
    /// The .seg.nrrd that holds a plan's structures, beside it ("case.needleplan.json" gives
    /// "case.seg.nrrd"); the plan records it as image.segmentationPath.
    static QString segmentationFileFor(const QString& planPath);
    /// Saves the plan and its structures off the GUI thread and returns at once; `then` gets the
    /// outcome on the GUI thread (false with a message naming the file). The .seg.nrrd is written
    /// first and the plan that references it second, each to a temporary file that is flushed and
    /// renamed into place: a plan on disk never names structures that are missing or older than
    /// itself, and a failed write leaves the plan file as it was. A save asked for while another
    /// runs waits for it (saves never interleave). Unless `copy` (the crash-recovery copy, which
    /// leaves the undo history alone), success remembers the path and marks the undo history clean,
    /// provided nothing was edited meanwhile; failure leaves the plan unsaved.
    void startSave(const QString& path, bool copy, std::function<void(bool ok, const QString& error)> then = {});
    /// Whether a save is running or waiting.
    bool saving() const { return m_pendingSaves > 0; }
    /// Processes events until every save asked for has finished.
    void waitForSaves();
    /// The worker that writes plans (its progress is shown in the status bar).
    BackgroundTask& saveTask() { return *m_saveTask; }
    /// startSave, waiting (with the event loop turning) for the outcome; false with a message.
    bool savePlanFile(const QString& path, QString* error = nullptr);
    /// Opens a plan; loads its image first when another image is shown, then the structures saved
    /// with it (an error, and the plan opens with the structures shown, when they cannot be read).
    /// planOpened reports.
    void openPlanFile(const QString& path);
    /// Path the plan was last saved to or opened from ("" when none).
    const QString& planPath() const { return m_planPath; }

signals:
    void planChanged();
    void activeTargetChanged();
    void measurementsChanged();
    void searchFinished(bool ok, const QString& message);
    void fieldsReady();
    void planOpened(bool ok, const QString& message);
    void errorOccurred(const QString& title, const QString& message);
    /// A line for the status bar.
    void statusMessage(const QString& text);

private:
    void resetSession();
    /// Pushes the preset name change (part of setPreset's undo step).
    void pushPresetChange(const std::string& name);

    ImageModel& m_image;
    StructuresModel& m_structures;
    QUndoStack& m_undo;
    BackgroundTask& m_task;
    std::shared_ptr<PlanningSession> m_session;
    int m_pendingJobs = 0; ///< queued or running jobs that use the session
    bool m_fieldsJobPending = false;
    std::map<std::string, std::vector<render::AccessPoint>> m_accessMaps;
    QString m_planPath;
    BackgroundTask* m_saveTask = nullptr; ///< plans and their structures are written here, in order
    int m_pendingSaves = 0;
    std::vector<PlanTarget> m_targets;
    std::vector<planning::Measurement> m_measurements;
    int m_activeTarget = -1;
    std::string m_needleName = "22G-90mm";
    std::string m_presetName;
    std::string m_presetApproach; ///< the preset's approachFrom
    std::string m_presetTitle;
    int m_dragKey = 0;
    int m_nextDragKey = 1;
    std::optional<PlanTarget> m_dragStart;
};

} // namespace np::gui
