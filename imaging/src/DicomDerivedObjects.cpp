#include "needleplan/imaging/DicomDerivedObjects.h"

#include "DcmtkAccess.h"
#include "DicomHeader.h"
#include "DicomObjectSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Version.h"

#include <ctime>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fstream>
#include <iterator>

namespace np::imaging {

namespace {

using detail::checkDcmtk;

void put(DcmItem& item, const DcmTagKey& tag, const std::string& value, const std::string& what)
{
    checkDcmtk(item.putAndInsertString(tag, value.c_str()), what,
               "set " + std::string(DcmTag(tag).getTagName()));
}

/// The modules every object written here shares: patient, study, series, equipment, SOP common.
void putCommon(DcmItem& d, const detail::SourceStudy& source, const DerivedObjectOptions& options,
               const char* sopClass, const char* modality, const std::string& what)
{
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char date[16], time[16];
    std::strftime(date, sizeof date, "%Y%m%d", &local);
    std::strftime(time, sizeof time, "%H%M%S", &local);
    detail::putSourceStudy(source, d);
    put(d, DCM_SOPClassUID, sopClass, what);
    put(d, DCM_SOPInstanceUID,
        options.sopInstanceUid.empty() ? detail::newUid(SITE_INSTANCE_UID_ROOT) : options.sopInstanceUid,
        what);
    put(d, DCM_InstanceCreationDate, date, what);
    put(d, DCM_InstanceCreationTime, time, what);
    put(d, DCM_Modality, modality, what);
    put(d, DCM_SeriesInstanceUID,
        options.seriesUid.empty() ? detail::newUid(SITE_SERIES_UID_ROOT) : options.seriesUid, what);
    put(d, DCM_SeriesNumber, std::to_string(options.seriesNumber), what);
    put(d, DCM_SeriesDescription, options.seriesDescription, what);
    put(d, DCM_SeriesDate, date, what);
    put(d, DCM_SeriesTime, time, what);
    put(d, DCM_InstanceNumber, std::to_string(options.instanceNumber), what);
    put(d, DCM_ContentDate, date, what);
    put(d, DCM_ContentTime, time, what);
    put(d, DCM_Manufacturer, "NeedlePlan", what);
    put(d, DCM_ManufacturerModelName, "NeedlePlan", what);
    put(d, DCM_SoftwareVersions, softwareVersion(), what);
    put(d, DCM_ConversionType, "WSD", what); // workstation
}

void save(DcmFileFormat& file, const std::string& outPath, const std::string& what)
{
    detail::saveDicomAtomically(outPath, what, [&](const std::string& temporary) {
        return file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit);
    });
}

} // namespace

std::string newSeriesInstanceUid()
{
    return detail::newUid(SITE_SERIES_UID_ROOT);
}

PatientStudySummary readPatientStudy(const VolumeInfo& info)
{
    PatientStudySummary summary;
    if (info.sourceDicomFile.empty())
        return summary;
    detail::registerDicomCodecs();
    DcmFileFormat file;
    if (file.loadFile(info.sourceDicomFile.c_str(), EXS_Unknown, EGL_noChange, 4096).bad())
        return summary;
    DcmDataset* d = file.getDataset();
    summary.patientName = detail::dicomText(d, DCM_PatientName);
    summary.patientId = detail::dicomText(d, DCM_PatientID);
    summary.birthDate = detail::dicomText(d, DCM_PatientBirthDate);
    summary.sex = detail::dicomText(d, DCM_PatientSex);
    summary.studyDate = detail::dicomText(d, DCM_StudyDate);
    summary.studyDescription = detail::dicomText(d, DCM_StudyDescription);
    summary.accessionNumber = detail::dicomText(d, DCM_AccessionNumber);
    summary.studyUid = detail::dicomText(d, DCM_StudyInstanceUID);
    summary.institution = detail::dicomText(d, DCM_InstitutionName);
    return summary;
}

