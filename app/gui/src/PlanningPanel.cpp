#include "needleplan/gui/PlanningPanel.h"

#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/Measurements.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/TrajectoryReadout.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Preset.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>

namespace np::gui {

PlanningPanel::PlanningPanel(PlanModel& plan, ImageModel& image, StructuresModel& structures,
                             ViewStateModel& view, QWidget* parent)
    : QWidget(parent), m_plan(plan), m_image(image), m_structures(structures), m_view(view)
{
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout();
    m_presetCombo = new QComboBox(this);
    m_presetCombo->setObjectName("presetCombo");
    m_presetCombo->addItem(tr("Generic (all structures, nearest skin)"), QString());
    try {
        for (const std::string& name : planning::builtInPresetNames()) {
            QString title = QString::fromStdString(name);
            try {
                title = QString::fromStdString(planning::loadPreset(name).title);
            } catch (const std::exception&) {
            }
            m_presetCombo->addItem(title, QString::fromStdString(name));
        }
    } catch (const std::exception& error) {
        qWarning("presets not available: %s", error.what());
    }
    connect(m_presetCombo, &QComboBox::activated, this,
            [this](int index) { m_plan.setPreset(m_presetCombo->itemData(index).toString()); });
    form->addRow(tr("Procedure"), m_presetCombo);
    m_needleCombo = new QComboBox(this);
    m_needleCombo->setObjectName("needleCombo");
    for (const planning::Needle& needle : planning::needleCatalogue())
        m_needleCombo->addItem(QStringLiteral("%1  (%2 mm Ø)")
                                   .arg(QString::fromStdString(needle.name))
                                   .arg(needle.outerDiameterMm, 0, 'f', 2),
                               QString::fromStdString(needle.name));
    connect(m_needleCombo, &QComboBox::currentIndexChanged, this,
            [this](int index) { m_plan.setNeedle(m_needleCombo->itemData(index).toString().toStdString()); });
    form->addRow(tr("Needle"), m_needleCombo);
    m_namedTargetCombo = new QComboBox(this);
    m_namedTargetCombo->setObjectName("namedTargetCombo");
    m_namedTargetCombo->setPlaceholderText(tr("(none found next to the image)"));
    form->addRow(tr("Named target"), m_namedTargetCombo);
    layout->addLayout(form);
    auto* addNamed = new QPushButton(tr("Add named target"), this);
    connect(addNamed, &QPushButton::clicked, this, [this] {
        const int index = m_namedTargetCombo->currentIndex();
        if (index < 0 || index >= static_cast<int>(m_image.namedTargets().size()))
            return;
        const NamedTargetEntry& entry = m_image.namedTargets()[static_cast<std::size_t>(index)];
        m_plan.addTarget(entry.name, entry.positionLps);
        m_view.setCursorLps(entry.positionLps);
    });
    auto* addAllNamed = new QPushButton(tr("Add all"), this);
    addAllNamed->setToolTip(tr("Add every named target found next to the image"));
    connect(addAllNamed, &QPushButton::clicked, this, [this] { m_plan.addTargets(m_image.namedTargets()); });
    auto* namedRow = new QHBoxLayout();
    namedRow->addWidget(addNamed, 2);
    namedRow->addWidget(addAllNamed, 1);
    layout->addLayout(namedRow);

    // Adding, moving and naming targets are separate, explicit actions.
    auto* pickRow = new QHBoxLayout();
    auto* addTarget = new QPushButton(tr("Add target"), this);
    addTarget->setObjectName("addTargetButton");
    addTarget->setShortcut(QKeySequence(Qt::Key_A));
    addTarget->setToolTip(tr("Then click a new target in any slice view; name it in the list (A)"));
    auto* setTarget = new QPushButton(tr("Move target"), this);
    setTarget->setObjectName("setTargetButton");
    setTarget->setShortcut(QKeySequence(Qt::Key_T));
    setTarget->setToolTip(tr("Then click the new position of the active target in any slice view (T)"));
    auto* setEntry = new QPushButton(tr("Set entry"), this);
    setEntry->setShortcut(QKeySequence(Qt::Key_E));
    setEntry->setToolTip(tr("Then click the skin entry of the active target in any slice view (E)"));
    // Remove sits with the other target actions, above everything that changes height.
    auto* removeTarget = new QPushButton(tr("Remove…"), this);
    removeTarget->setObjectName("removeTargetButton");
    removeTarget->setToolTip(
        tr("Remove the active target and its trajectories (asks first; Undo restores it)"));
    connect(removeTarget, &QPushButton::clicked, this, &PlanningPanel::confirmRemoveTarget);
    pickRow->addWidget(addTarget);
    pickRow->addWidget(setTarget);
    pickRow->addWidget(setEntry);
    pickRow->addWidget(removeTarget);
    layout->addLayout(pickRow);
    connect(addTarget, &QPushButton::clicked, this, [this] { m_view.setPickMode(PickMode::AddTarget); });
    connect(setTarget, &QPushButton::clicked, this, [this] { m_view.setPickMode(PickMode::SetTarget); });
    connect(setEntry, &QPushButton::clicked, this, [this] { m_view.setPickMode(PickMode::SetEntry); });
    // "Move target" needs a target to move.
    connect(&m_plan, &PlanModel::planChanged, setTarget, [this, setTarget, removeTarget] {
        setTarget->setEnabled(m_plan.active());
        removeTarget->setEnabled(m_plan.active());
    });

    m_targetsTree = new QTreeWidget(this);
    m_targetsTree->setObjectName("targetsTree");
    m_targetsTree->setHeaderLabels(
        {tr("Target (double-click to name: level and side)"), tr("Status"), tr("Level")});
    m_targetsTree->setRootIsDecorated(true);
    m_targetsTree->setMinimumHeight(120);
    m_targetsTree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_targetsTree->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
    connect(m_targetsTree, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem* item) {
        m_plan.setActiveTarget(item->data(0, Qt::UserRole).toInt());
        if (const PlanTarget* target = m_plan.active())
            m_view.setCursorLps(target->targetLps);
    });
    connect(m_targetsTree, &QTreeWidget::itemChanged, this, [this](QTreeWidgetItem* item, int column) {
        if (column != 0 || item->parent())
            return;
        const int index = item->data(0, Qt::UserRole).toInt();
        const QString name = item->text(0);
        // Deferred: the tree is rebuilt by the edit.
        QTimer::singleShot(0, this, [this, index, name] { m_plan.renameTarget(index, name); });
    });
    layout->addWidget(m_targetsTree);
    auto* find = new QPushButton(tr("Find safe trajectories"), this);
    find->setObjectName("findButton");
    find->setToolTip(tr("Search thousands of directions from the active target and rank the safe ones"));
    find->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    connect(find, &QPushButton::clicked, this, [this] { m_plan.searchTarget(m_plan.activeTarget()); });
    auto* searchRow = new QHBoxLayout();
    searchRow->addWidget(find, 2);
    auto* findAll = new QPushButton(tr("All targets"), this);
    findAll->setToolTip(tr("Search every target of the plan, one after the other"));
    connect(findAll, &QPushButton::clicked, this, [this] { m_plan.searchAllTargets(); });
    searchRow->addWidget(findAll, 1);
    layout->addLayout(searchRow);

