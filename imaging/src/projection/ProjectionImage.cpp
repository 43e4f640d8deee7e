#include "needleplan/imaging/ProjectionImage.h"

#include "needleplan/imaging/ImageLoader.h"

#include "DcmtkAccess.h"
#include "DicomHeader.h"
#include "DicomPixelDecoder.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <filesystem>
#include <sstream>

namespace np::imaging {

namespace {

std::string tagName(const char* name, const DcmTagKey& tag)
{
    char text[16];
    std::snprintf(text, sizeof text, " (%04X,%04X)", tag.getGroup(), tag.getElement());
    return std::string(name) + text;
}

/// Reads value `position` of a decimal attribute; absent → nullopt; present but unreadable or not
/// finite → nullopt with a warning naming the attribute.
std::optional<double> readNumber(DcmItem* item, const DcmTagKey& tag, const char* name,
                                 unsigned long position, std::vector<std::string>& warnings)
{
    if (item == nullptr || !item->tagExistsWithValue(tag))
        return std::nullopt;
    Float64 value = 0.0;
    bool read = item->findAndGetFloat64(tag, value, position).good(); // DS, FD
    if (!read) {
        Float32 single = 0.0f; // FL (DistanceSourceToIsocenter, the isocentre angles, ...)
        read = item->findAndGetFloat32(tag, single, position).good();
        value = single;
    }
    if (!read || !std::isfinite(value)) {
        if (position == 0)
            warnings.push_back(tagName(name, tag) + " is malformed (\"" + detail::dicomText(item, tag) +
                               "\"); ignored");
        return std::nullopt;
    }
    return value;
}

unsigned long valueCount(DcmItem* item, const DcmTagKey& tag)
{
    DcmElement* element = nullptr;
    if (item == nullptr || item->findAndGetElement(tag, element).bad() || element == nullptr)
        return 0;
    return element->getVM();
}

/// The first item of a functional-group sequence for frame `frame`: per-frame first, then shared.
DcmItem* functionalGroup(DcmItem* perFrame, DcmItem* shared, const DcmTagKey& sequence)
{
    for (DcmItem* group : {perFrame, shared}) {
        if (group == nullptr)
            continue;
        const auto items = detail::sequenceItems(*group, sequence);
        if (!items.empty())
            return items.front();
    }
    return nullptr;
}

bool positive(const std::optional<double>& value)
{
    return value && *value > 0.0;
}

/// Image rotation (clockwise as the stored image is displayed, seen from the detector side) for a
/// FieldOfViewRotation, which the standard gives clockwise as seen from the X-ray source.
int imageRotationFromFieldOfView(int fieldOfViewRotationDeg)
{
    return (360 - fieldOfViewRotationDeg % 360) % 360;
}

/// The first letters of the two Patient Orientation values ("L\\F" → "LF"); "" when malformed.
std::string orientationKey(const std::string& text)
{
    const auto slash = text.find('\\');
    if (slash == std::string::npos || slash == 0 || slash + 1 >= text.size())
        return "";
    return std::string(1, text[0]) + text[slash + 1];
}

} // namespace

const char* toString(GeometryConfidence confidence)
{
    switch (confidence) {
    case GeometryConfidence::Full:
        return "full";
    case GeometryConfidence::AnglesOnly:
        return "angles only";
    case GeometryConfidence::None:
        return "none";
    }
    return "none";
}

bool isProjectionModality(const std::string& modality)
{
    return modality == "XA" || modality == "RF" || modality == "DX" || modality == "CR";
}

CArmGeometry ProjectionImage::frameView(int frameIndex, const Vec3& isocenterLps) const
{
    if (frameIndex < 0 || frameIndex >= frameCount || frameIndex >= static_cast<int>(geometry.frames.size()))
        throw Error(ErrorCode::InvalidArgument, sourcePath + ": frame " + std::to_string(frameIndex + 1) +
                                                    " does not exist (" + std::to_string(frameCount) +
                                                    " frames)");
    const ProjectionFrameGeometry& f = geometry.frames[static_cast<std::size_t>(frameIndex)];
    const auto sid = f.sourceToDetectorMm ? f.sourceToDetectorMm : geometry.sourceToDetectorMm;
    const auto sod = f.sourceToIsocenterMm ? f.sourceToIsocenterMm : geometry.sourceToIsocenterMm;
    if (geometry.confidence != GeometryConfidence::Full || !f.primaryDeg || !f.secondaryDeg || !sid || !sod ||
        !geometry.detectorPixelSpacingMm) {
        std::string missing;
        for (const auto& m : geometry.missing)
            missing += (missing.empty() ? "" : ", ") + m;
        throw Error(ErrorCode::Unsupported,
                    sourcePath + ": no C-arm geometry for frame " + std::to_string(frameIndex + 1) +
                        " (confidence " + toString(geometry.confidence) + "; missing " +
                        (missing.empty() ? std::string("per-frame values") : missing) + ")");
    }
    CArmParameters p;
    p.primaryDeg = *f.primaryDeg;
    p.secondaryDeg = *f.secondaryDeg;
    p.sourceToDetectorMm = *sid;
    p.sourceToIsocenterMm = *sod;
    p.isocenterLps = isocenterLps;
    p.patientPosition = geometry.patientPosition;
    p.columns = columns;
    p.rows = rows;
    p.rowSpacingMm = (*geometry.detectorPixelSpacingMm)[0];
    p.columnSpacingMm = (*geometry.detectorPixelSpacingMm)[1];
    p.imageRotationDeg = imageRotationFromFieldOfView(geometry.fieldOfViewRotationDeg);
    p.horizontalFlip = geometry.horizontalFlip;
    try {
        return CArmGeometry(p);
    } catch (const Error& e) {
        throw Error(ErrorCode::CorruptData,
                    sourcePath + ": frame " + std::to_string(frameIndex + 1) + ": " + e.what());
    }
}

ProjectionImage loadProjectionImage(const std::string& path, bool withPixels, ProgressSink* progress)
{
    std::error_code ignored;
    if (!std::filesystem::exists(path, ignored))
        throw Error(ErrorCode::NotFound, path + ": no such file");
    if (std::filesystem::is_directory(path, ignored))
        throw Error(ErrorCode::InvalidArgument, path + ": is a folder; give the projection image's file");
    detail::registerDicomCodecs();
    const detail::DicomHeader header = detail::readDicomHeader(path);
    ProjectionImage image;
    image.sourcePath = path;
    image.sopClassUid = header.sopClassUid;
    image.sopInstanceUid = header.sopInstanceUid;
    image.seriesUid = header.seriesUid;
    image.frameOfReferenceUid = header.frameOfReferenceUid;
    image.modality = header.modality;
    image.description = header.seriesDescription;
    image.enhanced =
        header.sopClassUid == UID_EnhancedXAImageStorage || header.sopClassUid == UID_EnhancedXRFImageStorage;
    if (header.sopClassUid == UID_XRayAngiographicImageStorage ||
        header.sopClassUid == UID_EnhancedXAImageStorage)
        image.modality = "XA";
    else if (header.sopClassUid == UID_XRayRadiofluoroscopicImageStorage ||
             header.sopClassUid == UID_EnhancedXRFImageStorage)
        image.modality = "RF";
    if (!isProjectionModality(image.modality))
        throw Error(ErrorCode::Unsupported, path + ": modality \"" + header.modality +
                                                "\" is not a projection image (XA, RF, DX, CR)");
    if (!header.hasRows || header.rows < 1 || header.columns < 1)
        throw Error(ErrorCode::CorruptData,
                    path + ": Rows (0028,0010) and Columns (0028,0011) must be positive");
    if (header.samplesPerPixel != 1)
        throw Error(ErrorCode::Unsupported, path + ": colour projection images (SamplesPerPixel " +
                                                std::to_string(header.samplesPerPixel) +
                                                ") are not supported");
    if (header.numberOfFrames < 1 || header.numberOfFrames > 100000)
        throw Error(ErrorCode::CorruptData, path + ": NumberOfFrames (0028,0008) " +
                                                std::to_string(header.numberOfFrames) + " is out of range");
    image.rows = header.rows;
    image.columns = header.columns;
    image.frameCount = static_cast<int>(header.numberOfFrames);
    image.monochrome1 = header.photometric == "MONOCHROME1";
    ProjectionGeometry& g = image.geometry;
    g.patientPosition = header.patientPosition;

    // The attributes below are small; large values (pixel data) stay on disk.
    DcmFileFormat file;
    const OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096);
    if (status.bad())
        throw Error(ErrorCode::CorruptData,
                    path + ": cannot read the header (" + std::string(status.text()) + ")");
    DcmDataset* data = file.getDataset();
    std::vector<std::string>& warnings = image.warnings;

