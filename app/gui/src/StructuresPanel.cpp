#include "needleplan/gui/StructuresPanel.h"

#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TotalSegmentatorImportDialog.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/StructureImport.h"

#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <cmath>

namespace np::gui {

namespace {

QColor toQColor(const render::Rgb& rgb)
{
    return QColor::fromRgbF(static_cast<float>(rgb[0]), static_cast<float>(rgb[1]),
                            static_cast<float>(rgb[2]));
}

constexpr planning::StructureClass kClasses[] = {
    planning::StructureClass::Ignored, planning::StructureClass::Forbidden,
    planning::StructureClass::Obstacle, planning::StructureClass::Caution, planning::StructureClass::Target};

} // namespace

StructuresPanel::StructuresPanel(StructuresModel& structures, ImageModel& image, ViewStateModel& view,
                                 QWidget* parent)
    : QWidget(parent), m_structures(structures), m_image(image), m_view(view)
{
    auto* layout = new QVBoxLayout(this);
    m_table = new QTableWidget(0, 6, this);
    m_table->setObjectName("structuresTable");
    m_table->setHorizontalHeaderLabels(
        {tr(""), tr(""), tr("Structure"), tr("Opacity"), tr("Class"), tr("Margin")});
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(26);
    m_table->horizontalHeader()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_table->setColumnWidth(0, 26);
    m_table->setColumnWidth(1, 26);
    m_table->setColumnWidth(3, 62);
    m_table->setColumnWidth(4, 90);
    m_table->setColumnWidth(5, 74);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    layout->addWidget(m_table);
    auto* overlayRow = new QHBoxLayout();
    overlayRow->addWidget(new QLabel(tr("Slice overlay"), this));
    auto* overlay = new QSlider(Qt::Horizontal, this);
    overlay->setObjectName("overlayOpacitySlider");
    overlay->setRange(0, 100);
    overlay->setValue(static_cast<int>(std::lround(100 * m_view.overlayOpacity())));
    overlay->setToolTip(tr("Opacity of the structure colours in the slice views"));
    connect(overlay, &QSlider::valueChanged, this,
            [this](int value) { m_view.setOverlayOpacity(value / 100.0); });
    overlayRow->addWidget(overlay, 1);
    layout->addLayout(overlayRow);
    auto* loadSeg = new QPushButton(tr("Load segmentation…"), this);
    loadSeg->setToolTip(tr("Replace all structures by a label map (.seg.nrrd or a plain label image)"));
    layout->addWidget(loadSeg);
    auto* buttons = new QGridLayout();
    auto* segmentButton = new QPushButton(tr("Segment automatically…"), this);
    segmentButton->setObjectName("segmentButton");
    segmentButton->setToolTip(tr("Body, bone and lung from HU thresholds, added to the structures"));
    auto* importButton = new QPushButton(tr("Import structures…"), this);
    importButton->setObjectName("importStructuresButton");
    importButton->setToolTip(
        tr("DICOM SEG, RTSTRUCT, .seg.nrrd or a label map with a colour table, added to the structures"));
    auto* exportNrrdButton = new QPushButton(tr("Export .seg.nrrd…"), this);
    exportNrrdButton->setObjectName("exportSegNrrdButton");
    auto* exportSegButton = new QPushButton(tr("Export DICOM SEG…"), this);
    exportSegButton->setObjectName("exportDicomSegButton");
    buttons->addWidget(segmentButton, 0, 0);
    buttons->addWidget(importButton, 0, 1);
    buttons->addWidget(exportNrrdButton, 1, 0);
    buttons->addWidget(exportSegButton, 1, 1);
    auto* totalSegmentatorButton = new QPushButton(tr("Import TotalSegmentator…"), this);
    totalSegmentatorButton->setObjectName("importTotalSegmentatorButton");
    buttons->addWidget(totalSegmentatorButton, 2, 0, 1, 2);
    connect(totalSegmentatorButton, &QPushButton::clicked, this,
            [this] { TotalSegmentatorImportDialog::ask(this, m_structures); });
    layout->addLayout(buttons);
    connect(segmentButton, &QPushButton::clicked, this, &StructuresPanel::showSegmentDialog);
    connect(importButton, &QPushButton::clicked, this, &StructuresPanel::showImportDialog);
    connect(exportNrrdButton, &QPushButton::clicked, this, [this] { exportStructures(false); });
    connect(exportSegButton, &QPushButton::clicked, this, [this] { exportStructures(true); });
    connect(loadSeg, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open segmentation"), QString(),
                                         tr("Segmentations (*.seg.nrrd *.nrrd *.nii *.nii.gz *.mha *.mhd)"));
        if (!path.isEmpty())
            m_image.openLabelMap(path);
    });
    connect(m_table, &QTableWidget::cellClicked, this, [this](int row, int column) {
        if (column != 1 || row < 0 || row >= static_cast<int>(m_structures.rows().size()))
            return;
        StructureRow after = m_structures.rows()[static_cast<std::size_t>(row)];
        const QColor color =
            QColorDialog::getColor(toQColor(after.style.colorRgb), this, tr("Structure colour"));
        if (color.isValid()) {
            after.style.colorRgb = {color.redF(), color.greenF(), color.blueF()};
            m_structures.editRow(row, after, tr("Colour of %1"));
        }
    });
    connect(m_table, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        const int row = item->row();
        if (item->column() != 0 || row < 0 || row >= static_cast<int>(m_structures.rows().size()))
            return;
        StructureRow after = m_structures.rows()[static_cast<std::size_t>(row)];
        const bool visible = item->checkState() == Qt::Checked;
        if (visible == after.style.visible)
            return;
        after.style.visible = visible;
        // Deferred: the table is rebuilt by the edit.
        QTimer::singleShot(0, this, [this, row, after] {
            m_structures.editRow(row, after, after.style.visible ? tr("Show %1") : tr("Hide %1"));
        });
    });
    connect(&m_structures, &StructuresModel::structuresChanged, this, &StructuresPanel::refreshTable);
}

