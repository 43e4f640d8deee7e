#include "needleplan/planning/Terminology.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string_view>

namespace np::planning {

namespace detail {
std::string_view terminologyJson(); // generated from planning/terminology/structures.json
} // namespace detail

namespace {

using json = nlohmann::json;

imaging::CodedConcept codeFrom(const json& value, const std::string& what)
{
    if (value.is_null())
        return {};
    if (!value.is_array() || value.size() != 3 || !value[0].is_string() || !value[1].is_string() ||
        !value[2].is_string())
        throw Error(ErrorCode::CorruptData, what + ": a code must be [scheme, value, meaning]");
    return {value[0].get<std::string>(), value[1].get<std::string>(), value[2].get<std::string>()};
}

std::string codeText(const imaging::CodedConcept& code)
{
    std::string text = (code.scheme == "SCT" ? std::string("SNOMED") : code.scheme) + " " + code.value;
    if (!code.meaning.empty())
        text += " (" + code.meaning + ")";
    return text;
}

bool isSnomed(const std::string& scheme)
{
    return scheme == "SCT" || scheme == "SNOMED" || scheme == "SNOMED-CT" || scheme == "SNOMEDCT";
}

} // namespace

std::string normalizedStructureName(const std::string& name)
{
    std::string out;
    out.reserve(name.size());
    for (unsigned char c : name) {
        if (c == ' ' || c == '-' || c == '.' || c == '_' || c == '\t') {
            if (!out.empty() && out.back() != '_')
                out.push_back('_');
        } else {
            out.push_back(static_cast<char>(std::tolower(c)));
        }
    }
    while (!out.empty() && out.back() == '_')
        out.pop_back();
    return out;
}

Terminology Terminology::parse(const std::string& jsonText, const std::string& what)
{
    json root;
    try {
        root = json::parse(jsonText);
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, what + ": not valid JSON (" + e.what() + ")");
    }
    if (!root.is_object() || root.value("schema", "") != "needleplan.terminology/1")
        throw Error(ErrorCode::CorruptData, what + ": expected schema needleplan.terminology/1");
    Terminology table;
    try {
        if (root.contains("sources") && root["sources"].is_object())
            for (const auto& [key, value] : root["sources"].items())
                table.m_sources[key] = value.is_string() ? value.get<std::string>() : std::string();
        if (root.contains("classMaps") && root["classMaps"].is_object())
            for (const auto& [key, value] : root["classMaps"].items())
                table.m_classMaps[key] = value.get<std::vector<std::string>>();
        if (!root.contains("groups") || !root["groups"].is_object())
            throw Error(ErrorCode::CorruptData, what + ": no \"groups\" object");
        for (const auto& [key, value] : root["groups"].items()) {
            TerminologyGroup group;
            group.name = key;
            group.structureClass = parseStructureClass(value.at("class").get<std::string>());
            group.marginMm = value.at("marginMm").get<double>();
            if (!(group.marginMm >= 0.0 && group.marginMm <= 100.0))
                throw Error(ErrorCode::CorruptData,
                            what + ": group " + key + " has a margin outside 0-100 mm");
            group.category = codeFrom(value.value("category", json()), what + ": group " + key);
            group.type = codeFrom(value.value("type", json()), what + ": group " + key);
            group.description = value.value("description", "");
            table.m_groups[key] = group;
        }
        if (!root.contains("entries") || !root["entries"].is_array())
            throw Error(ErrorCode::CorruptData, what + ": no \"entries\" array");
        for (const json& item : root["entries"]) {
            TerminologyEntry entry;
            entry.name = item.at("name").get<std::string>();
            entry.group = item.at("group").get<std::string>();
            const std::string where = what + ": entry " + entry.name;
            if (!table.m_groups.count(entry.group))
                throw Error(ErrorCode::CorruptData, where + ": unknown group \"" + entry.group + "\"");
            if (item.contains("aliases"))
                entry.aliases = item["aliases"].get<std::vector<std::string>>();
            if (item.contains("sources"))
                entry.sources = item["sources"].get<std::vector<std::string>>();
            entry.category = codeFrom(item.value("category", json()), where);
            entry.type = codeFrom(item.value("type", json()), where);
            entry.modifier = codeFrom(item.value("modifier", json()), where);
            const std::size_t index = table.m_entries.size();
            table.m_entries.push_back(entry);
            // A name or a code may appear in several entries only when they agree on the group.
            auto claim = [&](std::unordered_map<std::string, std::size_t>& map, const std::string& key,
                             const std::string& kind) {
                const auto [it, inserted] = map.emplace(key, index);
                if (!inserted && table.m_entries[it->second].group != entry.group)
                    throw Error(ErrorCode::CorruptData, where + ": " + kind + " \"" + key + "\" is already " +
                                                            table.m_entries[it->second].group + " (entry " +
                                                            table.m_entries[it->second].name + ")");
            };
            claim(table.m_byName, normalizedStructureName(entry.name), "name");
            for (const std::string& alias : entry.aliases)
                claim(table.m_byName, normalizedStructureName(alias), "name");
            if (!entry.type.empty() && isSnomed(entry.type.scheme))
                claim(table.m_byCode, entry.type.value, "code");
        }
    } catch (const json::exception& e) {
        throw Error(ErrorCode::CorruptData, what + ": " + e.what());
    }
    return table;
}

const Terminology& Terminology::builtIn()
{
    static const Terminology table = parse(std::string(detail::terminologyJson()),
                                           "built-in terminology (planning/terminology/structures.json)");
    return table;
}