    g.patientOrientation = detail::dicomText(data, DCM_PatientOrientation);
    g.positionerMotion = detail::dicomText(data, DCM_PositionerMotion);
    g.receptorType = detail::dicomText(data, DCM_XRayReceptorType);
    if (auto frameTime = readNumber(data, DCM_FrameTime, "FrameTime", 0, warnings);
        frameTime && *frameTime > 0.0)
        image.frameTimeMs = *frameTime;
    else if (const unsigned long n = valueCount(data, DCM_FrameTimeVector); n > 1) {
        double total = 0.0;
        for (unsigned long v = 1; v < n; ++v)
            total += readNumber(data, DCM_FrameTimeVector, "FrameTimeVector", v, warnings).value_or(0.0);
        image.frameTimeMs = total / static_cast<double>(n - 1);
    } else if (auto rate = readNumber(data, DCM_CineRate, "CineRate", 0, warnings); rate && *rate > 0.0)
        image.frameTimeMs = 1000.0 / *rate;

    // Detector pixel spacing and calibrations (top level, or the enhanced shared/per-frame groups).
    DcmItem* shared = nullptr;
    std::vector<DcmItem*> perFrame;
    if (image.enhanced) {
        const auto sharedItems = detail::sequenceItems(*data, DCM_SharedFunctionalGroupsSequence);
        shared = sharedItems.empty() ? nullptr : sharedItems.front();
        perFrame = detail::sequenceItems(*data, DCM_PerFrameFunctionalGroupsSequence);
        if (!perFrame.empty() && static_cast<int>(perFrame.size()) != image.frameCount)
            throw Error(ErrorCode::CorruptData, path + ": PerFrameFunctionalGroupsSequence (5200,9230) has " +
                                                    std::to_string(perFrame.size()) + " items for " +
                                                    std::to_string(image.frameCount) + " frames");
    }
    auto groupOfFrame = [&](int f, const DcmTagKey& sequence) -> DcmItem* {
        DcmItem* own =
            f < static_cast<int>(perFrame.size()) ? perFrame[static_cast<std::size_t>(f)] : nullptr;
        return functionalGroup(own, shared, sequence);
    };
    if (image.enhanced && g.patientOrientation.empty())
        if (DcmItem* orientation = groupOfFrame(0, DCM_PatientOrientationInFrameSequence))
            g.patientOrientation = detail::dicomText(orientation, DCM_PatientOrientation);
    DcmItem* pixelProperties = image.enhanced ? groupOfFrame(0, DCM_FramePixelDataPropertiesSequence) : data;
    if (pixelProperties == nullptr)
        pixelProperties = data;
    const auto imagerRow =
        readNumber(pixelProperties, DCM_ImagerPixelSpacing, "ImagerPixelSpacing", 0, warnings);
    const auto imagerColumn =
        readNumber(pixelProperties, DCM_ImagerPixelSpacing, "ImagerPixelSpacing", 1, warnings);
    if (positive(imagerRow) && positive(imagerColumn))
        g.detectorPixelSpacingMm = std::array<double, 2>{*imagerRow, *imagerColumn};
    else if (imagerRow || imagerColumn)
        warnings.push_back(tagName("ImagerPixelSpacing", DCM_ImagerPixelSpacing) +
                           " needs two positive values; ignored");
    DcmItem* fieldOfView = image.enhanced ? groupOfFrame(0, DCM_FieldOfViewSequence) : data;
    if (auto rotation =
            readNumber(fieldOfView, DCM_FieldOfViewRotation, "FieldOfViewRotation", 0, warnings)) {
        const int degrees = static_cast<int>(std::lround(*rotation));
        if (degrees == 0 || degrees == 90 || degrees == 180 || degrees == 270)
            g.fieldOfViewRotationDeg = degrees;
        else
            warnings.push_back(tagName("FieldOfViewRotation", DCM_FieldOfViewRotation) + " " +
                               std::to_string(*rotation) + " is not 0, 90, 180 or 270; taken as 0");
    }
    g.horizontalFlip = detail::dicomText(fieldOfView, DCM_FieldOfViewHorizontalFlip) == "YES";

