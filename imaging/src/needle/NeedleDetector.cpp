#include "needleplan/imaging/NeedleDetector.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

namespace np::imaging {

namespace {

/// Largest needle radius the detector expects (18 G: 1.27 mm outer diameter).
constexpr double kMaxNeedleRadiusMm = 0.65;
/// Ring radius (beyond the voxel size) at which the body is sampled around the axis, clear of the metal.
constexpr double kBodyRingMm = 4.0;

struct Line
{
    Vec3 pointLps;
    Vec3 directionLps; ///< unit
    double distance(const Vec3& p) const
    {
        const Vec3 offset = p - pointLps;
        return norm(offset - directionLps * dot(offset, directionLps));
    }
    double along(const Vec3& p) const { return dot(p - pointLps, directionLps); }
    Vec3 at(double t) const { return pointLps + directionLps * t; }
};

/// Two unit vectors completing `d` to an orthonormal basis.
void perpendicularBasis(const Vec3& d, Vec3& e1, Vec3& e2)
{
    const Vec3 helper = std::abs(d.x) < 0.9 ? Vec3{1, 0, 0} : Vec3{0, 1, 0};
    e1 = normalized(cross(d, helper));
    e2 = cross(d, e1);
}

/// Dominant eigenvector of a symmetric positive semi-definite 3×3 matrix (power iteration; a
/// needle's spread along its axis dwarfs the others, so this converges in a few steps).
Vec3 dominantEigenvector(const Mat3& m, Vec3 start)
{
    Vec3 v = normalized(start);
    for (int iteration = 0; iteration < 100; ++iteration) {
        const Vec3 next = normalized(m * v);
        if (norm(next) == 0.0)
            break;
        const bool converged = norm(next - v) < 1e-12;
        v = next;
        if (converged)
            break;
    }
    return v;
}

struct ThresholdedVoxels
{
    std::vector<Vec3> pointsLps;
    Vec3 bodyCentroidLps;
    bool bodyFound = false;
};

/// Voxel centres at or above the threshold, and the centroid of the body (subsampled).
ThresholdedVoxels collectMetal(const Volume& ct, float thresholdHu, float bodyThresholdHu,
                               ProgressSink* progress)
{
    const Geometry& g = ct.geometry();
    ThresholdedVoxels result;
    Vec3 bodySum;
    double bodyCount = 0.0;
    const float* v = ct.data();
    for (std::int64_t k = 0; k < g.size[2]; ++k) {
        throwIfCancelled(progress);
        for (std::int64_t j = 0; j < g.size[1]; ++j) {
            const float* row = v + ct.linearIndex(0, j, k);
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                if (row[i] >= thresholdHu)
                    result.pointsLps.push_back(g.lpsFromIjk(
                        Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)}));
                if (((i | j) & 3) == 0 && row[i] > bodyThresholdHu) {
                    bodySum += Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)};
                    bodyCount += 1.0;
                }
            }
        }
        if ((k & 15) == 0)
            reportProgress(progress, 0.5 * static_cast<double>(k) / static_cast<double>(g.size[2]),
                           "Finding metal voxels");
    }
    if (bodyCount > 0.0) {
        result.bodyFound = true;
        result.bodyCentroidLps = g.lpsFromIjk(bodySum / bodyCount);
    }
    return result;
}

/// A voxel near a needle's axis: its metal excess over the local background, and the stretch of
/// the axis that passes through it (where its metal lies, for a needle thinner than a voxel).
struct AxisVoxel
{
    Vec3 centreLps;
    double excessHu = 0.0; ///< value minus the local background (signed)
    double tIn = 0.0;      ///< the axis stretch within the voxel (grown by the needle radius)
    double tOut = 0.0;
};

class NeedleFitter
{
public:
    NeedleFitter(const Volume& ct, const NeedleDetectionOptions& options)
        : m_ct(ct), m_geometry(ct.geometry()), m_options(options)
    {
        // Any voxel centre touched by a needle's partial volume lies within this of its axis.
        m_fitRadiusMm = kMaxNeedleRadiusMm + 0.5 * norm(m_geometry.spacing) + 0.3;
    }

