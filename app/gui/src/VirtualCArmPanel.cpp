#include "needleplan/gui/VirtualCArmPanel.h"

#include "needleplan/gui/DrrExport.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QPainter>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

namespace np::gui {

using imaging::DetectorPixel;

VirtualCArmView::VirtualCArmView(VirtualCArmModel& model, QWidget* parent) : QWidget(parent), m_model(model)
{
    setObjectName("virtualCArmView");
    setMinimumSize(320, 320);
    setFocusPolicy(Qt::StrongFocus);
    connect(&m_model, &VirtualCArmModel::changed, this, [this] { update(); });
    connect(&m_model, &VirtualCArmModel::readyChanged, this, [this] { update(); });
}

QPointF VirtualCArmView::widgetFromPixel(const DetectorPixel& pixel) const
{
    const int n = m_model.view().parameters().columns;
    const double side = std::min(width(), height());
    const double s = side / n;
    return {0.5 * (width() - side) + (pixel.column + 0.5) * s,
            0.5 * (height() - side) + (pixel.row + 0.5) * s};
}

void VirtualCArmView::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), Qt::black);
    if (!m_model.ready()) {
        painter.setPen(Qt::white);
        painter.drawText(rect(), Qt::AlignCenter, tr("Open a CT: the virtual C-arm renders it."));
        return;
    }
    const QImage image = m_model.image();
    const QPointF topLeft = widgetFromPixel({-0.5, -0.5});
    const double side = std::min(width(), height());
    painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
    painter.drawImage(QRectF(topLeft, QSizeF(side, side)), image);
    painter.setRenderHint(QPainter::Antialiasing, true);
    const imaging::ProjectionMatrix projection = m_model.view().projectionMatrix();
    const double pixelsPerWidget = image.width() / side;
    const auto line = [&](const PixelSegment& s) {
        painter.drawLine(widgetFromPixel(s.from), widgetFromPixel(s.to));
    };
    for (std::size_t i = 0; i < m_model.paths().size(); ++i) {
        const bool active = static_cast<int>(i) == m_model.activePath();
        const ProjectedPath path = projectPath(projection, m_model.paths()[i], 10.0, 10.0 * pixelsPerWidget);
        const QColor needle = active ? QColor(255, 220, 60) : QColor(200, 200, 120);
        painter.setPen(QPen(needle, 1.5));
        line(path.edges[0]);
        line(path.edges[1]);
        painter.setPen(QPen(needle, 1.0));
        for (const PixelSegment& tick : path.depthTicks)
            line(tick);
        painter.setPen(QPen(QColor(90, 255, 120), 1.5));
        painter.drawEllipse(widgetFromPixel(path.entry), 5.0, 5.0);
    }
    painter.setPen(QPen(QColor(255, 70, 70), 2.0));
    for (const Vec3& target : m_model.targets())
        painter.drawEllipse(widgetFromPixel(projection.project(target)), 6.0, 6.0);
    painter.setPen(Qt::white);
    painter.drawText(QRectF(8, 4, width() - 16, 40), Qt::AlignLeft | Qt::TextWordWrap, m_model.readout());
}

void VirtualCArmView::mousePressEvent(QMouseEvent* event)
{
    setFocus();
    m_last = event->position();
    m_dragging = event->button() == Qt::LeftButton;
}

void VirtualCArmView::mouseMoveEvent(QMouseEvent* event)
{
    if (!m_dragging)
        return;
    const QPointF delta = event->position() - m_last;
    m_last = event->position();
    m_model.setCoarse(true);
    m_model.setAngles(m_model.primaryDeg() + 0.5 * delta.x(), m_model.secondaryDeg() - 0.5 * delta.y());
}

void VirtualCArmView::mouseReleaseEvent(QMouseEvent*)
{
    m_dragging = false;
    m_model.setCoarse(false);
}

