// The PACS browser's logic: settings, echo, search and retrieval in the background.

#include "needleplan/gui/PacsBrowserModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/imaging/Error.h"

#include <QSettings>
#include <QStandardPaths>
#include <filesystem>
#include <memory>
#include <system_error>

namespace np::gui {

namespace {

/// Studies whose series are looked up after a search (each is one more C-FIND).
constexpr std::size_t kMaxStudiesWithSeries = 200;

/// A UID as the PACS sent it becomes a folder name: digits and dots only, 1..64 characters.
bool isWellFormedUid(const std::string& uid)
{
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.')
        return false;
    for (const char c : uid)
        if (!(c == '.' || (c >= '0' && c <= '9')))
            return false;
    return true;
}

/// Text of a search field: no backslash (DICOM's value separator) and no control characters.
std::string searchText(const QString& text, const char* field)
{
    const QString trimmed = text.trimmed();
    for (const QChar c : trimmed)
        if (c == QLatin1Char('\\') || c.category() == QChar::Other_Control)
            throw Error(ErrorCode::InvalidArgument,
                        std::string(field) + " may not hold a backslash or control characters");
    return trimmed.toStdString();
}

std::string dicomDate(const QDate& date)
{
    return date.isValid() ? date.toString("yyyyMMdd").toStdString() : std::string();
}

} // namespace

int PacsStudyEntry::instanceCount() const
{
    if (study.numberOfInstances >= 0)
        return study.numberOfInstances;
    int sum = 0;
    for (const imaging::PacsMatch& entry : series) {
        if (entry.numberOfInstances < 0)
            return -1;
        sum += entry.numberOfInstances;
    }
    return series.empty() ? -1 : sum;
}

PacsBrowserModel::PacsBrowserModel(QObject* parent)
    : QObject(parent), m_task(new BackgroundTask(this)), m_settings(storedSettings()),
      m_cacheFolder(QStandardPaths::writableLocation(QStandardPaths::CacheLocation) + "/pacs")
{
    connect(m_task, &BackgroundTask::started, this, [this] { emit busyChanged(true); });
    connect(m_task, &BackgroundTask::finished, this, [this] { emit busyChanged(false); });
    connect(m_task, &BackgroundTask::progress, this, [this](double, const QString& stage) {
        if (m_retrieving && imaging::parseRetrieveProgressStage(stage.toStdString(), m_count))
            emit retrieveProgress(m_count.received, m_count.expected);
    });
}

PacsBrowserModel::~PacsBrowserModel()
{
    m_task->cancel();
    m_task->waitForIdle();
}

imaging::PacsSettings PacsBrowserModel::storedSettings()
{
    QSettings stored;
    imaging::PacsSettings settings;
    settings.host = stored.value("pacs/host", QString::fromStdString(settings.host)).toString().toStdString();
    settings.port = stored.value("pacs/port", settings.port).toInt();
    settings.callingAeTitle =
        stored.value("pacs/callingAeTitle", QString::fromStdString(settings.callingAeTitle))
            .toString()
            .toStdString();
    settings.calledAeTitle =
        stored.value("pacs/calledAeTitle", QString::fromStdString(settings.calledAeTitle))
            .toString()
            .toStdString();
    settings.connectTimeoutSeconds =
        stored.value("pacs/connectTimeoutSeconds", settings.connectTimeoutSeconds).toInt();
    settings.dimseTimeoutSeconds =
        stored.value("pacs/dimseTimeoutSeconds", settings.dimseTimeoutSeconds).toInt();
    return settings;
}

void PacsBrowserModel::storeSettings(const imaging::PacsSettings& settings)
{
    QSettings stored;
    stored.setValue("pacs/host", QString::fromStdString(settings.host));
    stored.setValue("pacs/port", settings.port);
    stored.setValue("pacs/callingAeTitle", QString::fromStdString(settings.callingAeTitle));
    stored.setValue("pacs/calledAeTitle", QString::fromStdString(settings.calledAeTitle));
    stored.setValue("pacs/connectTimeoutSeconds", settings.connectTimeoutSeconds);
    stored.setValue("pacs/dimseTimeoutSeconds", settings.dimseTimeoutSeconds);
}

imaging::PacsQuery PacsBrowserModel::studyQuery(const PacsSearchFields& fields)
{
    imaging::PacsQuery query;
    query.level = imaging::PacsLevel::Study;
    query.patientName = searchText(fields.patientName, "the patient name");
    query.patientId = searchText(fields.patientId, "the patient ID");
    const QString modality = fields.modality.trimmed().toUpper();
    for (const QChar c : modality)
        if (!(c.isDigit() || (c >= QLatin1Char('A') && c <= QLatin1Char('Z')) || c == QLatin1Char('_')))
            throw Error(ErrorCode::InvalidArgument,
                        "the modality holds letters, digits or '_' only (e.g. CT, MR); got '" +
                            fields.modality.toStdString() + "'");
    if (modality.size() > 16)
        throw Error(ErrorCode::InvalidArgument, "the modality is at most 16 characters");
    query.modality = modality.toStdString();
    const QDate& from = fields.studyDateFrom;
    const QDate& to = fields.studyDateTo;
    if (from.isValid() && to.isValid() && to < from)
        throw Error(ErrorCode::InvalidArgument, "the study date range ends (" + dicomDate(to) +
                                                    ") before it starts (" + dicomDate(from) + ")");
    if (from.isValid() && to.isValid() && from == to)
        query.studyDate = dicomDate(from);
    else if (from.isValid() || to.isValid())
        query.studyDate = dicomDate(from) + "-" + dicomDate(to);
    return query;
}

bool PacsBrowserModel::busy() const
{
    return m_task->busy();
}

QString PacsBrowserModel::serverText() const
{
    return QString::fromStdString(imaging::describeServer(m_settings));
}

void PacsBrowserModel::echo()
{
    const imaging::PacsSettings settings = m_settings;
    m_task->start(
        tr("C-ECHO"), [settings](ProgressSink&) { imaging::PacsClient(settings).echo(); },
        [this] { emit echoFinished(true, tr("%1 answered the C-ECHO").arg(serverText())); },
        [this](ErrorCode, const QString& message) { emit echoFinished(false, message); });
}

void PacsBrowserModel::search(const PacsSearchFields& fields)
{
    imaging::PacsQuery query;
    try {
        query = studyQuery(fields);
    } catch (const std::exception& error) {
        emit searchFinished(false, tr("Search not sent: %1").arg(QString::fromStdString(error.what())));
        return;
    }
    const imaging::PacsSettings settings = m_settings;
    auto found = std::make_shared<std::vector<PacsStudyEntry>>();
    m_task->start(
        tr("C-FIND"),
        [settings, query, found](ProgressSink& progress) {
            const imaging::PacsClient client(settings);
            for (imaging::PacsMatch& study : client.find(query))
                found->push_back({std::move(study), {}});
            const std::size_t withSeries = std::min(found->size(), kMaxStudiesWithSeries);
            for (std::size_t n = 0; n < withSeries && !progress.cancelRequested(); ++n) {
                PacsStudyEntry& entry = (*found)[n];
                if (!isWellFormedUid(entry.study.studyInstanceUid))
                    throw Error(ErrorCode::Network, "PACS " + imaging::describeServer(settings) +
                                                        ": C-FIND answered a malformed Study Instance UID '" +
                                                        entry.study.studyInstanceUid + "'");
                imaging::PacsQuery seriesQuery;
                seriesQuery.level = imaging::PacsLevel::Series;
                seriesQuery.studyInstanceUid = entry.study.studyInstanceUid;
                seriesQuery.modality = query.modality;
                entry.series = client.find(seriesQuery);
                progress.report(double(n + 1) / double(withSeries),
                                "series of study " + std::to_string(n + 1));
            }
        },
        [this, found] {
            m_studies = std::move(*found);
            std::size_t series = 0;
            for (const PacsStudyEntry& entry : m_studies)
                series += entry.series.size();
            emit searchFinished(
                true, tr("%1: %2 studies, %3 series").arg(serverText()).arg(m_studies.size()).arg(series));
        },
        [this](ErrorCode, const QString& message) { emit searchFinished(false, message); });
}

void PacsBrowserModel::retrieve(int studyIndex, int seriesIndex)
{
    if (studyIndex < 0 || studyIndex >= static_cast<int>(m_studies.size()) || seriesIndex < -1 ||
        seriesIndex >= static_cast<int>(m_studies[studyIndex].series.size())) {
        emit retrieveFinished(false, tr("Select a study or a series to retrieve."));
        return;
    }
    const PacsStudyEntry& entry = m_studies[studyIndex];
    imaging::PacsRetrieveRequest request;
    request.studyInstanceUid = entry.study.studyInstanceUid;
    if (seriesIndex >= 0)
        request.seriesInstanceUid = entry.series[seriesIndex].seriesInstanceUid;
    if (!isWellFormedUid(request.studyInstanceUid) ||
        (seriesIndex >= 0 && !isWellFormedUid(request.seriesInstanceUid))) {
        emit retrieveFinished(false, tr("PACS %1 sent a malformed UID for this %2; it cannot be retrieved.")
                                         .arg(serverText(), seriesIndex >= 0 ? tr("series") : tr("study")));
        return;
    }
    // <cache>/<study UID>/study or <cache>/<study UID>/series-<series UID>: a study's folder
    // never contains a series folder, so that opening it lists each series once.
    const std::filesystem::path target =
        std::filesystem::path(m_cacheFolder.toStdString()) / request.studyInstanceUid /
        (seriesIndex >= 0 ? "series-" + request.seriesInstanceUid : std::string("study"));
    const std::filesystem::path partial = target.string() + ".partial";
    request.outputFolder = partial;
    const imaging::PacsSettings settings = m_settings;
    m_count = {0, seriesIndex >= 0 ? std::max(0, entry.series[seriesIndex].numberOfInstances)
                                   : std::max(0, entry.instanceCount())};
    m_retrieving = true;
    emit retrieveProgress(m_count.received, m_count.expected);
    auto result = std::make_shared<imaging::PacsRetrieveResult>();
    auto discardPartial = [partial] {
        std::error_code ec;
        std::filesystem::remove_all(partial, ec);
    };
    m_task->start(
        tr("C-GET"),
        [settings, request, target, partial, result](ProgressSink& progress) {
            std::error_code ec;
            std::filesystem::remove_all(partial, ec);
            try {
                *result = imaging::PacsClient(settings).retrieve(request, &progress);
            } catch (...) {
                std::filesystem::remove_all(partial, ec);
                throw;
            }
            std::filesystem::remove_all(target, ec);
            std::filesystem::rename(partial, target, ec);
            if (ec)
                throw Error(ErrorCode::Io, target.string() +
                                               ": cannot move the retrieved files into place (" +
                                               ec.message() + ")");
        },
        [this, result, target] {
            m_retrieving = false;
            m_retrievedFolder = QString::fromStdString(target.string());
            const int received = static_cast<int>(result->files.size());
            m_count = {received, std::max(received, result->completed + result->warnings)};
            emit retrieveProgress(m_count.received, m_count.expected);
            emit retrieveFinished(true, tr("Retrieved %1 instances from %2 into %3")
                                            .arg(received)
                                            .arg(serverText(), m_retrievedFolder));
        },
        [this, discardPartial](ErrorCode code, const QString& message) {
            discardPartial();
            m_retrieving = false;
            emit retrieveFinished(false,
                                  code == ErrorCode::Cancelled
                                      ? tr("Retrieval from %1 cancelled; nothing was kept.").arg(serverText())
                                      : message);
        });
}

void PacsBrowserModel::cancel()
{
    m_task->cancel();
}

} // namespace np::gui
