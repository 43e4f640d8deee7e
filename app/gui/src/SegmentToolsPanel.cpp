#include "needleplan/gui/SegmentToolsPanel.h"

#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMainWindow>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace np::gui {

namespace {

constexpr planning::StructureClass kClasses[] = {
    planning::StructureClass::Forbidden, planning::StructureClass::Caution,
    planning::StructureClass::Obstacle, planning::StructureClass::Target, planning::StructureClass::Ignored};

QDoubleSpinBox* spin(QWidget* parent, const char* name, double lo, double hi, double value, int decimals,
                     const QString& suffix)
{
    auto* box = new QDoubleSpinBox(parent);
    box->setObjectName(name);
    box->setRange(lo, hi);
    box->setDecimals(decimals);
    box->setValue(value);
    box->setSuffix(suffix);
    return box;
}

} // namespace

NewStructureDialog::NewStructureDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("New structure"));
    auto* form = new QFormLayout(this);
    m_name = new QLineEdit(this);
    m_name->setObjectName("newStructureName");
    m_name->setPlaceholderText(tr("e.g. nerve_root_L4_left, kidney_right"));
    m_class = new QComboBox(this);
    m_class->setObjectName("newStructureClass");
    for (planning::StructureClass c : kClasses)
        m_class->addItem(QString::fromLatin1(planning::toString(c)), static_cast<int>(c));
    m_margin = spin(this, "newStructureMargin", 0.0, 50.0, 2.0, 1, tr(" mm"));
    m_rule = new QLabel(this);
    m_rule->setObjectName("newStructureRule");
    m_rule->setWordWrap(true);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Class"), m_class);
    form->addRow(tr("Margin"), m_margin);
    form->addRow(m_rule);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_name, &QLineEdit::textEdited, this, &NewStructureDialog::nameEdited);
    connect(m_class, &QComboBox::activated, this, [this] { m_userChose = true; });
    connect(m_margin, &QDoubleSpinBox::editingFinished, this, [this] { m_userChose = true; });
    nameEdited();
}

void NewStructureDialog::nameEdited()
{
    const planning::StructureSpec spec = SegmentEditor::defaultsForName(m_name->text());
    m_rule->setText(m_name->text().trimmed().isEmpty()
                        ? tr("Class and margin follow the terminology for the name.")
                        : tr("Default by %1").arg(QString::fromStdString(spec.rule)));
    if (m_userChose)
        return;
    m_class->setCurrentIndex(m_class->findData(static_cast<int>(spec.structureClass)));
    m_margin->setValue(spec.marginMm);
}

QString NewStructureDialog::name() const
{
    return m_name->text().trimmed();
}

planning::StructureClass NewStructureDialog::structureClass() const
{
    return static_cast<planning::StructureClass>(m_class->currentData().toInt());
}

double NewStructureDialog::marginMm() const
{
    return m_margin->value();
}

QString NewStructureDialog::ruleText() const
{
    return m_rule->text();
}

