// A walk over a DICOM file's bytes that measures how deeply its sequence items nest, before DCMTK
// parses it. DCMTK 3.6.7 reads nested sequences recursively and has no depth limit, so a file with
// thousands of nested items exhausts the stack; this walk is iterative and refuses such files.

#include "DcmtkAccess.h"
#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include <zlib.h>

namespace np::imaging::detail {

namespace {

constexpr std::uint32_t kUndefinedLength = 0xFFFFFFFFu;
constexpr std::uint64_t kNoEnd = ~std::uint64_t{0};

/// Sequential bytes with skipping; position() counts bytes of the (inflated) stream.
class ByteSource
{
public:
    virtual ~ByteSource() = default;
    /// Reads exactly n bytes; false at the end of the data.
    virtual bool read(unsigned char* into, std::size_t n) = 0;
    /// Skips n bytes; false when the data ends first.
    virtual bool skip(std::uint64_t n) = 0;
    virtual std::uint64_t position() const = 0;
};

class FileSource : public ByteSource
{
public:
    explicit FileSource(std::FILE* file) : m_file(file) {}
    bool read(unsigned char* into, std::size_t n) override
    {
        const std::size_t got = std::fread(into, 1, n, m_file);
        m_position += got;
        return got == n;
    }
    bool skip(std::uint64_t n) override
    {
        if (n > static_cast<std::uint64_t>(INT64_MAX) ||
            ::fseeko(m_file, static_cast<off_t>(n), SEEK_CUR) != 0)
            return false;
        m_position += n;
        return m_position <= m_size;
    }
    std::uint64_t position() const override { return m_position; }
    void setSize(std::uint64_t size) { m_size = size; }
    void setPosition(std::uint64_t position) { m_position = position; }

private:
    std::FILE* m_file;
    std::uint64_t m_position = 0;
    std::uint64_t m_size = kNoEnd;
};

/// Raw deflate (the Deflated Explicit VR Little Endian transfer syntax), inflated as it is walked.
/// Stops after `limit` inflated bytes, so a decompression bomb costs bounded time.
class InflateSource : public ByteSource
{
public:
    InflateSource(std::FILE* file, std::uint64_t limit) : m_file(file), m_limit(limit)
    {
        m_ok = inflateInit2(&m_stream, -MAX_WBITS) == Z_OK;
    }
    ~InflateSource() override
    {
        if (m_ok)
            inflateEnd(&m_stream);
    }
    InflateSource(const InflateSource&) = delete;
    InflateSource& operator=(const InflateSource&) = delete;

    bool read(unsigned char* into, std::size_t n) override
    {
        while (n > 0) {
            if (m_outStart == m_outEnd && !refill())
                return false;
            const std::size_t take = std::min<std::size_t>(n, m_outEnd - m_outStart);
            std::memcpy(into, m_out + m_outStart, take);
            m_outStart += take;
            into += take;
            n -= take;
            m_position += take;
        }
        return true;
    }
    bool skip(std::uint64_t n) override
    {
        while (n > 0) {
            if (m_outStart == m_outEnd && !refill())
                return false;
            const std::size_t take =
                static_cast<std::size_t>(std::min<std::uint64_t>(n, m_outEnd - m_outStart));
            m_outStart += take;
            n -= take;
            m_position += take;
        }
        return true;
    }
    std::uint64_t position() const override { return m_position; }
    bool limitReached() const { return m_limitReached; }

private:
    bool refill()
    {
        if (!m_ok || m_finished)
            return false;
        if (m_produced >= m_limit) {
            m_limitReached = true;
            return false;
        }
        m_stream.next_out = m_out;
        m_stream.avail_out = sizeof m_out;
        while (m_stream.avail_out == sizeof m_out) {
            if (m_stream.avail_in == 0) {
                const std::size_t got = std::fread(m_in, 1, sizeof m_in, m_file);
                if (got == 0)
                    return false;
                m_stream.next_in = m_in;
                m_stream.avail_in = static_cast<uInt>(got);
            }
            const int status = inflate(&m_stream, Z_NO_FLUSH);
            if (status == Z_STREAM_END) {
                m_finished = true;
                break;
            }
            if (status != Z_OK)
                return false;
        }
        m_outStart = 0;
        m_outEnd = sizeof m_out - m_stream.avail_out;
        m_produced += m_outEnd;
        return m_outEnd > 0;
    }

