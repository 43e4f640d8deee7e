#include "needleplan/gui/DrrExport.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/VirtualCArmModel.h"
#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>

namespace np::gui {

namespace {
/// Maps one frame's progress into its share of the whole export and passes cancel through.
class FrameProgress : public ProgressSink
{
public:
    FrameProgress(ProgressSink* outer, std::size_t frame, std::size_t frames)
        : m_outer(outer), m_frame(frame), m_frames(frames)
    {
    }
    void report(double fraction, const std::string&) override
    {
        reportProgress(m_outer, (double(m_frame) + std::clamp(fraction, 0.0, 1.0)) / double(m_frames),
                       "rendering frame " + std::to_string(m_frame + 1) + " of " + std::to_string(m_frames));
    }
    bool cancelRequested() const override { return m_outer && m_outer->cancelRequested(); }

private:
    ProgressSink* m_outer;
    std::size_t m_frame;
    std::size_t m_frames;
};
} // namespace

imaging::CArmGeometry resampledView(const imaging::CArmGeometry& view, int pixels)
{
    if (pixels < 16 || pixels > 4096)
        throw Error(ErrorCode::InvalidArgument,
                    "DRR export: the detector size must be 16 to 4096 pixels (got " + std::to_string(pixels) +
                        ")");
    imaging::CArmParameters p = view.parameters();
    const double widthMm = p.columns * p.columnSpacingMm;
    const double heightMm = p.rows * p.rowSpacingMm;
    p.columns = p.rows = pixels;
    p.columnSpacingMm = widthMm / pixels;
    p.rowSpacingMm = heightMm / pixels;
    return imaging::CArmGeometry(p);
}

std::vector<imaging::CArmGeometry> sweepViews(const imaging::CArmGeometry& view, double fromDeg, double toDeg,
                                              int count)
{
    if (count < 2 || count > 720)
        throw Error(ErrorCode::InvalidArgument,
                    "DRR sweep: 2 to 720 frames (got " + std::to_string(count) + ")");
    if (!std::isfinite(fromDeg) || !std::isfinite(toDeg))
        throw Error(ErrorCode::InvalidArgument, "DRR sweep: the angles must be finite");
    std::vector<imaging::CArmGeometry> views;
    views.reserve(static_cast<std::size_t>(count));
    for (int f = 0; f < count; ++f) {
        imaging::CArmParameters p = view.parameters();
        const double primary = fromDeg + (toDeg - fromDeg) * f / (count - 1);
        p.primaryDeg = std::remainder(primary, 360.0);
        if (p.primaryDeg <= -180.0)
            p.primaryDeg += 360.0;
        views.emplace_back(p);
    }
    return views;
}

QImage drrWithPlan(const std::vector<std::uint8_t>& display, int columns, int rows,
                   const imaging::ProjectionMatrix& projection, const DrrPlanOverlay& overlay)
{
    if (columns < 1 || rows < 1 ||
        display.size() != static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows))
        throw Error(ErrorCode::InvalidArgument, "DRR export: the image size does not match its pixels");
    QImage image(columns, rows, QImage::Format_RGB32);
    for (int r = 0; r < rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(r));
        const std::uint8_t* grey = display.data() + static_cast<std::size_t>(r) * columns;
        for (int c = 0; c < columns; ++c)
            line[c] = qRgb(grey[c], grey[c], grey[c]);
    }
    if (overlay.empty())
        return image;
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing, false);
    // Pixel (column, row) is the centre of the painter's unit square at (column, row).
    const auto at = [](const imaging::DetectorPixel& p) { return QPointF(p.column + 0.5, p.row + 0.5); };
    const QColor entryColour(90, 255, 120), targetColour(255, 70, 70);
    const double tickLength = std::max(6.0, columns / 64.0);
    for (std::size_t i = 0; i < overlay.paths.size(); ++i) {
        const ProjectedPath path = projectPath(projection, overlay.paths[i], 10.0, tickLength);
        const QColor needle =
            static_cast<int>(i) == overlay.activePath ? QColor(255, 220, 60) : QColor(200, 200, 120);
        // The needle at its projected diameter (never thinner than a pixel).
        painter.setPen(QPen(needle, std::max(1.0, path.needleWidthPx), Qt::SolidLine, Qt::FlatCap));
        painter.drawLine(at(path.axis.from), at(path.axis.to));
        painter.setPen(QPen(needle, 1.0));
        for (const PixelSegment& tick : path.depthTicks)
            painter.drawLine(at(tick.from), at(tick.to));
        painter.setPen(Qt::NoPen);
        painter.setBrush(entryColour);
        painter.drawEllipse(at(path.entry), 3.0, 3.0);
        painter.setBrush(Qt::NoBrush);
    }
    painter.setPen(QPen(targetColour, 1.0));
    const double arm = std::max(6.0, columns / 64.0);
    for (const Vec3& targetLps : overlay.targetsLps) {
        const QPointF t = at(projection.project(targetLps));
        painter.drawLine(t - QPointF(arm, 0), t + QPointF(arm, 0));
        painter.drawLine(t - QPointF(0, arm), t + QPointF(0, arm));
        painter.drawEllipse(t, arm, arm);
        painter.setBrush(targetColour);
        painter.drawEllipse(t, 2.0, 2.0);
        painter.setBrush(Qt::NoBrush);
    }
    return image;
}

