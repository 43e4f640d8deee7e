// PlanModel: the planning session, clearance measurement and the automatic search.

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/SearchExplanation.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TrajectoryReadout.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/TrajectorySearch.h"

#include <QUndoStack>
#include <algorithm>

namespace np::gui {

void PlanModel::resetSession()
{
    m_session = std::make_shared<PlanningSession>(m_image.volume(), m_structures.labels());
    m_fieldsJobPending = false;
    emit planChanged();
}

QString PlanModel::positionNote() const
{
    // Only a position the image states: an image without one gets no note.
    const auto position = m_image.volume()
                              ? planning::parsePatientPosition(m_image.volume()->info().patientPosition)
                              : std::nullopt;
    return position ? patientPositionNote(m_presetApproach, m_presetTitle, *position) : QString();
}

planning::PatientPosition PlanModel::patientPosition() const
{
    return m_session ? m_session->patientPosition() : planning::PatientPosition::HFS;
}

bool PlanModel::setPreset(const QString& name)
{
    planning::Preset preset;
    try {
        preset = name.isEmpty() ? planning::genericPreset() : planning::loadPreset(name.toStdString());
    } catch (const std::exception& error) {
        emit errorOccurred(tr("Preset not loaded"), QString::fromStdString(error.what()));
        return false;
    }
    // The preset's needle and structure rules, applied to the defaults, as one undo step.
    std::vector<planning::StructureSpec> specs;
    for (const StructureRow& row : m_structures.rows())
        specs.push_back(planning::defaultStructureSpec(row.style.name, row.style.labelValue));
    planning::applyPresetRules(preset, specs);
    m_undo.beginMacro(tr("Preset %1").arg(QString::fromStdString(preset.title)));
    pushPresetChange(name.toStdString());
    if (planning::findNeedle(preset.needle))
        setNeedle(preset.needle);
    m_structures.applyRules(specs, tr("Rules of %1").arg(QString::fromStdString(preset.title)));
    m_undo.endMacro();
    return true;
}

std::optional<planning::Evaluation> PlanModel::evaluation(int index, bool prepare)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return std::nullopt;
    const PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    const auto needle = planning::findNeedle(m_needleName);
    if (!target.entryLps || !needle || !m_session || !m_session->hasLabels() || sessionBusy())
        return std::nullopt;
    const std::vector<planning::StructureSpec> specs = m_structures.specs();
    if (!m_session->fieldsCover(target.targetLps, specs)) {
        if (prepare && !dragging() && !m_fieldsJobPending) {
            // Distance maps around a new target: computed off the GUI thread, then shown.
            m_fieldsJobPending = true;
            ++m_pendingJobs;
            std::shared_ptr<PlanningSession> session = m_session;
            const Vec3 targetLps = target.targetLps;
            const double radius = needle->usableLengthMm + 20.0;
            m_task.start(
                tr("Computing clearance fields"),
                [session, specs, targetLps, radius](ProgressSink& sink) {
                    session->prepareFields(specs, targetLps, radius, &sink);
                },
                [this] {
                    m_fieldsJobPending = false;
                    --m_pendingJobs;
                    emit planChanged();
                    emit fieldsReady();
                },
                [this](ErrorCode code, const QString& message) {
                    m_fieldsJobPending = false;
                    --m_pendingJobs;
                    if (code != ErrorCode::Cancelled)
                        emit errorOccurred(tr("Clearance not measured"), message);
                });
        }
        return std::nullopt;
    }
    try {
        return m_session->evaluate(specs, *target.entryLps, target.targetLps, *needle);
    } catch (const std::exception& error) {
        emit errorOccurred(tr("Clearance not measured"), QString::fromStdString(error.what()));
        return std::nullopt;
    }
}

std::vector<double> PlanModel::slackAlong(int index, int samples) const
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()) || !m_session || sessionBusy())
        return {};
    const PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    if (!target.entryLps)
        return {};
    try {
        return m_session->slackAlong(m_structures.specs(), *target.entryLps, target.targetLps,
                                     needleRadiusMm(), samples);
    } catch (const std::exception&) {
        return {};
    }
}

SearchContext PlanModel::currentSearchContext() const
{
    SearchContext context;
    context.needle = m_needleName;
    context.preset = m_presetName;
    context.labels = m_structures.labels().get();
    context.labelsAlive = m_structures.labels();
    context.specs = m_structures.specs();
    return context;
}

QStringList PlanModel::staleBecause(int index) const
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return {};
    const PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    if (!target.searchContext || (target.ranked.empty() && target.directionsSearched == 0))
        return {};
    const SearchContext& then = *target.searchContext;
    const SearchContext now = currentSearchContext();
    QStringList reasons;
    if (then.preset != now.preset)
        reasons << tr("the procedure");
    if (then.needle != now.needle)
        reasons << tr("the needle");
    const bool sameLabels = then.labels == now.labels && (!then.labels || !then.labelsAlive.expired());
    bool sameSpecs = sameLabels && then.specs.size() == now.specs.size();
    for (std::size_t s = 0; sameSpecs && s < now.specs.size(); ++s) {
        const planning::StructureSpec& a = then.specs[s];
        const planning::StructureSpec& b = now.specs[s];
        sameSpecs = a.name == b.name && a.labelValue == b.labelValue &&
                    a.structureClass == b.structureClass && a.marginMm == b.marginMm;
    }
    if (!sameSpecs)
        reasons << tr("the structures");
    return reasons;
}

