#include "needleplan/gui/SliceViewWidget.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <cmath>
#include <vtkRenderer.h>

namespace np::gui {

SliceViewWidget::SliceViewWidget(render::SliceOrientation orientation, QWidget* parent)
    : VtkOpenGLWidget(parent), m_scene(std::make_unique<render::SliceScene>(orientation))
{
    setForwardInputToVtk(false);
    setObjectName(QString("sliceView%1").arg(render::toString(orientation)));
}

SliceViewWidget::~SliceViewWidget() = default;

void SliceViewWidget::renderingInitialised()
{
    renderWindow()->AddRenderer(m_scene->renderer());
    const qreal dpr = devicePixelRatioF();
    m_scene->setViewportSize(static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
    resetView();
}

void SliceViewWidget::resetView()
{
    m_scene->resetCamera();
    m_fitted = true;
    update();
}

void SliceViewWidget::resizeGL(int w, int h)
{
    VtkOpenGLWidget::resizeGL(w, h);
    const qreal dpr = devicePixelRatioF();
    // A fitted view fits again; a zoomed or panned one keeps its scale and centre.
    const double mmPerPixel = m_scene->mmPerPixel();
    m_scene->setViewportSize(static_cast<int>(w * dpr), static_cast<int>(h * dpr));
    if (m_fitted)
        m_scene->resetCamera();
    else if (mmPerPixel > 0.0)
        m_scene->zoomAt(m_scene->mmPerPixel() / mmPerPixel, 0.5 * w * dpr, 0.5 * h * dpr);
}

void SliceViewWidget::setHandles(std::optional<Vec3> entryLps, std::optional<Vec3> targetLps)
{
    m_entryHandleLps = entryLps;
    m_targetHandleLps = targetLps;
}

QPointF SliceViewWidget::devicePosition(const QPointF& position) const
{
    return position * devicePixelRatioF();
}

void SliceViewWidget::mousePressEvent(QMouseEvent* event)
{
    setFocus(Qt::MouseFocusReason);
    const QPointF device = devicePosition(event->position());
    m_lastPosition = event->position();
    const bool shift = event->modifiers() & Qt::ShiftModifier;
    const bool ctrl = event->modifiers() & Qt::ControlModifier;
    if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && shift)) {
        m_drag = Drag::Pan;
        return;
    }
    if (event->button() == Qt::RightButton) {
        m_drag = ctrl ? Drag::Zoom : Drag::WindowLevel;
        return;
    }
    if (event->button() != Qt::LeftButton)
        return;
    const Vec3 pointLps = m_scene->lpsFromDisplay(device.x(), device.y());
    if (m_pickMode == PickMode::Segment) {
        m_drag = Drag::Stroke;
        emit strokeStarted(pointLps);
        return;
    }
    if (m_pickMode != PickMode::Navigate) {
        emit pointPicked(pointLps, m_pickMode);
        return;
    }
    // A handle under the mouse (within 9 px, on or near this slice) is grabbed first.
    const double grabPx = 9.0 * devicePixelRatioF();
    const double nearMm = std::max(2.0, 2.0 * m_scene->sliceStepMm());
    const std::optional<Vec3> handles[2] = {m_entryHandleLps, m_targetHandleLps};
    for (int h = 1; h >= 0; --h) {
        if (!handles[h])
            continue;
        const Vec3 display = m_scene->displayFromLps(*handles[h]);
        if (std::hypot(display.x - device.x(), display.y - device.y()) <= grabPx &&
            std::abs(display.z) <= nearMm) {
            m_drag = Drag::Handle;
            m_dragHandle = h;
            emit handleDragStarted(h);
            return;
        }
    }
    m_drag = Drag::Cursor;
    emit cursorMoved(pointLps);
}

void SliceViewWidget::setPickMode(PickMode mode)
{
    const bool wasSegment = m_pickMode == PickMode::Segment;
    m_pickMode = mode;
    setMouseTracking(mode == PickMode::Segment);
    if (wasSegment && mode != PickMode::Segment)
        emit hoverLeft();
}

void SliceViewWidget::leaveEvent(QEvent* event)
{
    VtkOpenGLWidget::leaveEvent(event);
    if (m_pickMode == PickMode::Segment)
        emit hoverLeft();
}

void SliceViewWidget::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF delta = event->position() - m_lastPosition;
    m_lastPosition = event->position();
    const QPointF device = devicePosition(event->position());
    if (m_pickMode == PickMode::Segment)
        emit hovered(m_scene->lpsFromDisplay(device.x(), device.y()));
    switch (m_drag) {
    case Drag::None:
        return;
    case Drag::Cursor:
        emit cursorMoved(m_scene->lpsFromDisplay(device.x(), device.y()));
        break;
    case Drag::Stroke:
        emit strokeMoved(m_scene->lpsFromDisplay(device.x(), device.y()));
        break;
    case Drag::Handle:
        emit handleDragged(m_dragHandle, m_scene->lpsFromDisplay(device.x(), device.y()));
        break;
    case Drag::Pan:
        m_fitted = false;
        m_scene->panBy(delta.x() * devicePixelRatioF(), delta.y() * devicePixelRatioF());
        update();
        break;
    case Drag::Zoom:
        m_fitted = false;
        m_scene->zoomAt(std::pow(1.01, -delta.y()), 0.5 * width() * devicePixelRatioF(),
                        0.5 * height() * devicePixelRatioF());
        update();
        break;
    case Drag::WindowLevel: {
        const double window = std::max(1.0, m_scene->window() * std::pow(1.005, delta.x()));
        const double level = m_scene->level() - delta.y() * std::max(0.5, m_scene->window() / 400.0);
        emit windowLevelChanged(window, level);
        break;
    }
    }
}

void SliceViewWidget::mouseReleaseEvent(QMouseEvent*)
{
    if (m_drag == Drag::Handle)
        emit handleDragFinished(m_dragHandle);
    if (m_drag == Drag::Stroke)
        emit strokeFinished();
    m_drag = Drag::None;
    m_dragHandle = -1;
}

void SliceViewWidget::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton && m_pickMode == PickMode::Navigate)
        emit maximiseToggled();
}

void SliceViewWidget::wheelEvent(QWheelEvent* event)
{
    const int steps = event->angleDelta().y() / 120 != 0 ? event->angleDelta().y() / 120
                                                         : (event->angleDelta().y() > 0 ? 1 : -1);
    if (event->angleDelta().y() == 0)
        return;
    if (event->modifiers() & Qt::ControlModifier) {
        const QPointF device = devicePosition(event->position());
        m_fitted = false;
        m_scene->zoomAt(std::pow(1.15, steps), device.x(), device.y());
        update();
        return;
    }
    scroll(steps);
}

void SliceViewWidget::scroll(int steps)
{
    const Vec3 normal = m_scene->frame().axes.towardViewerLps;
    emit cursorMoved(m_scene->cursorLps() + normal * (steps * m_scene->sliceStepMm()));
}

void SliceViewWidget::keyPressEvent(QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Up:
        scroll(1);
        break;
    case Qt::Key_Down:
        scroll(-1);
        break;
    case Qt::Key_PageUp:
        scroll(10);
        break;
    case Qt::Key_PageDown:
        scroll(-10);
        break;
    case Qt::Key_R:
        resetView();
        break;
    default:
        VtkOpenGLWidget::keyPressEvent(event);
        return;
    }
}

} // namespace np::gui