    m_readout = new QLabel(this);
    m_readout->setObjectName("readout");
    m_readout->setTextFormat(Qt::RichText);
    m_readout->setWordWrap(true);
    m_readout->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_readout->setMinimumHeight(200);
    m_readout->setStyleSheet("QLabel { background: #15181d; border: 1px solid #2b3038; padding: 6px; }");
    layout->addWidget(m_readout, 1);

    m_rankedTable = new QTableWidget(0, 6, this);
    m_rankedTable->setObjectName("rankedTable");
    m_rankedTable->setHorizontalHeaderLabels(
        {tr("#"), tr("Length"), tr("Clearance"), tr("Closest"), tr("CC / ML"), tr("C-arm")});
    m_rankedTable->verticalHeader()->hide();
    m_rankedTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_rankedTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_rankedTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    // Numbers and C-arm angles keep their whole width; the closest structure's name gives way.
    m_rankedTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_rankedTable->horizontalHeader()->setSectionResizeMode(3, QHeaderView::Stretch);
    m_rankedTable->setTextElideMode(Qt::ElideRight);
    m_rankedTable->setWordWrap(false);
    m_rankedTable->setMinimumHeight(140);
    connect(m_rankedTable, &QTableWidget::cellClicked, this,
            [this](int row, int) { m_plan.selectCandidate(row); });
    layout->addWidget(m_rankedTable, 1);