    // Per-frame positioner angles and distances.
    const auto basePrimary =
        readNumber(data, DCM_PositionerPrimaryAngle, "PositionerPrimaryAngle", 0, warnings);
    const auto baseSecondary =
        readNumber(data, DCM_PositionerSecondaryAngle, "PositionerSecondaryAngle", 0, warnings);
    const auto baseSid =
        readNumber(data, DCM_DistanceSourceToDetector, "DistanceSourceToDetector", 0, warnings);
    const auto baseSod =
        readNumber(data, DCM_DistanceSourceToPatient, "DistanceSourceToPatient", 0, warnings);
    const auto magnificationFactor = readNumber(data, DCM_EstimatedRadiographicMagnificationFactor,
                                                "EstimatedRadiographicMagnificationFactor", 0, warnings);
    const unsigned long primaryIncrements = valueCount(data, DCM_PositionerPrimaryAngleIncrement);
    const unsigned long secondaryIncrements = valueCount(data, DCM_PositionerSecondaryAngleIncrement);
    const bool dynamic = g.positionerMotion == "DYNAMIC";
    if (!dynamic && (primaryIncrements > 0 || secondaryIncrements > 0) && image.frameCount > 1)
        warnings.push_back(
            "angle increments present without PositionerMotion (0018,1500) DYNAMIC; applied anyway");
    auto increment = [&](const DcmTagKey& tag, const char* name, unsigned long count,
                         int f) -> std::optional<double> {
        if (count == 0 || f == 0)
            return 0.0; // frame 1 is the base angle
        if (count == 1)
            return f * readNumber(data, tag, name, 0, warnings).value_or(0.0); // one average step
        if (count != static_cast<unsigned long>(image.frameCount))
            return std::nullopt;
        return readNumber(data, tag, name, static_cast<unsigned long>(f), warnings); // offset from frame 1
    };
    if ((primaryIncrements > 1 && primaryIncrements != static_cast<unsigned long>(image.frameCount)) ||
        (secondaryIncrements > 1 && secondaryIncrements != static_cast<unsigned long>(image.frameCount)))
        warnings.push_back("angle increments have " +
                           std::to_string(std::max(primaryIncrements, secondaryIncrements)) + " values for " +
                           std::to_string(image.frameCount) + " frames; only frame 1 has angles");
    g.frames.resize(static_cast<std::size_t>(image.frameCount));
    for (int f = 0; f < image.frameCount; ++f) {
        ProjectionFrameGeometry& frame = g.frames[static_cast<std::size_t>(f)];
        if (image.enhanced) {
            DcmItem* positioner = groupOfFrame(f, DCM_PositionerPositionSequence);
            frame.primaryDeg =
                readNumber(positioner, DCM_PositionerPrimaryAngle, "PositionerPrimaryAngle", 0, warnings);
            frame.secondaryDeg =
                readNumber(positioner, DCM_PositionerSecondaryAngle, "PositionerSecondaryAngle", 0, warnings);
            DcmItem* xrayGeometry = groupOfFrame(f, DCM_XRayGeometrySequence);
            frame.sourceToDetectorMm = readNumber(xrayGeometry, DCM_DistanceSourceToDetector,
                                                  "DistanceSourceToDetector", 0, warnings);
            frame.sourceToIsocenterMm = readNumber(xrayGeometry, DCM_DistanceSourceToIsocenter,
                                                   "DistanceSourceToIsocenter", 0, warnings);
            DcmItem* isocenter = groupOfFrame(f, DCM_IsocenterReferenceSystemSequence);
            frame.isocenterPrimaryDeg = readNumber(isocenter, DCM_PositionerIsocenterPrimaryAngle,
                                                   "PositionerIsocenterPrimaryAngle", 0, warnings);
            frame.isocenterSecondaryDeg = readNumber(isocenter, DCM_PositionerIsocenterSecondaryAngle,
                                                     "PositionerIsocenterSecondaryAngle", 0, warnings);
            frame.isocenterDetectorRotationDeg =
                readNumber(isocenter, DCM_PositionerIsocenterDetectorRotationAngle,
                           "PositionerIsocenterDetectorRotationAngle", 0, warnings);
        } else {
            const auto dp = increment(DCM_PositionerPrimaryAngleIncrement, "PositionerPrimaryAngleIncrement",
                                      primaryIncrements, f);
            const auto ds = increment(DCM_PositionerSecondaryAngleIncrement,
                                      "PositionerSecondaryAngleIncrement", secondaryIncrements, f);
            if (basePrimary && dp)
                frame.primaryDeg = *basePrimary + *dp;
            if (baseSecondary && ds)
                frame.secondaryDeg = *baseSecondary + *ds;
            frame.sourceToDetectorMm = baseSid;
            frame.sourceToIsocenterMm = baseSod;
        }
        if (frame.primaryDeg && std::abs(*frame.primaryDeg) > 180.0 + 1e-6)
            frame.primaryDeg = std::remainder(*frame.primaryDeg, 360.0);
        if (frame.secondaryDeg && std::abs(*frame.secondaryDeg) > 90.0 + 1e-6) {
            warnings.push_back("frame " + std::to_string(f + 1) + ": PositionerSecondaryAngle " +
                               std::to_string(*frame.secondaryDeg) + " is outside [-90, 90]; ignored");
            frame.secondaryDeg.reset();
        }
    }
    const ProjectionFrameGeometry& first = g.frames.front();
    g.sourceToDetectorMm = first.sourceToDetectorMm;
    g.sourceToIsocenterMm = first.sourceToIsocenterMm;
    if (!positive(g.sourceToIsocenterMm) && positive(g.sourceToDetectorMm) && magnificationFactor &&
        *magnificationFactor > 1.0) {
        g.sourceToIsocenterMm = *g.sourceToDetectorMm / *magnificationFactor;
        warnings.push_back(
            "source-to-isocentre distance taken as SID / EstimatedRadiographicMagnificationFactor");
        for (auto& frame : g.frames)
            if (!frame.sourceToIsocenterMm)
                frame.sourceToIsocenterMm = g.sourceToIsocenterMm;
    }
    if (positive(g.sourceToDetectorMm) && positive(g.sourceToIsocenterMm))
        g.magnification = *g.sourceToDetectorMm / *g.sourceToIsocenterMm;
    else if (magnificationFactor && *magnificationFactor > 0.0)
        g.magnification = *magnificationFactor;

