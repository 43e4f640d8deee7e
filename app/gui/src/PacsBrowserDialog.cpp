// File > Open from PACS…: a thin window on PacsBrowserModel.

#include "needleplan/gui/PacsBrowserDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace np::gui {

namespace {

QString dicomDateText(const std::string& date)
{
    const QDate parsed = QDate::fromString(QString::fromStdString(date), "yyyyMMdd");
    return parsed.isValid() ? parsed.toString(Qt::ISODate) : QString::fromStdString(date);
}

QString countText(int count)
{
    return count >= 0 ? QString::number(count) : QStringLiteral("?");
}

} // namespace

PacsServerBox::PacsServerBox(const imaging::PacsSettings& settings, QWidget* parent)
    : QGroupBox(tr("PACS server"), parent)
{
    setObjectName("pacsServerBox");
    auto* form = new QFormLayout(this);
    m_host = new QLineEdit(this);
    m_host->setObjectName("pacsHost");
    m_port = new QSpinBox(this);
    m_port->setObjectName("pacsPort");
    m_port->setRange(1, 65535);
    m_calling = new QLineEdit(this);
    m_calling->setObjectName("pacsCallingAe");
    m_calling->setMaxLength(16);
    m_called = new QLineEdit(this);
    m_called->setObjectName("pacsCalledAe");
    m_called->setMaxLength(16);
    m_connectTimeout = new QSpinBox(this);
    m_connectTimeout->setObjectName("pacsConnectTimeout");
    m_connectTimeout->setRange(1, 3600);
    m_connectTimeout->setSuffix(tr(" s"));
    m_responseTimeout = new QSpinBox(this);
    m_responseTimeout->setObjectName("pacsResponseTimeout");
    m_responseTimeout->setRange(1, 3600);
    m_responseTimeout->setSuffix(tr(" s"));
    auto* address = new QHBoxLayout;
    address->addWidget(m_host, 1);
    address->addWidget(new QLabel(tr("Port"), this));
    address->addWidget(m_port);
    form->addRow(tr("Host"), address);
    auto* titles = new QHBoxLayout;
    titles->addWidget(m_calling);
    titles->addWidget(new QLabel(tr("PACS AE title"), this));
    titles->addWidget(m_called);
    form->addRow(tr("Our AE title"), titles);
    auto* timeouts = new QHBoxLayout;
    timeouts->addWidget(m_connectTimeout);
    timeouts->addWidget(new QLabel(tr("Response timeout"), this));
    timeouts->addWidget(m_responseTimeout);
    form->addRow(tr("Connect timeout"), timeouts);
    auto* echoRow = new QHBoxLayout;
    auto* echo = new QPushButton(tr("Echo"), this);
    echo->setObjectName("pacsEchoButton");
    echo->setToolTip(tr("C-ECHO: checks that the PACS answers with these settings"));
    m_result = new QLabel(this);
    m_result->setObjectName("pacsEchoResult");
    m_result->setWordWrap(true);
    m_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
    echoRow->addWidget(echo);
    echoRow->addWidget(m_result, 1);
    form->addRow(echoRow);
    connect(echo, &QPushButton::clicked, this, &PacsServerBox::echoRequested);
    setSettings(settings);
}

imaging::PacsSettings PacsServerBox::settings() const
{
    imaging::PacsSettings settings;
    settings.host = m_host->text().trimmed().toStdString();
    settings.port = m_port->value();
    settings.callingAeTitle = m_calling->text().trimmed().toStdString();
    settings.calledAeTitle = m_called->text().trimmed().toStdString();
    settings.connectTimeoutSeconds = m_connectTimeout->value();
    settings.dimseTimeoutSeconds = m_responseTimeout->value();
    return settings;
}

void PacsServerBox::setSettings(const imaging::PacsSettings& settings)
{
    m_host->setText(QString::fromStdString(settings.host));
    m_port->setValue(settings.port);
    m_calling->setText(QString::fromStdString(settings.callingAeTitle));
    m_called->setText(QString::fromStdString(settings.calledAeTitle));
    m_connectTimeout->setValue(settings.connectTimeoutSeconds);
    m_responseTimeout->setValue(settings.dimseTimeoutSeconds);
}

