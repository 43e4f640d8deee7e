#include "needleplan/imaging/DicomSegIO.h"

#include "DcmtkAccess.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrobow.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <zlib.h>

namespace np::imaging {

using detail::dicomText;
using detail::sequenceItems;

namespace {

DcmItem* firstItem(DcmItem* item, const DcmTagKey& tag)
{
    if (!item)
        return nullptr;
    const auto items = sequenceItems(*item, tag);
    return items.empty() ? nullptr : items.front();
}

bool readVector(DcmItem* item, const DcmTagKey& tag, double* values, unsigned long count)
{
    if (!item)
        return false;
    for (unsigned long n = 0; n < count; ++n) {
        Float64 v = 0;
        if (item->findAndGetFloat64(tag, v, n).bad() || !std::isfinite(v))
            return false;
        values[n] = v;
    }
    return true;
}

/// A functional group macro from the per-frame item, else from the shared item.
DcmItem* groupOf(DcmItem* perFrame, DcmItem* shared, const DcmTagKey& tag)
{
    DcmItem* found = firstItem(perFrame, tag);
    return found ? found : firstItem(shared, tag);
}

void registerCodecs()
{
    static std::once_flag once;
    std::call_once(once, [] { DcmRLEDecoderRegistration::registerCodecs(); });
}

double srgbFromLinear(double c)
{
    c = std::clamp(c, 0.0, 1.0);
    return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}

double linearFromSrgb(double c)
{
    c = std::clamp(c, 0.0, 1.0);
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

constexpr double kWhiteX = 0.950456, kWhiteY = 1.0, kWhiteZ = 1.088754; // D65

struct Frame
{
    int segmentNumber = 0;
    Vec3 positionLps;
    Vec3 rowLps, columnLps;                             // unit directions of increasing column / row index
    double spacingAlongRow = 0, spacingAlongColumn = 0; // mm between columns, between rows
    std::string sourceSop;
};

/// Transfer syntax "Deflated Image Frame Compression": each frame is one fragment of raw deflate
/// data. DCMTK 3.6.7 does not know it, and its RLE decoder refuses 1-bit frames, so for these two
/// the fragments are read from the file directly.
constexpr const char* kDeflatedFrameSyntax = "1.2.840.10008.1.2.8.1";
constexpr const char* kRleSyntax = "1.2.840.10008.1.2.5";

/// Decodes one RLE Lossless fragment holding a single byte segment (8- or 1-bit frames).
bool decodeRleFrame(const std::uint8_t* data, std::size_t length, std::vector<std::uint8_t>& frame)
{
    if (length < 64)
        return false;
    auto read32 = [&](std::size_t offset) {
        return std::uint32_t(data[offset]) | std::uint32_t(data[offset + 1]) << 8 |
               std::uint32_t(data[offset + 2]) << 16 | std::uint32_t(data[offset + 3]) << 24;
    };
    if (read32(0) != 1)
        return false; // one segment per frame for single-sample 8-bit or 1-bit data
    std::size_t at = read32(4);
    std::size_t out = 0;
    while (at < length && out < frame.size()) {
        const auto n = static_cast<std::int8_t>(data[at++]);
        if (n >= 0) {
            const std::size_t count = std::size_t(n) + 1;
            if (at + count > length)
                return false;
            for (std::size_t c = 0; c < count && out < frame.size(); ++c)
                frame[out++] = data[at + c];
            at += count;
        } else if (n != -128) {
            if (at >= length)
                return false;
            const std::size_t count = std::size_t(1 - n);
            for (std::size_t c = 0; c < count && out < frame.size(); ++c)
                frame[out++] = data[at];
            ++at;
        }
    }
    return out == frame.size();
}

bool inflateFrame(const std::uint8_t* data, std::size_t length, std::vector<std::uint8_t>& frame)
{
    z_stream stream{};
    if (inflateInit2(&stream, -15) != Z_OK)
        throw Error(ErrorCode::Internal, "zlib initialisation failed");
    stream.next_in = const_cast<Bytef*>(data);
    stream.avail_in = static_cast<uInt>(length);
    stream.next_out = frame.data();
    stream.avail_out = static_cast<uInt>(frame.size());
    const int result = inflate(&stream, Z_FINISH);
    const std::size_t produced = frame.size() - stream.avail_out;
    inflateEnd(&stream);
    return (result == Z_STREAM_END || result == Z_BUF_ERROR) && produced == frame.size();
}

std::vector<std::vector<std::uint8_t>> readEncapsulatedFrames(const std::string& path, std::size_t frameCount,
                                                              std::size_t frameBytes, bool rle)
{
    auto corrupt = [&](const std::string& text) { return Error(ErrorCode::CorruptData, path + ": " + text); };
    std::ifstream in(path, std::ios::binary);
    const std::vector<std::uint8_t> file((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
    static const std::uint8_t header[] = {0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    const auto found = std::find_end(file.begin(), file.end(), std::begin(header), std::end(header));
    if (found == file.end())
        throw corrupt("no encapsulated Pixel Data");
    std::size_t at = static_cast<std::size_t>(found - file.begin()) + sizeof header;
    auto read32 = [&](std::size_t offset) {
        return std::uint32_t(file[offset]) | std::uint32_t(file[offset + 1]) << 8 |
               std::uint32_t(file[offset + 2]) << 16 | std::uint32_t(file[offset + 3]) << 24;
    };
    std::vector<std::vector<std::uint8_t>> frames;
    bool offsetTable = true;
    while (at + 8 <= file.size()) {
        const std::uint32_t tag = read32(at), length = read32(at + 4);
        at += 8;
        if (tag == 0xE0DDFFFEu)
            break;
        if (tag != 0xE000FFFEu || length > file.size() - at)
            throw corrupt("malformed pixel data fragment");
        if (offsetTable) {
            offsetTable = false;
        } else {
            std::vector<std::uint8_t> frame(frameBytes);
            const bool ok = rle ? decodeRleFrame(file.data() + at, length, frame)
                                : inflateFrame(file.data() + at, length, frame);
            if (!ok)
                throw corrupt(std::string(rle ? "RLE" : "deflated") + " frame " +
                              std::to_string(frames.size() + 1) + " does not decode to " +
                              std::to_string(frameBytes) + " bytes");
            frames.push_back(std::move(frame));
        }
        at += length;
    }
    if (frames.size() != frameCount)
        throw corrupt("found " + std::to_string(frames.size()) + " pixel data fragments for " +
                      std::to_string(frameCount) + " frames");
    return frames;
}

} // namespace

std::array<double, 3> rgbFromDicomLab(const std::array<std::uint16_t, 3>& scaledLab)
{
    const double l = scaledLab[0] * 100.0 / 65535.0;
    const double a = scaledLab[1] * 255.0 / 65535.0 - 128.0;
    const double b = scaledLab[2] * 255.0 / 65535.0 - 128.0;
    const double fy = (l + 16.0) / 116.0, fx = fy + a / 500.0, fz = fy - b / 200.0;
    auto inverse = [](double t) {
        return t > 6.0 / 29.0 ? t * t * t : 3.0 * (6.0 / 29.0) * (6.0 / 29.0) * (t - 4.0 / 29.0);
    };
    const double x = kWhiteX * inverse(fx), y = kWhiteY * inverse(fy), z = kWhiteZ * inverse(fz);
    const double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
    const double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
    const double bl = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
    return {srgbFromLinear(r), srgbFromLinear(g), srgbFromLinear(bl)};
}

std::array<std::uint16_t, 3> dicomLabFromRgb(const std::array<double, 3>& rgb)
{
    const double r = linearFromSrgb(rgb[0]), g = linearFromSrgb(rgb[1]), b = linearFromSrgb(rgb[2]);
    const double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
    const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    const double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
    auto f = [](double t) {
        return t > 216.0 / 24389.0 ? std::cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0;
    };
    const double fx = f(x / kWhiteX), fy = f(y / kWhiteY), fz = f(z / kWhiteZ);
    const double l = 116.0 * fy - 16.0, a = 500.0 * (fx - fy), bb = 200.0 * (fy - fz);
    auto scale = [](double v, double lo, double range) {
        return static_cast<std::uint16_t>(std::lround(std::clamp((v - lo) / range, 0.0, 1.0) * 65535.0));
    };
    return {scale(l, 0.0, 100.0), scale(a, -128.0, 255.0), scale(bb, -128.0, 255.0)};
}

StructureSet importDicomSeg(const std::string& path, const Volume& reference, ProgressSink* progress)
{
    if (reference.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "DICOM SEG import of " + path + ": no reference image is loaded");
    const Geometry& grid = reference.geometry();
    grid.validate("reference image");
    registerCodecs();
    reportProgress(progress, 0.0, "reading DICOM SEG");
    DcmFileFormat file;
    const OFCondition loaded = detail::loadDicomFile(file, path);
    if (loaded.bad())
        throw Error(ErrorCode::NotDicom, path + ": cannot read as DICOM (" + loaded.text() + ")");
    DcmDataset& data = *file.getDataset();
    const std::string sopClass = dicomText(&data, DCM_SOPClassUID);
    const std::string modality = dicomText(&data, DCM_Modality);
    if (sopClass != UID_SegmentationStorage && modality != "SEG")
        throw Error(ErrorCode::NotDicom, path + ": not a DICOM Segmentation (modality '" + modality + "')");

    StructureSet result(grid);
    auto warn = [&](const std::string& text) { result.warnings().push_back(path + ": " + text); };
    auto corrupt = [&](const std::string& text) { return Error(ErrorCode::CorruptData, path + ": " + text); };

    const std::string type = dicomText(&data, DCM_SegmentationType);
    const bool fractional = type == "FRACTIONAL";
    if (type != "BINARY" && !fractional)
        throw Error(ErrorCode::Unsupported,
                    path + ": Segmentation Type '" + type + "' is not BINARY or FRACTIONAL");
    Uint16 rows = 0, columns = 0, bitsAllocated = 0;
    if (data.findAndGetUint16(DCM_Rows, rows).bad() || data.findAndGetUint16(DCM_Columns, columns).bad() ||
        rows == 0 || columns == 0)
        throw corrupt("Rows or Columns missing or zero");
    data.findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    if ((fractional && bitsAllocated != 8) || (!fractional && bitsAllocated != 1))
        throw corrupt("Bits Allocated " + std::to_string(bitsAllocated) + " does not fit Segmentation Type " +
                      type);
    Sint32 frameCount = 0;
    if (data.findAndGetSint32(DCM_NumberOfFrames, frameCount).bad() || frameCount <= 0)
        throw corrupt("Number of Frames missing or not positive");
    Uint16 maxFractional = 255;
    if (fractional &&
        (data.findAndGetUint16(DCM_MaximumFractionalValue, maxFractional).bad() || maxFractional == 0))
        maxFractional = 255;

    // Series reference.
    std::set<std::string> referencedSeries;
    for (DcmItem* series : sequenceItems(data, DCM_ReferencedSeriesSequence)) {
        const std::string uid = dicomText(series, DCM_SeriesInstanceUID);
        if (!uid.empty())
            referencedSeries.insert(uid);
    }
    const VolumeInfo& info = reference.info();
    if (!info.seriesUid.empty() && !referencedSeries.empty() && !referencedSeries.count(info.seriesUid)) {
        std::string names;
        for (const auto& uid : referencedSeries)
            names += (names.empty() ? "" : ", ") + uid;
        warn("the SEG references series " + names + " but the loaded series is " + info.seriesUid +
             "; frames are placed by their positions");
    }
    const std::string frameOfReference = dicomText(&data, DCM_FrameOfReferenceUID);
    if (!info.frameOfReferenceUid.empty() && !frameOfReference.empty() &&
        frameOfReference != info.frameOfReferenceUid)
        warn("frame of reference " + frameOfReference + " differs from the loaded image's " +
             info.frameOfReferenceUid);

    // Segments.
    std::map<int, std::size_t> structureOfSegment;
    for (DcmItem* segment : sequenceItems(data, DCM_SegmentSequence)) {
        Uint16 number = 0;
        if (segment->findAndGetUint16(DCM_SegmentNumber, number).bad() || structureOfSegment.count(number)) {
            warn("a segment without a (unique) Segment Number is skipped");
            continue;
        }
        std::string label = dicomText(segment, DCM_SegmentLabel);
        if (label.empty())
            label = "segment_" + std::to_string(number);
        std::array<double, 3> rgb{1.0, 1.0, 0.0};
        std::array<std::uint16_t, 3> lab{};
        bool hasLab = true;
        for (unsigned long c = 0; c < 3; ++c)
            hasLab = hasLab && segment->findAndGetUint16(DCM_RecommendedDisplayCIELabValue, lab[c], c).good();
        if (hasLab)
            rgb = rgbFromDicomLab(lab);
        structureOfSegment[number] = result.structures().size();
        Segment& added = result.add(label, rgb).segment;
        // The coded terminology, by which the planner classifies a segment before its name.
        auto codeOf = [&](const DcmTagKey& tag) {
            CodedConcept code;
            const auto items = sequenceItems(*segment, tag);
            if (!items.empty())
                code = {dicomText(items.front(), DCM_CodingSchemeDesignator),
                        dicomText(items.front(), DCM_CodeValue), dicomText(items.front(), DCM_CodeMeaning)};
            return code;
        };
        added.categoryCode = codeOf(DCM_SegmentedPropertyCategoryCodeSequence);
        added.typeCode = codeOf(DCM_SegmentedPropertyTypeCodeSequence);
        if (const auto types = sequenceItems(*segment, DCM_SegmentedPropertyTypeCodeSequence);
            !types.empty()) {
            const auto modifiers =
                sequenceItems(*types.front(), DCM_SegmentedPropertyTypeModifierCodeSequence);
            if (!modifiers.empty())
                added.typeModifierCode = {dicomText(modifiers.front(), DCM_CodingSchemeDesignator),
                                          dicomText(modifiers.front(), DCM_CodeValue),
                                          dicomText(modifiers.front(), DCM_CodeMeaning)};
        }
    }
    if (structureOfSegment.empty())
        throw corrupt("the Segment Sequence defines no segment");

    // Frames.
    DcmItem* shared = firstItem(&data, DCM_SharedFunctionalGroupsSequence);
    const auto perFrame = sequenceItems(data, DCM_PerFrameFunctionalGroupsSequence);
    if (perFrame.size() != static_cast<std::size_t>(frameCount))
        throw corrupt("Per-frame Functional Groups has " + std::to_string(perFrame.size()) + " items for " +
                      std::to_string(frameCount) + " frames");
    std::vector<Frame> frames(perFrame.size());
    for (std::size_t f = 0; f < perFrame.size(); ++f) {
        Frame& frame = frames[f];
        DcmItem* identification = groupOf(perFrame[f], shared, DCM_SegmentIdentificationSequence);
        Uint16 number = 0;
        if (!identification || identification->findAndGetUint16(DCM_ReferencedSegmentNumber, number).bad())
            throw corrupt("frame " + std::to_string(f + 1) + " has no Referenced Segment Number");
        frame.segmentNumber = number;
        double ipp[3], iop[6], spacing[2];
        if (!readVector(groupOf(perFrame[f], shared, DCM_PlanePositionSequence), DCM_ImagePositionPatient,
                        ipp, 3))
            throw corrupt("frame " + std::to_string(f + 1) + " has no Image Position (Patient)");
        if (!readVector(groupOf(perFrame[f], shared, DCM_PlaneOrientationSequence),
                        DCM_ImageOrientationPatient, iop, 6))
            throw corrupt("frame " + std::to_string(f + 1) + " has no Image Orientation (Patient)");
        if (!readVector(groupOf(perFrame[f], shared, DCM_PixelMeasuresSequence), DCM_PixelSpacing, spacing,
                        2) ||
            spacing[0] <= 0 || spacing[1] <= 0)
            throw corrupt("frame " + std::to_string(f + 1) + " has no valid Pixel Spacing");
        frame.positionLps = {ipp[0], ipp[1], ipp[2]};
        frame.rowLps = normalized(Vec3{iop[0], iop[1], iop[2]});
        frame.columnLps = normalized(Vec3{iop[3], iop[4], iop[5]});
        frame.spacingAlongColumn = spacing[0]; // between rows
        frame.spacingAlongRow = spacing[1];    // between columns
        DcmItem* derivation = firstItem(perFrame[f], DCM_DerivationImageSequence);
        if (DcmItem* source = firstItem(derivation, DCM_SourceImageSequence))
            frame.sourceSop = dicomText(source, DCM_ReferencedSOPInstanceUID);
    }
    throwIfCancelled(progress);

    // Pixel data, decoded to native little endian. `frameStrideBits` is where frame f starts:
    // native 1-bit frames are packed back to back, encapsulated frames start on a byte.
    const std::uint64_t framePixels = std::uint64_t(rows) * columns;
    const std::uint64_t frameBytes = fractional ? framePixels : (framePixels + 7) / 8;
    std::uint64_t frameStrideBits = fractional ? framePixels * 8 : framePixels;
    std::vector<std::uint8_t> bytes;
    OFString metaSyntax;
    file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, metaSyntax);
    const std::string syntaxUid = metaSyntax.c_str();
    if (syntaxUid == kDeflatedFrameSyntax || (syntaxUid == kRleSyntax && !fractional)) {
        const auto deflated = readEncapsulatedFrames(path, static_cast<std::size_t>(frameCount), frameBytes,
                                                     syntaxUid == kRleSyntax);
        bytes.reserve(deflated.size() * frameBytes);
        for (const auto& frame : deflated)
            bytes.insert(bytes.end(), frame.begin(), frame.end());
        frameStrideBits = frameBytes * 8;
    } else {
        const DcmXfer xfer(data.getOriginalXfer());
        if (xfer.getXfer() == EXS_Unknown)
            throw Error(ErrorCode::UnsupportedTransferSyntax,
                        path + ": unknown transfer syntax " + std::string(metaSyntax.c_str()));
        if (xfer.isEncapsulated()) {
            if (data.chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad() ||
                !data.canWriteXfer(EXS_LittleEndianExplicit))
                throw Error(ErrorCode::UnsupportedTransferSyntax,
                            path + ": cannot decode pixel data in transfer syntax " +
                                std::string(xfer.getXferName()) + " (" + xfer.getXferID() + ")");
            // Decoders return each frame starting on a byte boundary.
            if (!fractional)
                frameStrideBits = frameBytes * 8;
        }
        DcmElement* pixelElement = nullptr;
        if (data.findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement)
            throw corrupt("no Pixel Data");
        if (pixelElement->getVR() == EVR_OW) {
            Uint16* words = nullptr;
            if (pixelElement->getUint16Array(words).bad() || !words)
                throw corrupt("Pixel Data cannot be read");
            const unsigned long count = pixelElement->getLength() / 2;
            bytes.resize(count * 2);
            for (unsigned long w = 0; w < count; ++w) {
                bytes[2 * w] = static_cast<std::uint8_t>(words[w] & 0xFF);
                bytes[2 * w + 1] = static_cast<std::uint8_t>(words[w] >> 8);
            }
        } else {
            Uint8* raw = nullptr;
            if (pixelElement->getUint8Array(raw).bad() || !raw)
                throw corrupt("Pixel Data cannot be read");
            bytes.assign(raw, raw + pixelElement->getLength());
        }
    }
    const std::uint64_t neededBits =
        frameStrideBits * std::uint64_t(frameCount - 1) + (fractional ? framePixels * 8 : framePixels);
    if (bytes.size() * 8 < neededBits)
        throw corrupt("Pixel Data holds " + std::to_string(bytes.size()) + " bytes, too few for " +
                      std::to_string(frameCount) + " frames of " + std::to_string(rows) + "x" +
                      std::to_string(columns));
    auto pixelSet = [&](std::size_t f, std::int64_t row, std::int64_t column) {
        const std::uint64_t pixel = std::uint64_t(row) * columns + std::uint64_t(column);
        if (fractional)
            return 2u * bytes[f * framePixels + pixel] >= maxFractional;
        const std::uint64_t index = f * frameStrideBits + pixel;
        return ((bytes[index >> 3] >> (index & 7)) & 1u) != 0;
    };

    // Place each frame on the reference slice its plane lies in.
    const Vec3 sliceNormalLps = grid.directionLps.column(2);
    const std::int64_t nx = grid.size[0], ny = grid.size[1];
    int unknownSegment = 0, offGrid = 0, tilted = 0, placed = 0;
    std::set<std::string> loadedSops(info.sliceSopInstanceUids.begin(), info.sliceSopInstanceUids.end());
    int sourceNotLoaded = 0;
    for (std::size_t f = 0; f < frames.size(); ++f) {
        if (f % 16 == 0) {
            throwIfCancelled(progress);
            reportProgress(progress, double(f) / double(frames.size()), "placing SEG frames");
        }
        const Frame& frame = frames[f];
        const auto found = structureOfSegment.find(frame.segmentNumber);
        if (found == structureOfSegment.end()) {
            ++unknownSegment;
            continue;
        }
        const Vec3 frameNormal = cross(frame.rowLps, frame.columnLps);
        if (std::abs(std::abs(dot(frameNormal, sliceNormalLps)) - 1.0) > 1e-4) {
            ++tilted;
            continue;
        }
        const double k = grid.ijkFromLps(frame.positionLps).z;
        const double nearestK = std::round(k);
        if (std::abs(k - nearestK) > 0.25 || nearestK < 0 || nearestK > double(grid.size[2] - 1)) {
            ++offGrid;
            continue;
        }
        if (!frame.sourceSop.empty() && !loadedSops.empty() && !loadedSops.count(frame.sourceSop))
            ++sourceNotLoaded;
        ++placed;
        auto& mask = result.structures()[found->second].voxels;
        const auto kk = static_cast<std::int64_t>(nearestK);
        // Frame pixel (column, row) of each reference voxel centre, by the in-plane affine.
        const Vec3 originLps = grid.lpsFromIjk({0.0, 0.0, double(kk)});
        const Vec3 stepI = grid.directionLps.column(0) * grid.spacing.x;
        const Vec3 stepJ = grid.directionLps.column(1) * grid.spacing.y;
        const double c0 = dot(originLps - frame.positionLps, frame.rowLps) / frame.spacingAlongRow;
        const double r0 = dot(originLps - frame.positionLps, frame.columnLps) / frame.spacingAlongColumn;
        const double cI = dot(stepI, frame.rowLps) / frame.spacingAlongRow,
                     cJ = dot(stepJ, frame.rowLps) / frame.spacingAlongRow;
        const double rI = dot(stepI, frame.columnLps) / frame.spacingAlongColumn,
                     rJ = dot(stepJ, frame.columnLps) / frame.spacingAlongColumn;
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i) {
                const auto column =
                    static_cast<std::int64_t>(std::floor(c0 + cI * double(i) + cJ * double(j) + 0.5));
                const auto row =
                    static_cast<std::int64_t>(std::floor(r0 + rI * double(i) + rJ * double(j) + 0.5));
                if (column < 0 || row < 0 || column >= columns || row >= rows)
                    continue;
                if (pixelSet(f, row, column))
                    mask[static_cast<std::size_t>(i + nx * (j + ny * kk))] = 1;
            }
    }
    if (unknownSegment)
        warn(std::to_string(unknownSegment) + " frames refer to an undefined segment and are skipped");
    if (sourceNotLoaded)
        warn(std::to_string(sourceNotLoaded) +
             " frames were derived from images that are not among the loaded slices");
    if (offGrid)
        warn(std::to_string(offGrid) + " frames lie outside the loaded slices and are skipped");
    if (tilted)
        warn(std::to_string(tilted) + " frames are not parallel to the loaded slices and are skipped");
    if (placed == 0)
        throw Error(ErrorCode::InconsistentGeometry,
                    path + ": none of its " + std::to_string(frames.size()) +
                        " frames lies on a slice of the loaded image (the SEG belongs to another image)");
    reportProgress(progress, 1.0, "placing SEG frames");
    return result;
}

} // namespace np::imaging
