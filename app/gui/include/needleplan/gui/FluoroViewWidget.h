#pragma once
/// The 2D view of a fluoroscopy image: paints the FluoroModel's frame, the plan projected through
/// the registration, the measurement, the needle-tip mark and the corner text, and forwards the
/// mouse and keys to the model. Left click: the current tool's mark (drag with the Navigate tool:
/// pan); right drag: window (horizontal) and level (vertical); wheel: zoom; Space: play/pause;
/// Left/Right: step a frame; I: invert.

#include "needleplan/imaging/CArmGeometry.h"

#include <QPointF>
#include <QWidget>

namespace np::gui {

class FluoroModel;

class FluoroViewWidget : public QWidget
{
    Q_OBJECT
public:
    explicit FluoroViewWidget(FluoroModel& model, QWidget* parent = nullptr);

    /// Widget position (logical pixels) of a stored-image pixel centre, and back.
    QPointF widgetFromPixel(const imaging::DetectorPixel& pixel) const;
    imaging::DetectorPixel pixelFromWidget(const QPointF& position) const;
    /// Widget pixels per image pixel at the current zoom.
    double scale() const;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    void paintOverlay(class QPainter& painter);
    void paintPointMarks(class QPainter& painter);

    FluoroModel& m_model;
    Qt::MouseButton m_dragButton = Qt::NoButton;
    QPointF m_pressPosition;
    QPointF m_lastPosition;
    bool m_dragged = false;
};

} // namespace np::gui
