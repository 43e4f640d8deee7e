#include "needleplan/gui/ImageModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/SeriesThumbnail.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <QDir>
#include <QStringList>
#include <QFile>

#include <algorithm>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <limits>
#if defined(NP_HAVE_PHANTOM)
#include "needleplan/phantom/LumbarPhantom.h"
#endif

namespace np::gui {

namespace {

/// The phantom folder the build generated, or the one in the cache folder.
QString findSampleFolder()
{
    const QStringList candidates = {QStringLiteral(NP_BUILD_SAMPLE_DIR),
                                    QStandardPaths::writableLocation(QStandardPaths::CacheLocation) +
                                        "/phantom"};
    for (const QString& folder : candidates)
        if (QFileInfo::exists(folder + "/dicom") && QFileInfo::exists(folder + "/structures.seg.nrrd"))
            return folder;
    return {};
}

} // namespace

ImageModel::ImageModel(BackgroundTask& task, QObject* parent) : QObject(parent), m_task(task) {}
ImageModel::~ImageModel() = default;

void ImageModel::setVolume(std::shared_ptr<const imaging::Volume> volume, const QString& path)
{
    m_volume = std::move(volume);
    // The image actually opened, as an absolute path (plans record it).
    m_path = m_volume && !path.isEmpty() ? QDir::cleanPath(QFileInfo(path).absoluteFilePath()) : QString();
    m_structuresPath.clear();
    m_namedTargets.clear();
    emit volumeChanged();
    emit namedTargetsChanged();
}

void ImageModel::setNamedTargets(std::vector<NamedTargetEntry> targets)
{
    m_namedTargets = std::move(targets);
    emit namedTargetsChanged();
}

std::vector<NamedTargetEntry> ImageModel::readTargetsJson(const QString& path)
{
    std::vector<NamedTargetEntry> targets;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return targets;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll());
    for (const QJsonValue& value : document.object().value("targets").toArray()) {
        const QJsonObject object = value.toObject();
        const QJsonArray position = object.value("positionLps").toArray();
        if (position.size() != 3 || object.value("name").toString().isEmpty())
            continue;
        targets.push_back({object.value("name").toString(),
                           Vec3{position[0].toDouble(), position[1].toDouble(), position[2].toDouble()}});
    }
    return targets;
}

double ImageModel::valueAt(const Vec3& pointLps) const
{
    if (!m_volume)
        return std::numeric_limits<double>::quiet_NaN();
    const Vec3 ijk = m_volume->geometry().ijkFromLps(pointLps);
    if (!m_volume->geometry().containsIjk(ijk))
        return std::numeric_limits<double>::quiet_NaN();
    return m_volume->sampleIjk(ijk, std::numeric_limits<float>::quiet_NaN());
}

void ImageModel::open(const QString& requested)
{
    if (m_task.busy()) {
        emit errorOccurred(tr("Busy"), tr("Wait for the current task to finish, or cancel it."));
        emit loadFinished(false, tr("busy"));
        return;
    }
    m_loading = true;
    QString path = requested;
    QFileInfo info(path);
    m_pendingSegmentation.clear();
    m_pendingTargets.clear();
    // A phantom-style folder: dicom/ plus structures.seg.nrrd and targets.json.
    if (info.isDir() && QFileInfo::exists(path + "/dicom")) {
        if (QFileInfo::exists(path + "/structures.seg.nrrd"))
            m_pendingSegmentation = path + "/structures.seg.nrrd";
        if (QFileInfo::exists(path + "/targets.json"))
            m_pendingTargets = path + "/targets.json";
        path += "/dicom";
    } else {
        const QString parent = info.isDir() ? info.absoluteFilePath() + "/.." : info.absolutePath();
        if (QFileInfo::exists(parent + "/structures.seg.nrrd"))
            m_pendingSegmentation = QDir::cleanPath(parent + "/structures.seg.nrrd");
        if (QFileInfo::exists(parent + "/targets.json"))
            m_pendingTargets = QDir::cleanPath(parent + "/targets.json");
    }
    const std::string nativePath = QDir::toNativeSeparators(path).toStdString();
    const QString shown = requested;
    auto failed = [this, shown](ErrorCode code, const QString& message) {
        m_loading = false;
        if (code != ErrorCode::Cancelled)
            emit errorOccurred(
                tr("Could not open %1").arg(QFileInfo(shown).fileName()),
                message + tr("\n\nCheck that the path holds a readable image, or choose another series."));
        emit loadFinished(false, message);
    };
    if (imaging::isItkImageFile(nativePath)) {
        auto volume = std::make_shared<imaging::Volume>();
        m_task.start(
            tr("Loading %1").arg(QFileInfo(path).fileName()),
            [volume, nativePath](ProgressSink& sink) {
                *volume = imaging::loadVolume(nativePath, {}, &sink);
            },
            [this, volume, shown] { volumeLoaded(volume, shown); }, failed);
        return;
    }
    auto scan = std::make_shared<imaging::DicomScanResult>();
    auto thumbnails = std::make_shared<std::vector<QImage>>();
    m_task.start(
        tr("Scanning %1").arg(QFileInfo(path).fileName()),
        [scan, thumbnails, nativePath](ProgressSink& sink) {
            *scan = imaging::scanDicom(nativePath, &sink);
            if (scan->series.size() > 1)
                for (std::size_t i = 0; i < scan->series.size(); ++i) {
                    throwIfCancelled(&sink);
                    thumbnails->push_back(seriesThumbnail(*scan, static_cast<int>(i)));
                }
        },
        [this, scan, thumbnails, shown, failed] {
            std::vector<int> loadable;
            for (const auto& entry : scan->series)
                if (entry.kind == imaging::DicomSeriesKind::Volume && !entry.hasError())
                    loadable.push_back(entry.index);
            for (const auto& entry : scan->series) // projections open in a fluoroscopy view
                if (loadable.empty() && entry.kind == imaging::DicomSeriesKind::Projection && !entry.hasError())
                    loadable.push_back(entry.index);
            if (scan->series.empty()) {
                failed(ErrorCode::NotFound, tr("No DICOM images were found in %1 (%2 files skipped).")
                                                .arg(shown)
                                                .arg(scan->skipped.size()));
                return;
            }
            if (std::all_of(scan->series.begin(), scan->series.end(),
                            [](const imaging::DicomSeriesEntry& entry) { return entry.hasError(); })) {
                // Nothing to choose from: say what is wrong with each series (each names its file).
                QStringList errors;
                for (const auto& entry : scan->series)
                    errors << QString::fromStdString(entry.error);
                failed(scan->series.front().errorCode, errors.join(QStringLiteral("\n")));
                return;
            }
            if ((scan->series.size() == 1 && loadable.size() == 1) || (!m_chooser && !loadable.empty())) {
                loadSeries(scan, loadable.front(), shown);
                return;
            }
            if (!m_chooser) {
                failed(ErrorCode::NotFound, tr("No loadable image series in %1.").arg(shown));
                return;
            }
            m_chooser(scan, thumbnails, [this, scan, shown](int index) {
                if (index >= 0)
                    loadSeries(scan, index, shown);
                else {
                    m_loading = false;
                    emit loadFinished(false, tr("no series chosen"));
                }
            });
        },
        failed);
}