    std::FILE* m_file;
    std::uint64_t m_limit;
    z_stream m_stream{};
    bool m_ok = false;
    bool m_finished = false;
    bool m_limitReached = false;
    unsigned char m_in[16384];
    unsigned char m_out[16384];
    std::size_t m_outStart = 0, m_outEnd = 0;
    std::uint64_t m_produced = 0;
    std::uint64_t m_position = 0;
};

enum class Encoding
{
    ExplicitLittle,
    ImplicitLittle,
    ExplicitBig,
};

/// One open container while walking: the dataset, a sequence or an item.
struct Frame
{
    enum Kind
    {
        Dataset,
        Sequence,      ///< holds items
        Item,          ///< holds elements
        PixelSequence, ///< encapsulated pixel data: holds fragments, never nested
    } kind;
    std::uint64_t end; ///< stream position where it ends (kNoEnd: until its delimiter or the data ends)
    Encoding encoding; ///< UN sequences switch to implicit little endian inside
};

bool isExtendedVr(const char vr[2])
{
    static const char* const extended[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ",
                                           "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* candidate : extended)
        if (vr[0] == candidate[0] && vr[1] == candidate[1])
            return true;
    return false;
}

bool isStandardVr(const char vr[2])
{
    static const char* const standard[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO",
                                           "LT", "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"};
    if (isExtendedVr(vr))
        return true;
    for (const char* candidate : standard)
        if (vr[0] == candidate[0] && vr[1] == candidate[1])
            return true;
    return false;
}

/// Outcome of the walk.
struct Walk
{
    int deepest = 0;
    bool tooDeep = false;
    std::uint64_t tooDeepAt = 0;
    bool confused = false; ///< stopped at bytes it could not follow; the rest was not walked
    std::uint64_t confusedAt = 0;
    int depthWhenConfused = 0;
};

class Walker
{
public:
    Walker(ByteSource& source, Encoding encoding, int maxDepth, bool stopAtPixelData)
        : m_source(source), m_maxDepth(maxDepth), m_stopAtPixelData(stopAtPixelData)
    {
        m_stack.push_back({Frame::Dataset, kNoEnd, encoding});
    }

    Walk run()
    {
        while (!m_stack.empty()) {
            if (!step())
                break;
        }
        return m_walk;
    }

private:
    std::uint16_t u16(const unsigned char* b, bool big) const
    {
        return big ? static_cast<std::uint16_t>(b[0] << 8 | b[1])
                   : static_cast<std::uint16_t>(b[1] << 8 | b[0]);
    }
    std::uint32_t u32(const unsigned char* b, bool big) const
    {
        return big ? (std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3])
                   : (std::uint32_t{b[3]} << 24 | std::uint32_t{b[2]} << 16 | std::uint32_t{b[1]} << 8 |
                      b[0]);
    }

    int itemDepth() const
    {
        int depth = 0;
        for (const Frame& frame : m_stack)
            depth += frame.kind == Frame::Item ? 1 : 0;
        return depth;
    }

    bool confused()
    {
        m_walk.confused = true;
        m_walk.confusedAt = m_source.position();
        m_walk.depthWhenConfused = itemDepth();
        return false;
    }

    /// Opens a container; false (and a verdict) when that makes the items nest too deeply.
    bool push(Frame frame)
    {
        m_stack.push_back(frame);
        if (frame.kind == Frame::Item) {
            const int depth = itemDepth();
            m_walk.deepest = std::max(m_walk.deepest, depth);
            if (depth > m_maxDepth) {
                m_walk.tooDeep = true;
                m_walk.tooDeepAt = m_source.position();
                return false;
            }
        }
        return true;
    }

    /// Closes containers whose defined length has been consumed.
    void closeFinished()
    {
        while (m_stack.size() > 1 && m_stack.back().end != kNoEnd &&
               m_source.position() >= m_stack.back().end)
            m_stack.pop_back();
    }

    /// Walks one tag; false when the walk is over (end of data, verdict or confusion).
    bool step()
    {
        closeFinished();
        Frame& top = m_stack.back();
        const bool big = top.encoding == Encoding::ExplicitBig;
        unsigned char tagBytes[8];
        if (!m_source.read(tagBytes, 4))
            return false; // end of the data
        const std::uint16_t group = u16(tagBytes, big);
        const std::uint16_t element = u16(tagBytes + 2, big);
        if (group == 0xFFFE) {
            // Item, item delimiter or sequence delimiter: always a 4-byte length, no VR.
            if (!m_source.read(tagBytes + 4, 4))
                return false;
            const std::uint32_t length = u32(tagBytes + 4, big);
            if (element == 0xE000) {
                if (top.kind == Frame::PixelSequence) {
                    if (length == kUndefinedLength)
                        return confused();
                    return m_source.skip(length) || confused();
                }
                if (top.kind != Frame::Sequence)
                    return confused();
                const std::uint64_t end = length == kUndefinedLength ? kNoEnd : m_source.position() + length;
                return push({Frame::Item, end, top.encoding});
            }
            if (element == 0xE00D) { // item delimiter
                if (top.kind == Frame::Item)
                    m_stack.pop_back();
                return true;
            }
            if (element == 0xE0DD) { // sequence delimiter
                if (top.kind == Frame::Sequence || top.kind == Frame::PixelSequence)
                    m_stack.pop_back();
                else if (top.kind == Frame::Item && m_stack.size() > 2) {
                    // An item left open by its sequence's delimiter: close both.
                    m_stack.pop_back();
                    m_stack.pop_back();
                }
                return true;
            }
            return m_source.skip(length == kUndefinedLength ? 0 : length) || confused();
        }
        if (top.kind == Frame::Sequence || top.kind == Frame::PixelSequence)
            return confused(); // only items belong in a sequence

        // A data element.
        std::uint32_t length = 0;
        bool sequenceVr = false;
        bool unknownVr = false;
        if (top.encoding == Encoding::ImplicitLittle) {
            if (!m_source.read(tagBytes + 4, 4))
                return false;
            length = u32(tagBytes + 4, false);
        } else {
            char vr[2];
            if (!m_source.read(reinterpret_cast<unsigned char*>(vr), 2))
                return false;
            sequenceVr = vr[0] == 'S' && vr[1] == 'Q';
            unknownVr = vr[0] == 'U' && vr[1] == 'N';
            if (isExtendedVr(vr) || !isStandardVr(vr)) {
                unsigned char rest[6];
                if (!m_source.read(rest, 6))
                    return false;
                length = u32(rest + 2, big);
            } else {
                unsigned char rest[2];
                if (!m_source.read(rest, 2))
                    return false;
                length = u16(rest, big);
            }
        }
        const bool pixelData =
            group == 0x7FE0 && (element == 0x0010 || element == 0x0008 || element == 0x0009);
        if (pixelData && m_stopAtPixelData && m_stack.size() == 1)
            return false; // the header ends here
        const Encoding inner = unknownVr ? Encoding::ImplicitLittle : top.encoding;
        if (length == kUndefinedLength) {
            if (pixelData && !sequenceVr)
                return push({Frame::PixelSequence, kNoEnd, top.encoding});
            // SQ, UN (read as an implicit little-endian sequence) and anything else of undefined
            // length (DCMTK reads those as sequences too).
            return push({Frame::Sequence, kNoEnd, inner});
        }
        const std::uint64_t end = m_source.position() + length;
        if (m_stack.back().end != kNoEnd && end > m_stack.back().end)
            return confused();
        if (sequenceVr)
            return length == 0 || push({Frame::Sequence, end, inner});
        if (length >= 8 && !pixelData) {
            // A value that starts with an item tag may be read as a sequence (implicit VR with a
            // dictionary SQ, UN holding a sequence): walk it as one.
            unsigned char first[4];
            if (!m_source.read(first, 4))
                return false;
            const Encoding peek = (unknownVr || top.encoding == Encoding::ImplicitLittle)
                                      ? Encoding::ImplicitLittle
                                      : top.encoding;
            const bool bigPeek = peek == Encoding::ExplicitBig;
            if (u16(first, bigPeek) == 0xFFFE && u16(first + 2, bigPeek) == 0xE000) {
                m_stack.push_back({Frame::Sequence, end, peek});
                // The item tag is already consumed: open the item here.
                unsigned char itemLength[4];
                if (!m_source.read(itemLength, 4))
                    return false;
                const std::uint32_t itemBytes = u32(itemLength, bigPeek);
                return push({Frame::Item,
                             itemBytes == kUndefinedLength ? kNoEnd : m_source.position() + itemBytes, peek});
            }
            return m_source.skip(length - 4) || confused();
        }
        return m_source.skip(length) || confused();
    }

    ByteSource& m_source;
    int m_maxDepth;
    bool m_stopAtPixelData;
    std::vector<Frame> m_stack;
    Walk m_walk;
};

struct FileCloser
{
    void operator()(std::FILE* file) const { std::fclose(file); }
};

/// Counts item tags (both byte orders) in the rest of the file: an upper bound on how deeply
/// anything there can nest, whatever a parser makes of the bytes.
std::uint64_t countItemTags(std::FILE* file, std::uint64_t limit)
{
    // Bytes beyond 256 MiB are not counted: such a file is not a header anyone nests in by accident,
    // and counting must stay cheap for large non-DICOM files in a folder.
    std::uint64_t budget = std::uint64_t{256} << 20;
    std::uint64_t count = 0;
    unsigned char buffer[65536 + 3];
    std::size_t carried = 0;
    for (;;) {
        const std::size_t got = std::fread(buffer + carried, 1, sizeof buffer - carried, file);
        if (got == 0 || budget < got)
            break;
        budget -= got;
        const std::size_t size = carried + got;
        for (std::size_t n = 0; n + 3 < size; ++n) {
            const unsigned char* b = buffer + n;
            if ((b[0] == 0xFE && b[1] == 0xFF && b[2] == 0x00 && b[3] == 0xE0) ||
                (b[0] == 0xFF && b[1] == 0xFE && b[2] == 0xE0 && b[3] == 0x00))
                if (++count > limit)
                    return count;
        }
        carried = std::min<std::size_t>(3, size);
        std::memmove(buffer, buffer + size - carried, carried);
    }
    return count;
}

} // namespace

void checkDicomNesting(const std::string& path, bool stopAtPixelData, int maxDepth)
{
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file)
        return; // the parser reports the unreadable file itself
    std::uint64_t size = kNoEnd;
    if (::fseeko(file.get(), 0, SEEK_END) == 0) {
        const off_t end = ::ftello(file.get());
        if (end >= 0)
            size = static_cast<std::uint64_t>(end);
    }
    std::rewind(file.get());

