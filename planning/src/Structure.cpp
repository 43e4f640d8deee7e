#include "needleplan/planning/Structure.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <cctype>
#include <cmath>

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

bool containsAny(const std::string& text, std::initializer_list<const char*> words)
{
    for (const char* word : words)
        if (text.find(word) != std::string::npos)
            return true;
    return false;
}
} // namespace

StructureSpec defaultStructureSpec(const std::string& name, std::uint16_t labelValue)
{
    StructureSpec spec;
    spec.name = name;
    spec.labelValue = labelValue;
    const std::string n = lower(name);
    auto set = [&](StructureClass c, double marginMm) {
        spec.structureClass = c;
        spec.marginMm = marginMm;
        return spec;
    };
    // Order matters: "vertebral_artery" is a vessel, not bone; "nerve_root" before anything else.
    if (containsAny(n, {"nerve", "root", "ramus", "ganglion", "drg"}))
        return set(StructureClass::Forbidden, 2.0);
    if (containsAny(n, {"spinal_canal", "canal", "dura", "thecal", "cord", "csf"}))
        return set(StructureClass::Forbidden, 3.0);
    if (containsAny(n,
                    {"aorta", "ivc", "vena_cava", "cava", "artery", "arteries", "vein", "vessel", "carotid"}))
        return set(StructureClass::Forbidden, 3.0);
    // Gas pockets the automatic segmentation finds in the bowel: caution, not the bowel's rule.
    if (n == "bowel_gas")
        return set(StructureClass::Caution, 2.0);
    if (containsAny(
            n, {"kidney", "lung", "pleura", "bowel", "colon", "intestine", "bladder", "liver", "spleen"}))
        return set(StructureClass::Forbidden, 5.0);
    if (containsAny(n, {"bone", "vertebra", "sacrum", "sacral", "ilium", "iliac", "pelvis", "rib", "skull",
                        "coccyx"}))
        return set(StructureClass::Obstacle, 0.0);
    if (containsAny(n, {"psoas"}))
        return set(StructureClass::Caution, 0.0);
    if (containsAny(n, {"joint", "target"}))
        return set(StructureClass::Target, 0.0);
    if (containsAny(n, {"skin", "body", "fat", "muscle", "air", "table", "couch"}))
        return set(StructureClass::Ignored, 0.0);
    return set(StructureClass::Caution, 2.0);
}

std::vector<StructureSpec> defaultStructures(const imaging::LabelMap& labels)
{
    std::vector<StructureSpec> specs;
    for (const auto& segment : labels.segments())
        specs.push_back(defaultStructureSpec(segment.name, segment.labelValue));
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
                       const StructureClass* newClass)
{
    if (!std::isfinite(marginMm) || marginMm < 0.0 || marginMm > 100.0)
        throw Error(ErrorCode::InvalidArgument, "margin for \"" + pattern +
                                                    "\" must be between 0 and 100 mm, got " +
                                                    std::to_string(marginMm));
    int count = 0;
    for (auto& spec : structures) {
        if (!matchesPattern(spec.name, pattern))
            continue;
        spec.marginMm = marginMm;
        if (newClass)
            spec.structureClass = *newClass;
        ++count;
    }
    return count;
}

} // namespace np::planning
