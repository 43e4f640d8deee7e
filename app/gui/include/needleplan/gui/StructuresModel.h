#pragma once
/// The structures on the image: the label map, and per structure its style and planning rule.
/// Owns their undo commands (edit one structure, replace them all after a segmentation or an
/// import), segments and imports off the GUI thread, and exports. No widgets.

#include "needleplan/gui/StructureRow.h"
#include "needleplan/imaging/Progress.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

class QUndoStack;

namespace np::imaging {
class StructureSet;
struct SegmentationOptions;
} // namespace np::imaging

namespace np::gui {

class BackgroundTask;
class ImageModel;

class StructuresModel : public QObject
{
    Q_OBJECT
public:
    /// A new image in `image` drops the structures. Edits go to `undo`; jobs to `task`.
    StructuresModel(const ImageModel& image, QUndoStack& undo, BackgroundTask& task,
                    QObject* parent = nullptr);
    ~StructuresModel() override;

    std::shared_ptr<const imaging::LabelMap> labels() const { return m_labels; }
    const std::vector<StructureRow>& rows() const { return m_rows; }
    std::vector<render::StructureStyle> styles() const;
    std::vector<planning::StructureSpec> specs() const;
    /// The label that carries the skin in 3D: a "skin" structure, else the "body" (0 when none).
    std::uint16_t skinLabel() const;

    /// Sets the label map with default rows (a loaded segmentation; not undoable).
    void setLabels(std::shared_ptr<const imaging::LabelMap> labels);
    /// Sets the label map with its rows (not undoable: used by undo and redo).
    void setLabels(std::shared_ptr<const imaging::LabelMap> labels, std::vector<StructureRow> rows);
    /// As setLabels with where they came from, then labelsReplaced (the undo and redo of a
    /// segmentation or an import).
    void replaceLabels(std::shared_ptr<const imaging::LabelMap> labels, std::vector<StructureRow> rows,
                       const QString& source);
    /// Where the structures came from: their files and "automatic segmentation", joined by "; "
    /// ("" without structures). Plans record it as their structuresPath.
    const QString& source() const { return m_source; }
    /// Replaces one row without undo (a plan's rules being applied).
    void setRow(int row, const StructureRow& structure);

    /// Changes one structure's style or rule as one undo step; `text` may hold %1 for its name.
    void editRow(int row, const StructureRow& after, const QString& text);
    /// Applies rules (class and margin per row, as `specs` in row order) as one undo step.
    void applyRules(const std::vector<planning::StructureSpec>& specs, const QString& text);
    /// Joins `set` to the structures as one undo step (StructureMerge rules). structuresUpdated reports.
    /// `source` names where `set` came from (a file path, "automatic segmentation").
    void addStructures(const imaging::StructureSet& set, const QString& undoText,
                       const QString& source = QString());
    /// Segments body/bone/lung off the GUI thread and adds them; structuresUpdated reports.
    void segmentAutomatically(const imaging::SegmentationOptions& options);
    /// Imports a DICOM SEG, RTSTRUCT or label map (optional colour table) off the GUI thread and
    /// adds its structures; structuresUpdated reports.
    void importStructureFile(const QString& path, const QString& colorTablePath = QString());
    /// Imports TotalSegmentator's output folder or multilabel NIfTI onto the image's grid off the GUI
    /// thread and adds its structures (classes by the terminology); `classMapName` names a
    /// multilabel file's values when it has no label table ("" for none). structuresUpdated
    /// reports; errors name the file (StructuresModelImport.cpp).
    void importTotalSegmentator(const QString& path, const QString& classMapName = QString());
    /// Warnings of the last import or segmentation.
    const QStringList& warnings() const { return m_warnings; }
    /// Writes the structures as a 3D Slicer .seg.nrrd; false with a message on failure.
    bool exportSegNrrd(const QString& path, QString* error = nullptr) const;
    /// Writes the structures as a DICOM SEG referencing the image; false with a message.
    bool exportDicomSeg(const QString& path, QString* error = nullptr) const;

    // Structures saved with the plan (StructuresModelSaving.cpp).
    /// The structures to write beside a plan, taken on the GUI thread. It shares the label map
    /// (edits replace it, never change it), so a worker can write it while editing goes on.
    struct SaveSnapshot
    {
        QString path; ///< absolute path of the .seg.nrrd
        bool copy = false; ///< a crash-recovery copy: not taken as saved
        std::shared_ptr<const imaging::LabelMap> labels;
        std::vector<StructureRow> rows;
        bool sameLabelsWritten = false; ///< this label map was the last written to `path`
        std::uint64_t writtenChecksum = 0; ///< the checksum of what was last written to `path`
    };
    /// What saving the structures to `path` (a .seg.nrrd beside a plan) writes; needs labels().
    SaveSnapshot snapshotForSave(const QString& path, bool copy) const;
    /// Writes a snapshot as a .seg.nrrd (temporary file, fsync, rename) on any thread; skips the
    /// write when the same structures were the last written there. Returns their checksum. Throws
    /// np::Error naming the file.
    static std::uint64_t writeSnapshot(const SaveSnapshot& snapshot, ProgressSink& progress);
    /// After writeSnapshot succeeded (GUI thread): remembers what was written and, unless it is a
    /// copy, takes those structures as saved.
    void snapshotWritten(const SaveSnapshot& snapshot, std::uint64_t checksum);
    /// Replaces the structures by a plan's saved segmentation (not undoable), recording `source`
    /// as where they came from; they count as saved.
    void restoreSaved(std::shared_ptr<const imaging::LabelMap> labels, const QString& source);
    /// Whether voxels or structure names differ from those last saved or loaded from a file.
    bool editedSinceSaved() const;
    /// The question before unsaved changes are dropped by `action` ("closing"): it names
    /// segmentation edits when there are some.
    QString unsavedChangesQuestion(const QString& action) const;

signals:
    /// The label map changed (loaded, segmented, imported, undone); derived data must be rebuilt.
    void labelsChanged();
    /// The label map was replaced by an edit (segmentation, import) or its undo.
    void labelsReplaced();
    /// A style or rule changed (also emitted with labelsChanged).
    void structuresChanged();
    /// Row `row` changed its rule or style only.
    void rowChanged(int row);
    /// Structures were added: a summary and the warnings to show before planning.
    void structuresAdded(const QString& summary, const QStringList& warnings);
    void structuresUpdated(bool ok, const QString& message);
    void errorOccurred(const QString& title, const QString& message);

private:
    const ImageModel& m_image;
    QUndoStack& m_undo;
    BackgroundTask& m_task;
    std::shared_ptr<const imaging::LabelMap> m_labels;
    std::vector<StructureRow> m_rows;
    QStringList m_warnings;
    QString m_source;
    /// The structures as last saved or loaded: identity, and a checksum of voxels and names.
    void markSaved();
    std::uint64_t m_savedChecksum = 0;
    /// What was last written to a plan file's and to a copy's .seg.nrrd.
    struct Written
    {
        QString path;
        std::weak_ptr<const imaging::LabelMap> labels;
        std::uint64_t checksum = 0;
    };
    Written m_writtenPlan;
    Written m_writtenCopy;
};

} // namespace np::gui
