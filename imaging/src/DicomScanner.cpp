#include "needleplan/imaging/DicomScanner.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "needleplan/imaging/ImageLoader.h"
#include "DcmtkAccess.h"
#include "DicomHeader.h"
#include "DicomPixelDecoder.h"
#include "SliceStacker.h"

namespace fs = std::filesystem;

namespace np::imaging {

const char* toString(DicomSeriesKind kind)
{
    switch (kind) {
    case DicomSeriesKind::Volume: return "volume";
    case DicomSeriesKind::Projection: return "projection";
    case DicomSeriesKind::Localizer: return "localizer";
    case DicomSeriesKind::SecondaryCapture: return "secondary-capture";
    }
    return "unknown";
}

namespace {

using detail::DicomFrameHeader;
using detail::DicomHeader;

bool startsWith(const std::string& text, const std::string& prefix)
{
    return text.compare(0, prefix.size(), prefix) == 0;
}

std::string upper(std::string text)
{
    for (char& c : text)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

/// Why a DICOM object is not an image we load, or "" when it is one.
std::string nonImageReason(const DicomHeader& header)
{
    const std::string& sop = header.sopClassUid;
    const std::string modality = upper(header.modality);
    if (sop == UID_MediaStorageDirectoryStorage)
        return "DICOMDIR (media directory index, not an image)";
    if (sop == UID_SegmentationStorage || modality == "SEG")
        return "DICOM SEG segmentation (not an image)";
    if (sop == UID_RTStructureSetStorage || modality == "RTSTRUCT")
        return "RTSTRUCT structure set (not an image)";
    if (sop == UID_RTPlanStorage || sop == UID_RTIonPlanStorage || modality == "RTPLAN")
        return "RTPLAN treatment plan (not an image)";
    if (sop == UID_RTDoseStorage || modality == "RTDOSE")
        return "RTDOSE dose grid (not a patient image)";
    if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.88.") || modality == "SR" || modality == "KO")
        return "structured report / key object selection (not an image)";
    if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.11.") || modality == "PR")
        return "presentation state (not an image)";
    if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.9.") || modality == "ECG")
        return "waveform (not an image)";
    if (sop == UID_EncapsulatedPDFStorage || modality == "DOC")
        return "encapsulated document (not an image)";
    if (sop == UID_RawDataStorage || sop == UID_SpatialRegistrationStorage ||
        sop == UID_DeformableSpatialRegistrationStorage || sop == UID_SpatialFiducialsStorage || modality == "REG")
        return "registration / raw data object (not an image)";
    if (!header.hasRows || header.rows <= 0 || header.columns <= 0 || header.bitsAllocated <= 0)
        return "no image pixel description (SOP class " + (sop.empty() ? std::string("unknown") : sop) + ")";
    return {};
}

DicomSeriesKind kindOf(const DicomHeader& header)
{
    const std::string modality = upper(header.modality);
    const std::string& sop = header.sopClassUid;
    if (modality == "XA" || modality == "DX" || modality == "CR" || modality == "RF" || modality == "MG" ||
        modality == "IO" || modality == "PX" || startsWith(sop, "1.2.840.10008.5.1.4.1.1.12.") ||
        startsWith(sop, "1.2.840.10008.5.1.4.1.1.1.") || sop == UID_ComputedRadiographyImageStorage)
        return DicomSeriesKind::Projection;
    if (startsWith(sop, "1.2.840.10008.5.1.4.1.1.7"))
        return DicomSeriesKind::SecondaryCapture;
    if (upper(header.imageType).find("LOCALIZER") != std::string::npos)
        return DicomSeriesKind::Localizer;
    return DicomSeriesKind::Volume;
}

std::vector<std::string> listFolder(const fs::path& folder)
{
    std::vector<std::string> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(folder, fs::directory_options::skip_permission_denied, ec), end;
    if (ec)
        throw Error(ErrorCode::Io, folder.string() + ": cannot list the folder (" + ec.message() + ")");
    for (; it != end; it.increment(ec)) {
        if (ec)
            break;
        std::error_code typeError;
        if (it->is_regular_file(typeError))
            files.push_back(it->path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

/// Files a DICOMDIR references (ReferencedFileID relative to its folder); empty when unreadable.
std::vector<std::string> dicomdirFiles(const fs::path& dicomdir)
{
    DcmFileFormat file;
    if (detail::loadDicomFile(file, dicomdir.string()).bad())
        return {};
    DcmSequenceOfItems* records = nullptr;
    if (file.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || !records)
        return {};
    std::vector<std::string> files;
    const fs::path base = dicomdir.parent_path();
    for (unsigned long n = 0; n < records->card(); ++n) {
        DcmItem* record = records->getItem(n);
        OFString id;
        if (!record || record->findAndGetOFStringArray(DCM_ReferencedFileID, id).bad() || id.empty())
            continue;
        fs::path relative;
        std::string component;
        std::istringstream parts(id.c_str());
        while (std::getline(parts, component, '\\'))
            if (!component.empty())
                relative /= component;
        fs::path full = base / relative;
        std::error_code ec;
        if (!fs::exists(full, ec)) {
            // Media written on case-insensitive systems: try the lower-case spelling.
            std::string lower = relative.string();
            for (char& c : lower)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (fs::exists(base / lower, ec))
                full = base / lower;
        }
        files.push_back(full.string());
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    return files;
}

struct ScannedFile
{
    std::optional<DicomHeader> header;
    std::string skipReason;
};

/// Images of one stack while grouping.
struct Group
{
    DicomSeriesKind kind = DicomSeriesKind::Volume;
    const DicomHeader* first = nullptr;
    Vec3 rowCosine, columnCosine;
    bool hasOrientation = false;
    int stackId = 0;
    int temporalPositionIndex = 0;
    std::string multiFramePath;
    std::string splitNote; ///< why this stack was split from the rest of its series ///< enhanced multi-frame files stack on their own
    std::vector<std::pair<const DicomHeader*, int>> images; ///< file and frame
};

bool sameOrientation(const Group& group, const DicomFrameHeader& frame)
{
    if (group.hasOrientation != frame.hasOrientation)
        return false;
    if (!group.hasOrientation)
        return true;
    return distance(group.rowCosine, frame.rowCosineLps) < 1e-3 &&
           distance(group.columnCosine, frame.columnCosineLps) < 1e-3;
}

std::string frameName(const DicomHeader& header, int frame)
{
    if (header.numberOfFrames > 1)
        return header.path + " (frame " + std::to_string(frame + 1) + ")";
    return header.path;
}

std::string fmt(double value)
{
    std::ostringstream text;
    text << value;
    return text.str();
}

void buildEntry(const Group& group, DicomSeriesEntry& entry)
{
    const DicomHeader& first = *group.first;
    entry.kind = group.kind;
    entry.seriesUid = first.seriesUid;
    entry.studyUid = first.studyUid;
    entry.frameOfReferenceUid = first.frameOfReferenceUid;
    entry.modality = first.modality;
    entry.description = first.seriesDescription;
    entry.patientPosition = first.patientPosition;
    entry.transferSyntax = first.transferSyntaxName;
    entry.seriesNumber = first.seriesNumber;
    entry.rows = first.rows;
    entry.columns = first.columns;
    // Messages name a file of the series (its first) and the series.
    const std::string what =
        first.path + (first.seriesUid.empty() ? std::string() : " (series " + first.seriesUid + ")");
    for (const auto& [header, frame] : group.images) {
        const DicomFrameHeader& frameHeader = header->frames[static_cast<std::size_t>(frame)];
        DicomFrameRef ref;
        ref.path = header->path;
        ref.frameIndex = frame;
        ref.sopInstanceUid = header->sopInstanceUid;
        ref.positionLps = frameHeader.positionLps;
        ref.hasPosition = frameHeader.hasPosition;
        ref.rescaleSlope = frameHeader.rescaleSlope;
        ref.rescaleIntercept = frameHeader.rescaleIntercept;
        DicomPixelFormat& format = ref.pixelFormat;
        format.transferSyntaxUid = header->transferSyntaxUid;
        format.bitsAllocated = header->bitsAllocated;
        format.bitsStored = header->bitsStored;
        format.highBit = header->highBit;
        format.isSigned = header->pixelRepresentation == 1;
        format.monochrome1 = header->photometric == "MONOCHROME1";
        format.hasPadding = header->hasPadding;
        format.paddingValue = header->paddingValue;
        format.hasPaddingLimit = header->hasPaddingLimit;
        format.paddingLimit = header->paddingLimit;
        format.numberOfFrames = header->numberOfFrames;
        entry.frames.push_back(ref);
    }
    const DicomFrameHeader& firstFrame = first.frames[static_cast<std::size_t>(group.images.front().second)];
    std::vector<std::pair<const DicomHeader*, int>> images = group.images;
    if (entry.kind == DicomSeriesKind::Volume) {
        // The same SOP instance stored twice (copies, or one image in several transfer syntaxes) is one
        // image: keep the first decodable copy.
        std::vector<DicomFrameRef> unique;
        std::vector<std::pair<const DicomHeader*, int>> uniqueImages;
        for (std::size_t n = 0; n < entry.frames.size(); ++n) {
            const DicomFrameRef& ref = entry.frames[n];
            const DicomHeader* header = group.images[n].first;
            const bool decodable = detail::isDecodableTransferSyntax(header->transferSyntaxUid);
            std::size_t same = unique.size();
            if (!ref.sopInstanceUid.empty())
                for (std::size_t u = 0; u < unique.size(); ++u)
                    if (unique[u].sopInstanceUid == ref.sopInstanceUid && unique[u].frameIndex == ref.frameIndex)
                        same = u;
            if (same == unique.size()) {
                unique.push_back(ref);
                uniqueImages.push_back(group.images[n]);
                continue;
            }
            entry.warnings.push_back("duplicate copy of SOP instance " + ref.sopInstanceUid + " ignored: " +
                                     (decodable && !detail::isDecodableTransferSyntax(uniqueImages[same].first->transferSyntaxUid)
                                          ? uniqueImages[same].first->path
                                          : ref.path));
            if (decodable && !detail::isDecodableTransferSyntax(uniqueImages[same].first->transferSyntaxUid)) {
                unique[same] = ref;
                uniqueImages[same] = group.images[n];
            }
        }
        entry.frames = std::move(unique);
        images = std::move(uniqueImages);
    }
    try {
        if (entry.kind == DicomSeriesKind::Projection) {
            Geometry& geometry = entry.geometry;
            const std::int64_t frameCount =
                first.isMultiFrameFunctional ? static_cast<std::int64_t>(entry.frames.size())
                                             : std::max<std::int64_t>(first.numberOfFrames, 1);
            geometry.size = {first.columns, first.rows, frameCount};
            if (firstFrame.hasPixelSpacing)
                geometry.spacing = {firstFrame.columnSpacing, firstFrame.rowSpacing, 1.0};
            if (frameCount > 1) {
                entry.warnings.push_back("2D projection cine (" + first.modality + ", " +
                                         std::to_string(frameCount) + " frames); not a volume");
                return;
            }
            entry.warnings.push_back("2D projection image (" + first.modality + "); not a volume");
        }
        if (first.bitsAllocated != 8 && first.bitsAllocated != 16 && first.bitsAllocated != 32)
            throw Error(ErrorCode::Unsupported, first.path + ": BitsAllocated " + std::to_string(first.bitsAllocated) +
                                                    " is not supported");
        if (first.samplesPerPixel != 1)
            throw Error(ErrorCode::Unsupported, first.path + ": colour image (SamplesPerPixel " +
                                                    std::to_string(first.samplesPerPixel) + ") is not supported");
        for (const auto& image : images)
            if (!detail::isDecodableTransferSyntax(image.first->transferSyntaxUid))
                throw Error(ErrorCode::UnsupportedTransferSyntax,
                            image.first->path + ": unsupported transfer syntax " + image.first->transferSyntaxName);
        detail::StackInput input;
        input.what = what;
        input.columns = first.columns;
        input.rows = first.rows;
        input.sliceThickness = firstFrame.sliceThickness;
        if (firstFrame.hasPixelSpacing) {
            input.columnSpacing = firstFrame.columnSpacing;
            input.rowSpacing = firstFrame.rowSpacing;
            if (!std::isfinite(input.columnSpacing) || !std::isfinite(input.rowSpacing) || input.columnSpacing <= 0 ||
                input.rowSpacing <= 0)
                throw Error(ErrorCode::InconsistentGeometry, first.path + ": PixelSpacing '" +
                                                                 firstFrame.pixelSpacingText +
                                                                 "' is not a positive, finite pair of numbers");
        } else {
            entry.warnings.push_back("PixelSpacing missing: 1 mm assumed");
        }
        bool positions = true;
        for (const auto& [header, frame] : images) {
            const DicomFrameHeader& f = header->frames[static_cast<std::size_t>(frame)];
            positions = positions && f.hasPosition;
            if (f.hasPixelSpacing &&
                (std::abs(f.columnSpacing - input.columnSpacing) > 1e-3 || std::abs(f.rowSpacing - input.rowSpacing) > 1e-3))
                throw Error(ErrorCode::InconsistentGeometry,
                            header->path + ": PixelSpacing " + fmt(f.rowSpacing) + "\\" + fmt(f.columnSpacing) +
                                " differs from the rest of the stack (" + fmt(input.rowSpacing) + "\\" +
                                fmt(input.columnSpacing) + ")");
            input.positionsLps.push_back(f.positionLps);
            input.names.push_back(frameName(*header, frame));
        }
        if (group.hasOrientation) {
            input.rowCosineLps = group.rowCosine;
            input.columnCosineLps = group.columnCosine;
        } else {
            input.rowCosineLps = {1, 0, 0};
            input.columnCosineLps = {0, 1, 0};
        }
        if (!positions || !group.hasOrientation) {
            if (images.size() > 1)
                throw Error(ErrorCode::InconsistentGeometry,
                            what + ": images without ImagePositionPatient / ImageOrientationPatient cannot be stacked (" +
                                first.path + ")");
            if (entry.kind != DicomSeriesKind::Projection)
                entry.warnings.push_back("no ImagePositionPatient / ImageOrientationPatient: placed at the origin, axial");
        }
        detail::StackPlan plan = detail::planStack(input);
        std::vector<DicomFrameRef> sorted;
        sorted.reserve(entry.frames.size());
        for (int index : plan.order)
            sorted.push_back(entry.frames[static_cast<std::size_t>(index)]);
        entry.frames = std::move(sorted);
        entry.geometry = plan.geometry;
        entry.resampled = plan.resampled;
        entry.warnings.insert(entry.warnings.end(), plan.warnings.begin(), plan.warnings.end());
        if (upper(first.imageType).find("MOSAIC") != std::string::npos)
            entry.warnings.push_back("Siemens MOSAIC image: its tiles are not rearranged into slices; the geometry is "
                                     "that of the whole mosaic");
        if (!first.isMultiFrameFunctional && first.numberOfFrames > 1)
            entry.warnings.push_back("multi-frame image without per-frame positions: only its first frame is used (" +
                                     first.path + ")");
        if (entry.kind == DicomSeriesKind::Localizer)
            entry.warnings.push_back("localizer (scout) image");
        else if (entry.kind == DicomSeriesKind::SecondaryCapture)
            entry.warnings.push_back("secondary capture");
    } catch (const Error& error) {
        entry.error = error.what();
        entry.errorCode = error.code();
    }
}

/// True when two images of the group lie at the same position along the slice normal.
bool hasCoincidentImages(const Group& group)
{
    if (group.images.size() < 2 || !group.hasOrientation)
        return false;
    const Vec3 normal = normalized(cross(group.rowCosine, group.columnCosine));
    // Copies of one SOP instance are not two images (they are merged when the entry is built).
    struct Placed
    {
        double along;
        const std::string* sopInstanceUid;
        int frame;
    };
    std::vector<Placed> placed;
    for (const auto& [header, frame] : group.images)
        placed.push_back({dot(header->frames[static_cast<std::size_t>(frame)].positionLps, normal), &header->sopInstanceUid, frame});
    std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) { return a.along < b.along; });
    for (std::size_t n = 0; n < placed.size(); ++n)
        for (std::size_t m = n + 1; m < placed.size() && placed[m].along - placed[n].along < 1e-3; ++m)
            if (placed[m].sopInstanceUid->empty() || *placed[m].sopInstanceUid != *placed[n].sopInstanceUid ||
                placed[m].frame != placed[n].frame)
                return true;
    return false;
}

/// Series that hold several images per position (echoes, cardiac or temporal phases, repeated
/// acquisitions) become one stack per value of the attribute that tells them apart, when one
/// does; otherwise the group stays whole and stacking reports the duplicate positions.
std::vector<Group> splitCoincidentImages(std::vector<Group> groups)
{
    using Attribute = std::function<std::string(const DicomHeader&, int frame)>;
    const auto fileAttribute = [](std::string DicomHeader::*member) -> Attribute {
        return [member](const DicomHeader& header, int) { return header.*member; };
    };
    const auto frameAttribute = [](std::string DicomFrameHeader::*member) -> Attribute {
        return [member](const DicomHeader& header, int frame) { return header.frames[static_cast<std::size_t>(frame)].*member; };
    };
    const std::pair<Attribute, const char*> attributes[] = {
        {fileAttribute(&DicomHeader::echoNumbers), "EchoNumbers"},
        {frameAttribute(&DicomFrameHeader::effectiveEchoTime), "EffectiveEchoTime"},
        {frameAttribute(&DicomFrameHeader::diffusionBValue), "DiffusionBValue"},
        {fileAttribute(&DicomHeader::temporalPosition), "TemporalPositionIdentifier"},
        {fileAttribute(&DicomHeader::acquisitionNumber), "AcquisitionNumber"},
        {fileAttribute(&DicomHeader::triggerTime), "TriggerTime"},
        {fileAttribute(&DicomHeader::imageType), "ImageType"}};
    std::vector<Group> result;
    for (Group& group : groups) {
        if (group.kind != DicomSeriesKind::Volume || !hasCoincidentImages(group)) {
            result.push_back(std::move(group));
            continue;
        }
        bool split = false;
        for (const auto& [attribute, name] : attributes) {
            std::map<std::string, Group> parts;
            for (const auto& image : group.images) {
                Group& part = parts[attribute(*image.first, image.second)];
                if (part.images.empty()) {
                    part = group;
                    part.images.clear();
                    part.first = image.first;
                }
                part.images.push_back(image);
            }
            if (parts.size() < 2)
                continue;
            bool clean = true;
            for (const auto& [value, part] : parts)
                clean = clean && !hasCoincidentImages(part);
            if (!clean)
                continue;
            for (auto& [value, part] : parts) {
                part.splitNote = std::string("series holds several images per position: stack of ") + name + " " +
                                 (value.empty() ? std::string("(none)") : value);
                result.push_back(std::move(part));
            }
            split = true;
            break;
        }
        if (!split)
            result.push_back(std::move(group));
    }
    return result;
}

} // namespace

DicomScanResult scanDicom(const std::string& path, ProgressSink* progress)
{
    detail::registerDicomCodecs();
    DicomScanResult result;
    result.rootPath = path;
    std::error_code ec;
    const fs::path root(path);
    if (!fs::exists(root, ec))
        throw Error(ErrorCode::NotFound, path + ": no such file or folder");
    std::vector<std::string> files;
    bool singleFile = false;
    if (fs::is_directory(root, ec)) {
        files = listFolder(root);
        if (files.empty())
            throw Error(ErrorCode::NotFound, path + ": the folder holds no files");
    } else {
        std::vector<std::string> referenced;
        if (upper(root.filename().string()) == "DICOMDIR")
            referenced = dicomdirFiles(root);
        if (!referenced.empty()) {
            files = referenced;
            result.skipped.push_back({path, "DICOMDIR (media directory index, not an image)"});
        } else {
            files = {path};
            singleFile = true;
        }
    }

    // Headers only, in parallel.
    std::vector<ScannedFile> scanned(files.size());
    std::atomic<std::size_t> done{0};
    detail::parallelFor(files.size(), detail::workerThreadCount(), [&](std::size_t n) {
        throwIfCancelled(progress);
        std::error_code missing;
        if (!singleFile && !fs::exists(files[n], missing)) {
            scanned[n].skipReason = "file not found (referenced by the DICOMDIR)";
            return;
        }
        try {
            scanned[n].header = detail::readDicomHeader(files[n]);
            const std::string reason = nonImageReason(*scanned[n].header);
            if (!reason.empty()) {
                scanned[n].header.reset();
                scanned[n].skipReason = reason;
            }
        } catch (const Error& error) {
            if (error.code() == ErrorCode::Cancelled)
                throw;
            if (singleFile)
                throw;
            std::string reason = error.what();
            if (reason.compare(0, files[n].size() + 2, files[n] + ": ") == 0)
                reason.erase(0, files[n].size() + 2); // the listing names the file already
            scanned[n].skipReason = error.code() == ErrorCode::NotDicom ? std::string("not a DICOM file") : reason;
        } catch (const std::exception& error) {
            if (singleFile)
                throw Error(ErrorCode::CorruptData, files[n] + ": unreadable (" + error.what() + ")");
            scanned[n].skipReason = std::string("unreadable: ") + error.what();
        }
        const std::size_t count = ++done;
        if (count % 16 == 0 || count == files.size())
            reportProgress(progress, static_cast<double>(count) / static_cast<double>(files.size()), "Reading DICOM headers");
    });

    // Group into stacks.
    std::vector<Group> groups;
    std::map<std::string, std::vector<std::size_t>> groupsBySeries;
    for (std::size_t n = 0; n < files.size(); ++n) {
        if (!scanned[n].header) {
            result.skipped.push_back({files[n], scanned[n].skipReason});
            continue;
        }
        const DicomHeader& header = *scanned[n].header;
        const DicomSeriesKind kind = kindOf(header);
        if (kind != DicomSeriesKind::Volume || header.isMultiFrameFunctional || header.numberOfFrames > 1) {
            // Projections, localizers, secondary captures and multi-frame files are entries of their own,
            // split further by orientation and stack inside multi-frame files.
            std::vector<Group> own;
            for (std::size_t f = 0; f < header.frames.size(); ++f) {
                const DicomFrameHeader& frame = header.frames[f];
                Group* target = nullptr;
                if (kind == DicomSeriesKind::Volume)
                    for (Group& g : own)
                        if (g.stackId == frame.stackId && g.temporalPositionIndex == frame.temporalPositionIndex &&
                            sameOrientation(g, frame))
                            target = &g;
                if (kind != DicomSeriesKind::Volume && !own.empty())
                    target = &own.front();
                if (!target) {
                    own.push_back({});
                    target = &own.back();
                    target->kind = kind;
                    target->first = &header;
                    target->rowCosine = frame.rowCosineLps;
                    target->columnCosine = frame.columnCosineLps;
                    target->hasOrientation = frame.hasOrientation;
                    target->stackId = frame.stackId;
                    target->temporalPositionIndex = frame.temporalPositionIndex;
                    target->multiFramePath = header.path;
                }
                target->images.emplace_back(&header, static_cast<int>(f));
            }
            groups.insert(groups.end(), own.begin(), own.end());
            continue;
        }
        const DicomFrameHeader& frame = header.frames.front();
        const std::string key = header.seriesUid + "|" + header.frameOfReferenceUid + "|" +
                                std::to_string(header.rows) + "x" + std::to_string(header.columns);
        Group* target = nullptr;
        for (std::size_t index : groupsBySeries[key])
            if (sameOrientation(groups[index], frame))
                target = &groups[index];
        if (!target) {
            groupsBySeries[key].push_back(groups.size());
            groups.push_back({});
            target = &groups.back();
            target->kind = kind;
            target->first = &header;
            target->rowCosine = frame.rowCosineLps;
            target->columnCosine = frame.columnCosineLps;
            target->hasOrientation = frame.hasOrientation;
        }
        target->images.emplace_back(&header, 0);
    }

    groups = splitCoincidentImages(std::move(groups));
    for (const Group& group : groups) {
        DicomSeriesEntry entry;
        if (!group.splitNote.empty())
            entry.warnings.push_back(group.splitNote);
        buildEntry(group, entry);
        result.series.push_back(std::move(entry));
    }
    // Listing order: by series number, then series UID, then first file, so it is reproducible.
    std::stable_sort(result.series.begin(), result.series.end(), [](const DicomSeriesEntry& a, const DicomSeriesEntry& b) {
        if (a.studyUid != b.studyUid)
            return a.studyUid < b.studyUid;
        if (a.seriesNumber != b.seriesNumber)
            return a.seriesNumber < b.seriesNumber;
        if (a.seriesUid != b.seriesUid)
            return a.seriesUid < b.seriesUid;
        return a.frames.front().path < b.frames.front().path;
    });
    for (std::size_t n = 0; n < result.series.size(); ++n)
        result.series[n].index = static_cast<int>(n);
    return result;
}

int selectSeries(const DicomScanResult& scan, const LoadOptions& options)
{
    if (!options.seriesUid.empty()) {
        int found = -1;
        for (const auto& entry : scan.series)
            if (entry.seriesUid == options.seriesUid) {
                if (entry.kind == DicomSeriesKind::Volume)
                    return entry.index;
                if (found < 0)
                    found = entry.index;
            }
        if (found >= 0)
            return found;
        throw Error(ErrorCode::NotFound, scan.rootPath + ": no series with SeriesInstanceUID " + options.seriesUid);
    }
    if (options.seriesIndex >= 0) {
        if (options.seriesIndex >= static_cast<int>(scan.series.size()))
            throw Error(ErrorCode::NotFound, scan.rootPath + ": no series with index " +
                                                 std::to_string(options.seriesIndex) + " (found " +
                                                 std::to_string(scan.series.size()) + ")");
        return options.seriesIndex;
    }
    for (const auto& entry : scan.series)
        if (entry.kind == DicomSeriesKind::Volume && !entry.hasError())
            return entry.index;
    for (const auto& entry : scan.series)
        if (entry.kind == DicomSeriesKind::Volume)
            return entry.index; // loading it reports its error
    std::string why;
    for (const auto& skipped : scan.skipped)
        if (skipped.reason != "not a DICOM file" && skipped.reason.find("not an image") == std::string::npos) {
            // A damaged file is the likely reason nothing loads: say so.
            throw Error(ErrorCode::CorruptData, skipped.reason.find(skipped.path) == std::string::npos
                                                    ? skipped.path + ": " + skipped.reason
                                                    : skipped.reason);
        }
    if (!scan.series.empty())
        throw Error(ErrorCode::NotFound, scan.rootPath + ": no volume series (only " +
                                             std::to_string(scan.series.size()) +
                                             " projection / localizer / secondary capture entries)");
    if (scan.skipped.size() == 1) {
        const SkippedFile& only = scan.skipped.front();
        if (only.reason == "not a DICOM file")
            throw Error(ErrorCode::NotDicom, only.path + ": not a DICOM file");
        throw Error(ErrorCode::NotFound, only.path + ": nothing to load: " + only.reason);
    }
    throw Error(ErrorCode::NotFound, scan.rootPath + ": no DICOM image series found (" +
                                         std::to_string(scan.skipped.size()) + " file(s) skipped)");
}

Volume loadDicomSeries(const DicomScanResult& scan, int index, const LoadOptions& options, ProgressSink* progress)
{
    if (index < 0 || index >= static_cast<int>(scan.series.size()))
        throw Error(ErrorCode::NotFound, scan.rootPath + ": no series with index " + std::to_string(index));
    const DicomSeriesEntry& entry = scan.series[static_cast<std::size_t>(index)];
    if (entry.hasError())
        throw Error(entry.errorCode, entry.error);
    if (entry.kind == DicomSeriesKind::Projection && entry.geometry.size[2] > 1)
        throw Error(ErrorCode::Unsupported, entry.frames.front().path + ": series " + std::to_string(index) + " is a 2D " +
                                                entry.modality + " projection cine (" +
                                                std::to_string(entry.geometry.size[2]) + " frames), not a volume");
    const Geometry& geometry = entry.geometry;
    const std::uint64_t pixelsPerSlice =
        static_cast<std::uint64_t>(entry.rows) * static_cast<std::uint64_t>(entry.columns);
    const bool resampled = entry.resampled;
    if (!resampled && (geometry.size[0] != entry.columns || geometry.size[1] != entry.rows ||
                       geometry.size[2] != static_cast<std::int64_t>(entry.frames.size())))
        throw Error(ErrorCode::Internal, entry.frames.front().path + ": stack size does not match its images");
    std::uint64_t bytes = static_cast<std::uint64_t>(geometry.voxelCount()) * sizeof(float);
    if (resampled)
        bytes += pixelsPerSlice * entry.frames.size() * sizeof(float);
    const std::uint64_t cap = effectiveMemoryCap(options.memoryCapBytes);
    if (bytes > cap || geometry.voxelCount() <= 0)
        throw Error(ErrorCode::TooLarge,
                    entry.frames.front().path + ": series " + std::to_string(index) + " (" +
                        std::to_string(geometry.size[0]) + "x" + std::to_string(geometry.size[1]) + "x" +
                        std::to_string(geometry.size[2]) + ") needs " + std::to_string(bytes >> 20) +
                        " MiB, more than the memory cap of " + std::to_string(cap >> 20) + " MiB");
    throwIfCancelled(progress);
    geometry.validate(entry.frames.front().path);
    // Uncompressed pixels must be in the file: a header that claims more pixels than its file holds
    // is refused before anything is allocated for them.
    {
        std::map<std::string, const DicomFrameRef*> files;
        for (const auto& frame : entry.frames)
            files.emplace(frame.path, &frame);
        for (const auto& [path, frame] : files) {
            const DicomPixelFormat& format = frame->pixelFormat;
            const DcmXfer xfer(format.transferSyntaxUid.c_str());
            if (xfer.getXfer() == EXS_Unknown || xfer.isEncapsulated() || xfer.getStreamCompression() != ESC_none ||
                format.bitsAllocated <= 0)
                continue;
            const std::uint64_t needed = pixelsPerSlice * static_cast<std::uint64_t>((format.bitsAllocated + 7) / 8) *
                                         static_cast<std::uint64_t>(std::max<long>(format.numberOfFrames, 1));
            std::error_code sizeError;
            const std::uintmax_t held = fs::file_size(path, sizeError);
            if (!sizeError && held < needed)
                throw Error(ErrorCode::CorruptData,
                            path + ": the header describes " + std::to_string(needed) + " bytes of pixels (" +
                                std::to_string(entry.columns) + "x" + std::to_string(entry.rows) + ", " +
                                std::to_string(format.bitsAllocated) + " bits, " +
                                std::to_string(std::max<long>(format.numberOfFrames, 1)) +
                                " frame(s)) but the file holds only " + std::to_string(held) + " bytes");
        }
    }

    // Every voxel is written below (by the decoder or the resampler), so the pages are first touched
    // by the decoding threads in parallel rather than zero-filled here.
    const auto tooLarge = [&] {
        return Error(ErrorCode::TooLarge, entry.frames.front().path + ": series " + std::to_string(index) + " (" +
                                              std::to_string(geometry.size[0]) + "x" + std::to_string(geometry.size[1]) +
                                              "x" + std::to_string(geometry.size[2]) + ") needs " +
                                              std::to_string(bytes >> 20) + " MiB, more than is available");
    };
    std::optional<Volume> allocated;
    try {
        allocated.emplace(geometry, uninitializedVoxels);
    } catch (const std::bad_alloc&) {
        throw tooLarge();
    }
    Volume& volume = *allocated;
    VoxelVector<float> sliceBuffer;
    std::vector<float*> destinations(entry.frames.size());
    if (resampled) {
        try {
            sliceBuffer.resize(pixelsPerSlice * entry.frames.size());
        } catch (const std::bad_alloc&) {
            throw tooLarge();
        }
        for (std::size_t s = 0; s < entry.frames.size(); ++s)
            destinations[s] = sliceBuffer.data() + s * pixelsPerSlice;
    } else {
        for (std::size_t s = 0; s < entry.frames.size(); ++s)
            destinations[s] = volume.data() + s * pixelsPerSlice;
    }
    const bool isCt = upper(entry.modality) == "CT";
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // One request per file, frames grouped.
    std::vector<detail::DecodeRequest> requests;
    std::map<std::string, std::size_t> requestOfFile;
    for (std::size_t s = 0; s < entry.frames.size(); ++s) {
        const DicomFrameRef& frame = entry.frames[s];
        auto found = requestOfFile.find(frame.path);
        if (found == requestOfFile.end()) {
            found = requestOfFile.emplace(frame.path, requests.size()).first;
            requests.push_back({});
            requests.back().path = frame.path;
            requests.back().expectedRows = entry.rows;
            requests.back().expectedColumns = entry.columns;
            requests.back().paddingReplacement = isCt ? -1024.0f : nan;
            requests.back().format = frame.pixelFormat;
        }
        detail::DecodeRequest& request = requests[found->second];
        request.frameIndices.push_back(frame.frameIndex);
        request.destinations.push_back(destinations[s]);
        request.rescaleSlopes.push_back(frame.rescaleSlope);
        request.rescaleIntercepts.push_back(frame.rescaleIntercept);
    }
    // The value range (and whether padding left NaNs) comes out of the decoding pass itself.
    std::vector<detail::DecodedRange> ranges(requests.size());
    std::atomic<std::size_t> decoded{0};
    detail::parallelFor(requests.size(), detail::workerThreadCount(), [&](std::size_t n) {
        throwIfCancelled(progress);
        ranges[n] = detail::decodeDicomFrames(requests[n]);
        const std::size_t count = ++decoded;
        if (count % 8 == 0 || count == requests.size())
            reportProgress(progress, static_cast<double>(count) / static_cast<double>(requests.size()),
                           "Decoding DICOM pixels");
    });
    detail::DecodedRange range;
    for (const auto& part : ranges)
        range.merge(part);

    // Padding of non-CT images becomes the image minimum; only files that had padding are revisited.
    float fillValue = -1024.0f;
    if (!isCt) {
        fillValue = range.hasValues() ? range.minimum : 0.0f;
        if (range.anyNan && !resampled) {
            const std::size_t pixels = static_cast<std::size_t>(pixelsPerSlice);
            detail::parallelFor(requests.size(), detail::workerThreadCount(), [&](std::size_t n) {
                if (!ranges[n].anyNan)
                    return;
                for (float* slice : requests[n].destinations)
                    for (std::size_t p = 0; p < pixels; ++p)
                        if (std::isnan(slice[p]))
                            slice[p] = fillValue;
            });
            if (!range.hasValues())
                range.minimum = range.maximum = fillValue;
        }
    }
    if (resampled) {
        reportProgress(progress, 0.0, "Resampling onto a regular grid");
        // Each sorted slice's first pixel relative to the grid origin, along the grid axes.
        detail::StackPlan plan;
        plan.geometry = geometry;
        plan.resampled = true;
        for (const auto& frame : entry.frames) {
            const Vec3 deltaLps = frame.positionLps - geometry.originLps;
            plan.sliceOffsetsMm.push_back({dot(deltaLps, geometry.directionLps.column(0)),
                                           dot(deltaLps, geometry.directionLps.column(1)),
                                           dot(deltaLps, geometry.directionLps.column(2))});
        }
        const std::vector<const float*> slices(destinations.begin(), destinations.end());
        detail::resampleStack(plan, entry.columns, entry.rows, slices, fillValue, volume.data(),
                              detail::workerThreadCount());
    }

    VolumeInfo& info = volume.info();
    info.sourcePath = scan.rootPath;
    info.seriesUid = entry.seriesUid;
    info.frameOfReferenceUid = entry.frameOfReferenceUid;
    info.modality = entry.modality;
    info.description = entry.description;
    info.patientPosition = entry.patientPosition;
    info.warnings = entry.warnings;
    if (!entry.frames.empty())
        info.sourceDicomFile = entry.frames.front().path;
    // Resampling interpolates and fills, so the decoded range only describes unresampled stacks.
    if (!resampled && range.hasValues()) {
        info.hasValueRange = true;
        info.minimumValue = range.minimum;
        info.maximumValue = range.maximum;
    }
    bool oneToOne = !resampled;
    for (const auto& frame : entry.frames)
        oneToOne = oneToOne && frame.frameIndex == 0 && !frame.sopInstanceUid.empty();
    if (oneToOne)
        for (const auto& frame : entry.frames)
            info.sliceSopInstanceUids.push_back(frame.sopInstanceUid);
    reportProgress(progress, 1.0, "Loaded");
    return std::move(*allocated);
}

} // namespace np::imaging
