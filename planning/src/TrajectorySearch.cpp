#include "needleplan/planning/TrajectorySearch.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

namespace np::planning {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kDegPerRad = 180.0 / kPi;
constexpr double kMaxStepMm = 4.0;
/// Bound on the gradient of a trilinearly interpolated distance map (√3: each axis's finite
/// differences are at most 1), used to certify the march between samples.
constexpr double kLipschitz = 1.7320508075688772;
constexpr double kCertifyResolutionMm = 0.02;
/// Rounding allowance of the march's skip intervals (mm and mm of t; the fields are floats).
constexpr double kSkipToleranceMm = 1e-3;

double angleDeg(const Vec3& a, const Vec3& b)
{
    return std::acos(std::max(-1.0, std::min(1.0, dot(normalized(a), normalized(b))))) * kDegPerRad;
}

/// A structure the march checks, with its field.
struct MarchStructure
{
    const DistanceField* field;
    StructureClass structureClass;
    double marginMm;
};

/// Whether a structure's slack (distance − radius − margin) stays ≥ 0 along the ray between the
/// samples ta and tb (slacks ca and cb): for an L-Lipschitz function the minimum over [ta, tb] is at
/// least (ca + cb − L (tb − ta)) / 2; uncertain intervals are halved down to kCertifyResolutionMm.
bool certifyInterval(const DistanceField& field, double radius, double marginMm, const Vec3& startIjk,
                     const Vec3& stepIjk, double ta, double ca, double tb, double cb)
{
    if (ca < 0.0 || cb < 0.0)
        return false;
    if (ca + cb >= kLipschitz * (tb - ta) || tb - ta < kCertifyResolutionMm)
        return true;
    const double tm = 0.5 * (ta + tb);
    const double cm = field.distanceAtIjk(startIjk + stepIjk * tm) - radius - marginMm;
    return certifyInterval(field, radius, marginMm, startIjk, stepIjk, ta, ca, tm, cm) &&
           certifyInterval(field, radius, marginMm, startIjk, stepIjk, tm, cm, tb, cb);
}
} // namespace

const char* toString(RejectReason reason)
{
    switch (reason) {
    case RejectReason::None:
        return "feasible";
    case RejectReason::Forbidden:
        return "forbidden";
    case RejectReason::Obstacle:
        return "obstacle";
    case RejectReason::TooLong:
        return "too-long";
    case RejectReason::NoSkin:
        return "no-skin";
    }
    return "feasible";
}

