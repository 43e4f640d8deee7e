#pragma once
/// The PACS browser without widgets: the server settings (kept in QSettings "pacs/..."), C-ECHO,
/// a study search with each study's series, and the retrieval of a study or series by C-GET into
/// the cache folder, all in the background with progress and cancel. PacsBrowserDialog is the thin
/// window on top; tests drive this model directly or through the dialog.

#include "needleplan/imaging/PacsClient.h"

#include <QDate>
#include <QObject>
#include <QString>
#include <vector>

namespace np::gui {

class BackgroundTask;

/// What the user searches by; empty fields do not constrain the search.
struct PacsSearchFields
{
    QString patientName; ///< DICOM wildcards: '*' any run of characters, '?' one character
    QString patientId;
    QDate studyDateFrom; ///< null: no lower bound
    QDate studyDateTo;   ///< null: no upper bound
    QString modality;    ///< e.g. "CT"; empty: any
};

/// A study found and its series (only those of the searched modality when one was given).
struct PacsStudyEntry
{
    imaging::PacsMatch study;
    std::vector<imaging::PacsMatch> series;
    /// The study's instances: the PACS's count, else the sum over its series (-1 when unknown).
    int instanceCount() const;
};

class PacsBrowserModel : public QObject
{
    Q_OBJECT
public:
    explicit PacsBrowserModel(QObject* parent = nullptr);
    ~PacsBrowserModel() override;

    /// The settings last stored ("pacs/host", "pacs/port", "pacs/callingAeTitle",
    /// "pacs/calledAeTitle", "pacs/connectTimeoutSeconds", "pacs/dimseTimeoutSeconds").
    static imaging::PacsSettings storedSettings();
    static void storeSettings(const imaging::PacsSettings& settings);

    const imaging::PacsSettings& settings() const { return m_settings; }
    void setSettings(const imaging::PacsSettings& settings) { m_settings = settings; }

    /// The study-level C-FIND for `fields`. Throws Error(InvalidArgument) when the date range ends
    /// before it starts or a field holds a character DICOM does not allow there.
    static imaging::PacsQuery studyQuery(const PacsSearchFields& fields);

    /// Where retrievals go: `<cache>/pacs` unless setCacheFolder() chose another.
    QString cacheFolder() const { return m_cacheFolder; }
    void setCacheFolder(const QString& folder) { m_cacheFolder = folder; }

    bool busy() const;
    /// C-ECHO with the current settings; echoFinished follows.
    void echo();
    /// Study-level C-FIND, then a series-level C-FIND per study; searchFinished follows and the
    /// results replace studies().
    void search(const PacsSearchFields& fields);
    const std::vector<PacsStudyEntry>& studies() const { return m_studies; }
    /// C-GET of study `studyIndex` (whole study when `seriesIndex` is -1, else that series) into
    /// the cache; retrieveProgress while instances arrive, then retrieveFinished. The files go to
    /// a temporary folder renamed into place once complete; a cancelled or failed retrieval leaves
    /// nothing behind.
    void retrieve(int studyIndex, int seriesIndex);
    /// Stops the running job at its next check (for a retrieval: at the next instance, or when the
    /// PACS's response timeout passes).
    void cancel();
    /// The folder of the last complete retrieval ("" when none).
    const QString& retrievedFolder() const { return m_retrievedFolder; }
    const imaging::PacsInstanceCount& retrieveCount() const { return m_count; }

signals:
    void busyChanged(bool busy);
    void echoFinished(bool ok, const QString& message);
    void searchFinished(bool ok, const QString& message);
    void retrieveProgress(int received, int expected);
    void retrieveFinished(bool ok, const QString& message);

private:
    QString serverText() const;

    BackgroundTask* m_task = nullptr;
    imaging::PacsSettings m_settings;
    QString m_cacheFolder;
    std::vector<PacsStudyEntry> m_studies;
    QString m_retrievedFolder;
    imaging::PacsInstanceCount m_count;
    bool m_retrieving = false;
};

} // namespace np::gui