    // Pixel spacing at the isocentre: the calibration macro, a calibrated PixelSpacing, or the
    // detector spacing over the magnification.
    DcmItem* calibration = image.enhanced ? groupOfFrame(0, DCM_ProjectionPixelCalibrationSequence) : nullptr;
    if (calibration == nullptr) {
        const auto items = detail::sequenceItems(*data, DCM_ProjectionPixelCalibrationSequence);
        calibration = items.empty() ? nullptr : items.front();
    }
    const auto objectRow = readNumber(calibration, DCM_ObjectPixelSpacingInCenterOfBeam,
                                      "ObjectPixelSpacingInCenterOfBeam", 0, warnings);
    const auto objectColumn = readNumber(calibration, DCM_ObjectPixelSpacingInCenterOfBeam,
                                         "ObjectPixelSpacingInCenterOfBeam", 1, warnings);
    const auto pixelRow = readNumber(data, DCM_PixelSpacing, "PixelSpacing", 0, warnings);
    const auto pixelColumn = readNumber(data, DCM_PixelSpacing, "PixelSpacing", 1, warnings);
    const bool pixelSpacingCalibrated =
        positive(pixelRow) && positive(pixelColumn) &&
        (!detail::dicomText(data, DCM_PixelSpacingCalibrationType).empty() || !g.detectorPixelSpacingMm ||
         std::abs(*pixelRow - (*g.detectorPixelSpacingMm)[0]) > 1e-6 ||
         std::abs(*pixelColumn - (*g.detectorPixelSpacingMm)[1]) > 1e-6);
    if (positive(objectRow) && positive(objectColumn)) {
        g.isocenterPixelSpacingMm = std::array<double, 2>{*objectRow, *objectColumn};
        g.isocenterPixelSpacingSource = "ObjectPixelSpacingInCenterOfBeam (0018,9404)";
    } else if (pixelSpacingCalibrated) {
        g.isocenterPixelSpacingMm = std::array<double, 2>{*pixelRow, *pixelColumn};
        g.isocenterPixelSpacingSource = "PixelSpacing (0028,0030), calibrated";
    } else if (g.detectorPixelSpacingMm && g.magnification && *g.magnification > 0.0) {
        g.isocenterPixelSpacingMm = std::array<double, 2>{(*g.detectorPixelSpacingMm)[0] / *g.magnification,
                                                          (*g.detectorPixelSpacingMm)[1] / *g.magnification};
        g.isocenterPixelSpacingSource = "ImagerPixelSpacing / magnification";
    }

