#include "needleplan/gui/SegmentEditor.h"

#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/SliceViewWidget.h"
#include "needleplan/gui/StructuresModel.h"

#include <QUndoCommand>
#include <QUndoStack>
#include <algorithm>
#include <cmath>

namespace np::gui {

namespace {

/// A paint, erase or growth: only the voxels it changed, their values before and after.
class LabelEditCommand : public QUndoCommand
{
public:
    LabelEditCommand(StructuresModel& model, LabelEdit edit, const QString& text)
        : QUndoCommand(text), m_model(model), m_edit(std::move(edit))
    {
    }
    void undo() override { apply(false); }
    void redo() override { apply(true); }

private:
    void apply(bool forward)
    {
        if (!m_model.labels())
            return;
        auto labels = std::make_shared<imaging::LabelMap>(*m_model.labels());
        applyLabelEdit(*labels, m_edit, forward);
        m_model.setLabels(std::move(labels), m_model.rows());
    }
    StructuresModel& m_model;
    LabelEdit m_edit;
};

/// A new, empty structure (and the label map on the image's grid when there was none).
class NewStructureCommand : public QUndoCommand
{
public:
    NewStructureCommand(StructuresModel& model, const imaging::Geometry& grid, StructureRow row,
                        const QString& text)
        : QUndoCommand(text), m_model(model), m_grid(grid), m_row(std::move(row)),
          m_createsMap(!model.labels())
    {
    }
    void redo() override
    {
        auto labels = m_model.labels() ? std::make_shared<imaging::LabelMap>(*m_model.labels())
                                       : std::make_shared<imaging::LabelMap>(m_grid);
        imaging::Segment segment;
        segment.name = m_row.style.name;
        segment.labelValue = m_row.style.labelValue;
        segment.colorRgb = m_row.style.colorRgb;
        labels->segments().push_back(segment);
        std::vector<StructureRow> rows = m_model.rows();
        rows.push_back(m_row);
        m_model.setLabels(std::move(labels), std::move(rows));
    }
    void undo() override
    {
        if (!m_model.labels())
            return;
        if (m_createsMap) {
            m_model.setLabels(nullptr, {});
            return;
        }
        auto labels = std::make_shared<imaging::LabelMap>(*m_model.labels());
        const std::uint16_t value = m_row.style.labelValue;
        auto& segments = labels->segments();
        segments.erase(std::remove_if(segments.begin(), segments.end(),
                                      [&](const imaging::Segment& s) { return s.labelValue == value; }),
                       segments.end());
        std::replace(labels->labels().begin(), labels->labels().end(), value, std::uint16_t{0});
        std::vector<StructureRow> rows = m_model.rows();
        rows.erase(std::remove_if(rows.begin(), rows.end(),
                                  [&](const StructureRow& r) { return r.style.labelValue == value; }),
                   rows.end());
        m_model.setLabels(std::move(labels), std::move(rows));
    }

private:
    StructuresModel& m_model;
    imaging::Geometry m_grid;
    StructureRow m_row;
    bool m_createsMap;
};

/// Colours of new structures by class: forbidden red-orange and yellow shades, caution green.
render::Rgb colourFor(planning::StructureClass structureClass, std::uint16_t value)
{
    static const render::Rgb forbidden[] = {{1.0, 0.85, 0.1}, {0.95, 0.3, 0.25}, {0.9, 0.45, 0.9}};
    static const render::Rgb other[] = {{0.3, 0.85, 0.45}, {0.35, 0.7, 1.0}, {0.95, 0.6, 0.2}};
    const std::size_t n = value % 3;
    return structureClass == planning::StructureClass::Forbidden ? forbidden[n] : other[n];
}

} // namespace

SegmentEditor::SegmentEditor(const ImageModel& image, StructuresModel& structures, QUndoStack& undo,
                             QObject* parent)
    : QObject(parent), m_image(image), m_structures(structures), m_undo(undo)
{
}

SegmentEditor::~SegmentEditor() = default;

void SegmentEditor::setSettings(const SegmentSettings& settings)
{
    m_settings = settings;
}

planning::StructureSpec SegmentEditor::defaultsForName(const QString& name)
{
    return planning::defaultStructureSpec(name.trimmed().toStdString(), 0);
}

QString SegmentEditor::structureName(std::uint16_t value) const
{
    for (const StructureRow& row : m_structures.rows())
        if (row.style.labelValue == value)
            return QString::fromStdString(row.style.name);
    return {};
}

std::uint16_t SegmentEditor::addStructure(const QString& name, planning::StructureClass structureClass,
                                          double marginMm)
{
    auto volume = m_image.volume();
    const std::string trimmed = name.trimmed().toStdString();
    if (!volume) {
        emit errorOccurred(tr("Structure not added"), tr("Open an image first."));
        return 0;
    }
    if (trimmed.empty() || !std::isfinite(marginMm) || marginMm < 0.0) {
        emit errorOccurred(tr("Structure not added"),
                           tr("Give the structure a name and a margin of 0 mm or more."));
        return 0;
    }
    std::uint16_t value = 1;
    for (const StructureRow& row : m_structures.rows()) {
        if (row.style.name == trimmed) {
            emit errorOccurred(tr("Structure not added"),
                               tr("There is already a structure named %1.").arg(name));
            return 0;
        }
        value = std::max<std::uint16_t>(value, static_cast<std::uint16_t>(row.style.labelValue + 1));
    }
    if (auto labels = m_structures.labels())
        for (const imaging::Segment& segment : labels->segments())
            value = std::max<std::uint16_t>(value, static_cast<std::uint16_t>(segment.labelValue + 1));
    if (value == 0) {
        emit errorOccurred(tr("Structure not added"), tr("The label map has no free label value."));
        return 0;
    }
    StructureRow row;
    row.spec = planning::defaultStructureSpec(trimmed, value);
    if (row.spec.structureClass != structureClass || std::abs(row.spec.marginMm - marginMm) > 1e-9) {
        row.spec.structureClass = structureClass;
        row.spec.marginMm = marginMm;
        row.spec.rule = "set in the workstation";
    }
    row.style.labelValue = value;
    row.style.name = trimmed;
    row.style.colorRgb = colourFor(structureClass, value);
    m_settings.labelValue = value; // before the push, so that the panel's refresh selects it
    m_undo.push(
        new NewStructureCommand(m_structures, volume->geometry(), row, tr("New structure %1").arg(name)));
    return value;
}

bool SegmentEditor::ready(const QString& what)
{
    auto volume = m_image.volume();
    auto labels = m_structures.labels();
    const QString title = tr("%1 not done").arg(what);
    if (!volume) {
        emit errorOccurred(title, tr("Open an image first."));
        return false;
    }
    if (!labels || m_settings.labelValue == 0 || structureName(m_settings.labelValue).isEmpty()) {
        emit errorOccurred(title, tr("Choose the structure to edit, or add one with New structure."));
        return false;
    }
    if (labels->geometry().size != volume->geometry().size) {
        emit errorOccurred(title, tr("The structures are not on the image's grid."));
        return false;
    }
    return true;
}

void SegmentEditor::beginStroke(const Vec3& pointLps, const Vec3& planeNormalLps, double sliceStepMm)
{
    m_stroking = false;
    m_strokeVoxels.clear();
    if (!ready(m_settings.tool == SegmentTool::Erase ? tr("Erase") : tr("Paint")))
        return;
    m_stroking = true;
    m_strokeBrush.shape = m_settings.shape;
    m_strokeBrush.radiusMm = std::max(0.0, m_settings.radiusMm);
    m_strokeBrush.planeNormalLps = planeNormalLps;
    m_strokeBrush.sliceStepMm = sliceStepMm > 0.0 ? sliceStepMm : m_image.volume()->geometry().spacing.z;
    addDab(pointLps);
    m_lastDabLps = pointLps;
}

void SegmentEditor::addDab(const Vec3& pointLps)
{
    m_strokeVoxels =
        mergeVoxels(m_strokeVoxels, brushVoxels(m_image.volume()->geometry(), pointLps, m_strokeBrush));
}

void SegmentEditor::continueStroke(const Vec3& pointLps)
{
    if (!m_stroking)
        return;
    // Dabs at most half a radius (or half a voxel) apart, so that a fast drag leaves no gaps.
    const imaging::Geometry& grid = m_image.volume()->geometry();
    const double minSpacing = std::min({grid.spacing.x, grid.spacing.y, grid.spacing.z});
    const double step = std::max(0.5 * m_strokeBrush.radiusMm, 0.5 * minSpacing);
    const double length = distance(pointLps, m_lastDabLps);
    const int dabs = std::max(1, static_cast<int>(std::ceil(length / step)));
    for (int d = 1; d <= dabs; ++d)
        addDab(m_lastDabLps + (pointLps - m_lastDabLps) * (static_cast<double>(d) / dabs));
    m_lastDabLps = pointLps;
}

bool SegmentEditor::endStroke()
{
    if (!m_stroking)
        return false;
    m_stroking = false;
    std::vector<std::int64_t> voxels;
    voxels.swap(m_strokeVoxels);
    if (m_settings.tool == SegmentTool::Paint && m_settings.thresholdLimited)
        keepWithinHu(voxels, *m_image.volume(), m_settings.minHu, m_settings.maxHu);
    const bool erase = m_settings.tool == SegmentTool::Erase;
    return commit(voxels, erase ? EditMode::Erase : EditMode::Paint, erase ? tr("Erase") : tr("Paint"));
}

bool SegmentEditor::commit(const std::vector<std::int64_t>& voxels, EditMode mode, const QString& what)
{
    LabelEdit edit = makeLabelEdit(*m_structures.labels(), voxels, mode, m_settings.labelValue,
                                   m_settings.overwriteOthers);
    const QString name = structureName(m_settings.labelValue);
    if (edit.empty()) {
        emit edited(tr("%1 %2: no voxel changed").arg(what, name));
        return false;
    }
    const QString summary = tr("%1 %2: %3 voxels").arg(what, name).arg(edit.voxels.size());
    m_undo.push(new LabelEditCommand(m_structures, std::move(edit), tr("%1 %2").arg(what, name)));
    emit edited(summary);
    return true;
}

QString SegmentEditor::seedStatisticsText(const imaging::SeedStatistics& stats)
{
    return tr("Seed mean %1 HU, SD %2 HU, range %3…%4 HU (%5 voxels)")
        .arg(stats.meanHu, 0, 'f', 0)
        .arg(stats.sdHu, 0, 'f', 0)
        .arg(stats.minHu, 0, 'f', 0)
        .arg(stats.maxHu, 0, 'f', 0)
        .arg(stats.samples);
}

bool SegmentEditor::growFrom(const Vec3& seedLps)
{
    if (!ready(tr("Region growing")))
        return false;
    auto volume = m_image.volume();
    const Vec3 seedIjk = volume->geometry().ijkFromLps(seedLps);
    if (!volume->geometry().containsIjk(seedIjk)) {
        emit errorOccurred(tr("Region growing not done"), tr("The seed lies outside the image."));
        return false;
    }
    const imaging::VoxelIndex seed{static_cast<std::int64_t>(std::lround(seedIjk.x)),
                                   static_cast<std::int64_t>(std::lround(seedIjk.y)),
                                   static_cast<std::int64_t>(std::lround(seedIjk.z))};
    imaging::RegionGrowOptions options;
    options.method = m_settings.growMethod;
    options.lowerHu = m_settings.minHu;
    options.upperHu = m_settings.maxHu;
    options.multiplier = m_settings.confidenceMultiplier;
    options.maxRadiusMm = m_settings.growLimitMm;
    imaging::RegionGrowResult grown;
    try {
        m_seedStats = imaging::seedStatistics(*volume, seed, options.neighbourhoodRadius);
        emit seedStatisticsChanged(seedStatisticsText(*m_seedStats));
        grown = imaging::growRegion(*volume, seed, options);
    } catch (const std::exception& error) {
        emit errorOccurred(tr("Region growing not done"), QString::fromStdString(error.what()));
        return false;
    }
    const bool changed = commit(grown.voxels, EditMode::Paint, tr("Grow"));
    if (grown.reachedLimit)
        emit seedStatisticsChanged(seedStatisticsText(*m_seedStats) +
                                   tr("; the region reached the %1 mm limit around the seed")
                                       .arg(m_settings.growLimitMm, 0, 'f', 0));
    return changed;
}

void SegmentEditor::attachSliceView(SliceViewWidget* view)
{
    connect(view, &SliceViewWidget::strokeStarted, this, [this, view](const Vec3& pointLps) {
        if (m_settings.tool == SegmentTool::Grow)
            growFrom(pointLps);
        else
            beginStroke(pointLps, view->scene().frame().axes.towardViewerLps, view->scene().sliceStepMm());
    });
    connect(view, &SliceViewWidget::strokeMoved, this, &SegmentEditor::continueStroke);
    connect(view, &SliceViewWidget::strokeFinished, this, [this] { endStroke(); });
    // The brush's outline (its size in mm on this slice) follows the mouse while painting or erasing.
    connect(view, &SliceViewWidget::hovered, this, [this, view](const Vec3& pointLps) {
        const bool brush = m_settings.tool != SegmentTool::Grow;
        view->scene().setBrushOutline(brush ? std::optional<Vec3>(pointLps) : std::nullopt,
                                      m_settings.radiusMm, m_settings.shape == BrushShape::Sphere);
        view->refresh();
    });
    connect(view, &SliceViewWidget::hoverLeft, this, [view] {
        view->scene().setBrushOutline(std::nullopt, 0.0, false);
        view->refresh();
    });
}

} // namespace np::gui
