#pragma once
/// The 3D view: a ModelScene with trackball camera interaction.

#include <memory>

#include "needleplan/gui/VtkOpenGLWidget.h"
#include "needleplan/render/ModelScene.h"

namespace np::gui {

/// Left drag rotates, middle drag pans, right drag or the wheel zooms; double click maximises.
class ModelViewWidget : public VtkOpenGLWidget
{
    Q_OBJECT
public:
    explicit ModelViewWidget(QWidget* parent = nullptr);
    ~ModelViewWidget() override;

    render::ModelScene& scene() { return *m_scene; }
    void refresh() { update(); }

signals:
    void maximiseToggled();

protected:
    void renderingInitialised() override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    std::unique_ptr<render::ModelScene> m_scene;
};

} // namespace np::gui