    FileSource source(file.get());
    source.setSize(size);
    unsigned char preamble[132];
    std::uint64_t start = 0;
    if (std::fread(preamble, 1, sizeof preamble, file.get()) == sizeof preamble &&
        std::memcmp(preamble + 128, "DICM", 4) == 0)
        start = 132;
    if (::fseeko(file.get(), static_cast<off_t>(start), SEEK_SET) != 0)
        return;
    source.setPosition(start);

    // File meta information: group 0002, explicit VR little endian; its TransferSyntaxUID says how
    // the dataset is encoded.
    std::string transferSyntax;
    bool sawMeta = false;
    for (;;) {
        unsigned char head[8];
        const std::uint64_t at = source.position();
        if (!source.read(head, 8))
            break;
        const std::uint16_t group = static_cast<std::uint16_t>(head[1] << 8 | head[0]);
        const char vr[2] = {static_cast<char>(head[4]), static_cast<char>(head[5])};
        if (group != 0x0002 || !isStandardVr(vr)) {
            ::fseeko(file.get(), static_cast<off_t>(at), SEEK_SET);
            source.setPosition(at);
            break;
        }
        sawMeta = true;
        const std::uint16_t element = static_cast<std::uint16_t>(head[3] << 8 | head[2]);
        std::uint32_t length = static_cast<std::uint16_t>(head[7] << 8 | head[6]);
        if (isExtendedVr(vr)) {
            unsigned char extended[4];
            if (!source.read(extended, 4))
                return;
            length = std::uint32_t{extended[3]} << 24 | std::uint32_t{extended[2]} << 16 |
                     std::uint32_t{extended[1]} << 8 | extended[0];
            if (length == kUndefinedLength)
                break; // not a meta header DCMTK would accept either
        }
        if (element == 0x0010 && length < 256) {
            std::string uid(length, '\0');
            if (!source.read(reinterpret_cast<unsigned char*>(uid.data()), length))
                return;
            while (!uid.empty() && (uid.back() == '\0' || uid.back() == ' '))
                uid.pop_back();
            transferSyntax = uid;
        } else if (!source.skip(length)) {
            return;
        }
    }

