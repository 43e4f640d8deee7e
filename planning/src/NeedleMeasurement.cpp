#include "needleplan/planning/NeedleMeasurement.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace np::planning {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;

bool finite(const Vec3& v)
{
    return std::isfinite(v.x) && std::isfinite(v.y) && std::isfinite(v.z);
}

void checkTrajectory(const Trajectory& t, const char* what)
{
    if (!finite(t.entryLps) || !finite(t.targetLps))
        throw Error(ErrorCode::InvalidArgument, std::string(what) + " needle has a non-finite coordinate");
    if (t.lengthMm() < 1e-6)
        throw Error(ErrorCode::InvalidArgument, std::string(what) + " needle has its entry on its tip");
}

/// Angle in radians between two directions, accurate for small and large angles.
double angleBetween(const Vec3& a, const Vec3& b)
{
    return std::atan2(norm(cross(a, b)), dot(a, b));
}

/// Distance of `point` from the infinite line through `origin` along the unit `direction`.
double distanceFromLine(const Vec3& point, const Vec3& origin, const Vec3& direction)
{
    const Vec3 offset = point - origin;
    return norm(offset - direction * dot(offset, direction));
}

std::string format(const char* pattern, double a, double b = 0.0, double c = 0.0, double d = 0.0)
{
    char buffer[256];
    std::snprintf(buffer, sizeof buffer, pattern, a, b, c, d);
    return buffer;
}

} // namespace

NeedleErrors compareNeedle(const Trajectory& planned, const Trajectory& actual)
{
    checkTrajectory(planned, "the planned");
    checkTrajectory(actual, "the actual");
    const Vec3 plannedDirection = planned.directionLps();
    const Vec3 tipOffset = actual.targetLps - planned.targetLps;

    NeedleErrors e;
    e.tipErrorMm = norm(tipOffset);
    e.tipAlongMm = dot(tipOffset, plannedDirection);
    e.tipAcrossLps = tipOffset - plannedDirection * e.tipAlongMm;
    e.tipAcrossMm = norm(e.tipAcrossLps);
    e.entryErrorMm = distance(actual.entryLps, planned.entryLps);
    e.angleErrorDeg = angleBetween(plannedDirection, actual.directionLps()) * kDegPerRad;
    return e;
}

std::optional<ActiveTipPlacement> measureActiveTip(const Trajectory& planned, const Trajectory& actual,
                                                   double toleranceMm)
{
    checkTrajectory(planned, "the planned");
    checkTrajectory(actual, "the actual");
    if (!actual.needle.isRadiofrequency())
        return std::nullopt;
    const Vec3 plannedDirection = planned.directionLps();
    const Vec3 actualDirection = actual.directionLps();

    ActiveTipPlacement p;
    p.activeTipMm = actual.needle.activeTipMm;
    p.toleranceMm = toleranceMm;
    // The active tip is the last activeTipMm of the shaft (or the whole of a shorter path).
    const double exposed = std::min(p.activeTipMm, actual.lengthMm());
    p.activeStartLps = actual.targetLps - actualDirection * exposed;
    // The distance to a line is convex along a segment: its largest value is at an end.
    p.maxDistanceMm = std::max(distanceFromLine(actual.targetLps, planned.targetLps, plannedDirection),
                               distanceFromLine(p.activeStartLps, planned.targetLps, plannedDirection));
    p.meanDistanceMm =
        distanceFromLine((actual.targetLps + p.activeStartLps) * 0.5, planned.targetLps, plannedDirection);
    const double angle = angleBetween(plannedDirection, actualDirection);
    p.angleDeg = std::min(angle, kPi - angle) * kDegPerRad; // a line has no sense of travel
    p.withinTolerance = p.maxDistanceMm <= toleranceMm;
    return p;
}