    // Measurements on the slice views: distance, angle, HU ellipse; kept in the plan.
    auto* measureRow = new QHBoxLayout();
    measureRow->addWidget(new QLabel(tr("Measure"), this));
    const std::pair<const char*, PickMode> tools[] = {{"Distance", PickMode::MeasureDistance},
                                                      {"Angle", PickMode::MeasureAngle},
                                                      {"HU ellipse", PickMode::MeasureEllipse}};
    for (const auto& [label, mode] : tools) {
        auto* button = new QPushButton(tr(label), this);
        button->setObjectName(QStringLiteral("measure%1Button").arg(QString(label).remove(' ')));
        connect(button, &QPushButton::clicked, this, [this, mode = mode] { m_view.setPickMode(mode); });
        measureRow->addWidget(button);
    }
    auto* deleteMeasurement = new QPushButton(tr("Delete"), this);
    deleteMeasurement->setObjectName("deleteMeasurementButton");
    deleteMeasurement->setToolTip(tr("Delete the selected measurement (Undo restores it)"));
    measureRow->addWidget(deleteMeasurement);
    layout->addLayout(measureRow);
    m_measurementsList = new QListWidget(this);
    m_measurementsList->setObjectName("measurementsList");
    m_measurementsList->setMaximumHeight(90);
    layout->addWidget(m_measurementsList);
    connect(deleteMeasurement, &QPushButton::clicked, this,
            [this] { m_plan.removeMeasurement(m_measurementsList->currentRow()); });
    connect(&m_plan, &PlanModel::measurementsChanged, this, &PlanningPanel::refreshMeasurements);

    for (QComboBox* combo : {m_presetCombo, m_needleCombo, m_namedTargetCombo}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(18);
    }

    connect(&m_plan, &PlanModel::planChanged, this, [this] {
        refreshPresetAndNeedle();
        refreshTargetsTree();
        refreshRankedTable();
        refreshReadout();
    });
    connect(&m_plan, &PlanModel::fieldsReady, this, &PlanningPanel::refreshReadout);
    // Structure rules change the readout and can make the results stale.
    connect(&m_structures, &StructuresModel::structuresChanged, this, [this] {
        refreshTargetsTree();
        refreshRankedTable();
        refreshReadout();
    });
    connect(&m_image, &ImageModel::namedTargetsChanged, this, &PlanningPanel::refreshNamedTargets);
    refreshReadout();
}

QString PlanningPanel::readoutHtml() const
{
    return m_readout->text();
}

void PlanningPanel::refreshPresetAndNeedle()
{
    const int needle = m_needleCombo->findData(QString::fromStdString(m_plan.needleName()));
    if (needle >= 0 && needle != m_needleCombo->currentIndex()) {
        QSignalBlocker blocker(m_needleCombo);
        m_needleCombo->setCurrentIndex(needle);
    }
    const int preset = m_presetCombo->findData(QString::fromStdString(m_plan.presetName()));
    if (preset >= 0 && preset != m_presetCombo->currentIndex()) {
        QSignalBlocker blocker(m_presetCombo);
        m_presetCombo->setCurrentIndex(preset);
    }
}

void PlanningPanel::refreshNamedTargets()
{
    m_namedTargetCombo->clear();
    for (const NamedTargetEntry& target : m_image.namedTargets())
        m_namedTargetCombo->addItem(target.name);
    m_namedTargetCombo->setCurrentIndex(m_image.namedTargets().empty() ? -1 : 0);
}

void PlanningPanel::refreshTargetsTree()
{
    QSignalBlocker blocker(m_targetsTree);
    m_targetsTree->clear();
    for (std::size_t t = 0; t < m_plan.targets().size(); ++t) {
        const PlanTarget& target = m_plan.targets()[t];
        const bool isActive = static_cast<int>(t) == m_plan.activeTarget();
        auto* item = new QTreeWidgetItem(m_targetsTree);
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        item->setText(0, QString::fromStdString(target.name));
        item->setData(0, Qt::UserRole, static_cast<int>(t));
        QString status = target.entryLps ? tr("trajectory set") : tr("no trajectory");
        if (!target.ranked.empty())
            status = tr("%1 candidates").arg(target.ranked.size());
        else if (target.directionsSearched > 0)
            status = tr("none safe");
        if (m_plan.resultsStale(static_cast<int>(t)))
            status += tr(" (stale)");
        item->setText(1, status);
        item->setText(2, m_plan.vertebralLevel(static_cast<int>(t)));
        item->setToolTip(2, tr("The vertebra the target sits on, from the vertebra labels; \"L4 (or L5)\": "
                               "between two levels, check the count"));
        auto addPoint = [item, t](const QString& label, const Vec3& pointLps) {
            auto* child = new QTreeWidgetItem(item);
            child->setText(0, QStringLiteral("%1 LPS  %2, %3, %4")
                                  .arg(label)
                                  .arg(pointLps.x, 0, 'f', 1)
                                  .arg(pointLps.y, 0, 'f', 1)
                                  .arg(pointLps.z, 0, 'f', 1));
            child->setData(0, Qt::UserRole, static_cast<int>(t));
        };
        addPoint(QStringLiteral("Target"), target.targetLps);
        if (target.entryLps)
            addPoint(QStringLiteral("Entry"), *target.entryLps);
        item->setExpanded(isActive);
        if (isActive) {
            m_targetsTree->setCurrentItem(item);
            QFont bold = item->font(0);
            bold.setBold(true);
            item->setFont(0, bold);
        }
    }
}

