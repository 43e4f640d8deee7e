#pragma once
/// One slice view (axial, coronal, sagittal or a plane along the needle) with the usual
/// workstation mouse handling.

#include <memory>
#include <optional>

#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/gui/VtkOpenGLWidget.h"
#include "needleplan/imaging/Vec3.h"
#include "needleplan/render/SliceScene.h"

namespace np::gui {


/// Mouse: left moves the crosshair, drags handles, or places a point in a pick mode; right drag
/// is window/level; middle drag or shift+left pans; ctrl+wheel or ctrl+right drag zooms; the
/// wheel scrolls slices; a double click maximises the view. Keys: Up/Down and PgUp/PgDn scroll,
/// R resets the view.
class SliceViewWidget : public VtkOpenGLWidget
{
    Q_OBJECT
public:
    explicit SliceViewWidget(render::SliceOrientation orientation, QWidget* parent = nullptr);
    ~SliceViewWidget() override;

    render::SliceScene& scene() { return *m_scene; }
    const render::SliceScene& scene() const { return *m_scene; }
    /// In the Segment pick mode the view follows the mouse without a button (hovered, hoverLeft).
    void setPickMode(PickMode mode);
    /// Fits the image in the view (R); resizing keeps a fitted view fitted, and keeps the scale
    /// and centre of a view the user zoomed or panned.
    void resetView();
    PickMode pickMode() const { return m_pickMode; }
    /// The handle positions a left press can grab (entry = 0, target = 1); empty to disable.
    void setHandles(std::optional<Vec3> entryLps, std::optional<Vec3> targetLps);
    /// Schedules a repaint (after the scene changed).
    void refresh() { update(); }

signals:
    void cursorMoved(const np::Vec3& cursorLps);
    void pointPicked(const np::Vec3& pointLps, np::gui::PickMode mode);
    void handleDragStarted(int handle);
    void handleDragged(int handle, const np::Vec3& pointLps);
    void handleDragFinished(int handle);
    void windowLevelChanged(double window, double level);
    void maximiseToggled();
    /// A left press, drag and release while the pick mode is Segment (the segmentation tools).
    void strokeStarted(const np::Vec3& pointLps);
    void strokeMoved(const np::Vec3& pointLps);
    void strokeFinished();
    /// The mouse moved over the view (with or without a button) while the pick mode is Segment.
    void hovered(const np::Vec3& pointLps);
    /// The mouse left the view, or the pick mode is no longer Segment.
    void hoverLeft();

protected:
    void renderingInitialised() override;
    void resizeGL(int width, int height) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    enum class Drag { None, Cursor, Handle, Pan, WindowLevel, Zoom, Stroke };
    QPointF devicePosition(const QPointF& position) const;
    void scroll(int steps);

    std::unique_ptr<render::SliceScene> m_scene;
    PickMode m_pickMode = PickMode::Navigate;
    bool m_fitted = true;
    Drag m_drag = Drag::None;
    int m_dragHandle = -1;
    QPointF m_lastPosition;
    std::optional<Vec3> m_entryHandleLps;
    std::optional<Vec3> m_targetHandleLps;
};

} // namespace np::gui
