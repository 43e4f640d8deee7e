#include "needleplan/gui/PlanningSession.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <algorithm>

namespace np::gui {

PlanningSession::PlanningSession(std::shared_ptr<const imaging::Volume> volume,
                                 std::shared_ptr<const imaging::LabelMap> labels)
    : m_volume(std::move(volume)), m_labels(std::move(labels))
{
    if (m_volume)
        if (auto position = planning::parsePatientPosition(m_volume->info().patientPosition))
            m_patientPosition = *position;
    if (m_labels) {
        m_fieldLabels = std::make_unique<imaging::LabelMap>(*m_labels);
        for (const imaging::Segment& segment : m_fieldLabels->segments())
            m_maxLabelValue = std::max(m_maxLabelValue, segment.labelValue);
        m_fields = std::make_unique<planning::ClearanceFieldSet>(*m_fieldLabels);
    }
}

bool PlanningSession::updateLabels(std::shared_ptr<const imaging::LabelMap> labels,
                                   std::vector<std::uint16_t>* changed)
{
    if (!labels || !m_fields || !m_fieldLabels)
        return false;
    const imaging::Geometry& before = m_fieldLabels->geometry();
    const imaging::Geometry& after = labels->geometry();
    if (before.size != after.size || distance(before.spacing, after.spacing) > 1e-9 ||
        distance(before.originLps, after.originLps) > 1e-9 ||
        labels->labels().size() != m_fieldLabels->labels().size())
        return false;
    // Structures added since (new segments, e.g. painted in the workstation) are taken on.
    std::uint16_t maxLabelValue = m_maxLabelValue;
    for (const imaging::Segment& segment : labels->segments())
        maxLabelValue = std::max(maxLabelValue, segment.labelValue);
    for (const std::uint16_t* p = labels->data(); p != labels->data() + labels->labels().size(); ++p)
        if (*p > maxLabelValue)
            return false;
    m_maxLabelValue = maxLabelValue;
    // Label values whose voxels changed, or whose segment was renamed, added or removed.
    std::vector<bool> differs(static_cast<std::size_t>(m_maxLabelValue) + 1, false);
    const std::uint16_t* oldData = m_fieldLabels->data();
    const std::uint16_t* newData = labels->data();
    for (std::size_t v = 0; v < labels->labels().size(); ++v)
        if (oldData[v] != newData[v])
            differs[oldData[v]] = differs[newData[v]] = true;
    auto nameOf = [](const imaging::LabelMap& map, std::uint16_t value) {
        for (const imaging::Segment& segment : map.segments())
            if (segment.labelValue == value)
                return segment.name;
        return std::string();
    };
    for (std::uint16_t value = 1; value <= m_maxLabelValue; ++value)
        if (nameOf(*m_fieldLabels, value) != nameOf(*labels, value))
            differs[value] = true;
    m_fieldLabels->labels() = labels->labels();
    m_fieldLabels->segments() = labels->segments();
    m_labels = std::move(labels);
    std::vector<std::uint16_t> values;
    for (std::uint16_t value = 1; value <= m_maxLabelValue; ++value) {
        if (!differs[value])
            continue;
        values.push_back(value);
        m_fields->invalidate(value);
        m_preparedLabels.erase(std::remove(m_preparedLabels.begin(), m_preparedLabels.end(), value),
                               m_preparedLabels.end());
        const std::string name = nameOf(*m_fieldLabels, value);
        if (name.empty() || name.find("skin") != std::string::npos || name.find("body") != std::string::npos)
            m_body.reset();
    }
    if (changed)
        *changed = values;
    return true;
}

PlanningSession::~PlanningSession() = default;

void PlanningSession::prepareBody(ProgressSink* progress)
{
    reportProgress(progress, 0.0, "Body model");
    if (m_labels) {
        std::vector<std::uint16_t> values;
        for (const imaging::Segment& segment : m_labels->segments())
            if (segment.name.find("skin") != std::string::npos ||
                segment.name.find("body") != std::string::npos)
                values.push_back(segment.labelValue);
        if (!values.empty()) {
            m_body =
                std::make_unique<planning::BodyModel>(planning::BodyModel::fromLabels(*m_labels, values));
            return;
        }
    }
    if (m_volume)
        m_body = std::make_unique<planning::BodyModel>(planning::BodyModel::fromCt(*m_volume));
    reportProgress(progress, 1.0, "Body model");
}

void PlanningSession::prepareFields(const std::vector<planning::StructureSpec>& structures,
                                    const Vec3& targetLps, double radiusMm, ProgressSink* progress)
{
    if (!m_fields)
        return;
    m_fields->prepare(structures, targetLps, radiusMm, progress);
    m_preparedCentreLps = targetLps;
    m_preparedRadiusMm = radiusMm;
    m_preparedLabels.clear();
    for (const planning::StructureSpec& spec : structures)
        if (spec.structureClass != planning::StructureClass::Ignored)
            m_preparedLabels.push_back(spec.labelValue);
}

planning::SearchResult PlanningSession::search(const std::vector<planning::StructureSpec>& structures,
                                               const Vec3& targetLps, const planning::Needle& needle,
                                               const planning::Preset& preset, int directionCount,
                                               ProgressSink* progress)
{
    if (!m_fields)
        throw Error(ErrorCode::InvalidArgument,
                    "the search needs structures: load a segmentation (.seg.nrrd) first");
    if (!m_body)
        prepareBody(progress);
    planning::SearchOptions options;
    options.directionCount = directionCount;
    options.topK = 8;
    options.threads = 2;
    options.evaluation.patientPosition = m_patientPosition;
    planning::SearchResult result =
        planning::planTarget(*m_fields, structures, *m_body, targetLps, needle, preset, options, progress);
    m_preparedCentreLps = targetLps;
    m_preparedRadiusMm = needle.usableLengthMm + 5.0;
    m_preparedLabels.clear();
    for (const planning::StructureSpec& spec : structures)
        if (spec.structureClass != planning::StructureClass::Ignored)
            m_preparedLabels.push_back(spec.labelValue);
    return result;
}

bool PlanningSession::fieldsCover(const Vec3& targetLps,
                                  const std::vector<planning::StructureSpec>& structures) const
{
    if (!m_preparedCentreLps || distance(*m_preparedCentreLps, targetLps) >= 8.0)
        return false;
    for (const planning::StructureSpec& spec : structures)
        if (spec.structureClass != planning::StructureClass::Ignored &&
            std::find(m_preparedLabels.begin(), m_preparedLabels.end(), spec.labelValue) ==
                m_preparedLabels.end())
            return false;
    return true;
}

std::vector<double> PlanningSession::slackAlong(const std::vector<planning::StructureSpec>& structures,
                                                const Vec3& entryLps, const Vec3& targetLps, double radiusMm,
                                                int samples) const
{
    std::vector<double> slack;
    if (!m_fields || samples < 2 || !fieldsCover(targetLps, structures))
        return slack;
    slack.assign(static_cast<std::size_t>(samples), 1e9);
    for (const planning::StructureSpec& spec : structures) {
        if (spec.structureClass != planning::StructureClass::Forbidden &&
            spec.structureClass != planning::StructureClass::Caution)
            continue;
        for (int s = 0; s < samples; ++s) {
            const Vec3 pointLps =
                entryLps + (targetLps - entryLps) * (static_cast<double>(s) / (samples - 1));
            const double clearance = m_fields->distanceMm(spec.labelValue, pointLps) - radiusMm;
            slack[static_cast<std::size_t>(s)] =
                std::min(slack[static_cast<std::size_t>(s)], clearance - spec.marginMm);
        }
    }
    return slack;
}

std::optional<planning::Evaluation>
PlanningSession::evaluate(const std::vector<planning::StructureSpec>& structures, const Vec3& entryLps,
                          const Vec3& targetLps, const planning::Needle& needle) const
{
    if (!m_fields || distance(entryLps, targetLps) < 1e-6)
        return std::nullopt;
    planning::TrajectoryEvaluator evaluator(*m_fields, structures, m_body.get());
    planning::EvaluationOptions options;
    options.patientPosition = m_patientPosition;
    if (m_body)
        options.midlineXLps = m_body->midlineXLps();
    planning::Trajectory trajectory{entryLps, targetLps, needle};
    return evaluator.evaluate(trajectory, options);
}

} // namespace np::gui
