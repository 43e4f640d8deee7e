// Writing DRRs (or any 8-bit projection frames) as X-Ray Angiographic or Enhanced XA images with
// their geometry, in the patient and study of the CT they come from.

#include "DcmtkAccess.h"
#include "DicomObjectSupport.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Version.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace np::imaging {

namespace {

std::string decimal(double value)
{
    // DS holds at most 16 characters.
    char text[32];
    std::snprintf(text, sizeof text, "%.10g", value);
    std::string s = text;
    if (s.size() > 16)
        std::snprintf(text, sizeof text, "%.8g", value), s = text;
    return s;
}

void put(DcmItem& item, const DcmTagKey& tag, const std::string& value, const std::string& path)
{
    if (item.putAndInsertString(tag, value.c_str()).bad())
        throw Error(ErrorCode::Io, path + ": cannot set " + DcmTag(tag).getTagName());
}

std::string newUid()
{
    return detail::newUid(SITE_INSTANCE_UID_ROOT);
}

/// The item `index` of sequence `tag` in `parent`, created when absent.
DcmItem& sequenceItem(DcmItem& parent, const DcmTagKey& tag, const std::string& path, long index = 0)
{
    DcmItem* item = nullptr;
    if (parent.findOrCreateSequenceItem(tag, item, index).bad() || item == nullptr)
        throw Error(ErrorCode::Io, path + ": cannot create " + DcmTag(tag).getTagName());
    return *item;
}

void putFloat32(DcmItem& item, const DcmTagKey& tag, double value, const std::string& path)
{
    if (item.putAndInsertFloat32(tag, static_cast<Float32>(value)).bad())
        throw Error(ErrorCode::Io, path + ": cannot set " + DcmTag(tag).getTagName());
}

void putCode(DcmItem& item, const std::string& value, const std::string& scheme, const std::string& meaning,
             const std::string& path)
{
    put(item, DCM_CodeValue, value, path);
    put(item, DCM_CodingSchemeDesignator, scheme, path);
    put(item, DCM_CodeMeaning, meaning, path);
}

/// The functional groups of an Enhanced XA: what all frames share (detector, distances, field of
/// view, pixel properties, derivation) and what each frame has (angles, orientation, number).
void putEnhancedXaGroups(DcmDataset& ds, const std::vector<CArmGeometry>& views,
                         const XaWriteOptions& options, const std::string& path)
{
    const CArmParameters& first = views.front().parameters();
    DcmItem& shared = sequenceItem(ds, DCM_SharedFunctionalGroupsSequence, path);
    {
        DcmItem& pixel = sequenceItem(shared, DCM_FramePixelDataPropertiesSequence, path);
        put(pixel, DCM_FrameType, "DERIVED\\SECONDARY\\SINGLE PLANE\\NONE", path);
        put(pixel, DCM_PixelIntensityRelationship, "LIN", path);
        // +1: higher values mean more X-ray intensity at the detector (air bright).
        if (pixel.putAndInsertSint16(DCM_PixelIntensityRelationshipSign, options.inverted ? -1 : 1).bad())
            throw Error(ErrorCode::Io, path + ": cannot set PixelIntensityRelationshipSign");
        put(pixel, DCM_ImagerPixelSpacing,
            decimal(first.rowSpacingMm) + "\\" + decimal(first.columnSpacingMm), path);
        put(pixel, DCM_GeometricalProperties, "UNIFORM", path);
        put(pixel, DCM_ImageProcessingApplied, "NONE", path);
    }
    {
        DcmItem& geometry = sequenceItem(shared, DCM_XRayGeometrySequence, path);
        putFloat32(geometry, DCM_DistanceSourceToIsocenter, first.sourceToIsocenterMm, path);
        put(geometry, DCM_DistanceSourceToDetector, decimal(first.sourceToDetectorMm), path);
    }
    {
        DcmItem& fieldOfView = sequenceItem(shared, DCM_FieldOfViewSequence, path);
        put(fieldOfView, DCM_FieldOfViewShape, "RECTANGLE", path);
        put(fieldOfView, DCM_FieldOfViewDimensionsInFloat,
            decimal(first.columns * first.columnSpacingMm) + "\\" + decimal(first.rows * first.rowSpacingMm),
            path);
        put(fieldOfView, DCM_FieldOfViewOrigin, "0\\0", path);
        put(fieldOfView, DCM_FieldOfViewRotation, std::to_string((360 - first.imageRotationDeg % 360) % 360),
            path);
        put(fieldOfView, DCM_FieldOfViewHorizontalFlip, first.horizontalFlip ? "YES" : "NO", path);
    }
    {
        DcmItem& characteristics = sequenceItem(shared, DCM_XAXRFFrameCharacteristicsSequence, path);
        put(characteristics, DCM_DerivationDescription,
            "Digitally reconstructed radiograph (water-equivalent path length)", path);
        putCode(sequenceItem(characteristics, DCM_DerivationCodeSequence, path), "113074", "DCM",
                "Volume rendering", path);
    }
    {
        DcmItem& anatomy = sequenceItem(shared, DCM_FrameAnatomySequence, path);
        putCode(sequenceItem(anatomy, DCM_AnatomicRegionSequence, path), options.anatomicRegionCode, "SCT",
                options.anatomicRegionMeaning, path);
        put(anatomy, DCM_FrameLaterality, "U", path);
    }
    {
        // The frames come from no exposure; one generated identifier stands for the rendering.
        DcmItem& event = sequenceItem(shared, DCM_IrradiationEventIdentificationSequence, path);
        put(event, DCM_IrradiationEventUID, newUid(), path);
    }
    {
        DcmItem& window = sequenceItem(shared, DCM_FrameVOILUTSequence, path);
        put(window, DCM_WindowCenter, "128", path);
        put(window, DCM_WindowWidth, "256", path);
    }
    for (std::size_t f = 0; f < views.size(); ++f) {
        const CArmParameters& p = views[f].parameters();
        DcmItem& frame = sequenceItem(ds, DCM_PerFrameFunctionalGroupsSequence, path, static_cast<long>(f));
        DcmItem& content = sequenceItem(frame, DCM_FrameContentSequence, path);
        put(content, DCM_FrameAcquisitionNumber, std::to_string(f + 1), path);
        DcmItem& positioner = sequenceItem(frame, DCM_PositionerPositionSequence, path);
        put(positioner, DCM_PositionerPrimaryAngle, decimal(p.primaryDeg), path);
        put(positioner, DCM_PositionerSecondaryAngle, decimal(p.secondaryDeg), path);
        DcmItem& orientation = sequenceItem(frame, DCM_PatientOrientationInFrameSequence, path);
        put(orientation, DCM_PatientOrientation, views[f].patientOrientation(), path);
    }
}

} // namespace