std::vector<std::string> exportDrr(const std::string& path, const imaging::AttenuationVolume& volume,
                                   const std::vector<imaging::CArmGeometry>& views,
                                   const imaging::XaWriteOptions& xa, ProgressSink* progress,
                                   const DrrPlanOverlay& overlay)
{
    const std::string extension = std::filesystem::path(path).extension().string();
    const bool png = extension == ".png" || extension == ".PNG";
    const bool dicom = extension == ".dcm" || extension == ".DCM";
    if (!png && !dicom)
        throw Error(ErrorCode::InvalidArgument, path + ": a DRR is exported as .png or .dcm (DICOM XA)");
    if (views.empty())
        throw Error(ErrorCode::InvalidArgument, path + ": no view to export");
    if (png && views.size() > 1)
        throw Error(ErrorCode::InvalidArgument, path + ": a sweep is exported as a multi-frame XA (.dcm)");
    std::vector<std::vector<std::uint8_t>> frames;
    frames.reserve(views.size());
    for (std::size_t f = 0; f < views.size(); ++f) {
        throwIfCancelled(progress);
        FrameProgress frameProgress(progress, f, views.size());
        frameProgress.report(0.0, {});
        const imaging::DrrImage drr = imaging::renderDrr(volume, views[f], {}, &frameProgress);
        frames.push_back(imaging::drrDisplayImage(drr));
    }
    throwIfCancelled(progress);
    reportProgress(progress, 1.0, "writing " + std::filesystem::path(path).filename().string());
    if (!png)
        return imaging::writeXaImage(path, views, frames, xa);
    const auto& p = views.front().parameters();
    const QImage picture =
        drrWithPlan(frames.front(), p.columns, p.rows, views.front().projectionMatrix(), overlay);
    imaging::replaceFileAtomically(path, [&](const std::string& temporary) {
        if (!picture.save(QString::fromStdString(temporary), "PNG"))
            throw Error(ErrorCode::Io, path + ": cannot write the PNG");
    });
    return {};
}

