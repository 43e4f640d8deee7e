#include "needleplan/planning/Preset.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/planning/Needle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#ifndef NP_PRESET_DIR
#define NP_PRESET_DIR "planning/presets"
#endif

namespace np::planning {

namespace fs = std::filesystem;
using nlohmann::json;

Preset genericPreset()
{
    Preset preset;
    preset.name = "generic";
    preset.title = "Generic: default margins, hemisphere toward the nearest skin";
    preset.needle = "22G-90mm";
    preset.approachFrom = "nearest-skin";
    preset.windowDeg = 90.0;
    preset.tipZoneMm = 2.0;
    return preset;
}

std::string presetDirectory()
{
    if (const char* env = std::getenv("NP_PRESET_DIR"); env && *env)
        return env;
    return NP_PRESET_DIR;
}

std::vector<std::string> builtInPresetNames()
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(presetDirectory(), ec))
        if (entry.path().extension() == ".json")
            names.push_back(entry.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

namespace {
double number(const json& object, const char* key, double fallback, double lo, double hi,
              const std::string& source)
{
    if (!object.contains(key))
        return fallback;
    const json& v = object.at(key);
    if (!v.is_number())
        throw Error(ErrorCode::CorruptData, source + ": \"" + key + "\" must be a number");
    const double value = v.get<double>();
    if (!std::isfinite(value) || value < lo || value > hi)
        throw Error(ErrorCode::CorruptData, source + ": \"" + key + "\" = " + std::to_string(value) +
                                                " is outside [" + std::to_string(lo) + ", " +
                                                std::to_string(hi) + "]");
    return value;
}
std::string text(const json& object, const char* key, const std::string& fallback, const std::string& source)
{
    if (!object.contains(key))
        return fallback;
    if (!object.at(key).is_string())
        throw Error(ErrorCode::CorruptData, source + ": \"" + key + "\" must be a string");
    return object.at(key).get<std::string>();
}
} // namespace

Preset parsePreset(const std::string& jsonText, const std::string& source)
{
    json root;
    try {
        root = json::parse(jsonText);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, source + ": not valid JSON (" + e.what() + ")");
    }
    if (!root.is_object())
        throw Error(ErrorCode::CorruptData, source + ": a preset must be a JSON object");
    const std::string schema = text(root, "schema", "", source);
    if (schema != "needleplan.preset/1")
        throw Error(schema.rfind("needleplan.preset/", 0) == 0 ? ErrorCode::Unsupported
                                                               : ErrorCode::CorruptData,
                    source + ": schema \"" + schema + "\" is not needleplan.preset/1");
    Preset preset;
    preset.name = text(root, "name", fs::path(source).stem().string(), source);
    preset.title = text(root, "title", preset.name, source);
    preset.needle = text(root, "needle", "22G-90mm", source);
    if (!findNeedle(preset.needle))
        throw Error(ErrorCode::CorruptData, source + ": unknown needle \"" + preset.needle + "\"");
    preset.notes = text(root, "notes", "", source);
    preset.tipZoneMm = number(root, "tipZoneMm", 2.0, 0.0, 30.0, source);
    if (root.contains("approach")) {
        const json& a = root.at("approach");
        if (!a.is_object())
            throw Error(ErrorCode::CorruptData, source + ": \"approach\" must be an object");
        preset.approachFrom = text(a, "from", "nearest-skin", source);
        if (preset.approachFrom != "posterior" && preset.approachFrom != "anterior" &&
            preset.approachFrom != "lateral" && preset.approachFrom != "nearest-skin")
            throw Error(ErrorCode::CorruptData,
                        source +
                            ": approach \"from\" must be posterior, anterior, lateral or "
                            "nearest-skin, not \"" +
                            preset.approachFrom + "\"");
        preset.obliqueDeg = number(a, "obliqueDeg", 0.0, -90.0, 90.0, source);
        preset.entryCraniocaudalDeg = number(a, "entryCraniocaudalDeg", 0.0, -89.0, 89.0, source);
        preset.windowDeg = number(a, "windowDeg", 90.0, 1.0, 180.0, source);
    }
    if (root.contains("structures")) {
        const json& list = root.at("structures");
        if (!list.is_array())
            throw Error(ErrorCode::CorruptData, source + ": \"structures\" must be a list");
        for (const json& item : list) {
            if (!item.is_object())
                throw Error(ErrorCode::CorruptData, source + ": each structure rule must be an object");
            StructureRule rule;
            rule.pattern = text(item, "match", "", source);
            if (rule.pattern.empty())
                throw Error(ErrorCode::CorruptData, source + ": a structure rule has no \"match\" pattern");
            try {
                rule.structureClass = parseStructureClass(text(item, "class", "forbidden", source));
            } catch (const Error& e) {
                throw Error(ErrorCode::CorruptData, source + ": " + e.what());
            }
            rule.marginMm = number(item, "marginMm", 0.0, 0.0, 100.0, source);
            preset.structures.push_back(rule);
        }
    }
    if (root.contains("score")) {
        const json& s = root.at("score");
        if (!s.is_object())
            throw Error(ErrorCode::CorruptData, source + ": \"score\" must be an object");
        ScoreWeights& w = preset.weights;
        w.clearance = number(s, "clearance", w.clearance, 0.0, 100.0, source);
        w.length = number(s, "length", w.length, 0.0, 100.0, source);
        w.idealAngle = number(s, "idealAngle", w.idealAngle, 0.0, 100.0, source);
        w.skinAngle = number(s, "skinAngle", w.skinAngle, 0.0, 100.0, source);
        w.caution = number(s, "caution", w.caution, 0.0, 100.0, source);
        w.clearanceSaturationMm =
            number(s, "clearanceSaturationMm", w.clearanceSaturationMm, 0.1, 100.0, source);
    }
    return preset;
}

