#include "needleplan/planning/PlanValidation.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace np::planning {

namespace {

std::string point(const Vec3& p)
{
    std::ostringstream text;
    text.precision(6);
    text << "(" << p.x << ", " << p.y << ", " << p.z << ")";
    return text.str();
}

/// Distance in mm from `pointLps` to the image's box (0 inside); infinity for non-finite points.
double distanceOutside(const Vec3& pointLps, const imaging::Geometry& image)
{
    if (!std::isfinite(pointLps.x) || !std::isfinite(pointLps.y) || !std::isfinite(pointLps.z))
        return std::numeric_limits<double>::infinity();
    const Vec3 ijk = image.ijkFromLps(pointLps);
    double outsideMm[3] = {0.0, 0.0, 0.0};
    for (int a = 0; a < 3; ++a) {
        const double low = -0.5, high = static_cast<double>(image.size[a]) - 0.5;
        const double outside = ijk[a] < low ? low - ijk[a] : (ijk[a] > high ? ijk[a] - high : 0.0);
        outsideMm[a] = outside * image.spacing[a];
    }
    return std::hypot(outsideMm[0], std::hypot(outsideMm[1], outsideMm[2])); // no overflow near 1e308
}

std::string prefix(const std::string& source)
{
    return source.empty() ? std::string() : source + ": ";
}

} // namespace

void requireTargetInImage(const Vec3& targetLps, const imaging::Geometry& image, const std::string& source,
                          const std::string& what)
{
    const double outside = distanceOutside(targetLps, image);
    if (outside > 0.5 * image.maxSpacing()) {
        std::ostringstream distance;
        distance.precision(4);
        distance << outside;
        throw Error(ErrorCode::InvalidArgument,
                    prefix(source) + what + " at " + point(targetLps) + " LPS mm lies outside the image (" +
                        (std::isfinite(outside) ? distance.str() + " mm beyond its edge"
                                                : std::string("not a finite position")) +
                        ")");
    }
}

void requireEntryNearImage(const Vec3& entryLps, const imaging::Geometry& image, const std::string& source,
                           const std::string& what)
{
    const double outside = distanceOutside(entryLps, image);
    if (outside > kMaxEntryOutsideImageMm) {
        std::ostringstream distance;
        distance.precision(4);
        distance << outside;
        throw Error(ErrorCode::InvalidArgument,
                    prefix(source) + what + " at " + point(entryLps) + " LPS mm lies " +
                        (std::isfinite(outside) ? distance.str() + " mm" : std::string("infinitely far")) +
                        " outside the image (at most " +
                        std::to_string(static_cast<int>(kMaxEntryOutsideImageMm)) + " mm allowed)");
    }
}

void validatePlanAgainstImage(const Plan& plan, const imaging::Geometry& image, const std::string& source)
{
    for (const PlanTarget& target : plan.targets) {
        const std::string name = "target \"" + target.name + "\"";
        requireTargetInImage(target.targetLps, image, source, name);
        for (const PlannedTrajectory& planned : target.trajectories) {
            const std::string trajectory = name + ", trajectory " + std::to_string(planned.rank);
            requireTargetInImage(planned.trajectory.targetLps, image, source, trajectory + " target");
            requireEntryNearImage(planned.trajectory.entryLps, image, source, trajectory + " entry");
        }
    }
}

} // namespace np::planning