void VirtualCArmView::keyPressEvent(QKeyEvent* event)
{
    const double step = event->modifiers() & Qt::ShiftModifier ? 5.0 : 1.0;
    double p = m_model.primaryDeg(), s = m_model.secondaryDeg();
    switch (event->key()) {
    case Qt::Key_Left:
        p -= step;
        break;
    case Qt::Key_Right:
        p += step;
        break;
    case Qt::Key_Up:
        s += step;
        break;
    case Qt::Key_Down:
        s -= step;
        break;
    default:
        QWidget::keyPressEvent(event);
        return;
    }
    m_model.setAngles(p, s);
    event->accept();
}

VirtualCArmPanel::VirtualCArmPanel(QWidget* parent) : QWidget(parent), m_model(new VirtualCArmModel(this))
{
    setObjectName("virtualCArmPanel");
    m_view = new VirtualCArmView(*m_model, this);
    auto* bar = new QHBoxLayout;
    auto spin = [&](const QString& label, const char* name, double low, double high) {
        bar->addWidget(new QLabel(label, this));
        auto* box = new QDoubleSpinBox(this);
        box->setObjectName(name);
        box->setRange(low, high);
        box->setDecimals(1);
        box->setKeyboardTracking(false);
        bar->addWidget(box);
        return box;
    };
    m_primary = spin(tr("Primary (LAO +)"), "carmPrimary", -180.0, 180.0);
    m_secondary = spin(tr("Secondary (CRA +)"), "carmSecondary", -90.0, 90.0);
    auto* sid = spin(tr("SID"), "carmSid", 500.0, 1500.0);
    auto* sod = spin(tr("SOD"), "carmSod", 300.0, 1400.0);
    sid->setValue(m_model->sidMm());
    sod->setValue(m_model->sodMm());
    connect(m_primary, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { m_model->setAngles(v, m_model->secondaryDeg()); });
    connect(m_secondary, &QDoubleSpinBox::valueChanged, this,
            [this](double v) { m_model->setAngles(m_model->primaryDeg(), v); });
    connect(sid, &QDoubleSpinBox::valueChanged, this,
            [this, sod](double v) { m_model->setDistances(v, sod->value()); });
    connect(sod, &QDoubleSpinBox::valueChanged, this,
            [this, sid](double v) { m_model->setDistances(sid->value(), v); });
    using Preset = VirtualCArmModel::Preset;
    const std::pair<Preset, QString> presets[] = {{Preset::AP, tr("AP")},
                                                  {Preset::Lateral, tr("Lateral")},
                                                  {Preset::LeftOblique, tr("LAO 30")},
                                                  {Preset::RightOblique, tr("RAO 30")},
                                                  {Preset::BullsEye, tr("Bull's-eye")},
                                                  {Preset::Progression, tr("Progression")}};
    const char* names[] = {"carmAP",           "carmLateral",  "carmLeftOblique",
                           "carmRightOblique", "carmBullsEye", "carmProgression"};
    for (int i = 0; i < 6; ++i) {
        auto* b = new QToolButton(this);
        b->setText(presets[i].second);
        b->setObjectName(names[i]);
        connect(b, &QToolButton::clicked, this,
                [this, preset = presets[i].first] { m_model->applyPreset(preset); });
        bar->addWidget(b);
    }
    bar->addStretch(1);
    m_readout = new QLabel(this);
    m_readout->setObjectName("carmReadout");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_readout);
    m_export = new DrrExportBar(*m_model, this);
    layout->addWidget(m_export);
    connect(m_model, &VirtualCArmModel::changed, this, [this] {
        const QSignalBlocker a(m_primary), b(m_secondary);
        m_primary->setValue(m_model->primaryDeg());
        m_secondary->setValue(m_model->secondaryDeg());
        m_readout->setText(m_model->readout());
    });
}

QString VirtualCArmPanel::readoutText() const
{
    return m_readout->text();
}

} // namespace np::gui
