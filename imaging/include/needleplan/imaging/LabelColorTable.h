#pragma once
/// Colour tables that name the values of a plain label map: 3D Slicer `.ctbl` files and ITK-SNAP
/// label description files.

#include "needleplan/imaging/Volume.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace np::imaging {

/// One row of a colour table.
struct LabelColorEntry
{
    std::uint16_t value = 0;
    std::string name;
    std::array<double, 3> colorRgb{1, 1, 1}; ///< each in [0, 1]
};

/// Reads a colour table, recognising the format by its content:
/// - ITK-SNAP label description: `IDX R G B A VIS MSH "LABEL"` (R G B in 0..255, A in 0..1);
/// - 3D Slicer colour table (.ctbl): `value name R G B A` (all colours 0..255).
/// `#` starts a comment. Value 0 (background, "Clear Label") is left out. Throws np::Error naming
/// the file and line: NotFound, CorruptData (malformed row, value outside 1..65535, duplicate value).
std::vector<LabelColorEntry> readLabelColorTable(const std::string& path);

/// Names and colours the segments of `labels` whose label values appear in `table`; values in
/// the table but absent from the label map are ignored. Returns how many segments were renamed.
int applyLabelColorTable(LabelMap& labels, const std::vector<LabelColorEntry>& table);

} // namespace np::imaging
