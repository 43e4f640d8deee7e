#pragma once
/// The virtual C-arm of the loaded CT, without widgets: positioner angles, SID, SOD and field of
/// view, the presets (AP, lateral, ±30° oblique, the active trajectory's bull's-eye and
/// progression views), the DRR at the current angles (coarse while the angles are dragged, full on
/// release), the plan projected on it and how far the view is from the bull's-eye view.

#include "needleplan/gui/FluoroGeometry.h"
#include "needleplan/imaging/CArmGeometry.h"

#include <QImage>
#include <QObject>
#include <QString>
#include <memory>
#include <optional>
#include <vector>

namespace np::imaging {
class AttenuationVolume;
class Volume;
} // namespace np::imaging

namespace np::gui {

class BackgroundTask;

class VirtualCArmModel : public QObject
{
    Q_OBJECT
public:
    enum class Preset
    {
        AP,           ///< the vertical beam for the patient position (PA for prone)
        Lateral,      ///< detector on the patient's left
        LeftOblique,  ///< AP turned 30° toward the patient's left
        RightOblique, ///< AP turned 30° toward the patient's right
        BullsEye,     ///< beam along the active trajectory
        Progression,  ///< beam across the active trajectory
    };

    explicit VirtualCArmModel(QObject* parent = nullptr);
    ~VirtualCArmModel() override;

    /// The CT; its attenuation volume is built on `task` (ready() then).
    void setCt(std::shared_ptr<const imaging::Volume> ct, BackgroundTask& task);
    bool ready() const { return m_attenuation != nullptr; }
    std::shared_ptr<const imaging::Volume> ct() const { return m_ct; }
    /// The CT's attenuation volume (null before ready()), shared with exports.
    std::shared_ptr<const imaging::AttenuationVolume> attenuation() const { return m_attenuation; }
    /// The planned paths and the active one (-1: none); the isocentre is the active target.
    void setPlan(std::vector<PlannedPath> paths, int activePath, std::vector<Vec3> targetsLps);
    const std::vector<PlannedPath>& paths() const { return m_paths; }
    const std::vector<Vec3>& targets() const { return m_targets; }
    int activePath() const { return m_activePath; }

    double primaryDeg() const { return m_primary; }
    double secondaryDeg() const { return m_secondary; }
    /// Primary wrapped to (−180, 180], secondary clamped to [−90, 90].
    void setAngles(double primaryDeg, double secondaryDeg);
    void setDistances(double sidMm, double sodMm);
    double sidMm() const { return m_sid; }
    double sodMm() const { return m_sod; }
    /// Applies a preset; false (angles kept) when it needs a trajectory and there is none.
    bool applyPreset(Preset preset);
    /// Coarse (128²) while dragging, full (384²) otherwise.
    void setCoarse(bool coarse);
    bool coarse() const { return m_coarse; }

    /// The view at the current settings (the isocentre at the active target, else the CT's centre).
    imaging::CArmGeometry view() const;
    /// The DRR of the current view (rendered on first use after a change); null before ready().
    QImage image();
    /// Degrees between the current detector direction and the active trajectory's bull's-eye view.
    std::optional<double> degreesFromBullseye() const;
    /// The readout line: angles, SID/SOD and the distance from the bull's-eye view.
    QString readout() const;

signals:
    void changed();
    void readyChanged();

private:
    Vec3 isocenterLps() const;
    std::string patientPosition() const;

    std::shared_ptr<const imaging::Volume> m_ct;
    std::shared_ptr<const imaging::AttenuationVolume> m_attenuation;
    std::vector<PlannedPath> m_paths;
    std::vector<Vec3> m_targets;
    int m_activePath = -1;
    double m_primary = 0.0;
    double m_secondary = 0.0;
    double m_sid = 1000.0;
    double m_sod = 750.0;
    double m_fieldMm = 300.0;
    bool m_coarse = false;
    QImage m_image;
    bool m_dirty = true;
};

} // namespace np::gui
