#include "needleplan/gui/SearchExplanation.h"

#include "needleplan/planning/ClearanceField.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

namespace np::gui {

std::string formatMillimetres(double valueMm)
{
    const double rounded = std::round(valueMm * 10.0) / 10.0;
    std::ostringstream out;
    if (std::abs(rounded - std::round(rounded)) < 1e-9)
        out << static_cast<long long>(std::llround(rounded));
    else {
        out.setf(std::ios::fixed);
        out.precision(1);
        out << rounded;
    }
    return out.str();
}

std::string searchNoteText(const std::vector<std::string>& clauses)
{
    std::string text;
    for (const std::string& clause : clauses)
        text += (text.empty() ? "" : "; ") + clause;
    return text;
}

namespace {

using planning::RejectReason;
using planning::StructureClass;
using planning::StructureSpec;

/// The structure of class `cls` with the smallest slack (distance − radius − margin) at `pointLps`:
/// the one that stopped a ray there. nullptr when none of that class is prepared.
const StructureSpec* culpritAt(const planning::ClearanceFieldSet& fields,
                               const std::vector<StructureSpec>& structures, StructureClass cls,
                               const Vec3& pointLps, double radiusMm)
{
    const StructureSpec* best = nullptr;
    double bestSlack = std::numeric_limits<double>::infinity();
    for (const StructureSpec& spec : structures) {
        if (spec.structureClass != cls || !fields.field(spec.labelValue))
            continue;
        const double slack = fields.distanceMm(spec.labelValue, pointLps) - radiusMm - spec.marginMm;
        if (!best || slack < bestSlack) {
            best = &spec;
            bestSlack = slack;
        }
    }
    return best;
}

std::string percentOf(int count, int total)
{
    return std::to_string(count) + " of " + std::to_string(total) + " directions";
}

} // namespace

std::vector<std::string> explainEmptySearch(const planning::SearchResult& result,
                                            const planning::ClearanceFieldSet& fields,
                                            const std::vector<StructureSpec>& structures, double radiusMm,
                                            double usableLengthMm, double tipZoneMm)
{
    std::vector<std::string> clauses;
    if (!result.candidates.empty())
        return clauses;
    const int total = static_cast<int>(result.directions.size());
    if (total == 0)
        return {"no direction was searched"};
    const std::string tip = formatMillimetres(tipZoneMm);

    // The target itself: inside an obstacle deeper than the tip zone, or within a forbidden margin.
    const Vec3& targetLps = result.targetLps;
    for (const StructureSpec& spec : structures) {
        if (!fields.field(spec.labelValue))
            continue;
        const double d = fields.distanceMm(spec.labelValue, targetLps);
        // A ray is first checked against obstacles at the tip-zone boundary, tipZoneMm from the target.
        if (spec.structureClass == StructureClass::Obstacle && d < 0.0 &&
            -(d - radiusMm - spec.marginMm) > tipZoneMm)
            clauses.push_back("the target lies " + formatMillimetres(-d) + " mm inside " + spec.name +
                              "; obstacles may only be touched in the last " + tip + " mm");
        else if (spec.structureClass == StructureClass::Forbidden && d - radiusMm < spec.marginMm)
            clauses.push_back(d - radiusMm <= 0.0
                                  ? "the target lies inside " + spec.name + ", a forbidden structure"
                                  : "the target lies " + formatMillimetres(d - radiusMm) + " mm from " +
                                        spec.name + ", inside its " + formatMillimetres(spec.marginMm) +
                                        " mm margin");
    }
    if (!clauses.empty())
        return clauses;

    // Tally the rejections by reason and, for structures, by the structure that stopped the ray.
    std::map<std::pair<int, std::string>, int> tally; // (reason, structure) → directions
    std::map<std::string, double> margins;
    double shortestTooLong = std::numeric_limits<double>::infinity();
    int feasible = 0;
    for (const planning::DirectionResult& d : result.directions) {
        if (d.feasible) {
            ++feasible;
            continue;
        }
        std::string name;
        if (d.reason == RejectReason::Forbidden || d.reason == RejectReason::Obstacle) {
            const StructureClass cls =
                d.reason == RejectReason::Forbidden ? StructureClass::Forbidden : StructureClass::Obstacle;
            const Vec3 stopLps = targetLps + d.directionLps * static_cast<double>(d.depthMm);
            if (const StructureSpec* spec = culpritAt(fields, structures, cls, stopLps, radiusMm)) {
                name = spec->name;
                margins[name] = spec->marginMm;
            }
        }
        if (d.reason == RejectReason::TooLong && d.reachedSkin)
            shortestTooLong = std::min(shortestTooLong, static_cast<double>(d.depthMm));
        ++tally[{static_cast<int>(d.reason), name}];
    }
    std::vector<std::pair<int, std::pair<int, std::string>>> ordered;
    for (const auto& [key, count] : tally)
        ordered.push_back({count, key});
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });

    const bool every = feasible == 0 && ordered.size() == 1;
    for (const auto& [count, key] : ordered) {
        const auto reason = static_cast<RejectReason>(key.first);
        const std::string& name = key.second;
        const std::string who = every ? std::string("every direction") : percentOf(count, total);
        switch (reason) {
        case RejectReason::Forbidden:
            clauses.push_back(who + (every ? " passes" : " pass") + " within " +
                              formatMillimetres(margins[name]) + " mm of " +
                              (name.empty() ? std::string("a forbidden structure") : name));
            break;
        case RejectReason::Obstacle:
            clauses.push_back(who + (every ? " meets " : " meet ") +
                              (name.empty() ? std::string("an obstacle") : name) + " before the last " + tip +
                              " mm, where obstacles may be touched");
            break;
        case RejectReason::TooLong:
            clauses.push_back(who + (every ? " reaches" : " reach") + " the skin beyond the needle's " +
                              formatMillimetres(usableLengthMm) + " mm usable length" +
                              (std::isfinite(shortestTooLong)
                                   ? " (the shortest is " + formatMillimetres(shortestTooLong) + " mm)"
                                   : std::string()));
            break;
        case RejectReason::NoSkin:
            clauses.push_back(who + (every ? " leaves" : " leave") +
                              " the image before leaving the body (or the target lies outside the body)");
            break;
        case RejectReason::None:
            break;
        }
    }
    if (feasible > 0)
        clauses.push_back(
            std::to_string(feasible) +
            " directions passed the march, but the full evaluation called none of the best safe");
    return clauses;
}

} // namespace np::gui
