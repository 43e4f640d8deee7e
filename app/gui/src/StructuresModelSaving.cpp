// StructuresModel: the structures saved with the plan, and whether they have unsaved edits.

#include "needleplan/gui/StructureMerge.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <QFileInfo>

namespace np::gui {

namespace {

/// FNV-1a over the voxel values and the structures' values and names: equal structures give equal
/// sums, and an edit of one voxel or a rename changes it.
std::uint64_t structuresChecksum(const imaging::LabelMap& labels, const std::vector<StructureRow>& rows)
{
    constexpr std::uint64_t prime = 1099511628211ULL;
    std::uint64_t sum = 14695981039346656037ULL;
    for (const std::uint16_t value : labels.labels())
        sum = (sum ^ value) * prime;
    for (const StructureRow& row : rows) {
        sum = (sum ^ row.style.labelValue) * prime;
        for (const char c : row.style.name)
            sum = (sum ^ static_cast<unsigned char>(c)) * prime;
    }
    return sum;
}

} // namespace

void StructuresModel::markSaved()
{
    m_savedChecksum = m_labels ? structuresChecksum(*m_labels, m_rows) : 0;
}

bool StructuresModel::editedSinceSaved() const
{
    return m_labels && structuresChecksum(*m_labels, m_rows) != m_savedChecksum;
}

QString StructuresModel::unsavedChangesQuestion(const QString& action) const
{
    if (!editedSinceSaved())
        return tr("The plan has unsaved changes. Save them before %1?").arg(action);
    return tr("The plan has unsaved changes, among them segmentation edits (structures painted, erased, "
              "grown, segmented or imported) that are lost unless the plan is saved. Save them before %1?")
        .arg(action);
}

bool StructuresModel::saveWithPlan(const QString& path, QString* error, bool copy)
{
    if (!m_labels) {
        if (error)
            *error = tr("There are no structures to save.");
        return false;
    }
    const QString absolute = QFileInfo(path).absoluteFilePath();
    const std::uint64_t checksum = structuresChecksum(*m_labels, m_rows);
    Written& written = copy ? m_writtenCopy : m_writtenPlan;
    const bool unchanged = absolute == written.path && written.labels.lock() == m_labels &&
                           checksum == written.checksum && QFileInfo::exists(absolute);
    if (!unchanged) {
        try {
            imaging::writeSegNrrd(labelMapForExport(*m_labels, m_rows), absolute.toStdString());
        } catch (const std::exception& failure) {
            if (error)
                *error = tr("The structures were not saved to %1: %2")
                             .arg(absolute, QString::fromStdString(failure.what()));
            return false;
        }
        written = {absolute, m_labels, checksum};
    }
    if (!copy)
        m_savedChecksum = checksum;
    return true;
}

void StructuresModel::restoreSaved(std::shared_ptr<const imaging::LabelMap> labels, const QString& source)
{
    m_source = source;
    setLabels(std::move(labels));
    markSaved();
}

} // namespace np::gui
