#pragma once
/// DICOM networking with a PACS: verification (C-ECHO), query (C-FIND), retrieval (C-GET, or C-MOVE
/// to NeedlePlan's own storage SCP) and sending (C-STORE). Every wait is bounded by the settings'
/// timeouts; every failure is an np::Error (ErrorCode::Network for the network and the peer) whose
/// message names the server and the operation.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Where the PACS is and how long to wait for it.
struct PacsSettings
{
    std::string host = "127.0.0.1";            ///< host name or IP address of the PACS
    int port = 104;                            ///< its DICOM port (1..65535)
    std::string callingAeTitle = "NEEDLEPLAN"; ///< our AE title (1..16 characters)
    std::string calledAeTitle = "ANY-SCP";     ///< the PACS's AE title (1..16 characters)
    int connectTimeoutSeconds = 10;            ///< TCP connect and association negotiation (>= 1)
    int dimseTimeoutSeconds = 30;              ///< longest silence while waiting for a response (>= 1)
};

/// "AE@host:port", how messages name the server.
std::string describeServer(const PacsSettings& settings);

/// Throws Error(InvalidArgument) naming the field when a setting is out of range.
void validatePacsSettings(const PacsSettings& settings);

/// Query/retrieve level of a C-FIND.
enum class PacsLevel
{
    Patient,
    Study,
    Series,
};

/// "patient", "study" or "series".
const char* toString(PacsLevel level);

/// Parses "patient", "study" or "series" (case-insensitive); throws Error(InvalidArgument) otherwise.
PacsLevel pacsLevelFromString(const std::string& text);

/// Matching keys of a C-FIND. Empty fields do not constrain the match. `patientName` may hold the
/// DICOM wildcards `*` and `?`; `studyDate` is a date or a range ("20240101-20241231").
struct PacsQuery
{
    PacsLevel level = PacsLevel::Study;
    std::string patientId;
    std::string patientName;
    std::string studyInstanceUid;
    std::string seriesInstanceUid;
    std::string modality; ///< study level: one of the study's modalities; series level: the series's
    std::string studyDate;
};

/// One C-FIND match. Fields the level does not carry (or the PACS did not return) are empty.
struct PacsMatch
{
    PacsLevel level = PacsLevel::Study;
    std::string patientId;
    std::string patientName;
    std::string patientBirthDate;
    std::string studyInstanceUid;
    std::string studyDate;
    std::string studyDescription;
    std::string accessionNumber;
    std::string seriesInstanceUid;
    std::string seriesNumber;
    std::string seriesDescription;
    std::string modality;       ///< series level: the series's; study level: the study's, joined by '\'
    int numberOfInstances = -1; ///< -1 when the PACS did not say
};

/// What to retrieve and where to put it.
struct PacsRetrieveRequest
{
    std::string studyInstanceUid;       ///< required
    std::string seriesInstanceUid;      ///< empty: the whole study
    std::filesystem::path outputFolder; ///< created when missing; files are named by SOP Instance UID
    /// Empty: C-GET on the query association. Otherwise C-MOVE to this AE title, which the PACS
    /// must know as NeedlePlan's storage SCP listening on `listenPort` of this machine.
    std::string moveDestinationAeTitle;
    int listenPort = 0; ///< C-MOVE only: the port our storage SCP listens on (1..65535)
};

/// Outcome of a retrieval. A retrieval with failed sub-operations throws; warnings are counted.
struct PacsRetrieveResult
{
    std::vector<std::filesystem::path> files; ///< the files received, in arrival order
    int completed = 0;                        ///< sub-operations the PACS reported as completed
    int warnings = 0;                         ///< sub-operations that completed with a warning
};

/// Instances received so far by a retrieval and the total the PACS announced (0 until it does).
struct PacsInstanceCount
{
    int received = 0;
    int expected = 0;
};

/// The progress stage a retrieval reports after each instance: "received N of M instances"
/// ("received N instances" while M is unknown).
std::string retrieveProgressStage(const PacsInstanceCount& count);

/// Reads a stage written by retrieveProgressStage; false (count untouched) for any other stage.
bool parseRetrieveProgressStage(const std::string& stage, PacsInstanceCount& count);

/// Outcome of sending files.
struct PacsStoreResult
{
    int sent = 0;                     ///< instances the PACS accepted
    int warnings = 0;                 ///< accepted with a warning status
    std::vector<std::string> skipped; ///< "path: reason" for files that are not DICOM
};

/// A client for one PACS. Each call opens its own association and closes it before returning (or
/// aborts it on failure), so a client is cheap and holds no connection between calls.
class PacsClient
{
public:
    explicit PacsClient(PacsSettings settings);

    const PacsSettings& settings() const { return m_settings; }

    /// C-ECHO: throws Error(Network) unless the PACS answers with success.
    void echo() const;

    /// C-FIND at the query's level (Patient Root for patients, Study Root otherwise).
    std::vector<PacsMatch> find(const PacsQuery& query) const;

    /// C-GET or C-MOVE of a study or series into the request's folder. Progress is reported per
    /// received instance; a cancel request aborts the association and throws Error(Cancelled).
    PacsRetrieveResult retrieve(const PacsRetrieveRequest& request, ProgressSink* progress = nullptr) const;

    /// C-STORE of DICOM files; folders are searched recursively. Files that are not DICOM are
    /// skipped and listed; a file the PACS refuses throws. Throws Error(NotFound) when a path is
    /// missing and Error(InvalidArgument) when no DICOM file is found at all.
    PacsStoreResult store(const std::vector<std::filesystem::path>& paths,
                          ProgressSink* progress = nullptr) const;

private:
    PacsSettings m_settings;
};

} // namespace np::imaging
