#pragma once
/// Plan documents: versioned JSON ("schema": "needleplan.plan/1") holding the image reference, the
/// needle, the structures with classes and margins, and the targets with their trajectories,
/// evaluations and angles. All positions are LPS mm, angles in degrees.
///
/// Stable keys (add more, never rename): each trajectory carries entryLps, targetLps, safe,
/// lengthMm, clearances ([{structure, clearanceMm, marginMm}]), score and angles.

#include "needleplan/planning/Needle.h"
#include "needleplan/planning/Structure.h"
#include "needleplan/planning/TrajectoryEvaluator.h"

#include <nlohmann/json_fwd.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace np::planning {

/// Which image (and segmentation) a plan was made on.
struct ImageReference
{
    std::string path;
    std::string seriesUid;
    std::string frameOfReferenceUid;
    std::string patientPosition; ///< DICOM PatientPosition of the CT
    std::string structuresPath;
    /// The structures as they were when the plan was saved (painted and grown ones included): a
    /// .seg.nrrd written beside the plan, relative to the plan's folder. Key "segmentationPath",
    /// optional ("" when the plan had no structures).
    std::string segmentationPath;
};

/// One trajectory of a target, with how it was obtained.
struct PlannedTrajectory
{
    int rank = 0;                  ///< 1 = best
    std::string origin = "search"; ///< "search" or "manual"
    Trajectory trajectory;
    Evaluation evaluation;
    double score = 0.0;
    bool pareto = false;
};

/// A named target and its trajectories.
struct PlanTarget
{
    std::string name;
    Vec3 targetLps;
    std::string preset;
    int directionsSearched = 0;
    int feasibleDirections = 0;
    std::vector<PlannedTrajectory> trajectories;
    /// The vertebra the target sits on ("L5", "L4 (or L5)" between two), from the structures' vertebra
    /// labels (VertebralLevel.h); "" when they have none. Key "vertebralLevel", optional.
    std::string vertebralLevel;
};

/// A whole plan.
/// A measurement made on a slice view, stored with the plan (key "measurements", optional).
struct Measurement
{
    /// "distance" (2 points), "angle" (3 points, the vertex in the middle) or "ellipse" (an HU
    /// region: centre, end of one semi-axis, a point fixing the other semi-axis in the plane).
    std::string kind;
    std::vector<Vec3> pointsLps;
};
/// Points a measurement of `kind` needs (0 for an unknown kind).
std::size_t measurementPointCount(const std::string& kind);

/// How the workstation shows one structure; kept in the plan beside the structure's rule (keys
/// "visible" and "opacity" of its "structures" entry, both optional) and ignored by planning.
struct StructureDisplay
{
    std::optional<bool> visible;   ///< absent: the workstation's default (shown)
    std::optional<double> opacity; ///< 3D surface opacity in [0, 1]; absent: the default
};

struct Plan
{
    ImageReference image;
    Needle needle;
    std::vector<StructureSpec> structures;
    /// The display of structures[n] at index n; shorter (or empty, as in plans written before it
    /// existed) leaves the rest at their defaults.
    std::vector<StructureDisplay> structureDisplays;
    std::vector<PlanTarget> targets;
    std::vector<Measurement> measurements;
    std::string createdWith = "NeedlePlan 0.1.0";
};

/// The schema string this version writes and reads.
inline constexpr const char* kPlanSchema = "needleplan.plan/1";

/// JSON of one trajectory's evaluation with the stable keys (used by plans and by `check --json`).
nlohmann::json evaluationToJson(const Trajectory& trajectory, const Evaluation& evaluation);
/// JSON of a plan.
nlohmann::json planToJson(const Plan& plan);
/// Plan from JSON; throws np::Error(CorruptData) naming `source` and the key for missing or
/// malformed content, Unsupported for a plan from a newer NeedlePlan ("needleplan.plan/2"...).
Plan planFromJson(const nlohmann::json& json, const std::string& source);
/// Writes the plan atomically (temporary file in the same folder, fsync, rename). Throws
/// np::Error(Io) naming the path on failure.
void savePlan(const Plan& plan, const std::string& path);
/// Largest plan file loadPlan reads (64 MiB; a plan with every search direction is far smaller).
inline constexpr std::uint64_t kMaxPlanFileBytes = std::uint64_t{64} << 20;
/// Reads a plan file. Throws np::Error(NotFound) for a missing file, CorruptData for a file that is
/// not a valid plan, Unsupported for a newer schema.
Plan loadPlan(const std::string& path);
/// Writes text to `path` atomically (temporary file, fsync, rename); throws np::Error(Io).
void writeFileAtomically(const std::string& path, const std::string& text);

} // namespace np::planning
