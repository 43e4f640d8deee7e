#include "needleplan/gui/StructuresModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/StructureMerge.h"
#include "needleplan/planning/Terminology.h"
#include "needleplan/imaging/DicomSegIO.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/Segmentation.h"
#include "needleplan/imaging/StructureImport.h"

#include <QFileInfo>
#include <QUndoCommand>
#include <QUndoStack>

namespace np::gui {

StructureRow defaultStructureRow(const imaging::Segment& segment)
{
    StructureRow row;
    row.spec = planning::defaultStructureSpec(segment.name, segment.labelValue);
    row.style.labelValue = segment.labelValue;
    row.style.name = segment.name;
    row.style.colorRgb = segment.colorRgb;
    const std::string& name = segment.name;
    const bool skin = name.find("skin") != std::string::npos || name.find("body") != std::string::npos;
    row.style.opacity = skin ? 0.18 : 1.0;
    // Large soft-tissue labels would hide the image; they stay available but hidden.
    row.style.visible = !(name.find("fat") != std::string::npos || name.find("muscle") != std::string::npos ||
                          name.find("body") != std::string::npos);
    return row;
}

namespace {

/// Changes one structure's display or planning rule.
class EditStructureCommand : public QUndoCommand
{
public:
    EditStructureCommand(StructuresModel& model, int row, StructureRow before, StructureRow after,
                         const QString& text)
        : QUndoCommand(text), m_model(model), m_row(row), m_before(std::move(before)),
          m_after(std::move(after))
    {
    }
    void undo() override { m_model.setRow(m_row, m_before); }
    void redo() override { m_model.setRow(m_row, m_after); }

private:
    StructuresModel& m_model;
    int m_row;
    StructureRow m_before;
    StructureRow m_after;
};

/// Replaces the label map and the rows (structures segmented or imported).
class ReplaceStructuresCommand : public QUndoCommand
{
public:
    ReplaceStructuresCommand(StructuresModel& model, std::shared_ptr<const imaging::LabelMap> afterLabels,
                             std::vector<StructureRow> afterRows, QString afterSource, const QString& text)
        : QUndoCommand(text), m_model(model), m_beforeLabels(model.labels()), m_beforeRows(model.rows()),
          m_beforeSource(model.source()), m_afterLabels(std::move(afterLabels)),
          m_afterRows(std::move(afterRows)), m_afterSource(std::move(afterSource))
    {
    }
    void undo() override { m_model.replaceLabels(m_beforeLabels, m_beforeRows, m_beforeSource); }
    void redo() override { m_model.replaceLabels(m_afterLabels, m_afterRows, m_afterSource); }

private:
    StructuresModel& m_model;
    std::shared_ptr<const imaging::LabelMap> m_beforeLabels;
    std::vector<StructureRow> m_beforeRows;
    QString m_beforeSource;
    std::shared_ptr<const imaging::LabelMap> m_afterLabels;
    std::vector<StructureRow> m_afterRows;
    QString m_afterSource;
};

} // namespace

StructuresModel::StructuresModel(const ImageModel& image, QUndoStack& undo, BackgroundTask& task,
                                 QObject* parent)
    : QObject(parent), m_image(image), m_undo(undo), m_task(task)
{
    connect(&image, &ImageModel::volumeChanged, this, [this] { setLabels(nullptr, {}); });
    connect(&image, &ImageModel::labelsLoaded, this, [this](std::shared_ptr<const imaging::LabelMap> labels) {
        m_source = m_image.structuresPath();
        setLabels(std::move(labels));
        markSaved(); // as in their file
    });
}

StructuresModel::~StructuresModel() = default;

std::vector<render::StructureStyle> StructuresModel::styles() const
{
    std::vector<render::StructureStyle> styles;
    styles.reserve(m_rows.size());
    for (const StructureRow& row : m_rows)
        styles.push_back(row.style);
    return styles;
}

std::vector<planning::StructureSpec> StructuresModel::specs() const
{
    std::vector<planning::StructureSpec> specs;
    specs.reserve(m_rows.size());
    for (const StructureRow& row : m_rows)
        specs.push_back(row.spec);
    return specs;
}

std::uint16_t StructuresModel::skinLabel() const
{
    for (const char* key : {"skin", "body"})
        for (const StructureRow& row : m_rows)
            if (QString::fromStdString(row.style.name).contains(key, Qt::CaseInsensitive))
                return row.style.labelValue;
    return 0;
}

void StructuresModel::setLabels(std::shared_ptr<const imaging::LabelMap> labels)
{
    std::vector<StructureRow> rows;
    if (labels)
        for (const imaging::Segment& segment : labels->segments())
            rows.push_back(defaultStructureRow(segment));
    setLabels(std::move(labels), std::move(rows));
}

void StructuresModel::setLabels(std::shared_ptr<const imaging::LabelMap> labels,
                                std::vector<StructureRow> rows)
{
    m_labels = std::move(labels);
    m_rows = m_labels ? std::move(rows) : std::vector<StructureRow>{};
    if (!m_labels)
        m_source.clear();
    emit labelsChanged();
    emit structuresChanged();
}

void StructuresModel::replaceLabels(std::shared_ptr<const imaging::LabelMap> labels,
                                    std::vector<StructureRow> rows, const QString& source)
{
    m_source = source;
    setLabels(std::move(labels), std::move(rows));
    emit labelsReplaced();
}

void StructuresModel::setRow(int row, const StructureRow& structure)
{
    if (row < 0 || row >= static_cast<int>(m_rows.size()))
        return;
    m_rows[static_cast<std::size_t>(row)] = structure;
    emit rowChanged(row);
    emit structuresChanged();
}

void StructuresModel::editRow(int row, const StructureRow& after, const QString& text)
{
    if (row < 0 || row >= static_cast<int>(m_rows.size()))
        return;
    const StructureRow before = m_rows[static_cast<std::size_t>(row)];
    const QString described = text.contains("%1") ? text.arg(QString::fromStdString(after.style.name)) : text;
    m_undo.push(new EditStructureCommand(*this, row, before, after, described));
}

void StructuresModel::applyRules(const std::vector<planning::StructureSpec>& specs, const QString& text)
{
    m_undo.beginMacro(text);
    for (std::size_t r = 0; r < specs.size() && r < m_rows.size(); ++r) {
        const StructureRow& before = m_rows[r];
        if (before.spec.structureClass == specs[r].structureClass &&
            before.spec.marginMm == specs[r].marginMm)
            continue;
        StructureRow after = before;
        after.spec = specs[r];
        m_undo.push(new EditStructureCommand(*this, static_cast<int>(r), before, after, tr("Rule")));
    }
    m_undo.endMacro();
}

void StructuresModel::addStructures(const imaging::StructureSet& set, const QString& undoText,
                                    const QString& source)
{
    m_warnings.clear();
    for (const std::string& warning : set.warnings())
        m_warnings << QString::fromStdString(warning);
    MergedStructures merged;
    try {
        auto volume = m_image.volume();
        if (!volume)
            throw std::runtime_error("no image is open");
        merged = mergeStructures(m_labels.get(), m_rows, set, volume->geometry());
    } catch (const std::exception& error) {
        emit errorOccurred(tr("Structures not added"), QString::fromStdString(error.what()));
        emit structuresUpdated(false, QString::fromStdString(error.what()));
        return;
    }
    QString afterSource = m_labels ? m_source : QString();
    if (!source.isEmpty() && !afterSource.split("; ").contains(source))
        afterSource = afterSource.isEmpty() ? source : afterSource + "; " + source;
    m_undo.push(new ReplaceStructuresCommand(*this, std::move(merged.labels), std::move(merged.rows),
                                             afterSource, undoText));
    const QString summary =
        tr("%1: %2 structure(s) added, %3 replaced").arg(undoText).arg(merged.added).arg(merged.replaced);
    emit structuresAdded(summary, m_warnings);
    emit structuresUpdated(true, summary);
}

void StructuresModel::segmentAutomatically(const imaging::SegmentationOptions& options)
{
    auto volume = m_image.volume();
    if (!volume) {
        emit errorOccurred(tr("Structures not segmented"), tr("Open an image first."));
        emit structuresUpdated(false, tr("no image"));
        return;
    }
    auto set = std::make_shared<imaging::StructureSet>();
    m_task.start(
        tr("Segmenting structures"),
        [volume, options, set](ProgressSink& sink) {
            *set = imaging::segmentStructures(*volume, options, &sink);
        },
        [this, set] {
            addStructures(*set, tr("Segment automatically"), QStringLiteral("automatic segmentation"));
        },
        [this](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("Structures not segmented"), message);
            emit structuresUpdated(false, message);
        });
}

