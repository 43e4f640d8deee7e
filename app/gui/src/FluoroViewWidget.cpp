#include "needleplan/gui/FluoroViewWidget.h"

#include "needleplan/gui/FluoroModel.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>
#include <cmath>
#include <vector>

namespace np::gui {

using imaging::DetectorPixel;

FluoroViewWidget::FluoroViewWidget(FluoroModel& model, QWidget* parent) : QWidget(parent), m_model(model)
{
    setObjectName("fluoroView");
    setMinimumSize(320, 320);
    setFocusPolicy(Qt::StrongFocus);
    setMouseTracking(false);
    const auto repaint = [this] { update(); };
    connect(&m_model, &FluoroModel::frameChanged, this, repaint);
    connect(&m_model, &FluoroModel::displayChanged, this, repaint);
    connect(&m_model, &FluoroModel::measurementChanged, this, repaint);
    connect(&m_model, &FluoroModel::overlayChanged, this, repaint);
    connect(&m_model, &FluoroModel::tipChanged, this, repaint);
    connect(&m_model, &FluoroModel::registrationFinished, this, repaint);
}

double FluoroViewWidget::scale() const
{
    const auto image = m_model.image();
    if (!image || image->columns <= 0 || image->rows <= 0)
        return 1.0;
    return std::min(width() / double(image->columns), height() / double(image->rows)) * m_model.zoom();
}

QPointF FluoroViewWidget::widgetFromPixel(const DetectorPixel& pixel) const
{
    const auto image = m_model.image();
    const double s = scale();
    const double columns = image ? image->columns : 0;
    const double rows = image ? image->rows : 0;
    const double x0 = 0.5 * (width() - columns * s) + m_model.pan().x();
    const double y0 = 0.5 * (height() - rows * s) + m_model.pan().y();
    return {x0 + (pixel.column + 0.5) * s, y0 + (pixel.row + 0.5) * s};
}

DetectorPixel FluoroViewWidget::pixelFromWidget(const QPointF& position) const
{
    const QPointF origin = widgetFromPixel({-0.5, -0.5});
    const double s = scale();
    return {(position.x() - origin.x()) / s - 0.5, (position.y() - origin.y()) / s - 0.5};
}

void FluoroViewWidget::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), Qt::black);
    const auto image = m_model.image();
    if (!image)
        return;
    const QPointF topLeft = widgetFromPixel({-0.5, -0.5});
    const QRectF target(topLeft, QSizeF(image->columns * scale(), image->rows * scale()));
    painter.setRenderHint(QPainter::SmoothPixmapTransform, m_model.zoom() < 3.0);
    painter.drawImage(target, m_model.frameImage());
    painter.setRenderHint(QPainter::Antialiasing, true);
    paintOverlay(painter);

    // Measurement.
    const auto& points = m_model.measurePoints();
    painter.setPen(QPen(QColor(80, 220, 255), 1.5));
    for (const DetectorPixel& p : points)
        painter.drawEllipse(widgetFromPixel(p), 3.0, 3.0);
    if (points.size() == 2) {
        const QPointF a = widgetFromPixel(points[0]);
        const QPointF b = widgetFromPixel(points[1]);
        painter.drawLine(a, b);
        painter.drawText(b + QPointF(6, -6), m_model.measurementText());
    }
    // Angle: two arms from the vertex (the second click).
    const auto& angle = m_model.anglePoints();
    for (const DetectorPixel& p : angle)
        painter.drawEllipse(widgetFromPixel(p), 3.0, 3.0);
    for (std::size_t i = 1; i < angle.size(); ++i)
        painter.drawLine(widgetFromPixel(angle[i == 1 ? 0 : 2]), widgetFromPixel(angle[1]));
    if (angle.size() == 3)
        painter.drawText(widgetFromPixel(angle[1]) + QPointF(8, 14), m_model.angleText());
    paintPointMarks(painter);
    // Needle-tip mark (on the frame it was made on).
    if (m_model.tipMark() && m_model.tipFrame() == m_model.frameIndex()) {
        const QPointF p = widgetFromPixel(*m_model.tipMark());
        painter.setPen(QPen(QColor(255, 120, 255), 2.0));
        painter.drawLine(p + QPointF(-8, -8), p + QPointF(8, 8));
        painter.drawLine(p + QPointF(-8, 8), p + QPointF(8, -8));
    }
    // Corner text.
    painter.setPen(Qt::white);
    QFont font = painter.font();
    font.setPointSizeF(9.0);
    painter.setFont(font);
    int y = 16;
    for (const QString& line : m_model.cornerText()) {
        painter.drawText(QPointF(8, y), line);
        y += 15;
    }
}

void FluoroViewWidget::paintPointMarks(QPainter& painter)
{
    // The point to triangulate (on its frame), and the epipolar line of the other view's point.
    if (m_model.pointMark() && m_model.pointFrame() == m_model.frameIndex()) {
        const QPointF p = widgetFromPixel(*m_model.pointMark());
        painter.setPen(QPen(QColor(255, 170, 40), 2.0));
        painter.drawEllipse(p, 7.0, 7.0);
        painter.drawPoint(p);
    }
    const auto& line = m_model.epipolarLine();
    const auto image = m_model.image();
    if (!line || !image)
        return;
    // Clip a·c + b·r + c0 = 0 to the image rectangle (pixel edges).
    const double c0 = -0.5, c1 = image->columns - 0.5, r0 = -0.5, r1 = image->rows - 0.5;
    std::vector<DetectorPixel> ends;
    if (std::fabs(line->b) > 1e-12)
        for (const double c : {c0, c1}) {
            const double r = -(line->a * c + line->c) / line->b;
            if (r >= r0 && r <= r1)
                ends.push_back({c, r});
        }
    if (std::fabs(line->a) > 1e-12)
        for (const double r : {r0, r1}) {
            const double c = -(line->b * r + line->c) / line->a;
            if (c > c0 && c < c1)
                ends.push_back({c, r});
        }
    if (ends.size() < 2)
        return;
    painter.setPen(QPen(QColor(255, 170, 40), 1.5, Qt::DashLine));
    painter.drawLine(widgetFromPixel(ends[0]), widgetFromPixel(ends[1]));
}