    // Confidence, naming what is missing.
    const bool anglesKnown = std::all_of(g.frames.begin(), g.frames.end(),
                                         [](const auto& f) { return f.primaryDeg && f.secondaryDeg; });
    if (!first.primaryDeg)
        g.missing.push_back(tagName("PositionerPrimaryAngle", DCM_PositionerPrimaryAngle));
    if (!first.secondaryDeg)
        g.missing.push_back(tagName("PositionerSecondaryAngle", DCM_PositionerSecondaryAngle));
    if (first.primaryDeg && first.secondaryDeg && !anglesKnown)
        g.missing.push_back("per-frame angles (PositionerPrimary/SecondaryAngleIncrement (0018,1520/1521))");
    if (!positive(g.sourceToDetectorMm))
        g.missing.push_back(tagName("DistanceSourceToDetector", DCM_DistanceSourceToDetector));
    if (!positive(g.sourceToIsocenterMm))
        g.missing.push_back(image.enhanced
                                ? tagName("DistanceSourceToIsocenter", DCM_DistanceSourceToIsocenter)
                                : tagName("DistanceSourceToPatient", DCM_DistanceSourceToPatient));
    if (!g.detectorPixelSpacingMm)
        g.missing.push_back(tagName("ImagerPixelSpacing", DCM_ImagerPixelSpacing));
    if (positive(g.sourceToDetectorMm) && positive(g.sourceToIsocenterMm) &&
        *g.sourceToDetectorMm <= *g.sourceToIsocenterMm)
        g.missing.push_back(
            "a source-to-detector distance longer than the source-to-isocentre distance (SID " +
            std::to_string(*g.sourceToDetectorMm) + " mm, SOD " + std::to_string(*g.sourceToIsocenterMm) +
            " mm)");
    if (!anglesKnown)
        g.confidence = GeometryConfidence::None;
    else
        g.confidence = g.missing.empty() ? GeometryConfidence::Full : GeometryConfidence::AnglesOnly;
    if (first.primaryDeg && !anglesKnown && !g.missing.empty())
        g.confidence = GeometryConfidence::AnglesOnly; // frame 1's angles are known

