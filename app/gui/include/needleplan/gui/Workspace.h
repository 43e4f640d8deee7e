#pragma once
/// The state the workstation shows and edits: image, labels, structures, cursor, window/level and
/// the plan (named targets, each with its trajectory and ranked candidates). Views observe it;
/// edits that belong in the undo history go through PlanCommands.

#include <QObject>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/TrajectoryEvaluator.h"
#include "needleplan/render/SceneTypes.h"

namespace np::gui {

/// A structure: how it is drawn and how the planner treats it.
struct StructureRow
{
    render::StructureStyle style;
    planning::StructureSpec spec;
};

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
    std::string name;                    ///< e.g. "L4 medial branch left"
    Vec3 targetLps;
    std::optional<Vec3> entryLps;        ///< the trajectory's entry, once set or chosen
    std::vector<TrajectoryRecord> ranked; ///< search results, best first
    int selectedRank = -1;               ///< index into ranked whose entry is in use, or -1
    int directionsSearched = 0;
    int feasibleDirections = 0;
};

/// Shared state of the main window.
class Workspace : public QObject
{
    Q_OBJECT
public:
    explicit Workspace(QObject* parent = nullptr);
    ~Workspace() override;

    std::shared_ptr<const imaging::Volume> volume() const { return m_volume; }
    std::shared_ptr<const imaging::LabelMap> labels() const { return m_labels; }
    /// Replaces the image; clears labels and the plan.
    void setVolume(std::shared_ptr<const imaging::Volume> volume);
    /// Sets the label map and derives structure rows (default planning rules, label colours).
    void setLabels(std::shared_ptr<const imaging::LabelMap> labels);
    /// Sets the label map together with its structure rows (undo and redo of structure changes).
    void setLabels(std::shared_ptr<const imaging::LabelMap> labels, std::vector<StructureRow> rows);
    /// The row a new segment gets: planning defaults by name, its colour, skin-like ones faint and
    /// large soft-tissue ones hidden.
    static StructureRow defaultRow(const imaging::Segment& segment);

    const std::vector<StructureRow>& structures() const { return m_structures; }
    std::vector<render::StructureStyle> structureStyles() const;
    void setStructure(int row, const StructureRow& structure);

    Vec3 cursorLps() const { return m_cursorLps; }
    void setCursorLps(const Vec3& cursorLps);
    double window() const { return m_window; }
    double level() const { return m_level; }
    void setWindowLevel(double window, double level);

    // Plan state. Use PlanCommands to change it from user actions (undo history).
    const std::vector<PlanTarget>& targets() const { return m_targets; }
    int activeTarget() const { return m_activeTarget; }
    const PlanTarget* active() const;
    void setActiveTarget(int index);
    void insertTarget(int index, const PlanTarget& target);
    void removeTarget(int index);
    void replaceTarget(int index, const PlanTarget& target);
    void setTargetPosition(int index, const Vec3& targetLps);
    void setEntryPosition(int index, const std::optional<Vec3>& entryLps);
    std::string needleName() const { return m_needleName; }
    void setNeedleName(const std::string& name);
    std::string presetName() const { return m_presetName; }
    void setPresetName(const std::string& name);
    /// Needle shaft radius of the chosen needle (mm).
    double needleRadiusMm() const;
    /// A fresh name "Target N" not used yet.
    std::string nextTargetName() const;

    /// HU under an LPS point (NaN outside the image).
    double valueAt(const Vec3& pointLps) const;

signals:
    void volumeChanged();
    void labelsChanged();
    void structuresChanged();
    void cursorChanged();
    void windowLevelChanged();
    void planChanged();
    void activeTargetChanged();

private:
    std::shared_ptr<const imaging::Volume> m_volume;
    std::shared_ptr<const imaging::LabelMap> m_labels;
    std::vector<StructureRow> m_structures;
    Vec3 m_cursorLps;
    double m_window = 1200.0;
    double m_level = 300.0;
    std::vector<PlanTarget> m_targets;
    int m_activeTarget = -1;
    std::string m_needleName = "22G-90mm";
    std::string m_presetName;
};

} // namespace np::gui
