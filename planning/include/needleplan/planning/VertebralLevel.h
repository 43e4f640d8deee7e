#pragma once
/// The vertebral level of a point: the nearest labelled vertebra (vertebra_L4, sacrum, ...) on a
/// label map, so that targets and plans carry the level they sit on.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

#include <optional>
#include <string>

namespace np::planning {

struct VertebralLevel
{
    std::string level;     ///< "L4", "T12", "S1", "sacrum" (the structure's name without "vertebra_")
    std::string structure; ///< the label's name, e.g. "vertebra_L4"
    /// Distance in mm from the point to the nearest voxel centre of that vertebra (inside it, at most
    /// half a voxel diagonal).
    double distanceMm = 0.0;
    /// True when another vertebra lies within 2 mm of the same distance: the point sits between
    /// two levels (a disc or a facet joint) and `level` is only the nearer one.
    bool ambiguous = false;
    std::string runnerUp; ///< the other level when ambiguous
};

/// True for the names of vertebral structures: "vertebra_<level>" (any case, e.g. vertebra_L4,
/// vertebrae_L5 from TotalSegmentator v1), "sacrum" and "vertebra_S1".
bool isVertebraName(const std::string& name);

/// The nearest vertebra to `pointLps` (LPS mm) among the label map's segments whose names are
/// vertebrae, searched within `maxDistanceMm`; nothing when none lies that close or the label map
/// has no vertebra. Distances are between `pointLps` and voxel centres.
std::optional<VertebralLevel> vertebralLevelAt(const imaging::LabelMap& labels, const Vec3& pointLps,
                                               double maxDistanceMm = 20.0);

} // namespace np::planning
