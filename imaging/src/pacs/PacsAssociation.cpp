#include "PacsAssociation.h"

#include "DcmtkAccess.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <csignal>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/oflog/oflog.h>
#include <mutex>
#include <system_error>

namespace np::imaging::pacs {

namespace {

std::string flatten(const std::string& text)
{
    std::string out;
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            if (!out.empty() && out.back() != ' ')
                out += "; ";
        } else {
            out += c;
        }
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == ';'))
        out.pop_back();
    return out;
}

bool contains(const std::string& text, const char* needle)
{
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return lower.find(needle) != std::string::npos;
}

} // namespace

void throwNetworkError(const PacsSettings& settings, const std::string& operation, const std::string& problem)
{
    throw Error(ErrorCode::Network,
                "PACS " + describeServer(settings) + ": " + operation + " failed: " + problem);
}

std::string describeCondition(const OFCondition& condition, const PacsSettings& settings)
{
    const std::string text = flatten(condition.text());
    std::string problem;
    if (condition == DUL_ASSOCIATIONREJECTED) {
        problem = "the PACS rejected the association (check that its AE title is \"" +
                  settings.calledAeTitle + "\" and that it accepts the calling AE title \"" +
                  settings.callingAeTitle + "\")";
    } else if (contains(text, "refused")) {
        problem = "connection refused (nothing accepts DICOM connections on " + settings.host + " port " +
                  std::to_string(settings.port) + ")";
    } else if (condition == DUL_READTIMEOUT || condition == DIMSE_NODATAAVAILABLE ||
               contains(text, "timeout") || contains(text, "timed out")) {
        problem = "no answer from the PACS within the timeout (connect " +
                  std::to_string(settings.connectTimeoutSeconds) + " s, DIMSE " +
                  std::to_string(settings.dimseTimeoutSeconds) + " s)";
    } else if (condition == DUL_ILLEGALPDU || condition == DUL_ILLEGALPDULENGTH ||
               condition == DUL_UNEXPECTEDPDU || condition == DIMSE_PARSEFAILED ||
               condition == DIMSE_UNEXPECTEDPDVTYPE || condition == DUL_WRONGDATATYPE ||
               condition == DUL_INCORRECTBUFFERLENGTH || contains(text, "unexpected") ||
               contains(text, "illegal") || contains(text, "unrecognized")) {
        problem = "malformed response from the PACS (not valid DICOM network data)";
    } else if (condition == DUL_PEERABORTEDASSOCIATION || condition == DUL_NETWORKCLOSED ||
               condition == DUL_PEERREQUESTEDRELEASE || condition == DIMSE_READPDVFAILED ||
               condition == DIMSE_RECEIVEFAILED || condition == DIMSE_SENDFAILED || contains(text, "reset") ||
               contains(text, "broken pipe")) {
        problem = "the connection was dropped by the PACS or the network";
    } else if (contains(text, "name or service not known") || contains(text, "unknown host") ||
               contains(text, "host not found")) {
        problem = "unknown host \"" + settings.host + "\"";
    } else {
        problem = "network error";
    }
    return problem + " [" + text + "]";
}

std::string describeStatus(Uint16 status, const char* statusName, DcmDataset* statusDetail)
{
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%04X", static_cast<unsigned>(status));
    std::string text = std::string("status ") + hex;
    if (statusName && *statusName)
        text += std::string(" (") + statusName + ")";
    if (statusDetail) {
        const std::string comment = detail::dicomText(statusDetail, DCM_ErrorComment);
        if (!comment.empty())
            text += ": " + comment;
    }
    return text;
}

void validateUid(const std::string& uid, const std::string& what)
{
    const bool wellFormed =
        !uid.empty() && uid.size() <= 64 && uid.front() != '.' && uid.back() != '.' &&
        std::all_of(uid.begin(), uid.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }) &&
        uid.find("..") == std::string::npos;
    if (!wellFormed)
        throw Error(ErrorCode::InvalidArgument,
                    what + " \"" + uid + "\" is not a DICOM UID (digits and dots, at most 64 characters)");
}

