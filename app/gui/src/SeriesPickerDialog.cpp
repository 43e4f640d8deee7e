#include "needleplan/gui/SeriesPickerDialog.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace np::gui {

namespace {
QString geometryText(const imaging::Geometry& g)
{
    return QStringLiteral("%1 × %2 × %3").arg(g.size[0]).arg(g.size[1]).arg(g.size[2]);
}
QString spacingText(const imaging::Geometry& g)
{
    return QStringLiteral("%1 × %2 × %3 mm")
        .arg(g.spacing.x, 0, 'f', 2)
        .arg(g.spacing.y, 0, 'f', 2)
        .arg(g.spacing.z, 0, 'f', 2);
}
} // namespace

QImage seriesThumbnail(const imaging::DicomScanResult& scan, int index, int sizePx)
{
    try {
        if (index < 0 || index >= static_cast<int>(scan.series.size()))
            return {};
        const imaging::DicomSeriesEntry& entry = scan.series[static_cast<std::size_t>(index)];
        if (entry.hasError() || entry.frames.empty())
            return {};
        // Decode only the middle image: a one-frame copy of the entry.
        imaging::DicomScanResult single;
        single.rootPath = scan.rootPath;
        imaging::DicomSeriesEntry middle = entry;
        const imaging::DicomFrameRef frame = entry.frames[entry.frames.size() / 2];
        middle.frames = {frame};
        middle.index = 0;
        middle.geometry.size[2] = 1;
        if (frame.hasPosition)
            middle.geometry.originLps = frame.positionLps;
        middle.warnings.clear();
        single.series = {middle};
        const imaging::Volume volume = imaging::loadDicomSeries(single, 0);
        const auto& g = volume.geometry();
        if (g.size[0] <= 0 || g.size[1] <= 0)
            return {};
        std::vector<float> values(volume.voxels().begin(), volume.voxels().begin() + g.size[0] * g.size[1]);
        std::vector<float> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        const float low = sorted[sorted.size() / 50], high = sorted[sorted.size() - 1 - sorted.size() / 50];
        QImage image(static_cast<int>(g.size[0]), static_cast<int>(g.size[1]), QImage::Format_Grayscale8);
        for (int y = 0; y < image.height(); ++y) {
            uchar* row = image.scanLine(y);
            for (int x = 0; x < image.width(); ++x) {
                const float v = values[static_cast<std::size_t>(y) * image.width() + x];
                row[x] = static_cast<uchar>(std::clamp((v - low) / std::max(1e-3f, high - low), 0.0f, 1.0f) * 255.0f);
            }
        }
        return image.scaled(sizePx, sizePx, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    } catch (...) {
        return {};
    }
}

SeriesPickerDialog::SeriesPickerDialog(const imaging::DicomScanResult& scan, const std::vector<QImage>& thumbnails,
                                       QWidget* parent)
    : QDialog(parent), m_scan(scan)
{
    setObjectName("seriesPicker");
    setWindowTitle(tr("Choose a series"));
    resize(980, 460);
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("%1 contains %2 series. Choose the one to open.")
                                 .arg(QString::fromStdString(scan.rootPath))
                                 .arg(scan.series.size()),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    m_table = new QTableWidget(static_cast<int>(scan.series.size()), 8, this);
    m_table->setObjectName("seriesTable");
    m_table->setHorizontalHeaderLabels({tr("Preview"), tr("#"), tr("Description"), tr("Modality"), tr("Slices"),
                                        tr("Size"), tr("Spacing"), tr("Warnings")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(100);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setIconSize(QSize(96, 96));
    int firstLoadable = -1;
    for (std::size_t r = 0; r < scan.series.size(); ++r) {
        const imaging::DicomSeriesEntry& entry = scan.series[r];
        const int row = static_cast<int>(r);
        auto* preview = new QTableWidgetItem();
        if (r < thumbnails.size() && !thumbnails[r].isNull())
            preview->setData(Qt::DecorationRole, QPixmap::fromImage(thumbnails[r]));
        m_table->setItem(row, 0, preview);
        m_table->setItem(row, 1, new QTableWidgetItem(QString::number(entry.seriesNumber)));
        QString description = QString::fromStdString(entry.description);
        if (description.isEmpty())
            description = tr("(no description)");
        if (entry.kind != imaging::DicomSeriesKind::Volume)
            description += QStringLiteral(" [%1]").arg(imaging::toString(entry.kind));
        m_table->setItem(row, 2, new QTableWidgetItem(description));
        m_table->setItem(row, 3, new QTableWidgetItem(QString::fromStdString(entry.modality)));
        m_table->setItem(row, 4, new QTableWidgetItem(QString::number(entry.frames.size())));
        m_table->setItem(row, 5, new QTableWidgetItem(geometryText(entry.geometry)));
        m_table->setItem(row, 6, new QTableWidgetItem(spacingText(entry.geometry)));
        QStringList warnings;
        if (entry.hasError())
            warnings << tr("Cannot load: %1").arg(QString::fromStdString(entry.error));
        for (const std::string& warning : entry.warnings)
            warnings << QString::fromStdString(warning);
        auto* warningItem = new QTableWidgetItem(warnings.join("\n"));
        warningItem->setToolTip(warnings.join("\n"));
        m_table->setItem(row, 7, warningItem);
        const bool loadable = !entry.hasError() && (entry.kind == imaging::DicomSeriesKind::Volume ||
                                                       entry.kind == imaging::DicomSeriesKind::Projection);
        for (int c = 0; c < m_table->columnCount(); ++c) {
            QTableWidgetItem* item = m_table->item(row, c);
            if (!loadable)
                item->setFlags(item->flags() & ~(Qt::ItemIsSelectable | Qt::ItemIsEnabled));
        }
        if (loadable && firstLoadable < 0)
            firstLoadable = row;
    }
    m_table->resizeColumnsToContents();
    m_table->setColumnWidth(0, 104);
    m_table->setColumnWidth(2, std::max(220, m_table->columnWidth(2)));
    if (firstLoadable >= 0)
        m_table->selectRow(firstLoadable);
    layout->addWidget(m_table, 1);

    m_skipped = new QPlainTextEdit(this);
    m_skipped->setReadOnly(true);
    m_skipped->setVisible(false);
    QStringList skippedLines;
    for (const imaging::SkippedFile& file : scan.skipped)
        skippedLines << QStringLiteral("%1 — %2").arg(QString::fromStdString(file.path), QString::fromStdString(file.reason));
    m_skipped->setPlainText(skippedLines.isEmpty() ? tr("No files were skipped.") : skippedLines.join("\n"));
    layout->addWidget(m_skipped);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
    auto* showSkipped = buttons->addButton(tr("Show skipped files (%1)").arg(scan.skipped.size()),
                                           QDialogButtonBox::ActionRole);
    showSkipped->setCheckable(true);
    connect(showSkipped, &QPushButton::toggled, m_skipped, &QWidget::setVisible);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_table, &QTableWidget::cellDoubleClicked, this, [this](int, int) { accept(); });
    buttons->button(QDialogButtonBox::Open)->setEnabled(firstLoadable >= 0);
    layout->addWidget(buttons);
}

int SeriesPickerDialog::selectedIndex() const
{
    const auto rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return -1;
    return m_scan.series[static_cast<std::size_t>(rows.first().row())].index;
}

int SeriesPickerDialog::rowCount() const { return m_table->rowCount(); }

void SeriesPickerDialog::selectIndex(int index)
{
    for (std::size_t r = 0; r < m_scan.series.size(); ++r)
        if (m_scan.series[r].index == index)
            m_table->selectRow(static_cast<int>(r));
}

} // namespace np::gui
