#pragma once
/// The plan: named targets, each with its trajectory and ranked search results, the active one,
/// the needle and the procedure preset. Owns the plan's undo commands (a drag merges into one
/// step) and signals every change. No widgets.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/TrajectoryEvaluator.h"

#include <QObject>
#include <QString>
#include <optional>
#include <string>
#include <vector>

class QUndoStack;

namespace np::gui {

class ImageModel;

/// A ranked candidate found by the search, with the planner's full evaluation.
struct TrajectoryRecord
{
    Vec3 entryLps;
    Vec3 targetLps;
    double score = 0.0;
    bool pareto = false;
    planning::Evaluation evaluation;
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
};

class PlanModel : public QObject
{
    Q_OBJECT
public:
    /// A new image in `image` drops the plan. Edits go to `undo`.
    PlanModel(const ImageModel& image, QUndoStack& undo, QObject* parent = nullptr);
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

signals:
    void planChanged();
    void activeTargetChanged();

private:
    QUndoStack& m_undo;
    std::vector<PlanTarget> m_targets;
    int m_activeTarget = -1;
    std::string m_needleName = "22G-90mm";
    std::string m_presetName;
    int m_dragKey = 0;
    int m_nextDragKey = 1;
    std::optional<PlanTarget> m_dragStart;
};

} // namespace np::gui