std::filesystem::path writeReceivedInstance(DcmDataset& dataset, const std::filesystem::path& folder)
{
    const std::string sopInstanceUid = detail::dicomText(&dataset, DCM_SOPInstanceUID);
    validateUid(sopInstanceUid, "received SOP Instance UID");
    const std::filesystem::path target = folder / (sopInstanceUid + ".dcm");
    const std::filesystem::path temporary = folder / (sopInstanceUid + ".dcm.part");
    E_TransferSyntax transferSyntax = dataset.getOriginalXfer();
    if (transferSyntax == EXS_Unknown)
        transferSyntax = EXS_LittleEndianExplicit;
    DcmFileFormat file(&dataset); // copies the data set
    const OFCondition written = file.saveFile(temporary.c_str(), transferSyntax);
    if (written.bad()) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw Error(ErrorCode::Io, temporary.string() + ": cannot write the received instance (" +
                                       flatten(written.text()) + ")");
    }
    std::error_code renamed;
    std::filesystem::rename(temporary, target, renamed);
    if (renamed)
        throw Error(ErrorCode::Io, target.string() + ": cannot move the received instance into place (" +
                                       renamed.message() + ")");
    return target;
}

OFList<OFString> acceptedReceiveTransferSyntaxes()
{
    OFList<OFString> syntaxes;
    for (const char* uid :
         {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
          UID_DeflatedExplicitVRLittleEndianTransferSyntax, UID_JPEGProcess1TransferSyntax,
          UID_JPEGProcess2_4TransferSyntax, UID_JPEGProcess14SV1TransferSyntax,
          UID_JPEGProcess14TransferSyntax, UID_JPEGLSLosslessTransferSyntax, UID_JPEGLSLossyTransferSyntax,
          UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
          UID_BigEndianExplicitTransferSyntax})
        syntaxes.push_back(uid);
    return syntaxes;
}

std::vector<const char*> retrieveStorageSopClasses()
{
    return {UID_CTImageStorage,
            UID_EnhancedCTImageStorage,
            UID_LegacyConvertedEnhancedCTImageStorage,
            UID_MRImageStorage,
            UID_EnhancedMRImageStorage,
            UID_LegacyConvertedEnhancedMRImageStorage,
            UID_PositronEmissionTomographyImageStorage,
            UID_EnhancedPETImageStorage,
            UID_NuclearMedicineImageStorage,
            UID_UltrasoundImageStorage,
            UID_UltrasoundMultiframeImageStorage,
            UID_ComputedRadiographyImageStorage,
            UID_DigitalXRayImageStorageForPresentation,
            UID_DigitalXRayImageStorageForProcessing,
            UID_XRayAngiographicImageStorage,
            UID_EnhancedXAImageStorage,
            UID_XRayRadiofluoroscopicImageStorage,
            UID_EnhancedXRFImageStorage,
            UID_XRay3DAngiographicImageStorage,
            UID_XRay3DCraniofacialImageStorage,
            UID_SecondaryCaptureImageStorage,
            UID_MultiframeSingleBitSecondaryCaptureImageStorage,
            UID_MultiframeGrayscaleByteSecondaryCaptureImageStorage,
            UID_MultiframeGrayscaleWordSecondaryCaptureImageStorage,
            UID_MultiframeTrueColorSecondaryCaptureImageStorage,
            UID_EncapsulatedPDFStorage,
            UID_SegmentationStorage,
            UID_SurfaceSegmentationStorage,
            UID_RTStructureSetStorage,
            UID_RTPlanStorage,
            UID_RTDoseStorage,
            UID_RTImageStorage,
            UID_SpatialRegistrationStorage,
            UID_DeformableSpatialRegistrationStorage,
            UID_BasicTextSRStorage,
            UID_EnhancedSRStorage,
            UID_ComprehensiveSRStorage,
            UID_KeyObjectSelectionDocumentStorage,
            UID_GrayscaleSoftcopyPresentationStateStorage,
            UID_VLPhotographicImageStorage};
}

void prepareNetworking()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::getLogger("dcmtk.dcmnet").setLogLevel(OFLogger::FATAL_LOG_LEVEL);
        // A peer that drops the connection mid-write must give an error, not a SIGPIPE exit.
        struct sigaction current = {};
        if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
            std::signal(SIGPIPE, SIG_IGN);
    });
}

Association::Association(const PacsSettings& settings, std::string operation)
    : m_settings(settings), m_operation(std::move(operation))
{
    prepareNetworking();
    validatePacsSettings(settings);
    setAETitle(settings.callingAeTitle.c_str());
    setPeerAETitle(settings.calledAeTitle.c_str());
    setPeerHostName(settings.host.c_str());
    setPeerPort(static_cast<Uint16>(settings.port));
    setConnectionTimeout(settings.connectTimeoutSeconds);
    setACSETimeout(static_cast<Uint32>(settings.connectTimeoutSeconds));
    setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    setDIMSETimeout(static_cast<Uint32>(settings.dimseTimeoutSeconds));
    setDatasetConversionMode(OFTrue);
    setProgressNotificationMode(OFFalse);
}