PacsBrowserDialog::PacsBrowserDialog(std::function<void(const QString&)> open, QWidget* parent)
    : QDialog(parent), m_model(new PacsBrowserModel(this)), m_open(std::move(open))
{
    setObjectName("pacsBrowserDialog");
    setWindowTitle(tr("Open from PACS"));
    resize(980, 720);
    auto* layout = new QVBoxLayout(this);
    m_server = new PacsServerBox(m_model->settings(), this);
    layout->addWidget(m_server);

    auto* searchBox = new QGroupBox(tr("Search"), this);
    auto* form = new QFormLayout(searchBox);
    m_patientName = new QLineEdit(searchBox);
    m_patientName->setObjectName("pacsPatientName");
    m_patientName->setPlaceholderText(tr("e.g. DOE^J*  (* any characters, ? one character)"));
    m_patientId = new QLineEdit(searchBox);
    m_patientId->setObjectName("pacsPatientId");
    form->addRow(tr("Patient name"), m_patientName);
    form->addRow(tr("Patient ID"), m_patientId);
    auto* dates = new QHBoxLayout;
    m_useDates = new QCheckBox(tr("from"), searchBox);
    m_useDates->setObjectName("pacsUseDates");
    m_dateFrom = new QDateEdit(QDate::currentDate().addYears(-1), searchBox);
    m_dateFrom->setObjectName("pacsDateFrom");
    m_dateTo = new QDateEdit(QDate::currentDate(), searchBox);
    m_dateTo->setObjectName("pacsDateTo");
    for (QDateEdit* edit : {m_dateFrom, m_dateTo}) {
        edit->setCalendarPopup(true);
        edit->setDisplayFormat("yyyy-MM-dd");
        edit->setEnabled(false);
    }
    connect(m_useDates, &QCheckBox::toggled, m_dateFrom, &QWidget::setEnabled);
    connect(m_useDates, &QCheckBox::toggled, m_dateTo, &QWidget::setEnabled);
    dates->addWidget(m_useDates);
    dates->addWidget(m_dateFrom);
    dates->addWidget(new QLabel(tr("to"), searchBox));
    dates->addWidget(m_dateTo);
    dates->addStretch(1);
    form->addRow(tr("Study date"), dates);
    auto* modalityRow = new QHBoxLayout;
    m_modality = new QComboBox(searchBox);
    m_modality->setObjectName("pacsModality");
    m_modality->setEditable(true);
    m_modality->addItems({QString(), "CT", "MR", "PT", "XA", "RF", "CR", "DX", "US", "SEG", "DOC"});
    m_search = new QPushButton(tr("Search"), searchBox);
    m_search->setObjectName("pacsSearchButton");
    m_search->setDefault(true);
    modalityRow->addWidget(m_modality);
    modalityRow->addStretch(1);
    modalityRow->addWidget(m_search);
    form->addRow(tr("Modality"), modalityRow);
    layout->addWidget(searchBox);

    m_results = new QTreeWidget(this);
    m_results->setObjectName("pacsResults");
    m_results->setHeaderLabels({tr("Patient name"), tr("Patient ID"), tr("Date"), tr("Modality"),
                                tr("Description"), tr("Instances")});
    m_results->setSelectionMode(QAbstractItemView::SingleSelection);
    m_results->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_results->header()->setStretchLastSection(false);
    layout->addWidget(m_results, 1);

    m_progress = new QProgressBar(this);
    m_progress->setObjectName("pacsProgress");
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("%v of %m instances"));
    m_status = new QLabel(this);
    m_status->setObjectName("pacsStatus");
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);

    auto* buttons = new QHBoxLayout;
    m_retrieve = new QPushButton(tr("Retrieve"), this);
    m_retrieve->setObjectName("pacsRetrieveButton");
    m_cancel = new QPushButton(tr("Cancel retrieval"), this);
    m_cancel->setObjectName("pacsCancelButton");
    m_openButton = new QPushButton(tr("Open"), this);
    m_openButton->setObjectName("pacsOpenButton");
    auto* close = new QPushButton(tr("Close"), this);
    buttons->addWidget(m_retrieve);
    buttons->addWidget(m_cancel);
    buttons->addStretch(1);
    buttons->addWidget(m_openButton);
    buttons->addWidget(close);
    layout->addLayout(buttons);

    connect(m_server, &PacsServerBox::echoRequested, this, [this] {
        applySettings();
        m_server->resultLabel()->setText(
            tr("Sending C-ECHO to %1…")
                .arg(QString::fromStdString(imaging::describeServer(m_model->settings()))));
        m_model->echo();
    });
    connect(m_model, &PacsBrowserModel::echoFinished, this, [this](bool ok, const QString& message) {
        m_server->resultLabel()->setText((ok ? tr("OK: ") : tr("Failed: ")) + message);
    });
    connect(m_search, &QPushButton::clicked, this, [this] {
        applySettings();
        m_status->setText(
            tr("Searching %1…").arg(QString::fromStdString(imaging::describeServer(m_model->settings()))));
        m_model->search(searchFields());
    });
    connect(m_model, &PacsBrowserModel::searchFinished, this, [this](bool ok, const QString& message) {
        if (ok)
            showResults();
        m_status->setText(ok ? message : tr("Search failed: %1").arg(message));
    });
    connect(m_retrieve, &QPushButton::clicked, this, &PacsBrowserDialog::retrieveSelected);
    connect(m_results, &QTreeWidget::itemDoubleClicked, this, &PacsBrowserDialog::retrieveSelected);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_status->setText(tr("Cancelling…"));
        m_model->cancel();
    });
    connect(m_model, &PacsBrowserModel::retrieveProgress, this, [this](int received, int expected) {
        m_progress->setRange(0, std::max({1, expected, received}));
        m_progress->setValue(received);
        m_status->setText(expected > 0 ? tr("Received %1 of %2 instances…").arg(received).arg(expected)
                                       : tr("Received %1 instances…").arg(received));
    });
    connect(m_model, &PacsBrowserModel::retrieveFinished, this, [this](bool ok, const QString& message) {
        m_status->setText(ok ? message + tr(". Press Open to load it.")
                             : tr("Retrieval failed: %1").arg(message));
        if (!ok)
            m_progress->setValue(0);
        updateButtons();
    });
    connect(m_openButton, &QPushButton::clicked, this, [this] {
        const QString folder = m_model->retrievedFolder();
        accept();
        if (m_open && !folder.isEmpty())
            m_open(folder);
    });
    connect(close, &QPushButton::clicked, this, &QDialog::reject);
    connect(m_model, &PacsBrowserModel::busyChanged, this, &PacsBrowserDialog::updateButtons);
    connect(m_results, &QTreeWidget::itemSelectionChanged, this, &PacsBrowserDialog::updateButtons);
    updateButtons();
}

