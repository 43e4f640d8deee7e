#include "needleplan/gui/RehearsalSession.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>

namespace np::gui {

namespace {

const char* kLogPathKey = "rehearsal/logPath";

QString csvField(const QString& text)
{
    if (!text.contains(',') && !text.contains('"') && !text.contains('\n') && !text.contains('\r'))
        return text;
    QString quoted = text;
    quoted.replace('"', QStringLiteral("\"\""));
    return '"' + quoted + '"';
}

QString number(double value)
{
    return QString::number(value, 'f', 3);
}

QString lps(const Vec3& p)
{
    return QStringLiteral("%1 %2 %3").arg(p.x, 0, 'f', 2).arg(p.y, 0, 'f', 2).arg(p.z, 0, 'f', 2);
}

/// The measurement's wording is about an inserted needle; a rehearsal speaks of "your path".
QString rehearsalWording(const std::string& line)
{
    QString text = QString::fromStdString(line);
    text.replace(QStringLiteral("the actual path"), QStringLiteral("your path"));
    return text;
}

} // namespace

struct RehearsalSession::SearchCache
{
    QString key;
    bool searched = false;
    std::optional<planning::Trajectory> best;
};

const QStringList& RehearsalSession::logColumns()
{
    static const QStringList columns{"time_utc",
                                     "target",
                                     "verdict",
                                     "structure",
                                     "clearance_mm",
                                     "tip_error_mm",
                                     "tip_along_mm",
                                     "tip_across_mm",
                                     "entry_error_mm",
                                     "angle_error_deg",
                                     "resident_entry_lps",
                                     "resident_target_lps",
                                     "planner_entry_lps",
                                     "planner_target_lps",
                                     "summary"};
    return columns;
}

QString RehearsalSession::defaultLogPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/rehearsal-log.csv";
}

QString RehearsalSession::logRow(const RehearsalAttempt& a)
{
    QStringList fields;
    fields << a.timeUtc.toUTC().toString(Qt::ISODate) << csvField(a.target) << (a.safe ? "safe" : "unsafe")
           << csvField(a.verdictStructure)
           << (a.verdictStructure.isEmpty() ? QString() : number(a.verdictClearanceMm))
           << number(a.tipErrorMm);
    if (a.measurement) {
        const planning::NeedleErrors& e = a.measurement->errors;
        fields << number(e.tipAlongMm) << number(e.tipAcrossMm) << number(e.entryErrorMm)
               << number(e.angleErrorDeg);
    } else {
        fields << QString() << QString() << QString() << QString();
    }
    fields << lps(a.residentEntryLps) << lps(a.residentTargetLps)
           << (a.plannerBest ? lps(a.plannerBest->entryLps) : QString())
           << (a.plannerBest ? lps(a.plannerBest->targetLps) : lps(a.exerciseTargetLps))
           << csvField(a.summary.join(QStringLiteral("; ")));
    return fields.join(',');
}

bool RehearsalSession::appendToLog(const QString& path, const RehearsalAttempt& attempt, QString* error)
{
    auto fail = [&](const QString& message) {
        if (error)
            *error = message;
        return false;
    };
    if (path.isEmpty())
        return fail(tr("No rehearsal log chosen: choose a log file."));
    const QString header = logColumns().join(',');
    QByteArray content;
    QFile existing(path);
    if (QFileInfo(path).isDir())
        return fail(tr("%1 is a folder, not a rehearsal log: choose a file.").arg(path));
    if (existing.exists()) {
        if (!existing.open(QIODevice::ReadOnly))
            return fail(
                tr("%1: cannot be read (%2); the attempt was not logged and the file was left as it was.")
                    .arg(path, existing.errorString()));
        content = existing.readAll();
        existing.close();
    }
    if (content.trimmed().isEmpty()) {
        content = header.toUtf8() + '\n';
    } else {
        QByteArray first = content.left(content.indexOf('\n'));
        if (first.endsWith('\r'))
            first.chop(1);
        if (QString::fromUtf8(first) != header)
            return fail(tr("%1 is not a NeedlePlan rehearsal log (its first line is not the log's header); "
                           "nothing was written: choose another file.")
                            .arg(path));
        if (!content.endsWith('\n'))
            content += '\n';
    }
    content += logRow(attempt).toUtf8() + '\n';
    const QString folder = QFileInfo(path).absolutePath();
    if (!QDir().mkpath(folder))
        return fail(tr("%1: the folder %2 cannot be created; the attempt was not logged.").arg(path, folder));
    // Written whole to a temporary file, then renamed over the log: its rows survive any failure.
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size() || !file.commit())
        return fail(tr("%1: cannot be written (%2); the attempt was not logged and the rows already in it "
                       "were kept.")
                        .arg(path, file.errorString()));
    return true;
}

