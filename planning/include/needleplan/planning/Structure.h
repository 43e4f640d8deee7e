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
};

/// Default rule for a segment, matched on its lower-case name (see planning/README.md):
///  nerve/root/ramus → forbidden 2 mm; spinal canal, dura, thecal sac, cord → forbidden 3 mm;
///  aorta, ivc/vena cava, any artery/vein/vessel → forbidden 3 mm; kidney, lung, pleura, bowel,
///  colon, bladder → forbidden 5 mm (but bowel_gas, the segmentation's gas pockets → caution
///  2 mm); bone, vertebra, sacrum, ilium/iliac, pelvis, rib, skull →
///  obstacle 0 mm; psoas → caution 0 mm; joint/target → target; skin, body, fat, muscle → ignored;
///  anything else → caution 2 mm. (The CT table or couch is ignored too.)
StructureSpec defaultStructureSpec(const std::string& name, std::uint16_t labelValue);

/// Default rules for every segment of a label map, in the label map's order.
std::vector<StructureSpec> defaultStructures(const imaging::LabelMap& labels);

/// Matches `name` against a pattern where '*' stands for any run of characters (case-insensitive).
bool matchesPattern(const std::string& name, const std::string& pattern);

/// Sets the margin (and, when given, the class) of every structure whose name matches `pattern`.
/// Returns how many matched. A negative or non-finite margin throws np::Error(InvalidArgument).
int overrideStructures(std::vector<StructureSpec>& structures, const std::string& pattern, double marginMm,
                       const StructureClass* newClass = nullptr);

} // namespace np::planning
