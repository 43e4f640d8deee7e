#pragma once
// Internal to imaging/src/pacs: one SCU association with a PACS (DCMTK's DcmSCU) that translates
// every DCMTK condition and DIMSE status into an np::Error naming the server and the operation, and
// the writing of received instances shared by C-GET and the C-MOVE storage SCP.

#include "needleplan/imaging/PacsClient.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/scu.h>
#include <filesystem>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging::pacs {

/// Throws Error(Network) "PACS <server>: <operation> failed: <problem>".
[[noreturn]] void throwNetworkError(const PacsSettings& settings, const std::string& operation,
                                    const std::string& problem);

/// A human description of a failed DCMTK condition during `operation` (refused, rejected, timed
/// out, dropped, malformed), with DCMTK's own text appended.
std::string describeCondition(const OFCondition& condition, const PacsSettings& settings);

/// "0xA801 (Failed: Move Destination unknown)"-style text of a DIMSE status, with the peer's
/// ErrorComment when it sent one.
std::string describeStatus(Uint16 status, const char* statusName, DcmDataset* statusDetail);

/// Throws Error(InvalidArgument) unless `uid` is a well-formed DICOM UID; `what` names it.
void validateUid(const std::string& uid, const std::string& what);

/// Writes a received data set as `<folder>/<SOPInstanceUID>.dcm` (through a temporary file renamed
/// into place) and returns the path. Throws np::Error on a missing/odd UID or a write failure.
std::filesystem::path writeReceivedInstance(DcmDataset& dataset, const std::filesystem::path& folder);

/// Transfer syntaxes we accept when receiving (C-GET sub-operations and the storage SCP).
OFList<OFString> acceptedReceiveTransferSyntaxes();

/// Storage SOP classes proposed for receiving by C-GET (at most ~100 to leave room in the 128
/// presentation contexts of an association).
std::vector<const char*> retrieveStorageSopClasses();

/// Silences DCMTK's network logging (errors come back as np::Error instead) and stops a dropped
/// connection from killing the process with SIGPIPE. Idempotent.
void prepareNetworking();

/// One association. Owns the DCMTK SCU; aborts the association when destroyed while still open.
class Association : public DcmSCU
{
public:
    Association(const PacsSettings& settings, std::string operation);
    ~Association() override;
    Association(const Association&) = delete;
    Association& operator=(const Association&) = delete;

    /// Adds a presentation context before connect().
    void propose(const std::string& abstractSyntax, const OFList<OFString>& transferSyntaxes,
                 T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT);

    /// Opens the association; throws Error(Network) describing a refusal, rejection or timeout.
    void connect();

    /// The accepted presentation context for `abstractSyntax`; throws when the PACS refused it.
    T_ASC_PresentationContextID acceptedContext(const std::string& abstractSyntax,
                                                const std::string& serviceName);

    /// Releases the association politely (aborts when the release fails).
    void release();

    [[noreturn]] void fail(const std::string& problem) const;
    void checkCondition(const OFCondition& condition) const;

    const PacsSettings& pacsSettings() const { return m_settings; }
    const std::string& operation() const { return m_operation; }

    // C-GET receiving state (used only by retrievals).
    std::filesystem::path receiveFolder;
    ProgressSink* progress = nullptr;
    std::vector<std::filesystem::path> receivedFiles;
    std::string receiveError; ///< first failure while writing a received instance
    bool cancelled = false;
    int expectedTotal = 0; ///< completed + remaining + failed + warning of the latest response

protected:
    OFCondition handleSTORERequest(const T_ASC_PresentationContextID presID, DcmDataset* incomingObject,
                                   OFBool& continueCGETSession, Uint16& cStoreReturnStatus) override;
    OFCondition handleCGETResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& continueCGETSession) override;
    OFCondition handleMOVEResponse(const T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& waitForNextResponse) override;

private:
    void noteResponse(const RetrieveResponse& response);
    void reportReceived();

    PacsSettings m_settings;
    std::string m_operation;
};

} // namespace np::imaging::pacs
