#include "needleplan/gui/FluoroModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Triangulation.h"
#include "needleplan/imaging/Volume.h"

#include <QFileInfo>
#include <QTimer>
#include <algorithm>
#include <cmath>

namespace np::gui {

using imaging::DetectorPixel;

FluoroModel::FluoroModel(QObject* parent) : QObject(parent), m_timer(new QTimer(this))
{
    m_timer->setTimerType(Qt::PreciseTimer);
    connect(m_timer, &QTimer::timeout, this, [this] {
        if (!m_loop && m_frame + 1 >= frameCount()) {
            pause();
            return;
        }
        step(1);
    });
}

FluoroModel::~FluoroModel() = default;

void FluoroModel::setImage(std::shared_ptr<const imaging::ProjectionImage> image)
{
    pause();
    m_image = std::move(image);
    m_assumed.clear();
    m_frame = 0;
    m_measure.clear();
    m_angle.clear();
    m_tip.reset();
    m_point.reset();
    m_epipolar.reset();
    m_registration.reset();
    m_invert = false;
    m_zoom = 1.0;
    m_pan = {};
    autoWindow();
    emit frameChanged(0);
    emit overlayChanged();
    emit tipChanged();
    emit measurementChanged();
}

void FluoroModel::setCompletedGeometry(std::shared_ptr<const imaging::ProjectionImage> image,
                                       QStringList assumed)
{
    if (!image)
        return;
    m_image = std::move(image);
    m_assumed = std::move(assumed);
    m_registration.reset();
    emit displayChanged();
    emit overlayChanged();
}

QString FluoroModel::title() const
{
    if (!m_image)
        return tr("Fluoroscopy");
    const QString name = QFileInfo(QString::fromStdString(m_image->sourcePath)).fileName();
    return QStringLiteral("%1 %2").arg(QString::fromStdString(m_image->modality), name);
}

int FluoroModel::frameCount() const
{
    return m_image ? m_image->frameCount : 0;
}

void FluoroModel::setFrame(int index)
{
    if (!m_image || index < 0 || index >= frameCount() || index == m_frame)
        return;
    m_frame = index;
    emit frameChanged(index);
}

void FluoroModel::step(int delta)
{
    const int count = frameCount();
    if (count <= 0)
        return;
    int next = m_frame + delta;
    next = m_loop ? ((next % count) + count) % count : std::clamp(next, 0, count - 1);
    setFrame(next);
}

int FluoroModel::frameIntervalMs() const
{
    const double ms = m_image && m_image->frameTimeMs > 0.0 ? m_image->frameTimeMs : 100.0;
    return std::max(1, static_cast<int>(std::lround(ms)));
}

void FluoroModel::play()
{
    if (frameCount() < 2 || m_timer->isActive())
        return;
    m_timer->start(frameIntervalMs());
    emit playingChanged(true);
}

void FluoroModel::pause()
{
    if (!m_timer->isActive())
        return;
    m_timer->stop();
    emit playingChanged(false);
}

bool FluoroModel::playing() const
{
    return m_timer->isActive();
}

void FluoroModel::setWindowLevel(double window, double level)
{
    m_window = std::max(1.0, window);
    m_level = level;
    emit displayChanged();
}

void FluoroModel::autoWindow()
{
    if (!m_image || m_image->pixels.empty()) {
        setWindowLevel(255.0, 127.5);
        return;
    }
    const std::size_t count = static_cast<std::size_t>(m_image->rows) * m_image->columns;
    const float* frame = m_image->frame(m_frame);
    std::vector<float> sample;
    const std::size_t stride = std::max<std::size_t>(1, count / 65536);
    for (std::size_t i = 0; i < count; i += stride)
        sample.push_back(frame[i]);
    const auto at = [&](double q) {
        auto it = sample.begin() + static_cast<std::ptrdiff_t>(q * (sample.size() - 1));
        std::nth_element(sample.begin(), it, sample.end());
        return static_cast<double>(*it);
    };
    const double low = at(0.01);
    const double high = at(0.99);
    setWindowLevel(std::max(1.0, high - low), 0.5 * (low + high));
}

void FluoroModel::setInverted(bool invert)
{
    m_invert = invert;
    emit displayChanged();
}

QImage FluoroModel::frameImage() const
{
    if (!m_image || m_image->pixels.empty())
        return {};
    QImage image(m_image->columns, m_image->rows, QImage::Format_Grayscale8);
    const float* frame = m_image->frame(m_frame);
    const double low = m_level - 0.5 * m_window;
    const double scale = 255.0 / m_window;
    for (int r = 0; r < m_image->rows; ++r) {
        uchar* line = image.scanLine(r);
        const float* values = frame + static_cast<std::size_t>(r) * m_image->columns;
        for (int c = 0; c < m_image->columns; ++c) {
            const int v = static_cast<int>(std::clamp((values[c] - low) * scale, 0.0, 255.0) + 0.5);
            line[c] = static_cast<uchar>(m_invert ? 255 - v : v);
        }
    }
    return image;
}

void FluoroModel::setZoom(double zoom)
{
    m_zoom = std::clamp(zoom, 0.1, 20.0);
    emit displayChanged();
}

void FluoroModel::setPan(const QPointF& panPx)
{
    m_pan = panPx;
    emit displayChanged();
}

QStringList FluoroModel::cornerText() const
{
    QStringList lines;
    if (!m_image)
        return lines;
    lines << tr("%1  frame %2/%3  %4")
                 .arg(QString::fromStdString(m_image->modality))
                 .arg(m_frame + 1)
                 .arg(frameCount())
                 .arg(m_image->frameTimeMs > 0.0 ? tr("%1 ms/frame").arg(m_image->frameTimeMs, 0, 'f', 1)
                                                 : tr("no frame time (cine at 10/s)"));
    const imaging::ProjectionGeometry& g = m_image->geometry;
    const imaging::ProjectionFrameGeometry* f =
        m_frame < static_cast<int>(g.frames.size()) ? &g.frames[static_cast<std::size_t>(m_frame)] : nullptr;
    if (f && f->primaryDeg && f->secondaryDeg)
        lines << tr("%1 %2°  %3 %4°")
                     .arg(*f->primaryDeg >= 0.0 ? "LAO" : "RAO")
                     .arg(std::fabs(*f->primaryDeg), 0, 'f', 1)
                     .arg(*f->secondaryDeg >= 0.0 ? "CRA" : "CAU")
                     .arg(std::fabs(*f->secondaryDeg), 0, 'f', 1);
    else
        lines << tr("angles unknown");
    const auto mm = [](const std::optional<double>& v) {
        return v ? QStringLiteral("%1 mm").arg(*v, 0, 'f', 0) : QStringLiteral("?");
    };
    lines << tr("SID %1  SOD %2")
                 .arg(mm(f && f->sourceToDetectorMm ? f->sourceToDetectorMm : g.sourceToDetectorMm),
                      mm(f && f->sourceToIsocenterMm ? f->sourceToIsocenterMm : g.sourceToIsocenterMm));
    QString confidence = tr("geometry: %1").arg(imaging::toString(g.confidence));
    if (!g.missing.empty()) {
        QStringList missing;
        for (const std::string& m : g.missing)
            missing << QString::fromStdString(m);
        confidence += tr(" (missing %1)").arg(missing.join(", "));
    }
    lines << confidence;
    if (!m_assumed.isEmpty())
        lines << tr("user-given: %1").arg(m_assumed.join("; "));
    lines << tr("W %1  L %2%3")
                 .arg(m_window, 0, 'f', 0)
                 .arg(m_level, 0, 'f', 0)
                 .arg(m_invert ? tr("  inverted") : QString());
    if (m_registering)
        lines << tr("registering to the CT…");
    else if (m_registration)
        lines << (m_registration->result.registered
                      ? tr("registered to the CT (similarity %1)")
                            .arg(m_registration->result.similarity, 0, 'f', 2)
                      : tr("NOT registered: %1 The plan is not drawn.")
                            .arg(QString::fromStdString(m_registration->result.reason)));
    return lines;
}

void FluoroModel::setTool(FluoroTool tool)
{
    m_tool = tool;
}

void FluoroModel::clickPixel(const DetectorPixel& pixel)
{
    if (m_tool == FluoroTool::Measure) {
        if (m_measure.size() >= 2)
            m_measure.clear();
        m_measure.push_back(pixel);
        emit measurementChanged();
    } else if (m_tool == FluoroTool::NeedleTip) {
        m_tip = pixel;
        m_tipFrame = m_frame;
        emit tipChanged();
    } else if (m_tool == FluoroTool::Angle) {
        if (m_angle.size() >= 3)
            m_angle.clear();
        m_angle.push_back(pixel);
        emit measurementChanged();
    } else if (m_tool == FluoroTool::Point) {
        m_point = pixel;
        m_pointFrame = m_frame;
        emit pointChanged();
    }
}

void FluoroModel::clearPointMark()
{
    m_point.reset();
    emit pointChanged();
}

void FluoroModel::setEpipolarLine(std::optional<imaging::ImageLine> line)
{
    m_epipolar = line;
    emit overlayChanged();
}

std::optional<double> FluoroModel::angleDeg() const
{
    if (m_angle.size() < 3 || !m_image)
        return std::nullopt;
    // Column and row steps in mm at the isocentre (1 and 1 without a calibration).
    double columnMm = 1.0, rowMm = 1.0;
    if (const auto& spacing = m_image->geometry.isocenterPixelSpacingMm) {
        rowMm = (*spacing)[0];
        columnMm = (*spacing)[1];
    }
    const DetectorPixel& vertex = m_angle[1];
    const double ax = (m_angle[0].column - vertex.column) * columnMm,
                 ay = (m_angle[0].row - vertex.row) * rowMm;
    const double bx = (m_angle[2].column - vertex.column) * columnMm,
                 by = (m_angle[2].row - vertex.row) * rowMm;
    if (std::hypot(ax, ay) <= 0.0 || std::hypot(bx, by) <= 0.0)
        return std::nullopt; // an arm of zero length
    return std::fabs(std::atan2(ax * by - ay * bx, ax * bx + ay * by)) * 180.0 / 3.14159265358979323846;
}

QString FluoroModel::angleText() const
{
    const auto degrees = angleDeg();
    if (!degrees)
        return {};
    if (m_image->geometry.isocenterPixelSpacingMm)
        return tr("%1° in the isocentre plane (%2)")
            .arg(*degrees, 0, 'f', 1)
            .arg(QString::fromStdString(m_image->geometry.isocenterPixelSpacingSource));
    return tr("%1° (between pixel vectors: no calibration)").arg(*degrees, 0, 'f', 1);
}

std::optional<double> FluoroModel::distanceMm(const DetectorPixel& a, const DetectorPixel& b) const
{
    if (!m_image || !m_image->geometry.isocenterPixelSpacingMm)
        return std::nullopt;
    const auto& spacing = *m_image->geometry.isocenterPixelSpacingMm; // [0] between rows, [1] between columns
    return std::hypot((b.column - a.column) * spacing[1], (b.row - a.row) * spacing[0]);
}

QString FluoroModel::measurementText() const
{
    if (m_measure.size() < 2)
        return {};
    const DetectorPixel& a = m_measure[0];
    const DetectorPixel& b = m_measure[1];
    if (const auto mm = distanceMm(a, b))
        return tr("%1 mm at the isocentre (%2)")
            .arg(*mm, 0, 'f', 1)
            .arg(QString::fromStdString(m_image->geometry.isocenterPixelSpacingSource));
    return tr("%1 px (no calibration: no pixel spacing at the isocentre)")
        .arg(std::hypot(b.column - a.column, b.row - a.row), 0, 'f', 1);
}

bool FluoroModel::registerToCt(std::shared_ptr<const imaging::Volume> ct, const Vec3& isocenterLps,
                               BackgroundTask& task, QString* error,
                               const imaging::FluoroRegistrationOptions& options)
{
    auto fail = [error](const QString& text) {
        if (error)
            *error = text;
        return false;
    };
    if (!m_image || m_image->pixels.empty())
        return fail(tr("No fluoroscopy image is open."));
    if (!ct)
        return fail(tr("Open the CT first: the image is registered to it."));
    if (m_registering || task.busy())
        return fail(tr("Wait for the current task to finish, or cancel it."));
    std::optional<imaging::CArmGeometry> view;
    try {
        view.emplace(m_image->frameView(m_frame, isocenterLps));
    } catch (const Error& e) {
        return fail(tr("This image cannot be registered: its geometry is %1. %2")
                        .arg(imaging::toString(m_image->geometry.confidence), QString::fromUtf8(e.what())));
    }
    auto frame = std::make_shared<imaging::FluoroFrame>();
    frame->columns = m_image->columns;
    frame->rows = m_image->rows;
    const float* pixels = m_image->frame(m_frame);
    frame->pixels.assign(pixels, pixels + static_cast<std::size_t>(frame->rows) * frame->columns);
    if (m_attenuationSource != ct.get())
        m_attenuation.reset();
    auto attenuation = m_attenuation;
    auto result = std::make_shared<imaging::FluoroRegistrationResult>();
    auto built = std::make_shared<std::shared_ptr<imaging::AttenuationVolume>>();
    const int frameIndex = m_frame;
    m_registering = true;
    m_registration.reset();
    emit registrationStarted();
    emit overlayChanged();
    task.start(
        tr("Registering to the CT"),
        [ct, attenuation, built, frame, view, options, result](ProgressSink& sink) {
            std::shared_ptr<imaging::AttenuationVolume> volume = attenuation;
            if (!volume)
                volume =
                    std::make_shared<imaging::AttenuationVolume>(*ct, imaging::AttenuationOptions{}, &sink);
            *built = volume;
            *result = imaging::registerFluoroscopy(*volume, *frame, *view, options, {}, &sink);
        },
        [this, ct, built, result, isocenterLps, frameIndex] {
            m_registering = false;
            m_attenuation = *built;
            m_attenuationSource = ct.get();
            m_registration = FluoroRegistrationState{*result, isocenterLps, frameIndex};
            emit registrationFinished(result->registered, QString::fromStdString(result->reason));
            emit overlayChanged();
            emit tipChanged();
        },
        [this](ErrorCode, const QString& message) {
            m_registering = false;
            emit registrationFinished(false, message);
            emit overlayChanged();
        });
    return true;
}

std::optional<imaging::ProjectionMatrix> FluoroModel::projectionForFrame(int index) const
{
    if (!registered() || !m_image)
        return std::nullopt;
    try {
        const imaging::CArmGeometry view = m_image->frameView(index, m_registration->isocenterLps);
        return composeProjection(view.projectionMatrix(), m_registration->result.viewFromCt);
    } catch (const Error&) {
        return std::nullopt; // this frame's geometry is not known
    }
}

void FluoroModel::clearRegistration()
{
    m_registration.reset();
    m_attenuation.reset();
    m_attenuationSource = nullptr;
    emit overlayChanged();
    emit tipChanged();
}

void FluoroModel::setPlan(std::vector<PlannedPath> paths, int activePath, std::vector<Vec3> targetsLps)
{
    m_paths = std::move(paths);
    m_activePath = activePath;
    m_targets = std::move(targetsLps);
    emit overlayChanged();
    emit tipChanged();
}

void FluoroModel::setStructureOutlines(std::vector<std::vector<Vec3>> pointsLps, std::vector<QColor> colors)
{
    m_structurePoints = std::move(pointsLps);
    m_structureColors = std::move(colors);
    emit overlayChanged();
}

void FluoroModel::setOverlayVisible(bool visible)
{
    m_overlay = visible;
    emit overlayChanged();
}

std::optional<TipRayReadout> FluoroModel::tipReadout() const
{
    if (!m_tip || m_activePath < 0 || m_activePath >= static_cast<int>(m_paths.size()))
        return std::nullopt;
    const auto projection = projectionForFrame(m_tipFrame);
    if (!projection)
        return std::nullopt;
    return tipRayReadout(imaging::rayThroughPixel(*projection, *m_tip),
                         m_paths[static_cast<std::size_t>(m_activePath)]);
}

} // namespace np::gui