    Encoding encoding = Encoding::ExplicitLittle;
    bool deflated = false;
    if (transferSyntax == "1.2.840.10008.1.2")
        encoding = Encoding::ImplicitLittle;
    else if (transferSyntax == "1.2.840.10008.1.2.2")
        encoding = Encoding::ExplicitBig;
    else if (transferSyntax == "1.2.840.10008.1.2.1.99")
        deflated = true;
    else if (!sawMeta || transferSyntax.empty()) {
        // No meta header: guess as DCMTK does, from the first element (a VR of two capital
        // letters means explicit VR; a group that reads small in big-endian order means big endian).
        unsigned char first[6];
        const std::uint64_t at = source.position();
        if (source.read(first, 6)) {
            const bool explicitVr = first[4] >= 'A' && first[4] <= 'Z' && first[5] >= 'A' && first[5] <= 'Z';
            const std::uint16_t little = static_cast<std::uint16_t>(first[1] << 8 | first[0]);
            const std::uint16_t bigOrder = static_cast<std::uint16_t>(first[0] << 8 | first[1]);
            if (!explicitVr)
                encoding = Encoding::ImplicitLittle;
            else if (bigOrder < little && bigOrder <= 0x0008)
                encoding = Encoding::ExplicitBig;
        }
        ::fseeko(file.get(), static_cast<off_t>(at), SEEK_SET);
        source.setPosition(at);
    }

