#pragma once
/// Checks of positions read from plans, target catalogues and the command line against the image
/// they are used with, made before anything is computed on them (a point at 1e308 mm would make a
/// trajectory's sampling run for ever).

#include "needleplan/imaging/Geometry.h"
#include "needleplan/planning/PlanDocument.h"

#include <string>

namespace np::planning {

/// How far (mm) an entry point may lie outside the image's box (the voxel grid's outer faces):
/// longer than any needle in the catalogue, so every trajectory a needle can make reaches it.
inline constexpr double kMaxEntryOutsideImageMm = 300.0;

/// Throws np::Error(InvalidArgument) "<source>: <what> at (x, y, z) LPS mm lies outside the image
/// ..." unless `targetLps` is finite and inside the image's box (grown by half the largest spacing).
void requireTargetInImage(const Vec3& targetLps, const imaging::Geometry& image, const std::string& source,
                          const std::string& what);

/// Throws np::Error(InvalidArgument) naming `source` and `what` unless `entryLps` is finite and at
/// most kMaxEntryOutsideImageMm outside the image's box.
void requireEntryNearImage(const Vec3& entryLps, const imaging::Geometry& image, const std::string& source,
                           const std::string& what);

/// Every target and trajectory of `plan` checked as above; messages name `source` (the plan file),
/// the target and the trajectory's rank.
void validatePlanAgainstImage(const Plan& plan, const imaging::Geometry& image, const std::string& source);

} // namespace np::planning
