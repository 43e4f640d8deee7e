#include "needleplan/gui/Workspace.h"

#include <cmath>
#include <limits>

#include "needleplan/planning/Needle.h"

namespace np::gui {

Workspace::Workspace(QObject* parent) : QObject(parent) {}
Workspace::~Workspace() = default;

void Workspace::setVolume(std::shared_ptr<const imaging::Volume> volume)
{
    m_volume = std::move(volume);
    m_labels.reset();
    m_structures.clear();
    m_targets.clear();
    m_activeTarget = -1;
    if (m_volume) {
        const imaging::Geometry& g = m_volume->geometry();
        m_cursorLps = g.lpsFromIjk({0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    }
    emit volumeChanged();
    emit labelsChanged();
    emit structuresChanged();
    emit planChanged();
    emit cursorChanged();
}

void Workspace::setLabels(std::shared_ptr<const imaging::LabelMap> labels)
{
    std::vector<StructureRow> rows;
    if (labels)
        for (const imaging::Segment& segment : labels->segments())
            rows.push_back(defaultRow(segment));
    setLabels(std::move(labels), std::move(rows));
}

void Workspace::setLabels(std::shared_ptr<const imaging::LabelMap> labels, std::vector<StructureRow> rows)
{
    m_labels = std::move(labels);
    m_structures = m_labels ? std::move(rows) : std::vector<StructureRow>{};
    emit labelsChanged();
    emit structuresChanged();
}

StructureRow Workspace::defaultRow(const imaging::Segment& segment)
{
    StructureRow row;
    row.spec = planning::defaultStructureSpec(segment.name, segment.labelValue);
    row.style.labelValue = segment.labelValue;
    row.style.name = segment.name;
    row.style.colorRgb = segment.colorRgb;
    const std::string& name = segment.name;
    const bool skin = name.find("skin") != std::string::npos || name.find("body") != std::string::npos;
    row.style.opacity = skin ? 0.18 : 1.0;
    // Large soft-tissue labels would hide the image; they stay available but hidden.
    row.style.visible = !(name.find("fat") != std::string::npos || name.find("muscle") != std::string::npos ||
                          name.find("body") != std::string::npos);
    return row;
}

std::vector<render::StructureStyle> Workspace::structureStyles() const
{
    std::vector<render::StructureStyle> styles;
    styles.reserve(m_structures.size());
    for (const StructureRow& row : m_structures)
        styles.push_back(row.style);
    return styles;
}

void Workspace::setStructure(int row, const StructureRow& structure)
{
    if (row < 0 || row >= static_cast<int>(m_structures.size()))
        return;
    m_structures[static_cast<std::size_t>(row)] = structure;
    emit structuresChanged();
}

void Workspace::setCursorLps(const Vec3& cursorLps)
{
    Vec3 clamped = cursorLps;
    if (m_volume) {
        // Keep the cursor inside the image so that no view goes blank.
        const imaging::Geometry& g = m_volume->geometry();
        Vec3 ijk = g.ijkFromLps(cursorLps);
        for (int a = 0; a < 3; ++a)
            ijk[a] = std::clamp(ijk[a], 0.0, static_cast<double>(g.size[static_cast<std::size_t>(a)] - 1));
        clamped = g.lpsFromIjk(ijk);
    }
    if (clamped == m_cursorLps)
        return;
    m_cursorLps = clamped;
    emit cursorChanged();
}

void Workspace::setWindowLevel(double window, double level)
{
    m_window = std::max(1.0, window);
    m_level = level;
    emit windowLevelChanged();
}

const PlanTarget* Workspace::active() const
{
    if (m_activeTarget < 0 || m_activeTarget >= static_cast<int>(m_targets.size()))
        return nullptr;
    return &m_targets[static_cast<std::size_t>(m_activeTarget)];
}

void Workspace::setActiveTarget(int index)
{
    if (index >= static_cast<int>(m_targets.size()))
        index = static_cast<int>(m_targets.size()) - 1;
    if (index == m_activeTarget)
        return;
    m_activeTarget = index;
    emit activeTargetChanged();
    emit planChanged();
}

void Workspace::insertTarget(int index, const PlanTarget& target)
{
    index = std::clamp(index, 0, static_cast<int>(m_targets.size()));
    m_targets.insert(m_targets.begin() + index, target);
    m_activeTarget = index;
    emit activeTargetChanged();
    emit planChanged();
}

void Workspace::removeTarget(int index)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_targets.erase(m_targets.begin() + index);
    m_activeTarget = std::min(m_activeTarget, static_cast<int>(m_targets.size()) - 1);
    emit activeTargetChanged();
    emit planChanged();
}

void Workspace::replaceTarget(int index, const PlanTarget& target)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_targets[static_cast<std::size_t>(index)] = target;
    emit planChanged();
}

void Workspace::setTargetPosition(int index, const Vec3& targetLps)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    target.targetLps = targetLps;
    // Moving the target invalidates the search results.
    target.ranked.clear();
    target.selectedRank = -1;
    emit planChanged();
}

void Workspace::setEntryPosition(int index, const std::optional<Vec3>& entryLps)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    PlanTarget& target = m_targets[static_cast<std::size_t>(index)];
    target.entryLps = entryLps;
    target.selectedRank = -1;
    if (entryLps)
        for (std::size_t r = 0; r < target.ranked.size(); ++r)
            if (distance(target.ranked[r].entryLps, *entryLps) < 1e-9)
                target.selectedRank = static_cast<int>(r);
    emit planChanged();
}

void Workspace::setNeedleName(const std::string& name)
{
    m_needleName = name;
    emit planChanged();
}

void Workspace::setPresetName(const std::string& name)
{
    m_presetName = name;
    emit planChanged();
}

double Workspace::needleRadiusMm() const
{
    const auto needle = planning::findNeedle(m_needleName);
    return needle ? needle->radiusMm() : 0.36;
}

std::string Workspace::nextTargetName() const
{
    for (int n = 1;; ++n) {
        const std::string name = "Target " + std::to_string(n);
        bool used = false;
        for (const PlanTarget& target : m_targets)
            used = used || target.name == name;
        if (!used)
            return name;
    }
}

double Workspace::valueAt(const Vec3& pointLps) const
{
    if (!m_volume)
        return std::numeric_limits<double>::quiet_NaN();
    const Vec3 ijk = m_volume->geometry().ijkFromLps(pointLps);
    if (!m_volume->geometry().containsIjk(ijk))
        return std::numeric_limits<double>::quiet_NaN();
    return m_volume->sampleIjk(ijk, std::numeric_limits<float>::quiet_NaN());
}

} // namespace np::gui
