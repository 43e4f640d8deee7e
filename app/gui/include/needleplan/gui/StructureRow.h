#pragma once
/// A structure of the workstation: how it is drawn and how the planner treats it. No Qt.

#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/render/SceneTypes.h"

namespace np::gui {

struct StructureRow
{
    render::StructureStyle style;
    planning::StructureSpec spec;
};

/// The row a new segment gets: planning defaults by name, its colour, skin-like ones faint and
/// large soft-tissue ones hidden.
StructureRow defaultStructureRow(const imaging::Segment& segment);

} // namespace np::gui
