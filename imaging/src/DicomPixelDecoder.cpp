#include "DicomPixelDecoder.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <limits>
#include <vector>

#include "DcmtkAccess.h"
#include "DicomHeader.h"
#include "needleplan/imaging/Error.h"

namespace np::imaging::detail {

namespace {

long readLong(DcmItem* data, const DcmTagKey& tag, long fallback)
{
    Uint16 value = 0;
    if (data->findAndGetUint16(tag, value).good())
        return value;
    Sint32 signedValue = 0;
    if (data->findAndGetSint32(tag, signedValue).good())
        return signedValue;
    return fallback;
}

/// Everything needed to turn one stored value into a float.
struct ValueMapping
{
    int bitsAllocated = 16;
    int bitsStored = 16;
    int shift = 0;
    bool isSigned = false;
    bool monochrome1 = false;
    bool hasPadding = false;
    std::int64_t paddingLow = 0, paddingHigh = 0;
    float paddingReplacement = -1024.0f;
    double slope = 1.0, intercept = 0.0;

    std::int64_t storedValue(std::uint32_t raw) const
    {
        raw >>= shift;
        if (bitsStored < 32)
            raw &= (std::uint32_t{1} << bitsStored) - 1u;
        if (isSigned && bitsStored < 32 && (raw & (std::uint32_t{1} << (bitsStored - 1))))
            return static_cast<std::int64_t>(raw) - (std::int64_t{1} << bitsStored);
        if (isSigned && bitsStored == 32)
            return static_cast<std::int32_t>(raw);
        return raw;
    }
    float value(std::uint32_t raw) const
    {
        const std::int64_t stored = storedValue(raw);
        if (hasPadding && stored >= paddingLow && stored <= paddingHigh)
            return paddingReplacement;
        std::int64_t shown = stored;
        if (monochrome1) {
            // Invert within the stored range so that larger values are brighter, as for MONOCHROME2.
            const std::int64_t low = isSigned ? -(std::int64_t{1} << (bitsStored - 1)) : 0;
            const std::int64_t high = isSigned ? (std::int64_t{1} << (bitsStored - 1)) - 1
                                               : (std::int64_t{1} << std::min(bitsStored, 62)) - 1;
            shown = low + high - stored;
        }
        return static_cast<float>(static_cast<double>(shown) * slope + intercept);
    }
};

bool sameMapping(const ValueMapping& a, const ValueMapping& b)
{
    return a.bitsAllocated == b.bitsAllocated && a.bitsStored == b.bitsStored && a.shift == b.shift &&
           a.isSigned == b.isSigned && a.monochrome1 == b.monochrome1 && a.hasPadding == b.hasPadding &&
           a.paddingLow == b.paddingLow && a.paddingHigh == b.paddingHigh &&
           std::memcmp(&a.paddingReplacement, &b.paddingReplacement, sizeof(float)) == 0 && a.slope == b.slope &&
           a.intercept == b.intercept;
}

/// Lookup table from every raw 8- or 16-bit value to its float, kept per thread and rebuilt only
/// when the mapping changes (the slices of a series nearly always share it).
template <typename Raw>
const std::vector<float>& lookupTable(const ValueMapping& mapping)
{
    constexpr std::size_t tableSize = std::size_t{1} << (8 * sizeof(Raw));
    thread_local std::vector<float> table;
    thread_local ValueMapping tableMapping;
    if (table.size() != tableSize || !sameMapping(tableMapping, mapping)) {
        table.resize(tableSize);
        for (std::size_t raw = 0; raw < tableSize; ++raw)
            table[raw] = mapping.value(static_cast<std::uint32_t>(raw));
        tableMapping = mapping;
    }
    return table;
}

template <typename Raw>
void convertWithTable(const Raw* source, std::size_t count, const ValueMapping& mapping, float* destination,
                      DecodedRange& range)
{
    const float* table = lookupTable<Raw>(mapping).data();
    DecodedRange local = range;
    for (std::size_t n = 0; n < count; ++n) {
        const float value = table[source[n]];
        destination[n] = value;
        local.add(value);
    }
    range = local;
}

/// 16-bit words without grey-scale inversion: the same arithmetic as ValueMapping::value, written
/// branch-free so the compiler vectorises it (the usual CT case). The range is tracked on the
/// stored integers (exact, since the caller only uses this when the float arithmetic is exact and
/// increasing) and turned into values at the end.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
// AVX2 has native 32-bit min/max and twice the lanes; chosen at load time where the CPU has it.
#define NP_CONVERT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NP_CONVERT_CLONES
#endif

template <bool IsSigned>
NP_CONVERT_CLONES void convert16Arithmetic(const std::uint16_t* source, std::size_t count, const ValueMapping& mapping, float* destination,
                         DecodedRange& range)
{
    // Move the high bit to bit 15, then shift back down: masks the unused bits and, for signed
    // pixels, extends the sign.
    const int up = 15 - (mapping.shift + mapping.bitsStored - 1);
    const int down = 16 - mapping.bitsStored;
    const float slope = static_cast<float>(mapping.slope);
    const float intercept = static_cast<float>(mapping.intercept);
    const std::int32_t padding = mapping.hasPadding ? 1 : 0;
    const std::int32_t low = static_cast<std::int32_t>(std::max<std::int64_t>(mapping.paddingLow, -70000));
    const std::int32_t high = static_cast<std::int32_t>(std::min<std::int64_t>(mapping.paddingHigh, 70000));
    const float replacement = mapping.paddingReplacement;
    std::uint32_t replacementBits = 0;
    std::memcpy(&replacementBits, &replacement, sizeof replacementBits);
    std::int32_t storedMinimum = std::numeric_limits<std::int32_t>::max();
    std::int32_t storedMaximum = std::numeric_limits<std::int32_t>::min();
    std::int32_t paddedCount = 0;
    for (std::size_t n = 0; n < count; ++n) {
        const auto aligned = static_cast<std::uint16_t>(source[n] << up);
        std::int32_t stored;
        if constexpr (IsSigned)
            stored = static_cast<std::int16_t>(aligned) >> down;
        else
            stored = aligned >> down;
        const float value = static_cast<float>(stored) * slope + intercept;
        // Selections by bit masks rather than ?: so that GCC sees no control flow and vectorises.
        const std::int32_t padded =
            static_cast<std::int32_t>(stored >= low) & static_cast<std::int32_t>(stored <= high) & padding;
        const std::int32_t mask = -padded; // all ones for padding
        std::uint32_t bits = 0;
        std::memcpy(&bits, &value, sizeof bits);
        bits = (bits & ~static_cast<std::uint32_t>(mask)) | (replacementBits & static_cast<std::uint32_t>(mask));
        std::memcpy(destination + n, &bits, sizeof bits);
        paddedCount += padded;
        storedMinimum = std::min(storedMinimum, (stored & ~mask) | (std::numeric_limits<std::int32_t>::max() & mask));
        storedMaximum = std::max(storedMaximum, (stored & ~mask) | (std::numeric_limits<std::int32_t>::min() & mask));
    }
    if (storedMinimum <= storedMaximum) {
        range.add(static_cast<float>(storedMinimum) * slope + intercept);
        range.add(static_cast<float>(storedMaximum) * slope + intercept);
    }
    if (paddedCount > 0)
        range.add(replacement);
}

/// Converts 16-bit stored values, by arithmetic where it matches the exact value mapping and by
/// the lookup table otherwise.
void convert16(const std::uint16_t* source, std::size_t count, const ValueMapping& mapping, float* destination,
               DecodedRange& range)
{
    // float arithmetic equals the double mapping exactly when values, slope and intercept are
    // small integers (the common CT case: slope 1, integer intercept).
    const bool exactInFloat = mapping.slope == 1.0 && mapping.intercept == std::floor(mapping.intercept) &&
                              std::abs(mapping.intercept) < 1e6;
    if (!mapping.monochrome1 && exactInFloat && mapping.bitsStored >= 2 && mapping.shift >= 0 &&
        mapping.shift + mapping.bitsStored <= 16) {
        if (mapping.isSigned)
            convert16Arithmetic<true>(source, count, mapping, destination, range);
        else
            convert16Arithmetic<false>(source, count, mapping, destination, range);
        return;
    }
    convertWithTable(source, count, mapping, destination, range);
}

/// Converts stored values that were read into the tail of their own destination: `count` raw
/// values of type Raw start at byte (sizeof(float) - sizeof(Raw)) * count of `destination`. Works
/// front to back in blocks copied out first; a block's floats end at or before the first raw value
/// not yet copied, so nothing unread is overwritten.
template <typename Raw>
void convertInPlace(float* destination, std::size_t count, const ValueMapping& mapping, DecodedRange& range)
{
    constexpr std::size_t blockSize = 4096;
    alignas(64) Raw block[blockSize];
    const auto* tail = reinterpret_cast<const unsigned char*>(destination) + (sizeof(float) - sizeof(Raw)) * count;
    for (std::size_t start = 0; start < count; start += blockSize) {
        const std::size_t length = std::min(blockSize, count - start);
        std::memcpy(block, tail + start * sizeof(Raw), length * sizeof(Raw));
        if constexpr (sizeof(Raw) == 1)
            convertWithTable(block, length, mapping, destination + start, range);
        else
            convert16(block, length, mapping, destination + start, range);
    }
}

} // namespace

bool isDecodableTransferSyntax(const std::string& uid)
{
    const DcmXfer xfer(uid.c_str());
    switch (xfer.getXfer()) {
    case EXS_LittleEndianImplicit:
    case EXS_LittleEndianExplicit:
    case EXS_BigEndianExplicit:
    case EXS_DeflatedLittleEndianExplicit:
    case EXS_RLELossless:
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless:
    case EXS_JPEGLSLossy:
        return true;
    default:
        return false;
    }
}

namespace {

/// Closes a POSIX file descriptor when it goes out of scope.
struct FileDescriptor
{
    explicit FileDescriptor(int fd) : descriptor(fd) {}
    ~FileDescriptor()
    {
        if (descriptor >= 0)
            ::close(descriptor);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int descriptor;
};

/// Reads the pixels of a native little-endian file straight from its end, where PixelData is the
/// last element: the 8 (implicit VR) or 12 (explicit VR) bytes before the last N bytes must be the
/// PixelData tag with length N. Returns false when the file is not laid out exactly like that or
/// cannot be read (a destination may then hold some of its bytes); the caller then takes the fully
/// parsed path, which overwrites them. Adds the written values to `range`.
bool decodeNativeDirect(const DecodeRequest& request, DecodedRange& range)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const DicomPixelFormat& format = request.format;
    const bool implicitVr = format.transferSyntaxUid == UID_LittleEndianImplicitTransferSyntax;
    const bool explicitVr = format.transferSyntaxUid == UID_LittleEndianExplicitTransferSyntax;
    if (!(implicitVr || explicitVr) || (format.bitsAllocated != 8 && format.bitsAllocated != 16) ||
        format.bitsStored < 1 || format.bitsStored > format.bitsAllocated || format.highBit < format.bitsStored - 1 ||
        format.highBit >= format.bitsAllocated || format.numberOfFrames < 1 || format.numberOfFrames > 1000000 ||
        request.expectedRows <= 0 ||
        request.expectedColumns <= 0)
        return false;
    const std::uint64_t bytesPerFrame = static_cast<std::uint64_t>(request.expectedRows) *
                                        static_cast<std::uint64_t>(request.expectedColumns) *
                                        static_cast<std::uint64_t>(format.bitsAllocated / 8);
    const std::uint64_t pixelBytes = bytesPerFrame * static_cast<std::uint64_t>(format.numberOfFrames);
    if (pixelBytes % 2 != 0 || pixelBytes > 0xFFFFFFFEull)
        return false;
    for (int frame : request.frameIndices)
        if (frame < 0 || frame >= format.numberOfFrames)
            return false;
    const FileDescriptor file(::open(request.path.c_str(), O_RDONLY | O_CLOEXEC));
    const int descriptor = file.descriptor;
    if (descriptor < 0)
        return false;
    struct stat status {};
    if (::fstat(descriptor, &status) != 0 || status.st_size < 0)
        return false;
    const auto size = static_cast<std::uint64_t>(status.st_size);
    const std::uint64_t headerBytes = explicitVr ? 12 : 8;
    if (size < pixelBytes + headerBytes + 132)
        return false;
    // Reads exactly `length` bytes at `offset`, retrying short reads.
    const auto readAt = [descriptor](void* into, std::uint64_t length, std::uint64_t offset) {
        auto* bytes = static_cast<unsigned char*>(into);
        while (length > 0) {
            const ssize_t got = ::pread(descriptor, bytes, static_cast<std::size_t>(length), static_cast<off_t>(offset));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0)
                return false;
            bytes += got;
            length -= static_cast<std::uint64_t>(got);
            offset += static_cast<std::uint64_t>(got);
        }
        return true;
    };
    const std::uint64_t pixelOffset = size - pixelBytes;
    unsigned char element[12] = {};
    if (!readAt(element, headerBytes, pixelOffset - headerBytes))
        return false;
    static const unsigned char pixelDataTag[4] = {0xE0, 0x7F, 0x10, 0x00};
    if (std::memcmp(element, pixelDataTag, 4) != 0)
        return false;
    std::uint32_t length = 0;
    if (explicitVr) {
        const bool otherWord = element[4] == 'O' && element[5] == 'W';
        const bool otherByte = element[4] == 'O' && element[5] == 'B';
        if (!(otherWord || otherByte) || element[6] != 0 || element[7] != 0)
            return false;
        std::memcpy(&length, element + 8, 4);
    } else {
        std::memcpy(&length, element + 4, 4);
    }
    if (length != pixelBytes)
        return false;

