#pragma once
/// The virtual C-arm tab: angle and distance controls, the presets, the DRR with the plan drawn
/// on it, and the readout (angles and degrees from the bull's-eye view). Dragging in the image
/// turns the C-arm (horizontal: primary, vertical: secondary; coarse while dragging); the arrow
/// keys step 1° (Shift: 5°).

#include "needleplan/gui/VirtualCArmModel.h"

#include <QWidget>

class QDoubleSpinBox;
class QLabel;

namespace np::gui {

class DrrExportBar;

class VirtualCArmView : public QWidget
{
    Q_OBJECT
public:
    explicit VirtualCArmView(VirtualCArmModel& model, QWidget* parent = nullptr);
    /// Widget position of a pixel of the current DRR.
    QPointF widgetFromPixel(const imaging::DetectorPixel& pixel) const;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;

private:
    VirtualCArmModel& m_model;
    QPointF m_last;
    bool m_dragging = false;
};

class VirtualCArmPanel : public QWidget
{
    Q_OBJECT
public:
    explicit VirtualCArmPanel(QWidget* parent = nullptr);
    VirtualCArmModel& model() { return *m_model; }
    VirtualCArmView* view() const { return m_view; }
    QString readoutText() const;
    /// Export of the DRR (PNG, XA, a sweep as multi-frame XA).
    DrrExportBar* exportBar() const { return m_export; }

private:
    VirtualCArmModel* m_model = nullptr;
    DrrExportBar* m_export = nullptr;
    VirtualCArmView* m_view = nullptr;
    QDoubleSpinBox* m_primary = nullptr;
    QDoubleSpinBox* m_secondary = nullptr;
    QLabel* m_readout = nullptr;
};

} // namespace np::gui
