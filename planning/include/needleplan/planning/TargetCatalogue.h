#pragma once
/// Target catalogues: `{"coordinateSystem": "LPS", "targets": [{"name": ..., "positionLps": [x, y, z]}]}`
/// (the phantom's targets.json and hand-written lists). Extra keys (level, side, kind,
/// description) are allowed and ignored here.

#include "needleplan/planning/Planner.h"

#include <string>
#include <vector>

namespace np::planning {

/// Largest target catalogue read (16 MiB); larger files are np::Error(TooLarge).
inline constexpr std::uint64_t kMaxTargetCatalogueBytes = std::uint64_t{16} << 20;

/// Targets of a catalogue's JSON text. Throws np::Error(CorruptData) naming `source` (and the
/// target's index or name) for malformed JSON, a missing name or position, non-finite or
/// non-numeric coordinates, or a coordinate system other than LPS.
std::vector<TargetRequest> parseTargetCatalogue(const std::string& jsonText, const std::string& source);

/// parseTargetCatalogue of the file at `path`; NotFound when it cannot be opened.
std::vector<TargetRequest> readTargetCatalogue(const std::string& path);

} // namespace np::planning
