#pragma once
/// What the views show, shared by all of them: the linked crosshair, window/level, the layout,
/// what a click does, the trajectory views' rotation and depth, and the overlay opacity. No widgets.

#include "needleplan/imaging/Vec3.h"

#include <QObject>
#include <QString>
#include <vector>

namespace np::gui {

class ImageModel;

/// What a left click does in a slice view.
enum class PickMode
{
    Navigate,        ///< move the linked crosshair (or drag a handle under the mouse)
    SetTarget,       ///< place the active target
    AddTarget,       ///< add a new target where clicked
    SetEntry,        ///< place the entry of the manual trajectory
    MeasureDistance, ///< two clicks: a distance
    MeasureAngle,    ///< three clicks: an angle at the second
    MeasureEllipse,  ///< three clicks: centre, end of one semi-axis, the other semi-axis (HU region)
    RehearsalTarget, ///< the resident's target in rehearsal mode (RehearsalSession takes it)
    RehearsalEntry,  ///< the resident's entry in rehearsal mode
    Segment,         ///< left clicks and drags are strokes of the segmentation tools
};

/// A named window/level (HU).
struct WindowPreset
{
    QString name;
    double window;
    double level;
};

class ViewStateModel : public QObject
{
    Q_OBJECT
public:
    /// Follows `image`: a new image recentres the crosshair and takes the window of its modality.
    explicit ViewStateModel(const ImageModel& image, QObject* parent = nullptr);
    ~ViewStateModel() override;

    Vec3 cursorLps() const { return m_cursorLps; }
    /// Moves the crosshair, clamped into the image so that no view goes blank.
    void setCursorLps(const Vec3& cursorLps);

    double window() const { return m_window; }
    double level() const { return m_level; }
    void setWindowLevel(double window, double level);
    /// The presets offered (Spine first), and the name of the one in use ("" when none matches).
    static const std::vector<WindowPreset>& windowPresets();
    QString windowPresetName() const;
    /// Applies a preset by name; false when there is none of that name.
    bool applyWindowPreset(const QString& name);

    /// 0: axial, 3D, coronal, sagittal; 1: along the needle, 3D, probe's eye, axial.
    int layoutMode() const { return m_layoutMode; }
    void setLayoutMode(int mode);

    PickMode pickMode() const { return m_pickMode; }
    void setPickMode(PickMode mode);

    /// Rotation of the along-needle plane about the needle (degrees, -180…180) and probe depth
    /// (0 skin, 1 tip).
    double trajectoryRotationDeg() const { return m_rotationDeg; }
    double probeDepthFraction() const { return m_depthFraction; }
    void setTrajectoryView(double rotationDeg, double depthFraction);

    /// Thickness (mm) of the maximum intensity projection on the axial, coronal and sagittal
    /// views; 0: thin slices.
    double slabThicknessMm() const { return m_slabMm; }
    void setSlabThicknessMm(double thicknessMm);
    /// Volume rendering of the CT in the 3D view.
    bool volumeRendering() const { return m_volumeRendering; }
    void setVolumeRendering(bool on);

    /// Opacity of the structure colours in the slice views (0…1).
    double overlayOpacity() const { return m_overlayOpacity; }
    void setOverlayOpacity(double opacity);

signals:
    void cursorChanged();
    void windowLevelChanged();
    void layoutChanged();
    void pickModeChanged();
    void trajectoryViewChanged();
    void overlayOpacityChanged();
    void slabChanged();
    void volumeRenderingChanged();

private:
    void imageChanged();

    const ImageModel& m_image;
    Vec3 m_cursorLps;
    double m_window = 1200.0;
    double m_level = 300.0;
    int m_layoutMode = 0;
    PickMode m_pickMode = PickMode::Navigate;
    double m_rotationDeg = 0.0;
    double m_depthFraction = 1.0;
    double m_overlayOpacity = 0.45;
    double m_slabMm = 0.0;
    bool m_volumeRendering = false;
};

} // namespace np::gui
