#include "needleplan/gui/ModelViewWidget.h"

#include <QMouseEvent>

#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkRenderer.h>

namespace np::gui {

ModelViewWidget::ModelViewWidget(QWidget* parent)
    : VtkOpenGLWidget(parent), m_scene(std::make_unique<render::ModelScene>())
{
    setObjectName("modelView");
    vtkNew<vtkInteractorStyleTrackballCamera> style;
    style->SetDefaultRenderer(m_scene->renderer());
    interactor()->SetInteractorStyle(style);
}

ModelViewWidget::~ModelViewWidget() = default;

void ModelViewWidget::renderingInitialised()
{
    renderWindow()->AddRenderer(m_scene->renderer());
    renderWindow()->SetAlphaBitPlanes(1);
    interactor()->Initialize();
    m_scene->attachOrientationMarker(interactor());
}

void ModelViewWidget::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton)
        emit maximiseToggled();
}

} // namespace np::gui
