#include "needleplan/gui/PlanModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanningSession.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QUndoCommand>
#include <QUndoStack>

namespace np::gui {

namespace {

/// Replaces one target (position, entry, candidates, name) with a new state. Commands with the
/// same non-zero drag key on the same target merge (one drag, one undo step).
class EditTargetCommand : public QUndoCommand
{
public:
    EditTargetCommand(PlanModel& model, int index, PlanTarget before, PlanTarget after, const QString& text,
                      int dragKey = 0)
        : QUndoCommand(text), m_model(model), m_index(index), m_before(std::move(before)),
          m_after(std::move(after)), m_dragKey(dragKey)
    {
    }
    void undo() override
    {
        m_model.replaceTarget(m_index, m_before);
        m_model.setActiveTarget(m_index);
    }
    void redo() override
    {
        m_model.replaceTarget(m_index, m_after);
        m_model.setActiveTarget(m_index);
    }
    int id() const override { return m_dragKey != 0 ? 0x4e50 : -1; }
    bool mergeWith(const QUndoCommand* other) override
    {
        const auto* next = dynamic_cast<const EditTargetCommand*>(other);
        if (!next || m_dragKey == 0 || next->m_dragKey != m_dragKey || next->m_index != m_index)
            return false;
        m_after = next->m_after;
        return true;
    }

private:
    PlanModel& m_model;
    int m_index;
    PlanTarget m_before;
    PlanTarget m_after;
    int m_dragKey;
};

/// Adds a target at the end of the list and makes it active.
class AddTargetCommand : public QUndoCommand
{
public:
    AddTargetCommand(PlanModel& model, PlanTarget target)
        : QUndoCommand(PlanModel::tr("Add target %1").arg(QString::fromStdString(target.name))),
          m_model(model), m_target(std::move(target))
    {
    }
    void undo() override
    {
        m_model.removeTargetAt(m_index);
        m_model.setActiveTarget(m_previousActive);
    }
    void redo() override
    {
        m_previousActive = m_model.activeTarget();
        m_index = static_cast<int>(m_model.targets().size());
        m_model.insertTarget(m_index, m_target);
    }

private:
    PlanModel& m_model;
    PlanTarget m_target;
    int m_index = -1;
    int m_previousActive = -1;
};

/// Removes a target.
class RemoveTargetCommand : public QUndoCommand
{
public:
    RemoveTargetCommand(PlanModel& model, int index)
        : QUndoCommand(
              PlanModel::tr("Remove target %1")
                  .arg(QString::fromStdString(model.targets().at(static_cast<std::size_t>(index)).name))),
          m_model(model), m_index(index), m_target(model.targets().at(static_cast<std::size_t>(index)))
    {
    }
    void undo() override { m_model.insertTarget(m_index, m_target); }
    void redo() override { m_model.removeTargetAt(m_index); }

private:
    PlanModel& m_model;
    int m_index;
    PlanTarget m_target;
};

/// Chooses another needle for the plan.
class SetNeedleCommand : public QUndoCommand
{
public:
    SetNeedleCommand(PlanModel& model, std::string before, std::string after)
        : QUndoCommand(PlanModel::tr("Needle %1").arg(QString::fromStdString(after))), m_model(model),
          m_before(std::move(before)), m_after(std::move(after))
    {
    }
    void undo() override { m_model.setNeedleName(m_before); }
    void redo() override { m_model.setNeedleName(m_after); }

private:
    PlanModel& m_model;
    std::string m_before;
    std::string m_after;
};

/// Chooses another procedure preset (its needle and rules are commands of their own).
class SetPresetCommand : public QUndoCommand
{
public:
    SetPresetCommand(PlanModel& model, std::string before, std::string after)
        : QUndoCommand(PlanModel::tr("Procedure")), m_model(model), m_before(std::move(before)),
          m_after(std::move(after))
    {
    }
    void undo() override { m_model.setPresetName(m_before); }
    void redo() override { m_model.setPresetName(m_after); }

private:
    PlanModel& m_model;
    std::string m_before;
    std::string m_after;
};

} // namespace

void PlanModel::pushPresetChange(const std::string& name)
{
    if (name != m_presetName)
        m_undo.push(new SetPresetCommand(*this, m_presetName, name));
}

PlanModel::PlanModel(ImageModel& image, StructuresModel& structures, QUndoStack& undo, BackgroundTask& task,
                     QObject* parent)
    : QObject(parent), m_image(image), m_structures(structures), m_undo(undo), m_task(task),
      m_saveTask(new BackgroundTask(this))
{
    connect(&image, &ImageModel::volumeChanged, this, [this] {
        m_planPath.clear();
        m_undo.clear();
        clear();
    });
    // A new planning session drops every clearance field of the previous labels; jobs still
    // running or queued keep the old session alive through their own reference.
    // New labels on the same grid keep the session: only the changed structures' fields go.
    connect(&structures, &StructuresModel::labelsChanged, this, [this] {
        if (m_session && !sessionBusy() && m_structures.labels() &&
            m_session->updateLabels(m_structures.labels())) {
            emit planChanged();
            return;
        }
        resetSession();
    });
    // Rules and styles change evaluations (and make results stale), not fields.
    connect(&structures, &StructuresModel::rowChanged, this, &PlanModel::planChanged);
}

PlanModel::~PlanModel()
{
    // A save in progress finishes: its files are complete before the plan goes.
    waitForSaves();
}

const PlanTarget* PlanModel::active() const
{
    if (m_activeTarget < 0 || m_activeTarget >= static_cast<int>(m_targets.size()))
        return nullptr;
    return &m_targets[static_cast<std::size_t>(m_activeTarget)];
}

void PlanModel::setActiveTarget(int index)
{
    if (index >= static_cast<int>(m_targets.size()))
        index = static_cast<int>(m_targets.size()) - 1;
    if (index == m_activeTarget)
        return;
    m_activeTarget = index;
    emit activeTargetChanged();
    emit planChanged();
}

double PlanModel::needleRadiusMm() const
{
    const auto needle = planning::findNeedle(m_needleName);
    return needle ? needle->radiusMm() : 0.36;
}

std::string PlanModel::nextTargetName() const
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

void PlanModel::addTarget(const QString& name, const Vec3& targetLps)
{
    PlanTarget target;
    target.name = name.trimmed().isEmpty() ? nextTargetName() : name.trimmed().toStdString();
    target.targetLps = targetLps;
    m_undo.push(new AddTargetCommand(*this, target));
}

void PlanModel::addTargets(const std::vector<NamedTargetEntry>& entries)
{
    m_undo.beginMacro(tr("Add %1 targets").arg(entries.size()));
    for (const NamedTargetEntry& entry : entries)
        addTarget(entry.name, entry.positionLps);
    m_undo.endMacro();
}

void PlanModel::moveActiveTarget(const Vec3& targetLps)
{
    const PlanTarget* current = active();
    if (!current) {
        addTarget(QString(), targetLps);
        return;
    }
    PlanTarget after = *current;
    after.targetLps = targetLps;
    after.ranked.clear();
    after.searchNote.clear();
    after.selectedRank = -1;
    m_undo.push(new EditTargetCommand(*this, m_activeTarget, *current, after, tr("Move target")));
}

bool PlanModel::setEntry(const Vec3& entryLps)
{
    const PlanTarget* current = active();
    if (!current)
        return false;
    PlanTarget after = *current;
    after.entryLps = entryLps;
    after.selectedRank = -1;
    m_undo.push(new EditTargetCommand(*this, m_activeTarget, *current, after, tr("Set entry")));
    return true;
}

void PlanModel::removeTarget(int index)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_undo.push(new RemoveTargetCommand(*this, index));
}