    double fitRadiusMm() const { return m_fitRadiusMm; }

    /// Voxels whose centre lies within `radius` of the axis between `t0` and `t1`, each with its
    /// excess over the background sampled just outside that radius at the same depth (so bone at
    /// the tip or tissue along the shaft cancels, and a streak's lobes average out).
    std::vector<AxisVoxel> gather(const Line& line, double t0, double t1, double radius) const
    {
        std::array<std::int64_t, 3> lo{}, hi{};
        boxAround(line.at(t0), line.at(t1), radius, lo, hi);
        Vec3 e1, e2;
        perpendicularBasis(line.directionLps, e1, e2);
        const double ringRadius = radius + 0.5 * m_geometry.maxSpacing() + 0.5;
        const Mat3 lpsFromIjk = m_geometry.lpsFromIjkLinear();
        const Mat3 ijkFromLps = lpsFromIjk.inverse();
        std::vector<AxisVoxel> voxels;
        for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
            for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
                for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                    const Vec3 p = m_geometry.lpsFromIjk(
                        Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
                    const double t = line.along(p);
                    if (t < t0 || t > t1 || line.distance(p) > radius)
                        continue;
                    AxisVoxel v;
                    v.centreLps = p;
                    if (m_options.backgroundHuAt) {
                        v.excessHu = static_cast<double>(m_ct.at(i, j, k)) - m_options.backgroundHuAt(p);
                    } else {
                        // Background: median of eight samples on a ring around the axis at depth t.
                        const Vec3 q = line.at(t);
                        std::array<double, 8> ring{};
                        for (std::size_t r = 0; r < ring.size(); ++r) {
                            const double angle =
                                2.0 * 3.14159265358979323846 * static_cast<double>(r) / ring.size();
                            ring[r] = m_ct.sampleLps(q + e1 * (ringRadius * std::cos(angle)) +
                                                         e2 * (ringRadius * std::sin(angle)),
                                                     -1000.0f);
                        }
                        std::sort(ring.begin(), ring.end());
                        v.excessHu = static_cast<double>(m_ct.at(i, j, k)) - 0.5 * (ring[3] + ring[4]);
                    }
                    // Where the axis crosses the voxel's box grown by the needle radius (in ijk,
                    // the growth per axis is the radius over the spacing).
                    const Vec3 originIjk = ijkFromLps * (line.pointLps - p);
                    const Vec3 directionIjk = ijkFromLps * line.directionLps;
                    double enter = -HUGE_VAL, leave = HUGE_VAL;
                    for (int a = 0; a < 3; ++a) {
                        const double half = 0.5 + kMaxNeedleRadiusMm * 0.5 / m_geometry.spacing[a];
                        if (std::abs(directionIjk[a]) < 1e-12) {
                            if (std::abs(originIjk[a]) > half)
                                enter = HUGE_VAL;
                            continue;
                        }
                        double s0 = (-half - originIjk[a]) / directionIjk[a];
                        double s1 = (half - originIjk[a]) / directionIjk[a];
                        if (s0 > s1)
                            std::swap(s0, s1);
                        enter = std::max(enter, s0), leave = std::min(leave, s1);
                    }
                    if (enter < leave)
                        v.tIn = enter, v.tOut = leave;
                    else
                        v.tIn = v.tOut = t;
                    voxels.push_back(v);
                }
        return voxels;
    }

