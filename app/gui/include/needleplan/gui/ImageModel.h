#pragma once
/// The image being planned on: its volume, the path it was opened from, the structures file and
/// named targets found next to it, and opening all of these off the GUI thread. No widgets; the
/// other models and the views observe its signals.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

#include <QImage>
#include <QObject>
#include <QString>
#include <functional>
#include <memory>
#include <vector>

namespace np::imaging {
struct DicomScanResult;
}

namespace np::gui {

class BackgroundTask;

/// A named target read from a targets.json next to the image (the phantom writes one).
struct NamedTargetEntry
{
    QString name;
    Vec3 positionLps;
};

class ImageModel : public QObject
{
    Q_OBJECT
public:
    /// Opening runs on `task`.
    explicit ImageModel(BackgroundTask& task, QObject* parent = nullptr);
    ~ImageModel() override;

    std::shared_ptr<const imaging::Volume> volume() const { return m_volume; }
    /// The file or folder the image was opened from, as the user named it ("" when none).
    const QString& path() const { return m_path; }
    /// Replaces the image (the structures and the plan of the previous one are dropped by their models).
    void setVolume(std::shared_ptr<const imaging::Volume> volume, const QString& path);

    /// The label map file loaded with the image ("" when none).
    const QString& structuresPath() const { return m_structuresPath; }

    /// Opens a DICOM file/folder/DICOMDIR or a NRRD/NIfTI/MetaImage file off the GUI thread, with
    /// structures.seg.nrrd and targets.json found in its folder (or its parent: a phantom folder).
    /// loadFinished reports; labelsLoaded comes before it when a label map was read.
    void open(const QString& path);
    /// Opens the sample phantom, generating it into the cache folder when the build has none.
    void openSamplePhantom();
    /// Loads a label map (.seg.nrrd or a plain label image) for the current image; labelsLoaded.
    void openLabelMap(const QString& path);
    /// True from open() until loadFinished.
    bool loading() const { return m_loading; }
    /// Chooses among several series: given the scan and thumbnails, answers with the series
    /// index, or -1 for none. Without one the first loadable series is taken.
    using SeriesChooser =
        std::function<void(std::shared_ptr<imaging::DicomScanResult> scan,
                           std::shared_ptr<std::vector<QImage>> thumbnails, std::function<void(int)> answer)>;
    void setSeriesChooser(SeriesChooser chooser) { m_chooser = std::move(chooser); }

    /// Targets offered by a targets.json found next to the image.
    const std::vector<NamedTargetEntry>& namedTargets() const { return m_namedTargets; }
    void setNamedTargets(std::vector<NamedTargetEntry> targets);
    /// Reads a targets.json ({"targets": [{"name", "positionLps": [x, y, z]}]}); entries without a
    /// name or three coordinates are skipped; an unreadable file gives none.
    static std::vector<NamedTargetEntry> readTargetsJson(const QString& path);

    /// HU under an LPS point (NaN outside the image or without one).
    double valueAt(const Vec3& pointLps) const;

signals:
    void volumeChanged();
    void namedTargetsChanged();
    /// A label map was read for the image (with it, or by openLabelMap).
    void labelsLoaded(std::shared_ptr<const imaging::LabelMap> labels);
    void loadFinished(bool ok, const QString& message);
    void errorOccurred(const QString& title, const QString& message);
    /// A note about the image (for the status bar).
    void warning(const QString& text);
    /// The series chosen is a projection image (XA, RF, DX, CR) in `file`: the volume is kept.
    void projectionChosen(const QString& file);

private:
    void loadSeries(std::shared_ptr<imaging::DicomScanResult> scan, int index, const QString& path);
    void volumeLoaded(std::shared_ptr<imaging::Volume> volume, const QString& path);

    BackgroundTask& m_task;
    SeriesChooser m_chooser;
    bool m_loading = false;
    QString m_pendingSegmentation;
    QString m_pendingTargets;
    QString m_structuresPath;
    std::shared_ptr<const imaging::Volume> m_volume;
    QString m_path;
    std::vector<NamedTargetEntry> m_namedTargets;
};

} // namespace np::gui