void StructuresPanel::refreshTable()
{
    const auto& structures = m_structures.rows();
    QSignalBlocker blocker(m_table);
    m_table->setRowCount(static_cast<int>(structures.size()));
    for (std::size_t r = 0; r < structures.size(); ++r) {
        const StructureRow& row = structures[r];
        const int rowIndex = static_cast<int>(r);
        auto* visible = new QTableWidgetItem();
        visible->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        visible->setCheckState(row.style.visible ? Qt::Checked : Qt::Unchecked);
        visible->setToolTip(tr("Show or hide"));
        m_table->setItem(rowIndex, 0, visible);
        auto* color = new QTableWidgetItem();
        color->setBackground(toQColor(row.style.colorRgb));
        color->setToolTip(tr("Click to change the colour"));
        m_table->setItem(rowIndex, 1, color);
        auto* name = new QTableWidgetItem(QString::fromStdString(row.style.name));
        if (!row.style.visible)
            name->setForeground(QColor(120, 125, 135));
        m_table->setItem(rowIndex, 2, name);

        auto* opacity = qobject_cast<QSpinBox*>(m_table->cellWidget(rowIndex, 3));
        if (!opacity) {
            opacity = new QSpinBox();
            opacity->setRange(0, 100);
            opacity->setSuffix("%");
            opacity->setFrame(false);
            m_table->setCellWidget(rowIndex, 3, opacity);
            connect(opacity, &QSpinBox::valueChanged, this, [this, rowIndex](int value) {
                StructureRow after = m_structures.rows()[static_cast<std::size_t>(rowIndex)];
                after.style.opacity = value / 100.0;
                m_structures.editRow(rowIndex, after, tr("Opacity of %1"));
            });
        }
        {
            QSignalBlocker b(opacity);
            opacity->setValue(static_cast<int>(std::lround(row.style.opacity * 100)));
        }
        auto* classCombo = qobject_cast<QComboBox*>(m_table->cellWidget(rowIndex, 4));
        if (!classCombo) {
            classCombo = new QComboBox();
            classCombo->setFrame(false);
            for (planning::StructureClass c : kClasses)
                classCombo->addItem(planning::toString(c));
            m_table->setCellWidget(rowIndex, 4, classCombo);
            connect(classCombo, &QComboBox::currentIndexChanged, this, [this, rowIndex](int index) {
                StructureRow after = m_structures.rows()[static_cast<std::size_t>(rowIndex)];
                after.spec.structureClass = kClasses[index];
                m_structures.editRow(rowIndex, after, tr("Class of %1"));
            });
        }
        {
            QSignalBlocker b(classCombo);
            for (int c = 0; c < 5; ++c)
                if (kClasses[c] == row.spec.structureClass)
                    classCombo->setCurrentIndex(c);
        }
        auto* margin = qobject_cast<QDoubleSpinBox*>(m_table->cellWidget(rowIndex, 5));
        if (!margin) {
            margin = new QDoubleSpinBox();
            margin->setRange(0, 20);
            margin->setSingleStep(0.5);
            margin->setDecimals(1);
            margin->setSuffix(" mm");
            margin->setFrame(false);
            m_table->setCellWidget(rowIndex, 5, margin);
            connect(margin, &QDoubleSpinBox::valueChanged, this, [this, rowIndex](double value) {
                StructureRow after = m_structures.rows()[static_cast<std::size_t>(rowIndex)];
                after.spec.marginMm = value;
                m_structures.editRow(rowIndex, after, tr("Margin of %1"));
            });
        }
        {
            QSignalBlocker b(margin);
            margin->setValue(row.spec.marginMm);
        }
    }
}

