#pragma once
/// Structures the needle must respect: their class, safety margin and the defaults matched by name.

#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {
class LabelMap;
}

namespace np::planning {

/// How the planner treats a structure.
enum class StructureClass
{
    Ignored,   ///< not considered at all (skin, body, fat, generic muscle)
    Forbidden, ///< the shaft must keep at least the margin from it
    Obstacle,  ///< the needle cannot pass (bone), except inside the tip zone at the target
    Caution,   ///< clearance lowers the score but does not forbid
    Target,    ///< a target region; never a violation
};

/// Stable lower-case name: "ignored", "forbidden", "obstacle", "caution", "target".
const char* toString(StructureClass structureClass);
/// Parses a name written by toString(); throws np::Error(InvalidArgument) otherwise.
StructureClass parseStructureClass(const std::string& text);

/// One labelled structure with its planning rule.
struct StructureSpec
{
    std::string name;             ///< segment name, e.g. "nerve_root_L4_right"
    std::uint16_t labelValue = 0; ///< voxel value in the label map
    StructureClass structureClass = StructureClass::Caution;
    double marginMm = 0.0; ///< required clearance from the needle's surface
    /// Which rule classified it: "terminology: SNOMED 46027005 (Common iliac vein)",
    /// "name: iliac_vena_left", "fallback: contains 'root'" or "fallback: no rule matched".
    std::string rule{};
    /// Changes by presets and --margin, and rules that were refused, readable (for the listing).
    std::vector<std::string> adjustments{};
};

/// StructureSpec::rule of a structure that no rule named (caution, 2 mm).
inline constexpr const char* kNoRuleMatched = "fallback: no rule matched";

/// Default rule for a segment name: the terminology table's entry for the exact name
/// (Terminology.h, planning/terminology/structures.json), else the substring fallback.
StructureSpec defaultStructureSpec(const std::string& name, std::uint16_t labelValue);

/// The last-resort rule by substrings of the lower-case name, first match wins (planning/README.md):
/// nerve/root/ramus → forbidden 2 mm; spinal canal, dura, thecal sac, cord → forbidden 3 mm;
/// aorta, vena cava, artery, vein, vessel → forbidden 3 mm; kidney, lung, bowel, liver and other
/// organs → forbidden 5 mm; cyst, tumour, effusion → forbidden 5 mm; bone, vertebra, sacrum, ilium,
/// rib, hip, femur, ... → obstacle 0 mm; psoas → caution 0 mm; disc → caution 2 mm; joint/target →
/// target; muscle, skin, body, fat, table → ignored; anything else → caution 2 mm. Vessels and
/// organs are matched before bone, so no vessel or organ name becomes bone.
StructureSpec fallbackStructureSpec(const std::string& name, std::uint16_t labelValue);

/// Terminology group the fallback puts `name` in ("" when no word matched); `matchedWord`, when
/// given, receives the word.
std::string fallbackGroup(const std::string& name, std::string* matchedWord = nullptr);

/// Default rules for every segment of a label map, in the label map's order (classifySegment: by
/// code, then name, then fallback).
std::vector<StructureSpec> defaultStructures(const imaging::LabelMap& labels);

/// Matches `name` against a pattern where '*' stands for any run of characters (case-insensitive).
bool matchesPattern(const std::string& name, const std::string& pattern);

/// Sets the margin (and, when given, the class) of every structure whose name matches `pattern`.
/// A rule may make any structure stricter, but it turns a forbidden structure into another class
/// only when `pattern` is the structure's exact name (no '*'); a glob that would is refused for that
/// structure (nothing changes) and the refusal is noted in its `adjustments`, as is every change
/// (`source` names the rule's origin, e.g. "preset lumbar-mbb" or "--margin"). Returns how many
/// structures matched. A negative or non-finite margin throws np::Error(InvalidArgument).
int overrideStructures(std::vector<StructureSpec>& structures, const std::string& pattern, double marginMm,
                       const StructureClass* newClass = nullptr, const std::string& source = "--margin");

} // namespace np::planning
