#include "needleplan/planning/PlanDocument.h"

#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/Error.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <unistd.h>

namespace np::planning {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json vec(const Vec3& v)
{
    return json::array({v.x, v.y, v.z});
}
json number(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json carmToJson(const CarmAngles& c)
{
    return {{"primaryDeg", c.primaryDeg},
            {"secondaryDeg", c.secondaryDeg},
            {"obliqueDeg", c.obliqueDeg},
            {"tiltDeg", c.tiltDeg},
            {"detectorDirectionLps", vec(c.detectorDirectionLps)}};
}

json anglesToJson(const TrajectoryAngles& a)
{
    json j = {{"craniocaudalDeg", a.craniocaudalDeg}, {"craniocaudal", a.craniocaudalName},
              {"mediolateralDeg", a.mediolateralDeg}, {"mediolateralSide", a.mediolateralSide},
              {"bullseye", carmToJson(a.bullseye)},   {"progression", carmToJson(a.progression)}};
    if (a.towardMidline)
        j["towardMidline"] = *a.towardMidline;
    return j;
}

/// Reads typed values from a JSON object and names the key path in errors.
class Reader
{
public:
    Reader(const json& value, std::string path, const std::string& source)
        : m_value(value), m_path(std::move(path)), m_source(source)
    {
    }

    [[noreturn]] void fail(const std::string& what) const
    {
        throw Error(ErrorCode::CorruptData,
                    m_source + ": " + (m_path.empty() ? "document" : m_path) + ": " + what);
    }
    const json& at(const char* key) const
    {
        if (!m_value.is_object())
            fail("expected an object");
        const auto it = m_value.find(key);
        if (it == m_value.end())
            fail(std::string("missing \"") + key + "\"");
        return *it;
    }
    bool has(const char* key) const { return m_value.is_object() && m_value.contains(key); }
    Reader child(const char* key) const { return Reader(at(key), m_path + "." + key, m_source); }
    Reader element(const json& value, std::size_t index, const char* key) const
    {
        return Reader(value, m_path + "." + key + "[" + std::to_string(index) + "]", m_source);
    }
    double num(const char* key) const
    {
        const json& v = at(key);
        if (v.is_null())
            return std::numeric_limits<double>::infinity();
        if (!v.is_number())
            Reader(v, m_path + "." + key, m_source).fail("expected a number");
        return v.get<double>();
    }
    double num(const char* key, double fallback) const { return has(key) ? num(key) : fallback; }
    std::string str(const char* key, const std::string& fallback = {}) const
    {
        if (!has(key))
            return fallback;
        const json& v = at(key);
        if (!v.is_string())
            Reader(v, m_path + "." + key, m_source).fail("expected a string");
        return v.get<std::string>();
    }
    bool boolean(const char* key, bool fallback = false) const
    {
        if (!has(key))
            return fallback;
        const json& v = at(key);
        if (!v.is_boolean())
            Reader(v, m_path + "." + key, m_source).fail("expected true or false");
        return v.get<bool>();
    }
    Vec3 vec3(const char* key) const
    {
        const json& v = at(key);
        if (!v.is_array() || v.size() != 3 || !v[0].is_number() || !v[1].is_number() || !v[2].is_number())
            Reader(v, m_path + "." + key, m_source).fail("expected [x, y, z] numbers");
        const Vec3 r{v[0].get<double>(), v[1].get<double>(), v[2].get<double>()};
        if (!std::isfinite(r.x) || !std::isfinite(r.y) || !std::isfinite(r.z))
            Reader(v, m_path + "." + key, m_source).fail("coordinates must be finite");
        return r;
    }
    const json& list(const char* key) const
    {
        const json& v = at(key);
        if (!v.is_array())
            Reader(v, m_path + "." + key, m_source).fail("expected a list");
        return v;
    }

private:
    const json& m_value;
    std::string m_path;
    const std::string& m_source;
};

CarmAngles carmFromJson(const Reader& r)
{
    CarmAngles c;
    c.primaryDeg = r.num("primaryDeg");
    c.secondaryDeg = r.num("secondaryDeg");
    c.obliqueDeg = r.num("obliqueDeg", 0.0);
    c.tiltDeg = r.num("tiltDeg", 0.0);
    if (r.has("detectorDirectionLps"))
        c.detectorDirectionLps = r.vec3("detectorDirectionLps");
    return c;
}

TrajectoryAngles anglesFromJson(const Reader& r)
{
    TrajectoryAngles a;
    a.craniocaudalDeg = r.num("craniocaudalDeg");
    a.craniocaudalName = r.str("craniocaudal");
    a.mediolateralDeg = r.num("mediolateralDeg");
    a.mediolateralSide = r.str("mediolateralSide");
    if (r.has("towardMidline"))
        a.towardMidline = r.boolean("towardMidline");
    a.bullseye = carmFromJson(r.child("bullseye"));
    a.progression = carmFromJson(r.child("progression"));
    return a;
}

Needle needleFromJson(const Reader& r)
{
    Needle n;
    n.name = r.str("name");
    n.gauge = static_cast<int>(r.num("gauge"));
    n.outerDiameterMm = r.num("outerDiameterMm");
    n.usableLengthMm = r.num("usableLengthMm");
    n.activeTipMm = r.num("activeTipMm", 0.0);
    if (!(n.outerDiameterMm > 0.0 && n.outerDiameterMm < 10.0) ||
        !(n.usableLengthMm > 0.0 && n.usableLengthMm < 1000.0))
        r.fail("needle diameter or length out of range");
    return n;
}

json needleToJson(const Needle& n)
{
    return {{"name", n.name},
            {"gauge", n.gauge},
            {"outerDiameterMm", n.outerDiameterMm},
            {"usableLengthMm", n.usableLengthMm},
            {"activeTipMm", n.activeTipMm}};
}

ViolationKind violationKindFromText(const Reader& r, const std::string& text)
{
    for (ViolationKind k : {ViolationKind::Margin, ViolationKind::Obstacle, ViolationKind::Length})
        if (text == toString(k))
            return k;
    r.fail("unknown violation kind \"" + text + "\"");
}

StructureClass classFromText(const Reader& r, const std::string& text)
{
    try {
        return parseStructureClass(text);
    } catch (const Error& e) {
        r.fail(e.what());
    }
}

} // namespace

json evaluationToJson(const Trajectory& trajectory, const Evaluation& e)
{
    json clearances = json::array();
    for (const auto& c : e.clearances) {
        json item = {{"structure", c.structure},
                     {"clearanceMm", number(c.clearanceMm)},
                     {"marginMm", c.marginMm},
                     {"class", toString(c.structureClass)},
                     {"labelValue", c.labelValue},
                     {"closestShaftPointLps", vec(c.closestShaftPointLps)},
                     {"depthFromEntryMm", c.depthFromEntryMm},
                     {"violated", c.violated}};
        if (c.lowerBound) // the structure is farther than this; only the bound is known
            item["lowerBound"] = true;
        clearances.push_back(item);
    }
    json violations = json::array();
    for (const auto& v : e.violations)
        violations.push_back({{"kind", toString(v.kind)},
                              {"structure", v.structure},
                              {"clearanceMm", number(v.clearanceMm)},
                              {"marginMm", v.marginMm},
                              {"positionLps", vec(v.positionLps)},
                              {"depthFromEntryMm", v.depthFromEntryMm},
                              {"message", v.message}});
    json j = {{"entryLps", vec(trajectory.entryLps)},
              {"targetLps", vec(trajectory.targetLps)},
              {"needle", trajectory.needle.name},
              {"safe", e.safe},
              {"lengthMm", e.lengthMm},
              {"depthFromSkinMm", e.depthFromSkinMm},
              {"skinFound", e.skinFound},
              {"skinEntryLps", vec(e.skinEntryLps)},
              {"clearances", clearances},
              {"violations", violations},
              {"reasons", e.reasons},
              {"warnings", e.warnings},
              {"angles", anglesToJson(e.angles)}};
    if (e.skinAngleDeg)
        j["skinAngleDeg"] = *e.skinAngleDeg;
    if (e.closestIndex >= 0)
        j["closestStructure"] = e.clearances[static_cast<std::size_t>(e.closestIndex)].structure;
    return j;
}

std::size_t measurementPointCount(const std::string& kind)
{
    return kind == "distance" ? 2 : kind == "angle" ? 3 : kind == "ellipse" ? 3 : 0;
}

json planToJson(const Plan& plan)
{
    json structures = json::array();
    for (std::size_t n = 0; n < plan.structures.size(); ++n) {
        const StructureSpec& s = plan.structures[n];
        json item = {{"name", s.name},
                     {"labelValue", s.labelValue},
                     {"class", toString(s.structureClass)},
                     {"marginMm", s.marginMm}};
        if (!s.rule.empty()) // which rule classified it (terminology code, name, fallback)
            item["rule"] = s.rule;
        if (!s.adjustments.empty())
            item["adjustments"] = s.adjustments;
        if (n < plan.structureDisplays.size()) { // how the workstation showed it
            if (const auto& visible = plan.structureDisplays[n].visible)
                item["visible"] = *visible;
            if (const auto& opacity = plan.structureDisplays[n].opacity)
                item["opacity"] = *opacity;
        }
        structures.push_back(item);
    }
    json targets = json::array();
    for (const auto& t : plan.targets) {
        json trajectories = json::array();
        for (const auto& p : t.trajectories) {
            json j = evaluationToJson(p.trajectory, p.evaluation);
            j["rank"] = p.rank;
            j["origin"] = p.origin;
            j["score"] = number(p.score);
            j["pareto"] = p.pareto;
            j["needle"] = needleToJson(p.trajectory.needle);
            trajectories.push_back(j);
        }
        json target = {{"name", t.name},
                       {"targetLps", vec(t.targetLps)},
                       {"preset", t.preset},
                       {"directionsSearched", t.directionsSearched},
                       {"feasibleDirections", t.feasibleDirections},
                       {"trajectories", trajectories}};
        if (!t.vertebralLevel.empty())
            target["vertebralLevel"] = t.vertebralLevel;
        targets.push_back(target);
    }
    json measurements = json::array();
    for (const Measurement& m : plan.measurements) {
        json points = json::array();
        for (const Vec3& p : m.pointsLps)
            points.push_back(vec(p));
        measurements.push_back({{"kind", m.kind}, {"pointsLps", points}});
    }
    return {{"schema", kPlanSchema},
            {"coordinateSystem", "LPS"},
            {"measurements", measurements},
            {"units", {{"length", "mm"}, {"angle", "deg"}}},
            {"createdWith", plan.createdWith},
            {"image",
             {{"path", plan.image.path},
              {"seriesUid", plan.image.seriesUid},
              {"frameOfReferenceUid", plan.image.frameOfReferenceUid},
              {"patientPosition", plan.image.patientPosition},
              {"structuresPath", plan.image.structuresPath},
              {"segmentationPath", plan.image.segmentationPath}}},
            {"needle", needleToJson(plan.needle)},
            {"structures", structures},
            {"targets", targets}};
}

Plan planFromJson(const json& root, const std::string& source)
{
    const Reader r(root, "", source);
    if (!root.is_object())
        r.fail("a plan must be a JSON object");
    const std::string schema = r.str("schema");
    if (schema != kPlanSchema) {
        if (schema.rfind("needleplan.plan/", 0) == 0)
            throw Error(ErrorCode::Unsupported, source + ": plan schema \"" + schema +
                                                    "\" comes from a newer NeedlePlan; this version reads " +
                                                    kPlanSchema);
        r.fail("not a NeedlePlan plan (schema \"" + schema + "\", expected " + kPlanSchema + ")");
    }
    if (r.str("coordinateSystem", "LPS") != "LPS")
        r.fail("only LPS coordinates are supported");
    Plan plan;
    plan.createdWith = r.str("createdWith");
    const Reader image = r.child("image");
    plan.image.path = image.str("path");
    plan.image.seriesUid = image.str("seriesUid");
    plan.image.frameOfReferenceUid = image.str("frameOfReferenceUid");
    plan.image.patientPosition = image.str("patientPosition");
    plan.image.structuresPath = image.str("structuresPath");
    plan.image.segmentationPath = image.str("segmentationPath");
    plan.needle = needleFromJson(r.child("needle"));
    const json& structures = r.list("structures");
    for (std::size_t n = 0; n < structures.size(); ++n) {
        const Reader s = r.element(structures[n], n, "structures");
        StructureSpec spec;
        spec.name = s.str("name");
        const double label = s.num("labelValue");
        if (!(label >= 0 && label <= 65535))
            s.fail("labelValue must be 0..65535");
        spec.labelValue = static_cast<std::uint16_t>(label);
        spec.structureClass = classFromText(s, s.str("class"));
        spec.marginMm = s.num("marginMm");
        if (!(spec.marginMm >= 0.0 && spec.marginMm <= 100.0))
            s.fail("marginMm must be 0..100");
        spec.rule = s.str("rule");
        if (s.has("adjustments")) {
            const json& adjustments = s.list("adjustments");
            for (std::size_t k = 0; k < adjustments.size(); ++k)
                if (adjustments[k].is_string())
                    spec.adjustments.push_back(adjustments[k].get<std::string>());
        }
        plan.structures.push_back(spec);
        StructureDisplay display;
        if (s.has("visible"))
            display.visible = s.boolean("visible");
        if (s.has("opacity")) {
            display.opacity = s.num("opacity");
            if (!(*display.opacity >= 0.0 && *display.opacity <= 1.0))
                s.fail("opacity must be 0..1");
        }
        plan.structureDisplays.push_back(display);
    }
    const json& targets = r.list("targets");
    for (std::size_t n = 0; n < targets.size(); ++n) {
        const Reader t = r.element(targets[n], n, "targets");
        PlanTarget target;
        target.name = t.str("name");
        target.targetLps = t.vec3("targetLps");
        target.preset = t.str("preset");
        if (t.has("vertebralLevel"))
            target.vertebralLevel = t.str("vertebralLevel");
        target.directionsSearched = static_cast<int>(t.num("directionsSearched", 0.0));
        target.feasibleDirections = static_cast<int>(t.num("feasibleDirections", 0.0));
        const json& trajectories = t.list("trajectories");
        for (std::size_t m = 0; m < trajectories.size(); ++m) {
            const Reader p = t.element(trajectories[m], m, "trajectories");
            PlannedTrajectory planned;
            planned.rank = static_cast<int>(p.num("rank", static_cast<double>(m + 1)));
            planned.origin = p.str("origin", "search");
            planned.score = p.num("score", 0.0);
            planned.pareto = p.boolean("pareto");
            planned.trajectory.entryLps = p.vec3("entryLps");
            planned.trajectory.targetLps = p.vec3("targetLps");
            planned.trajectory.needle = p.has("needle") && p.at("needle").is_object()
                                            ? needleFromJson(p.child("needle"))
                                            : plan.needle;
            Evaluation& e = planned.evaluation;
            e.safe = p.boolean("safe");
            e.lengthMm = p.num("lengthMm");
            e.depthFromSkinMm = p.num("depthFromSkinMm", e.lengthMm);
            e.skinFound = p.boolean("skinFound");
            e.skinEntryLps = p.has("skinEntryLps") ? p.vec3("skinEntryLps") : planned.trajectory.entryLps;
            if (p.has("skinAngleDeg"))
                e.skinAngleDeg = p.num("skinAngleDeg");
            const json& clearances = p.list("clearances");
            for (std::size_t k = 0; k < clearances.size(); ++k) {
                const Reader c = p.element(clearances[k], k, "clearances");
                StructureClearance sc;
                sc.structure = c.str("structure");
                sc.clearanceMm = c.num("clearanceMm");
                sc.lowerBound = c.boolean("lowerBound");
                sc.marginMm = c.num("marginMm");
                sc.structureClass = classFromText(c, c.str("class", "forbidden"));
                sc.labelValue =
                    static_cast<std::uint16_t>(std::max(0.0, std::min(65535.0, c.num("labelValue", 0.0))));
                if (c.has("closestShaftPointLps"))
                    sc.closestShaftPointLps = c.vec3("closestShaftPointLps");
                sc.depthFromEntryMm = c.num("depthFromEntryMm", 0.0);
                sc.violated = c.boolean("violated");
                e.clearances.push_back(sc);
            }
            if (p.has("violations")) {
                const json& violations = p.list("violations");
                for (std::size_t k = 0; k < violations.size(); ++k) {
                    const Reader v = p.element(violations[k], k, "violations");
                    Violation violation;
                    violation.kind = violationKindFromText(v, v.str("kind"));
                    violation.structure = v.str("structure");
                    violation.clearanceMm = v.num("clearanceMm", 0.0);
                    violation.marginMm = v.num("marginMm", 0.0);
                    violation.positionLps = v.vec3("positionLps");
                    violation.depthFromEntryMm = v.num("depthFromEntryMm", 0.0);
                    violation.message = v.str("message");
                    e.violations.push_back(violation);
                }
            }
            for (const char* key : {"reasons", "warnings"}) {
                if (!p.has(key))
                    continue;
                for (const json& item : p.list(key)) {
                    if (!item.is_string())
                        p.fail(std::string(key) + " must hold strings");
                    (std::string(key) == "reasons" ? e.reasons : e.warnings)
                        .push_back(item.get<std::string>());
                }
            }
            const std::string closest = p.str("closestStructure");
            for (std::size_t k = 0; k < e.clearances.size(); ++k)
                if (e.clearances[k].structure == closest)
                    e.closestIndex = static_cast<int>(k);
            e.angles = anglesFromJson(p.child("angles"));
            target.trajectories.push_back(std::move(planned));
        }
        plan.targets.push_back(std::move(target));
    }
    if (r.has("measurements")) {
        const json& measurements = r.list("measurements");
        for (std::size_t n = 0; n < measurements.size(); ++n) {
            const Reader m = r.element(measurements[n], n, "measurements");
            Measurement measurement;
            measurement.kind = m.str("kind");
            const std::size_t count = measurementPointCount(measurement.kind);
            if (count == 0)
                m.fail("kind must be distance, angle or ellipse, not \"" + measurement.kind + "\"");
            const json& points = m.list("pointsLps");
            if (points.size() != count)
                m.fail("a " + measurement.kind + " needs " + std::to_string(count) + " points, not " +
                       std::to_string(points.size()));
            for (std::size_t k = 0; k < count; ++k) {
                const json wrapper = {{"point", points[k]}};
                measurement.pointsLps.push_back(m.element(wrapper, k, "pointsLps").vec3("point"));
            }
            plan.measurements.push_back(std::move(measurement));
        }
    }
    return plan;
}

void writeFileAtomically(const std::string& path, const std::string& text)
{
    imaging::writeFileAtomically(path, text);
}

void savePlan(const Plan& plan, const std::string& path)
{
    writeFileAtomically(path, planToJson(plan).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                  "\n");
}

Plan loadPlan(const std::string& path)
{
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
        throw Error(ErrorCode::NotFound, path + ": plan file not found");
    const auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxPlanFileBytes)
        throw Error(ErrorCode::TooLarge, path + ": plan file of " + std::to_string(size >> 20) + " MiB, more than the " +
                                             std::to_string(kMaxPlanFileBytes >> 20) + " MiB a plan may have");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorCode::Io, path + ": cannot open the plan file");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    json root;
    try {
        root = json::parse(buffer.str());
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": not valid JSON (" + e.what() + ")");
    }
    try {
        return planFromJson(root, path);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, path + ": malformed plan (" + e.what() + ")");
    }
}

} // namespace np::planning