Preset loadPreset(const std::string& nameOrPath)
{
    if (nameOrPath.empty() || nameOrPath == "generic")
        return genericPreset();
    fs::path path(nameOrPath);
    const bool looksLikePath = nameOrPath.find('/') != std::string::npos || path.extension() == ".json";
    if (!looksLikePath)
        path = fs::path(presetDirectory()) / (nameOrPath + ".json");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (looksLikePath)
            throw Error(ErrorCode::NotFound, path.string() + ": preset file not found");
        std::string known = "generic";
        for (const auto& n : builtInPresetNames())
            known += ", " + n;
        throw Error(ErrorCode::NotFound, "unknown preset \"" + nameOrPath + "\" (known: " + known + ")");
    }
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (!ec && size > (std::uintmax_t{1} << 20))
        throw Error(ErrorCode::TooLarge, path.string() + ": preset file of " + std::to_string(size) +
                                             " bytes, more than the 1 MiB a preset may have");
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return parsePreset(buffer.str(), path.string());
}

std::string presetToJson(const Preset& preset)
{
    json root;
    root["schema"] = "needleplan.preset/1";
    root["name"] = preset.name;
    root["title"] = preset.title;
    root["needle"] = preset.needle;
    root["tipZoneMm"] = preset.tipZoneMm;
    root["approach"] = {{"from", preset.approachFrom},
                        {"obliqueDeg", preset.obliqueDeg},
                        {"entryCraniocaudalDeg", preset.entryCraniocaudalDeg},
                        {"windowDeg", preset.windowDeg}};
    json rules = json::array();
    for (const auto& r : preset.structures)
        rules.push_back(
            {{"match", r.pattern}, {"class", toString(r.structureClass)}, {"marginMm", r.marginMm}});
    root["structures"] = rules;
    const ScoreWeights& w = preset.weights;
    root["score"] = {{"clearance", w.clearance},   {"length", w.length},
                     {"idealAngle", w.idealAngle}, {"skinAngle", w.skinAngle},
                     {"caution", w.caution},       {"clearanceSaturationMm", w.clearanceSaturationMm}};
    if (!preset.notes.empty())
        root["notes"] = preset.notes;
    return root.dump(2);
}

void applyPresetRules(const Preset& preset, std::vector<StructureSpec>& structures)
{
    for (const auto& rule : preset.structures)
        overrideStructures(structures, rule.pattern, rule.marginMm, &rule.structureClass,
                           "preset " + preset.name);
}

Vec3 idealOutwardDirectionLps(const Preset& preset, int sideSign, const Vec3& nearestSkinOutwardLps)
{
    if (preset.approachFrom == "nearest-skin")
        return normalized(nearestSkinOutwardLps);
    constexpr double kRadPerDeg = 3.14159265358979323846 / 180.0;
    const double side = sideSign >= 0 ? 1.0 : -1.0;
    Vec3 base, toward;
    if (preset.approachFrom == "posterior")
        base = {0, 1, 0}, toward = {side, 0, 0};
    else if (preset.approachFrom == "anterior")
        base = {0, -1, 0}, toward = {side, 0, 0};
    else // lateral, on the target's side
        base = {side, 0, 0}, toward = {0, 1, 0};
    const double oblique = preset.obliqueDeg * kRadPerDeg;
    const double craniocaudal = preset.entryCraniocaudalDeg * kRadPerDeg;
    const Vec3 horizontal = base * std::cos(oblique) + toward * std::sin(oblique);
    return normalized(horizontal * std::cos(craniocaudal) + Vec3{0, 0, 1} * std::sin(craniocaudal));
}

} // namespace np::planning
