#include "needleplan/planning/SlicerMarkups.h"

#include "needleplan/imaging/Error.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace np::planning {

using nlohmann::json;

namespace {

constexpr const char* kSchemaUrl = "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/"
                                   "Markups/Resources/Schema/markups-schema-v1.0.3.json#";

json position(const Vec3& lps)
{
    const Vec3 written = lpsFromMarkupsPosition(lps, MarkupsCoordinateSystem::Lps);
    return json::array({written.x, written.y, written.z});
}

json controlPoint(int id, const std::string& label, const Vec3& lps)
{
    return {{"id", std::to_string(id)},  {"label", label},
            {"description", ""},         {"associatedNodeID", ""},
            {"position", position(lps)}, {"orientation", {-1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 1.0}},
            {"selected", true},          {"locked", false},
            {"visibility", true},        {"positionStatus", "defined"}};
}

json markup(const char* type, const std::string& name, const json& points)
{
    return {{"type", type},
            {"name", name},
            {"coordinateSystem", "LPS"},
            {"coordinateUnits", "mm"},
            {"locked", false},
            {"fixedNumberOfControlPoints", std::string(type) == "Line"},
            {"labelFormat", "%N-%d"},
            {"lastUsedControlPointNumber", static_cast<int>(points.size())},
            {"controlPoints", points}};
}

/// Keys of a markup and of a control point that NeedlePlan reads or knowingly ignores.
const std::set<std::string> kMarkupKeys = {"type",
                                           "name",
                                           "coordinateSystem",
                                           "coordinateUnits",
                                           "locked",
                                           "fixedNumberOfControlPoints",
                                           "labelFormat",
                                           "lastUsedControlPointNumber",
                                           "controlPoints",
                                           "measurements",
                                           "display",
                                           "description"};
const std::set<std::string> kPointKeys = {"id",         "label",         "description", "associatedNodeID",
                                          "position",   "orientation",   "selected",    "locked",
                                          "visibility", "positionStatus"};

} // namespace

Vec3 lpsFromMarkupsPosition(const Vec3& position, MarkupsCoordinateSystem system)
{
    return system == MarkupsCoordinateSystem::Ras ? Vec3{-position.x, -position.y, position.z} : position;
}

json markupsFromPlan(const Plan& plan)
{
    json markups = json::array();
    json targets = json::array();
    int id = 0;
    for (const auto& target : plan.targets)
        targets.push_back(controlPoint(++id, target.name, target.targetLps));
    markups.push_back(markup("Fiducial", "targets", targets));
    for (const auto& target : plan.targets)
        for (const auto& planned : target.trajectories) {
            json points = json::array();
            points.push_back(controlPoint(1, "entry", planned.trajectory.entryLps));
            points.push_back(controlPoint(2, "target", planned.trajectory.targetLps));
            markups.push_back(markup("Line", target.name + " #" + std::to_string(planned.rank), points));
        }
    return {{"@schema", kSchemaUrl}, {"markups", markups}};
}

void saveMarkups(const Plan& plan, const std::string& path)
{
    writeFileAtomically(path,
                        markupsFromPlan(plan).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

namespace {

MarkupsContent parseChecked(const json& document, const std::string& source)
{
    auto fail = [&](const std::string& where, const std::string& what) {
        throw Error(ErrorCode::CorruptData, source + ": " + where + ": " + what);
    };
    MarkupsContent content;
    if (!document.is_object())
        fail("document", "a markups file must be a JSON object");
    const auto list = document.find("markups");
    if (list == document.end() || !list->is_array())
        fail("document", "no \"markups\" list (not a 3D Slicer markups file)");
    for (auto it = document.begin(); it != document.end(); ++it)
        if (it.key() != "@schema" && it.key() != "markups")
            content.warnings.push_back(source + ": unknown key \"" + it.key() + "\" ignored");
    for (std::size_t m = 0; m < list->size(); ++m) {
        const json& item = (*list)[m];
        const std::string where = "markups[" + std::to_string(m) + "]";
        if (!item.is_object())
            fail(where, "expected an object");
        const std::string type = item.value("type", std::string());
        const std::string name = item.contains("name") && item["name"].is_string()
                                     ? item["name"].get<std::string>()
                                     : std::string();
        if (type != "Fiducial" && type != "Line") {
            content.warnings.push_back(source + ": " + where + " (\"" + name + "\"): markup type \"" + type +
                                       "\" is not a point list or a line; skipped");
            continue;
        }
        for (auto key = item.begin(); key != item.end(); ++key)
            if (!kMarkupKeys.count(key.key()))
                content.warnings.push_back(source + ": " + where + ": unknown key \"" + key.key() +
                                           "\" ignored");
        MarkupsCoordinateSystem system = MarkupsCoordinateSystem::Lps;
        const std::string stated = item.value("coordinateSystem", std::string("LPS"));
        if (stated == "RAS")
            system = MarkupsCoordinateSystem::Ras;
        else if (stated != "LPS")
            fail(where + ".coordinateSystem", "\"" + stated + "\" is neither LPS nor RAS");
        if (item.contains("coordinateUnits")) {
            const json& units = item["coordinateUnits"];
            const std::string unit = units.is_string() ? units.get<std::string>()
                                     : units.is_array() && !units.empty() && units[0].is_string()
                                         ? units[0].get<std::string>()
                                         : std::string("?");
            if (unit != "mm")
                fail(where + ".coordinateUnits", "only mm is supported (found \"" + unit + "\")");
        }
        const auto points = item.find("controlPoints");
        if (points == item.end() || !points->is_array())
            fail(where, "no \"controlPoints\" list");
        std::vector<MarkupsPoint> defined;
        for (std::size_t p = 0; p < points->size(); ++p) {
            const json& point = (*points)[p];
            const std::string at = where + ".controlPoints[" + std::to_string(p) + "]";
            if (!point.is_object())
                fail(at, "expected an object");
            for (auto key = point.begin(); key != point.end(); ++key)
                if (!kPointKeys.count(key.key()))
                    content.warnings.push_back(source + ": " + at + ": unknown key \"" + key.key() +
                                               "\" ignored");
            const std::string status = point.value("positionStatus", std::string("defined"));
            if (status != "defined") {
                content.warnings.push_back(source + ": " + at + ": position " + status + "; skipped");
                continue;
            }
            const auto value = point.find("position");
            if (value == point.end() || !value->is_array() || value->size() != 3 ||
                !(*value)[0].is_number() || !(*value)[1].is_number() || !(*value)[2].is_number())
                fail(at + ".position", "expected [x, y, z] numbers");
            const Vec3 written{(*value)[0].get<double>(), (*value)[1].get<double>(),
                               (*value)[2].get<double>()};
            if (!std::isfinite(written.x) || !std::isfinite(written.y) || !std::isfinite(written.z))
                fail(at + ".position", "coordinates must be finite");
            const std::string label = point.contains("label") && point["label"].is_string()
                                          ? point["label"].get<std::string>()
                                          : std::string();
            defined.push_back({label, lpsFromMarkupsPosition(written, system)});
        }
        if (type == "Fiducial") {
            for (auto& point : defined) {
                if (point.label.empty())
                    point.label = (name.empty() ? std::string("point") : name) + "-" +
                                  std::to_string(content.points.size() + 1);
                content.points.push_back(point);
            }
            continue;
        }
        if (defined.size() != 2)
            fail(where,
                 "a line needs two defined control points (found " + std::to_string(defined.size()) + ")");
        const bool secondIsEntry = defined[1].label == "entry" || defined[0].label == "target";
        MarkupsLine line;
        line.name = name.empty() ? "line " + std::to_string(content.lines.size() + 1) : name;
        line.entryLps = defined[secondIsEntry ? 1 : 0].positionLps;
        line.targetLps = defined[secondIsEntry ? 0 : 1].positionLps;
        if (distance(line.entryLps, line.targetLps) < 1e-3)
            fail(where, "the line's two points coincide");
        content.lines.push_back(line);
    }
    return content;
}

} // namespace

MarkupsContent parseMarkups(const json& document, const std::string& source)
{
    try {
        return parseChecked(document, source);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, source + ": unexpected content (" + e.what() + ")");
    }
}

MarkupsContent loadMarkups(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::NotFound, path + ": cannot open the markups file");
    std::stringstream text;
    text << in.rdbuf();
    json document;
    try {
        document = json::parse(text.str());
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": not valid JSON (" + e.what() + ")");
    }
    return parseMarkups(document, path);
}

