// Checks of NRRD, NIfTI and MetaImage headers made before ITK reads the file: sizes against a
// memory cap, the encoding, and token and line lengths that ITK 5.2's readers copy into fixed-size
// buffers (NrrdIO's ASCII reader scans each number into a 1 KiB stack buffer without a bound).

#include "ImageHeaderCheck.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <zlib.h>

namespace fs = std::filesystem;

namespace np::imaging::detail {

namespace {

constexpr std::size_t kMaxHeaderBytes = std::size_t{4} << 20; ///< NRRD / MetaImage text header
constexpr std::size_t kMaxLineBytes = std::size_t{64} << 10;
constexpr std::size_t kMaxAsciiToken = 256; ///< a number is never longer; NrrdIO overflows past 1024
constexpr std::size_t kMaxMetaValue = 250;  ///< MetaIO keeps field values in 255-element arrays
/// NrrdIO formats its parse errors, which quote the offending line, into a 1 KiB stack buffer
/// (biffMsgAddVL, no bound): a field line must stay well below that.
constexpr std::size_t kMaxNrrdFieldLine = 480;

/// The field names NrrdIO recognises (it compares them without regard to case; most have a
/// spelling without blanks too). Any other "name: value" line is refused by NrrdIO with a message
/// quoting the whole line.
/// `text` with every byte that is not printable ASCII shown as '?', for quoting it in a message.
std::string printable(std::string text)
{
    for (char& c : text)
        if (!std::isprint(static_cast<unsigned char>(c)))
            c = '?';
    return text;
}

bool isNrrdField(const std::string& name)
{
    static const char* const known[] = {
        "content", "number", "type", "block size", "blocksize", "dimension", "space", "space dimension",
        "spacedimension", "sizes", "spacings", "thicknesses", "axis mins", "axismins", "axis maxs",
        "axismaxs", "space directions", "spacedirections", "centers", "centerings", "kinds", "labels",
        "units", "min", "max", "old min", "oldmin", "old max", "oldmax", "endian", "encoding", "line skip",
        "lineskip", "byte skip", "byteskip", "sample units", "sampleunits", "space units", "spaceunits",
        "space origin", "spaceorigin", "measurement frame", "measurementframe", "data file", "datafile"};
    for (const char* field : known)
        if (name == field)
            return true;
    return false;
}

std::string lower(std::string text)
{
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

bool endsWith(const std::string& text, const std::string& suffix)
{
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trim(const std::string& text)
{
    const char* blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::string mib(std::uint64_t bytes)
{
    return std::to_string(bytes >> 20) + " MiB";
}

/// Product of sizes times bytes per element, refusing overflow and the cap.
std::uint64_t checkedBytes(const std::string& path, const std::vector<std::uint64_t>& sizes,
                           std::uint64_t elementBytes, std::uint64_t maxBytes)
{
    std::string shown;
    for (std::uint64_t size : sizes)
        shown += (shown.empty() ? "" : "x") + std::to_string(size);
    std::uint64_t total = elementBytes;
    for (std::uint64_t size : sizes) {
        if (size == 0)
            throw Error(ErrorCode::CorruptData, path + ": an image size of 0 (" + shown + ")");
        if (total > maxBytes / size) {
            total = maxBytes + 1;
            break;
        }
        total *= size;
    }
    if (total > maxBytes)
        throw Error(ErrorCode::TooLarge, path + ": the header asks for a " + shown + " image of " +
                                             std::to_string(elementBytes) +
                                             "-byte values, more than the cap of " + mib(maxBytes));
    return total;
}

/// Parses a whole non-negative decimal number (no sign, no fraction).
bool parseCount(const std::string& text, std::uint64_t& value)
{
    if (text.empty() || text.size() > 19)
        return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

std::vector<std::string> words(const std::string& text)
{
    std::vector<std::string> result;
    std::istringstream stream(text);
    std::string word;
    while (stream >> word)
        result.push_back(word);
    return result;
}

/// Reads a text header: lines up to the first empty line (NRRD) or the whole key list (MetaImage).
/// Returns the header lines and the byte offset just after the header.
struct TextHeader
{
    std::vector<std::string> lines;
    std::uint64_t dataOffset = 0;
    bool endedByBlankLine = false;
};

TextHeader readTextHeader(const std::string& path, bool stopAtBlankLine, const char* metaEndKey)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::NotFound, path + ": cannot open the file");
    TextHeader header;
    std::string line;
    std::uint64_t offset = 0;
    char c = 0;
    while (in.get(c)) {
        ++offset;
        if (offset > kMaxHeaderBytes)
            throw Error(ErrorCode::CorruptData, path + ": the header is longer than " + mib(kMaxHeaderBytes) +
                                                    " (no end of header found)");
        if (c != '\n') {
            if (line.size() >= kMaxLineBytes)
                throw Error(ErrorCode::CorruptData,
                            path + ": header line " + std::to_string(header.lines.size() + 1) +
                                " is longer than " + std::to_string(kMaxLineBytes) + " bytes");
            line.push_back(c);
            continue;
        }
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (stopAtBlankLine && line.empty()) {
            header.endedByBlankLine = true;
            break;
        }
        header.lines.push_back(line);
        if (metaEndKey) {
            const auto equals = line.find('=');
            if (equals != std::string::npos && lower(trim(line.substr(0, equals))) == metaEndKey)
                break;
        }
        line.clear();
    }
    if (!line.empty() && !header.endedByBlankLine && (header.lines.empty() || header.lines.back() != line))
        header.lines.push_back(line);
    header.dataOffset = offset;
    return header;
}

/// Every whitespace-separated token of `file` from `offset` on must be shorter than kMaxAsciiToken.
void checkAsciiTokens(const std::string& path, const std::string& file, std::uint64_t offset)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return; // the reader reports a missing data file itself
    in.seekg(static_cast<std::streamoff>(offset));
    std::size_t token = 0;
    std::uint64_t position = offset;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        const std::streamsize got = in.gcount();
        for (std::streamsize n = 0; n < got; ++n, ++position) {
            const unsigned char c = static_cast<unsigned char>(buffer[n]);
            if (std::isspace(c) || c == ',') {
                token = 0;
            } else if (++token > kMaxAsciiToken) {
                throw Error(ErrorCode::CorruptData, path + ": ASCII-encoded data holds a token longer than " +
                                                        std::to_string(kMaxAsciiToken) +
                                                        " characters (at byte " + std::to_string(position) +
                                                        " of " + fs::path(file).filename().string() +
                                                        "); not a number");
            }
        }
    }
}

std::uint64_t nrrdTypeBytes(const std::string& type)
{
    static const std::map<std::string, std::uint64_t> types = {{"signed char", 1},
                                                               {"int8", 1},
                                                               {"int8_t", 1},
                                                               {"uchar", 1},
                                                               {"unsigned char", 1},
                                                               {"uint8", 1},
                                                               {"uint8_t", 1},
                                                               {"short", 2},
                                                               {"short int", 2},
                                                               {"signed short", 2},
                                                               {"signed short int", 2},
                                                               {"int16", 2},
                                                               {"int16_t", 2},
                                                               {"ushort", 2},
                                                               {"unsigned short", 2},
                                                               {"unsigned short int", 2},
                                                               {"uint16", 2},
                                                               {"uint16_t", 2},
                                                               {"int", 4},
                                                               {"signed int", 4},
                                                               {"int32", 4},
                                                               {"int32_t", 4},
                                                               {"uint", 4},
                                                               {"unsigned int", 4},
                                                               {"uint32", 4},
                                                               {"uint32_t", 4},
                                                               {"longlong", 8},
                                                               {"long long", 8},
                                                               {"long long int", 8},
                                                               {"signed long long", 8},
                                                               {"signed long long int", 8},
                                                               {"int64", 8},
                                                               {"int64_t", 8},
                                                               {"ulonglong", 8},
                                                               {"unsigned long long", 8},
                                                               {"unsigned long long int", 8},
                                                               {"uint64", 8},
                                                               {"uint64_t", 8},
                                                               {"float", 4},
                                                               {"double", 8},
                                                               {"block", 1}};
    const auto found = types.find(lower(trim(type)));
    return found == types.end() ? 0 : found->second;
}

void checkNrrd(const std::string& path, std::uint64_t maxBytes)
{
    const TextHeader header = readTextHeader(path, true, nullptr);
    if (header.lines.empty() || header.lines.front().compare(0, 4, "NRRD") != 0)
        throw Error(ErrorCode::CorruptData, path + ": not a NRRD file (no NRRD magic on the first line)");
    std::map<std::string, std::string> fields;
    for (std::size_t n = 1; n < header.lines.size(); ++n) {
        const std::string& line = header.lines[n];
        // NrrdIO ends a line at a NUL byte: the rest of a key:=value line would be lost and the
        // part before it parsed as a field of its own.
        if (line.find('\0') != std::string::npos)
            throw Error(ErrorCode::CorruptData, path + ": header line " + std::to_string(n + 1) +
                                                    " holds a NUL byte; a NRRD header is text");
        if (line.empty() || line[0] == '#')
            continue;
        const auto colon = line.find(": ");
        const auto keyValue = line.find(":=");
        if (keyValue != std::string::npos && (colon == std::string::npos || keyValue < colon))
            continue; // key/value pair: free text
        if (colon == std::string::npos)
            throw Error(ErrorCode::CorruptData, path + ": header line " + std::to_string(n + 1) +
                                                    " is neither a field nor a key:=value");
        const std::string name = lower(trim(line.substr(0, colon)));
        if (!isNrrdField(name))
            throw Error(ErrorCode::CorruptData,
                        path + ": header line " + std::to_string(n + 1) + " has an unknown NRRD field '" +
                            printable(line.size() > 40 ? line.substr(0, 40) + "..." : line.substr(0, colon)) + "'");
        if (line.size() > kMaxNrrdFieldLine && name != "content")
            throw Error(ErrorCode::CorruptData, path + ": header line " + std::to_string(n + 1) + " ('" + name +
                                                    "') is " + std::to_string(line.size()) +
                                                    " bytes long; a NRRD field line is at most " +
                                                    std::to_string(kMaxNrrdFieldLine));
        fields[name] = trim(line.substr(colon + 2));
    }
    const auto field = [&](const char* name) -> std::string {
        const auto found = fields.find(name);
        return found == fields.end() ? std::string() : found->second;
    };
    std::uint64_t dimension = 0;
    if (!parseCount(field("dimension"), dimension) || dimension < 1 || dimension > 16)
        throw Error(ErrorCode::CorruptData,
                    path + ": NRRD dimension '" + field("dimension") + "' is not 1..16");
    const std::vector<std::string> sizeWords = words(field("sizes"));
    if (sizeWords.size() != dimension)
        throw Error(ErrorCode::CorruptData, path + ": NRRD sizes '" + field("sizes") + "' does not give " +
                                                std::to_string(dimension) + " sizes");
    std::vector<std::uint64_t> sizes;
    for (const std::string& word : sizeWords) {
        std::uint64_t size = 0;
        if (!parseCount(word, size))
            throw Error(ErrorCode::CorruptData, path + ": NRRD size '" + word + "' is not a whole number");
        sizes.push_back(size);
    }
    std::uint64_t elementBytes = nrrdTypeBytes(field("type"));
    if (elementBytes == 0)
        throw Error(ErrorCode::CorruptData, path + ": NRRD type '" + field("type") + "' is unknown");
    if (lower(field("type")) == "block") {
        std::uint64_t blockSize = 0;
        const std::string text = fields.count("block size") ? field("block size") : field("blocksize");
        if (!parseCount(text, blockSize) || blockSize == 0)
            throw Error(ErrorCode::CorruptData,
                        path + ": NRRD block size '" + text + "' is not a whole number");
        elementBytes = blockSize;
    }
    checkedBytes(path, sizes, elementBytes, maxBytes);

    const std::string encoding = lower(field("encoding"));
    static const char* const known[] = {"raw", "txt", "text", "ascii", "hex", "gz", "gzip", "bz2", "bzip2"};
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return encoding == k; }))
        throw Error(ErrorCode::CorruptData, path + ": NRRD encoding '" + field("encoding") + "' is unknown");
    if (encoding == "txt" || encoding == "text" || encoding == "ascii") {
        std::string dataFile = fields.count("data file") ? field("data file") : field("datafile");
        if (dataFile.empty()) {
            checkAsciiTokens(path, path, header.dataOffset);
        } else {
            if (dataFile.compare(0, 4, "LIST") == 0 || words(dataFile).size() > 1)
                throw Error(ErrorCode::Unsupported,
                            path + ": ASCII NRRD data split over several files is not supported");
            fs::path data(dataFile);
            if (data.is_relative())
                data = fs::path(path).parent_path() / data;
            checkAsciiTokens(path, data.string(), 0);
        }
    }
}