SegmentToolsPanel::SegmentToolsPanel(const ImageModel& image, StructuresModel& structures,
                                     ViewStateModel& view, QUndoStack& undo, QWidget* parent)
    : QWidget(parent), m_image(image), m_structures(structures), m_view(view),
      m_editor(new SegmentEditor(image, structures, undo, this))
{
    auto* layout = new QVBoxLayout(this);
    auto* toolRow = new QHBoxLayout;
    m_tools = new QButtonGroup(this);
    const std::pair<const char*, QString> tools[] = {{"segmentOff", tr("Off")},
                                                     {"segmentPaint", tr("Paint")},
                                                     {"segmentErase", tr("Erase")},
                                                     {"segmentGrow", tr("Grow")}};
    for (int t = 0; t < 4; ++t) {
        auto* button = new QToolButton(this);
        button->setObjectName(tools[t].first);
        button->setText(tools[t].second);
        button->setCheckable(true);
        m_tools->addButton(button, t); // 0 off, 1 paint, 2 erase, 3 grow
        toolRow->addWidget(button);
    }
    m_tools->button(0)->setChecked(true);
    m_tools->button(1)->setToolTip(tr("Paint the structure: click or drag in a slice view"));
    m_tools->button(2)->setToolTip(tr("Erase the structure: click or drag in a slice view"));
    m_tools->button(3)->setToolTip(tr("Grow a region of the structure from a click in a slice view"));
    layout->addLayout(toolRow);

    auto* form = new QFormLayout;
    auto* structureRow = new QHBoxLayout;
    m_structure = new QComboBox(this);
    m_structure->setObjectName("segmentStructure");
    auto* add = new QPushButton(tr("New structure…"), this);
    add->setObjectName("segmentNewStructure");
    structureRow->addWidget(m_structure, 1);
    structureRow->addWidget(add);
    form->addRow(tr("Structure"), structureRow);
    m_shape = new QComboBox(this);
    m_shape->setObjectName("segmentBrushShape");
    m_shape->addItem(tr("2D disc"));
    m_shape->addItem(tr("3D sphere"));
    m_radius = spin(this, "segmentRadius", 0.0, 100.0, 5.0, 2, tr(" mm"));
    auto* brushRow = new QHBoxLayout;
    brushRow->addWidget(m_shape);
    brushRow->addWidget(new QLabel(tr("radius"), this));
    brushRow->addWidget(m_radius);
    form->addRow(tr("Brush"), brushRow);
    m_threshold = new QCheckBox(tr("Paint only within the HU range"), this);
    m_threshold->setObjectName("segmentThreshold");
    form->addRow(m_threshold);
    m_minHu = spin(this, "segmentMinHu", -3000.0, 5000.0, -100.0, 0, tr(" HU"));
    m_maxHu = spin(this, "segmentMaxHu", -3000.0, 5000.0, 300.0, 0, tr(" HU"));
    auto* huRow = new QHBoxLayout;
    huRow->addWidget(m_minHu);
    huRow->addWidget(new QLabel(tr("to"), this));
    huRow->addWidget(m_maxHu);
    form->addRow(tr("HU range"), huRow);
    m_growMethod = new QComboBox(this);
    m_growMethod->setObjectName("segmentGrowMethod");
    m_growMethod->addItem(tr("Connected threshold (HU range)"));
    m_growMethod->addItem(tr("Confidence connected (seed ± 2.5 SD)"));
    form->addRow(tr("Growing"), m_growMethod);
    m_overwrite = new QCheckBox(tr("Paint over and erase other structures"), this);
    m_overwrite->setObjectName("segmentOverwrite");
    form->addRow(m_overwrite);
    layout->addLayout(form);
    m_seedStats = new QLabel(tr("Seed: click with Grow"), this);
    m_seedStats->setObjectName("segmentSeedStats");
    m_seedStats->setWordWrap(true);
    m_status = new QLabel(this);
    m_status->setObjectName("segmentStatus");
    m_status->setWordWrap(true);
    layout->addWidget(m_seedStats);
    layout->addWidget(m_status);
    layout->addStretch(1);

    connect(m_tools, &QButtonGroup::idClicked, this, &SegmentToolsPanel::toolChosen);
    connect(add, &QPushButton::clicked, this, &SegmentToolsPanel::newStructure);
    connect(m_structure, &QComboBox::currentIndexChanged, this, &SegmentToolsPanel::settingsEdited);
    connect(m_shape, &QComboBox::currentIndexChanged, this, &SegmentToolsPanel::settingsEdited);
    connect(m_growMethod, &QComboBox::currentIndexChanged, this, &SegmentToolsPanel::settingsEdited);
    for (QDoubleSpinBox* box : {m_radius, m_minHu, m_maxHu})
        connect(box, &QDoubleSpinBox::valueChanged, this, &SegmentToolsPanel::settingsEdited);
    for (QCheckBox* box : {m_threshold, m_overwrite})
        connect(box, &QCheckBox::toggled, this, &SegmentToolsPanel::settingsEdited);
    connect(&m_structures, &StructuresModel::structuresChanged, this, &SegmentToolsPanel::refreshStructures);
    connect(&m_view, &ViewStateModel::pickModeChanged, this, [this] {
        if (m_view.pickMode() != PickMode::Segment)
            m_tools->button(0)->setChecked(true);
    });
    connect(m_editor, &SegmentEditor::seedStatisticsChanged, m_seedStats, &QLabel::setText);
    connect(m_editor, &SegmentEditor::edited, this, [this](const QString& text) { showStatus(text, false); });
    connect(
        m_editor, &SegmentEditor::errorOccurred, this,
        [this](const QString& title, const QString& message) { showStatus(title + ": " + message, true); });
    refreshStructures();
    settingsEdited();
}