RehearsalSession::RehearsalSession(ImageModel& image, StructuresModel& structures, PlanModel& plan,
                                   BackgroundTask& task, QObject* parent)
    : QObject(parent), m_image(image), m_structures(structures), m_plan(plan), m_task(task)
{
    setObjectName("rehearsalSession");
    m_logPath = QSettings().value(kLogPathKey, defaultLogPath()).toString();
    connect(&m_image, &ImageModel::volumeChanged, this, [this] {
        m_session.reset();
        m_cache.reset();
        m_exerciseTarget = m_image.namedTargets().empty() ? -1 : 0;
        resetAttempt();
    });
    connect(&m_image, &ImageModel::namedTargetsChanged, this, [this] {
        if (m_exerciseTarget >= static_cast<int>(m_image.namedTargets().size()) ||
            (m_exerciseTarget < 0 && !m_image.namedTargets().empty() && !m_residentTargetLps))
            m_exerciseTarget = m_image.namedTargets().empty() ? -1 : 0;
        emit attemptChanged();
    });
}

RehearsalSession::~RehearsalSession() = default;

void RehearsalSession::setActive(bool active)
{
    if (active == m_active)
        return;
    m_active = active;
    if (active && m_exerciseTarget < 0 && !m_image.namedTargets().empty())
        m_exerciseTarget = 0;
    resetAttempt();
    emit activeChanged(active);
}

void RehearsalSession::resetAttempt()
{
    m_residentTargetLps.reset();
    m_residentEntryLps.reset();
    m_attempt.reset();
    emit attemptChanged();
}

void RehearsalSession::setExerciseTarget(int index)
{
    if (index >= static_cast<int>(m_image.namedTargets().size()))
        index = -1;
    if (index == m_exerciseTarget)
        return;
    m_exerciseTarget = std::max(-1, index);
    m_attempt.reset();
    emit attemptChanged();
}

QString RehearsalSession::exerciseTargetName() const
{
    if (m_exerciseTarget >= 0 && m_exerciseTarget < static_cast<int>(m_image.namedTargets().size()))
        return m_image.namedTargets()[static_cast<std::size_t>(m_exerciseTarget)].name;
    return tr("own target");
}

void RehearsalSession::placeTarget(const Vec3& targetLps)
{
    if (!m_active || m_scoring)
        return;
    if (m_attempt) { // a placement after a score starts the next attempt
        m_residentEntryLps.reset();
        m_attempt.reset();
    }
    m_residentTargetLps = targetLps;
    emit attemptChanged();
}

void RehearsalSession::placeEntry(const Vec3& entryLps)
{
    if (!m_active || m_scoring)
        return;
    if (m_attempt) {
        m_residentTargetLps.reset();
        m_attempt.reset();
    }
    m_residentEntryLps = entryLps;
    emit attemptChanged();
}

void RehearsalSession::tryAgain()
{
    if (!m_scoring)
        resetAttempt();
}

QString RehearsalSession::cannotScoreReason() const
{
    if (!m_active)
        return tr("Rehearsal mode is off.");
    if (m_scoring)
        return tr("The attempt is being scored.");
    if (!m_image.volume())
        return tr("Open a scan first (File > Open sample phantom).");
    if (!m_structures.labels())
        return tr("Scoring needs the scan's structures: load a segmentation (.seg.nrrd) first.");
    if (!m_residentTargetLps)
        return tr("Place your target first (Place target, then a click in a slice view).");
    if (!m_residentEntryLps)
        return tr("Place your entry first (Place entry, then a click in a slice view).");
    if (distance(*m_residentEntryLps, *m_residentTargetLps) < 1.0)
        return tr("Your entry and target are less than 1 mm apart: place the entry on the skin.");
    return QString();
}

