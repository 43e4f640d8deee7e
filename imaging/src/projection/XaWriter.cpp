// Writing DRRs (or any 8-bit projection frames) as X-Ray Angiographic images with their geometry.

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "DicomObjectSupport.h"

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
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    return uid;
}

} // namespace

void writeXaImage(const std::string& path, const std::vector<CArmGeometry>& views,
                  const std::vector<std::vector<std::uint8_t>>& frames, const XaWriteOptions& options)
{
    if (views.empty() || views.size() != frames.size())
        throw Error(ErrorCode::InvalidArgument, path + ": an XA needs one view per frame (" +
                                                    std::to_string(views.size()) + " views, " +
                                                    std::to_string(frames.size()) + " frames)");
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

    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    const std::string sopInstanceUid = newUid();
    const std::string studyUid = options.studyInstanceUid.empty() ? newUid() : options.studyInstanceUid;
    char date[16], time[16];
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::strftime(date, sizeof date, "%Y%m%d", &local);
    std::strftime(time, sizeof time, "%H%M%S", &local);

    put(ds, DCM_SpecificCharacterSet, "ISO_IR 192", path);
    put(ds, DCM_SOPClassUID, UID_XRayAngiographicImageStorage, path);
    put(ds, DCM_SOPInstanceUID, sopInstanceUid, path);
    put(ds, DCM_StudyDate, date, path);
    put(ds, DCM_StudyTime, time, path);
    put(ds, DCM_ContentDate, date, path);
    put(ds, DCM_ContentTime, time, path);
    put(ds, DCM_AccessionNumber, "", path);
    put(ds, DCM_Modality, "XA", path);
    put(ds, DCM_Manufacturer, "NeedlePlan", path);
    put(ds, DCM_ReferringPhysicianName, "", path);
    put(ds, DCM_SeriesDescription, options.seriesDescription, path);
    put(ds, DCM_ImageType, "DERIVED\\SECONDARY\\SINGLE PLANE", path);
    put(ds, DCM_DerivationDescription, "Digitally reconstructed radiograph (water-equivalent path length)",
        path);
    put(ds, DCM_PatientName, options.patientName, path);
    put(ds, DCM_PatientID, options.patientId, path);
    put(ds, DCM_PatientBirthDate, "", path);
    put(ds, DCM_PatientSex, "", path);
    put(ds, DCM_StudyInstanceUID, studyUid, path);
    put(ds, DCM_SeriesInstanceUID, newUid(), path);
    put(ds, DCM_StudyID, "", path);
    put(ds, DCM_SeriesNumber, "1", path);
    put(ds, DCM_InstanceNumber, "1", path);
    if (!options.frameOfReferenceUid.empty())
        put(ds, DCM_FrameOfReferenceUID, options.frameOfReferenceUid, path);
    put(ds, DCM_PatientOrientation, views.front().patientOrientation(), path);
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
    put(ds, DCM_PixelIntensityRelationship, "LIN", path);
    put(ds, DCM_WindowCenter, "128", path);
    put(ds, DCM_WindowWidth, "256", path);
    put(ds, DCM_LossyImageCompression, "00", path);
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
}

} // namespace np::imaging
