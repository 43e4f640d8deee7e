#include "needleplan/planning/TrajectoryEvaluator.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace np::planning {

const char* toString(ViolationKind kind)
{
    switch (kind) {
    case ViolationKind::Margin:
        return "margin";
    case ViolationKind::Obstacle:
        return "obstacle";
    case ViolationKind::Length:
        return "length";
    }
    return "margin";
}

namespace {
std::string format(const char* pattern, double a, double b = 0.0, double c = 0.0)
{
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, pattern, a, b, c);
    return buffer;
}
bool finite(const Vec3& v)
{
    return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z);
}
constexpr double kDegPerRad = 57.29577951308232;
} // namespace

TrajectoryEvaluator::TrajectoryEvaluator(const ClearanceFieldSet& fields,
                                         std::vector<StructureSpec> structures, const BodyModel* body)
    : m_fields(fields), m_structures(std::move(structures)), m_body(body)
{
}

Evaluation TrajectoryEvaluator::evaluate(const Trajectory& trajectory, const EvaluationOptions& options) const
{
    if (!finite(trajectory.entryLps) || !finite(trajectory.targetLps))
        throw Error(ErrorCode::InvalidArgument, "trajectory has a non-finite coordinate");
    const double length = trajectory.lengthMm();
    if (!(length > 1e-6))
        throw Error(ErrorCode::InvalidArgument, "trajectory entry and target coincide");
    // Sampling is proportional to the length: a far-away point (1e9 mm) would never finish.
    if (length > 10000.0)
        throw Error(ErrorCode::InvalidArgument, "trajectory of " + std::to_string(length) +
                                                    " mm is longer than 10 m; its entry or target lies far outside the image");
    if (!(trajectory.needle.outerDiameterMm > 0.0) || !(trajectory.needle.usableLengthMm > 0.0))
        throw Error(ErrorCode::InvalidArgument,
                    "needle \"" + trajectory.needle.name + "\" has no diameter or length");

    Evaluation result;
    result.lengthMm = length;
    const Vec3 direction = trajectory.directionLps();
    const double radius = trajectory.needle.radiusMm();
    const auto& geometry = m_fields.geometry();
    const double minSpacing = std::min({geometry.spacing.x, geometry.spacing.y, geometry.spacing.z});
    const double step = options.sampleStepMm > 0.0 ? options.sampleStepMm : 0.25 * minSpacing;
    const int sampleCount = static_cast<int>(std::ceil(length / step)) + 1;
    const double tipZone = std::max(0.0, options.tipZoneMm);

    // Skin crossing: walk from the target outward to where the line leaves the body.
    result.skinEntryLps = trajectory.entryLps;
    result.depthFromSkinMm = length;
    if (m_body && !m_body->empty()) {
        const auto exit = m_body->exitDistanceMm(trajectory.targetLps, -direction, length + 1.0);
        if (exit) {
            result.skinFound = true;
            result.depthFromSkinMm = *exit;
            result.skinEntryLps = trajectory.targetLps - direction * *exit;
            if (*exit == 0.0)
                result.warnings.push_back("the target lies outside the body");
            const Vec3 normal = m_body->outwardNormalLps(result.skinEntryLps);
            if (norm(normal) > 0.5)
                result.skinAngleDeg =
                    std::acos(std::max(-1.0, std::min(1.0, dot(normal, -direction)))) * kDegPerRad;
        } else {
            result.warnings.push_back("the entry point lies inside the body: the skin crossing is beyond it");
        }
    }

    const Vec3 entryIjk = geometry.ijkFromLps(trajectory.entryLps);
    const Vec3 stepIjk = geometry.ijkFromLps(trajectory.entryLps + direction) - entryIjk;
    double bestSlack = std::numeric_limits<double>::infinity();
    for (const auto& spec : m_structures) {
        if (spec.structureClass == StructureClass::Ignored || spec.structureClass == StructureClass::Target)
            continue;
        const DistanceField* field = m_fields.field(spec.labelValue);
        if (!field)
            throw Error(ErrorCode::InvalidArgument,
                        "structure \"" + spec.name + "\" has no prepared clearance field");
        if (field->absent())
            continue;
        const bool obstacle = spec.structureClass == StructureClass::Obstacle;
        // Obstacles are only checked up to the tip zone.
        const double checkedLength = obstacle ? length - tipZone : length;
        StructureClearance clearance;
        clearance.structure = spec.name;
        clearance.labelValue = spec.labelValue;
        clearance.structureClass = spec.structureClass;
        clearance.marginMm = spec.marginMm;
        clearance.clearanceMm = std::numeric_limits<double>::infinity();
        double firstViolation = -1.0, firstViolationClearance = 0.0;
        bool minimumIsBound = false, boundBelowMargin = false;
        auto consider = [&](double s) {
            const DistanceSample sample = field->sampleAtIjk(entryIjk + stepIjk * s);
            const double c = sample.distanceMm - radius;
            if (c < clearance.clearanceMm)
                clearance.clearanceMm = c, clearance.depthFromEntryMm = s, minimumIsBound = !sample.exact;
            if (c < spec.marginMm && spec.structureClass != StructureClass::Caution) {
                if (!sample.exact) // a bound decides nothing: the exact distance below does
                    boundBelowMargin = true;
                else if (firstViolation < 0.0)
                    firstViolation = s, firstViolationClearance = c;
            }
        };
        if (checkedLength > 0.0) {
            for (int n = 0; n < sampleCount; ++n) {
                const double s = std::min(checkedLength, n * step);
                consider(s);
                if (s >= checkedLength)
                    break;
            }
            // Refine around the sampled minimum (the field is smooth between voxel centres).
            const double centre = clearance.depthFromEntryMm;
            for (int n = -8; n <= 8; ++n) {
                const double s = centre + n * step / 8.0;
                if (s > 0.0 && s < checkedLength)
                    consider(s);
            }
        }
        if (!std::isfinite(clearance.clearanceMm))
            continue; // nothing of the shaft is checked against it (obstacle entirely in the tip zone)
        // The reported minimum comes from the structure's boundary voxels (exact within half the
        // largest spacing, where the interpolated field may read up to a voxel low near curved
        // surfaces, and where the field only holds a bound for far structures). Inside a structure
        // the field is exact and kept.
        if (minimumIsBound || boundBelowMargin || clearance.clearanceMm + radius >= 0.0) {
            const auto exact = m_fields.exactSegmentDistance(spec.labelValue, trajectory.entryLps,
                                                             trajectory.entryLps + direction * checkedLength,
                                                             kExactClearanceLimitMm + radius + 1.0);
            const double c = exact.distanceMm - radius;
            if (exact.lowerBound) {
                if (minimumIsBound) {
                    clearance.clearanceMm = std::max(c, clearance.clearanceMm);
                    clearance.lowerBound = true;
                }
            } else {
                clearance.clearanceMm = c;
                clearance.depthFromEntryMm = exact.depthFromAMm;
                // Where the field was exact it decides (the search marched on it); where it only
                // held a bound, the exact value does.
                if (c < spec.marginMm && spec.structureClass != StructureClass::Caution &&
                    (minimumIsBound || boundBelowMargin) &&
                    (firstViolation < 0.0 || exact.depthFromAMm < firstViolation))
                    firstViolation = exact.depthFromAMm, firstViolationClearance = c;
                else if (c < spec.marginMm && spec.structureClass == StructureClass::Forbidden &&
                         firstViolation < 0.0)
                    result.warnings.push_back(
                        "passes " + format("%.1f mm", c) + " from " + spec.name +
                        format(
                            " (margin %.1f mm): within the discretisation tolerance (%.1f mm) of the margin",
                            spec.marginMm, 0.5 * geometry.maxSpacing()));
            }
        }
        clearance.closestShaftPointLps = trajectory.entryLps + direction * clearance.depthFromEntryMm;
        if (firstViolation >= 0.0) {
            clearance.violated = true;
            Violation v;
            v.kind = obstacle ? ViolationKind::Obstacle : ViolationKind::Margin;
            v.structure = spec.name;
            v.clearanceMm = firstViolationClearance;
            v.marginMm = spec.marginMm;
            v.depthFromEntryMm = firstViolation;
            v.positionLps = trajectory.entryLps + direction * firstViolation;
            if (obstacle)
                v.message = "passes through " + spec.name +
                            format(" %.1f mm from the entry, %.1f mm before the target (tip zone %.1f mm)",
                                   firstViolation, length - firstViolation, tipZone);
            else
                v.message = "passes " + format("%.1f mm", clearance.clearanceMm) + " from " + spec.name +
                            format(" (margin %.1f mm), first within the margin %.1f mm from the entry",
                                   spec.marginMm, firstViolation);
            result.violations.push_back(v);
        } else if (spec.structureClass == StructureClass::Caution && clearance.clearanceMm < spec.marginMm) {
            result.warnings.push_back("passes " + format("%.1f mm", clearance.clearanceMm) + " from " +
                                      spec.name + format(" (caution margin %.1f mm)", spec.marginMm));
        }
        if (spec.structureClass == StructureClass::Forbidden) {
            const double slack = clearance.clearanceMm - spec.marginMm;
            if (slack < bestSlack)
                bestSlack = slack, result.closestIndex = static_cast<int>(result.clearances.size());
        }
        result.clearances.push_back(clearance);
    }

    const double requiredLength = result.skinFound ? result.depthFromSkinMm : length;
    if (requiredLength > trajectory.needle.usableLengthMm) {
        Violation v;
        v.kind = ViolationKind::Length;
        v.clearanceMm = 0.0;
        v.depthFromEntryMm = 0.0;
        v.positionLps = result.skinEntryLps;
        v.message = format("needs %.1f mm of needle but ", requiredLength) + trajectory.needle.name +
                    format(" has %.1f mm", trajectory.needle.usableLengthMm);
        result.violations.push_back(v);
    }
    std::stable_sort(
        result.violations.begin(), result.violations.end(),
        [](const Violation& a, const Violation& b) { return a.depthFromEntryMm < b.depthFromEntryMm; });
    result.safe = result.violations.empty();
    for (const auto& v : result.violations)
        result.reasons.push_back(v.message);
    if (result.safe) {
        if (result.closestIndex >= 0) {
            const auto& c = result.clearances[static_cast<std::size_t>(result.closestIndex)];
            result.reasons.push_back("keeps every margin; closest: " + c.structure +
                                     format(" at %.1f mm (margin %.1f mm)", c.clearanceMm, c.marginMm));
        } else {
            result.reasons.push_back("keeps every margin; no forbidden structure near the path");
        }
    }
    result.angles = computeTrajectoryAngles(trajectory.entryLps, trajectory.targetLps,
                                            options.patientPosition, options.midlineXLps);
    return result;
}

} // namespace np::planning