const TerminologyEntry* Terminology::findByCode(const imaging::CodedConcept& code) const
{
    if (code.empty() || !isSnomed(code.scheme))
        return nullptr;
    const auto it = m_byCode.find(code.value);
    return it == m_byCode.end() ? nullptr : &m_entries[it->second];
}

const TerminologyEntry* Terminology::findByName(const std::string& name) const
{
    const auto it = m_byName.find(normalizedStructureName(name));
    return it == m_byName.end() ? nullptr : &m_entries[it->second];
}

std::map<std::uint16_t, std::string> Terminology::classMap(const std::string& name) const
{
    std::map<std::uint16_t, std::string> map;
    const auto it = m_classMaps.find(name);
    if (it != m_classMaps.end())
        for (std::size_t n = 0; n < it->second.size() && n < 65535; ++n)
            map[static_cast<std::uint16_t>(n + 1)] = it->second[n];
    return map;
}

std::vector<std::string> Terminology::classMapNames() const
{
    std::vector<std::string> names;
    for (const auto& entry : m_classMaps)
        names.push_back(entry.first);
    return names;
}

const TerminologyGroup* Terminology::group(const std::string& name) const
{
    const auto it = m_groups.find(name);
    return it == m_groups.end() ? nullptr : &it->second;
}

StructureSpec classifySegment(const imaging::Segment& segment, std::vector<std::string>* warnings)
{
    const Terminology& table = Terminology::builtIn();
    auto fromGroup = [&](const TerminologyEntry& entry, const std::string& rule) {
        const TerminologyGroup& group = *table.group(entry.group);
        StructureSpec spec;
        spec.name = segment.name;
        spec.labelValue = segment.labelValue;
        spec.structureClass = group.structureClass;
        spec.marginMm = group.marginMm;
        spec.rule = rule;
        return spec;
    };
    // Generic codes (Tissue, Anatomical Structure) say nothing about the class: the name decides.
    const bool generic = isSnomed(segment.typeCode.scheme) &&
                         (segment.typeCode.value == "85756007" || segment.typeCode.value == "123037004" ||
                          segment.typeCode.value == "91723000");
    if (!segment.typeCode.empty() && !generic) {
        if (const TerminologyEntry* entry = table.findByCode(segment.typeCode))
            return fromGroup(*entry, "terminology: " + codeText(segment.typeCode));
        if (warnings)
            warnings->push_back("structure \"" + segment.name + "\": code " + codeText(segment.typeCode) +
                                " is not in the terminology table; classified by its name");
    }
    if (const TerminologyEntry* entry = table.findByName(segment.name))
        return fromGroup(*entry, "name: " + normalizedStructureName(segment.name));
    std::string rtType = segment.rtInterpretedType;
    std::transform(rtType.begin(), rtType.end(), rtType.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    auto rtRule = [&](StructureClass structureClass, double marginMm) {
        StructureSpec spec;
        spec.name = segment.name;
        spec.labelValue = segment.labelValue;
        spec.structureClass = structureClass;
        spec.marginMm = marginMm;
        spec.rule = "terminology: RTSTRUCT " + rtType;
        return spec;
    };
    if (rtType == "EXTERNAL" || rtType == "SUPPORT" || rtType == "FIXATION" || rtType == "BOLUS")
        return rtRule(StructureClass::Ignored, 0.0);
    if (rtType == "AVOIDANCE")
        return rtRule(StructureClass::Forbidden, 3.0);
    if (rtType == "GTV" || rtType == "CTV" || rtType == "PTV")
        return rtRule(StructureClass::Target, 0.0);
    StructureSpec spec = fallbackStructureSpec(segment.name, segment.labelValue);
    if (rtType == "ORGAN" && spec.rule == kNoRuleMatched)
        return rtRule(StructureClass::Forbidden, 5.0);
    return spec;
}

StructureCodes structureCodesForName(const std::string& name)
{
    const Terminology& table = Terminology::builtIn();
    const imaging::CodedConcept tissue{"SCT", "85756007", "Tissue"};
    StructureCodes codes;
    if (const TerminologyEntry* entry = table.findByName(name); entry && !entry->type.empty()) {
        codes.category = entry->category.empty() ? tissue : entry->category;
        codes.type = entry->type;
        codes.modifier = entry->modifier;
        codes.source = "terminology";
        return codes;
    }
    // The generic code of the structure's group: its entry's, or the one the fallback rules give.
    const TerminologyEntry* named = table.findByName(name);
    const std::string groupName = named ? named->group : fallbackGroup(name);
    const TerminologyGroup* group = groupName.empty() ? nullptr : table.group(groupName);
    if (group && !group->type.empty()) {
        codes.category = group->category.empty() ? tissue : group->category;
        codes.type = group->type;
        codes.source = "group";
        return codes;
    }
    codes.category = tissue;
    codes.type = tissue;
    codes.source = "generic";
    return codes;
}

imaging::SegmentCoding segmentCodingFor(const imaging::Segment& segment)
{
    imaging::SegmentCoding coding;
    if (!segment.categoryCode.empty() && !segment.typeCode.empty()) {
        coding.category = segment.categoryCode;
        coding.type = segment.typeCode;
        coding.typeModifier = segment.typeModifierCode;
        return coding;
    }
    const StructureCodes codes = structureCodesForName(segment.name);
    coding.category = codes.category;
    coding.type = codes.type;
    coding.typeModifier = codes.modifier;
    return coding;
}

} // namespace np::planning
