// PlanModel: the vertebral level of each target, from the structures' vertebra labels.

#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/planning/VertebralLevel.h"

namespace np::gui {

QString PlanModel::vertebralLevel(int index) const
{
    const auto labels = m_structures.labels();
    if (!labels || index < 0 || index >= static_cast<int>(m_targets.size()))
        return {};
    const auto level =
        planning::vertebralLevelAt(*labels, m_targets[static_cast<std::size_t>(index)].targetLps);
    if (!level)
        return {};
    const QString name = QString::fromStdString(level->level);
    return level->ambiguous ? tr("%1 (or %2)").arg(name, QString::fromStdString(level->runnerUp)) : name;
}

} // namespace np::gui