DrrExportDialog::DrrExportDialog(double currentPrimaryDeg, QWidget* parent) : QDialog(parent)
{
    setObjectName("drrExportDialog");
    setWindowTitle(tr("Export DRR"));
    auto* form = new QFormLayout(this);
    m_format = new QComboBox(this);
    m_format->setObjectName("drrExportFormat");
    m_format->addItems({tr("DICOM XA (full geometry)"), tr("DICOM Enhanced XA (geometry per frame)"),
                        tr("PNG (display image with the plan)")});
    form->addRow(tr("Format"), m_format);
    m_pixels = new QSpinBox(this);
    m_pixels->setRange(64, 2048);
    m_pixels->setValue(512);
    m_pixels->setSuffix(tr(" px"));
    form->addRow(tr("Detector (square)"), m_pixels);
    m_sweep = new QCheckBox(tr("Rotation sweep of the primary angle (multi-frame XA)"), this);
    form->addRow(m_sweep);
    auto angle = [this](double value) {
        auto* box = new QDoubleSpinBox(this);
        box->setRange(-360.0, 360.0);
        box->setDecimals(1);
        box->setSuffix(QStringLiteral("°"));
        box->setValue(value);
        return box;
    };
    m_from = angle(currentPrimaryDeg - 30.0);
    m_to = angle(currentPrimaryDeg + 30.0);
    m_frames = new QSpinBox(this);
    m_frames->setRange(2, 720);
    m_frames->setValue(13);
    form->addRow(tr("From primary (LAO +)"), m_from);
    form->addRow(tr("To primary"), m_to);
    form->addRow(tr("Frames"), m_frames);
    const auto sync = [this] {
        const bool sweep = m_sweep->isChecked();
        if (sweep && m_format->currentIndex() == 2)
            m_format->setCurrentIndex(0);
        // A sweep is a multi-frame DICOM: PNG is not offered then.
        if (auto* model = qobject_cast<QStandardItemModel*>(m_format->model()))
            model->item(2)->setEnabled(!sweep);
        m_from->setEnabled(sweep);
        m_to->setEnabled(sweep);
        m_frames->setEnabled(sweep);
    };
    connect(m_sweep, &QCheckBox::toggled, this, sync);
    sync();
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
}

DrrExportSettings DrrExportDialog::settings() const
{
    DrrExportSettings s;
    s.detectorPixels = m_pixels->value();
    s.sweep = m_sweep->isChecked();
    s.sweepFromDeg = m_from->value();
    s.sweepToDeg = m_to->value();
    s.sweepFrames = m_frames->value();
    s.dicomKind = m_format->currentIndex() == 1 ? imaging::XaDicomKind::EnhancedXa : imaging::XaDicomKind::Xa;
    return s;
}

bool DrrExportDialog::dicom() const
{
    return m_format->currentIndex() != 2;
}

DrrExportBar::DrrExportBar(VirtualCArmModel& model, QWidget* parent)
    : QWidget(parent), m_model(model), m_task(new BackgroundTask(this))
{
    setObjectName("drrExportBar");
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    m_export = new QPushButton(tr("Export DRR…"), this);
    m_export->setObjectName("carmExport");
    m_export->setToolTip(tr("The DRR as PNG, or as DICOM XA with its geometry; a rotation sweep as a "
                            "multi-frame XA"));
    connect(m_export, &QPushButton::clicked, this, &DrrExportBar::chooseAndExport);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName("carmExportProgress");
    m_progress->setRange(0, 1000);
    m_progress->setVisible(false);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName("carmExportCancel");
    m_cancel->setVisible(false);
    connect(m_cancel, &QPushButton::clicked, this, &DrrExportBar::cancel);
    m_status = new QLabel(this);
    m_status->setObjectName("carmExportStatus");
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(m_export);
    row->addWidget(m_progress, 1);
    row->addWidget(m_cancel);
    row->addWidget(m_status, 2);
    connect(m_task, &BackgroundTask::progress, this, [this](double fraction, const QString& stage) {
        m_progress->setValue(static_cast<int>(std::lround(1000.0 * std::clamp(fraction, 0.0, 1.0))));
        m_progress->setFormat(stage);
    });
}

DrrExportBar::~DrrExportBar()
{
    m_task->cancel();
    m_task->waitForIdle();
}

