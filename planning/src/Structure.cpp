#include "needleplan/planning/Structure.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Terminology.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace np::planning {

const char* toString(StructureClass structureClass)
{
    switch (structureClass) {
    case StructureClass::Ignored:
        return "ignored";
    case StructureClass::Forbidden:
        return "forbidden";
    case StructureClass::Obstacle:
        return "obstacle";
    case StructureClass::Caution:
        return "caution";
    case StructureClass::Target:
        return "target";
    }
    return "ignored";
}

StructureClass parseStructureClass(const std::string& text)
{
    for (StructureClass c : {StructureClass::Ignored, StructureClass::Forbidden, StructureClass::Obstacle,
                             StructureClass::Caution, StructureClass::Target})
        if (text == toString(c))
            return c;
    throw Error(ErrorCode::InvalidArgument,
                "unknown structure class \"" + text +
                    "\" (expected ignored, forbidden, obstacle, caution or target)");
}

namespace {
std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

struct FallbackRule
{
    std::string group;
    std::vector<std::string> words;
};

// Order matters: nerves first ("nerve_root"), then the neural axis, vessels and organs before
// bone, so that "iliac_vena_left" or "vertebral_artery" never read as bone.
const std::vector<FallbackRule>& fallbackRules()
{
    static const std::vector<FallbackRule> rules = {
        {"nerve", {"nerve", "root", "ramus", "ganglion", "drg", "plexus"}},
        {"neural_axis", {"spinal_canal", "canal", "dura", "thecal", "cord", "csf", "cauda", "mening"}},
        {"vessel",
         {"aorta", "ivc", "vena", "vein", "venous", "cava", "artery", "arteries", "arterial", "vessel",
          "carotid", "jugular"}},
        {"organ", {"kidney",  "renal",   "lung",    "pleura",   "bowel",   "colon",   "intestin", "rectum",
                   "bladder", "liver",   "hepatic", "spleen",   "stomach", "gastric", "duoden",   "jejun",
                   "ileum",   "pancrea", "esophag", "oesophag", "trachea", "bronch",  "heart",    "cardiac",
                   "brain",   "gland",   "adrenal", "prostate", "uter",    "ovar",    "organ"}},
        {"lesion", {"tumor", "tumour", "cyst", "lesion", "effusion", "hemorrhage", "haemorrhage", "metasta"}},
        {"implant", {"implant", "screw", "prosthe"}},
        {"cartilage", {"cartilage"}},
        {"bone", {"bone",   "vertebra", "sacrum",  "sacral", "ilium",   "iliac_crest",       "pelvis",
                  "rib",    "skull",    "coccyx",  "femur",  "hip",     "humerus",           "scapula",
                  "clavic", "sternum",  "pedicle", "lamina", "spinous", "transverse_process"}},
        {"psoas", {"psoas"}},
        {"disc", {"disc", "disk"}},
        {"joint", {"joint", "target"}},
        {"muscle", {"muscle", "gluteus", "autochthon", "erector", "multifidus", "iliacus", "paraspinal"}},
        {"soft_tissue", {"skin", "body", "fat", "air", "table", "couch"}},
    };
    return rules;
}
} // namespace

std::string fallbackGroup(const std::string& name, std::string* matchedWord)
{
    const std::string n = lower(name);
    for (const FallbackRule& rule : fallbackRules())
        for (const std::string& word : rule.words)
            if (n.find(word) != std::string::npos) {
                if (matchedWord)
                    *matchedWord = word;
                return rule.group;
            }
    return {};
}

StructureSpec fallbackStructureSpec(const std::string& name, std::uint16_t labelValue)
{
    StructureSpec spec;
    spec.name = name;
    spec.labelValue = labelValue;
    std::string word;
    const std::string groupName = fallbackGroup(name, &word);
    const TerminologyGroup* group = groupName.empty() ? nullptr : Terminology::builtIn().group(groupName);
    if (!group) {
        spec.structureClass = StructureClass::Caution;
        spec.marginMm = 2.0;
        spec.rule = kNoRuleMatched;
        return spec;
    }
    spec.structureClass = group->structureClass;
    spec.marginMm = group->marginMm;
    spec.rule = "fallback: contains '" + word + "'";
    return spec;
}

StructureSpec defaultStructureSpec(const std::string& name, std::uint16_t labelValue)
{
    imaging::Segment segment;
    segment.name = name;
    segment.labelValue = labelValue;
    return classifySegment(segment);
}

std::vector<StructureSpec> defaultStructures(const imaging::LabelMap& labels)
{
    std::vector<StructureSpec> specs;
    for (const auto& segment : labels.segments())
        specs.push_back(classifySegment(segment));
    return specs;
}

bool matchesPattern(const std::string& name, const std::string& pattern)
{
    const std::string n = lower(name);
    const std::string p = lower(pattern);
    // Iterative glob match with backtracking on the last '*'.
    std::size_t ni = 0, pi = 0, starP = std::string::npos, starN = 0;
    while (ni < n.size()) {
        if (pi < p.size() && p[pi] == '*') {
            starP = pi++;
            starN = ni;
        } else if (pi < p.size() && p[pi] == n[ni]) {
            ++pi, ++ni;
        } else if (starP != std::string::npos) {
            pi = starP + 1;
            ni = ++starN;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*')
        ++pi;
    return pi == p.size();
}

int overrideStructures(std::vector<StructureSpec>& structures, const std::string& pattern, double marginMm,
                       const StructureClass* newClass, const std::string& source)
{
    if (!std::isfinite(marginMm) || marginMm < 0.0 || marginMm > 100.0)
        throw Error(ErrorCode::InvalidArgument, "margin for \"" + pattern +
                                                    "\" must be between 0 and 100 mm, got " +
                                                    std::to_string(marginMm));
    auto ruleText = [](StructureClass c, double mm) {
        std::ostringstream text;
        text << toString(c) << " " << std::fixed << std::setprecision(1) << mm << " mm";
        return text.str();
    };
    int count = 0;
    for (auto& spec : structures) {
        if (!matchesPattern(spec.name, pattern))
            continue;
        ++count;
        const StructureClass target = newClass ? *newClass : spec.structureClass;
        const bool exactName = pattern.find('*') == std::string::npos && lower(pattern) == lower(spec.name);
        const std::string before = ruleText(spec.structureClass, spec.marginMm);
        const std::string after = ruleText(target, marginMm);
        if (spec.structureClass == StructureClass::Forbidden && target != StructureClass::Forbidden) {
            if (!exactName) {
                spec.adjustments.push_back("kept " + before + ": " + source + " rule '" + pattern + "' → " +
                                           toString(target) +
                                           " applies to a forbidden structure only when it names it exactly");
                continue;
            }
            spec.adjustments.push_back("downgraded by " + source + " '" + pattern + "': " + before + " → " +
                                       after);
        } else if (before != after) {
            spec.adjustments.push_back(source + " '" + pattern + "': " + before + " → " + after);
        }
        spec.marginMm = marginMm;
        spec.structureClass = target;
    }
    return count;
}

} // namespace np::planning
