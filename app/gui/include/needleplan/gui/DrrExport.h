#pragma once
/// Export of the virtual C-arm's DRR: the display image as PNG with the plan drawn on it, or a
/// DICOM X-Ray Angiographic or Enhanced XA image carrying the full geometry (angles, SID, SOD,
/// detector pitch, patient position and orientation) in the CT's patient and study, and a sweep
/// of the primary angle as one multi-frame XA / Enhanced XA. The helpers render and
/// write without widgets; DrrExportBar is the thin row of the virtual C-arm tab (Export…, progress,
/// Cancel) that runs them off the GUI thread. Files are written to a temporary name and renamed
/// into place, so a cancelled or failed export leaves nothing behind.

#include "needleplan/gui/FluoroGeometry.h"
#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <QDialog>
#include <QImage>
#include <QString>
#include <QWidget>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace np {
class ProgressSink;
}
namespace np::imaging {
class AttenuationVolume;
}

namespace np::gui {

class BackgroundTask;
class VirtualCArmModel;

/// What to export from the virtual C-arm.
struct DrrExportSettings
{
    int detectorPixels = 512;    ///< square detector; the field of view of the view is kept
    bool sweep = false;          ///< several frames turning the primary angle (XA only)
    double sweepFromDeg = -30.0; ///< primary angle of the first frame (LAO +)
    double sweepToDeg = 30.0;    ///< primary angle of the last frame
    int sweepFrames = 13;        ///< frames of the sweep, at least 2
    double frameTimeMs = 100.0;  ///< cine frame time of a sweep
    imaging::XaDicomKind dicomKind = imaging::XaDicomKind::Xa; ///< for a .dcm
};

/// The plan drawn on an exported PNG: each path's needle at its diameter (at least one pixel)
/// with a tick every 10 mm of depth from the entry, the skin entry as a filled dot and each target
/// as a dot with a cross in a ring. Colours: needle yellow (255, 220, 60) for the active path and
/// (200, 200, 120) for the others, entry green (90, 255, 120), target red (255, 70, 70).
struct DrrPlanOverlay
{
    std::vector<PlannedPath> paths;
    int activePath = -1;
    std::vector<Vec3> targetsLps;

    bool empty() const { return paths.empty() && targetsLps.empty(); }
};

/// The 8-bit display frame (`columns` × `rows`, row-major) as an RGB image with `overlay` drawn
/// through `projection` (stored-image pixels).
QImage drrWithPlan(const std::vector<std::uint8_t>& display, int columns, int rows,
                   const imaging::ProjectionMatrix& projection, const DrrPlanOverlay& overlay);

/// `view` on a square detector of `pixels` pixels with the same field of view, angles, distances,
/// isocentre and patient position. Throws np::Error(InvalidArgument) for pixels outside 16..4096.
imaging::CArmGeometry resampledView(const imaging::CArmGeometry& view, int pixels);

/// The frames of a sweep: `view` with the primary angle going from `fromDeg` to `toDeg` in `count`
/// equal steps (wrapped to (−180, 180]). Throws np::Error(InvalidArgument) for count < 2 or > 720.
std::vector<imaging::CArmGeometry> sweepViews(const imaging::CArmGeometry& view, double fromDeg, double toDeg,
                                              int count);

/// Renders the DRR of each view and writes `path`: ".png" (one view, the display image with
/// `overlay` drawn on it) or ".dcm" (`xa.kind`: XA or Enhanced XA, multi-frame for several views).
/// Returns the writer's warnings. Throws np::Error(InvalidArgument) naming the path for another
/// extension or several views to PNG, Cancelled when `progress` asks to stop, Io when writing fails.
std::vector<std::string> exportDrr(const std::string& path, const imaging::AttenuationVolume& volume,
                                   const std::vector<imaging::CArmGeometry>& views,
                                   const imaging::XaWriteOptions& xa, ProgressSink* progress = nullptr,
                                   const DrrPlanOverlay& overlay = {});

/// The dialog of "Export DRR…": format, detector size and the sweep.
class DrrExportDialog : public QDialog
{
    Q_OBJECT
public:
    DrrExportDialog(double currentPrimaryDeg, QWidget* parent = nullptr);
    DrrExportSettings settings() const;
    /// DICOM (XA or Enhanced XA) rather than PNG.
    bool dicom() const;

private:
    QComboBox* m_format = nullptr;
    QSpinBox* m_pixels = nullptr;
    QCheckBox* m_sweep = nullptr;
    QDoubleSpinBox* m_from = nullptr;
    QDoubleSpinBox* m_to = nullptr;
    QSpinBox* m_frames = nullptr;
};

/// The export row of the virtual C-arm tab.
class DrrExportBar : public QWidget
{
    Q_OBJECT
public:
    DrrExportBar(VirtualCArmModel& model, QWidget* parent = nullptr);
    ~DrrExportBar() override;

    /// Starts exporting the current view (or a sweep) to `path` off the GUI thread (what the
    /// dialog's OK does); finished reports. False with `error` when it cannot start (no CT yet,
    /// an export running, bad settings).
    bool exportTo(const QString& path, const DrrExportSettings& settings, QString* error = nullptr);
    /// Asks the running export to stop (the Cancel button).
    void cancel();
    bool busy() const;
    QString statusText() const;

signals:
    void finished(bool ok, const QString& message);

private:
    void chooseAndExport();

    VirtualCArmModel& m_model;
    BackgroundTask* m_task = nullptr;
    QPushButton* m_export = nullptr;
    QPushButton* m_cancel = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
};

} // namespace np::gui
