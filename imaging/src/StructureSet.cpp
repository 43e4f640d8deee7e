#include "needleplan/imaging/StructureSet.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <map>
#include <set>

namespace np::imaging {

std::int64_t StructureMask::voxelCount() const
{
    std::int64_t count = 0;
    for (const std::uint8_t v : voxels)
        count += v != 0;
    return count;
}

StructureMask& StructureSet::add(const std::string& name, const std::array<double, 3>& colorRgb)
{
    std::uint16_t largest = 0;
    for (const auto& s : m_structures)
        largest = std::max(largest, s.segment.labelValue);
    if (largest == 0xFFFF)
        throw Error(ErrorCode::TooLarge, "too many structures: label values are exhausted");
    StructureMask mask;
    mask.segment.name = name;
    mask.segment.labelValue = static_cast<std::uint16_t>(largest + 1);
    mask.segment.colorRgb = colorRgb;
    mask.voxels.assign(static_cast<std::size_t>(m_geometry.voxelCount()), 0);
    m_structures.push_back(std::move(mask));
    return m_structures.back();
}

const StructureMask* StructureSet::find(const std::string& name) const
{
    for (const auto& s : m_structures)
        if (s.segment.name == name)
            return &s;
    return nullptr;
}

StructureMask* StructureSet::find(const std::string& name)
{
    for (auto& s : m_structures)
        if (s.segment.name == name)
            return &s;
    return nullptr;
}

double StructureSet::voxelVolumeMl() const
{
    return m_geometry.spacing.x * m_geometry.spacing.y * m_geometry.spacing.z / 1000.0;
}

std::int64_t StructureSet::overlapVoxelCount() const
{
    const auto n = static_cast<std::size_t>(m_geometry.voxelCount());
    std::int64_t overlaps = 0;
    for (std::size_t v = 0; v < n; ++v) {
        int covering = 0;
        for (const auto& s : m_structures)
            covering += s.voxels[v] != 0;
        overlaps += covering > 1;
    }
    return overlaps;
}

LabelMap StructureSet::toLabelMap() const
{
    LabelMap labels(m_geometry);
    std::set<std::uint16_t> used;
    bool ownValuesUsable = true;
    for (const auto& s : m_structures)
        if (s.segment.labelValue == 0 || !used.insert(s.segment.labelValue).second)
            ownValuesUsable = false;
    std::uint16_t next = 1;
    for (const auto& s : m_structures) {
        if (s.voxels.size() != labels.labels().size())
            throw Error(ErrorCode::Internal,
                        "structure '" + s.segment.name + "' does not match the grid of its set");
        Segment segment = s.segment;
        if (!ownValuesUsable)
            segment.labelValue = next++;
        labels.segments().push_back(segment);
        std::uint16_t* out = labels.data();
        for (std::size_t v = 0; v < s.voxels.size(); ++v)
            if (s.voxels[v])
                out[v] = segment.labelValue;
    }
    return labels;
}

StructureSet StructureSet::fromLabelMap(const LabelMap& labels)
{
    StructureSet set(labels.geometry());
    std::map<std::uint16_t, std::size_t> indexOfValue;
    for (const auto& segment : labels.segments()) {
        if (segment.labelValue == 0 || indexOfValue.count(segment.labelValue))
            continue;
        StructureMask mask;
        mask.segment = segment;
        mask.voxels.assign(labels.labels().size(), 0);
        indexOfValue[segment.labelValue] = set.m_structures.size();
        set.m_structures.push_back(std::move(mask));
    }
    const std::uint16_t* in = labels.data();
    for (std::size_t v = 0; v < labels.labels().size(); ++v) {
        const std::uint16_t value = in[v];
        if (value == 0)
            continue;
        auto found = indexOfValue.find(value);
        if (found == indexOfValue.end()) {
            StructureMask mask;
            mask.segment.name = "label_" + std::to_string(value);
            mask.segment.labelValue = value;
            mask.voxels.assign(labels.labels().size(), 0);
            found = indexOfValue.emplace(value, set.m_structures.size()).first;
            set.m_structures.push_back(std::move(mask));
        }
        set.m_structures[found->second].voxels[v] = 1;
    }
    return set;
}

} // namespace np::imaging
