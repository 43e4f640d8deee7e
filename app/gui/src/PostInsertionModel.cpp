#include "needleplan/gui/PostInsertionModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/ImageLoader.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"

#include <memory>

namespace np::gui {

PostInsertionModel::PostInsertionModel(ImageModel& image, StructuresModel& structures, PlanModel& plan,
                                       BackgroundTask& task, QObject* parent)
    : QObject(parent), m_image(image), m_structures(structures), m_plan(plan), m_task(task)
{
    setObjectName("postInsertionModel");
    connect(&m_image, &ImageModel::volumeChanged, this, &PostInsertionModel::clear);
    connect(&m_plan, &PlanModel::planChanged, this, &PostInsertionModel::updateStale);
}

planning::Plan PostInsertionModel::validationPlan() const
{
    planning::Plan plan = m_plan.toDocument();
    for (std::size_t t = 0; t < plan.targets.size() && t < m_plan.targets().size(); ++t) {
        const PlanTarget& target = m_plan.targets()[t];
        plan.targets[t].trajectories.clear();
        if (!target.entryLps)
            continue;
        planning::PlannedTrajectory inUse;
        inUse.rank = 1;
        inUse.trajectory = {*target.entryLps, target.targetLps, plan.needle};
        plan.targets[t].trajectories.push_back(inUse);
    }
    return plan;
}

void PostInsertionModel::open(const QString& path, int seriesIndex)
{
    const auto planningCt = m_image.volume();
    if (m_running) {
        emit finished(false, tr("A post-insertion CT is being validated; wait for it or cancel it."));
        return;
    }
    if (!planningCt) {
        emit finished(false, tr("Open the planning CT and its plan first, then the post-insertion CT."));
        return;
    }
    const planning::Plan plan = validationPlan();
    if (planning::plannedTrajectories(plan).empty()) {
        emit finished(false, tr("The plan has no trajectory to compare with: set an entry or find safe "
                                "trajectories first."));
        return;
    }
    const auto labels = m_structures.labels();
    const std::vector<planning::StructureSpec> specs = m_structures.specs();
    const std::string native = path.toStdString();
    auto out = std::make_shared<planning::ValidationResult>();
    m_running = true;
    m_task.start(
        tr("Validating the post-insertion CT"),
        [planningCt, labels, specs, plan, native, seriesIndex, out](ProgressSink& sink) {
            imaging::LoadOptions load;
            load.seriesIndex = seriesIndex;
            const imaging::Volume post = imaging::loadVolume(native, load, &sink);
            // The actual paths are evaluated against the plan's structures, as the CLI does.
            planning::ValidationOptions options;
            options.evaluation.patientPosition =
                planning::parsePatientPosition(planningCt->info().patientPosition)
                    .value_or(planning::PatientPosition::HFS);
            std::unique_ptr<PlanningSession> session;
            std::unique_ptr<planning::TrajectoryEvaluator> evaluator;
            if (labels) {
                session = std::make_unique<PlanningSession>(planningCt, labels);
                session->prepareBody(&sink);
                std::vector<Vec3> points;
                for (const planning::Trajectory& t : planning::plannedTrajectories(plan))
                    points.push_back(t.entryLps), points.push_back(t.targetLps);
                session->fields()->prepareRegion(specs, points, 30.0, &sink);
                if (session->body())
                    options.evaluation.midlineXLps = session->body()->midlineXLps();
                evaluator = std::make_unique<planning::TrajectoryEvaluator>(*session->fields(), specs,
                                                                            session->body());
            }
            *out = planning::validatePostInsertion(plan, *planningCt, post, evaluator.get(), options, &sink);
        },
        [this, out, path, plan, seriesIndex] {
            m_running = false;
            m_postPath = path;
            m_seriesIndex = seriesIndex;
            m_result = *out;
            m_measuredTrajectories = planning::plannedTrajectories(plan, &m_measuredTargets);
            m_stale = false;
            updateStale(); // the plan may have changed while this ran
            emit resultChanged();
            emit finished(out->completed, out->completed
                                              ? QString()
                                              : tr("%1: %2").arg(path, QString::fromStdString(out->failure)));
        },
        [this, path](ErrorCode code, const QString& message) {
            m_running = false;
            emit finished(false, code == ErrorCode::Cancelled
                                     ? tr("The post-insertion validation was cancelled.")
                                     : tr("%1: %2").arg(path, message));
        });
}

void PostInsertionModel::clear()
{
    m_result.reset();
    m_postPath.clear();
    m_measuredTrajectories.clear();
    m_measuredTargets.clear();
    updateStale();
    emit resultChanged();
}

void PostInsertionModel::remeasure()
{
    if (!m_postPath.isEmpty())
        open(m_postPath, m_seriesIndex);
}

void PostInsertionModel::updateStale()
{
    bool stale = false;
    if (m_result) {
        std::vector<std::string> names;
        const std::vector<planning::Trajectory> now = planning::plannedTrajectories(validationPlan(), &names);
        stale = names != m_measuredTargets || now.size() != m_measuredTrajectories.size();
        for (std::size_t t = 0; !stale && t < now.size(); ++t)
            stale = now[t].entryLps != m_measuredTrajectories[t].entryLps ||
                    now[t].targetLps != m_measuredTrajectories[t].targetLps ||
                    now[t].needle.name != m_measuredTrajectories[t].needle.name;
    }
    if (stale == m_stale)
        return;
    m_stale = stale;
    emit staleChanged(m_stale);
}

std::vector<PostInsertionRow> PostInsertionModel::rows() const
{
    std::vector<PostInsertionRow> rows;
    if (!m_result)
        return rows;
    const planning::ValidationResult& r = *m_result;
    for (std::size_t p = 0; p < r.planned.size(); ++p) {
        PostInsertionRow row;
        row.target = p < r.plannedTargets.size() ? QString::fromStdString(r.plannedTargets[p]) : QString();
        row.verdict = r.completed ? tr("no needle found for this trajectory")
                                  : tr("not measured: %1").arg(QString::fromStdString(r.failure));
        for (std::size_t n = 0; n < r.needles.size(); ++n) {
            const planning::ValidatedNeedle& needle = r.needles[n];
            if (needle.match.plannedIndex != static_cast<int>(p) || !needle.measurement)
                continue;
            row.needle = tr("needle %1").arg(n + 1);
            row.errors = needle.measurement->errors;
            row.safe = needle.measurement->actualSafe;
            row.verdict = needle.measurement->summary.empty()
                              ? QString()
                              : QString::fromStdString(needle.measurement->summary.front());
        }
        rows.push_back(row);
    }
    for (std::size_t n = 0; n < r.needles.size(); ++n) {
        const planning::ValidatedNeedle& needle = r.needles[n];
        if (needle.match.plannedIndex >= 0)
            continue;
        PostInsertionRow row;
        row.needle = tr("needle %1").arg(n + 1);
        row.verdict =
            tr("matches no planned trajectory: %1").arg(QString::fromStdString(needle.match.reason));
        rows.push_back(row);
    }
    return rows;
}

PlanGraphics PostInsertionModel::graphics(double radiusMm) const
{
    PlanGraphics graphics;
    if (!m_result || !m_result->completed)
        return graphics;
    for (const planning::ValidatedNeedle& needle : m_result->needles) {
        render::TrajectoryGraphic graphic;
        graphic.entryLps = needle.entryLps;
        graphic.targetLps = needle.tipLps;
        graphic.radiusMm = radiusMm;
        graphic.colorRgb = kActualNeedleRgb;
        graphics.trajectories.push_back(graphic);
    }
    return graphics;
}

QString PostInsertionModel::statusText() const
{
    if (!m_result)
        return QString();
    const planning::ValidationResult& r = *m_result;
    QString text = tr("Registration: %1").arg(QString::fromStdString(r.registration.verdict));
    if (!r.completed)
        text = tr("Not measured: %1. %2").arg(QString::fromStdString(r.failure), text);
    else
        text += tr(" %1 needle(s) found.").arg(r.needles.size());
    for (const std::string& warning : r.warnings)
        text += "\n" + QString::fromStdString(warning);
    return text;
}

} // namespace np::gui