void PlanModel::renameTarget(int index, const QString& name)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    const std::string trimmed = name.trimmed().toStdString();
    const PlanTarget& before = m_targets[static_cast<std::size_t>(index)];
    if (trimmed.empty() || trimmed == before.name)
        return;
    PlanTarget after = before;
    after.name = trimmed;
    m_undo.push(new EditTargetCommand(*this, index, before, after, tr("Rename target")));
}

void PlanModel::selectCandidate(int rank)
{
    const PlanTarget* current = active();
    if (!current || rank < 0 || rank >= static_cast<int>(current->ranked.size()))
        return;
    PlanTarget after = *current;
    after.entryLps = current->ranked[static_cast<std::size_t>(rank)].entryLps;
    after.selectedRank = rank;
    m_undo.push(new EditTargetCommand(*this, m_activeTarget, *current, after,
                                      tr("Choose trajectory %1").arg(rank + 1)));
}

void PlanModel::setNeedle(const std::string& name)
{
    if (name != m_needleName)
        m_undo.push(new SetNeedleCommand(*this, m_needleName, name));
}

void PlanModel::editTarget(int index, const PlanTarget& after, const QString& text)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_undo.push(new EditTargetCommand(*this, index, m_targets[static_cast<std::size_t>(index)], after, text));
}