void StructuresPanel::exportStructures(bool dicomSeg)
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export structures"), QString(),
                                                      dicomSeg ? tr("DICOM SEG (*.dcm)")
                                                               : tr("3D Slicer segmentation (*.seg.nrrd)"));
    if (path.isEmpty())
        return;
    QString error;
    const bool ok =
        dicomSeg ? m_structures.exportDicomSeg(path, &error) : m_structures.exportSegNrrd(path, &error);
    if (!ok)
        showErrorBox(this, tr("Structures not exported"), error);
}

void StructuresPanel::showSegmentDialog()
{
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Segment automatically"));
    auto* form = new QFormLayout(&dialog);
    const imaging::SegmentationOptions defaults;
    auto* body = new QCheckBox(tr("Body (skin surface)"), &dialog);
    auto* bone = new QCheckBox(tr("Bone"), &dialog);
    auto* lung = new QCheckBox(tr("Lung"), &dialog);
    body->setChecked(defaults.body);
    bone->setChecked(defaults.bone);
    lung->setChecked(defaults.lung);
    auto threshold = [&dialog](double value) {
        auto* box = new QDoubleSpinBox(&dialog);
        box->setRange(-1500.0, 3000.0);
        box->setDecimals(0);
        box->setSuffix(tr(" HU"));
        box->setValue(value);
        return box;
    };
    auto* bodyHu = threshold(defaults.bodyThresholdHu);
    auto* boneHu = threshold(defaults.boneThresholdHu);
    auto* lungHu = threshold(defaults.lungThresholdHu);
    bodyHu->setToolTip(tr("Tissue above this is body (fat about -100 HU, air -1000 HU)"));
    boneHu->setToolTip(
        tr("At or above this inside the body is bone (muscle 40-60 HU, cancellous bone 200-400 HU)"));
    lungHu->setToolTip(tr("Air or aerated lung inside the body is below this (lung -950 to -500 HU)"));
    form->addRow(body, bodyHu);
    form->addRow(bone, boneHu);
    form->addRow(lung, lungHu);
    form->addRow(new QLabel(tr("The body is always computed when bone or lung is asked for."), &dialog));
    auto* buttons = new QDialogButtonBox(
        QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, &dialog);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, &dialog, [&] {
        bodyHu->setValue(defaults.bodyThresholdHu);
        boneHu->setValue(defaults.boneThresholdHu);
        lungHu->setValue(defaults.lungThresholdHu);
    });
    if (dialog.exec() != QDialog::Accepted)
        return;
    imaging::SegmentationOptions options;
    options.body = body->isChecked();
    options.bone = bone->isChecked();
    options.lung = lung->isChecked();
    options.bodyThresholdHu = static_cast<float>(bodyHu->value());
    options.boneThresholdHu = static_cast<float>(boneHu->value());
    options.lungThresholdHu = static_cast<float>(lungHu->value());
    m_structures.segmentAutomatically(options);
}

void StructuresPanel::showImportDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import structures"), QString(),
        tr("Structures (*.dcm *.seg.nrrd *.nrrd *.nii *.nii.gz *.mha *.mhd);;All files (*)"));
    if (path.isEmpty())
        return;
    QString colorTable;
    if (!path.endsWith(".dcm", Qt::CaseInsensitive) && !path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) {
        bool labelMap = false;
        try {
            labelMap =
                imaging::detectStructureFile(path.toStdString()) == imaging::StructureFileKind::LabelMap;
        } catch (const std::exception&) {
        }
        if (labelMap &&
            QMessageBox::question(this, tr("Colour table"),
                                  tr("Name the labels with a colour table (3D Slicer .ctbl or ITK-SNAP "
                                     "label description)?")) == QMessageBox::Yes)
            colorTable =
                QFileDialog::getOpenFileName(this, tr("Colour table"), QFileInfo(path).absolutePath(),
                                             tr("Colour tables (*.ctbl *.txt *.label);;All files (*)"));
    }
    m_structures.importStructureFile(path, colorTable);
}

} // namespace np::gui