NeedleMeasurement measureNeedle(const Trajectory& planned, const Trajectory& actual,
                                const TrajectoryEvaluator* evaluator,
                                const EvaluationOptions& evaluationOptions, const MeasurementOptions& options)
{
    NeedleMeasurement m;
    m.planned = planned;
    m.actual = actual;
    m.errors = compareNeedle(planned, actual);
    m.plannedSkinEntryLps = planned.entryLps;
    m.actualSkinEntryLps = actual.entryLps;
    m.activeTip = measureActiveTip(planned, actual, options.activeTipToleranceMm);

    if (evaluator) {
        m.plannedEvaluation = evaluator->evaluate(planned, evaluationOptions);
        m.actualEvaluation = evaluator->evaluate(actual, evaluationOptions);
        if (m.plannedEvaluation->skinFound)
            m.plannedSkinEntryLps = m.plannedEvaluation->skinEntryLps;
        if (m.actualEvaluation->skinFound)
            m.actualSkinEntryLps = m.actualEvaluation->skinEntryLps;
        m.errors.entryErrorMm = distance(m.actualSkinEntryLps, m.plannedSkinEntryLps);
        m.actualSafe = m.actualEvaluation->safe;
    }

    // The safety finding comes first: a needle on target that crossed a margin is a failure.
    const NeedleErrors& e = m.errors;
    const std::string accuracy =
        format("tip %.2f mm from the target (%.2f mm along the planned axis, "
               "%.2f mm across it)",
               e.tipErrorMm, e.tipAlongMm, e.tipAcrossMm) +
        format(", entry %.2f mm from the planned entry, angle %.2f deg", e.entryErrorMm, e.angleErrorDeg);
    if (!m.actualEvaluation) {
        m.summary.push_back("NOT CHECKED: no structures were given, so the actual path's safety is unknown");
    } else if (!m.actualSafe) {
        const auto& violations = m.actualEvaluation->violations;
        std::string line = "UNSAFE: the actual path ";
        line += violations.empty() ? std::string("fails its evaluation") : violations.front().message;
        line += format(" (tip %.2f mm from the target)", e.tipErrorMm);
        m.summary.push_back(line);
        for (std::size_t i = 1; i < violations.size(); ++i)
            m.summary.push_back("also: " + violations[i].message);
    } else {
        const auto& reasons = m.actualEvaluation->reasons;
        m.summary.push_back("SAFE: the actual path " +
                            (reasons.empty() ? std::string("keeps every margin") : reasons.front()));
    }
    m.summary.push_back(accuracy);
    if (m.activeTip) {
        const ActiveTipPlacement& p = *m.activeTip;
        m.summary.push_back(
            format("RF active tip (%.1f mm): %.2f mm at most from the planned line (limit %.1f mm), "
                   "%.2f deg to it",
                   p.activeTipMm, p.maxDistanceMm, p.toleranceMm, p.angleDeg) +
            (p.withinTolerance ? ": parallel placement reached" : ": too far for a parallel lesion"));
    }
    return m;
}

std::vector<NeedleMatch> matchNeedles(const std::vector<Trajectory>& actual,
                                      const std::vector<Trajectory>& planned, const MatchOptions& options)
{
    if (!(options.maxTipDistanceMm > 0.0) || !(options.maxAngleDeg > 0.0))
        throw Error(ErrorCode::InvalidArgument,
                    "needle matching: the distance and angle limits must be positive");
    struct Pair
    {
        int a, p;
        double distanceMm, angleDeg, cost;
    };
    std::vector<NeedleMatch> matches(actual.size());
    std::vector<Pair> pairs;
    for (std::size_t a = 0; a < actual.size(); ++a) {
        checkTrajectory(actual[a], "a detected");
        NeedleMatch& m = matches[a];
        m.actualIndex = static_cast<int>(a);
        double nearestCost = HUGE_VAL;
        for (std::size_t p = 0; p < planned.size(); ++p) {
            checkTrajectory(planned[p], "a planned");
            const double d = distance(actual[a].targetLps, planned[p].targetLps);
            const double angle =
                angleBetween(actual[a].directionLps(), planned[p].directionLps()) * kDegPerRad;
            const double cost = d / options.maxTipDistanceMm + angle / options.maxAngleDeg;
            if (cost < nearestCost)
                nearestCost = cost, m.tipDistanceMm = d, m.angleDeg = angle;
            if (d <= options.maxTipDistanceMm && angle <= options.maxAngleDeg)
                pairs.push_back({static_cast<int>(a), static_cast<int>(p), d, angle, cost});
        }
    }
    std::stable_sort(pairs.begin(), pairs.end(),
                     [](const Pair& x, const Pair& y) { return x.cost < y.cost; });
    std::vector<bool> plannedTaken(planned.size(), false);
    for (const Pair& pair : pairs) {
        NeedleMatch& m = matches[static_cast<std::size_t>(pair.a)];
        if (m.plannedIndex >= 0 || plannedTaken[static_cast<std::size_t>(pair.p)])
            continue;
        m.plannedIndex = pair.p;
        m.tipDistanceMm = pair.distanceMm;
        m.angleDeg = pair.angleDeg;
        plannedTaken[static_cast<std::size_t>(pair.p)] = true;
    }
    for (NeedleMatch& m : matches) {
        if (m.plannedIndex >= 0)
            continue;
        if (planned.empty())
            m.reason = "the plan has no trajectory";
        else if (m.tipDistanceMm > options.maxTipDistanceMm || m.angleDeg > options.maxAngleDeg)
            m.reason =
                format("no planned trajectory within %.0f mm and %.0f deg (nearest: tip %.1f mm from its "
                       "target, %.1f deg apart)",
                       options.maxTipDistanceMm, options.maxAngleDeg, m.tipDistanceMm, m.angleDeg);
        else
            m.reason = "its planned trajectory matched a closer needle";
    }
    return matches;
}

} // namespace np::planning