void PlanModel::beginDrag()
{
    m_dragKey = m_nextDragKey++;
    if (const PlanTarget* current = active())
        m_dragStart = *current;
}

void PlanModel::dragHandle(int handle, const Vec3& pointLps)
{
    const PlanTarget* current = active();
    if (!current || !m_dragStart || m_dragKey == 0)
        return;
    PlanTarget after = *current;
    if (handle == 0)
        after.entryLps = pointLps;
    else {
        after.targetLps = pointLps;
        after.ranked.clear();
        after.searchNote.clear();
    }
    after.selectedRank = -1;
    m_undo.push(new EditTargetCommand(*this, m_activeTarget, *m_dragStart, after,
                                      handle == 0 ? tr("Move entry") : tr("Move target"), m_dragKey));
}

void PlanModel::endDrag()
{
    m_dragKey = 0;
    m_dragStart.reset();
    emit planChanged();
}

void PlanModel::insertTarget(int index, const PlanTarget& target)
{
    index = std::clamp(index, 0, static_cast<int>(m_targets.size()));
    m_targets.insert(m_targets.begin() + index, target);
    m_activeTarget = index;
    emit activeTargetChanged();
    emit planChanged();
}

void PlanModel::removeTargetAt(int index)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_targets.erase(m_targets.begin() + index);
    m_activeTarget = std::min(m_activeTarget, static_cast<int>(m_targets.size()) - 1);
    emit activeTargetChanged();
    emit planChanged();
}

void PlanModel::replaceTarget(int index, const PlanTarget& target)
{
    if (index < 0 || index >= static_cast<int>(m_targets.size()))
        return;
    m_targets[static_cast<std::size_t>(index)] = target;
    emit planChanged();
}

void PlanModel::clear()
{
    m_accessMaps.clear();
    setMeasurements({});
    m_targets.clear();
    m_activeTarget = -1;
    m_dragKey = 0;
    m_dragStart.reset();
    emit activeTargetChanged();
    emit planChanged();
}

void PlanModel::setNeedleName(const std::string& name)
{
    m_needleName = name;
    emit planChanged();
}

void PlanModel::setPresetName(const std::string& name)
{
    m_presetName = name;
    m_presetApproach.clear();
    m_presetTitle.clear();
    try {
        const planning::Preset preset = name.empty() ? planning::genericPreset() : planning::loadPreset(name);
        m_presetApproach = preset.approachFrom;
        m_presetTitle = preset.title;
    } catch (const std::exception&) {
        // An unknown preset name was reported when it was chosen; no approach, no note.
    }
    emit planChanged();
}

} // namespace np::gui