void RehearsalSession::score()
{
    const QString reason = cannotScoreReason();
    if (!reason.isEmpty()) {
        emit scored(false, reason);
        return;
    }
    auto labels = m_structures.labels();
    if (!m_session || m_sessionLabels != labels.get()) {
        m_session = std::make_shared<PlanningSession>(m_image.volume(), labels);
        m_sessionLabels = labels.get();
        m_cache.reset();
    }
    const planning::Needle needle =
        planning::findNeedle(m_plan.needleName()).value_or(planning::needleCatalogue().front());
    planning::Preset preset;
    try {
        preset = m_plan.presetName().empty() ? planning::genericPreset()
                                             : planning::loadPreset(m_plan.presetName());
    } catch (const std::exception& error) {
        emit scored(false, tr("The procedure preset could not be loaded: %1").arg(error.what()));
        return;
    }
    const std::vector<planning::StructureSpec> specs = m_structures.specs();
    auto attempt = std::make_shared<RehearsalAttempt>();
    attempt->timeUtc = QDateTime::currentDateTimeUtc();
    attempt->target = exerciseTargetName();
    attempt->exerciseTargetLps =
        m_exerciseTarget >= 0 ? m_image.namedTargets()[static_cast<std::size_t>(m_exerciseTarget)].positionLps
                              : *m_residentTargetLps;
    attempt->residentEntryLps = *m_residentEntryLps;
    attempt->residentTargetLps = *m_residentTargetLps;

    // The planner's search is reused while nothing it depends on changed.
    QString key = QStringLiteral("%1|%2|%3|")
                      .arg(QString::fromStdString(needle.name), QString::fromStdString(m_plan.presetName()),
                           lps(attempt->exerciseTargetLps));
    for (const planning::StructureSpec& spec : specs)
        key += QStringLiteral("%1:%2:%3:%4;")
                   .arg(QString::fromStdString(spec.name))
                   .arg(spec.labelValue)
                   .arg(static_cast<int>(spec.structureClass))
                   .arg(spec.marginMm);
    if (!m_cache || m_cache->key != key) {
        m_cache = std::make_shared<SearchCache>();
        m_cache->key = key;
    }
    std::shared_ptr<SearchCache> cache = m_cache;
    std::shared_ptr<PlanningSession> session = m_session;
    m_scoring = true;
    emit scoringStarted();
    m_task.start(
        tr("Scoring the rehearsal"),
        [session, cache, specs, needle, preset, attempt](ProgressSink& sink) {
            if (!cache->searched) {
                const planning::SearchResult result =
                    session->search(specs, attempt->exerciseTargetLps, needle, preset, 20000, &sink);
                if (!result.candidates.empty())
                    cache->best = result.candidates.front().trajectory;
                cache->searched = true;
            }
            attempt->plannerBest = cache->best;
            if (!session->body())
                session->prepareBody(&sink);
            std::vector<Vec3> points{attempt->residentEntryLps, attempt->residentTargetLps,
                                     attempt->exerciseTargetLps};
            if (cache->best)
                points.push_back(cache->best->entryLps);
            session->fields()->prepareRegion(specs, points, 30.0, &sink);
            planning::TrajectoryEvaluator evaluator(*session->fields(), specs, session->body());
            planning::EvaluationOptions options;
            options.tipZoneMm = preset.tipZoneMm;
            options.patientPosition = session->patientPosition();
            if (session->body())
                options.midlineXLps = session->body()->midlineXLps();
            const planning::Trajectory resident{attempt->residentEntryLps, attempt->residentTargetLps,
                                                needle};
            attempt->tipErrorMm = distance(attempt->residentTargetLps, attempt->exerciseTargetLps);
            if (cache->best) {
                attempt->measurement = planning::measureNeedle(*cache->best, resident, &evaluator, options);
                attempt->residentEvaluation = *attempt->measurement->actualEvaluation;
                attempt->tipErrorMm = attempt->measurement->errors.tipErrorMm;
            } else {
                attempt->residentEvaluation = evaluator.evaluate(resident, options);
            }
            const planning::Evaluation& evaluation = attempt->residentEvaluation;
            attempt->safe = evaluation.safe;
            if (!evaluation.safe && !evaluation.violations.empty()) {
                const planning::Violation& first = evaluation.violations.front();
                attempt->verdictStructure = first.kind == planning::ViolationKind::Length
                                                ? QStringLiteral("needle length")
                                                : QString::fromStdString(first.structure);
                attempt->verdictClearanceMm = first.clearanceMm;
            } else if (evaluation.closestIndex >= 0) {
                const planning::StructureClearance& closest =
                    evaluation.clearances[static_cast<std::size_t>(evaluation.closestIndex)];
                attempt->verdictStructure = QString::fromStdString(closest.structure);
                attempt->verdictClearanceMm = closest.clearanceMm;
            }
            if (attempt->measurement) {
                for (const std::string& line : attempt->measurement->summary)
                    attempt->summary << rehearsalWording(line);
            } else {
                if (!evaluation.safe)
                    attempt->summary << QStringLiteral("UNSAFE: your path %1")
                                            .arg(evaluation.violations.empty()
                                                     ? QStringLiteral("fails its evaluation")
                                                     : QString::fromStdString(
                                                           evaluation.violations.front().message));
                else
                    attempt->summary << QStringLiteral("SAFE: your path keeps every margin");
                attempt->summary << QStringLiteral(
                                        "the planner found no safe trajectory to this target; your tip is "
                                        "%1 mm from it")
                                        .arg(attempt->tipErrorMm, 0, 'f', 2);
            }
        },
        [this, attempt] {
            m_scoring = false;
            m_attempt = *attempt;
            QString logError;
            appendToLog(m_logPath, *attempt, &logError);
            emit attemptChanged();
            emit scored(true, logError);
        },
        [this](ErrorCode code, const QString& message) {
            m_scoring = false;
            emit attemptChanged();
            emit scored(false, code == ErrorCode::Cancelled ? tr("Scoring was cancelled.")
                                                            : tr("Scoring failed: %1").arg(message));
        });
}

void RehearsalSession::setLogPath(const QString& path)
{
    m_logPath = path;
    QSettings().setValue(kLogPathKey, path);
}

} // namespace np::gui