/// Bytes of `file` from `offset` to its end (0 when it cannot be read).
std::uint64_t fileLengthFrom(const std::string& file, std::uint64_t offset)
{
    std::error_code ec;
    const std::uint64_t size = fs::file_size(file, ec);
    return ec || size < offset ? 0 : size - offset;
}

/// Bytes a zlib or gzip stream starting at `offset` of `file` inflates to, counting at most `enough`.
/// Sets `damaged` when the stream is corrupt or ends before its end marker.
std::uint64_t inflatedZlibLength(const std::string& file, std::uint64_t offset, std::uint64_t enough, bool& damaged)
{
    damaged = false;
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return 0;
    in.seekg(static_cast<std::streamoff>(offset));
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) // zlib or gzip header, as MetaIO accepts
        return 0;
    std::vector<unsigned char> input(std::size_t{1} << 16);
    std::vector<unsigned char> output(std::size_t{1} << 20);
    std::uint64_t total = 0;
    int code = Z_OK;
    while (total < enough && code != Z_STREAM_END) {
        if (stream.avail_in == 0) {
            in.read(reinterpret_cast<char*>(input.data()), static_cast<std::streamsize>(input.size()));
            const auto got = in.gcount();
            if (got <= 0) {
                damaged = true; // the compressed data ends before the stream does
                break;
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        stream.next_out = output.data();
        stream.avail_out = static_cast<uInt>(output.size());
        code = inflate(&stream, Z_NO_FLUSH);
        total += output.size() - stream.avail_out;
        if (code != Z_OK && code != Z_STREAM_END && code != Z_BUF_ERROR) {
            damaged = true;
            break;
        }
    }
    inflateEnd(&stream);
    return total;
}

/// Bytes of `file` once inflated (a plain file: its size), counting at most `enough` of them.
/// Sets `damaged` when the gzip stream ends early or is corrupt.
std::uint64_t inflatedLength(const std::string& file, std::uint64_t enough, bool& damaged)
{
    damaged = false;
    std::error_code ec;
    const std::uint64_t onDisk = fs::file_size(file, ec);
    if (ec)
        return 0;
    unsigned char magic[2] = {};
    {
        std::ifstream in(file, std::ios::binary);
        in.read(reinterpret_cast<char*>(magic), 2);
        if (in.gcount() < 2 || magic[0] != 0x1f || magic[1] != 0x8b)
            return onDisk;
    }
    // A single-member gzip file ends with the inflated length modulo 2^32 (RFC 1952, ISIZE): when it
    // agrees, the whole stream need not be inflated twice.
    if (onDisk >= 18) {
        std::ifstream in(file, std::ios::binary);
        in.seekg(-4, std::ios::end);
        unsigned char tail[4] = {};
        in.read(reinterpret_cast<char*>(tail), 4);
        const std::uint32_t isize = static_cast<std::uint32_t>(tail[0]) | static_cast<std::uint32_t>(tail[1]) << 8 |
                                    static_cast<std::uint32_t>(tail[2]) << 16 |
                                    static_cast<std::uint32_t>(tail[3]) << 24;
        if (in && isize == static_cast<std::uint32_t>(enough & 0xffffffffu) && enough <= 0xffffffffu)
            return enough;
    }
    gzFile stream = gzopen(file.c_str(), "rb");
    if (!stream)
        return 0;
    std::vector<char> buffer(std::size_t{1} << 20);
    std::uint64_t total = 0;
    while (total < enough) {
        const int got = gzread(stream, buffer.data(), static_cast<unsigned>(buffer.size()));
        if (got <= 0) {
            int code = Z_OK;
            gzerror(stream, &code);
            damaged = got < 0 || (code != Z_OK && code != Z_STREAM_END);
            break;
        }
        total += static_cast<std::uint64_t>(got);
    }
    gzclose(stream);
    return total;
}

void checkMetaImage(const std::string& path, std::uint64_t maxBytes)
{
    const TextHeader header = readTextHeader(path, false, "elementdatafile");
    std::map<std::string, std::string> fields;
    for (std::size_t n = 0; n < header.lines.size(); ++n) {
        const std::string& line = header.lines[n];
        if (trim(line).empty())
            continue;
        const auto equals = line.find('=');
        if (equals == std::string::npos)
            throw Error(ErrorCode::CorruptData,
                        path + ": MetaImage header line " + std::to_string(n + 1) + " has no '='");
        const std::string key = trim(line.substr(0, equals));
        const std::string value = trim(line.substr(equals + 1));
        if (key.size() > kMaxMetaValue || value.size() > kMaxMetaValue)
            throw Error(ErrorCode::CorruptData, path + ": MetaImage header line " + std::to_string(n + 1) +
                                                    " is longer than " + std::to_string(kMaxMetaValue) +
                                                    " characters");
        // MetaIO reads every occurrence of a field: a repeated NDims of 777777777 made it read that
        // many numbers for a later field (seconds of work for a 6 KB file) while the last one looked fine.
        if (!fields.emplace(lower(key), value).second)
            throw Error(ErrorCode::CorruptData, path + ": MetaImage header line " + std::to_string(n + 1) +
                                                    " repeats the field " + printable(key));
    }
    const auto field = [&](const char* name) -> std::string {
        const auto found = fields.find(name);
        return found == fields.end() ? std::string() : found->second;
    };
    std::uint64_t dimensions = 0;
    if (!parseCount(field("ndims"), dimensions) || dimensions < 1 || dimensions > 10)
        throw Error(ErrorCode::CorruptData, path + ": MetaImage NDims '" + field("ndims") + "' is not 1..10");
    const std::vector<std::string> sizeWords = words(field("dimsize"));
    if (sizeWords.size() != dimensions)
        throw Error(ErrorCode::CorruptData, path + ": MetaImage DimSize '" + field("dimsize") +
                                                "' does not give " + std::to_string(dimensions) + " sizes");
    std::vector<std::uint64_t> sizes;
    for (const std::string& word : sizeWords) {
        std::uint64_t size = 0;
        if (!parseCount(word, size))
            throw Error(ErrorCode::CorruptData,
                        path + ": MetaImage DimSize '" + word + "' is not a whole number");
        sizes.push_back(size);
    }
    std::uint64_t channels = 1;
    if (fields.count("elementnumberofchannels") &&
        (!parseCount(field("elementnumberofchannels"), channels) || channels < 1 || channels > 64))
        throw Error(ErrorCode::CorruptData, path + ": MetaImage ElementNumberOfChannels '" +
                                                field("elementnumberofchannels") + "' is not 1..64");
    static const std::map<std::string, std::uint64_t> types = {
        {"met_char", 1},      {"met_uchar", 1},      {"met_short", 2}, {"met_ushort", 2},
        {"met_int", 4},       {"met_uint", 4},       {"met_long", 4},  {"met_ulong", 4},
        {"met_long_long", 8}, {"met_ulong_long", 8}, {"met_float", 4}, {"met_double", 8}};
    const auto type = types.find(lower(field("elementtype")));
    if (type == types.end())
        throw Error(ErrorCode::CorruptData,
                    path + ": MetaImage ElementType '" + field("elementtype") + "' is not supported");
    sizes.push_back(channels);
    const std::uint64_t dataBytes = checkedBytes(path, sizes, type->second, maxBytes);
    const std::string dataFile = field("elementdatafile");
    if (dataFile.empty())
        throw Error(ErrorCode::CorruptData, path + ": MetaImage header has no ElementDataFile");
    if (dataFile != "LOCAL" && dataFile.compare(0, 4, "LIST") != 0 && words(dataFile).size() == 1) {
        // MetaIO prints its own complaint about a missing data file: say it here, in one line.
        fs::path data(dataFile);
        if (data.is_relative())
            data = fs::path(path).parent_path() / data;
        std::error_code ec;
        if (!fs::is_regular_file(data, ec))
            throw Error(ErrorCode::NotFound, path + ": its ElementDataFile " + dataFile + " does not exist");
    }
    // MetaIO reads data cut short with a warning on stderr and no error, leaving the rest zero.
    const bool binary = lower(field("binarydata")) != "false";
    const bool compressed = lower(field("compresseddata")) == "true";
    if (binary && !fields.count("headersize") && (dataFile == "LOCAL" || (dataFile.compare(0, 4, "LIST") != 0 &&
                                                                          words(dataFile).size() == 1))) {
        fs::path data = dataFile == "LOCAL" ? fs::path(path) : fs::path(dataFile);
        if (data.is_relative() && dataFile != "LOCAL")
            data = fs::path(path).parent_path() / data;
        const std::uint64_t offset = dataFile == "LOCAL" ? header.dataOffset : 0;
        bool damaged = false;
        const std::uint64_t have = compressed ? inflatedZlibLength(data.string(), offset, dataBytes, damaged)
                                              : fileLengthFrom(data.string(), offset);
        if (have < dataBytes)
            throw Error(ErrorCode::CorruptData,
                        path + ": MetaImage data is cut short: the header asks for " + std::to_string(dataBytes) +
                            " bytes of voxels, " + (dataFile == "LOCAL" ? std::string("the file") : dataFile) +
                            (compressed ? " inflates to " : " holds ") + std::to_string(have) +
                            (damaged ? " bytes before its compressed stream breaks off" : " bytes"));
    }
}

const char* const kQuaternionFields[6] = {"quatern_b", "quatern_c", "quatern_d",
                                          "qoffset_x", "qoffset_y", "qoffset_z"};

std::string srowField(int i)
{
    return std::string("srow_") + "xyz"[i / 4] + "[" + std::to_string(i % 4) + "]";
}

void requireFinite(const std::string& path, const std::string& field, double value)
{
    if (!std::isfinite(value))
        throw Error(ErrorCode::CorruptData, path + ": NIfTI " + field + " is not a finite number");
}

/// A NIfTI whose voxel data is shorter than its header says is refused: ITK 5.2 reads it without a
/// word, leaving the missing voxels zero (a label map would silently lose part of its structures).
void checkNiftiDataLength(const std::string& path, double voxOffset, std::uint64_t dataBytes)
{
    if (!std::isfinite(voxOffset) || voxOffset < 0 || voxOffset > 1e12)
        throw Error(ErrorCode::CorruptData, path + ": NIfTI vox_offset " + std::to_string(voxOffset) +
                                                " is not a byte offset");
    // A single file's voxels never start inside its header.
    const std::uint64_t offset = std::max<std::uint64_t>(static_cast<std::uint64_t>(voxOffset), 348);
    const std::uint64_t needed = offset + dataBytes;
    bool damaged = false;
    const std::uint64_t have = inflatedLength(path, needed, damaged);
    if (have < needed)
        throw Error(ErrorCode::CorruptData,
                    path + ": NIfTI data is cut short: the header asks for " + std::to_string(dataBytes) +
                        " bytes of voxels from byte " + std::to_string(offset) + ", the file" +
                        (damaged ? " inflates to " + std::to_string(have) + " bytes before its compressed stream breaks off"
                                 : " holds " + std::to_string(have) + " bytes"));
}

void checkNifti(const std::string& path, std::uint64_t maxBytes)
{
    unsigned char header[540] = {};
    int got = 0;
    {
        gzFile file = gzopen(path.c_str(), "rb");
        if (!file)
            throw Error(ErrorCode::NotFound, path + ": cannot open the file");
        got = gzread(file, header, sizeof header);
        gzclose(file);
    }
    if (got < 348)
        throw Error(ErrorCode::CorruptData,
                    path + ": too short for a NIfTI header (" + std::to_string(std::max(got, 0)) + " bytes)");
    const auto read32 = [&](int offset, bool swap) {
        std::uint32_t v = 0;
        std::memcpy(&v, header + offset, 4);
        return swap ? __builtin_bswap32(v) : v;
    };
    const auto read16 = [&](int offset, bool swap) {
        std::uint16_t v = 0;
        std::memcpy(&v, header + offset, 2);
        return swap ? __builtin_bswap16(v) : v;
    };
    const auto read64 = [&](int offset, bool swap) {
        std::uint64_t v = 0;
        std::memcpy(&v, header + offset, 8);
        return swap ? __builtin_bswap64(v) : v;
    };
    std::vector<std::uint64_t> sizes;
    std::uint64_t bitsPerVoxel = 0;
    double voxOffset = 0;
    const std::uint32_t size1 = read32(0, false);
    if (size1 == 348 || __builtin_bswap32(size1) == 348) {
        const bool swap = size1 != 348;
        const auto dims = static_cast<std::int16_t>(read16(40, swap));
        if (dims < 1 || dims > 7)
            throw Error(ErrorCode::CorruptData,
                        path + ": NIfTI dim[0] " + std::to_string(dims) + " is not 1..7");
        for (int d = 1; d <= dims; ++d) {
            const auto size = static_cast<std::int16_t>(read16(40 + 2 * d, swap));
            if (size < 1)
                throw Error(ErrorCode::CorruptData, path + ": NIfTI dim[" + std::to_string(d) + "] " +
                                                        std::to_string(size) + " is not a positive size");
            sizes.push_back(static_cast<std::uint64_t>(size));
        }
        bitsPerVoxel = static_cast<std::uint64_t>(static_cast<std::int16_t>(read16(72, swap)));
        {
            const std::uint32_t bits = read32(108, swap);
            float offset = 0;
            std::memcpy(&offset, &bits, 4);
            voxOffset = offset;
        }
        // ITK turns pixdim, the quaternion (qform_code > 0) and the srow rows (sform_code > 0) into the
        // direction matrix with an SVD that aborts the process on a NaN or an infinity.
        const auto real = [&](int offset) {
            const std::uint32_t bits = read32(offset, swap);
            float v = 0;
            std::memcpy(&v, &bits, 4);
            return static_cast<double>(v);
        };
        for (int i = 0; i <= dims; ++i)
            requireFinite(path, "pixdim[" + std::to_string(i) + "]", real(76 + 4 * i));
        if (static_cast<std::int16_t>(read16(252, swap)) > 0)
            for (int i = 0; i < 6; ++i)
                requireFinite(path, kQuaternionFields[i], real(256 + 4 * i));
        if (static_cast<std::int16_t>(read16(254, swap)) > 0)
            for (int i = 0; i < 12; ++i)
                requireFinite(path, srowField(i), real(280 + 4 * i));
    } else if (got >= 540 && (size1 == 540 || __builtin_bswap32(size1) == 540)) {
        const bool swap = size1 != 540;
        const auto dims = static_cast<std::int64_t>(read64(16, swap));
        if (dims < 1 || dims > 7)
            throw Error(ErrorCode::CorruptData,
                        path + ": NIfTI-2 dim[0] " + std::to_string(dims) + " is not 1..7");
        for (int d = 1; d <= dims; ++d) {
            const auto size = static_cast<std::int64_t>(read64(16 + 8 * d, swap));
            if (size < 1)
                throw Error(ErrorCode::CorruptData, path + ": NIfTI-2 dim[" + std::to_string(d) + "] " +
                                                        std::to_string(size) + " is not a positive size");
            sizes.push_back(static_cast<std::uint64_t>(size));
        }
        bitsPerVoxel = static_cast<std::uint64_t>(static_cast<std::int16_t>(read16(14, swap)));
        voxOffset = static_cast<double>(static_cast<std::int64_t>(read64(168, swap)));
        const auto real = [&](int offset) {
            const std::uint64_t bits = read64(offset, swap);
            double v = 0;
            std::memcpy(&v, &bits, 8);
            return v;
        };
        for (int i = 0; i <= dims; ++i)
            requireFinite(path, "pixdim[" + std::to_string(i) + "]", real(104 + 8 * i));
        if (static_cast<std::int32_t>(read32(344, swap)) > 0)
            for (int i = 0; i < 6; ++i)
                requireFinite(path, kQuaternionFields[i], real(352 + 8 * i));
        if (static_cast<std::int32_t>(read32(348, swap)) > 0)
            for (int i = 0; i < 12; ++i)
                requireFinite(path, srowField(i), real(400 + 8 * i));
    } else {
        throw Error(ErrorCode::CorruptData, path + ": not a NIfTI file (sizeof_hdr is neither 348 nor 540)");
    }
    if (bitsPerVoxel == 0 || bitsPerVoxel > 256 || bitsPerVoxel % 8 != 0)
        throw Error(ErrorCode::CorruptData, path + ": NIfTI bitpix " + std::to_string(bitsPerVoxel) +
                                                " is not a whole number of bytes up to 32");
    const std::uint64_t dataBytes = checkedBytes(path, sizes, bitsPerVoxel / 8, maxBytes);
    if (!endsWith(lower(path), ".hdr")) // no reader takes a header/image pair
        checkNiftiDataLength(path, voxOffset, dataBytes);
}

} // namespace

