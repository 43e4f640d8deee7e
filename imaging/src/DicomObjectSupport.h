#pragma once
// Internal helpers for the DICOM objects NeedlePlan writes (SEG, Encapsulated PDF, Secondary
// Capture): UIDs, decimal strings, the source image's patient and study, atomic saving.

#include "needleplan/imaging/Volume.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/ofstd/ofcond.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>

class DcmIODCommon;

namespace np::imaging::detail {

/// Throws np::Error(Internal) naming `what` and `action` when `status` is bad.
void checkDcmtk(const OFCondition& status, const std::string& what, const std::string& action);

/// A new UID under DCMTK's site root (`root` is SITE_STUDY_UID_ROOT, ...); thread-safe.
std::string newUid(const char* root);

/// Decimal String (DS) of at most 16 characters.
std::string decimalString(double value);

/// Patient and study of the image a derived object belongs to.
struct SourceStudy
{
    /// Patient and General Study module attributes copied from the source file, or set from the
    /// fallbacks; always holds Study Instance UID.
    std::shared_ptr<DcmItem> patientAndStudy;
    std::string patientId;
    std::string studyUid;
    std::string sopClassUid;         ///< of the source images ("" when unknown)
    std::string frameOfReferenceUid; ///< of the source file ("" when unknown)
    bool lossyCompressed = false;    ///< the source says Lossy Image Compression "01"
    std::string lossyRatio, lossyMethod;
};

/// Reads patient and study from `info.sourceDicomFile`; when there is none or it cannot be read,
/// uses the fallbacks (a new study UID when `fallbackStudyUid` is empty) and, for an unreadable
/// file, appends a warning naming it.
SourceStudy readSourceStudy(const VolumeInfo& info, const std::string& fallbackPatientName,
                            const std::string& fallbackPatientId, const std::string& fallbackStudyUid,
                            std::vector<std::string>& warnings);

/// Copies the patient and study attributes into `dataset` (Type 2 ones present, empty when unknown).
void putSourceStudy(const SourceStudy& source, DcmItem& dataset);

/// Imports the patient and study into a DCMTK IOD object (keeps its own equipment).
void applySourceStudy(const SourceStudy& source, DcmIODCommon& object, const std::string& what);

/// Saves through `save(temporaryPath)` next to `path`, then renames into place; np::Error(Io)
/// naming `what` on failure (the temporary file is removed).
void saveDicomAtomically(const std::string& path, const std::string& what,
                         const std::function<OFCondition(const std::string& temporaryPath)>& save);

} // namespace np::imaging::detail
