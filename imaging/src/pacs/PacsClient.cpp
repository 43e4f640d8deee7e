#include "needleplan/imaging/PacsClient.h"

#include "DcmtkAccess.h"
#include "PacsAssociation.h"
#include "StorageReceiver.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <map>
#include <set>

namespace np::imaging {

using pacs::Association;

namespace {

void validateAeTitle(const std::string& title, const std::string& what)
{
    const bool ok = !title.empty() && title.size() <= 16 &&
                    std::all_of(title.begin(), title.end(),
                                [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '\\'; }) &&
                    title.find_first_not_of(' ') != std::string::npos;
    if (!ok)
        throw Error(ErrorCode::InvalidArgument,
                    what + " \"" + title +
                        "\" is not a valid AE title (1 to 16 printable characters, no backslash)");
}

OFList<OFString> uncompressedSyntaxes()
{
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    return syntaxes;
}

void put(DcmDataset& keys, const DcmTagKey& tag, const std::string& value)
{
    keys.putAndInsertString(tag, value.c_str());
}

std::string text(DcmDataset* dataset, const DcmTagKey& tag)
{
    return detail::dicomText(dataset, tag);
}

int instanceCount(DcmDataset* dataset, const DcmTagKey& tag)
{
    const std::string value = text(dataset, tag);
    if (value.empty())
        return -1;
    try {
        std::size_t used = 0;
        const long count = std::stol(value, &used);
        if (used != value.size() || count < 0)
            return -1;
        return static_cast<int>(std::min<long>(count, 1L << 30));
    } catch (const std::exception&) {
        return -1;
    }
}

bool isPending(Uint16 status)
{
    return status == STATUS_Pending || status == STATUS_FIND_Pending_WarningUnsupportedOptionalKeys;
}

bool isWarning(Uint16 status)
{
    return (status & 0xF000) == 0xB000;
}

/// A DICOM file found for sending.
struct StoreItem
{
    std::filesystem::path path;
    std::string sopClassUid;
    std::string transferSyntaxUid;
};

void collectFiles(const std::filesystem::path& path, std::vector<std::filesystem::path>& files)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::vector<std::filesystem::path> found;
        for (std::filesystem::recursive_directory_iterator it(path, ec), end; !ec && it != end;
             it.increment(ec))
            if (it->is_regular_file(ec))
                found.push_back(it->path());
        if (ec)
            throw Error(ErrorCode::Io, path.string() + ": cannot list the folder (" + ec.message() + ")");
        std::sort(found.begin(), found.end());
        files.insert(files.end(), found.begin(), found.end());
    } else if (std::filesystem::is_regular_file(path, ec)) {
        files.push_back(path);
    } else {
        throw Error(ErrorCode::NotFound, path.string() + ": no such file or folder");
    }
}

} // namespace

std::string describeServer(const PacsSettings& settings)
{
    return settings.calledAeTitle + "@" + settings.host + ":" + std::to_string(settings.port);
}

std::string retrieveProgressStage(const PacsInstanceCount& count)
{
    return "received " + std::to_string(count.received) +
           (count.expected > 0 ? " of " + std::to_string(count.expected) : std::string()) + " instances";
}

bool parseRetrieveProgressStage(const std::string& stage, PacsInstanceCount& count)
{
    int received = 0, expected = 0;
    char tail[16] = {};
    if (std::sscanf(stage.c_str(), "received %d of %d instance%15s", &received, &expected, tail) == 3 ||
        (expected = 0, std::sscanf(stage.c_str(), "received %d instance%15s", &received, tail) == 2)) {
        if (received < 0 || expected < 0)
            return false;
        count = {received, expected};
        return true;
    }
    return false;
}

void validatePacsSettings(const PacsSettings& settings)
{
    if (settings.host.empty())
        throw Error(ErrorCode::InvalidArgument, "PACS host is empty");
    if (settings.port < 1 || settings.port > 65535)
        throw Error(ErrorCode::InvalidArgument,
                    "PACS port " + std::to_string(settings.port) + " is out of range (1..65535)");
    validateAeTitle(settings.callingAeTitle, "calling AE title");
    validateAeTitle(settings.calledAeTitle, "called AE title");
    if (settings.connectTimeoutSeconds < 1 || settings.connectTimeoutSeconds > 3600)
        throw Error(ErrorCode::InvalidArgument, "connect timeout must be 1..3600 s");
    if (settings.dimseTimeoutSeconds < 1 || settings.dimseTimeoutSeconds > 3600)
        throw Error(ErrorCode::InvalidArgument, "DIMSE timeout must be 1..3600 s");
}