std::vector<Vec3> fibonacciCapDirections(const Vec3& axisLps, double windowDeg, int count)
{
    std::vector<Vec3> directions;
    if (count <= 0)
        return directions;
    const Vec3 w = normalized(axisLps);
    const Vec3 helper = std::abs(w.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
    const Vec3 u = normalized(cross(helper, w));
    const Vec3 v = cross(w, u);
    const double cosWindow = std::cos(std::min(180.0, std::max(0.0, windowDeg)) / kDegPerRad);
    const double golden = kPi * (3.0 - std::sqrt(5.0));
    directions.reserve(static_cast<std::size_t>(count));
    for (int n = 0; n < count; ++n) {
        const double z = 1.0 - (1.0 - cosWindow) * (n + 0.5) / count;
        const double r = std::sqrt(std::max(0.0, 1.0 - z * z));
        const double phi = golden * n;
        directions.push_back(normalized(u * (r * std::cos(phi)) + v * (r * std::sin(phi)) + w * z));
    }
    return directions;
}

TrajectorySearch::TrajectorySearch(const ClearanceFieldSet& fields, std::vector<StructureSpec> structures,
                                   const BodyModel& body)
    : m_fields(fields), m_structures(std::move(structures)), m_body(body)
{
}

Vec3 TrajectorySearch::nearestSkinDirectionLps(const Vec3& targetLps, double maxDistanceMm) const
{
    const auto& g = m_body.geometry();
    const double step = 2.0 * g.maxSpacing();
    Vec3 best{0, 1, 0};
    double bestDistance = std::numeric_limits<double>::infinity();
    for (const Vec3& d : fibonacciCapDirections({0, 0, 1}, 180.0, 2000)) {
        for (double t = 0.0; t <= maxDistanceMm && t < bestDistance; t += step)
            if (m_body.occupancyIjk(g.ijkFromLps(targetLps + d * t)) < 0.5) {
                // Leaving through the edge of the image is not the skin.
                if (g.containsIjk(g.ijkFromLps(targetLps + d * (t + step))))
                    bestDistance = t, best = d;
                break;
            }
    }
    return best;
}

SearchResult TrajectorySearch::run(const Vec3& targetLps, const Needle& needle, const ApproachWindow& window,
                                   const SearchOptions& options, ProgressSink* progress) const
{
    if (options.directionCount < 1 || options.directionCount > 5'000'000)
        throw Error(ErrorCode::InvalidArgument, "direction count must be between 1 and 5000000");
    if (options.topK < 1 || options.topK > 1000)
        throw Error(ErrorCode::InvalidArgument, "top K must be between 1 and 1000");
    if (!(needle.usableLengthMm > 0.0) || !(needle.outerDiameterMm > 0.0))
        throw Error(ErrorCode::InvalidArgument, "needle has no usable length or diameter");
    if (m_body.empty())
        throw Error(ErrorCode::InvalidArgument, "the search needs a body mask to find the skin");
    if (!std::isfinite(targetLps.x) || !std::isfinite(targetLps.y) || !std::isfinite(targetLps.z))
        throw Error(ErrorCode::InvalidArgument, "target has a non-finite coordinate");

    SearchResult result;
    result.targetLps = targetLps;
    result.window = window;
    const auto directions =
        fibonacciCapDirections(window.idealOutwardLps, window.windowDeg, options.directionCount);
    result.directions.resize(directions.size());

    std::vector<MarchStructure> march;
    for (const auto& spec : m_structures) {
        if (spec.structureClass == StructureClass::Ignored || spec.structureClass == StructureClass::Target)
            continue;
        const DistanceField* field = m_fields.field(spec.labelValue);
        if (!field)
            throw Error(ErrorCode::InvalidArgument,
                        "structure \"" + spec.name + "\" has no prepared clearance field");
        if (!field->absent())
            march.push_back({field, spec.structureClass, spec.marginMm});
    }
    // Forbidden and obstacle first: they end a ray soonest.
    std::stable_partition(march.begin(), march.end(), [](const MarchStructure& m) {
        return m.structureClass != StructureClass::Caution;
    });

    const auto& labelGeometry = m_fields.geometry();
    const auto& bodyGeometry = m_body.geometry();
    const Vec3 targetIjk = labelGeometry.ijkFromLps(targetLps);
    const Vec3 targetBodyIjk = bodyGeometry.ijkFromLps(targetLps);
    const double minSpacing =
        std::min({labelGeometry.spacing.x, labelGeometry.spacing.y, labelGeometry.spacing.z,
                  bodyGeometry.spacing.x, bodyGeometry.spacing.y, bodyGeometry.spacing.z});
    const double minStep = 0.5 * minSpacing;
    // A hard structure with at least this slack neither shortens a step nor fails its interval.
    const double skipStepSlack = kLipschitz * std::max(kMaxStepMm, minStep);
    const double maxSpacing = labelGeometry.maxSpacing();
    const double voxelDiagonal = norm(labelGeometry.spacing);
    const double edgeCheckMm = 2.0 * bodyGeometry.maxSpacing();
    const double radius = needle.radiusMm();
    const double usable = needle.usableLengthMm;
    const double tipZone = std::max(0.0, options.evaluation.tipZoneMm);
    const ScoreWeights& w = options.weights;
    const double saturation = std::max(0.1, w.clearanceSaturationMm);

    // Certifies that a structure's slack stays ≥ 0 between two samples (certifyInterval).
    auto certify = [radius](const MarchStructure& m, const Vec3& startIjk, const Vec3& stepIjk, double ta,
                            double ca, double tb, double cb) {
        return certifyInterval(*m.field, radius, m.marginMm, startIjk, stepIjk, ta, ca, tb, cb);
    };

    auto marchOne = [&](std::size_t index) {
        const Vec3& u = directions[index];
        DirectionResult& r = result.directions[index];
        r.directionLps = u;
        r.idealAngleDeg = static_cast<float>(angleDeg(u, window.idealOutwardLps));
        const Vec3 uIjk = labelGeometry.ijkFromLps(targetLps + u) - targetIjk;
        const Vec3 uBodyIjk = bodyGeometry.ijkFromLps(targetLps + u) - targetBodyIjk;
        double slack = std::numeric_limits<double>::infinity();
        double cautionIntrusion = 0.0;
        double previousT = 0.0;
        bool havePrevious = false;
        // Per structure: the slack at the previous sample (valid where previousKnown), and the
        // interval of t where it must be sampled (sampleFrom..sampleTo, set after the first sample).
        thread_local std::vector<double> previous, sampleFrom, sampleTo;
        thread_local std::vector<char> previousKnown;
        previous.assign(march.size(), 0.0);
        sampleFrom.assign(march.size(), 0.0);
        sampleTo.assign(march.size(), 0.0);
        previousKnown.assign(march.size(), 1);
        bool skipIntervalsSet = false;
        const double limit = usable + kMaxStepMm + 1.0;
        for (double t = 0.0;;) {
            if (havePrevious && !skipIntervalsSet) {
                // A structure is not sampled where its slack provably changes nothing: where its
                // bounding box lies so far from the ray that the field's lower bound (box distance −
                // half the largest spacing, DistanceField::boundingBoxSlab) keeps a hard structure's
                // slack at or above both the largest step's and the first sample's smallest
                // forbidden slack (which the ray's smallest slack never exceeds), and a caution
                // structure outside its margin. Such a sample neither shortens a step, nor lowers
                // the slack, nor fails its interval (both ends certify at once), nor adds caution:
                // decisions, steps and slack are those of sampling every structure every time.
                for (std::size_t s = 0; s < march.size(); ++s) {
                    const MarchStructure& m = march[s];
                    double slackNeeded = 0.0; // caution: outside the margin
                    if (m.structureClass == StructureClass::Forbidden)
                        slackNeeded = std::max(skipStepSlack, slack);
                    else if (m.structureClass == StructureClass::Obstacle)
                        slackNeeded = skipStepSlack;
                    const double boxDistance =
                        std::max(slackNeeded + radius + m.marginMm + 0.5 * maxSpacing, voxelDiagonal) +
                        kSkipToleranceMm;
                    const auto [from, to] = m.field->boundingBoxSlab(targetIjk, uIjk, boxDistance);
                    sampleFrom[s] = from - kSkipToleranceMm;
                    sampleTo[s] = to + kSkipToleranceMm;
                }
                skipIntervalsSet = true;
            }
            const Vec3 p = targetIjk + uIjk * t;
            double stepBound = kMaxStepMm;
            for (std::size_t s = 0; s < march.size(); ++s) {
                const MarchStructure& m = march[s];
                const bool forbidden = m.structureClass == StructureClass::Forbidden;
                const bool obstacle = m.structureClass == StructureClass::Obstacle;
                // Obstacles count from the tip-zone boundary outward (the march lands on it exactly).
                const bool hard = forbidden || (obstacle && t >= tipZone);
                if (skipIntervalsSet && (hard || !obstacle) && !(t >= sampleFrom[s] && t <= sampleTo[s])) {
                    previousKnown[s] = 0;
                    continue;
                }
                const double c = m.field->distanceAtIjk(p) - radius - m.marginMm;
                if (hard) {
                    const bool checkInterval = havePrevious && (forbidden || previousT >= tipZone);
                    if (checkInterval && !previousKnown[s]) // skipped at the previous sample
                        previous[s] = m.field->distanceAtIjk(targetIjk + uIjk * previousT) - radius - m.marginMm;
                    if (c < 0.0 ||
                        (checkInterval && !certify(m, targetIjk, uIjk, previousT, previous[s], t, c))) {
                        r.reason = forbidden ? RejectReason::Forbidden : RejectReason::Obstacle;
                        r.depthMm = static_cast<float>(t);
                        return;
                    }
                    if (forbidden)
                        slack = std::min(slack, c);
                    stepBound = std::min(stepBound, c / kLipschitz);
                } else if (obstacle) {
                    stepBound = std::min(stepBound, tipZone - t + std::max(0.0, c) / kLipschitz);
                } else if (c < 0.0) {
                    cautionIntrusion = std::max(cautionIntrusion, -c);
                }
                previous[s] = c;
                previousKnown[s] = 1;
            }
            const bool inside = m_body.occupancyIjk(targetBodyIjk + uBodyIjk * t) >= 0.5;
            if (!inside) {
                // Locate the crossing between the last inside sample and this one.
                double lo = previousT, hi = t;
                while (hi - lo > 0.05) {
                    const double mid = 0.5 * (lo + hi);
                    (m_body.occupancyIjk(targetBodyIjk + uBodyIjk * mid) >= 0.5 ? lo : hi) = mid;
                }
                // Leaving through the edge of the image, or a target outside the body, is no skin.
                if (hi < 1.0 || !bodyGeometry.containsIjk(targetBodyIjk + uBodyIjk * (hi + edgeCheckMm))) {
                    r.reason = RejectReason::NoSkin;
                    r.depthMm = static_cast<float>(hi);
                    return;
                }
                r.reachedSkin = true;
                r.depthMm = static_cast<float>(hi);
                r.skinEntryLps = targetLps + u * hi;
                if (hi > usable) {
                    r.reason = RejectReason::TooLong;
                    return;
                }
                break;
            }
            if (t >= limit) {
                r.reason = RejectReason::TooLong;
                r.depthMm = static_cast<float>(t);
                return;
            }
            previousT = t;
            havePrevious = true;
            double step = std::max(minStep, stepBound);
            if (t < tipZone && t + step > tipZone)
                step = tipZone - t;
            t += step;
        }
        r.feasible = true;
        r.slackMm = static_cast<float>(std::isfinite(slack) ? slack : saturation);
        const Vec3 normal = m_body.outwardNormalLps(r.skinEntryLps, 3);
        r.skinAngleDeg = norm(normal) > 0.5 ? static_cast<float>(angleDeg(normal, u)) : 0.0f;
        const double windowDeg = std::max(1.0, window.windowDeg);
        r.score = static_cast<float>(
            w.clearance * std::min<double>(r.slackMm, saturation) / saturation -
            w.length * r.depthMm / usable - w.idealAngle * r.idealAngleDeg / windowDeg -
            w.skinAngle * r.skinAngleDeg / 90.0 - w.caution * cautionIntrusion / saturation);
    };

    const int threadCount = std::max(1, std::min(options.threads, 64));
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::atomic<bool> cancelled{false};
    const std::size_t chunk = 256;
    auto worker = [&](int id) {
        for (;;) {
            if (cancelled.load())
                return;
            if (progress && progress->cancelRequested()) {
                cancelled = true;
                return;
            }
            const std::size_t begin = next.fetch_add(chunk);
            if (begin >= directions.size())
                return;
            const std::size_t end = std::min(directions.size(), begin + chunk);
            for (std::size_t n = begin; n < end; ++n)
                marchOne(n);
            const std::size_t finished = done.fetch_add(end - begin) + (end - begin);
            if (id == 0)
                reportProgress(progress,
                               0.9 * static_cast<double>(finished) / static_cast<double>(directions.size()),
                               "searching directions");
        }
    };
    std::vector<std::thread> threads;
    for (int id = 1; id < threadCount; ++id)
        threads.emplace_back(worker, id);
    worker(0);
    for (auto& t : threads)
        t.join();
    if (cancelled)
        throw Error(ErrorCode::Cancelled, "trajectory search cancelled");

    // Pareto front over (slack ↑, depth ↓, ideal angle ↓) among feasible rays.
    std::vector<std::size_t> feasible;
    for (std::size_t n = 0; n < result.directions.size(); ++n)
        if (result.directions[n].feasible)
            feasible.push_back(n);
    result.feasibleCount = static_cast<int>(feasible.size());
    std::vector<std::size_t> bySlack = feasible;
    std::sort(bySlack.begin(), bySlack.end(), [&](std::size_t a, std::size_t b) {
        const auto &ra = result.directions[a], &rb = result.directions[b];
        if (ra.slackMm != rb.slackMm)
            return ra.slackMm > rb.slackMm;
        if (ra.depthMm != rb.depthMm)
            return ra.depthMm < rb.depthMm;
        return ra.idealAngleDeg < rb.idealAngleDeg;
    });
    std::vector<std::size_t> front;
    for (std::size_t n : bySlack) {
        const auto& r = result.directions[n];
        bool dominated = false;
        for (std::size_t f : front) {
            const auto& q = result.directions[f];
            // q has slack ≥ r's (sorted); it dominates when it is no worse on the others.
            if (q.depthMm <= r.depthMm && q.idealAngleDeg <= r.idealAngleDeg &&
                (q.slackMm > r.slackMm || q.depthMm < r.depthMm || q.idealAngleDeg < r.idealAngleDeg)) {
                dominated = true;
                break;
            }
        }
        if (!dominated) {
            front.push_back(n);
            result.directions[n].pareto = true;
        }
    }
    result.paretoCount = static_cast<int>(front.size());

    // Top K by score, spread apart, each confirmed by the full evaluation.
    std::vector<std::size_t> byScore = feasible;
    std::sort(byScore.begin(), byScore.end(), [&](std::size_t a, std::size_t b) {
        return result.directions[a].score > result.directions[b].score;
    });
    TrajectoryEvaluator evaluator(m_fields, m_structures, &m_body);
    const double cosSeparation = std::cos(options.minSeparationDeg / kDegPerRad);
    for (std::size_t n : byScore) {
        if (static_cast<int>(result.candidates.size()) >= options.topK)
            break;
        const auto& r = result.directions[n];
        bool tooClose = false;
        for (const auto& c : result.candidates)
            if (dot(result.directions[c.directionIndex].directionLps, r.directionLps) > cosSeparation) {
                tooClose = true;
                break;
            }
        if (tooClose)
            continue;
        throwIfCancelled(progress);
        Candidate candidate;
        candidate.trajectory = Trajectory{r.skinEntryLps, targetLps, needle};
        candidate.evaluation = evaluator.evaluate(candidate.trajectory, options.evaluation);
        if (!candidate.evaluation.safe) {
            ++result.rejectedByFullEvaluation;
            continue;
        }
        candidate.score = r.score;
        candidate.pareto = r.pareto;
        candidate.directionIndex = n;
        result.candidates.push_back(std::move(candidate));
    }
    reportProgress(progress, 1.0, "searching directions");
    return result;
}

ApproachWindow approachWindowFor(const Preset& preset, const Vec3& targetLps, const TrajectorySearch& search,
                                 const BodyModel& body, double maxDistanceMm)
{
    ApproachWindow window;
    window.windowDeg = preset.windowDeg;
    const int side = targetLps.x >= body.midlineXLps() ? 1 : -1;
    Vec3 nearest{0, 1, 0};
    if (preset.approachFrom == "nearest-skin")
        nearest = search.nearestSkinDirectionLps(targetLps, maxDistanceMm);
    window.idealOutwardLps = idealOutwardDirectionLps(preset, side, nearest);
    return window;
}

SearchResult planTarget(ClearanceFieldSet& fields, const std::vector<StructureSpec>& structures,
                        const BodyModel& body, const Vec3& targetLps, const Needle& needle,
                        const Preset& preset, SearchOptions options, ProgressSink* progress)
{
    if (body.empty() || !body.geometry().containsIjk(body.geometry().ijkFromLps(targetLps)))
        throw Error(ErrorCode::InvalidArgument,
                    "target (" + std::to_string(targetLps.x) + ", " + std::to_string(targetLps.y) + ", " +
                        std::to_string(targetLps.z) + ") LPS mm lies outside the image");
    TrajectorySearch search(fields, structures, body);
    options.evaluation.tipZoneMm = preset.tipZoneMm;
    options.weights = preset.weights;
    if (!options.evaluation.midlineXLps)
        options.evaluation.midlineXLps = body.midlineXLps();
    const ApproachWindow window =
        approachWindowFor(preset, targetLps, search, body, needle.usableLengthMm * 1.5);
    // The fields only need to cover the cone of directions searched (apex at the target, length
    // of the needle): its bounding points are the target and the cap's rim and interior.
    const double reach = needle.usableLengthMm + 5.0;
    std::vector<Vec3> conePoints{targetLps};
    for (const Vec3& d : fibonacciCapDirections(window.idealOutwardLps, window.windowDeg, 400))
        conePoints.push_back(targetLps + d * reach);
    for (int n = 0; n < 64; ++n) { // the rim itself, which the spiral only approaches
        const Vec3 w = normalized(window.idealOutwardLps);
        const Vec3 u = normalized(cross(std::abs(w.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0}, w));
        const Vec3 v = cross(w, u);
        const double a = 2.0 * kPi * n / 64.0, c = std::min(180.0, window.windowDeg) / kDegPerRad;
        conePoints.push_back(targetLps +
                             (w * std::cos(c) + (u * std::cos(a) + v * std::sin(a)) * std::sin(c)) * reach);
    }
    // Exact distances up to each margin plus the score's saturation (and 2 mm for the needle's radius
    // and interpolation): beyond, a bound cannot change a decision or the score.
    fields.prepareRegion(structures, conePoints, 2.0, progress,
                         std::max(0.1, options.weights.clearanceSaturationMm) + 2.0);
    return search.run(targetLps, needle, window, options, progress);
}

} // namespace np::planning