void StructuresModel::importStructureFile(const QString& path, const QString& colorTablePath)
{
    auto volume = m_image.volume();
    if (!volume) {
        emit errorOccurred(tr("Structures not imported"), tr("Open an image first."));
        emit structuresUpdated(false, tr("no image"));
        return;
    }
    auto set = std::make_shared<imaging::StructureSet>();
    const std::string native = path.toStdString();
    imaging::StructureImportOptions options;
    options.colorTablePath = colorTablePath.toStdString();
    m_task.start(
        tr("Importing structures"),
        [volume, native, options, set](ProgressSink& sink) {
            *set = imaging::importStructures(native, *volume, options, &sink);
        },
        [this, set, path] {
            addStructures(*set, tr("Import %1").arg(QFileInfo(path).fileName()),
                          QFileInfo(path).absoluteFilePath());
        },
        [this](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("Structures not imported"), message);
            emit structuresUpdated(false, message);
        });
}

bool StructuresModel::exportSegNrrd(const QString& path, QString* error) const
{
    if (!m_labels) {
        if (error)
            *error = tr("There are no structures to export.");
        return false;
    }
    try {
        imaging::writeSegNrrd(labelMapForExport(*m_labels, m_rows), path.toStdString());
    } catch (const std::exception& failure) {
        if (error)
            *error = QString::fromStdString(failure.what());
        return false;
    }
    return true;
}

bool StructuresModel::exportDicomSeg(const QString& path, QString* error) const
{
    auto volume = m_image.volume();
    if (!m_labels || !volume) {
        if (error)
            *error = tr("There are no structures to export.");
        return false;
    }
    try {
        const imaging::StructureSet set =
            imaging::StructureSet::fromLabelMap(labelMapForExport(*m_labels, m_rows));
        imaging::DicomSegWriteOptions options;
        options.coding = planning::segmentCodingFor; // SNOMED CT codes of the terminology table
        imaging::writeDicomSeg(set, *volume, path.toStdString(), options);
    } catch (const std::exception& failure) {
        if (error)
            *error = QString::fromStdString(failure.what());
        return false;
    }
    return true;
}

} // namespace np::gui
