#include "needleplan/planning/StructureAssembly.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/planning/Terminology.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <utility>

namespace np::planning {

namespace {

bool hardClass(StructureClass c)
{
    return c == StructureClass::Forbidden || c == StructureClass::Obstacle;
}

std::string millimetres(double value)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f mm", value);
    return buffer;
}

/// Name not used yet: `name`, or `name_2`, `name_3`, ... (with a note).
std::string uniqueName(std::set<std::string>& taken, std::string name, const std::string& source,
                       std::vector<std::string>* notes)
{
    if (name.empty())
        name = "structure";
    if (taken.count(name)) {
        std::string renamed;
        for (int n = 2;; ++n) {
            renamed = name + "_" + std::to_string(n);
            if (!taken.count(renamed))
                break;
        }
        if (notes)
            notes->push_back("\"" + name + "\" from " + source + " is called \"" + renamed +
                             "\" (the name is already used)");
        name = renamed;
    }
    taken.insert(name);
    return name;
}

/// Where the inputs' voxels are read from: one source per label map, whose inputs are all found in
/// one pass through a value-to-input table, and one source per mask.
struct VoxelSource
{
    const imaging::LabelMap* labelMap = nullptr;
    std::vector<std::int32_t> inputOfValue; ///< label value -> input index, -1 for none
    std::size_t maskInput = 0;              ///< the input of a mask source
};

std::vector<VoxelSource> groupVoxelSources(const std::vector<StructureInput>& inputs)
{
    std::vector<VoxelSource> sources;
    for (std::size_t s = 0; s < inputs.size(); ++s) {
        if (inputs[s].mask) {
            VoxelSource source;
            source.maskInput = s;
            sources.push_back(std::move(source));
            continue;
        }
        // Join the label map's source unless that value is already claimed there.
        auto found = std::find_if(sources.begin(), sources.end(), [&](const VoxelSource& source) {
            return source.labelMap == inputs[s].labelMap && source.inputOfValue[inputs[s].sourceLabel] < 0;
        });
        if (found == sources.end()) {
            VoxelSource source;
            source.labelMap = inputs[s].labelMap;
            source.inputOfValue.assign(65536, -1);
            sources.push_back(std::move(source));
            found = sources.end() - 1;
        }
        found->inputOfValue[inputs[s].sourceLabel] = static_cast<std::int32_t>(s);
    }
    return sources;
}

/// Calls `visit(v, s)` for every voxel index v of every input s, one pass per source.
template <typename Visit>
void forEachMemberVoxel(const std::vector<VoxelSource>& sources, const std::vector<StructureInput>& inputs,
                        std::size_t voxelCount, Visit&& visit)
{
    for (const VoxelSource& source : sources) {
        if (source.labelMap) {
            const std::uint16_t* labels = source.labelMap->data();
            const std::int32_t* inputOfValue = source.inputOfValue.data();
            for (std::size_t v = 0; v < voxelCount; ++v) {
                const std::int32_t s = inputOfValue[labels[v]];
                if (s >= 0)
                    visit(v, static_cast<std::size_t>(s));
            }
        } else {
            const std::uint8_t* mask = inputs[source.maskInput].mask->voxels.data();
            for (std::size_t v = 0; v < voxelCount; ++v)
                if (mask[v])
                    visit(v, source.maskInput);
        }
    }
}

} // namespace

void appendStructureInputs(std::vector<StructureInput>& inputs, const imaging::LabelMap& labels,
                           const std::string& source, std::vector<std::string>* notes)
{
    std::set<std::string> taken;
    for (const auto& input : inputs)
        taken.insert(input.spec.name);
    std::vector<bool> named(65536, false);
    auto addInput = [&](const imaging::Segment& segment, std::uint16_t value) {
        StructureInput input;
        input.spec = classifySegment(segment, notes);
        input.spec.name = uniqueName(taken, segment.name, source, notes);
        input.spec.labelValue = 0;
        input.source = source;
        input.labelMap = &labels;
        input.sourceLabel = value;
        inputs.push_back(std::move(input));
    };
    for (const auto& segment : labels.segments()) {
        if (segment.labelValue == 0 || named[segment.labelValue])
            continue;
        named[segment.labelValue] = true;
        addInput(segment, segment.labelValue);
    }
    std::vector<bool> present(65536, false);
    const std::uint16_t* data = labels.data();
    const auto count = static_cast<std::size_t>(labels.geometry().voxelCount());
    for (std::size_t v = 0; v < count; ++v)
        present[data[v]] = true;
    for (std::size_t value = 1; value < 65536; ++value)
        if (present[value] && !named[value]) {
            imaging::Segment unnamed;
            unnamed.name = "label_" + std::to_string(value);
            addInput(unnamed, static_cast<std::uint16_t>(value));
        }
}