void ImageModel::loadSeries(std::shared_ptr<imaging::DicomScanResult> scan, int index, const QString& path)
{
    if (scan->series[index].kind == imaging::DicomSeriesKind::Projection && !scan->series[index].frames.empty()) {
        m_loading = false; // a projection never replaces the CT: it opens beside it
        emit projectionChosen(QString::fromStdString(scan->series[index].frames.front().path));
        emit loadFinished(false, tr("%1 is a projection image: opened in a fluoroscopy view").arg(path));
        return;
    }
    auto volume = std::make_shared<imaging::Volume>();
    m_task.start(
        tr("Loading series"),
        [scan, index, volume](ProgressSink& sink) {
            *volume = imaging::loadDicomSeries(*scan, index, {}, &sink);
        },
        [this, volume, path] { volumeLoaded(volume, path); },
        [this](ErrorCode code, const QString& message) {
            m_loading = false;
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("Could not load the series"), message);
            emit loadFinished(false, message);
        });
}

void ImageModel::volumeLoaded(std::shared_ptr<imaging::Volume> volume, const QString& path)
{
    setVolume(volume, path);
    if (!m_pendingTargets.isEmpty())
        setNamedTargets(readTargetsJson(m_pendingTargets));
    for (const std::string& text : volume->info().warnings)
        emit warning(QString::fromStdString(text));
    if (m_pendingSegmentation.isEmpty()) {
        m_loading = false;
        emit loadFinished(true, QString());
        return;
    }
    const QString segmentation = m_pendingSegmentation;
    m_pendingSegmentation.clear();
    auto labels = std::make_shared<imaging::LabelMap>();
    const std::string native = segmentation.toStdString();
    m_task.start(
        tr("Loading structures"),
        [labels, native](ProgressSink&) { *labels = imaging::readLabelMap(native); },
        [this, labels, segmentation] {
            m_structuresPath = QFileInfo(segmentation).absoluteFilePath();
            emit labelsLoaded(labels);
            m_loading = false;
            emit loadFinished(true, QString());
        },
        [this](ErrorCode, const QString& message) {
            emit errorOccurred(tr("Structures not loaded"), message);
            m_loading = false;
            emit loadFinished(true, QString());
        });
}

void ImageModel::openLabelMap(const QString& path)
{
    if (!m_volume || m_task.busy()) {
        emit errorOccurred(tr("Structures not loaded"), m_task.busy()
                                                            ? tr("Wait for the current task to finish.")
                                                            : tr("Open an image first."));
        return;
    }
    auto labels = std::make_shared<imaging::LabelMap>();
    const std::string native = path.toStdString();
    m_task.start(
        tr("Loading structures"),
        [labels, native](ProgressSink&) { *labels = imaging::readLabelMap(native); },
        [this, labels, path] {
            m_structuresPath = QFileInfo(path).absoluteFilePath();
            emit labelsLoaded(labels);
        },
        [this](ErrorCode, const QString& message) {
            emit errorOccurred(tr("Structures not loaded"), message);
        });
}

void ImageModel::openSamplePhantom()
{
    const QString folder = findSampleFolder();
    if (!folder.isEmpty()) {
        open(folder);
        return;
    }
#if defined(NP_HAVE_PHANTOM)
    const QString cache = QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/phantom";
    QDir().mkpath(cache);
    const std::string native = cache.toStdString();
    m_task.start(
        tr("Generating the sample phantom"),
        [native](ProgressSink& sink) {
            const phantom::Phantom generated = phantom::generateLumbarPhantom({}, &sink);
            phantom::writePhantom(generated, native, &sink);
        },
        [this, cache] { open(cache); },
        [this](ErrorCode, const QString& message) {
            emit errorOccurred(tr("Sample phantom not available"), message);
            emit loadFinished(false, message);
        });
#else
    emit errorOccurred(tr("Sample phantom not available"),
                       tr("This build has no phantom generator and no generated phantom."));
    emit loadFinished(false, tr("no sample phantom"));
#endif
}

} // namespace np::gui