    /// Intensity-weighted least-squares axis over the voxels near `line` between `t0` and `t1`.
    Line refine(const Line& line, double t0, double t1, double radius) const
    {
        double weightSum = 0.0;
        Vec3 weightedSum;
        const std::vector<AxisVoxel> voxels = gather(line, t0 - 1.0, t1 + 1.0, radius);
        for (const AxisVoxel& v : voxels) {
            const double w = std::max(0.0, v.excessHu);
            weightSum += w;
            weightedSum += v.centreLps * w;
        }
        if (weightSum <= 0.0 || voxels.size() < 3)
            return line;
        const Vec3 centroid = weightedSum / weightSum;
        Mat3 covariance{{0, 0, 0, 0, 0, 0, 0, 0, 0}};
        for (const AxisVoxel& v : voxels) {
            const double w = std::max(0.0, v.excessHu);
            const Vec3 d = v.centreLps - centroid;
            for (int r = 0; r < 3; ++r)
                for (int c = 0; c < 3; ++c)
                    covariance(r, c) += w * d[r] * d[c];
        }
        Vec3 direction = dominantEigenvector(covariance, line.directionLps);
        if (dot(direction, line.directionLps) < 0.0)
            direction = -direction;
        return Line{centroid, direction};
    }

    /// The tip: where the metal's partial-volume profile along the axis falls to half. For any
    /// symmetric blur that is where the metal would end if it kept the shaft's metal per mm, so it
    /// is found as (metal beyond a shaft point) / (metal per mm of shaft), with each voxel's
    /// excess spread over the stretch of axis that crosses it. `tEnd` is the thresholded end
    /// (toward +direction), `tStart` the other end.
    double tipAlongAxis(const Line& line, double tStart, double tEnd) const
    {
        // Half the length of a voxel's shadow on the axis: a voxel holding metal has its centre
        // within about that of the metal, and the thresholded end lies within a voxel of the tip.
        const Mat3& direction = m_geometry.directionLps;
        double half = 0.0;
        for (int a = 0; a < 3; ++a)
            half += 0.5 * m_geometry.spacing[a] * std::abs(dot(line.directionLps, direction.column(a)));
        const double blur = 2.0 * half + kMaxNeedleRadiusMm;
        // The window beyond the shaft is kept short: whatever is not metal there (bone at the
        // tip) would count as metal.
        const double cut = tEnd - blur - half;                        // surely on the shaft
        const double shaftFrom = std::max(tStart + blur, cut - 20.0); // shaft window [shaftFrom, cut]
        if (cut - shaftFrom < 2.0)
            return tEnd;
        const double beyond = tEnd + blur + 1.0;
        const std::vector<AxisVoxel> voxels = gather(line, shaftFrom - blur, beyond, m_fitRadiusMm);
        // Metal of each voxel spread uniformly over [tIn, tOut]; the share within [a, b]:
        const auto share = [](const AxisVoxel& v, double a, double b) {
            if (v.tOut <= v.tIn)
                return (v.tIn >= a && v.tIn < b) ? 1.0 : 0.0;
            const double overlap = std::min(b, v.tOut) - std::max(a, v.tIn);
            return overlap > 0.0 ? overlap / (v.tOut - v.tIn) : 0.0;
        };
        double shaftMetal = 0.0, endMetal = 0.0;
        for (const AxisVoxel& v : voxels) {
            shaftMetal += v.excessHu * share(v, shaftFrom, cut);
            endMetal += v.excessHu * share(v, cut, beyond);
        }
        const double perMm = shaftMetal / (cut - shaftFrom);
        if (!(perMm > 0.0))
            return tEnd;
        const double tip = cut + endMetal / perMm;
        // A profile that does not behave (metal elsewhere in the window) falls back to the threshold.
        return (tip > cut && tip < beyond) ? tip : tEnd;
    }

    /// Fraction of a ring around the axis at `t` that lies in the body.
    double bodyFraction(const Line& line, double t, const Vec3& e1, const Vec3& e2) const
    {
        const double radius = kBodyRingMm + m_geometry.maxSpacing();
        int inside = 0;
        constexpr int kRing = 12;
        for (int r = 0; r < kRing; ++r) {
            const double angle = 2.0 * 3.14159265358979323846 * r / kRing;
            const Vec3 p = line.at(t) + e1 * (radius * std::cos(angle)) + e2 * (radius * std::sin(angle));
            if (m_ct.sampleLps(p, -1000.0f) > m_options.bodyThresholdHu)
                ++inside;
        }
        return static_cast<double>(inside) / kRing;
    }

