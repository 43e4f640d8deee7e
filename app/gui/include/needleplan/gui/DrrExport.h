#pragma once
/// Export of the virtual C-arm's DRR: the display image as PNG, or a DICOM X-Ray Angiographic
/// image carrying the full geometry (angles, SID, SOD, detector pitch, patient position and
/// orientation), and a sweep of the primary angle as one multi-frame XA. The helpers render and
/// write without widgets; DrrExportBar is the thin row of the virtual C-arm tab (Export…, progress,
/// Cancel) that runs them off the GUI thread. Files are written to a temporary name and renamed
/// into place, so a cancelled or failed export leaves nothing behind.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/ProjectionImage.h"

#include <QDialog>
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
};

/// `view` on a square detector of `pixels` pixels with the same field of view, angles, distances,
/// isocentre and patient position. Throws np::Error(InvalidArgument) for pixels outside 16..4096.
imaging::CArmGeometry resampledView(const imaging::CArmGeometry& view, int pixels);

/// The frames of a sweep: `view` with the primary angle going from `fromDeg` to `toDeg` in `count`
/// equal steps (wrapped to (−180, 180]). Throws np::Error(InvalidArgument) for count < 2 or > 720.
std::vector<imaging::CArmGeometry> sweepViews(const imaging::CArmGeometry& view, double fromDeg, double toDeg,
                                              int count);

/// Renders the DRR of each view and writes `path`: ".png" (one view, the display image) or ".dcm"
/// (an XA, multi-frame for several views). Throws np::Error(InvalidArgument) naming the path for
/// another extension or several views to PNG, Cancelled when `progress` asks to stop, Io when
/// writing fails.
void exportDrr(const std::string& path, const imaging::AttenuationVolume& volume,
               const std::vector<imaging::CArmGeometry>& views, const imaging::XaWriteOptions& xa,
               ProgressSink* progress = nullptr);

/// The dialog of "Export DRR…": format, detector size and the sweep.
class DrrExportDialog : public QDialog
{
    Q_OBJECT
public:
    DrrExportDialog(double currentPrimaryDeg, QWidget* parent = nullptr);
    DrrExportSettings settings() const;
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
