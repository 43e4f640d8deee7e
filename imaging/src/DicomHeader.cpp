#include "DicomHeader.h"

#include "DcmtkAccess.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <mutex>

#include "needleplan/imaging/Error.h"

namespace np::imaging::detail {

namespace {

std::string getString(DcmItem* item, const DcmTagKey& tag)
{
    return dicomText(item, tag);
}


bool getDouble(DcmItem* item, const DcmTagKey& tag, double& value, unsigned long pos = 0)
{
    Float64 v = 0.0;
    if (item && item->findAndGetFloat64(tag, v, pos).good()) {
        value = v;
        return true;
    }
    return false;
}

bool getInt(DcmItem* item, const DcmTagKey& tag, long& value)
{
    if (!item)
        return false;
    DcmElement* element = nullptr;
    if (item->findAndGetElement(tag, element).bad() || !element || element->getVM() == 0)
        return false;
    switch (element->ident()) {
    case EVR_US: {
        Uint16 v = 0;
        if (element->getUint16(v).bad())
            return false;
        value = v;
        return true;
    }
    case EVR_SS: {
        Sint16 v = 0;
        if (element->getSint16(v).bad())
            return false;
        value = v;
        return true;
    }
    case EVR_UL: {
        Uint32 v = 0;
        if (element->getUint32(v).bad())
            return false;
        value = static_cast<long>(v);
        return true;
    }
    case EVR_SL: {
        Sint32 v = 0;
        if (element->getSint32(v).bad())
            return false;
        value = v;
        return true;
    }
    default: {
        Sint32 v = 0;
        if (item->findAndGetSint32(tag, v).good()) {
            value = v;
            return true;
        }
        OFString text;
        if (element->getOFString(text, 0).good()) {
            char* end = nullptr;
            const long parsed = std::strtol(text.c_str(), &end, 10);
            if (end != text.c_str()) {
                value = parsed;
                return true;
            }
        }
        return false;
    }
    }
}

bool getVec3(DcmItem* item, const DcmTagKey& tag, Vec3& value, unsigned long first = 0)
{
    Vec3 v;
    for (int a = 0; a < 3; ++a)
        if (!getDouble(item, tag, v[a], first + static_cast<unsigned long>(a)))
            return false;
    value = v;
    return true;
}

DcmItem* subItem(DcmItem* item, const DcmTagKey& sequence)
{
    DcmItem* result = nullptr;
    if (item && item->findAndGetSequenceItem(sequence, result, 0).good())
        return result;
    return nullptr;
}

void readPlane(DcmItem* item, DicomFrameHeader& frame)
{
    Vec3 row, column;
    if (getVec3(item, DCM_ImageOrientationPatient, row, 0) && getVec3(item, DCM_ImageOrientationPatient, column, 3)) {
        frame.rowCosineLps = row;
        frame.columnCosineLps = column;
        frame.hasOrientation = true;
    }
    Vec3 position;
    if (getVec3(item, DCM_ImagePositionPatient, position)) {
        frame.positionLps = position;
        frame.hasPosition = true;
    }
}

void readPixelMeasures(DcmItem* item, DicomFrameHeader& frame)
{
    double rowSpacing = 0.0, columnSpacing = 0.0;
    if (getDouble(item, DCM_PixelSpacing, rowSpacing, 0) && getDouble(item, DCM_PixelSpacing, columnSpacing, 1)) {
        frame.rowSpacing = rowSpacing;
        frame.columnSpacing = columnSpacing;
        frame.hasPixelSpacing = true;
        frame.pixelSpacingText = getString(item, DCM_PixelSpacing);
    } else if (item && item->tagExists(DCM_PixelSpacing)) {
        // Present but unreadable (empty, one value, text): treat as invalid spacing.
        frame.rowSpacing = frame.columnSpacing = std::nan("");
        frame.hasPixelSpacing = true;
        frame.pixelSpacingText = getString(item, DCM_PixelSpacing);
    }
    double thickness = 0.0;
    if (getDouble(item, DCM_SliceThickness, thickness))
        frame.sliceThickness = thickness;
}

void readRescale(DcmItem* item, DicomFrameHeader& frame)
{
    double slope = 1.0, intercept = 0.0;
    if (getDouble(item, DCM_RescaleSlope, slope) && std::isfinite(slope) && slope != 0.0)
        frame.rescaleSlope = slope;
    if (getDouble(item, DCM_RescaleIntercept, intercept) && std::isfinite(intercept))
        frame.rescaleIntercept = intercept;
}

bool hasDicmMagic(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char buffer[132] = {};
    in.read(buffer, sizeof buffer);
    return in.gcount() == 132 && std::memcmp(buffer + 128, "DICM", 4) == 0;
}

} // namespace

void registerDicomCodecs()
{
    static std::once_flag once;
    std::call_once(once, [] {
        // DCMTK logs to stderr by default; the loader reports problems through np::Error instead.
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

std::string transferSyntaxName(const std::string& uid)
{
    const DcmXfer xfer(uid.c_str());
    if (xfer.getXfer() == EXS_Unknown)
        return uid.empty() ? std::string("unknown") : uid;
    return xfer.getXferName();
}

DicomHeader readDicomHeader(const std::string& path)
{
    registerDicomCodecs();
    const bool magic = hasDicmMagic(path);
    DcmFileFormat file;
    const DcmTagKey stopTag = DCM_PixelData;
    const OFCondition status = loadDicomFile(file, path, 4096, magic ? ERM_fileOnly : ERM_autoDetect, &stopTag);
    DcmDataset* data = file.getDataset();
    if (status.bad()) {
        if (magic) {
            // The meta header may still be readable: an unknown transfer syntax is the usual cause.
            DcmMetaInfo metaOnly;
            if (metaOnly.loadFile(path.c_str()).good()) {
                const std::string syntax = getString(&metaOnly, DCM_TransferSyntaxUID);
                const std::string sopClass = getString(&metaOnly, DCM_MediaStorageSOPClassUID);
                if (!syntax.empty() && DcmXfer(syntax.c_str()).getXfer() == EXS_Unknown)
                    throw Error(ErrorCode::UnsupportedTransferSyntax,
                                path + ": unsupported transfer syntax " + syntax +
                                    (sopClass == UID_SegmentationStorage ? " (a DICOM SEG segmentation)" : ""));
            }
            throw Error(ErrorCode::CorruptData, path + ": unreadable DICOM header (" + status.text() + ")");
        }
        throw Error(ErrorCode::NotDicom, path + ": not a DICOM file");
    }
    DcmMetaInfo* meta = file.getMetaInfo();
    DicomHeader header;
    header.path = path;
    header.sopClassUid = getString(data, DCM_SOPClassUID);
    if (header.sopClassUid.empty())
        header.sopClassUid = getString(meta, DCM_MediaStorageSOPClassUID);
    if (!magic) {
        // Without a preamble DCMTK parses almost anything as a dataset: require the basics.
        if (header.sopClassUid.empty() && !data->tagExists(DCM_Rows) && !data->tagExists(DCM_DirectoryRecordSequence))
            throw Error(ErrorCode::NotDicom, path + ": not a DICOM file");
    }
    header.transferSyntaxUid = getString(meta, DCM_TransferSyntaxUID);
    if (header.transferSyntaxUid.empty())
        header.transferSyntaxUid = DcmXfer(data->getOriginalXfer()).getXferID();
    header.transferSyntaxName = transferSyntaxName(header.transferSyntaxUid);
    if (data->tagExists(DCM_DirectoryRecordSequence))
        header.sopClassUid = UID_MediaStorageDirectoryStorage;
    header.sopInstanceUid = getString(data, DCM_SOPInstanceUID);
    header.modality = getString(data, DCM_Modality);
    header.seriesUid = getString(data, DCM_SeriesInstanceUID);
    header.studyUid = getString(data, DCM_StudyInstanceUID);
    header.frameOfReferenceUid = getString(data, DCM_FrameOfReferenceUID);
    header.seriesDescription = getString(data, DCM_SeriesDescription);
    header.patientPosition = getString(data, DCM_PatientPosition);
    header.imageType = getString(data, DCM_ImageType);
    header.photometric = getString(data, DCM_PhotometricInterpretation);
    long value = 0;
    if (getInt(data, DCM_SeriesNumber, value))
        header.seriesNumber = static_cast<int>(value);
    if (getInt(data, DCM_InstanceNumber, value))
        header.instanceNumber = static_cast<int>(value);
    if (getInt(data, DCM_Rows, value)) {
        header.rows = static_cast<int>(value);
        header.hasRows = true;
    }
    if (getInt(data, DCM_Columns, value))
        header.columns = static_cast<int>(value);
    if (getInt(data, DCM_BitsAllocated, value))
        header.bitsAllocated = static_cast<int>(value);
    header.bitsStored = header.bitsAllocated;
    if (getInt(data, DCM_BitsStored, value))
        header.bitsStored = static_cast<int>(value);
    header.highBit = header.bitsStored - 1;
    if (getInt(data, DCM_HighBit, value))
        header.highBit = static_cast<int>(value);
    if (getInt(data, DCM_PixelRepresentation, value))
        header.pixelRepresentation = static_cast<int>(value);
    if (getInt(data, DCM_SamplesPerPixel, value))
        header.samplesPerPixel = static_cast<int>(value);
    if (getInt(data, DCM_NumberOfFrames, value))
        header.numberOfFrames = value;
    const auto signedValue = [&](long v) {
        // PixelPaddingValue may be written as US even for signed pixels (implicit VR): reinterpret.
        if (header.pixelRepresentation == 1 && header.bitsAllocated == 16 && v > 32767)
            return v - 65536;
        return v;
    };
    if (getInt(data, DCM_PixelPaddingValue, value)) {
        header.hasPadding = true;
        header.paddingValue = signedValue(value);
    }
    if (getInt(data, DCM_PixelPaddingRangeLimit, value)) {
        header.hasPaddingLimit = true;
        header.paddingLimit = signedValue(value);
    }
    header.hasImagerPixelSpacing = data->tagExists(DCM_ImagerPixelSpacing);
    header.echoNumbers = getString(data, DCM_EchoNumbers);
    header.temporalPosition = getString(data, DCM_TemporalPositionIdentifier);
    header.acquisitionNumber = getString(data, DCM_AcquisitionNumber);
    header.triggerTime = getString(data, DCM_TriggerTime);

    DicomFrameHeader common;
    readPlane(data, common);
    readPixelMeasures(data, common);
    if (!common.hasPixelSpacing && header.hasImagerPixelSpacing) {
        double rowSpacing = 0.0, columnSpacing = 0.0;
        if (getDouble(data, DCM_ImagerPixelSpacing, rowSpacing, 0) &&
            getDouble(data, DCM_ImagerPixelSpacing, columnSpacing, 1)) {
            common.rowSpacing = rowSpacing;
            common.columnSpacing = columnSpacing;
            common.hasPixelSpacing = true;
            common.pixelSpacingText = getString(data, DCM_ImagerPixelSpacing);
        }
    }
    readRescale(data, common);

    DcmItem* shared = subItem(data, DCM_SharedFunctionalGroupsSequence);
    DcmSequenceOfItems* perFrame = nullptr;
    data->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, perFrame);
    if (shared || perFrame) {
        header.isMultiFrameFunctional = true;
        // Shared groups first, then per-frame groups override.
        readPlane(subItem(shared, DCM_PlanePositionSequence), common);
        readPlane(subItem(shared, DCM_PlaneOrientationSequence), common);
        readPixelMeasures(subItem(shared, DCM_PixelMeasuresSequence), common);
        readRescale(subItem(shared, DCM_PixelValueTransformationSequence), common);
        const long frameCount = std::max<long>(header.numberOfFrames, 1);
        const unsigned long perFrameItems = perFrame ? perFrame->card() : 0;
        header.frames.reserve(static_cast<std::size_t>(std::min<long>(frameCount, 100000)));
        for (long f = 0; f < frameCount && f < 100000; ++f) {
            DicomFrameHeader frame = common;
            DcmItem* item = (perFrame && static_cast<unsigned long>(f) < perFrameItems)
                                ? perFrame->getItem(static_cast<unsigned long>(f))
                                : nullptr;
            if (item) {
                readPlane(subItem(item, DCM_PlanePositionSequence), frame);
                readPlane(subItem(item, DCM_PlaneOrientationSequence), frame);
                readPixelMeasures(subItem(item, DCM_PixelMeasuresSequence), frame);
                readRescale(subItem(item, DCM_PixelValueTransformationSequence), frame);
                DcmItem* content = subItem(item, DCM_FrameContentSequence);
                OFString stack;
                if (content && content->findAndGetOFString(DCM_StackID, stack).good()) {
                    char* end = nullptr;
                    frame.stackId = static_cast<int>(std::strtol(stack.c_str(), &end, 10));
                }
                frame.effectiveEchoTime = getString(subItem(item, DCM_MREchoSequence), DCM_EffectiveEchoTime);
                frame.diffusionBValue = getString(subItem(item, DCM_MRDiffusionSequence), DCM_DiffusionBValue);
                Uint32 temporalIndex = 0;
                if (content && content->findAndGetUint32(DCM_TemporalPositionIndex, temporalIndex).good())
                    frame.temporalPositionIndex = static_cast<int>(temporalIndex);
            }
            header.frames.push_back(frame);
        }
    } else {
        header.frames.push_back(common);
    }
    return header;
}

} // namespace np::imaging::detail