    // Patient Orientation may say the image is mirrored or turned against the heads-up convention.
    if (first.primaryDeg && first.secondaryDeg && !orientationKey(g.patientOrientation).empty()) {
        const std::string stated = orientationKey(g.patientOrientation);
        auto expectedFor = [&](int fieldOfViewRotation, bool flip) {
            CArmParameters p;
            p.primaryDeg = *first.primaryDeg;
            p.secondaryDeg = *first.secondaryDeg;
            p.imageRotationDeg = imageRotationFromFieldOfView(fieldOfViewRotation);
            p.horizontalFlip = flip;
            return orientationKey(CArmGeometry(p).patientOrientation());
        };
        if (expectedFor(g.fieldOfViewRotationDeg, g.horizontalFlip) != stated) {
            std::vector<std::pair<int, bool>> matches;
            for (int rotation : {0, 90, 180, 270})
                for (bool flip : {false, true})
                    if (expectedFor(rotation, flip) == stated)
                        matches.emplace_back(rotation, flip);
            if (matches.size() == 1) {
                warnings.push_back(
                    "PatientOrientation (0020,0020) \"" + g.patientOrientation +
                    "\" differs from the heads-up image of these angles; the image is taken as "
                    "turned by " +
                    std::to_string(matches.front().first) + " degrees" +
                    (matches.front().second ? " and mirrored" : "") + " as it says");
                g.fieldOfViewRotationDeg = matches.front().first;
                g.horizontalFlip = matches.front().second;
            } else {
                warnings.push_back(
                    "PatientOrientation (0020,0020) \"" + g.patientOrientation +
                    "\" does not match the heads-up image of these angles; the heads-up convention "
                    "is kept");
            }
        }
    }
    if (g.receptorType == "IMG_INTENSIFIER")
        warnings.push_back("image-intensifier system: pincushion and S-distortion (up to about 14 mm before "
                           "correction) are not corrected; distances on the image are approximate");
    else if (g.receptorType.empty() && (image.modality == "XA" || image.modality == "RF"))
        warnings.push_back("the receptor type (XRayReceptorType (0018,9420)) is not stated: if this is an "
                           "image-intensifier system, its distortion is not corrected");
    if (g.confidence == GeometryConfidence::Full && !image.enhanced)
        warnings.push_back("plain " + image.modality +
                           ": the isocentre is assumed to project to the image centre (PS3.17 FFF.2.1.5.2)");