void checkImageFileHeader(const std::string& path, std::uint64_t maxBytes)
{
    const std::string name = lower(fs::path(path).filename().string());
    if (endsWith(name, ".nrrd") || endsWith(name, ".nhdr"))
        checkNrrd(path, maxBytes);
    else if (endsWith(name, ".mha") || endsWith(name, ".mhd"))
        checkMetaImage(path, maxBytes);
    else if (endsWith(name, ".nii") || endsWith(name, ".nii.gz") || endsWith(name, ".hdr"))
        checkNifti(path, maxBytes);
}

std::string oneLine(const std::string& text)
{
    std::string result;
    bool blank = false;
    for (char c : text) {
        if (c == '\n' || c == '\r' || c == '\t') {
            blank = true;
            continue;
        }
        if (blank && !result.empty())
            result += ' ';
        blank = false;
        result += c;
    }
    return trim(result);
}

std::string itkReason(const char* description)
{
    // ITK descriptions start with "itk::ERROR: NrrdImageIO(0x...): ReadImageInformation: Error
    // reading FILE:" and, for NRRD, carry NrrdIO's trace ("[nrrd] func: ..." lines), innermost last:
    // the last line names the problem.
    std::vector<std::string> lines;
    std::istringstream stream(description ? description : "");
    std::string line;
    while (std::getline(stream, line)) {
        line = trim(line);
        if (!line.empty() && line != ")")
            lines.push_back(line);
    }
    if (lines.empty())
        return "no reason given";
    std::string reason = lines.back();
    if (lines.size() > 1 && reason.size() > 1 && reason[0] == '[') {
        // "[nrrd] _nrrdHeaderCheck: type (float) ... " -> "type (float) ..."
        const auto bracket = reason.find("] ");
        const auto colon = bracket == std::string::npos ? std::string::npos : reason.find(": ", bracket + 2);
        if (colon != std::string::npos)
            reason = reason.substr(colon + 2);
    } else if (reason.compare(0, 11, "itk::ERROR:") == 0) {
        // "itk::ERROR: NiftiImageIO(0x55..): message" -> "message"
        const auto object = reason.find("): ");
        if (object != std::string::npos)
            reason = reason.substr(object + 3);
    }
    reason = oneLine(reason);
    if (reason.size() > 300)
        reason = reason.substr(0, 300) + "...";
    return reason;
}

} // namespace np::imaging::detail