SegmentToolsPanel* SegmentToolsPanel::addDock(QMainWindow& window, const ImageModel& image,
                                              StructuresModel& structures, ViewStateModel& view,
                                              QUndoStack& undo,
                                              const std::vector<SliceViewWidget*>& sliceViews)
{
    auto* dock = new QDockWidget(tr("Segment"), &window);
    dock->setObjectName("segmentToolsDock");
    auto* panel = new SegmentToolsPanel(image, structures, view, undo, dock);
    dock->setWidget(panel);
    window.addDockWidget(Qt::LeftDockWidgetArea, dock);
    if (auto* structuresDock = window.findChild<QDockWidget*>("structuresDock"))
        window.tabifyDockWidget(structuresDock, dock);
    for (SliceViewWidget* slice : sliceViews)
        panel->editor().attachSliceView(slice);
    return panel;
}

void SegmentToolsPanel::toolChosen(int tool)
{
    settingsEdited();
    m_view.setPickMode(tool == 0 ? PickMode::Navigate : PickMode::Segment);
    if (tool != 0 && m_editor->settings().labelValue == 0)
        showStatus(tr("Choose the structure to edit, or add one with New structure."), true);
}

void SegmentToolsPanel::settingsEdited()
{
    SegmentSettings settings = m_editor->settings();
    const int tool = m_tools->checkedId();
    settings.tool = tool == 2 ? SegmentTool::Erase : (tool == 3 ? SegmentTool::Grow : SegmentTool::Paint);
    settings.shape = m_shape->currentIndex() == 1 ? BrushShape::Sphere : BrushShape::Disc;
    settings.radiusMm = m_radius->value();
    settings.thresholdLimited = m_threshold->isChecked();
    settings.minHu = m_minHu->value();
    settings.maxHu = m_maxHu->value();
    settings.growMethod = m_growMethod->currentIndex() == 1 ? imaging::RegionGrowMethod::ConfidenceConnected
                                                            : imaging::RegionGrowMethod::ConnectedThreshold;
    settings.overwriteOthers = m_overwrite->isChecked();
    settings.labelValue = static_cast<std::uint16_t>(m_structure->currentData().toUInt());
    m_editor->setSettings(settings);
}

void SegmentToolsPanel::refreshStructures()
{
    const std::uint16_t current = m_editor->settings().labelValue;
    {
        QSignalBlocker blocker(m_structure);
        m_structure->clear();
        for (const StructureRow& row : m_structures.rows())
            m_structure->addItem(QString::fromStdString(row.style.name),
                                 static_cast<uint>(row.style.labelValue));
        const int index = m_structure->findData(static_cast<uint>(current));
        m_structure->setCurrentIndex(index >= 0 ? index : (m_structure->count() > 0 ? 0 : -1));
    }
    settingsEdited();
}

void SegmentToolsPanel::newStructure()
{
    NewStructureDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (m_editor->addStructure(dialog.name(), dialog.structureClass(), dialog.marginMm()) != 0)
        refreshStructures();
}

void SegmentToolsPanel::showStatus(const QString& text, bool error)
{
    m_status->setStyleSheet(error ? QStringLiteral("color: #f05040;") : QString());
    m_status->setText(text);
}

} // namespace np::gui