bool DrrExportBar::busy() const
{
    return m_task->busy();
}

QString DrrExportBar::statusText() const
{
    return m_status->text();
}

void DrrExportBar::cancel()
{
    m_task->cancel();
}

bool DrrExportBar::exportTo(const QString& path, const DrrExportSettings& settings, QString* error)
{
    const auto fail = [&](const QString& text) {
        if (error)
            *error = text;
        m_status->setText(text);
        return false;
    };
    const auto volume = m_model.attenuation();
    if (!m_model.ready() || !volume)
        return fail(tr("No DRR to export: open a CT and wait for the virtual C-arm."));
    if (m_task->busy())
        return fail(tr("An export is running: wait for it or cancel it."));
    std::vector<imaging::CArmGeometry> views;
    try {
        const imaging::CArmGeometry view = resampledView(m_model.view(), settings.detectorPixels);
        views = settings.sweep
                    ? sweepViews(view, settings.sweepFromDeg, settings.sweepToDeg, settings.sweepFrames)
                    : std::vector<imaging::CArmGeometry>{view};
    } catch (const Error& e) {
        return fail(QString::fromUtf8(e.what()));
    }
    imaging::XaWriteOptions xa;
    xa.kind = settings.dicomKind;
    xa.frameTimeMs = settings.frameTimeMs;
    if (const auto ct = m_model.ct()) {
        xa.sourceDicomFile = ct->info().sourceDicomFile;
        xa.frameOfReferenceUid = ct->info().frameOfReferenceUid;
        xa.seriesDescription =
            "DRR of " + (ct->info().description.empty() ? std::string("the CT") : ct->info().description);
    }
    DrrPlanOverlay overlay;
    overlay.paths = m_model.paths();
    overlay.activePath = m_model.activePath();
    overlay.targetsLps = m_model.targets();
    const auto warnings = std::make_shared<std::vector<std::string>>();
    const std::string native = path.toStdString();
    const QString name = QFileInfo(path).fileName();
    m_progress->setValue(0);
    m_progress->setVisible(true);
    m_cancel->setVisible(true);
    m_export->setEnabled(false);
    m_status->setText(tr("Exporting %1…").arg(name));
    const auto settle = [this](bool ok, const QString& message) {
        m_progress->setVisible(false);
        m_cancel->setVisible(false);
        m_export->setEnabled(true);
        m_status->setText(message);
        emit finished(ok, message);
    };
    m_task->start(
        tr("Exporting the DRR"),
        [native, volume, views, xa, overlay, warnings](ProgressSink& sink) {
            *warnings = exportDrr(native, *volume, views, xa, &sink, overlay);
        },
        [settle, name, warnings, count = views.size()] {
            QString text =
                count > 1 ? tr("Wrote %1 (%2 frames).").arg(name).arg(count) : tr("Wrote %1.").arg(name);
            for (const std::string& warning : *warnings)
                text += QStringLiteral(" ") + QString::fromStdString(warning);
            settle(true, text);
        },
        [settle, name](ErrorCode code, const QString& message) {
            settle(false, code == ErrorCode::Cancelled
                              ? tr("Export of %1 cancelled; nothing written.").arg(name)
                              : tr("Export failed: %1").arg(message));
        });
    return true;
}

void DrrExportBar::chooseAndExport()
{
    DrrExportDialog dialog(m_model.primaryDeg(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    const bool dicom = dialog.dicom();
    QString path = QFileDialog::getSaveFileName(this, tr("Export DRR"),
                                                dicom ? QStringLiteral("drr.dcm") : QStringLiteral("drr.png"),
                                                dicom ? tr("DICOM (*.dcm)") : tr("PNG image (*.png)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += dicom ? QStringLiteral(".dcm") : QStringLiteral(".png");
    exportTo(path, dialog.settings());
}

} // namespace np::gui
