#include "StorageReceiver.h"

#include "PacsAssociation.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scp.h>

namespace np::imaging::pacs {

class StorageReceiverScp : public DcmSCP
{
public:
    StorageReceiverScp(std::filesystem::path folder, ProgressSink* progress)
        : m_folder(std::move(folder)), m_progress(progress)
    {
    }

    std::atomic<bool> stopRequested{false};
    std::atomic<int> expectedTotal{0};

    std::vector<std::filesystem::path> files() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_files;
    }

    std::string firstError() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_firstError;
    }

protected:
    OFCondition handleIncomingCommand(T_DIMSE_Message* message,
                                      const DcmPresentationContextInfo& info) override
    {
        if (message->CommandField != DIMSE_C_STORE_RQ)
            return DcmSCP::handleIncomingCommand(message, info);
        // After a cancel, refuse the rest: a bad condition makes DcmSCP abort this association,
        // so that stop() does not wait for the PACS to finish sending.
        if (stopRequested.load())
            return DIMSE_BADCOMMANDTYPE;
        T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
        DcmDataset* received = nullptr;
        const OFCondition condition = receiveSTORERequest(request, info.presentationContextID, received);
        std::unique_ptr<DcmDataset> dataset(received);
        if (condition.bad())
            return condition;
        Uint16 status = STATUS_Success;
        try {
            if (!dataset)
                throw Error(ErrorCode::CorruptData, "C-STORE request without a data set");
            const std::filesystem::path written = writeReceivedInstance(*dataset, m_folder);
            int count = 0;
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                m_files.push_back(written);
                count = static_cast<int>(m_files.size());
            }
            const int total = expectedTotal.load();
            reportProgress(m_progress, total > 0 ? std::min(1.0, double(count) / total) : 0.0,
                           retrieveProgressStage({count, total}));
        } catch (const std::exception& error) {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_firstError.empty())
                m_firstError = error.what();
            status = STATUS_STORE_Refused_OutOfResources;
        }
        return sendSTOREResponse(info.presentationContextID, request, status);
    }

    OFBool stopAfterCurrentAssociation() override { return stopRequested.load(); }
    OFBool stopAfterConnectionTimeout() override { return stopRequested.load(); }

private:
    std::filesystem::path m_folder;
    ProgressSink* m_progress;
    mutable std::mutex m_mutex;
    std::vector<std::filesystem::path> m_files;
    std::string m_firstError;
};

StorageReceiver::StorageReceiver(const PacsSettings& settings, const std::string& aeTitle, int port,
                                 std::filesystem::path folder, ProgressSink* progress)
    : m_scp(std::make_unique<StorageReceiverScp>(std::move(folder), progress))
{
    prepareNetworking();
    if (port < 1 || port > 65535)
        throw Error(ErrorCode::InvalidArgument, "listen port " + std::to_string(port) +
                                                    " is out of range (1..65535) for the C-MOVE destination");
    DcmSCP& scp = *m_scp;
    scp.setAETitle(aeTitle.c_str());
    scp.setPort(static_cast<Uint16>(port));
    scp.setConnectionBlockingMode(DUL_NOBLOCK);
    scp.setConnectionTimeout(1); // how often the listening loop checks for stop()
    scp.setACSETimeout(static_cast<Uint32>(settings.connectTimeoutSeconds));
    scp.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scp.setDIMSETimeout(static_cast<Uint32>(settings.dimseTimeoutSeconds));
    scp.setHostLookupEnabled(OFFalse);
    scp.setProgressNotificationMode(OFFalse);
    const OFList<OFString> syntaxes = acceptedReceiveTransferSyntaxes();
    OFList<OFString> verificationSyntaxes;
    verificationSyntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    verificationSyntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    scp.addPresentationContext(UID_VerificationSOPClass, verificationSyntaxes);
    for (int n = 0; n < numberOfDcmAllStorageSOPClassUIDs; ++n)
        scp.addPresentationContext(dcmAllStorageSOPClassUIDs[n], syntaxes);
    const OFCondition opened = scp.openListenPort();
    if (opened.bad())
        throw Error(ErrorCode::Network, "cannot listen on port " + std::to_string(port) +
                                            " for the C-MOVE destination " + aeTitle + " (" + opened.text() +
                                            "; is the port in use?)");
    m_thread = std::thread([this] { m_scp->acceptAssociations(); });
}

StorageReceiver::~StorageReceiver()
{
    stop();
}

void StorageReceiver::stop()
{
    m_scp->stopRequested = true;
    if (m_thread.joinable())
        m_thread.join();
}

std::vector<std::filesystem::path> StorageReceiver::files() const
{
    return m_scp->files();
}

std::string StorageReceiver::firstError() const
{
    return m_scp->firstError();
}

void StorageReceiver::setExpectedTotal(int total)
{
    m_scp->expectedTotal = total;
}

} // namespace np::imaging::pacs