const char* toString(PacsLevel level)
{
    switch (level) {
    case PacsLevel::Patient:
        return "patient";
    case PacsLevel::Study:
        return "study";
    case PacsLevel::Series:
        return "series";
    }
    return "study";
}

PacsLevel pacsLevelFromString(const std::string& textValue)
{
    std::string lower = textValue;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == "patient")
        return PacsLevel::Patient;
    if (lower == "study")
        return PacsLevel::Study;
    if (lower == "series")
        return PacsLevel::Series;
    throw Error(ErrorCode::InvalidArgument,
                "query level \"" + textValue + "\" is not patient, study or series");
}

PacsClient::PacsClient(PacsSettings settings) : m_settings(std::move(settings))
{
    validatePacsSettings(m_settings);
}

void PacsClient::echo() const
{
    Association association(m_settings, "C-ECHO");
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    association.propose(UID_VerificationSOPClass, syntaxes);
    association.connect();
    const T_ASC_PresentationContextID context =
        association.acceptedContext(UID_VerificationSOPClass, "verification");
    association.checkCondition(association.sendECHORequest(context));
    association.release();
}

std::vector<PacsMatch> PacsClient::find(const PacsQuery& query) const
{
    if (!query.studyInstanceUid.empty())
        pacs::validateUid(query.studyInstanceUid, "study UID");
    if (!query.seriesInstanceUid.empty())
        pacs::validateUid(query.seriesInstanceUid, "series UID");
    if (query.level == PacsLevel::Patient && !query.modality.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "a modality applies to study or series queries, not to patients");
    if (query.level != PacsLevel::Series && !query.seriesInstanceUid.empty())
        throw Error(ErrorCode::InvalidArgument, "a series UID applies to series queries only");
    if (query.level == PacsLevel::Patient && (!query.studyInstanceUid.empty() || !query.studyDate.empty()))
        throw Error(ErrorCode::InvalidArgument, "study UID and study date apply to study or series queries");

    const bool patientRoot = query.level == PacsLevel::Patient;
    const char* model = patientRoot ? UID_FINDPatientRootQueryRetrieveInformationModel
                                    : UID_FINDStudyRootQueryRetrieveInformationModel;
    Association association(m_settings, std::string("C-FIND (") + toString(query.level) + " level)");
    association.propose(model, uncompressedSyntaxes());
    association.connect();
    const T_ASC_PresentationContextID context =
        association.acceptedContext(model, patientRoot ? "Patient Root query" : "Study Root query");

    DcmDataset keys;
    put(keys, DCM_SpecificCharacterSet, "ISO_IR 192");
    put(keys, DCM_PatientID, query.patientId);
    put(keys, DCM_PatientName, query.patientName);
    switch (query.level) {
    case PacsLevel::Patient:
        put(keys, DCM_QueryRetrieveLevel, "PATIENT");
        put(keys, DCM_PatientBirthDate, "");
        put(keys, DCM_NumberOfPatientRelatedInstances, "");
        break;
    case PacsLevel::Study:
        put(keys, DCM_QueryRetrieveLevel, "STUDY");
        put(keys, DCM_StudyInstanceUID, query.studyInstanceUid);
        put(keys, DCM_StudyDate, query.studyDate);
        put(keys, DCM_StudyDescription, "");
        put(keys, DCM_AccessionNumber, "");
        put(keys, DCM_PatientBirthDate, "");
        put(keys, DCM_ModalitiesInStudy, query.modality);
        put(keys, DCM_NumberOfStudyRelatedInstances, "");
        break;
    case PacsLevel::Series:
        put(keys, DCM_QueryRetrieveLevel, "SERIES");
        put(keys, DCM_StudyInstanceUID, query.studyInstanceUid);
        put(keys, DCM_StudyDate, query.studyDate);
        put(keys, DCM_StudyDescription, "");
        put(keys, DCM_SeriesInstanceUID, query.seriesInstanceUid);
        put(keys, DCM_Modality, query.modality);
        put(keys, DCM_SeriesNumber, "");
        put(keys, DCM_SeriesDescription, "");
        put(keys, DCM_NumberOfSeriesRelatedInstances, "");
        break;
    }

    OFList<QRResponse*> responses;
    struct Cleanup
    {
        OFList<QRResponse*>& list;
        ~Cleanup()
        {
            for (QRResponse* response : list)
                delete response;
        }
    } cleanup{responses};
    association.checkCondition(association.sendFINDRequest(context, &keys, &responses));

    std::vector<PacsMatch> matches;
    bool final = false;
    for (QRResponse* response : responses) {
        if (!response)
            continue;
        if (isPending(response->m_status)) {
            if (!response->m_dataset)
                association.fail("malformed response: a pending C-FIND response carries no identifier");
            DcmDataset* found = response->m_dataset;
            PacsMatch match;
            match.level = query.level;
            match.patientId = text(found, DCM_PatientID);
            match.patientName = text(found, DCM_PatientName);
            match.patientBirthDate = text(found, DCM_PatientBirthDate);
            if (query.level != PacsLevel::Patient) {
                match.studyInstanceUid = text(found, DCM_StudyInstanceUID);
                match.studyDate = text(found, DCM_StudyDate);
                match.studyDescription = text(found, DCM_StudyDescription);
            }
            switch (query.level) {
            case PacsLevel::Patient:
                match.numberOfInstances = instanceCount(found, DCM_NumberOfPatientRelatedInstances);
                break;
            case PacsLevel::Study:
                match.accessionNumber = text(found, DCM_AccessionNumber);
                match.modality = text(found, DCM_ModalitiesInStudy);
                match.numberOfInstances = instanceCount(found, DCM_NumberOfStudyRelatedInstances);
                if (match.studyInstanceUid.empty())
                    association.fail("malformed response: a study match without a Study Instance UID");
                break;
            case PacsLevel::Series:
                match.seriesInstanceUid = text(found, DCM_SeriesInstanceUID);
                match.modality = text(found, DCM_Modality);
                match.seriesNumber = text(found, DCM_SeriesNumber);
                match.seriesDescription = text(found, DCM_SeriesDescription);
                match.numberOfInstances = instanceCount(found, DCM_NumberOfSeriesRelatedInstances);
                if (match.seriesInstanceUid.empty())
                    association.fail("malformed response: a series match without a Series Instance UID");
                break;
            }
            matches.push_back(std::move(match));
        } else if (response->m_status == STATUS_Success) {
            final = true;
        } else {
            association.fail("the PACS answered with " +
                             pacs::describeStatus(response->m_status,
                                                  DU_cfindStatusString(response->m_status),
                                                  response->m_statusDetail));
        }
    }
    if (!final)
        association.fail("malformed response: no final C-FIND status");
    association.release();
    return matches;
}