std::vector<render::AccessPoint> PlanModel::accessMap(int index) const
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()) || resultsStale(index))
        return {};
    const PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    auto it = m_accessMaps.find(target.name);
    return it != m_accessMaps.end() && !target.ranked.empty() ? it->second
                                                              : std::vector<render::AccessPoint>{};
}

void PlanModel::searchAllTargets()
{
    if (m_targets.empty()) {
        emit errorOccurred(tr("No target"),
                           tr("Add targets first (named targets, or Set target and a click)."));
        emit searchFinished(false, tr("no target"));
        return;
    }
    for (int index = 0; index < static_cast<int>(m_targets.size()); ++index)
        searchTarget(index);
}

void PlanModel::searchTarget(int index)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size())) {
        emit errorOccurred(tr("No target"),
                           tr("Set a target first: press Set target and click in a slice view."));
        emit searchFinished(false, tr("no target"));
        return;
    }
    if (!m_session || !m_session->hasLabels()) {
        emit errorOccurred(tr("No structures"),
                           tr("The search needs structures. Load a segmentation (.seg.nrrd) first."));
        emit searchFinished(false, tr("no structures"));
        return;
    }
    const auto needle = planning::findNeedle(m_needleName);
    planning::Preset preset;
    try {
        preset = m_presetName.empty() ? planning::genericPreset() : planning::loadPreset(m_presetName);
    } catch (const std::exception& error) {
        emit errorOccurred(tr("Preset not loaded"), QString::fromStdString(error.what()));
        emit searchFinished(false, QString::fromStdString(error.what()));
        return;
    }
    const PlanTarget before = m_targets[static_cast<std::size_t>(index)];
    const std::vector<planning::StructureSpec> specs = m_structures.specs();
    const SearchContext context = currentSearchContext();
    auto result = std::make_shared<planning::SearchResult>();
    auto note = std::make_shared<std::vector<std::string>>();
    std::shared_ptr<PlanningSession> session = m_session;
    const planning::Needle chosenNeedle = needle ? *needle : planning::needleCatalogue().front();
    ++m_pendingJobs;
    m_task.start(
        tr("Searching trajectories for %1").arg(QString::fromStdString(before.name)),
        [session, specs, before, chosenNeedle, preset, result, note](ProgressSink& sink) {
            *result = session->search(specs, before.targetLps, chosenNeedle, preset, 20000, &sink);
            // Nothing found: say why, from the per-direction reasons and the fields used.
            if (result->candidates.empty() && session->fields())
                *note = explainEmptySearch(*result, *session->fields(), specs, chosenNeedle.radiusMm(),
                                           chosenNeedle.usableLengthMm, preset.tipZoneMm);
        },
        [this, index, before, result, note, context] {
            --m_pendingJobs;
            // The target may have changed or gone while the search ran: then the result is stale.
            if (index >= static_cast<int>(m_targets.size()) ||
                m_targets[static_cast<std::size_t>(index)].name != before.name ||
                distance(m_targets[static_cast<std::size_t>(index)].targetLps, before.targetLps) > 1e-9) {
                emit statusMessage(tr("The target changed during the search; search again."));
                emit searchFinished(false, tr("target changed"));
                return;
            }
            PlanTarget after = m_targets[static_cast<std::size_t>(index)];
            after.ranked.clear();
            for (const planning::Candidate& candidate : result->candidates)
                after.ranked.push_back({candidate.trajectory.entryLps, candidate.trajectory.targetLps,
                                        candidate.score, candidate.pareto, candidate.evaluation});
            after.directionsSearched = static_cast<int>(result->directions.size());
            after.feasibleDirections = result->feasibleCount;
            after.searchNote = *note;
            after.searchContext = context;
            after.selectedRank = after.ranked.empty() ? -1 : 0;
            if (!after.ranked.empty())
                after.entryLps = after.ranked.front().entryLps;
            // Accessibility map: every direction that reached the skin.
            std::vector<render::AccessPoint> points;
            float best = 0.0f, worst = 0.0f;
            bool any = false;
            for (const auto& d : result->directions)
                if (d.feasible) {
                    best = any ? std::max(best, d.score) : d.score;
                    worst = any ? std::min(worst, d.score) : d.score;
                    any = true;
                }
            for (const auto& d : result->directions)
                if (d.reachedSkin) {
                    const double quality =
                        d.feasible && best > worst ? (d.score - worst) / (best - worst) : 1.0;
                    points.push_back({d.skinEntryLps, d.feasible, quality});
                }
            m_accessMaps[after.name] = points;
            editTarget(index, after, tr("Find safe trajectories"));
            if (after.ranked.empty())
                emit statusMessage(tr("No safe trajectory for %1 (%2 of %3 directions feasible): %4")
                                       .arg(QString::fromStdString(after.name))
                                       .arg(after.feasibleDirections)
                                       .arg(after.directionsSearched)
                                       .arg(QString::fromStdString(searchNoteText(after.searchNote))));
            else
                emit statusMessage(tr("%1 safe trajectories; %2 of %3 directions feasible")
                                       .arg(after.ranked.size())
                                       .arg(after.feasibleDirections)
                                       .arg(after.directionsSearched));
            emit searchFinished(true, QString());
        },
        [this](ErrorCode code, const QString& message) {
            --m_pendingJobs;
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("Search failed"), message);
            emit searchFinished(false, message);
        });
}

} // namespace np::gui
