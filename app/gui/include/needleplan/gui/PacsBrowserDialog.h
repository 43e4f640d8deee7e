#pragma once
/// File > Open from PACS…: the server section (with Echo), the search fields, the studies found with
/// their series, and Retrieve (progress and Cancel) then Open. A thin window on PacsBrowserModel.

#include "needleplan/gui/PacsBrowserModel.h"

#include <QDialog>
#include <QGroupBox>
#include <functional>

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace np::gui {

/// Host, port, AE titles and timeouts of a PACS, with an Echo button that says whether the PACS
/// answers (or the server's error). Used by the browser and by Send to PACS.
class PacsServerBox : public QGroupBox
{
    Q_OBJECT
public:
    explicit PacsServerBox(const imaging::PacsSettings& settings, QWidget* parent = nullptr);
    /// The settings as typed (not validated).
    imaging::PacsSettings settings() const;
    void setSettings(const imaging::PacsSettings& settings);
    /// Where Echo writes its result (object name "pacsEchoResult").
    QLabel* resultLabel() const { return m_result; }

signals:
    void echoRequested();

private:
    QLineEdit* m_host = nullptr;
    QSpinBox* m_port = nullptr;
    QLineEdit* m_calling = nullptr;
    QLineEdit* m_called = nullptr;
    QSpinBox* m_connectTimeout = nullptr;
    QSpinBox* m_responseTimeout = nullptr;
    QLabel* m_result = nullptr;
};

class PacsBrowserDialog : public QDialog
{
    Q_OBJECT
public:
    /// `open` is called with the retrieved folder when the user presses Open (the dialog closes
    /// first); the window's open path asks about unsaved plan changes and shows the series picker.
    PacsBrowserDialog(std::function<void(const QString& folder)> open, QWidget* parent = nullptr);

    PacsBrowserModel& model() { return *m_model; }
    PacsServerBox* serverBox() const { return m_server; }
    /// The search fields as typed.
    PacsSearchFields searchFields() const;
    /// Selects the study row `study`, or its series `series` (>= 0).
    void selectResult(int study, int series);
    /// The message line under the results (object name "pacsStatus").
    QString statusText() const;
    /// Close: cancels a running job first.
    void reject() override;

private:
    void applySettings();
    void showResults();
    void updateButtons();
    void retrieveSelected();

    PacsBrowserModel* m_model = nullptr;
    std::function<void(const QString&)> m_open;
    PacsServerBox* m_server = nullptr;
    QLineEdit* m_patientName = nullptr;
    QLineEdit* m_patientId = nullptr;
    QCheckBox* m_useDates = nullptr;
    QDateEdit* m_dateFrom = nullptr;
    QDateEdit* m_dateTo = nullptr;
    QComboBox* m_modality = nullptr;
    QPushButton* m_search = nullptr;
    QTreeWidget* m_results = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QPushButton* m_retrieve = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_openButton = nullptr;
};

} // namespace np::gui