PacsRetrieveResult PacsClient::retrieve(const PacsRetrieveRequest& request, ProgressSink* progress) const
{
    pacs::validateUid(request.studyInstanceUid, "study UID");
    if (!request.seriesInstanceUid.empty())
        pacs::validateUid(request.seriesInstanceUid, "series UID");
    if (request.outputFolder.empty())
        throw Error(ErrorCode::InvalidArgument, "no output folder given for the retrieval");
    const bool useMove = !request.moveDestinationAeTitle.empty();
    if (useMove)
        validateAeTitle(request.moveDestinationAeTitle, "C-MOVE destination AE title");
    std::error_code ec;
    std::filesystem::create_directories(request.outputFolder, ec);
    if (ec || !std::filesystem::is_directory(request.outputFolder))
        throw Error(ErrorCode::Io, request.outputFolder.string() + ": cannot create the output folder" +
                                       (ec ? " (" + ec.message() + ")" : std::string()));

    const std::string what = request.seriesInstanceUid.empty() ? "study " + request.studyInstanceUid
                                                               : "series " + request.seriesInstanceUid;
    Association association(m_settings, std::string(useMove ? "C-MOVE" : "C-GET") + " of " + what);
    association.receiveFolder = request.outputFolder;
    association.progress = progress;

    std::unique_ptr<pacs::StorageReceiver> receiver;
    const char* model = useMove ? UID_MOVEStudyRootQueryRetrieveInformationModel
                                : UID_GETStudyRootQueryRetrieveInformationModel;
    association.propose(model, uncompressedSyntaxes());
    if (useMove) {
        receiver = std::make_unique<pacs::StorageReceiver>(
            m_settings, request.moveDestinationAeTitle, request.listenPort, request.outputFolder, progress);
    } else {
        const OFList<OFString> syntaxes = pacs::acceptedReceiveTransferSyntaxes();
        for (const char* sopClass : pacs::retrieveStorageSopClasses())
            association.propose(sopClass, syntaxes, ASC_SC_ROLE_SCP);
    }
    association.connect();
    const T_ASC_PresentationContextID context =
        association.acceptedContext(model, useMove ? "Study Root C-MOVE" : "Study Root C-GET");

    DcmDataset keys;
    put(keys, DCM_QueryRetrieveLevel, request.seriesInstanceUid.empty() ? "STUDY" : "SERIES");
    put(keys, DCM_StudyInstanceUID, request.studyInstanceUid);
    if (!request.seriesInstanceUid.empty())
        put(keys, DCM_SeriesInstanceUID, request.seriesInstanceUid);

    OFList<RetrieveResponse*> responses;
    struct Cleanup
    {
        OFList<RetrieveResponse*>& list;
        ~Cleanup()
        {
            for (RetrieveResponse* response : list)
                delete response;
        }
    } cleanup{responses};
    reportProgress(progress, 0.0, "requesting " + what);
    const OFCondition sent =
        useMove
            ? association.sendMOVERequest(context, request.moveDestinationAeTitle.c_str(), &keys, &responses)
            : association.sendCGETRequest(context, &keys, &responses);
    if (association.cancelled) {
        association.abortAssociation();
        throw Error(ErrorCode::Cancelled, "retrieval of " + what + " cancelled by the user");
    }
    association.checkCondition(sent);

    const RetrieveResponse* last = responses.empty() ? nullptr : responses.back();
    if (!last)
        association.fail("malformed response: no final status");
    if (last->m_status == STATUS_Pending)
        association.fail("malformed response: the last response is still pending");
    PacsRetrieveResult result;
    if (receiver) {
        receiver->stop();
        result.files = receiver->files();
        if (!receiver->firstError().empty())
            association.fail("an instance could not be written: " + receiver->firstError());
    } else {
        result.files = association.receivedFiles;
        if (!association.receiveError.empty())
            association.fail("an instance could not be written: " + association.receiveError);
    }
    const char* statusName =
        useMove ? DU_cmoveStatusString(last->m_status) : DU_cgetStatusString(last->m_status);
    if (last->m_status != STATUS_Success && !isWarning(last->m_status))
        association.fail("the PACS answered with " +
                         pacs::describeStatus(last->m_status, statusName, last->m_statusDetail));
    if (last->m_numberOfFailedSubops > 0 || isWarning(last->m_status))
        association.fail("the PACS answered with " +
                         pacs::describeStatus(last->m_status, statusName, last->m_statusDetail) + "; " +
                         std::to_string(last->m_numberOfFailedSubops) + " of " +
                         std::to_string(last->m_numberOfFailedSubops + last->m_numberOfCompletedSubops +
                                        last->m_numberOfWarningSubops) +
                         " instances failed (" + std::to_string(result.files.size()) + " received)");
    result.completed = last->m_numberOfCompletedSubops;
    result.warnings = last->m_numberOfWarningSubops;
    const int reported = result.completed + result.warnings;
    if (useMove && static_cast<int>(result.files.size()) < reported)
        association.fail("the PACS reports " + std::to_string(reported) + " instances sent to " +
                         request.moveDestinationAeTitle + " but " + std::to_string(result.files.size()) +
                         " arrived on port " + std::to_string(request.listenPort) +
                         " (check that the PACS's entry for " + request.moveDestinationAeTitle +
                         " names this machine and port)");
    if (result.files.empty())
        association.fail("the PACS holds no instances of " + what);
    association.release();
    const int received = static_cast<int>(result.files.size());
    reportProgress(progress, 1.0, retrieveProgressStage({received, std::max(received, reported)}));
    return result;
}

