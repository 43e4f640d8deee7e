#pragma once
/// Why a trajectory search found nothing, in words, from the per-direction rejection reasons the
/// search returns and the clearance fields it used (no widgets, no Qt).

#include "needleplan/planning/Structure.h"
#include "needleplan/planning/TrajectorySearch.h"

#include <string>
#include <vector>

namespace np::planning {
class ClearanceFieldSet;
}

namespace np::gui {

/// Clauses explaining an empty search, most directions first, e.g. "the target lies 6 mm inside
/// bone_sacrum; obstacles may only be touched in the last 2 mm" or "every direction passes within
/// 2 mm of nerve_root_L4_left". Empty when the search returned candidates. `fields` must hold the
/// fields the search used; `tipZoneMm` is the preset's tip zone, `radiusMm` the needle's.
std::vector<std::string> explainEmptySearch(const planning::SearchResult& result,
                                            const planning::ClearanceFieldSet& fields,
                                            const std::vector<planning::StructureSpec>& structures,
                                            double radiusMm, double usableLengthMm, double tipZoneMm);

/// The clauses as one sentence part: "a; b; c".
std::string searchNoteText(const std::vector<std::string>& clauses);

/// "6", "2.5": millimetres with at most one decimal, without a trailing ".0".
std::string formatMillimetres(double valueMm);

} // namespace np::gui