void PlanningPanel::refreshRankedTable()
{
    QSignalBlocker blocker(m_rankedTable);
    const PlanTarget* target = m_plan.active();
    const int rows = target ? static_cast<int>(target->ranked.size()) : 0;
    const QString stale = staleResultsText(m_plan.staleBecause(m_plan.activeTarget()));
    m_rankedTable->setRowCount(rows);
    for (int r = 0; r < rows; ++r) {
        const TrajectoryRecord& record = target->ranked[static_cast<std::size_t>(r)];
        const planning::Evaluation& e = record.evaluation;
        m_rankedTable->setItem(r, 0, new QTableWidgetItem(QString::number(r + 1)));
        m_rankedTable->setItem(r, 1, new QTableWidgetItem(formatMm(e.lengthMm)));
        QString clearance = QStringLiteral("–"), closest;
        if (e.closestIndex >= 0 && e.closestIndex < static_cast<int>(e.clearances.size())) {
            const auto& c = e.clearances[static_cast<std::size_t>(e.closestIndex)];
            clearance = formatClearance(c);
            closest = QString::fromStdString(c.structure);
        }
        auto* clearanceItem = new QTableWidgetItem(clearance);
        clearanceItem->setForeground(e.safe ? QColor(94, 224, 122) : QColor(240, 80, 64));
        m_rankedTable->setItem(r, 2, clearanceItem);
        m_rankedTable->setItem(r, 3, new QTableWidgetItem(closest));
        m_rankedTable->setItem(r, 4,
                               new QTableWidgetItem(QStringLiteral("%1 / %2")
                                                        .arg(formatDeg(e.angles.craniocaudalDeg))
                                                        .arg(formatDeg(e.angles.mediolateralDeg))));
        m_rankedTable->setItem(r, 5, new QTableWidgetItem(formatCarm(e.angles.bullseye)));
        for (int c = 0; c < 6; ++c) {
            m_rankedTable->item(r, c)->setToolTip(
                stale.isEmpty() ? (record.evaluation.safe ? tr("safe") : tr("unsafe")) : stale);
            if (!stale.isEmpty())
                m_rankedTable->item(r, c)->setForeground(QColor(120, 126, 134));
        }
    }
    // The highlight follows the entry in use: none once the entry left every candidate.
    if (target && target->selectedRank >= 0 && target->selectedRank < rows)
        m_rankedTable->selectRow(target->selectedRank);
    else
        m_rankedTable->clearSelection();
}

void PlanningPanel::refreshMeasurements()
{
    m_measurementsList->clear();
    const imaging::Volume* volume = m_image.volume().get();
    for (const planning::Measurement& measurement : m_plan.measurements())
        m_measurementsList->addItem(measurementText(volume, measurement));
    m_measurementsList->setCurrentRow(m_measurementsList->count() - 1);
}

void PlanningPanel::confirmRemoveTarget()
{
    const PlanTarget* target = m_plan.active();
    if (!target)
        return;
    const auto answer = QMessageBox::question(
        this, tr("Remove target"),
        tr("Remove the target \"%1\" and its trajectories?\n\nEdit > Undo brings it back.")
            .arg(QString::fromStdString(target->name)),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer == QMessageBox::Yes)
        m_plan.removeTarget(m_plan.activeTarget());
}

void PlanningPanel::refreshReadout()
{
    ReadoutInput input;
    input.target = m_plan.active();
    if (input.target && input.target->entryLps) {
        input.evaluation = m_plan.evaluation(m_plan.activeTarget());
        input.needle = planning::findNeedle(m_plan.needleName());
        input.position = m_plan.patientPosition();
        input.measuring = m_plan.measuring();
        input.haveLabels = m_structures.labels() != nullptr;
    }
    input.staleBecause = m_plan.staleBecause(m_plan.activeTarget());
    input.positionNote = m_plan.positionNote();
    input.vertebralLevel = m_plan.vertebralLevel(m_plan.activeTarget());
    m_readout->setText(trajectoryReadoutHtml(input));
}

} // namespace np::gui
