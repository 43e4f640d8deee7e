#pragma once
/// A post-insertion CT opened onto the open plan (no widgets): the CT is loaded, registered onto
/// the planning CT, its needles found, matched to the plan's trajectories and measured, off the
/// GUI thread with progress and cancel, by the same code as `needleplan-cli validate`
/// (planning::validatePostInsertion). Positions are LPS mm of the planning CT.

#include "needleplan/gui/PlanGraphics.h"
#include "needleplan/planning/PostInsertionValidation.h"

#include <QObject>
#include <QString>
#include <optional>
#include <vector>

namespace np::gui {

class BackgroundTask;
class ImageModel;
class PlanModel;
class StructuresModel;

/// One row of the table of errors: a planned trajectory with its needle, or a needle that
/// matches no planned trajectory.
struct PostInsertionRow
{
    QString target; ///< the planned target ("" for a needle that matches none)
    QString needle; ///< "needle N" (in the detector's order, from 1) or "" when none was found
    std::optional<planning::NeedleErrors> errors;
    bool safe = false;
    QString verdict; ///< the safety finding first ("SAFE: …", "UNSAFE: …", "NOT CHECKED: …"), or why none
};

/// The colour the needles found are drawn in (magenta, beside the plan's green or red).
inline constexpr render::Rgb kActualNeedleRgb{0.95, 0.3, 0.95};

class PostInsertionModel : public QObject
{
    Q_OBJECT
public:
    PostInsertionModel(ImageModel& image, StructuresModel& structures, PlanModel& plan, BackgroundTask& task,
                       QObject* parent = nullptr);

    /// Loads the post-insertion CT at `path` (DICOM file or folder, NRRD, NIfTI, MetaImage; series
    /// `seriesIndex`, -1 the first volume) and validates the plan against it in the background;
    /// finished() reports. Refused (finished(false, why)) without an image or a planned trajectory.
    void open(const QString& path, int seriesIndex = -1);
    bool running() const { return m_running; }
    /// The last validation (empty before one, or after clear()).
    const std::optional<planning::ValidationResult>& result() const { return m_result; }
    QString postPath() const { return m_postPath; }
    /// One row per planned trajectory, then one per needle that matches none.
    std::vector<PostInsertionRow> rows() const;
    /// The needles found, drawn entry to tip (nothing when the validation did not complete).
    PlanGraphics graphics(double radiusMm) const;
    /// A line on the registration, or why the validation did not complete.
    QString statusText() const;
    void clear();
    /// True while the plan's trajectories (a target moved, a trajectory added, removed or another
    /// candidate chosen) differ from those the needles were measured against: the result then
    /// compares the needles with the previous plan. False again when the plan comes back to it.
    bool stale() const { return m_stale; }
    /// Measures the last post-insertion CT again, against the plan as it is now.
    void remeasure();

    /// The plan as validated: each target's trajectory in use (a manual entry or the chosen
    /// search result) as its rank-1 trajectory.
    planning::Plan validationPlan() const;

signals:
    void resultChanged();
    void staleChanged(bool stale);
    /// ok: the needles were measured. Otherwise `message` says why not (registration failed, no
    /// needle, an unreadable file, cancelled).
    void finished(bool ok, const QString& message);

private:
    void updateStale();

    ImageModel& m_image;
    StructuresModel& m_structures;
    PlanModel& m_plan;
    BackgroundTask& m_task;
    bool m_running = false;
    QString m_postPath;
    int m_seriesIndex = -1;
    std::optional<planning::ValidationResult> m_result;
    /// The trajectories (and their targets' names) the result was measured against.
    std::vector<planning::Trajectory> m_measuredTrajectories;
    std::vector<std::string> m_measuredTargets;
    bool m_stale = false;
};

} // namespace np::gui
