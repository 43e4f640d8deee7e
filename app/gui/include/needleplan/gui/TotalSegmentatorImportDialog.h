#pragma once
/// Importing TotalSegmentator's output in the workstation: its output folder (one
/// `segmentations/<name>.nii.gz` mask per structure) or a multilabel NIfTI, with the class map that
/// names a multilabel file's values when its header carries no label table. The dialog only asks;
/// StructuresModel::importTotalSegmentator does the work off the GUI thread.

#include <QDialog>
#include <QString>

class QComboBox;
class QLineEdit;
class QWidget;

namespace np::gui {

class StructuresModel;

class TotalSegmentatorImportDialog : public QDialog
{
    Q_OBJECT
public:
    explicit TotalSegmentatorImportDialog(QWidget* parent = nullptr);
    /// The folder or NIfTI file chosen.
    QString path() const;
    /// The class map for a multilabel NIfTI without a label table ("" for the file's own names).
    QString classMapName() const;

    /// Opens the dialog (window-modal) over `parent`; when accepted, the structures are imported
    /// into `structures` (progress in the status bar, errors as dialogs naming the file).
    static TotalSegmentatorImportDialog* ask(QWidget* parent, StructuresModel& structures);

private:
    QLineEdit* m_path = nullptr;
    QComboBox* m_classMap = nullptr;
};

} // namespace np::gui
