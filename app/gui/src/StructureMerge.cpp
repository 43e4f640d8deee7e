#include "needleplan/gui/StructureMerge.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>

namespace np::gui {

namespace {

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool sameGrid(const imaging::Geometry& a, const imaging::Geometry& b)
{
    if (a.size != b.size || distance(a.spacing, b.spacing) > 1e-6 ||
        distance(a.originLps, b.originLps) > 1e-4)
        return false;
    const Mat3 d = a.directionLps;
    const Mat3 e = b.directionLps;
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c)
            if (std::abs(d(r, c) - e(r, c)) > 1e-6)
                return false;
    return true;
}

} // namespace

int classSeverity(planning::StructureClass structureClass)
{
    switch (structureClass) {
    case planning::StructureClass::Forbidden:
        return 4;
    case planning::StructureClass::Obstacle:
        return 3;
    case planning::StructureClass::Caution:
        return 2;
    case planning::StructureClass::Target:
        return 1;
    case planning::StructureClass::Ignored:
        return 0;
    }
    return 0;
}

MergedStructures mergeStructures(const imaging::LabelMap* existing,
                                 const std::vector<StructureRow>& existingRows,
                                 const imaging::StructureSet& incoming, const imaging::Geometry& grid)
{
    if (!sameGrid(incoming.geometry(), grid))
        throw Error(ErrorCode::InvalidArgument, "structures: the new structures are not on the image's grid");
    if (existing && !sameGrid(existing->geometry(), grid))
        throw Error(ErrorCode::InvalidArgument,
                    "structures: the current label map is not on the image's grid");
    const std::int64_t count = grid.size[0] * grid.size[1] * grid.size[2];
    for (const imaging::StructureMask& mask : incoming.structures())
        if (static_cast<std::int64_t>(mask.voxels.size()) != count)
            throw Error(ErrorCode::InvalidArgument, "structures: the mask of \"" + mask.segment.name +
                                                        "\" has the wrong number of voxels");

    MergedStructures result;
    result.labels =
        existing ? std::make_shared<imaging::LabelMap>(*existing) : std::make_shared<imaging::LabelMap>(grid);
    imaging::LabelMap& labels = *result.labels;
    result.rows = existingRows;

    // Severity of every label value in use (index = label value).
    std::vector<int> severity(65536, 0);
    std::uint32_t maxLabel = 0;
    for (const StructureRow& row : result.rows) {
        severity[row.spec.labelValue] = classSeverity(row.spec.structureClass);
        maxLabel = std::max<std::uint32_t>(maxLabel, row.spec.labelValue);
    }
    for (const imaging::Segment& segment : labels.segments())
        maxLabel = std::max<std::uint32_t>(maxLabel, segment.labelValue);

    std::vector<bool> changed(65536, false);
    std::uint16_t* voxels = labels.data();
    for (const imaging::StructureMask& mask : incoming.structures()) {
        const std::string key = lower(mask.segment.name);
        auto same = std::find_if(result.rows.begin(), result.rows.end(),
                                 [&](const StructureRow& row) { return lower(row.style.name) == key; });
        std::uint16_t value = 0;
        if (same != result.rows.end()) {
            value = same->spec.labelValue;
            ++result.replaced;
            for (std::int64_t i = 0; i < count; ++i)
                if (voxels[i] == value && !mask.voxels[static_cast<std::size_t>(i)]) {
                    voxels[i] = 0;
                    changed[value] = true;
                }
        } else {
            if (maxLabel >= 65535)
                throw Error(ErrorCode::InvalidArgument,
                            "structures: no free label value for \"" + mask.segment.name + "\"");
            value = static_cast<std::uint16_t>(++maxLabel);
            imaging::Segment segment = mask.segment;
            segment.labelValue = value;
            labels.segments().push_back(segment);
            result.rows.push_back(defaultStructureRow(segment));
            severity[value] = classSeverity(result.rows.back().spec.structureClass);
            ++result.added;
        }
        const int mine = severity[value];
        for (std::int64_t i = 0; i < count; ++i) {
            if (!mask.voxels[static_cast<std::size_t>(i)])
                continue;
            const std::uint16_t current = voxels[i];
            // A more severe structure keeps its voxel; so does any structure against an ignored one
            // (the body, fat or muscle never erase the skin or each other).
            if (current == value || (current != 0 && (severity[current] > mine || mine == 0)))
                continue;
            changed[current] = true;
            changed[value] = true;
            voxels[i] = value;
        }
    }
    for (std::size_t v = 1; v < changed.size(); ++v)
        if (changed[v])
            result.changedLabels.push_back(static_cast<std::uint16_t>(v));
    return result;
}

imaging::LabelMap labelMapForExport(const imaging::LabelMap& labels, const std::vector<StructureRow>& rows)
{
    imaging::LabelMap copy = labels;
    std::map<std::uint16_t, const StructureRow*> byValue;
    for (const StructureRow& row : rows)
        byValue[row.style.labelValue] = &row;
    for (imaging::Segment& segment : copy.segments()) {
        auto found = byValue.find(segment.labelValue);
        if (found != byValue.end()) {
            segment.name = found->second->style.name;
            segment.colorRgb = found->second->style.colorRgb;
        }
    }
    return copy;
}

} // namespace np::gui
