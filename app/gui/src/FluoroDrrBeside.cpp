#include "needleplan/gui/FluoroDrrBeside.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/FluoroModel.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Volume.h"

#include <QPainter>
#include <algorithm>
#include <cmath>

namespace np::gui {

namespace {
constexpr double kAssumedSidMm = 1000.0;
constexpr double kAssumedSodMm = 750.0;
constexpr double kAssumedDetectorMm = 300.0;
constexpr int kMostPixels = 512; ///< larger images get a DRR on a coarser grid of the same detector
} // namespace

FluoroDrrBesideModel::FluoroDrrBesideModel(FluoroModel& fluoro, QObject* parent)
    : QObject(parent), m_fluoro(fluoro)
{
    const auto invalidate = [this] {
        m_dirty = true;
        emit changed();
    };
    connect(&m_fluoro, &FluoroModel::frameChanged, this, invalidate);
    connect(&m_fluoro, &FluoroModel::registrationFinished, this, invalidate);
    connect(&m_fluoro, &FluoroModel::overlayChanged, this, invalidate); // registration cleared
    connect(&m_fluoro, &FluoroModel::displayChanged, this, invalidate); // invert
}

FluoroDrrBesideModel::~FluoroDrrBesideModel() = default;

void FluoroDrrBesideModel::setCt(std::shared_ptr<const imaging::Volume> ct, BackgroundTask* task,
                                 std::function<Vec3()> isocenterLps)
{
    if (ct != m_ct)
        m_attenuation.reset();
    m_ct = std::move(ct);
    m_task = task;
    m_isocenterLps = std::move(isocenterLps);
    m_dirty = true;
    if (m_enabled)
        ensureAttenuation();
    emit changed();
}

void FluoroDrrBesideModel::setEnabled(bool enabled)
{
    m_enabled = enabled;
    if (enabled)
        ensureAttenuation();
    emit changed();
}

void FluoroDrrBesideModel::ensureAttenuation()
{
    if (m_attenuation || m_building || !m_ct || !m_task)
        return;
    m_building = true;
    auto built = std::make_shared<std::shared_ptr<const imaging::AttenuationVolume>>();
    const auto volume = m_ct;
    m_task->start(
        tr("Preparing the DRR beside the fluoroscopy"),
        [volume, built](ProgressSink& sink) {
            *built =
                std::make_shared<imaging::AttenuationVolume>(*volume, imaging::AttenuationOptions{}, &sink);
        },
        [this, volume, built] {
            m_building = false;
            if (volume != m_ct)
                return ensureAttenuation(); // another CT meanwhile
            m_attenuation = *built;
            m_dirty = true;
            emit changed();
        },
        [this](ErrorCode, const QString&) { m_building = false; });
}

std::optional<imaging::CArmGeometry> FluoroDrrBesideModel::headerView(int index) const
{
    const auto image = m_fluoro.image();
    if (!image || index < 0 || index >= image->frameCount)
        return std::nullopt;
    const auto& registration = m_fluoro.registration();
    const Vec3 isocenter =
        m_fluoro.registered() ? registration->isocenterLps : (m_isocenterLps ? m_isocenterLps() : Vec3{});
    const imaging::ProjectionGeometry& g = image->geometry;
    if (g.confidence == imaging::GeometryConfidence::Full) {
        try {
            return image->frameView(index, isocenter);
        } catch (const Error&) {
            return std::nullopt;
        }
    }
    if (index >= static_cast<int>(g.frames.size()))
        return std::nullopt;
    const imaging::ProjectionFrameGeometry& f = g.frames[static_cast<std::size_t>(index)];
    if (!f.primaryDeg || !f.secondaryDeg)
        return std::nullopt;
    imaging::CArmParameters p;
    p.primaryDeg = *f.primaryDeg;
    p.secondaryDeg = *f.secondaryDeg;
    p.sourceToDetectorMm = f.sourceToDetectorMm.value_or(g.sourceToDetectorMm.value_or(kAssumedSidMm));
    p.sourceToIsocenterMm = f.sourceToIsocenterMm.value_or(g.sourceToIsocenterMm.value_or(kAssumedSodMm));
    if (!(p.sourceToDetectorMm > p.sourceToIsocenterMm)) {
        p.sourceToDetectorMm = kAssumedSidMm;
        p.sourceToIsocenterMm = kAssumedSodMm;
    }
    p.columns = image->columns;
    p.rows = image->rows;
    const double assumedPitch = kAssumedDetectorMm / std::max(image->columns, image->rows);
    p.rowSpacingMm = g.detectorPixelSpacingMm ? (*g.detectorPixelSpacingMm)[0] : assumedPitch;
    p.columnSpacingMm = g.detectorPixelSpacingMm ? (*g.detectorPixelSpacingMm)[1] : assumedPitch;
    p.imageRotationDeg = g.fieldOfViewRotationDeg;
    p.horizontalFlip = g.horizontalFlip;
    if (!g.patientPosition.empty())
        p.patientPosition = g.patientPosition;
    p.isocenterLps = isocenter;
    try {
        return imaging::CArmGeometry(p);
    } catch (const Error&) {
        return std::nullopt;
    }
}

QImage FluoroDrrBesideModel::image()
{
    if (!m_enabled || !m_attenuation)
        return {};
    if (!m_dirty && m_renderedFrame == m_fluoro.frameIndex())
        return m_image;
    m_dirty = false;
    m_renderedFrame = m_fluoro.frameIndex();
    m_image = QImage();
    const auto header = headerView(m_renderedFrame);
    if (!header)
        return m_image;
    // Large detectors: the same detector on a grid of at most kMostPixels.
    imaging::CArmParameters p = header->parameters();
    const int step = (std::max(p.columns, p.rows) + kMostPixels - 1) / kMostPixels;
    if (step > 1) {
        p.columnSpacingMm *= double(p.columns) / (p.columns / step);
        p.rowSpacingMm *= double(p.rows) / (p.rows / step);
        p.columns /= step;
        p.rows /= step;
    }
    const imaging::CArmGeometry view(p);
    const imaging::DrrImage drr =
        m_fluoro.registered()
            ? imaging::renderDrr(*m_attenuation, view, m_fluoro.registration()->result.viewFromCt)
            : imaging::renderDrr(*m_attenuation, view);
    imaging::DrrDisplayOptions display;
    display.invert = m_fluoro.inverted();
    const std::vector<std::uint8_t> pixels = imaging::drrDisplayImage(drr, display);
    QImage image(drr.columns, drr.rows, QImage::Format_Grayscale8);
    for (int r = 0; r < drr.rows; ++r)
        std::copy_n(pixels.data() + static_cast<std::size_t>(r) * drr.columns, drr.columns,
                    image.scanLine(r));
    m_image = image;
    return m_image;
}

QString FluoroDrrBesideModel::caption() const
{
    if (!m_ct)
        return tr("Open a CT: its DRR is shown beside the image.");
    if (!m_attenuation)
        return tr("Preparing the CT for the DRR…");
    const auto header = headerView(m_fluoro.frameIndex());
    if (!header)
        return tr("No DRR: this frame has no positioner angles.");
    const imaging::CArmParameters& p = header->parameters();
    QString text = tr("DRR of the CT at %1 %2°  %3 %4°  SID %5 mm  SOD %6 mm")
                       .arg(p.primaryDeg >= 0.0 ? "LAO" : "RAO")
                       .arg(std::fabs(p.primaryDeg), 0, 'f', 1)
                       .arg(p.secondaryDeg >= 0.0 ? "CRA" : "CAU")
                       .arg(std::fabs(p.secondaryDeg), 0, 'f', 1)
                       .arg(p.sourceToDetectorMm, 0, 'f', 0)
                       .arg(p.sourceToIsocenterMm, 0, 'f', 0);
    const auto image = m_fluoro.image();
    if (image->geometry.confidence != imaging::GeometryConfidence::Full)
        text += tr(" (distances or pitch not in the header: %1 / %2 mm and a %3 mm detector assumed)")
                    .arg(kAssumedSidMm, 0, 'f', 0)
                    .arg(kAssumedSodMm, 0, 'f', 0)
                    .arg(kAssumedDetectorMm, 0, 'f', 0);
    text += m_fluoro.registered() ? tr("; registered pose")
                                  : tr("; header pose, isocentre at the target (not registered)");
    return text;
}

FluoroDrrBesideView::FluoroDrrBesideView(FluoroDrrBesideModel& model, QWidget* parent)
    : QWidget(parent), m_model(model)
{
    setObjectName("fluoroDrrBesideView");
    setMinimumSize(240, 240);
    connect(&m_model, &FluoroDrrBesideModel::changed, this, [this] { update(); });
}

void FluoroDrrBesideView::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    painter.fillRect(rect(), Qt::black);
    const QImage image = m_model.image();
    if (!image.isNull()) {
        const double scale = std::min(width() / double(image.width()), height() / double(image.height()));
        const QSizeF size(image.width() * scale, image.height() * scale);
        painter.setRenderHint(QPainter::SmoothPixmapTransform, true);
        painter.drawImage(
            QRectF(QPointF(0.5 * (width() - size.width()), 0.5 * (height() - size.height())), size), image);
    }
    painter.setPen(Qt::white);
    painter.drawText(QRectF(8, 4, width() - 16, 48), Qt::AlignLeft | Qt::TextWordWrap, m_model.caption());
}

} // namespace np::gui