void appendStructureInputs(std::vector<StructureInput>& inputs, const imaging::StructureSet& set,
                           const std::string& source, std::vector<std::string>* notes)
{
    std::set<std::string> taken;
    for (const auto& input : inputs)
        taken.insert(input.spec.name);
    for (const imaging::StructureMask& mask : set.structures()) {
        StructureInput input;
        input.spec = classifySegment(mask.segment, notes);
        input.spec.name = uniqueName(taken, mask.segment.name, source, notes);
        input.spec.labelValue = 0;
        input.source = source;
        input.mask = &mask;
        inputs.push_back(std::move(input));
    }
}

int structureSeverity(StructureClass structureClass)
{
    switch (structureClass) {
    case StructureClass::Ignored:
        return 0;
    case StructureClass::Target:
        return 1;
    case StructureClass::Caution:
        return 2;
    case StructureClass::Obstacle:
        return 3;
    case StructureClass::Forbidden:
        return 4;
    }
    return 0;
}

bool takesPrecedence(const StructureSpec& a, const StructureSpec& b)
{
    const int sa = structureSeverity(a.structureClass), sb = structureSeverity(b.structureClass);
    if (sa != sb)
        return sa > sb;
    return a.marginMm > b.marginMm;
}

StructureAssembly assembleStructures(const imaging::Geometry& grid, const std::vector<StructureInput>& inputs)
{
    if (inputs.size() > 65535)
        throw Error(ErrorCode::InvalidArgument, "more than 65535 structures cannot share one label map");
    const auto voxelCount = static_cast<std::size_t>(grid.voxelCount());
    for (const auto& input : inputs) {
        if (!input.mask && !input.labelMap)
            throw Error(ErrorCode::InvalidArgument, "structure \"" + input.spec.name + "\" has no voxels");
        if (input.mask ? input.mask->voxels.size() != voxelCount
                       : static_cast<std::size_t>(input.labelMap->geometry().voxelCount()) != voxelCount ||
                             input.labelMap->labels().size() != voxelCount)
            throw Error(ErrorCode::InvalidArgument, "structure \"" + input.spec.name + "\" from " +
                                                        input.source +
                                                        " is not on the planning grid (mask size differs)");
    }

    const std::size_t n = inputs.size();
    std::vector<StructureSpec> specs(n);
    for (std::size_t s = 0; s < n; ++s) {
        specs[s] = inputs[s].spec;
        specs[s].labelValue = static_cast<std::uint16_t>(s + 1);
    }
    std::vector<bool> raised(n, false);
    std::vector<std::string> raiseNotes;

    StructureAssembly result;
    result.labels = imaging::LabelMap(grid);
    std::uint16_t* labels = result.labels.data();
    // Pairs (loser, owner) with the number of voxels the loser gave up.
    std::map<std::pair<std::size_t, std::size_t>, std::int64_t> losses;
    const std::vector<VoxelSource> sources = groupVoxelSources(inputs);
    // memberCount[s * (n + 1) + value]: voxels of input s whose flattened label is `value`.
    std::vector<std::int64_t> memberCount((n + 1) * n);
    for (std::size_t pass = 0; pass <= n; ++pass) {
        // The strongest rule owns a shared voxel; among equal rules the one given first.
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            if (takesPrecedence(specs[b], specs[a]))
                return true;
            if (takesPrecedence(specs[a], specs[b]))
                return false;
            return a > b;
        });
        std::vector<std::size_t> rankOfValue(n + 1, 0); // rank 0: background
        for (std::size_t r = 0; r < n; ++r)
            rankOfValue[specs[order[r]].labelValue] = r + 1;
        std::fill(labels, labels + voxelCount, std::uint16_t{0});
        forEachMemberVoxel(sources, inputs, voxelCount, [&](std::size_t v, std::size_t s) {
            const std::uint16_t value = specs[s].labelValue;
            if (rankOfValue[value] > rankOfValue[labels[v]])
                labels[v] = value;
        });
        losses.clear();
        std::fill(memberCount.begin(), memberCount.end(), 0);
        forEachMemberVoxel(sources, inputs, voxelCount,
                           [&](std::size_t v, std::size_t s) { ++memberCount[s * (n + 1) + labels[v]]; });
        for (std::size_t s = 0; s < n; ++s) {
            const std::uint16_t own = specs[s].labelValue;
            for (std::size_t owner = 1; owner <= n; ++owner)
                if (owner != own && memberCount[s * (n + 1) + owner] > 0)
                    losses[{s, owner - 1}] = memberCount[s * (n + 1) + owner];
        }
        // A hard structure that lost voxels to one with a smaller margin would be checked less
        // strictly there: raise the owner's margin and flatten again (margins only grow).
        bool changed = false;
        for (const auto& [pair, count] : losses) {
            const auto [loser, owner] = pair;
            if (hardClass(specs[loser].structureClass) && hardClass(specs[owner].structureClass) &&
                specs[loser].marginMm > specs[owner].marginMm) {
                raiseNotes.push_back(
                    "margin of \"" + specs[owner].name + "\" raised from " +
                    millimetres(specs[owner].marginMm) + " to " + millimetres(specs[loser].marginMm) +
                    ": it overrides " + std::to_string(count) + " voxels of \"" + specs[loser].name + "\" (" +
                    toString(specs[loser].structureClass) + ", " + millimetres(specs[loser].marginMm) + ")");
                specs[owner].marginMm = specs[loser].marginMm;
                raised[owner] = true;
                changed = true;
            }
        }
        if (!changed)
            break;
    }

    for (std::size_t s = 0; s < n; ++s) {
        std::array<double, 3> colorRgb{1, 1, 1};
        std::int64_t count = 0;
        if (inputs[s].mask) {
            colorRgb = inputs[s].mask->segment.colorRgb;
            count = inputs[s].mask->voxelCount();
        } else {
            for (const auto& segment : inputs[s].labelMap->segments())
                if (segment.labelValue == inputs[s].sourceLabel) {
                    colorRgb = segment.colorRgb;
                    break;
                }
        }
        if (!inputs[s].mask)
            count = std::accumulate(memberCount.begin() + static_cast<std::ptrdiff_t>(s * (n + 1)),
                                    memberCount.begin() + static_cast<std::ptrdiff_t>((s + 1) * (n + 1)),
                                    std::int64_t{0});
        result.labels.segments().push_back({specs[s].name, specs[s].labelValue, colorRgb});
        AssembledStructure detail;
        detail.spec = specs[s];
        detail.source = inputs[s].source;
        detail.voxelCount = count;
        detail.keptVoxelCount = detail.voxelCount;
        detail.marginRaised = raised[s];
        result.details.push_back(detail);
    }
    for (const auto& [pair, count] : losses) {
        const auto [loser, owner] = pair;
        result.details[loser].keptVoxelCount -= count;
        if (structureSeverity(specs[loser].structureClass) > structureSeverity(StructureClass::Ignored))
            result.notes.push_back("\"" + specs[loser].name + "\" (" + toString(specs[loser].structureClass) +
                                   ") overlaps \"" + specs[owner].name + "\" (" +
                                   toString(specs[owner].structureClass) + ", " +
                                   millimetres(specs[owner].marginMm) + ") in " + std::to_string(count) +
                                   " voxels; they count as \"" + specs[owner].name + "\"");
    }
    result.notes.insert(result.notes.end(), raiseNotes.begin(), raiseNotes.end());
    result.structures = std::move(specs);
    return result;
}

} // namespace np::planning
