#include "needleplan/gui/VtkOpenGLWidget.h"

#include <QEnterEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QPainter>
#include <QSurfaceFormat>
#include <QWheelEvent>

#include <vtkCommand.h>
#include <vtkOpenGLState.h>
#include <vtkRendererCollection.h>

// GL enums without including GL headers next to Qt's.
#ifndef GL_DRAW_FRAMEBUFFER
#define GL_DRAW_FRAMEBUFFER 0x8CA9
#endif
#ifndef GL_COLOR_BUFFER_BIT
#define GL_COLOR_BUFFER_BIT 0x00004000
#endif
#ifndef GL_LEQUAL
#define GL_LEQUAL 0x0203
#endif

namespace np::gui {

void VtkOpenGLWidget::installDefaultSurfaceFormat()
{
    QSurfaceFormat format;
    format.setRenderableType(QSurfaceFormat::OpenGL);
    format.setVersion(3, 2);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(0);
    format.setSamples(0);
    format.setAlphaBufferSize(8);
    format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
    QSurfaceFormat::setDefaultFormat(format);
}

VtkOpenGLWidget::VtkOpenGLWidget(QWidget* parent) : QOpenGLWidget(parent)
{
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(true);
    setMinimumSize(160, 120);
    m_window->SetReadyForRendering(false);
    m_window->SetFrameBlitModeToNoBlit();
    m_window->SetOwnContext(0);
    m_window->SetMultiSamples(0);
    m_interactor->SetRenderWindow(m_window);
    m_interactor->EnableRenderOff();
    m_callback->SetClientData(this);
    m_callback->SetCallback(&VtkOpenGLWidget::onVtkEvent);
    m_window->AddObserver(vtkCommand::WindowMakeCurrentEvent, m_callback);
    m_window->AddObserver(vtkCommand::WindowIsCurrentEvent, m_callback);
    m_window->AddObserver(vtkCommand::WindowFrameEvent, m_callback);
    m_interactor->AddObserver(vtkCommand::RenderEvent, m_callback);
}

VtkOpenGLWidget::~VtkOpenGLWidget()
{
    m_window->RemoveObserver(m_callback);
    m_interactor->RemoveObserver(m_callback);
    if (m_initialised && context()) {
        QOpenGLWidget::makeCurrent();
        m_window->ReleaseGraphicsResources(m_window);
        doneCurrent();
    }
    m_window->SetReadyForRendering(false);
}

vtkGenericOpenGLRenderWindow* VtkOpenGLWidget::renderWindow() const { return m_window; }
vtkGenericRenderWindowInteractor* VtkOpenGLWidget::interactor() const { return m_interactor; }

void VtkOpenGLWidget::onVtkEvent(vtkObject*, unsigned long eventId, void* clientData, void* callData)
{
    auto* self = static_cast<VtkOpenGLWidget*>(clientData);
    switch (eventId) {
    case vtkCommand::WindowMakeCurrentEvent:
        // Never QOpenGLWidget::makeCurrent(): it re-binds Qt's framebuffer behind VTK's back.
        if (self->context() && self->m_surface)
            self->context()->makeCurrent(self->m_surface);
        break;
    case vtkCommand::WindowIsCurrentEvent:
        if (callData)
            *static_cast<bool*>(callData) =
                self->context() != nullptr && QOpenGLContext::currentContext() == self->context();
        break;
    case vtkCommand::WindowFrameEvent:
        if (!self->m_inPaint) {
            self->m_renderedOutsidePaint = true;
            self->update();
        }
        break;
    case vtkCommand::RenderEvent:
        // The interactor (e.g. a camera style) asks for a render: let Qt schedule it.
        self->update();
        break;
    default:
        break;
    }
}

void VtkOpenGLWidget::initializeGL()
{
    QOpenGLContext* ctx = context();
    const QSurfaceFormat format = ctx ? ctx->format() : QSurfaceFormat();
    const int version = format.majorVersion() * 10 + format.minorVersion();
    if (!ctx || version < 32 || format.renderableType() == QSurfaceFormat::OpenGLES) {
        m_glUsable = false;
        m_glProblem = tr("This display offers OpenGL %1.%2; the 2D and 3D views need OpenGL 3.2 or newer. "
                         "Update the graphics driver, or run under Xvfb with Mesa.")
                          .arg(format.majorVersion())
                          .arg(format.minorVersion());
        m_initialised = true;
        emit renderingReady(false);
        return;
    }
    m_surface = ctx->surface();
    m_window->SetReadyForRendering(true);
    m_window->SetMapped(1);
    m_window->SetIsCurrent(true);
    m_window->OpenGLInitContext();
    vtkOpenGLState* state = m_window->GetState();
    state->Reset();
    state->vtkglDepthFunc(GL_LEQUAL);
    const qreal dpr = devicePixelRatioF();
    m_window->SetSize(static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
    m_interactor->SetSize(static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
    m_glUsable = true;
    m_initialised = true;
    renderingInitialised();
    emit renderingReady(true);
}

void VtkOpenGLWidget::resizeGL(int w, int h)
{
    if (!m_glUsable)
        return;
    const qreal dpr = devicePixelRatioF();
    const int pixelsW = static_cast<int>(w * dpr), pixelsH = static_cast<int>(h * dpr);
    m_window->SetSize(pixelsW, pixelsH);
    m_interactor->UpdateSize(pixelsW, pixelsH);
    m_renderedOutsidePaint = false;
}

void VtkOpenGLWidget::paintGL()
{
    if (!m_glUsable) {
        QPainter painter(this);
        painter.fillRect(rect(), QColor(20, 22, 26));
        painter.setPen(QColor(230, 120, 100));
        painter.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWordWrap,
                         m_glProblem.isEmpty() ? tr("Starting OpenGL…") : m_glProblem);
        return;
    }
    m_inPaint = true;
    vtkOpenGLState* state = m_window->GetState();
    state->Reset();
    state->Push();
    if (!m_renderedOutsidePaint) {
        aboutToRender();
        m_window->Render();
    }
    m_renderedOutsidePaint = false;
    state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
    m_window->BlitDisplayFramebuffer();
    // Qt composes the widget with its alpha: make the result opaque.
    state->vtkglColorMask(false, false, false, true);
    state->vtkglClearColor(0.0f, 0.0f, 0.0f, 1.0f);
    state->vtkglClear(GL_COLOR_BUFFER_BIT);
    state->Pop();
    m_inPaint = false;
}

void VtkOpenGLWidget::renderNow()
{
    if (!m_glUsable)
        return;
    aboutToRender();
    m_inPaint = true;
    m_window->Render();
    m_inPaint = false;
    m_renderedOutsidePaint = true;
    update();
}

render::RgbImage VtkOpenGLWidget::captureVtkImage()
{
    if (!m_glUsable)
        return {};
    aboutToRender();
    m_inPaint = true;
    render::RgbImage image = render::captureWindow(m_window);
    m_inPaint = false;
    m_renderedOutsidePaint = true;
    update();
    return image;
}

void VtkOpenGLWidget::setEventPosition(const QPointF& position, Qt::KeyboardModifiers modifiers, int repeat)
{
    const qreal dpr = devicePixelRatioF();
    m_interactor->SetEventInformationFlipY(static_cast<int>(position.x() * dpr), static_cast<int>(position.y() * dpr),
                                           (modifiers & Qt::ControlModifier) ? 1 : 0,
                                           (modifiers & Qt::ShiftModifier) ? 1 : 0, 0, repeat);
    m_interactor->SetAltKey((modifiers & Qt::AltModifier) ? 1 : 0);
}

void VtkOpenGLWidget::mousePressEvent(QMouseEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::mousePressEvent(event);
    setEventPosition(event->position(), event->modifiers());
    switch (event->button()) {
    case Qt::LeftButton: m_interactor->InvokeEvent(vtkCommand::LeftButtonPressEvent); break;
    case Qt::MiddleButton: m_interactor->InvokeEvent(vtkCommand::MiddleButtonPressEvent); break;
    case Qt::RightButton: m_interactor->InvokeEvent(vtkCommand::RightButtonPressEvent); break;
    default: break;
    }
    update();
}

void VtkOpenGLWidget::mouseReleaseEvent(QMouseEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::mouseReleaseEvent(event);
    setEventPosition(event->position(), event->modifiers());
    switch (event->button()) {
    case Qt::LeftButton: m_interactor->InvokeEvent(vtkCommand::LeftButtonReleaseEvent); break;
    case Qt::MiddleButton: m_interactor->InvokeEvent(vtkCommand::MiddleButtonReleaseEvent); break;
    case Qt::RightButton: m_interactor->InvokeEvent(vtkCommand::RightButtonReleaseEvent); break;
    default: break;
    }
    update();
}

void VtkOpenGLWidget::mouseMoveEvent(QMouseEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::mouseMoveEvent(event);
    setEventPosition(event->position(), event->modifiers());
    m_interactor->InvokeEvent(vtkCommand::MouseMoveEvent);
}

void VtkOpenGLWidget::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::mouseDoubleClickEvent(event);
    setEventPosition(event->position(), event->modifiers(), 1);
    m_interactor->InvokeEvent(vtkCommand::LeftButtonPressEvent);
}

void VtkOpenGLWidget::wheelEvent(QWheelEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::wheelEvent(event);
    setEventPosition(event->position(), event->modifiers());
    const int delta = event->angleDelta().y();
    if (delta > 0)
        m_interactor->InvokeEvent(vtkCommand::MouseWheelForwardEvent);
    else if (delta < 0)
        m_interactor->InvokeEvent(vtkCommand::MouseWheelBackwardEvent);
    update();
}

void VtkOpenGLWidget::keyPressEvent(QKeyEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::keyPressEvent(event);
    const QByteArray text = event->text().toLatin1();
    m_interactor->SetKeyEventInformation((event->modifiers() & Qt::ControlModifier) ? 1 : 0,
                                         (event->modifiers() & Qt::ShiftModifier) ? 1 : 0,
                                         text.isEmpty() ? 0 : text[0], event->isAutoRepeat() ? 1 : 0,
                                         text.isEmpty() ? nullptr : text.constData());
    m_interactor->InvokeEvent(vtkCommand::KeyPressEvent);
    update();
}

void VtkOpenGLWidget::keyReleaseEvent(QKeyEvent* event)
{
    if (!m_forwardInput || !m_glUsable)
        return QOpenGLWidget::keyReleaseEvent(event);
    m_interactor->InvokeEvent(vtkCommand::KeyReleaseEvent);
}

void VtkOpenGLWidget::enterEvent(QEnterEvent* event)
{
    if (m_forwardInput && m_glUsable)
        m_interactor->InvokeEvent(vtkCommand::EnterEvent);
    QOpenGLWidget::enterEvent(event);
}

void VtkOpenGLWidget::leaveEvent(QEvent* event)
{
    if (m_forwardInput && m_glUsable)
        m_interactor->InvokeEvent(vtkCommand::LeaveEvent);
    QOpenGLWidget::leaveEvent(event);
}

} // namespace np::gui