    if (withPixels) {
        throwIfCancelled(progress);
        const std::size_t frameSize =
            static_cast<std::size_t>(image.rows) * static_cast<std::size_t>(image.columns);
        // The header's claim is checked against the memory cap before anything is allocated.
        const std::uint64_t bytes = static_cast<std::uint64_t>(frameSize) *
                                    static_cast<std::uint64_t>(image.frameCount) * sizeof(float);
        const std::uint64_t cap = effectiveMemoryCap(LoadOptions{}.memoryCapBytes);
        if (bytes > cap)
            throw Error(ErrorCode::TooLarge,
                        path + ": " + std::to_string(image.columns) + " x " + std::to_string(image.rows) +
                            " pixels in " + std::to_string(image.frameCount) + " frames need " +
                            std::to_string(bytes >> 20) + " MiB, more than the memory cap of " +
                            std::to_string(cap >> 20) + " MiB");
        image.pixels.resize(frameSize * static_cast<std::size_t>(image.frameCount));
        detail::DecodeRequest request;
        request.path = path;
        request.expectedRows = image.rows;
        request.expectedColumns = image.columns;
        request.paddingReplacement = 0.0f;
        request.format.transferSyntaxUid = header.transferSyntaxUid;
        request.format.bitsAllocated = header.bitsAllocated;
        request.format.bitsStored = header.bitsStored;
        request.format.highBit = header.highBit;
        request.format.isSigned = header.pixelRepresentation == 1;
        request.format.monochrome1 = image.monochrome1;
        request.format.hasPadding = header.hasPadding;
        request.format.paddingValue = header.paddingValue;
        request.format.hasPaddingLimit = header.hasPaddingLimit;
        request.format.paddingLimit = header.paddingLimit;
        request.format.numberOfFrames = header.numberOfFrames;
        for (int f = 0; f < image.frameCount; ++f) {
            request.frameIndices.push_back(f);
            request.destinations.push_back(image.pixels.data() + frameSize * static_cast<std::size_t>(f));
            const auto& frameHeader = header.frames.empty()
                                          ? detail::DicomFrameHeader{}
                                          : header.frames[std::min<std::size_t>(f, header.frames.size() - 1)];
            request.rescaleSlopes.push_back(frameHeader.rescaleSlope);
            request.rescaleIntercepts.push_back(frameHeader.rescaleIntercept);
        }
        detail::decodeDicomFrames(request);
        reportProgress(progress, 1.0, "projection image");
    }
    return image;
}

} // namespace np::imaging
