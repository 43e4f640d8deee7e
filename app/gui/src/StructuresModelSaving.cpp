// StructuresModel: the structures saved with the plan, and whether they have unsaved edits.

#include "needleplan/gui/StructureMerge.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"

#include <QFileInfo>
#include <new>

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

StructuresModel::SaveSnapshot StructuresModel::snapshotForSave(const QString& path, bool copy) const
{
    SaveSnapshot snapshot;
    snapshot.path = QFileInfo(path).absoluteFilePath();
    snapshot.copy = copy;
    snapshot.labels = m_labels;
    snapshot.rows = m_rows;
    const Written& written = copy ? m_writtenCopy : m_writtenPlan;
    snapshot.sameLabelsWritten =
        m_labels && written.path == snapshot.path && written.labels.lock() == m_labels;
    snapshot.writtenChecksum = written.checksum;
    return snapshot;
}

std::uint64_t StructuresModel::writeSnapshot(const SaveSnapshot& snapshot, ProgressSink& progress)
{
    const std::string path = snapshot.path.toStdString();
    if (!snapshot.labels)
        throw Error(ErrorCode::InvalidArgument, path + ": there are no structures to save");
    progress.report(0.0, "Checking the structures");
    const std::uint64_t checksum = structuresChecksum(*snapshot.labels, snapshot.rows);
    if (snapshot.sameLabelsWritten && checksum == snapshot.writtenChecksum &&
        QFileInfo::exists(snapshot.path))
        return checksum;
    progress.report(0.15, "Writing the structures");
    const std::string failed = "The structures were not saved to " + path + ": ";
    try {
        imaging::writeSegNrrd(labelMapForExport(*snapshot.labels, snapshot.rows), path);
    } catch (const Error& failure) {
        throw Error(failure.code(), failed + failure.what());
    } catch (const std::bad_alloc&) {
        throw Error(ErrorCode::TooLarge, failed + "not enough memory");
    } catch (const std::exception& failure) {
        throw Error(ErrorCode::Io, failed + failure.what());
    }
    return checksum;
}

void StructuresModel::snapshotWritten(const SaveSnapshot& snapshot, std::uint64_t checksum)
{
    (snapshot.copy ? m_writtenCopy : m_writtenPlan) = {snapshot.path, snapshot.labels, checksum};
    if (!snapshot.copy)
        m_savedChecksum = checksum;
}

void StructuresModel::restoreSaved(std::shared_ptr<const imaging::LabelMap> labels, const QString& source)
{
    m_source = source;
    setLabels(std::move(labels));
    markSaved();
}

} // namespace np::gui