std::vector<MarkupsTrajectoryPlacement> placeMarkupsInPlan(Plan& plan, const MarkupsContent& markups,
                                                           std::vector<std::string>& notes)
{
    auto findTarget = [&](const std::string& name) -> int {
        for (std::size_t t = 0; t < plan.targets.size(); ++t)
            if (plan.targets[t].name == name)
                return static_cast<int>(t);
        return -1;
    };
    for (const auto& point : markups.points) {
        const int existing = findTarget(point.label);
        if (existing < 0) {
            PlanTarget target;
            target.name = point.label;
            target.targetLps = point.positionLps;
            plan.targets.push_back(target);
            notes.push_back("target \"" + point.label + "\" added");
        } else if (distance(plan.targets[static_cast<std::size_t>(existing)].targetLps, point.positionLps) >
                   1e-3) {
            PlanTarget& target = plan.targets[static_cast<std::size_t>(existing)];
            target.targetLps = point.positionLps;
            if (!target.trajectories.empty())
                notes.push_back("target \"" + point.label + "\" moved; its " +
                                std::to_string(target.trajectories.size()) +
                                " trajectories no longer reach it and are dropped");
            else
                notes.push_back("target \"" + point.label + "\" moved");
            target.trajectories.clear();
        }
    }
    std::vector<MarkupsTrajectoryPlacement> placements;
    for (const auto& line : markups.lines) {
        int owner = -1;
        std::size_t longest = 0;
        for (std::size_t t = 0; t < plan.targets.size(); ++t) {
            const std::string& name = plan.targets[t].name;
            const bool prefix = line.name == name || line.name.rfind(name + " #", 0) == 0;
            if (prefix && name.size() >= longest) {
                owner = static_cast<int>(t);
                longest = name.size();
            }
        }
        if (owner < 0)
            for (std::size_t t = 0; t < plan.targets.size(); ++t)
                if (distance(plan.targets[t].targetLps, line.targetLps) <= 1.0) {
                    owner = static_cast<int>(t);
                    break;
                }
        if (owner < 0) {
            PlanTarget target;
            target.name = line.name;
            target.targetLps = line.targetLps;
            plan.targets.push_back(target);
            owner = static_cast<int>(plan.targets.size() - 1);
            notes.push_back("target \"" + line.name + "\" added at the end of its line");
        }
        MarkupsTrajectoryPlacement placement;
        placement.targetIndex = static_cast<std::size_t>(owner);
        placement.trajectory = Trajectory{line.entryLps, line.targetLps, plan.needle};
        placement.lineName = line.name;
        if (distance(plan.targets[placement.targetIndex].targetLps, line.targetLps) > 1.0)
            notes.push_back(
                "line \"" + line.name + "\" ends " +
                std::to_string(distance(plan.targets[placement.targetIndex].targetLps, line.targetLps)) +
                " mm from target \"" + plan.targets[placement.targetIndex].name + "\"; evaluated as drawn");
        placements.push_back(placement);
    }
    return placements;
}

} // namespace np::planning