Association::~Association()
{
    if (isConnected())
        abortAssociation();
}

void Association::propose(const std::string& abstractSyntax, const OFList<OFString>& transferSyntaxes,
                          T_ASC_SC_ROLE role)
{
    const OFCondition added = addPresentationContext(abstractSyntax.c_str(), transferSyntaxes, role);
    if (added.bad())
        throw Error(ErrorCode::Internal,
                    "cannot propose presentation context " + abstractSyntax + ": " + flatten(added.text()));
}

void Association::connect()
{
    OFCondition condition = initNetwork();
    if (condition.bad())
        fail("cannot initialise the network (" + flatten(condition.text()) + ")");
    condition = negotiateAssociation();
    if (condition.bad()) {
        if (condition == NET_EC_NoAcceptablePresentationContexts)
            fail("the PACS accepted none of the proposed services for " + m_operation);
        fail(describeCondition(condition, m_settings));
    }
}

T_ASC_PresentationContextID Association::acceptedContext(const std::string& abstractSyntax,
                                                         const std::string& serviceName)
{
    const T_ASC_PresentationContextID id = findAnyPresentationContextID(abstractSyntax.c_str(), "");
    if (id == 0)
        fail("the PACS does not offer " + serviceName + " (presentation context " + abstractSyntax +
             " not accepted)");
    return id;
}

void Association::release()
{
    if (!isConnected())
        return;
    if (releaseAssociation().bad() && isConnected())
        abortAssociation();
}

void Association::fail(const std::string& problem) const
{
    throwNetworkError(m_settings, m_operation, problem);
}

void Association::checkCondition(const OFCondition& condition) const
{
    if (condition.bad())
        fail(describeCondition(condition, m_settings));
}

void Association::noteResponse(const RetrieveResponse& response)
{
    const int total = response.m_numberOfCompletedSubops + response.m_numberOfRemainingSubops +
                      response.m_numberOfFailedSubops + response.m_numberOfWarningSubops;
    if (total > 0)
        expectedTotal = total;
}

void Association::reportReceived()
{
    const int received = static_cast<int>(receivedFiles.size());
    const double fraction = expectedTotal > 0 ? std::min(1.0, double(received) / expectedTotal) : 0.0;
    reportProgress(progress, fraction, retrieveProgressStage({received, expectedTotal}));
}

OFCondition Association::handleSTORERequest(const T_ASC_PresentationContextID /*presID*/,
                                            DcmDataset* incomingObject, OFBool& continueCGETSession,
                                            Uint16& cStoreReturnStatus)
{
    std::unique_ptr<DcmDataset> dataset(incomingObject); // we own it, as DcmSCU documents
    continueCGETSession = OFTrue;
    if (!dataset) {
        cStoreReturnStatus = STATUS_STORE_Error_CannotUnderstand;
        return EC_Normal;
    }
    try {
        receivedFiles.push_back(writeReceivedInstance(*dataset, receiveFolder));
        cStoreReturnStatus = STATUS_Success;
        reportReceived();
    } catch (const Error& error) {
        if (receiveError.empty())
            receiveError = error.what();
        cStoreReturnStatus = STATUS_STORE_Refused_OutOfResources;
    }
    if (progress && progress->cancelRequested()) {
        cancelled = true;
        continueCGETSession = OFFalse;
    }
    return EC_Normal;
}

OFCondition Association::handleCGETResponse(const T_ASC_PresentationContextID presID,
                                            RetrieveResponse* response, OFBool& continueCGETSession)
{
    const OFCondition condition = DcmSCU::handleCGETResponse(presID, response, continueCGETSession);
    if (response)
        noteResponse(*response);
    if (progress && progress->cancelRequested()) {
        cancelled = true;
        continueCGETSession = OFFalse;
    }
    return condition;
}

OFCondition Association::handleMOVEResponse(const T_ASC_PresentationContextID presID,
                                            RetrieveResponse* response, OFBool& waitForNextResponse)
{
    const OFCondition condition = DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
    if (response)
        noteResponse(*response);
    if (progress && progress->cancelRequested()) {
        cancelled = true;
        waitForNextResponse = OFFalse;
    }
    return condition;
}

} // namespace np::imaging::pacs