void FluoroViewWidget::paintOverlay(QPainter& painter)
{
    const auto& registration = m_model.registration();
    if (!registration)
        return;
    if (!registration->result.registered) {
        painter.setPen(QColor(255, 90, 90));
        painter.drawText(QRectF(8, height() - 40, width() - 16, 32), Qt::AlignLeft | Qt::TextWordWrap,
                         tr("Not registered: the plan is not drawn on this image."));
        return;
    }
    if (!m_model.overlayVisible())
        return;
    const auto projection = m_model.projectionForFrame(m_model.frameIndex());
    if (!projection) {
        painter.setPen(QColor(255, 200, 80));
        painter.drawText(QPointF(8, height() - 12),
                         tr("This frame's geometry is unknown: the plan is not drawn."));
        return;
    }
    const auto line = [&](const PixelSegment& segment) {
        painter.drawLine(widgetFromPixel(segment.from), widgetFromPixel(segment.to));
    };
    // Structure outlines: the silhouette of each chosen structure's boundary points.
    const auto image = m_model.image();
    for (std::size_t s = 0; s < m_model.structurePoints().size(); ++s) {
        QColor color =
            s < m_model.structureColors().size() ? m_model.structureColors()[s] : QColor(Qt::green);
        painter.setPen(QPen(color, 1.0));
        for (const PixelSegment& segment :
             silhouetteOutline(*projection, m_model.structurePoints()[s], image->columns, image->rows))
            line(segment);
    }
    for (std::size_t i = 0; i < m_model.paths().size(); ++i) {
        const bool active = static_cast<int>(i) == m_model.activePath();
        const ProjectedPath path =
            projectPath(*projection, m_model.paths()[i], 10.0, 10.0 / std::max(0.2, scale()));
        const QColor needle = active ? QColor(255, 220, 60) : QColor(200, 200, 120);
        painter.setPen(QPen(needle, active ? 1.5 : 1.0));
        line(path.edges[0]);
        line(path.edges[1]);
        painter.setPen(QPen(needle, 1.0, Qt::DashLine));
        line(path.axis);
        painter.setPen(QPen(needle, 1.0));
        for (std::size_t t = 0; t < path.depthTicks.size(); ++t) {
            line(path.depthTicks[t]);
            if (active && static_cast<int>(std::lround(path.tickDepthsMm[t])) % 20 == 0)
                painter.drawText(widgetFromPixel(path.depthTicks[t].to) + QPointF(3, 0),
                                 QString::number(std::lround(path.tickDepthsMm[t])));
        }
        painter.setPen(QPen(QColor(90, 255, 120), 1.5));
        painter.drawEllipse(widgetFromPixel(path.entry), 5.0, 5.0);
    }
    painter.setPen(QPen(QColor(255, 70, 70), 2.0));
    for (const Vec3& target : m_model.plannedTargets()) {
        const QPointF p = widgetFromPixel(projection->project(target));
        painter.drawEllipse(p, 6.0, 6.0);
        painter.drawLine(p + QPointF(-10, 0), p + QPointF(-4, 0));
        painter.drawLine(p + QPointF(4, 0), p + QPointF(10, 0));
        painter.drawLine(p + QPointF(0, -10), p + QPointF(0, -4));
        painter.drawLine(p + QPointF(0, 4), p + QPointF(0, 10));
    }
}

void FluoroViewWidget::mousePressEvent(QMouseEvent* event)
{
    setFocus();
    m_dragButton = event->button();
    m_pressPosition = m_lastPosition = event->position();
    m_dragged = false;
}

void FluoroViewWidget::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF delta = event->position() - m_lastPosition;
    m_lastPosition = event->position();
    if ((event->position() - m_pressPosition).manhattanLength() > 4)
        m_dragged = true;
    if (m_dragButton == Qt::RightButton) {
        m_model.setWindowLevel(m_model.window() + delta.x(), m_model.level() - delta.y());
    } else if (m_dragButton == Qt::MiddleButton ||
               (m_dragButton == Qt::LeftButton && m_model.tool() == FluoroTool::Navigate)) {
        m_model.setPan(m_model.pan() + delta);
    }
}

void FluoroViewWidget::mouseReleaseEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton && !m_dragged && m_model.tool() != FluoroTool::Navigate)
        m_model.clickPixel(pixelFromWidget(event->position()));
    m_dragButton = Qt::NoButton;
}

void FluoroViewWidget::wheelEvent(QWheelEvent* event)
{
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0.0)
        return;
    // Zoom about the pixel under the mouse.
    const DetectorPixel under = pixelFromWidget(event->position());
    m_model.setZoom(m_model.zoom() * std::pow(1.2, steps));
    const QPointF moved = widgetFromPixel(under);
    m_model.setPan(m_model.pan() + (event->position() - moved));
    event->accept();
}

void FluoroViewWidget::keyPressEvent(QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Space:
        m_model.playing() ? m_model.pause() : m_model.play();
        break;
    case Qt::Key_Left:
        m_model.step(-1);
        break;
    case Qt::Key_Right:
        m_model.step(1);
        break;
    case Qt::Key_I:
        m_model.setInverted(!m_model.inverted());
        break;
    default:
        QWidget::keyPressEvent(event);
        return;
    }
    event->accept();
}

} // namespace np::gui