    ValueMapping mapping;
    mapping.bitsAllocated = format.bitsAllocated;
    mapping.bitsStored = format.bitsStored;
    mapping.shift = format.highBit + 1 - format.bitsStored;
    mapping.isSigned = format.isSigned;
    mapping.monochrome1 = format.monochrome1;
    mapping.paddingReplacement = request.paddingReplacement;
    if (format.hasPadding) {
        mapping.hasPadding = true;
        mapping.paddingLow = mapping.paddingHigh = format.paddingValue;
        if (format.hasPaddingLimit) {
            mapping.paddingLow = std::min<std::int64_t>(format.paddingValue, format.paddingLimit);
            mapping.paddingHigh = std::max<std::int64_t>(format.paddingValue, format.paddingLimit);
        }
    }
    const std::size_t pixelsPerFrame = static_cast<std::size_t>(request.expectedRows) * static_cast<std::size_t>(request.expectedColumns);

    if (format.numberOfFrames == 1 && request.frameIndices.size() == 1) {
        // One frame: read its stored values straight into the tail of its float destination and
        // widen them in place (no staging copy; the destination's pages are first touched here).
        float* destination = request.destinations.front();
        const std::size_t rawSize = static_cast<std::size_t>(format.bitsAllocated / 8);
        auto* tail = reinterpret_cast<unsigned char*>(destination) + (sizeof(float) - rawSize) * pixelsPerFrame;
        if (!readAt(tail, pixelBytes, pixelOffset))
            return false;
        mapping.slope = request.rescaleSlopes.front();
        mapping.intercept = request.rescaleIntercepts.front();
        if (format.bitsAllocated == 8)
            convertInPlace<std::uint8_t>(destination, pixelsPerFrame, mapping, range);
        else
            convertInPlace<std::uint16_t>(destination, pixelsPerFrame, mapping, range);
        return true;
    }

