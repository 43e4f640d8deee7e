#pragma once
/// The view grid (the window's centre): axial, coronal and sagittal slices, the 3D view, and the
/// trajectory views (along the needle, probe's eye) in two layouts, each view maximisable. Thin
/// views bound to the models: they draw the models' state and turn clicks and drags into model
/// calls; the 3D view builds its surfaces off the GUI thread when the structures change.

#include "needleplan/gui/PlanGraphics.h"
#include "needleplan/gui/SliceViewWidget.h"

#include <QWidget>
#include <map>
#include <optional>
#include <vector>

class QGridLayout;
class QSlider;

namespace np::gui {

class BackgroundTask;
class ImageModel;
class ModelViewWidget;
class PlanModel;
class StructuresModel;
class ViewStateModel;

class ViewGrid : public QWidget
{
    Q_OBJECT
public:
    ViewGrid(ImageModel& image, StructuresModel& structures, PlanModel& plan, ViewStateModel& view,
             BackgroundTask& task, QWidget* parent = nullptr);

    SliceViewWidget* sliceView(render::SliceOrientation orientation) const;
    ModelViewWidget* modelView() const { return m_modelView; }
    SliceViewWidget* needleView() const { return m_needleView; }
    SliceViewWidget* probeView() const { return m_probeView; }
    /// The three standard slice views and the two trajectory views.
    std::vector<SliceViewWidget*> allSliceViews() const;
    /// Maximises the view (or its frame) in the grid, or restores the grid when it is maximised.
    void toggleMaximised(QWidget* view);
    /// Shows or hides the accessibility map on the skin in 3D.
    void setAccessMapVisible(bool visible);
    /// Resets every view's camera.
    void resetViews();
    /// Renders every visible view now (before grabbing the window).
    void renderNow();
    /// Writes one view's VTK image as PNG; false with a message.
    static bool saveViewScreenshot(QWidget* view, const QString& path, QString* error = nullptr);
    /// Hides everything of the plan (trajectories, candidates, targets, accessibility map), as
    /// rehearsal mode needs; the trajectory views then follow `followedEntryTargetLps` (if any).
    void setPlanHidden(bool hidden, std::optional<std::pair<Vec3, Vec3>> followedEntryTargetLps = {});
    /// Extra graphics drawn over the plan's in every view, by owner (rehearsal, needles found
    /// after insertion); an empty one removes it.
    void setOverlay(const QString& owner, const PlanGraphics& graphics);
    /// What the views draw now (plan and overlays).
    const PlanGraphics& drawnGraphics() const { return m_drawn; }

signals:
    void surfacesReady();
    void errorOccurred(const QString& title, const QString& message);

private:
    QWidget* makeViewFrame(QWidget* view, const QString& title, const QColor& accent,
                           QWidget* extra = nullptr);
    void applyLayout();
    void pointPicked(const Vec3& pointLps, PickMode mode);
    void refreshTrajectoryViews();
    void refreshPlanGraphics();
    void refreshAccessMap();
    void focus3dOnActiveTarget();
    void updateCornerText();
    void refreshSliceViews();
    void startSurfaceBuild();

    ImageModel& m_image;
    StructuresModel& m_structures;
    PlanModel& m_plan;
    ViewStateModel& m_view;
    BackgroundTask& m_task;
    std::vector<SliceViewWidget*> m_sliceViews;
    std::vector<Vec3> m_measurePoints; ///< clicks of the measurement being made
    ModelViewWidget* m_modelView = nullptr;
    SliceViewWidget* m_needleView = nullptr;
    SliceViewWidget* m_probeView = nullptr;
    QSlider* m_rotationSlider = nullptr;
    QSlider* m_depthSlider = nullptr;
    std::vector<QWidget*> m_viewFrames;
    QGridLayout* m_grid = nullptr;
    QWidget* m_maximised = nullptr;
    bool m_accessMapVisible = true;
    bool m_planHidden = false;
    std::optional<std::pair<Vec3, Vec3>> m_followed;
    std::map<QString, PlanGraphics> m_overlays;
    PlanGraphics m_drawn;
};

} // namespace np::gui