    const Geometry& geometry() const { return m_geometry; }

private:
    void boxAround(const Vec3& a, const Vec3& b, double radius, std::array<std::int64_t, 3>& lo,
                   std::array<std::int64_t, 3>& hi) const
    {
        Vec3 min{HUGE_VAL, HUGE_VAL, HUGE_VAL}, max{-HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
        for (const Vec3& end : {a, b})
            for (int corner = 0; corner < 8; ++corner) {
                const Vec3 p = end + Vec3{(corner & 1) ? radius : -radius, (corner & 2) ? radius : -radius,
                                          (corner & 4) ? radius : -radius};
                const Vec3 ijk = m_geometry.ijkFromLps(p);
                for (int axis = 0; axis < 3; ++axis)
                    min[axis] = std::min(min[axis], ijk[axis]), max[axis] = std::max(max[axis], ijk[axis]);
            }
        for (int axis = 0; axis < 3; ++axis) {
            const auto last = m_geometry.size[static_cast<std::size_t>(axis)] - 1;
            lo[static_cast<std::size_t>(axis)] =
                std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(min[axis])), 0, last);
            hi[static_cast<std::size_t>(axis)] =
                std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil(max[axis])), 0, last);
        }
    }

    const Volume& m_ct;
    const Geometry& m_geometry;
    const NeedleDetectionOptions& m_options;
    double m_fitRadiusMm = 1.5;
};

/// The longest run of sorted values with gaps no larger than `maxGap`: [first, last] indices.
std::pair<std::size_t, std::size_t> longestRun(const std::vector<double>& sorted, double maxGap)
{
    std::pair<std::size_t, std::size_t> best{0, 0};
    std::size_t start = 0;
    for (std::size_t i = 1; i <= sorted.size(); ++i) {
        if (i == sorted.size() || sorted[i] - sorted[i - 1] > maxGap) {
            if (sorted[i - 1] - sorted[start] > sorted[best.second] - sorted[best.first])
                best = {start, i - 1};
            start = i;
        }
    }
    return best;
}

std::string formatNumber(const char* pattern, double value)
{
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, pattern, value);
    return buffer;
}

} // namespace

float metalThresholdForRange(float maximumHu)
{
    if (!std::isfinite(maximumHu))
        return 3000.0f;
    const float threshold = maximumHu <= 4095.0f ? 0.8f * maximumHu : 2500.0f;
    return std::max(2000.0f, threshold);
}

