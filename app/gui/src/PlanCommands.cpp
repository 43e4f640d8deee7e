#include "needleplan/gui/PlanCommands.h"

namespace np::gui {

EditTargetCommand::EditTargetCommand(Workspace& workspace, int index, PlanTarget before, PlanTarget after,
                                     const QString& text, int dragKey)
    : QUndoCommand(text), m_workspace(workspace), m_index(index), m_before(std::move(before)),
      m_after(std::move(after)), m_dragKey(dragKey)
{
}

void EditTargetCommand::undo()
{
    m_workspace.replaceTarget(m_index, m_before);
    m_workspace.setActiveTarget(m_index);
}

void EditTargetCommand::redo()
{
    m_workspace.replaceTarget(m_index, m_after);
    m_workspace.setActiveTarget(m_index);
}

bool EditTargetCommand::mergeWith(const QUndoCommand* other)
{
    const auto* next = dynamic_cast<const EditTargetCommand*>(other);
    if (!next || m_dragKey == 0 || next->m_dragKey != m_dragKey || next->m_index != m_index)
        return false;
    m_after = next->m_after;
    return true;
}

AddTargetCommand::AddTargetCommand(Workspace& workspace, PlanTarget target)
    : QUndoCommand(QObject::tr("Add target %1").arg(QString::fromStdString(target.name))), m_workspace(workspace),
      m_target(std::move(target))
{
}

void AddTargetCommand::undo()
{
    m_workspace.removeTarget(m_index);
    m_workspace.setActiveTarget(m_previousActive);
}

void AddTargetCommand::redo()
{
    m_previousActive = m_workspace.activeTarget();
    m_index = static_cast<int>(m_workspace.targets().size());
    m_workspace.insertTarget(m_index, m_target);
}

RemoveTargetCommand::RemoveTargetCommand(Workspace& workspace, int index)
    : QUndoCommand(QObject::tr("Remove target")), m_workspace(workspace), m_index(index),
      m_target(workspace.targets().at(static_cast<std::size_t>(index)))
{
}

void RemoveTargetCommand::undo() { m_workspace.insertTarget(m_index, m_target); }
void RemoveTargetCommand::redo() { m_workspace.removeTarget(m_index); }

EditStructureCommand::EditStructureCommand(Workspace& workspace, int row, StructureRow before, StructureRow after,
                                           const QString& text)
    : QUndoCommand(text), m_workspace(workspace), m_row(row), m_before(std::move(before)), m_after(std::move(after))
{
}

void EditStructureCommand::undo() { m_workspace.setStructure(m_row, m_before); }
void EditStructureCommand::redo() { m_workspace.setStructure(m_row, m_after); }

SetNeedleCommand::SetNeedleCommand(Workspace& workspace, std::string before, std::string after)
    : QUndoCommand(QObject::tr("Needle %1").arg(QString::fromStdString(after))), m_workspace(workspace),
      m_before(std::move(before)), m_after(std::move(after))
{
}

ReplaceStructuresCommand::ReplaceStructuresCommand(Workspace& workspace, std::shared_ptr<const imaging::LabelMap> afterLabels,
                                                   std::vector<StructureRow> afterRows, const QString& text,
                                                   std::function<void()> applied)
    : m_workspace(workspace), m_beforeLabels(workspace.labels()), m_beforeRows(workspace.structures()),
      m_afterLabels(std::move(afterLabels)), m_afterRows(std::move(afterRows)), m_applied(std::move(applied))
{
    setText(text);
}

void ReplaceStructuresCommand::undo()
{
    m_workspace.setLabels(m_beforeLabels, m_beforeRows);
    if (m_applied)
        m_applied();
}

void ReplaceStructuresCommand::redo()
{
    m_workspace.setLabels(m_afterLabels, m_afterRows);
    if (m_applied)
        m_applied();
}

} // namespace np::gui
