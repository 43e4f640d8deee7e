#pragma once
/// A QOpenGLWidget hosting a vtkGenericOpenGLRenderWindow (Debian's VTK Qt module is built for
/// Qt 5, so NeedlePlan hosts VTK itself). VTK renders into its own framebuffer inside Qt's
/// context; paintGL blits that into the widget's framebuffer.

#include <QOpenGLWidget>

#include <vtkCallbackCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkNew.h>

#include "needleplan/render/ImageCapture.h"

class QSurface;

namespace np::gui {

/// Hosts one VTK render window. Subclasses decide whether mouse input goes to VTK's interactor
/// (3D view) or is handled in Qt (slice views).
class VtkOpenGLWidget : public QOpenGLWidget
{
    Q_OBJECT
public:
    explicit VtkOpenGLWidget(QWidget* parent = nullptr);
    ~VtkOpenGLWidget() override;

    vtkGenericOpenGLRenderWindow* renderWindow() const;
    vtkGenericRenderWindowInteractor* interactor() const;
    /// False until initializeGL ran, and for good when the context is older than OpenGL 3.2.
    bool isRenderingAvailable() const { return m_glUsable; }
    /// Why rendering is unavailable (empty when it is available).
    QString renderingProblem() const { return m_glProblem; }
    /// Renders now and reads the VTK image back (not the widget's own state).
    render::RgbImage captureVtkImage();
    /// Renders now into the widget.
    void renderNow();

    /// The default surface format VTK needs (OpenGL 3.2 core, depth 24); set it before the
    /// QApplication is created.
    static void installDefaultSurfaceFormat();

signals:
    /// Emitted once after initializeGL; `ok` false when the GL version was refused.
    void renderingReady(bool ok);

protected:
    void initializeGL() override;
    void paintGL() override;
    void resizeGL(int width, int height) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void enterEvent(QEnterEvent* event) override;
    void leaveEvent(QEvent* event) override;

    /// When true (the default), mouse, wheel and key events are forwarded to VTK's interactor.
    void setForwardInputToVtk(bool forward) { m_forwardInput = forward; }
    /// Called after initializeGL succeeded (add renderers, widgets).
    virtual void renderingInitialised() {}
    /// Called before each render (update overlays that depend on the size).
    virtual void aboutToRender() {}

private:
    static void onVtkEvent(vtkObject* caller, unsigned long eventId, void* clientData, void* callData);
    void setEventPosition(const QPointF& position, Qt::KeyboardModifiers modifiers, int repeat = 0);

    vtkNew<vtkGenericOpenGLRenderWindow> m_window;
    vtkNew<vtkGenericRenderWindowInteractor> m_interactor;
    vtkNew<vtkCallbackCommand> m_callback;
    QSurface* m_surface = nullptr;
    bool m_glUsable = false;
    bool m_initialised = false;
    bool m_inPaint = false;
    bool m_renderedOutsidePaint = false;
    bool m_forwardInput = true;
    QString m_glProblem;
};

} // namespace np::gui