void PacsBrowserDialog::applySettings()
{
    m_model->setSettings(m_server->settings());
    PacsBrowserModel::storeSettings(m_server->settings());
}

PacsSearchFields PacsBrowserDialog::searchFields() const
{
    PacsSearchFields fields;
    fields.patientName = m_patientName->text();
    fields.patientId = m_patientId->text();
    if (m_useDates->isChecked()) {
        fields.studyDateFrom = m_dateFrom->date();
        fields.studyDateTo = m_dateTo->date();
    }
    fields.modality = m_modality->currentText();
    return fields;
}

void PacsBrowserDialog::showResults()
{
    m_results->clear();
    const auto& studies = m_model->studies();
    for (int s = 0; s < static_cast<int>(studies.size()); ++s) {
        const PacsStudyEntry& entry = studies[s];
        const imaging::PacsMatch& study = entry.study;
        auto* item = new QTreeWidgetItem(
            m_results, {QString::fromStdString(study.patientName), QString::fromStdString(study.patientId),
                        dicomDateText(study.studyDate), QString::fromStdString(study.modality),
                        QString::fromStdString(study.studyDescription), countText(entry.instanceCount())});
        item->setData(0, Qt::UserRole, s);
        item->setData(0, Qt::UserRole + 1, -1);
        for (int n = 0; n < static_cast<int>(entry.series.size()); ++n) {
            const imaging::PacsMatch& series = entry.series[n];
            const QString description = series.seriesDescription.empty()
                                            ? tr("Series %1").arg(QString::fromStdString(series.seriesNumber))
                                            : QString::fromStdString(series.seriesDescription);
            auto* child = new QTreeWidgetItem(item, {QString(), QString(), QString(),
                                                     QString::fromStdString(series.modality), description,
                                                     countText(series.numberOfInstances)});
            child->setData(0, Qt::UserRole, s);
            child->setData(0, Qt::UserRole + 1, n);
        }
        item->setExpanded(true);
    }
    updateButtons();
}

void PacsBrowserDialog::selectResult(int study, int series)
{
    QTreeWidgetItem* item = m_results->topLevelItem(study);
    if (item && series >= 0)
        item = item->child(series);
    if (item)
        m_results->setCurrentItem(item);
}

QString PacsBrowserDialog::statusText() const
{
    return m_status->text();
}

void PacsBrowserDialog::retrieveSelected()
{
    const QList<QTreeWidgetItem*> selected = m_results->selectedItems();
    if (selected.isEmpty() || m_model->busy())
        return;
    applySettings();
    m_model->retrieve(selected.front()->data(0, Qt::UserRole).toInt(),
                      selected.front()->data(0, Qt::UserRole + 1).toInt());
    updateButtons();
}

void PacsBrowserDialog::updateButtons()
{
    const bool busy = m_model->busy();
    m_search->setEnabled(!busy);
    m_retrieve->setEnabled(!busy && !m_results->selectedItems().isEmpty());
    m_cancel->setEnabled(busy);
    m_openButton->setEnabled(!busy && !m_model->retrievedFolder().isEmpty());
}

void PacsBrowserDialog::reject()
{
    if (m_model->busy())
        m_model->cancel();
    QDialog::reject();
}

} // namespace np::gui
