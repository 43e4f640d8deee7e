#include "needleplan/gui/PostInsertionPanel.h"

#include "needleplan/gui/MainWindow.h"
#include "needleplan/gui/PostInsertionModel.h"
#include "needleplan/gui/ViewGrid.h"

#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QStatusBar>
#include <QTableWidget>
#include <QVBoxLayout>

namespace np::gui {

PostInsertionModel* addPostInsertionValidation(MainWindow& window, QMenu* fileMenu)
{
    auto* model = new PostInsertionModel(window.imageModel(), window.structuresModel(), window.planModel(),
                                         window.task(), &window);
    auto* dock = new QDockWidget(QObject::tr("Needles versus plan"), &window);
    dock->setObjectName("postInsertionDock");
    dock->setWidget(new PostInsertionPanel(*model, dock));
    window.addDockWidget(Qt::BottomDockWidgetArea, dock);
    dock->hide();

    auto open = [&window, model, dock](const QString& path) {
        if (path.isEmpty())
            return;
        dock->show();
        model->open(path);
    };
    QAction* folder =
        fileMenu->addAction(QObject::tr("Open post-insertion CT &folder…"), &window, [&window, open] {
            open(QFileDialog::getExistingDirectory(&window, QObject::tr("Post-insertion CT (DICOM folder)")));
        });
    folder->setObjectName("openPostInsertionFolderAction");
    QAction* file =
        fileMenu->addAction(QObject::tr("Open post-insertion CT f&ile…"), &window, [&window, open] {
            open(QFileDialog::getOpenFileName(
                &window, QObject::tr("Post-insertion CT"), QString(),
                QObject::tr("CT (*.dcm *.nrrd *.nhdr *.nii *.nii.gz *.mha *.mhd);;All files (*)")));
        });
    file->setObjectName("openPostInsertionFileAction");

    ViewGrid* grid = window.viewGrid();
    QObject::connect(model, &PostInsertionModel::resultChanged, grid, [&window, model, grid] {
        grid->setOverlay(QStringLiteral("post-insertion"),
                         model->graphics(window.planModel().needleRadiusMm()));
    });
    QObject::connect(
        model, &PostInsertionModel::finished, &window, [&window, dock](bool ok, const QString& message) {
            dock->show();
            window.statusBar()->showMessage(ok ? QObject::tr("Post-insertion CT measured") : message, 10000);
        });
    return model;
}

PostInsertionPanel::PostInsertionPanel(PostInsertionModel& model, QWidget* parent)
    : QWidget(parent), m_model(model)
{
    auto* layout = new QVBoxLayout(this);
    m_status = new QLabel(this);
    m_status->setObjectName("postInsertionStatus");
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    m_table = new QTableWidget(0, 8, this);
    m_table->setObjectName("postInsertionTable");
    m_table->setHorizontalHeaderLabels({tr("Target"), tr("Needle"), tr("Tip error (mm)"), tr("Along (mm)"),
                                        tr("Lateral (mm)"), tr("Entry (mm)"), tr("Angle (°)"),
                                        tr("Verdict")});
    m_table->horizontalHeader()->setSectionResizeMode(7, QHeaderView::Stretch);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    layout->addWidget(m_table);
    auto* buttons = new QHBoxLayout;
    buttons->addStretch(1);
    m_remeasure = new QPushButton(tr("Re-measure against the current plan"), this);
    m_remeasure->setObjectName("postInsertionRemeasureButton");
    m_remeasure->setToolTip(tr("Measure the same post-insertion CT again against the plan as it is now"));
    m_remeasure->hide();
    connect(m_remeasure, &QPushButton::clicked, &m_model, &PostInsertionModel::remeasure);
    buttons->addWidget(m_remeasure);
    auto* clear = new QPushButton(tr("Clear"), this);
    clear->setToolTip(tr("Remove the needles found and the table"));
    connect(clear, &QPushButton::clicked, &m_model, &PostInsertionModel::clear);
    buttons->addWidget(clear);
    layout->addLayout(buttons);
    connect(&m_model, &PostInsertionModel::resultChanged, this, &PostInsertionPanel::refresh);
    connect(&m_model, &PostInsertionModel::staleChanged, this, &PostInsertionPanel::refresh);
    connect(&m_model, &PostInsertionModel::finished, this, [this](bool ok, const QString& message) {
        refresh();
        if (!ok)
            m_status->setText(message);
    });
}

QString PostInsertionPanel::statusText() const
{
    return m_status->text();
}

void PostInsertionPanel::refresh()
{
    // A result measured against a plan that has since changed stays readable, marked as such.
    const bool stale = m_model.stale();
    m_remeasure->setVisible(stale);
    m_status->setText(stale ? tr("The plan has changed since these needles were measured: the errors below "
                                 "compare them with the previous plan. Re-measure to compare them with the "
                                 "plan as it is now.\n%1")
                                  .arg(m_model.statusText())
                            : m_model.statusText());
    const std::vector<PostInsertionRow> rows = m_model.rows();
    m_table->setRowCount(static_cast<int>(rows.size()));
    auto number = [](double value) { return QString::number(value, 'f', 2); };
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
        const PostInsertionRow& row = rows[static_cast<std::size_t>(r)];
        QStringList cells{row.target.isEmpty() ? tr("(none)") : row.target,
                          row.needle.isEmpty() ? tr("none found") : row.needle};
        if (row.errors)
            cells << number(row.errors->tipErrorMm) << number(row.errors->tipAlongMm)
                  << number(row.errors->tipAcrossMm) << number(row.errors->entryErrorMm)
                  << number(row.errors->angleErrorDeg);
        else
            cells << QString() << QString() << QString() << QString() << QString();
        cells << (stale ? tr("STALE (previous plan): %1").arg(row.verdict) : row.verdict);
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (stale)
                item->setForeground(QColor(140, 140, 140));
            else if (c == 7)
                item->setForeground(row.errors && row.safe ? QColor(60, 200, 90) : QColor(240, 70, 50));
            item->setToolTip(cells[c]);
            m_table->setItem(r, c, item);
        }
    }
    m_table->resizeColumnsToContents();
}

} // namespace np::gui
