#pragma once
/// 3D Slicer markups files (`.mrk.json`, Slicer's markups schema v1.0.3): a plan goes to Slicer as
/// one point list of its targets and one Line markup per ranked trajectory, and point lists and
/// lines come back as targets and trajectories. Files may state LPS or RAS coordinates; the one
/// conversion is lpsFromMarkupsPosition().

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/PlanDocument.h"

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace np::planning {

/// The coordinate system a markup states for its control points (`coordinateSystem`).
enum class MarkupsCoordinateSystem
{
    Lps,
    Ras,
};

/// A control point position of a markups file in LPS: RAS (x towards Right, y Anterior) is
/// (-x, -y, z) in LPS. The conversion is its own inverse, so it also writes RAS.
Vec3 lpsFromMarkupsPosition(const Vec3& position, MarkupsCoordinateSystem system);

/// A point of a point list (Slicer "Fiducial" markup).
struct MarkupsPoint
{
    std::string label;
    Vec3 positionLps;
};

/// A Line markup: its two control points. The one labelled "entry" (else the first) is the entry.
struct MarkupsLine
{
    std::string name;
    Vec3 entryLps;
    Vec3 targetLps;
};

/// What a markups file holds that NeedlePlan uses, and what it skipped.
struct MarkupsContent
{
    std::vector<MarkupsPoint> points;
    std::vector<MarkupsLine> lines;
    std::vector<std::string> warnings; ///< unknown keys, other markup types, unset points, ...
};

/// `.mrk.json` of a plan: a point list "targets" (one point per target, labelled with its name)
/// and, per target, one Line "<target> #<rank>" per ranked trajectory with the control points
/// "entry" and "target"; coordinateSystem LPS, units mm.
nlohmann::json markupsFromPlan(const Plan& plan);
/// Writes markupsFromPlan(plan) to `path` atomically; throws np::Error(Io).
void saveMarkups(const Plan& plan, const std::string& path);

/// Reads the point lists and lines of a markups document. Unknown keys and markup types are
/// skipped with a warning; positions are converted to LPS. Throws np::Error(CorruptData) naming
/// `source` and the key for malformed content (not JSON, no "markups" list, a position that is not
/// three finite numbers, a line without two defined points, an unknown coordinate system or unit).
MarkupsContent parseMarkups(const nlohmann::json& document, const std::string& source);
/// Reads a `.mrk.json` file; np::Error(NotFound) for a missing file, CorruptData as parseMarkups.
MarkupsContent loadMarkups(const std::string& path);

/// A markups trajectory placed in a plan, before evaluation.
struct MarkupsTrajectoryPlacement
{
    std::size_t targetIndex = 0; ///< index into Plan::targets
    Trajectory trajectory;
    std::string lineName;
};

/// Adds the markups to `plan`: a point whose label names a target moves that target, another
/// point adds a target of that name (trajectories of a moved target are dropped: they no longer
/// reach it). A line belongs to the target its name starts with ("<target> #<rank>" or the name
/// itself), else to the target within 1 mm of its target point, else it adds a target at its
/// target point named after the line. Returns the lines' trajectories (plan needle) for the caller
/// to evaluate and add; notes what it did in `notes`.
std::vector<MarkupsTrajectoryPlacement> placeMarkupsInPlan(Plan& plan, const MarkupsContent& markups,
                                                           std::vector<std::string>& notes);

} // namespace np::planning