PacsStoreResult PacsClient::store(const std::vector<std::filesystem::path>& paths,
                                  ProgressSink* progress) const
{
    std::vector<std::filesystem::path> files;
    for (const auto& path : paths)
        collectFiles(path, files);

    PacsStoreResult result;
    std::vector<StoreItem> items;
    for (const auto& path : files) {
        DcmFileFormat file;
        // Values longer than DCM_MaxReadLength stay on disk until sent (no pixel data in memory).
        const OFCondition loaded = file.loadFile(path.c_str());
        if (loaded.bad()) {
            result.skipped.push_back(path.string() + ": not DICOM (" + loaded.text() + ")");
            continue;
        }
        StoreItem item;
        item.path = path;
        item.sopClassUid = detail::dicomText(file.getDataset(), DCM_SOPClassUID);
        if (item.sopClassUid.empty())
            item.sopClassUid = detail::dicomText(file.getMetaInfo(), DCM_MediaStorageSOPClassUID);
        if (item.sopClassUid.empty() || detail::dicomText(file.getDataset(), DCM_SOPInstanceUID).empty()) {
            result.skipped.push_back(path.string() +
                                     ": no SOP Class or SOP Instance UID (not a DICOM instance)");
            continue;
        }
        if (item.sopClassUid == UID_MediaStorageDirectoryStorage) {
            result.skipped.push_back(path.string() + ": a DICOMDIR is not sent");
            continue;
        }
        item.transferSyntaxUid = detail::dicomText(file.getMetaInfo(), DCM_TransferSyntaxUID);
        if (item.transferSyntaxUid.empty())
            item.transferSyntaxUid = DcmXfer(file.getDataset()->getOriginalXfer()).getXferID();
        items.push_back(std::move(item));
    }
    if (items.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "no DICOM instance to send" + (result.skipped.empty()
                                                       ? std::string(" (no files found)")
                                                       : " (" + result.skipped.front() + ")"));

    // Presentation contexts: each (SOP class, stored transfer syntax) plus an uncompressed fallback
    // per SOP class, in batches that fit the 128 contexts of one association.
    std::map<std::string, std::set<std::string>> syntaxesByClass;
    for (const auto& item : items)
        syntaxesByClass[item.sopClassUid].insert(item.transferSyntaxUid);
    std::vector<std::vector<std::string>> batches(1);
    int contextsInBatch = 0;
    for (const auto& [sopClass, syntaxes] : syntaxesByClass) {
        const int needed = static_cast<int>(syntaxes.size()) + 1;
        if (contextsInBatch + needed > 120 && contextsInBatch > 0) {
            batches.emplace_back();
            contextsInBatch = 0;
        }
        batches.back().push_back(sopClass);
        contextsInBatch += needed;
    }

    const std::size_t total = items.size();
    std::size_t done = 0;
    for (const auto& batch : batches) {
        Association association(m_settings, "C-STORE");
        for (const auto& sopClass : batch) {
            for (const auto& syntax : syntaxesByClass[sopClass]) {
                OFList<OFString> one;
                one.push_back(syntax.c_str());
                association.propose(sopClass, one);
            }
            association.propose(sopClass, uncompressedSyntaxes());
        }
        association.connect();
        const std::set<std::string> inBatch(batch.begin(), batch.end());
        for (const auto& item : items) {
            if (!inBatch.count(item.sopClassUid))
                continue;
            if (progress && progress->cancelRequested()) {
                association.abortAssociation();
                throw Error(ErrorCode::Cancelled, "sending cancelled by the user after " +
                                                      std::to_string(done) + " of " + std::to_string(total) +
                                                      " instances");
            }
            T_ASC_PresentationContextID context = association.findPresentationContextID(
                item.sopClassUid.c_str(), item.transferSyntaxUid.c_str());
            if (context == 0)
                context = association.findAnyPresentationContextID(item.sopClassUid.c_str(), "");
            if (context == 0)
                association.fail(item.path.string() + ": the PACS does not accept SOP class " +
                                 item.sopClassUid);
            Uint16 status = 0;
            const OFCondition sent =
                association.sendSTORERequest(context, item.path.c_str(), nullptr, status);
            if (sent.bad())
                association.fail(item.path.string() + ": " + pacs::describeCondition(sent, m_settings));
            if (isWarning(status)) {
                ++result.warnings;
            } else if (status != STATUS_Success) {
                association.fail(item.path.string() + ": the PACS answered with " +
                                 pacs::describeStatus(status, DU_cstoreStatusString(status), nullptr));
            }
            ++result.sent;
            ++done;
            reportProgress(progress, double(done) / double(total),
                           "sent " + std::to_string(done) + " of " + std::to_string(total) + " instances");
        }
        association.release();
    }
    return result;
}

} // namespace np::imaging
