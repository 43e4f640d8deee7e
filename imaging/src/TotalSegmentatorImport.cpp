#include "needleplan/imaging/TotalSegmentatorImport.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <zlib.h>

namespace np::imaging {

namespace {

namespace fs = std::filesystem;

bool endsWith(const std::string& text, const std::string& suffix)
{
    if (text.size() < suffix.size())
        return false;
    return std::equal(suffix.rbegin(), suffix.rend(), text.rbegin(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::string stemOf(const fs::path& file)
{
    std::string name = file.filename().string();
    for (const char* suffix : {".nii.gz", ".nii"})
        if (endsWith(name, suffix))
            return name.substr(0, name.size() - std::strlen(suffix));
    return name;
}

std::string describe(const Geometry& g)
{
    char text[256];
    std::snprintf(text, sizeof text, "%lldx%lldx%lld voxels of %.3gx%.3gx%.3g mm at (%.1f, %.1f, %.1f)",
                  static_cast<long long>(g.size[0]), static_cast<long long>(g.size[1]),
                  static_cast<long long>(g.size[2]), g.spacing.x, g.spacing.y, g.spacing.z, g.originLps.x,
                  g.originLps.y, g.originLps.z);
    return text;
}

bool sameGrid(const Geometry& a, const Geometry& b)
{
    if (a.size != b.size || distance(a.spacing, b.spacing) > 1e-4 ||
        distance(a.originLps, b.originLps) > 1e-3)
        return false;
    for (std::size_t e = 0; e < 9; ++e)
        if (std::abs(a.directionLps.m[e] - b.directionLps.m[e]) > 1e-5)
            return false;
    return true;
}

/// Writes the voxels of `source` whose value has a target label in `labelOf` into `target` (on the
/// CT's grid), nearest neighbour by position when the grids differ. Voxels already taken keep their
/// label; returns how many were contested. Throws when no CT voxel centre lies inside `source`.
std::int64_t paintOnGrid(const LabelMap& source, const std::vector<std::uint16_t>& labelOf, LabelMap& target,
                         const std::string& what, std::vector<std::string>* warnings, std::int64_t* painted)
{
    const Geometry& grid = target.geometry();
    source.geometry().validate(what);
    std::int64_t contested = 0, inside = 0, count = 0;
    auto paint = [&](std::size_t index, std::uint16_t value) {
        if (value >= labelOf.size() || labelOf[value] == 0)
            return;
        std::uint16_t& voxel = target.data()[index];
        if (voxel != 0 && voxel != labelOf[value]) {
            ++contested;
            return;
        }
        voxel = labelOf[value];
        ++count;
    };
    if (sameGrid(source.geometry(), grid)) {
        const auto voxels = static_cast<std::size_t>(grid.voxelCount());
        const std::uint16_t* data = source.data();
        for (std::size_t v = 0; v < voxels; ++v)
            if (data[v])
                paint(v, data[v]);
        inside = grid.voxelCount();
    } else {
        const Geometry& from = source.geometry();
        const Vec3 stepI = grid.lpsFromIjkLinear().column(0);
        std::size_t index = 0;
        for (std::int64_t k = 0; k < grid.size[2]; ++k)
            for (std::int64_t j = 0; j < grid.size[1]; ++j) {
                const Vec3 rowStartLps = grid.lpsFromIjk({0.0, double(j), double(k)});
                for (std::int64_t i = 0; i < grid.size[0]; ++i, ++index) {
                    const Vec3 ijk = from.ijkFromLps(rowStartLps + stepI * double(i));
                    if (!from.containsIjk(ijk))
                        continue;
                    ++inside;
                    const std::int64_t si =
                        std::clamp<std::int64_t>(std::llround(ijk.x), 0, from.size[0] - 1);
                    const std::int64_t sj =
                        std::clamp<std::int64_t>(std::llround(ijk.y), 0, from.size[1] - 1);
                    const std::int64_t sk =
                        std::clamp<std::int64_t>(std::llround(ijk.z), 0, from.size[2] - 1);
                    if (const std::uint16_t value = source.at(si, sj, sk))
                        paint(index, value);
                }
            }
        if (inside > 0 && warnings)
            warnings->push_back(what + ": on another grid (" + describe(from) +
                                "); resampled nearest neighbour by position onto the CT grid");
    }
    if (inside == 0)
        throw Error(ErrorCode::InconsistentGeometry, what + " does not overlap the CT: it covers " +
                                                         describe(source.geometry()) + ", the CT " +
                                                         describe(grid));
    if (painted)
        *painted = count;
    return contested;
}

/// The first `count` bytes of a file, gunzipped when it is gzip (zlib reads plain files as they are).
std::string readHead(const std::string& path, std::size_t count)
{
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file)
        throw Error(ErrorCode::NotFound, path + ": cannot be opened");
    std::string bytes(count, '\0');
    const int read = gzread(file, bytes.data(), static_cast<unsigned>(count));
    gzclose(file);
    if (read < 0)
        throw Error(ErrorCode::CorruptData, path + ": not a readable (gzip) NIfTI file");
    bytes.resize(static_cast<std::size_t>(read));
    return bytes;
}

template <class T> T readValue(const std::string& bytes, std::size_t offset, bool swap)
{
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    if (swap) {
        unsigned char* raw = reinterpret_cast<unsigned char*>(&value);
        std::reverse(raw, raw + sizeof(T));
    }
    return value;
}

/// Label table of a Caret XML extension: <Label Key="N" ...><![CDATA[name]]></Label>.
std::map<std::uint16_t, std::string> parseCaretLabels(const std::string& xml)
{
    std::map<std::uint16_t, std::string> labels;
    std::size_t at = 0;
    while ((at = xml.find("<Label", at)) != std::string::npos) {
        if (at + 6 < xml.size() && !std::isspace(static_cast<unsigned char>(xml[at + 6]))) {
            at += 6; // <LabelTable>, not a label
            continue;
        }
        const std::size_t tagEnd = xml.find('>', at);
        const std::size_t close = xml.find("</Label>", at);
        if (tagEnd == std::string::npos || close == std::string::npos || close < tagEnd)
            break;
        const std::string tag = xml.substr(at, tagEnd - at);
        std::string text = xml.substr(tagEnd + 1, close - tagEnd - 1);
        at = close + 8;
        const std::size_t key = tag.find("Key=\"");
        if (key == std::string::npos)
            continue;
        char* end = nullptr;
        const long value = std::strtol(tag.c_str() + key + 5, &end, 10);
        if (!end || *end != '"' || value <= 0 || value > 65535)
            continue;
        const std::size_t cdata = text.find("<![CDATA[");
        if (cdata != std::string::npos) {
            const std::size_t cdataEnd = text.find("]]>", cdata);
            text = text.substr(cdata + 9,
                               cdataEnd == std::string::npos ? std::string::npos : cdataEnd - cdata - 9);
        }
        text.erase(0, text.find_first_not_of(" \t\r\n"));
        text.erase(text.find_last_not_of(" \t\r\n") + 1);
        if (!text.empty())
            labels[static_cast<std::uint16_t>(value)] = text;
    }
    return labels;
}

std::vector<fs::path> maskFiles(const fs::path& folder)
{
    std::vector<fs::path> files;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(folder, error))
        if (entry.is_regular_file() && isNiftiFile(entry.path().string()))
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

fs::path maskFolder(const fs::path& path)
{
    const fs::path sub = path / "segmentations";
    std::error_code error;
    if (fs::is_directory(sub, error) && !maskFiles(sub).empty())
        return sub;
    return path;
}

} // namespace

bool isNiftiFile(const std::string& path)
{
    return endsWith(path, ".nii") || endsWith(path, ".nii.gz");
}

bool isTotalSegmentatorFolder(const std::string& path)
{
    std::error_code error;
    if (!fs::is_directory(path, error))
        return false;
    return !maskFiles(maskFolder(path)).empty();
}

std::map<std::uint16_t, std::string> readNiftiLabelTable(const std::string& path,
                                                         std::vector<std::string>* warnings)
{
    std::error_code error;
    if (!fs::is_regular_file(path, error))
        throw Error(ErrorCode::NotFound, path + ": no such file");
    std::string head = readHead(path, 544);
    if (head.size() < 348)
        throw Error(ErrorCode::CorruptData, path + ": too short for a NIfTI header");
    const std::int32_t sizeofHdr = readValue<std::int32_t>(head, 0, false);
    bool swap = false;
    int version = 0;
    if (sizeofHdr == 348 || sizeofHdr == 540)
        version = sizeofHdr == 348 ? 1 : 2;
    else if (readValue<std::int32_t>(head, 0, true) == 348 || readValue<std::int32_t>(head, 0, true) == 540)
        swap = true, version = readValue<std::int32_t>(head, 0, true) == 348 ? 1 : 2;
    else
        throw Error(ErrorCode::CorruptData,
                    path + ": not a NIfTI file (header size " + std::to_string(sizeofHdr) + ")");
    const std::size_t headerSize = version == 1 ? 348 : 540;
    const double voxOffset = version == 1 ? readValue<float>(head, 108, swap)
                                          : static_cast<double>(readValue<std::int64_t>(head, 168, swap));
    if (head.size() < headerSize + 4 || head[headerSize] == 0 || !(voxOffset > headerSize + 4))
        return {}; // no extensions
    auto warn = [&](const std::string& text) {
        if (warnings)
            warnings->push_back(path + ": " + text);
    };
    if (voxOffset > 64.0 * 1024 * 1024) {
        warn("a header extension of implausible size is ignored");
        return {};
    }
    head = readHead(path, static_cast<std::size_t>(voxOffset));
    std::size_t at = headerSize + 4;
    std::map<std::uint16_t, std::string> labels;
    while (at + 8 <= head.size()) {
        const std::int32_t size = readValue<std::int32_t>(head, at, swap);
        if (size < 8 || at + static_cast<std::size_t>(size) > head.size()) {
            warn("a malformed header extension (size " + std::to_string(size) + ") is ignored");
            break;
        }
        const std::string data = head.substr(at + 8, static_cast<std::size_t>(size) - 8);
        if (data.find("<LabelTable>") != std::string::npos || data.find("<Label ") != std::string::npos)
            for (const auto& [value, name] : parseCaretLabels(data))
                labels[value] = name;
        at += static_cast<std::size_t>(size);
    }
    return labels;
}

LabelMap importTotalSegmentator(const std::string& path, const Volume& reference,
                                const TotalSegmentatorImportOptions& options,
                                std::vector<std::string>* warnings, ProgressSink* progress)
{
    if (reference.empty())
        throw Error(ErrorCode::InvalidArgument, "TotalSegmentator import of " + path + ": no CT is loaded");
    reference.geometry().validate("CT");
    LabelMap result(reference.geometry());
    std::error_code error;
    if (fs::is_directory(path, error)) {
        const fs::path folder = maskFolder(path);
        const std::vector<fs::path> files = maskFiles(folder);
        if (files.empty())
            throw Error(ErrorCode::NotFound,
                        path + ": no NIfTI masks (segmentations/<name>.nii.gz) in the folder");
        std::vector<std::string> empty;
        std::int64_t contested = 0;
        std::uint16_t next = 1;
        for (std::size_t n = 0; n < files.size(); ++n) {
            throwIfCancelled(progress);
            reportProgress(progress, static_cast<double>(n) / files.size(), "reading TotalSegmentator masks");
            const std::string file = files[n].string();
            const LabelMap mask = readLabelMap(file);
            if (next == 65535)
                throw Error(ErrorCode::Unsupported, path + ": more than 65534 masks");
            std::vector<std::uint16_t> labelOf(65536, 0);
            for (const Segment& segment : mask.segments()) // any non-zero value is the structure
                labelOf[segment.labelValue] = next;
            std::int64_t painted = 0;
            contested += paintOnGrid(mask, labelOf, result, file, warnings, &painted);
            if (painted == 0) {
                empty.push_back(stemOf(files[n]));
                continue;
            }
            Segment segment;
            segment.name = stemOf(files[n]);
            segment.labelValue = next;
            segment.colorRgb = defaultLabelColor(next);
            result.segments().push_back(segment);
            ++next;
        }
        if (!empty.empty() && warnings) {
            std::string names;
            for (std::size_t n = 0; n < empty.size() && n < 8; ++n)
                names += (n ? ", " : "") + empty[n];
            warnings->push_back(path + ": " + std::to_string(empty.size()) + " empty masks skipped (" +
                                names + (empty.size() > 8 ? ", ..." : "") + ")");
        }
        if (result.segments().empty())
            throw Error(ErrorCode::InvalidArgument, path + ": every mask is empty on the CT");
        if (contested > 0 && warnings)
            warnings->push_back(path + ": " + std::to_string(contested) +
                                " voxels belong to several masks; the mask first in name order keeps them");
        reportProgress(progress, 1.0, "reading TotalSegmentator masks");
        return result;
    }
    if (!isNiftiFile(path))
        throw Error(ErrorCode::Unsupported, path + ": neither a TotalSegmentator folder nor a NIfTI file");
    reportProgress(progress, 0.0, "reading TotalSegmentator label map");
    std::map<std::uint16_t, std::string> names = readNiftiLabelTable(path, warnings);
    const LabelMap labels = readLabelMap(path);
    if (names.empty())
        names = options.classMap;
    if (names.empty() && warnings)
        warnings->push_back(path +
                            ": no class map (neither a label table in the NIfTI header nor one given); "
                            "labels are named label_<N> and get the caution default");
    std::vector<std::uint16_t> labelOf(65536, 0);
    std::int64_t unnamed = 0;
    for (const Segment& segment : labels.segments()) {
        labelOf[segment.labelValue] = segment.labelValue;
        Segment out = segment;
        const auto name = names.find(segment.labelValue);
        if (name != names.end())
            out.name = name->second;
        else {
            out.name = "label_" + std::to_string(segment.labelValue);
            ++unnamed;
        }
        result.segments().push_back(out);
    }
    if (!names.empty() && unnamed > 0 && warnings)
        warnings->push_back(path + ": " + std::to_string(unnamed) +
                            " label values are not in the class map; named label_<N> (caution default)");
    paintOnGrid(labels, labelOf, result, path, warnings, nullptr);
    reportProgress(progress, 1.0, "reading TotalSegmentator label map");
    return result;
}

} // namespace np::imaging
