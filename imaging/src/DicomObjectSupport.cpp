#include "DicomObjectSupport.h"

#include "DcmtkAccess.h"
#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/Error.h"

#include <cmath>
#include <cstdio>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmiod/iodcommn.h>
#include <mutex>

namespace np::imaging::detail {

namespace {

/// Patient, Patient Study and General Study module attributes a derived object takes over.
const DcmTagKey kPatientAndStudyTags[] = {
    DCM_SpecificCharacterSet,   DCM_PatientName,      DCM_PatientID,       DCM_IssuerOfPatientID,
    DCM_PatientBirthDate,       DCM_PatientSex,       DCM_PatientAge,      DCM_PatientSize,
    DCM_PatientWeight,          DCM_StudyInstanceUID, DCM_StudyDate,       DCM_StudyTime,
    DCM_ReferringPhysicianName, DCM_StudyID,          DCM_AccessionNumber, DCM_StudyDescription};

/// Type 2 attributes of the Patient and General Study modules: present even when empty.
const DcmTagKey kTypeTwoTags[] = {
    DCM_PatientName,    DCM_PatientID, DCM_PatientBirthDate,       DCM_PatientSex,
    DCM_StudyDate,      DCM_StudyTime, DCM_ReferringPhysicianName, DCM_StudyID,
    DCM_AccessionNumber};

} // namespace

void checkDcmtk(const OFCondition& status, const std::string& what, const std::string& action)
{
    if (status.bad())
        throw Error(ErrorCode::Internal, what + ": cannot " + action + " (" + status.text() + ")");
}

std::string newUid(const char* root)
{
    static std::mutex mutex;
    const std::lock_guard<std::mutex> lock(mutex);
    char buffer[100];
    return dcmGenerateUniqueIdentifier(buffer, root);
}

std::string decimalString(double value)
{
    if (std::abs(value) < 5e-12)
        value = 0.0;
    char buffer[64];
    for (int precision = 15; precision >= 1; --precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::char_traits<char>::length(buffer) <= 16)
            return buffer;
    }
    return "0";
}

SourceStudy readSourceStudy(const VolumeInfo& info, const std::string& fallbackPatientName,
                            const std::string& fallbackPatientId, const std::string& fallbackStudyUid,
                            std::vector<std::string>& warnings)
{
    SourceStudy source;
    source.patientAndStudy = std::make_shared<DcmItem>();
    DcmItem& item = *source.patientAndStudy;
    bool fromFile = false;
    if (!info.sourceDicomFile.empty()) {
        DcmFileFormat file;
        const OFCondition loaded = file.loadFile(info.sourceDicomFile.c_str(), EXS_Unknown, EGL_noChange,
                                                 4096 /* skip the pixel data */);
        DcmDataset* data = file.getDataset();
        if (loaded.good() && data && !dicomText(data, DCM_StudyInstanceUID).empty()) {
            fromFile = true;
            for (const DcmTagKey& tag : kPatientAndStudyTags) {
                DcmElement* element = nullptr;
                // An empty Specific Character Set (Type 1C) is dropped: present, it must hold a value.
                if (data->findAndGetElement(tag, element).good() && element &&
                    !(tag == DCM_SpecificCharacterSet && element->getLength() == 0))
                    item.insert(static_cast<DcmElement*>(element->clone()), true);
            }
            source.sopClassUid = dicomText(data, DCM_SOPClassUID);
            source.frameOfReferenceUid = dicomText(data, DCM_FrameOfReferenceUID);
            source.lossyCompressed = dicomText(data, DCM_LossyImageCompression) == "01";
            OFString text;
            if (data->findAndGetOFStringArray(DCM_LossyImageCompressionRatio, text).good())
                source.lossyRatio = text.c_str();
            if (data->findAndGetOFStringArray(DCM_LossyImageCompressionMethod, text).good())
                source.lossyMethod = text.c_str();
        } else {
            warnings.push_back("cannot read the patient and study of " + info.sourceDicomFile +
                               (loaded.bad() ? std::string(" (") + loaded.text() + ")" : std::string()) +
                               "; the written object names its own study");
        }
    }
    if (!fromFile) {
        item.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
        item.putAndInsertString(DCM_PatientName, fallbackPatientName.c_str());
        item.putAndInsertString(DCM_PatientID, fallbackPatientId.c_str());
        item.putAndInsertString(
            DCM_StudyInstanceUID,
            (fallbackStudyUid.empty() ? newUid(SITE_STUDY_UID_ROOT) : fallbackStudyUid).c_str());
    }
    for (const DcmTagKey& tag : kTypeTwoTags)
        if (!item.tagExists(tag))
            item.putAndInsertString(tag, "");
    source.patientId = dicomText(&item, DCM_PatientID);
    source.studyUid = dicomText(&item, DCM_StudyInstanceUID);
    return source;
}

void putSourceStudy(const SourceStudy& source, DcmItem& dataset)
{
    for (unsigned long n = 0; n < source.patientAndStudy->card(); ++n) {
        DcmElement* element = source.patientAndStudy->getElement(n);
        dataset.insert(static_cast<DcmElement*>(element->clone()), true);
    }
}

void applySourceStudy(const SourceStudy& source, DcmIODCommon& object, const std::string& what)
{
    checkDcmtk(object.importHierarchy(*source.patientAndStudy, OFTrue, OFTrue, OFFalse, OFFalse, OFTrue),
               what, "take over the patient and study");
}

void saveDicomAtomically(const std::string& path, const std::string& what,
                         const std::function<OFCondition(const std::string& temporaryPath)>& save)
{
    // AtomicFile.h: temporary file in the target's folder, flushed, renamed into place.
    replaceFileAtomically(path, [&](const std::string& temporary) {
        const OFCondition saved = save(temporary);
        if (saved.bad())
            throw Error(ErrorCode::Io, what + ": cannot write the file: " + saved.text());
    });
}

} // namespace np::imaging::detail
