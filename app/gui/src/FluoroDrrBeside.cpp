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
    m_renderTask = new BackgroundTask(this);
    connect(&m_fluoro, &FluoroModel::frameChanged, this, &FluoroDrrBesideModel::invalidate);
    connect(&m_fluoro, &FluoroModel::registrationFinished, this, &FluoroDrrBesideModel::invalidate);
    // The registration cleared, or the plan or its visibility changed.
    connect(&m_fluoro, &FluoroModel::overlayChanged, this, &FluoroDrrBesideModel::invalidate);
    connect(&m_fluoro, &FluoroModel::displayChanged, this, &FluoroDrrBesideModel::invalidate); // invert
}

FluoroDrrBesideModel::~FluoroDrrBesideModel()
{
    m_enabled = false; // no new render from a paint while the running one winds down
    m_renderTask->cancel();
    m_renderTask->waitForIdle();
}

void FluoroDrrBesideModel::invalidate()
{
    m_dirty = true;
    ++m_generation;
    emit changed();
}

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
            invalidate();
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
    if (m_dirty && !m_rendering)
        startRender();
    return m_image;
}

void FluoroDrrBesideModel::startRender()
{
    m_dirty = false;
    const int frame = m_fluoro.frameIndex();
    const unsigned generation = m_generation;
    const auto header = headerView(frame);
    if (!header) {
        m_image = QImage();
        m_imageProjection.reset();
        m_renderedFrame = frame;
        emit changed();
        return;
    }
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
    std::optional<imaging::RigidTransform> viewFromCt;
    if (m_fluoro.registered())
        viewFromCt = m_fluoro.registration()->result.viewFromCt;
    const imaging::ProjectionMatrix projection =
        viewFromCt ? composeProjection(view.projectionMatrix(), *viewFromCt) : view.projectionMatrix();
    imaging::DrrDisplayOptions display;
    display.invert = m_fluoro.inverted();
    const auto attenuation = m_attenuation;
    auto rendered = std::make_shared<QImage>();
    m_rendering = true;
    m_renderTask->start(
        tr("Rendering the DRR beside the fluoroscopy"),
        [attenuation, view, viewFromCt, display, rendered](ProgressSink& sink) {
            const imaging::DrrImage drr = viewFromCt
                                              ? imaging::renderDrr(*attenuation, view, *viewFromCt, {}, &sink)
                                              : imaging::renderDrr(*attenuation, view, {}, &sink);
            const std::vector<std::uint8_t> pixels = imaging::drrDisplayImage(drr, display);
            QImage image(drr.columns, drr.rows, QImage::Format_Grayscale8);
            for (int r = 0; r < drr.rows; ++r)
                std::copy_n(pixels.data() + static_cast<std::size_t>(r) * drr.columns, drr.columns,
                            image.scanLine(r));
            *rendered = image;
        },
        [this, generation, frame, projection, rendered] {
            m_rendering = false;
            if (generation != m_generation) {
                // The frame, pose, CT or display changed meanwhile: this DRR shows another view.
                ++m_staleResults;
                m_dirty = true;
                emit changed();
                return;
            }
            m_image = *rendered;
            m_imageProjection = projection;
            m_renderedFrame = frame;
            emit changed();
        },
        [this](ErrorCode, const QString&) {
            m_rendering = false;
            m_dirty = true;
            emit changed();
        });
}

const std::vector<PlannedPath>& FluoroDrrBesideModel::plannedPaths() const
{
    static const std::vector<PlannedPath> none;
    return m_fluoro.overlayVisible() ? m_fluoro.plannedPaths() : none;
}

const std::vector<Vec3>& FluoroDrrBesideModel::plannedTargets() const
{
    static const std::vector<Vec3> none;
    return m_fluoro.overlayVisible() ? m_fluoro.plannedTargets() : none;
}

int FluoroDrrBesideModel::activePath() const
{
    return m_fluoro.activePath();
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
    const auto projection = m_model.imageProjection();
    if (!image.isNull() && projection) {
        const double scale = std::min(width() / double(image.width()), height() / double(image.height()));
        const QPointF topLeft(0.5 * (width() - image.width() * scale),
                              0.5 * (height() - image.height() * scale));
        // Pixel (column, row) is the centre of its square on the screen.
        const auto at = [&](const imaging::DetectorPixel& p) {
            return topLeft + QPointF((p.column + 0.5) * scale, (p.row + 0.5) * scale);
        };
        const auto line = [&](const PixelSegment& segment) {
            painter.drawLine(at(segment.from), at(segment.to));
        };
        painter.setRenderHint(QPainter::Antialiasing, false);
        const auto& paths = m_model.plannedPaths();
        for (std::size_t i = 0; i < paths.size(); ++i) {
            const ProjectedPath path = projectPath(*projection, paths[i], 10.0, 8.0 / scale);
            const QColor needle =
                static_cast<int>(i) == m_model.activePath() ? QColor(255, 220, 60) : QColor(200, 200, 120);
            painter.setPen(QPen(needle, 1.0));
            line(path.edges[0]);
            line(path.edges[1]);
            for (const PixelSegment& tick : path.depthTicks)
                line(tick);
            painter.setPen(QPen(QColor(90, 255, 120), 1.0));
            painter.drawEllipse(at(path.entry), 5.0, 5.0);
        }
        painter.setPen(QPen(QColor(255, 70, 70), 1.0));
        for (const Vec3& target : m_model.plannedTargets())
            painter.drawEllipse(at(projection->project(target)), 6.0, 6.0);
    }
    painter.setPen(Qt::white);
    QString caption = m_model.caption();
    if (m_model.rendering())
        caption += tr(" (rendering…)");
    painter.drawText(QRectF(8, 4, width() - 16, 48), Qt::AlignLeft | Qt::TextWordWrap, caption);
}

} // namespace np::gui
