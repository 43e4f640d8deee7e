#pragma once
/// Procedure presets: needle, approach window, ideal direction, structure rules and tip zone,
/// stored as JSON files (planning/presets/*.json) that users can copy and edit.
///
/// The approach is given in anatomical terms and converted to LPS in one place,
/// idealOutwardDirectionLps():
///   "from": "posterior" | "anterior" | "lateral" | "nearest-skin"
///   "obliqueDeg": rotation of the base direction toward the target's side (posterior/anterior
///                 bases) or toward posterior (lateral base)
///   "entryCraniocaudalDeg": + the entry lies cranial to the target (the needle travels caudally),
///                 − caudal to it (the needle travels cranially, as in parallel RFA)
///   "windowDeg": half-angle of the cone of directions searched around the ideal direction.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/Structure.h"

#include <string>
#include <vector>

namespace np::planning {

/// A structure rule of a preset: names matching `pattern` get this class and margin.
struct StructureRule
{
    std::string pattern;
    StructureClass structureClass = StructureClass::Forbidden;
    double marginMm = 0.0;
};

/// Weights of the documented search score (see TrajectorySearch.h).
struct ScoreWeights
{
    double clearance = 1.0;  ///< reward for forbidden clearance beyond the margin
    double length = 0.5;     ///< penalty for depth relative to the needle's usable length
    double idealAngle = 1.0; ///< penalty for deviation from the ideal direction relative to the window
    double skinAngle = 0.25; ///< penalty for obliquity to the skin
    double caution = 0.5;    ///< penalty for intruding into a caution structure's margin
    double clearanceSaturationMm = 10.0; ///< clearance beyond this earns nothing more
};

/// A procedure preset.
struct Preset
{
    std::string name;   ///< file stem, e.g. "lumbar-mbb"
    std::string title;  ///< readable name
    std::string needle; ///< needle catalogue name
    std::string approachFrom = "nearest-skin";
    double obliqueDeg = 0.0;
    double entryCraniocaudalDeg = 0.0;
    double windowDeg = 90.0;
    double tipZoneMm = 2.0;
    std::vector<StructureRule> structures;
    ScoreWeights weights;
    std::string notes;
};

/// The generic preset: every structure keeps its default class and margin, 22G-90mm needle, and
/// the whole hemisphere (90°) around the direction to the nearest skin.
Preset genericPreset();
/// Names of the presets shipped in planning/presets (sorted).
std::vector<std::string> builtInPresetNames();
/// Folder holding the built-in presets ($NP_PRESET_DIR overrides the compiled-in path).
std::string presetDirectory();
/// A built-in preset by name ("generic" included), or a preset file by path. Throws
/// np::Error(NotFound) for an unknown name or missing file, CorruptData for malformed JSON or
/// fields out of range, naming the file.
Preset loadPreset(const std::string& nameOrPath);
/// Parses a preset from JSON text; `source` names it in errors.
Preset parsePreset(const std::string& jsonText, const std::string& source);
/// JSON text of a preset (loadable by parsePreset).
std::string presetToJson(const Preset& preset);

/// Applies the preset's structure rules, in order, to the default structures.
void applyPresetRules(const Preset& preset, std::vector<StructureSpec>& structures);

/// The ideal outward direction (target → entry) in LPS for a target on `sideSign` (+1 patient
/// left, −1 right) of the midline. For "nearest-skin" it returns `nearestSkinOutwardLps`.
Vec3 idealOutwardDirectionLps(const Preset& preset, int sideSign,
                              const Vec3& nearestSkinOutwardLps = {0, 1, 0});

} // namespace np::planning
