#include "needleplan/planning/VertebralLevel.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>

namespace np::planning {

namespace {

std::string lower(std::string text)
{
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

/// "L4" from "vertebra_L4" / "vertebrae_L4", "sacrum" from "sacrum"; "" for other names.
std::string levelOf(const std::string& name)
{
    const std::string low = lower(name);
    if (low == "sacrum")
        return "sacrum";
    for (const char* prefix : {"vertebra_", "vertebrae_"}) {
        const std::string p = prefix;
        if (low.rfind(p, 0) == 0 && low.size() > p.size()) {
            std::string level = name.substr(p.size());
            std::transform(level.begin(), level.end(), level.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            return level;
        }
    }
    return {};
}

} // namespace

bool isVertebraName(const std::string& name)
{
    return !levelOf(name).empty();
}

std::optional<VertebralLevel> vertebralLevelAt(const imaging::LabelMap& labels, const Vec3& pointLps,
                                               double maxDistanceMm)
{
    std::map<std::uint16_t, const imaging::Segment*> vertebrae;
    for (const auto& segment : labels.segments())
        if (segment.labelValue != 0 && isVertebraName(segment.name))
            vertebrae[segment.labelValue] = &segment;
    if (vertebrae.empty() || !(maxDistanceMm > 0.0) || !std::isfinite(maxDistanceMm))
        return std::nullopt;
    const imaging::Geometry& g = labels.geometry();
    // The voxel box that holds the sphere of maxDistanceMm around the point: the extent along each
    // index axis is maxDistance / spacing (the direction matrix is a rotation).
    const Vec3 centreIjk = g.ijkFromLps(pointLps);
    if (!std::isfinite(centreIjk.x) || !std::isfinite(centreIjk.y) || !std::isfinite(centreIjk.z))
        return std::nullopt;
    std::int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
        const double reach = maxDistanceMm / g.spacing[a];
        const double from = std::floor(centreIjk[a] - reach), to = std::ceil(centreIjk[a] + reach);
        if (to < 0.0 || from > static_cast<double>(g.size[a] - 1))
            return std::nullopt;
        lo[a] = static_cast<std::int64_t>(std::max(0.0, from));
        hi[a] = static_cast<std::int64_t>(std::min(static_cast<double>(g.size[a] - 1), to));
    }
    std::map<std::uint16_t, double> nearest; // label → squared distance in mm²
    const double limit = maxDistanceMm * maxDistanceMm;
    for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
        for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
            for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                const std::uint16_t label = labels.at(i, j, k);
                if (label == 0 || vertebrae.count(label) == 0)
                    continue;
                const Vec3 d = g.lpsFromIjk({static_cast<double>(i), static_cast<double>(j),
                                             static_cast<double>(k)}) -
                               pointLps;
                const double squared = d.x * d.x + d.y * d.y + d.z * d.z;
                if (squared > limit)
                    continue;
                auto [it, inserted] = nearest.emplace(label, squared);
                if (!inserted && squared < it->second)
                    it->second = squared;
            }
    if (nearest.empty())
        return std::nullopt;
    std::vector<std::pair<double, std::uint16_t>> ranked;
    for (const auto& [label, squared] : nearest)
        ranked.emplace_back(std::sqrt(squared), label);
    std::sort(ranked.begin(), ranked.end());
    VertebralLevel result;
    result.structure = vertebrae.at(ranked[0].second)->name;
    result.level = levelOf(result.structure);
    result.distanceMm = ranked[0].first;
    if (ranked.size() > 1 && ranked[1].first - ranked[0].first <= 2.0) {
        result.ambiguous = true;
        result.runnerUp = levelOf(vertebrae.at(ranked[1].second)->name);
    }
    return result;
}

} // namespace np::planning