std::vector<std::string> writeEncapsulatedPdf(const std::string& pdfPath, const std::string& documentTitle,
                                              const VolumeInfo& reference, const std::string& outPath,
                                              const DerivedObjectOptions& options)
{
    const std::string what = "DICOM Encapsulated PDF " + outPath;
    detail::registerDicomCodecs();
    std::ifstream in(pdfPath, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::NotFound, pdfPath + ": cannot open the PDF");
    std::vector<Uint8> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() < 5 || std::string(bytes.begin(), bytes.begin() + 5) != "%PDF-")
        throw Error(ErrorCode::CorruptData, pdfPath + ": not a PDF file");
    if (bytes.size() > 0xFFFFFFF0u)
        throw Error(ErrorCode::TooLarge, pdfPath + ": too large for one DICOM object");
    const auto length = static_cast<Uint32>(bytes.size());
    if (bytes.size() % 2)
        bytes.push_back(0); // OB values have even length; Encapsulated Document Length keeps the true one

    std::vector<std::string> warnings;
    const detail::SourceStudy source = detail::readSourceStudy(reference, options.patientName,
                                                               options.patientId, options.studyUid, warnings);
    DcmFileFormat file;
    DcmDataset& d = *file.getDataset();
    putCommon(d, source, options, UID_EncapsulatedPDFStorage, "DOC", what);
    put(d, DCM_AcquisitionDateTime, "", what);
    put(d, DCM_BurnedInAnnotation, "YES", what);
    put(d, DCM_DocumentTitle, documentTitle, what);
    checkDcmtk(d.insertEmptyElement(DCM_ConceptNameCodeSequence), what, "add the concept name");
    put(d, DCM_MIMETypeOfEncapsulatedDocument, "application/pdf", what);
    checkDcmtk(d.putAndInsertUint32(DCM_EncapsulatedDocumentLength, length), what, "set the document length");
    checkDcmtk(d.putAndInsertUint8Array(DCM_EncapsulatedDocument, bytes.data(),
                                        static_cast<unsigned long>(bytes.size())),
               what, "store the PDF");
    save(file, outPath, what);
    return warnings;
}

std::vector<std::string> writeSecondaryCapture(const RgbPicture& picture, const std::string& description,
                                               const VolumeInfo& reference, const std::string& outPath,
                                               const DerivedObjectOptions& options)
{
    const std::string what = "DICOM Secondary Capture " + outPath;
    detail::registerDicomCodecs();
    if (picture.width <= 0 || picture.height <= 0 || picture.width > 65535 || picture.height > 65535 ||
        picture.rgb.size() !=
            static_cast<std::size_t>(picture.width) * static_cast<std::size_t>(picture.height) * 3)
        throw Error(ErrorCode::InvalidArgument,
                    what + ": the picture is empty or its size does not match its pixels");
    std::vector<std::string> warnings;
    const detail::SourceStudy source = detail::readSourceStudy(reference, options.patientName,
                                                               options.patientId, options.studyUid, warnings);
    DcmFileFormat file;
    DcmDataset& d = *file.getDataset();
    putCommon(d, source, options, UID_SecondaryCaptureImageStorage, "OT", what);
    put(d, DCM_ImageType, "DERIVED\\SECONDARY", what);
    put(d, DCM_DerivationDescription, description, what);
    put(d, DCM_ImageComments, description, what);
    put(d, DCM_PatientOrientation, "", what);
    put(d, DCM_BurnedInAnnotation, "YES", what);
    put(d, DCM_Laterality, "", what);
    checkDcmtk(d.putAndInsertUint16(DCM_SamplesPerPixel, 3), what, "set the pixel format");
    put(d, DCM_PhotometricInterpretation, "RGB", what);
    checkDcmtk(d.putAndInsertUint16(DCM_PlanarConfiguration, 0), what, "set the pixel format");
    checkDcmtk(d.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(picture.height)), what, "set the rows");
    checkDcmtk(d.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(picture.width)), what,
               "set the columns");
    checkDcmtk(d.putAndInsertUint16(DCM_BitsAllocated, 8), what, "set the pixel format");
    checkDcmtk(d.putAndInsertUint16(DCM_BitsStored, 8), what, "set the pixel format");
    checkDcmtk(d.putAndInsertUint16(DCM_HighBit, 7), what, "set the pixel format");
    checkDcmtk(d.putAndInsertUint16(DCM_PixelRepresentation, 0), what, "set the pixel format");
    std::vector<Uint8> pixels(picture.rgb.begin(), picture.rgb.end());
    if (pixels.size() % 2)
        pixels.push_back(0);
    checkDcmtk(
        d.putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())),
        what, "store the pixels");
    save(file, outPath, what);
    return warnings;
}

} // namespace np::imaging