const char* toString(XaDicomKind kind)
{
    return kind == XaDicomKind::EnhancedXa ? "enhanced-xa" : "xa";
}

std::optional<XaDicomKind> parseXaDicomKind(const std::string& text)
{
    std::string lower = text;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "xa")
        return XaDicomKind::Xa;
    if (lower == "enhanced-xa")
        return XaDicomKind::EnhancedXa;
    return std::nullopt;
}

std::vector<std::string> writeXaImage(const std::string& path, const std::vector<CArmGeometry>& views,
                                      const std::vector<std::vector<std::uint8_t>>& frames,
                                      const XaWriteOptions& options)
{
    if (views.empty() || views.size() != frames.size())
        throw Error(ErrorCode::InvalidArgument, path + ": an XA needs one view per frame (" +
                                                    std::to_string(views.size()) + " views, " +
                                                    std::to_string(frames.size()) + " frames)");
    if (!(options.frameTimeMs > 0.0) || !std::isfinite(options.frameTimeMs))
        throw Error(ErrorCode::InvalidArgument, path + ": the frame time must be positive");
    const CArmParameters& first = views.front().parameters();
    const std::size_t frameSize =
        static_cast<std::size_t>(first.columns) * static_cast<std::size_t>(first.rows);
    for (std::size_t f = 0; f < views.size(); ++f) {
        const CArmParameters& p = views[f].parameters();
        if (p.columns != first.columns || p.rows != first.rows ||
            p.columnSpacingMm != first.columnSpacingMm || p.rowSpacingMm != first.rowSpacingMm ||
            p.sourceToDetectorMm != first.sourceToDetectorMm ||
            p.sourceToIsocenterMm != first.sourceToIsocenterMm ||
            p.imageRotationDeg != first.imageRotationDeg || p.horizontalFlip != first.horizontalFlip)
            throw Error(
                ErrorCode::InvalidArgument,
                path + ": frame " + std::to_string(f + 1) +
                    " changes the detector, the distances, the rotation or the flip; an XA cine can only "
                    "change the angles");
        if (frames[f].size() != frameSize)
            throw Error(ErrorCode::InvalidArgument, path + ": frame " + std::to_string(f + 1) + " has " +
                                                        std::to_string(frames[f].size()) +
                                                        " pixels, expected " + std::to_string(frameSize));
    }
    const bool enhanced = options.kind == XaDicomKind::EnhancedXa;

    std::vector<std::string> warnings;
    VolumeInfo source;
    source.sourceDicomFile = options.sourceDicomFile;
    const detail::SourceStudy study = detail::readSourceStudy(source, options.patientName, options.patientId,
                                                              options.studyInstanceUid, warnings);

    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    const std::string sopInstanceUid = newUid();
    char date[16], time[16];
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::strftime(date, sizeof date, "%Y%m%d", &local);
    std::strftime(time, sizeof time, "%H%M%S", &local);

    // Patient and General Study from the CT (Type 2 ones present, empty when unknown); a study
    // without a date takes today's.
    detail::putSourceStudy(study, ds);
    const bool studyFromSource = !options.sourceDicomFile.empty() && warnings.empty();
    if (!studyFromSource) {
        put(ds, DCM_StudyDate, date, path);
        put(ds, DCM_StudyTime, time, path);
    }
    if (detail::dicomText(&ds, DCM_SpecificCharacterSet).empty())
        put(ds, DCM_SpecificCharacterSet, "ISO_IR 192", path);
    put(ds, DCM_SOPClassUID, enhanced ? UID_EnhancedXAImageStorage : UID_XRayAngiographicImageStorage, path);
    put(ds, DCM_SOPInstanceUID, sopInstanceUid, path);
    put(ds, DCM_ContentDate, date, path);
    put(ds, DCM_ContentTime, time, path);
    put(ds, DCM_Modality, "XA", path);
    put(ds, DCM_Manufacturer, "NeedlePlan", path);
    put(ds, DCM_SeriesDescription, options.seriesDescription, path);
    put(ds, DCM_SeriesInstanceUID, newUid(), path);
    put(ds, DCM_SeriesNumber, "1", path);
    put(ds, DCM_InstanceNumber, "1", path);
    if (!options.frameOfReferenceUid.empty()) {
        put(ds, DCM_FrameOfReferenceUID, options.frameOfReferenceUid, path);
        put(ds, DCM_PositionReferenceIndicator, "", path);
    }
    if (!first.patientPosition.empty())
        put(ds, DCM_PatientPosition, first.patientPosition, path);

    // Image pixel: 8-bit MONOCHROME2.
    put(ds, DCM_SamplesPerPixel, "1", path);
    put(ds, DCM_PhotometricInterpretation, "MONOCHROME2", path);
    put(ds, DCM_Rows, std::to_string(first.rows), path);
    put(ds, DCM_Columns, std::to_string(first.columns), path);
    put(ds, DCM_BitsAllocated, "8", path);
    put(ds, DCM_BitsStored, "8", path);
    put(ds, DCM_HighBit, "7", path);
    put(ds, DCM_PixelRepresentation, "0", path);
    put(ds, DCM_LossyImageCompression, "00", path);

    if (enhanced) {
        char dateTime[32];
        std::strftime(dateTime, sizeof dateTime, "%Y%m%d%H%M%S", &local);
        put(ds, DCM_ImageType, "DERIVED\\SECONDARY\\SINGLE PLANE\\NONE", path);
        put(ds, DCM_AcquisitionDateTime, dateTime, path);
        put(ds, DCM_ContentQualification, "RESEARCH", path);
        put(ds, DCM_PlanesInAcquisition, "SINGLE PLANE", path);
        put(ds, DCM_PlaneIdentification, "MONOPLANE", path);
        put(ds, DCM_PositionerType, "CARM", path);
        // Enhanced General Equipment: the software stands for the device.
        put(ds, DCM_ManufacturerModelName, "NeedlePlan DRR", path);
        put(ds, DCM_DeviceSerialNumber, "NEEDLEPLAN", path);
        put(ds, DCM_SoftwareVersions, softwareVersion(), path);
        put(ds, DCM_NumberOfFrames, std::to_string(views.size()), path);
        put(ds, DCM_PresentationLUTShape, "IDENTITY", path);
        put(ds, DCM_BurnedInAnnotation, "NO", path);
        if (ds.insertEmptyElement(DCM_AcquisitionContextSequence).bad())
            throw Error(ErrorCode::Io, path + ": cannot set AcquisitionContextSequence");
        if (views.size() > 1) {
            put(ds, DCM_FrameTime, decimal(options.frameTimeMs), path);
            if (ds.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_FrameTime).bad())
                throw Error(ErrorCode::Io, path + ": cannot set FrameIncrementPointer");
        }
        putEnhancedXaGroups(ds, views, options, path);
    } else {
        put(ds, DCM_ImageType, "DERIVED\\SECONDARY\\SINGLE PLANE", path);
        put(ds, DCM_DerivationDescription,
            "Digitally reconstructed radiograph (water-equivalent path length)", path);
        put(ds, DCM_PatientOrientation, views.front().patientOrientation(), path);
        put(ds, DCM_PixelIntensityRelationship, "LIN", path);
        put(ds, DCM_WindowCenter, "128", path);
        put(ds, DCM_WindowWidth, "256", path);
        if (views.size() > 1) {
            put(ds, DCM_NumberOfFrames, std::to_string(views.size()), path);
            if (ds.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_FrameTime).bad())
                throw Error(ErrorCode::Io, path + ": cannot set FrameIncrementPointer");
            put(ds, DCM_FrameTime, decimal(options.frameTimeMs), path);
            put(ds, DCM_CineRate, std::to_string(static_cast<int>(std::lround(1000.0 / options.frameTimeMs))),
                path);
        }

        // Acquisition and positioner.
        put(ds, DCM_Laterality, "", path);
        put(ds, DCM_KVP, "", path);
        put(ds, DCM_XRayTubeCurrent, "", path);
        put(ds, DCM_ExposureTime, "", path);
        put(ds, DCM_Exposure, "", path);
        put(ds, DCM_RadiationSetting, "GR", path);
        put(ds, DCM_DistanceSourceToDetector, decimal(first.sourceToDetectorMm), path);
        put(ds, DCM_DistanceSourceToPatient, decimal(first.sourceToIsocenterMm), path);
        put(ds, DCM_EstimatedRadiographicMagnificationFactor, decimal(views.front().magnification()), path);
        put(ds, DCM_ImagerPixelSpacing, decimal(first.rowSpacingMm) + "\\" + decimal(first.columnSpacingMm),
            path);
        put(ds, DCM_FieldOfViewRotation, std::to_string((360 - first.imageRotationDeg % 360) % 360), path);
        put(ds, DCM_FieldOfViewHorizontalFlip, first.horizontalFlip ? "YES" : "NO", path);
        put(ds, DCM_PositionerPrimaryAngle, decimal(first.primaryDeg), path);
        put(ds, DCM_PositionerSecondaryAngle, decimal(first.secondaryDeg), path);
        put(ds, DCM_XRayReceptorType, "DIGITAL_DETECTOR", path);
        if (views.size() > 1) {
            put(ds, DCM_PositionerMotion, "DYNAMIC", path);
            std::string primary, secondary;
            for (std::size_t f = 0; f < views.size(); ++f) {
                const CArmParameters& p = views[f].parameters();
                primary += (f ? "\\" : "") + decimal(p.primaryDeg - first.primaryDeg);
                secondary += (f ? "\\" : "") + decimal(p.secondaryDeg - first.secondaryDeg);
            }
            put(ds, DCM_PositionerPrimaryAngleIncrement, primary, path);
            put(ds, DCM_PositionerSecondaryAngleIncrement, secondary, path);
        } else {
            put(ds, DCM_PositionerMotion, "STATIC", path);
        }
    }

    std::vector<std::uint8_t> pixels;
    pixels.reserve(frameSize * frames.size());
    for (const auto& frame : frames)
        pixels.insert(pixels.end(), frame.begin(), frame.end());
    if (ds.putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()))
            .bad())
        throw Error(ErrorCode::Io, path + ": cannot store the pixel data");

    detail::saveDicomAtomically(path, path, [&](const std::string& temporary) {
        return file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit);
    });
    return warnings;
}

} // namespace np::imaging
