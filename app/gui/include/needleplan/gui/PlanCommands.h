#pragma once
/// Undoable edits of the plan and the structures (QUndoStack commands). A drag pushes one command
/// per mouse move with the same drag key; they merge, so one drag is one undo step.

#include <QUndoCommand>

#include <functional>
#include <memory>
#include <vector>

#include "needleplan/gui/Workspace.h"

namespace np::gui {

/// Replaces one target (position, entry, candidates, name) with a new state.
class EditTargetCommand : public QUndoCommand
{
public:
    /// `dragKey` != 0 merges consecutive commands of the same drag on the same target.
    EditTargetCommand(Workspace& workspace, int index, PlanTarget before, PlanTarget after, const QString& text,
                      int dragKey = 0);
    void undo() override;
    void redo() override;
    int id() const override { return m_dragKey != 0 ? 0x4e50 : -1; }
    bool mergeWith(const QUndoCommand* other) override;

private:
    Workspace& m_workspace;
    int m_index;
    PlanTarget m_before;
    PlanTarget m_after;
    int m_dragKey;
};

/// Adds a target at the end of the list and makes it active.
class AddTargetCommand : public QUndoCommand
{
public:
    AddTargetCommand(Workspace& workspace, PlanTarget target);
    void undo() override;
    void redo() override;

private:
    Workspace& m_workspace;
    PlanTarget m_target;
    int m_index = -1;
    int m_previousActive = -1;
};

/// Removes a target.
class RemoveTargetCommand : public QUndoCommand
{
public:
    RemoveTargetCommand(Workspace& workspace, int index);
    void undo() override;
    void redo() override;

private:
    Workspace& m_workspace;
    int m_index;
    PlanTarget m_target;
};

/// Changes a structure's display or planning rule.
class EditStructureCommand : public QUndoCommand
{
public:
    EditStructureCommand(Workspace& workspace, int row, StructureRow before, StructureRow after, const QString& text);
    void undo() override;
    void redo() override;

private:
    Workspace& m_workspace;
    int m_row;
    StructureRow m_before;
    StructureRow m_after;
};

/// Replaces the label map and structure rows (structures segmented or imported), one undo step.
/// `applied` runs after every undo and redo (the window rebuilds what depends on the labels).
class ReplaceStructuresCommand : public QUndoCommand
{
public:
    ReplaceStructuresCommand(Workspace& workspace, std::shared_ptr<const imaging::LabelMap> afterLabels,
                             std::vector<StructureRow> afterRows, const QString& text, std::function<void()> applied);
    void undo() override;
    void redo() override;

private:
    Workspace& m_workspace;
    std::shared_ptr<const imaging::LabelMap> m_beforeLabels;
    std::vector<StructureRow> m_beforeRows;
    std::shared_ptr<const imaging::LabelMap> m_afterLabels;
    std::vector<StructureRow> m_afterRows;
    std::function<void()> m_applied;
};

/// Chooses another needle for the plan.
class SetNeedleCommand : public QUndoCommand
{
public:
    SetNeedleCommand(Workspace& workspace, std::string before, std::string after);
    void undo() override { m_workspace.setNeedleName(m_before); }
    void redo() override { m_workspace.setNeedleName(m_after); }

private:
    Workspace& m_workspace;
    std::string m_before;
    std::string m_after;
};

} // namespace np::gui