    // Several frames: 16-bit words as storage; 8-bit pixels are read through its bytes.
    thread_local std::vector<std::uint16_t> buffer;
    buffer.resize(static_cast<std::size_t>(pixelBytes / 2));
    auto* bytes = reinterpret_cast<unsigned char*>(buffer.data());
    if (!readAt(bytes, pixelBytes, pixelOffset))
        return false;
    for (std::size_t n = 0; n < request.frameIndices.size(); ++n) {
        mapping.slope = request.rescaleSlopes[n];
        mapping.intercept = request.rescaleIntercepts[n];
        const std::size_t frame = static_cast<std::size_t>(request.frameIndices[n]);
        if (format.bitsAllocated == 8)
            convertWithTable(bytes + frame * pixelsPerFrame, pixelsPerFrame, mapping, request.destinations[n], range);
        else
            convert16(buffer.data() + frame * pixelsPerFrame, pixelsPerFrame, mapping, request.destinations[n], range);
    }
    return true;
#else
    (void)request;
    (void)range;
    return false;
#endif
}

} // namespace

DecodedRange decodeDicomFrames(const DecodeRequest& request)
{
    registerDicomCodecs();
    DecodedRange range;
    if (decodeNativeDirect(request, range))
        return range;
    range = DecodedRange{};
    const std::string& path = request.path;
    DcmFileFormat file;
    const OFCondition status = loadDicomFile(file, path);
    if (status.bad())
        throw Error(ErrorCode::CorruptData, path + ": cannot read the file (" + std::string(status.text()) +
                                                "); it may be truncated");
    DcmDataset* data = file.getDataset();
    const E_TransferSyntax original = data->getOriginalXfer();
    const DcmXfer xfer(original);
    if (!isDecodableTransferSyntax(xfer.getXferID()))
        throw Error(ErrorCode::UnsupportedTransferSyntax,
                    path + ": unsupported transfer syntax " + std::string(xfer.getXferName()));
    if (!data->tagExists(DCM_PixelData)) {
        if (data->tagExists(DCM_FloatPixelData) || data->tagExists(DCM_DoubleFloatPixelData))
            throw Error(ErrorCode::Unsupported, path + ": floating-point pixel data (parametric map) is not supported");
        throw Error(ErrorCode::CorruptData, path + ": missing PixelData");
    }
    if (xfer.isEncapsulated()) {
        const OFCondition decoded = data->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (decoded.bad() || !data->canWriteXfer(EXS_LittleEndianExplicit))
            throw Error(ErrorCode::UnsupportedTransferSyntax,
                        path + ": unsupported transfer syntax " + std::string(xfer.getXferName()) +
                            " (decoding failed: " + decoded.text() + ")");
    }
    const long rows = readLong(data, DCM_Rows, 0);
    const long columns = readLong(data, DCM_Columns, 0);
    const long bitsAllocated = readLong(data, DCM_BitsAllocated, 0);
    const long bitsStored = readLong(data, DCM_BitsStored, bitsAllocated);
    const long highBit = readLong(data, DCM_HighBit, bitsStored - 1);
    const long samples = readLong(data, DCM_SamplesPerPixel, 1);
    const long pixelRepresentation = readLong(data, DCM_PixelRepresentation, 0);
    Sint32 frameCount = 1;
    if (data->findAndGetSint32(DCM_NumberOfFrames, frameCount).bad() || frameCount < 1)
        frameCount = 1;
    if (rows != request.expectedRows || columns != request.expectedColumns)
        throw Error(ErrorCode::CorruptData, path + ": image size changed between header scan and decoding");
    if (samples != 1)
        throw Error(ErrorCode::Unsupported, path + ": colour images (SamplesPerPixel " + std::to_string(samples) +
                                                ") cannot be loaded as a volume");
    if (bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32)
        throw Error(ErrorCode::Unsupported, path + ": BitsAllocated " + std::to_string(bitsAllocated) +
                                                " is not supported (8, 16 or 32)");
    if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated)
        throw Error(ErrorCode::CorruptData, path + ": inconsistent BitsStored " + std::to_string(bitsStored) +
                                                " / HighBit " + std::to_string(highBit) + " / BitsAllocated " +
                                                std::to_string(bitsAllocated));
    DcmElement* pixelElement = nullptr;
    if (data->findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement)
        throw Error(ErrorCode::CorruptData, path + ": missing PixelData");

    const std::size_t pixelsPerFrame = static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns);
    const std::size_t bytesPerFrame = pixelsPerFrame * static_cast<std::size_t>(bitsAllocated / 8);
    const std::size_t available = pixelElement->getLength();
    for (int frame : request.frameIndices)
        if (frame < 0 || frame >= frameCount || (static_cast<std::size_t>(frame) + 1) * bytesPerFrame > available)
            throw Error(ErrorCode::CorruptData,
                        path + ": PixelData holds " + std::to_string(available) + " bytes, too few for frame " +
                            std::to_string(frame + 1) + " of " + std::to_string(frameCount) + " (" +
                            std::to_string(bytesPerFrame) + " bytes each)");

    ValueMapping mapping;
    mapping.bitsAllocated = static_cast<int>(bitsAllocated);
    mapping.bitsStored = static_cast<int>(bitsStored);
    mapping.shift = static_cast<int>(highBit + 1 - bitsStored);
    mapping.isSigned = pixelRepresentation == 1;
    OFString photometric;
    data->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    mapping.monochrome1 = photometric == "MONOCHROME1";
    mapping.paddingReplacement = request.paddingReplacement;
    {
        DcmElement* padding = nullptr;
        auto readPadding = [&](const DcmTagKey& tag, std::int64_t& value) {
            if (data->findAndGetElement(tag, padding).bad() || !padding || padding->getVM() == 0)
                return false;
            if (padding->ident() == EVR_SS) {
                Sint16 v = 0;
                padding->getSint16(v);
                value = v;
            } else if (padding->ident() == EVR_US) {
                Uint16 v = 0;
                padding->getUint16(v);
                value = (mapping.isSigned && bitsAllocated == 16) ? static_cast<Sint16>(v) : v;
            } else {
                Sint32 v = 0;
                if (data->findAndGetSint32(tag, v).bad())
                    return false;
                value = v;
            }
            return true;
        };
        std::int64_t value = 0, limit = 0;
        if (readPadding(DCM_PixelPaddingValue, value)) {
            mapping.hasPadding = true;
            mapping.paddingLow = mapping.paddingHigh = value;
            if (readPadding(DCM_PixelPaddingRangeLimit, limit)) {
                mapping.paddingLow = std::min(value, limit);
                mapping.paddingHigh = std::max(value, limit);
            }
        }
    }

    const void* raw = nullptr;
    OFCondition access;
    if (bitsAllocated == 8) {
        Uint8* bytes = nullptr;
        access = pixelElement->getUint8Array(bytes);
        raw = bytes;
    } else {
        Uint16* words = nullptr;
        access = pixelElement->getUint16Array(words);
        raw = words;
    }
    if (access.bad() || !raw)
        throw Error(ErrorCode::CorruptData, path + ": PixelData cannot be read (" + std::string(access.text()) + ")");

    for (std::size_t n = 0; n < request.frameIndices.size(); ++n) {
        mapping.slope = request.rescaleSlopes[n];
        mapping.intercept = request.rescaleIntercepts[n];
        const std::size_t frame = static_cast<std::size_t>(request.frameIndices[n]);
        float* destination = request.destinations[n];
        if (bitsAllocated == 8) {
            convertWithTable(static_cast<const std::uint8_t*>(raw) + frame * pixelsPerFrame, pixelsPerFrame, mapping,
                             destination, range);
        } else if (bitsAllocated == 16) {
            convert16(static_cast<const std::uint16_t*>(raw) + frame * pixelsPerFrame, pixelsPerFrame,
                             mapping, destination, range);
        } else {
            // 32-bit words arrive as pairs of 16-bit words in host order (little-endian host).
            const auto* bytes = static_cast<const std::uint8_t*>(raw) + frame * bytesPerFrame;
            for (std::size_t p = 0; p < pixelsPerFrame; ++p) {
                std::uint32_t value = 0;
                std::memcpy(&value, bytes + 4 * p, 4);
                destination[p] = mapping.value(value);
                range.add(destination[p]);
            }
        }
    }
    return range;
}

} // namespace np::imaging::detail
