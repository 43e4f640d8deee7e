#include "needleplan/gui/TotalSegmentatorImportDialog.h"

#include "needleplan/gui/StructuresModel.h"
#include "needleplan/planning/Terminology.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>

namespace np::gui {

TotalSegmentatorImportDialog::TotalSegmentatorImportDialog(QWidget* parent) : QDialog(parent)
{
    setObjectName("totalSegmentatorDialog");
    setWindowTitle(tr("Import TotalSegmentator structures"));
    auto* form = new QFormLayout(this);
    auto* explanation =
        new QLabel(tr("TotalSegmentator's output folder (segmentations/<name>.nii.gz, one mask per "
                      "structure) or its multilabel NIfTI (--ml). Masks on another grid are resampled "
                      "onto the CT by position."),
                   this);
    explanation->setWordWrap(true);
    form->addRow(explanation);
    auto* pathRow = new QHBoxLayout();
    m_path = new QLineEdit(this);
    m_path->setObjectName("totalSegmentatorPath");
    auto* folderButton = new QPushButton(tr("Folder…"), this);
    auto* fileButton = new QPushButton(tr("NIfTI file…"), this);
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(folderButton);
    pathRow->addWidget(fileButton);
    form->addRow(tr("Output"), pathRow);
    m_classMap = new QComboBox(this);
    m_classMap->setObjectName("totalSegmentatorClassMap");
    m_classMap->addItem(tr("Names from the files (mask names or the NIfTI's label table)"), QString());
    for (const std::string& name : planning::Terminology::builtIn().classMapNames())
        m_classMap->addItem(QString::fromStdString(name), QString::fromStdString(name));
    m_classMap->setToolTip(tr("Names a multilabel NIfTI's values when its header has no label table; "
                              "without one its labels become label_N (caution) with a warning"));
    form->addRow(tr("Class map"), m_classMap);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setObjectName("totalSegmentatorOk");
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, [this] {
        if (!path().isEmpty())
            accept();
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(folderButton, &QPushButton::clicked, this, [this] {
        const QString folder = QFileDialog::getExistingDirectory(this, tr("TotalSegmentator output folder"));
        if (!folder.isEmpty())
            m_path->setText(folder);
    });
    connect(fileButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Multilabel NIfTI"), QString(),
                                                          tr("NIfTI (*.nii *.nii.gz);;All files (*)"));
        if (!file.isEmpty())
            m_path->setText(file);
    });
}

QString TotalSegmentatorImportDialog::path() const
{
    return m_path->text().trimmed();
}

QString TotalSegmentatorImportDialog::classMapName() const
{
    return m_classMap->currentData().toString();
}

TotalSegmentatorImportDialog* TotalSegmentatorImportDialog::ask(QWidget* parent, StructuresModel& structures)
{
    auto* dialog = new TotalSegmentatorImportDialog(parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, &structures, [dialog, &structures] {
        structures.importTotalSegmentator(dialog->path(), dialog->classMapName());
    });
    dialog->open();
    return dialog;
}

} // namespace np::gui