NeedleDetection detectNeedles(const Volume& ct, const NeedleDetectionOptions& options, ProgressSink* progress)
{
    if (ct.empty())
        throw Error(ErrorCode::InvalidArgument, "needle detection: the CT is empty");
    ct.geometry().validate("needle detection CT");
    if (!(options.minLengthMm > 0.0) || !(options.maxGapMm > 0.0) || options.maxNeedles < 1 ||
        options.ransacIterations < 1)
        throw Error(
            ErrorCode::InvalidArgument,
            "needle detection: the minimum length, gap, needle count and RANSAC iterations must be positive");
    if (options.metalThresholdHu && !std::isfinite(*options.metalThresholdHu))
        throw Error(ErrorCode::InvalidArgument, "needle detection: the metal threshold is not a number");

    NeedleDetection result;
    if (ct.info().hasValueRange)
        result.maximumHu = ct.info().maximumValue;
    else
        result.maximumHu = *std::max_element(ct.voxels().begin(), ct.voxels().end());
    result.metalThresholdHu =
        options.metalThresholdHu ? *options.metalThresholdHu : metalThresholdForRange(result.maximumHu);

    ThresholdedVoxels metal = collectMetal(ct, result.metalThresholdHu, options.bodyThresholdHu, progress);
    result.metalVoxels = static_cast<std::int64_t>(metal.pointsLps.size());
    if (metal.pointsLps.empty()) {
        result.warnings.push_back(
            formatNumber("no voxel reaches the metal threshold of %.0f HU", result.metalThresholdHu) +
            formatNumber(" (largest value %.0f HU): no needle in this scan", result.maximumHu));
        return result;
    }

    if (result.maximumHu <= 4095.0f)
        result.warnings.push_back(
            formatNumber("the scan's values end at %.0f HU, so metal is clipped at the "
                         "scanner's ceiling: tips are less exact (about 1 mm) than on an "
                         "extended-range scan",
                         result.maximumHu));
    NeedleFitter fitter(ct, options);
    const double inlierRadius = fitter.fitRadiusMm();
    std::vector<Vec3> remaining = std::move(metal.pointsLps);
    std::mt19937 random(options.seed);

    while (static_cast<int>(result.needles.size()) < options.maxNeedles && remaining.size() >= 3) {
        throwIfCancelled(progress);
        reportProgress(progress, 0.5 + 0.5 * static_cast<double>(result.needles.size()) / options.maxNeedles,
                       "Fitting needle axes");
        // RANSAC: the line through two metal voxels with the most metal near it. Large point sets
        // are scored on a fixed random subset.
        std::vector<std::size_t> scoring(remaining.size());
        for (std::size_t i = 0; i < scoring.size(); ++i)
            scoring[i] = i;
        constexpr std::size_t kScoringPoints = 4000;
        if (scoring.size() > kScoringPoints) {
            std::shuffle(scoring.begin(), scoring.end(), random);
            scoring.resize(kScoringPoints);
        }
        std::uniform_int_distribution<std::size_t> pick(0, remaining.size() - 1);
        Line best{};
        std::size_t bestCount = 0;
        for (int iteration = 0; iteration < options.ransacIterations; ++iteration) {
            const Vec3& a = remaining[pick(random)];
            const Vec3& b = remaining[pick(random)];
            if (distance(a, b) < 2.0 * inlierRadius)
                continue;
            const Line candidate{a, normalized(b - a)};
            std::size_t count = 0;
            for (std::size_t index : scoring)
                if (candidate.distance(remaining[index]) <= inlierRadius)
                    ++count;
            if (count > bestCount)
                bestCount = count, best = candidate;
        }
        if (bestCount < 3)
            break;

        // The line's metal: the longest stretch without a gap, then the least-squares axis.
        std::vector<double> along;
        for (const Vec3& p : remaining)
            if (best.distance(p) <= inlierRadius)
                along.push_back(best.along(p));
        std::sort(along.begin(), along.end());
        auto run = longestRun(along, options.maxGapMm);
        double t0 = along[run.first], t1 = along[run.second];
        if (t1 - t0 < options.minLengthMm)
            break;
        Line axis = best;
        for (int pass = 0; pass < 3; ++pass) {
            const Line refined = fitter.refine(axis, t0, t1, inlierRadius + (pass == 0 ? 1.0 : 0.0));
            // Re-express the extent on the refined axis.
            const Vec3 a = axis.at(t0), b = axis.at(t1);
            axis = refined;
            t0 = axis.along(a), t1 = axis.along(b);
            if (t0 > t1)
                std::swap(t0, t1);
        }

        // The voxels of this needle, for the residual and to remove them before the next search.
        std::vector<Vec3> kept;
        DetectedNeedle needle;
        double squaredResidual = 0.0;
        for (const Vec3& p : remaining) {
            const double t = axis.along(p);
            const double d = axis.distance(p);
            if (t >= t0 - options.maxGapMm && t <= t1 + options.maxGapMm && d <= 1.5 * inlierRadius) {
                ++needle.metalVoxels;
                squaredResidual += d * d;
            } else {
                kept.push_back(p);
            }
        }
        remaining.swap(kept);
        needle.rmsResidualMm = needle.metalVoxels > 0 ? std::sqrt(squaredResidual / needle.metalVoxels) : 0.0;

        // Which end is the tip: the one deeper in the body; on a tie, the one nearer its centre.
        Vec3 e1, e2;
        perpendicularBasis(axis.directionLps, e1, e2);
        const double inside0 = fitter.bodyFraction(axis, t0, e1, e2);
        const double inside1 = fitter.bodyFraction(axis, t1, e1, e2);
        bool tipAtT1 = true;
        if (std::abs(inside1 - inside0) > 0.25)
            tipAtT1 = inside1 > inside0;
        else if (metal.bodyFound)
            tipAtT1 =
                distance(axis.at(t1), metal.bodyCentroidLps) <= distance(axis.at(t0), metal.bodyCentroidLps);
        if (!tipAtT1) {
            axis.directionLps = -axis.directionLps;
            std::swap(t0, t1);
            t0 = -t0, t1 = -t1;
        }
        // Now the tip is toward +direction at about t1, the proximal end at t0 < t1.
        const double tipT = fitter.tipAlongAxis(axis, t0, t1);
        needle.tipLps = axis.at(tipT);
        needle.directionLps = axis.directionLps;
        needle.proximalEndLps = axis.at(t0);
        needle.metalLengthMm = tipT - t0;

        // Entry: walking out from the tip, where the body ring drops below half for good (5 mm).
        perpendicularBasis(axis.directionLps, e1, e2);
        const double step = 0.5;
        const double farthest = t0 - 40.0;
        double exitT = std::numeric_limits<double>::quiet_NaN();
        bool wasInside = false;
        for (double t = tipT; t >= farthest; t -= step) {
            const bool inside = fitter.bodyFraction(axis, t, e1, e2) >= 0.5;
            if (inside) {
                wasInside = true;
                exitT = std::numeric_limits<double>::quiet_NaN();
                continue;
            }
            if (!wasInside)
                continue;
            if (std::isnan(exitT))
                exitT = t;
            if (exitT - t >= 5.0)
                break;
        }
        if (!std::isnan(exitT)) {
            // Refine between exitT (outside) and exitT + step (inside) by bisection.
            double outsideT = exitT, insideT = exitT + step;
            for (int i = 0; i < 12; ++i) {
                const double mid = 0.5 * (outsideT + insideT);
                (fitter.bodyFraction(axis, mid, e1, e2) >= 0.5 ? insideT : outsideT) = mid;
            }
            const double entryT = 0.5 * (outsideT + insideT);
            needle.entryLps = axis.at(entryT);
            needle.entryFound = fitter.geometry().containsIjk(fitter.geometry().ijkFromLps(needle.entryLps));
        }
        if (!needle.entryFound) {
            needle.entryLps = needle.proximalEndLps;
            result.warnings.push_back(
                "needle " + std::to_string(result.needles.size() + 1) +
                ": its axis does not leave the body inside the scan; the entry given is the "
                "metal's proximal end");
        }
        needle.insertedLengthMm = distance(needle.entryLps, needle.tipLps);
        result.needles.push_back(needle);
    }

    result.unassignedMetalVoxels = static_cast<std::int64_t>(remaining.size());
    if (result.needles.empty())
        result.warnings.push_back(formatNumber("%.0f metal voxels found, but none forms a needle-like line",
                                               static_cast<double>(result.metalVoxels)) +
                                  formatNumber(" of at least %.0f mm", options.minLengthMm));
    else if (result.unassignedMetalVoxels > 0)
        result.warnings.push_back(
            formatNumber("%.0f metal voxels lie on no needle (artefacts or other metal)",
                         static_cast<double>(result.unassignedMetalVoxels)));
    std::stable_sort(
        result.needles.begin(), result.needles.end(),
        [](const DetectedNeedle& a, const DetectedNeedle& b) { return a.metalLengthMm > b.metalLengthMm; });
    reportProgress(progress, 1.0, "Needles found");
    return result;
}

} // namespace np::imaging