    Walk walk;
    if (deflated) {
        // Inflated data beyond 1 GiB is not walked; the limit keeps a decompression bomb cheap.
        InflateSource inflated(file.get(), std::uint64_t{1} << 30);
        walk = Walker(inflated, Encoding::ExplicitLittle, maxDepth, stopAtPixelData).run();
        if (inflated.limitReached())
            throw Error(ErrorCode::TooLarge, path + ": the deflated dataset inflates to more than 1 GiB");
    } else {
        walk = Walker(source, encoding, maxDepth, stopAtPixelData).run();
    }
    if (walk.tooDeep)
        throw Error(ErrorCode::CorruptData, path + ": sequence items nested more than " +
                                                std::to_string(maxDepth) + " levels deep (at byte " +
                                                std::to_string(walk.tooDeepAt) + "); the file is not read");
    if (walk.confused && !deflated) {
        // The walk could not follow the bytes after confusedAt; DCMTK may still read on. Whatever
        // it makes of them, items cannot nest deeper than there are item tags.
        if (::fseeko(file.get(), static_cast<off_t>(walk.confusedAt), SEEK_SET) == 0) {
            const std::uint64_t remaining = countItemTags(file.get(), static_cast<std::uint64_t>(maxDepth));
            if (static_cast<std::uint64_t>(walk.depthWhenConfused) + remaining >
                static_cast<std::uint64_t>(maxDepth))
                throw Error(ErrorCode::CorruptData,
                            path + ": malformed sequence structure at byte " +
                                std::to_string(walk.confusedAt) + " followed by " +
                                std::to_string(remaining) +
                                "+ item tags that could nest too deeply; the file is not read");
        }
    }
}

} // namespace np::imaging::detail
