#pragma once
/// The workstation's link to the planning core: clearance fields and body model for the loaded
/// label map, and evaluation of the trajectory being edited. No Qt.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/TrajectoryEvaluator.h"
#include "needleplan/planning/TrajectorySearch.h"

namespace np::planning {
class BodyModel;
class ClearanceFieldSet;
} // namespace np::planning

namespace np::gui {

/// Owns the planning state derived from one image and label map.
class PlanningSession
{
public:
    PlanningSession(std::shared_ptr<const imaging::Volume> volume, std::shared_ptr<const imaging::LabelMap> labels);
    ~PlanningSession();
    PlanningSession(const PlanningSession&) = delete;
    PlanningSession& operator=(const PlanningSession&) = delete;

    bool hasLabels() const { return m_labels != nullptr; }
    /// The label map the session was made for (or last updated to).
    const imaging::LabelMap* labels() const { return m_labels.get(); }
    /// Takes new labels on the same grid in place: only the clearance fields of label values whose
    /// voxels (or segment) changed are dropped, to be computed again by the next prepareFields;
    /// the body model goes when a skin or body label changed; new segments are taken on. False
    /// (nothing changed) when the labels cannot be taken in place (another grid, a voxel value
    /// that no segment names beyond the session's);
    /// then a new session is needed. Not while a job uses the session. `changed` lists the values.
    bool updateLabels(std::shared_ptr<const imaging::LabelMap> labels, std::vector<std::uint16_t>* changed = nullptr);
    planning::PatientPosition patientPosition() const { return m_patientPosition; }
    /// Builds the body model (from the skin/body labels, or a CT threshold). Slow: off the GUI thread.
    void prepareBody(ProgressSink* progress);
    /// Makes clearance fields valid in a ball around `targetLps`. Slow the first time.
    void prepareFields(const std::vector<planning::StructureSpec>& structures, const Vec3& targetLps, double radiusMm,
                       ProgressSink* progress);
    /// True when prepareFields covered this target and every considered structure already
    /// (evaluation is then fast).
    bool fieldsCover(const Vec3& targetLps, const std::vector<planning::StructureSpec>& structures) const;
    /// Clearance minus margin (mm) of the tightest forbidden or caution structure at points along
    /// the shaft from entry to target, `samples` points; empty when the fields do not cover it.
    std::vector<double> slackAlong(const std::vector<planning::StructureSpec>& structures, const Vec3& entryLps,
                                   const Vec3& targetLps, double radiusMm, int samples) const;
    /// Evaluates a trajectory with the prepared fields; nullopt without labels.
    std::optional<planning::Evaluation> evaluate(const std::vector<planning::StructureSpec>& structures,
                                                 const Vec3& entryLps, const Vec3& targetLps,
                                                 const planning::Needle& needle) const;
    /// Automatic search around `targetLps` with the preset's window (prepares fields and body as
    /// needed). Slow: off the GUI thread, and nothing else may use the session meanwhile.
    planning::SearchResult search(const std::vector<planning::StructureSpec>& structures, const Vec3& targetLps,
                                  const planning::Needle& needle, const planning::Preset& preset, int directionCount,
                                  ProgressSink* progress);
    const planning::BodyModel* body() const { return m_body.get(); }
    planning::ClearanceFieldSet* fields() const { return m_fields.get(); }

private:
    std::shared_ptr<const imaging::Volume> m_volume;
    std::shared_ptr<const imaging::LabelMap> m_labels;
    /// The session's own copy that the fields read (updated in place by updateLabels).
    std::unique_ptr<imaging::LabelMap> m_fieldLabels;
    std::uint16_t m_maxLabelValue = 0;
    std::unique_ptr<planning::ClearanceFieldSet> m_fields;
    std::unique_ptr<planning::BodyModel> m_body;
    planning::PatientPosition m_patientPosition = planning::PatientPosition::HFS;
    std::optional<Vec3> m_preparedCentreLps;
    double m_preparedRadiusMm = 0.0;
    std::vector<std::uint16_t> m_preparedLabels;
};

} // namespace np::gui
