#include "SegmentationSteps.h"

#include <array>
#include <deque>
#include <limits>
#include <sstream>

namespace np::imaging::segmentation {

namespace {

/// One canal cross-section in a k slice: a bitmap over its bounding box and its boundary pixels.
class SliceShape
{
public:
    SliceShape(const EnclosedHole& hole, std::int64_t nx)
    {
        m_centreI = hole.centreI;
        m_centreJ = hole.centreJ;
        std::int64_t iMax = 0, jMax = 0;
        m_iMin = m_jMin = std::numeric_limits<std::int64_t>::max();
        for (const std::int64_t p : hole.pixels) {
            m_iMin = std::min(m_iMin, p % nx);
            m_jMin = std::min(m_jMin, p / nx);
            iMax = std::max(iMax, p % nx);
            jMax = std::max(jMax, p / nx);
        }
        m_width = iMax - m_iMin + 1;
        m_height = jMax - m_jMin + 1;
        m_inside.assign(static_cast<std::size_t>(m_width * m_height), 0);
        for (const std::int64_t p : hole.pixels)
            m_inside[static_cast<std::size_t>((p % nx - m_iMin) + m_width * (p / nx - m_jMin))] = 1;
        for (const std::int64_t p : hole.pixels) {
            const std::int64_t i = p % nx, j = p / nx;
            if (!contains(i - 1, j) || !contains(i + 1, j) || !contains(i, j - 1) || !contains(i, j + 1))
                m_boundary.push_back({double(i), double(j)});
        }
        for (const std::int64_t p : hole.pixels)
            m_pixels.push_back({p % nx, p / nx});
    }

    bool contains(std::int64_t i, std::int64_t j) const
    {
        const std::int64_t a = i - m_iMin, b = j - m_jMin;
        return a >= 0 && b >= 0 && a < m_width && b < m_height &&
               m_inside[static_cast<std::size_t>(a + m_width * b)] != 0;
    }

    /// Signed distance (mm, negative inside) of the in-slice point (i, j), in voxel units.
    double signedDistanceMm(double i, double j, double spacingI, double spacingJ) const
    {
        double best = std::numeric_limits<double>::infinity();
        for (const auto& b : m_boundary)
            best = std::min(best, std::hypot((i - b[0]) * spacingI, (j - b[1]) * spacingJ));
        const bool inside = contains(std::llround(i), std::llround(j));
        return inside ? -best : best;
    }

    double centreI() const { return m_centreI; }
    double centreJ() const { return m_centreJ; }
    double halfExtent() const { return 0.5 * double(std::max(m_width, m_height)) + 2.0; }
    const std::vector<std::array<std::int64_t, 2>>& pixels() const { return m_pixels; }

private:
    double m_centreI = 0.0, m_centreJ = 0.0;
    std::int64_t m_iMin = 0, m_jMin = 0, m_width = 0, m_height = 0;
    std::vector<std::uint8_t> m_inside;
    std::vector<std::array<double, 2>> m_boundary;
    std::vector<std::array<std::int64_t, 2>> m_pixels;
};

/// The vertebra names from T1 down to L6, in cranio-caudal order.
const std::vector<std::string>& vertebraNames()
{
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n;
        for (int t = 1; t <= 12; ++t)
            n.push_back("T" + std::to_string(t));
        for (int l = 1; l <= 6; ++l)
            n.push_back("L" + std::to_string(l));
        return n;
    }();
    return names;
}

std::string formatMm(double mm)
{
    std::ostringstream out;
    out.precision(0);
    out << std::fixed << mm;
    return out.str();
}

} // namespace

bool isVertebraName(const std::string& name)
{
    const auto& names = vertebraNames();
    return std::find(names.begin(), names.end(), name) != names.end();
}

Mask segmentSpinalCanal(const Volume& ct, const Mask& body, const Mask& bone,
                        const std::vector<EnclosedHole>& holes, const SegmentationOptions& options,
                        std::vector<Vec3>& centrelineLps, std::vector<std::string>& notes)
{
    const Geometry& g = ct.geometry();
    const std::int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
    const double sx = g.spacing.x, sy = g.spacing.y, sz = g.spacing.z;
    Mask canal(bone.size(), 0);
    centrelineLps.clear();

    // The longest chain of holes along k: consecutive links at most canalMaxGapMm apart, their
    // centres shifted in plane by at most 8 mm plus 0.4 mm per mm of gap (lordosis, tilt), their
    // areas within a factor 2.5.
    const std::size_t n = holes.size();
    const auto maxGapSlices = static_cast<std::int64_t>(std::floor(options.canalMaxGapMm / sz)) + 1;
    std::vector<double> span(n, 0.0);
    std::vector<std::int64_t> previous(n, -1), links(n, 1);
    for (std::size_t h = 0; h < n; ++h) {
        for (std::size_t p = h; p-- > 0;) {
            if (holes[p].k < holes[h].k - maxGapSlices)
                break;
            if (holes[p].k == holes[h].k)
                continue;
            const double gapMm = double(holes[h].k - holes[p].k) * sz;
            const double shiftMm = std::hypot((holes[h].centreI - holes[p].centreI) * sx,
                                              (holes[h].centreJ - holes[p].centreJ) * sy);
            if (shiftMm > 8.0 + 0.4 * gapMm)
                continue;
            // The canal's cross-section changes slowly: a link between holes of very different
            // area (a pocket beside a lamina) is no part of it.
            const double areaRatio = double(std::max(holes[h].pixels.size(), holes[p].pixels.size())) /
                                     double(std::min(holes[h].pixels.size(), holes[p].pixels.size()));
            if (areaRatio > 2.5)
                continue;
            const double candidate = span[p] + gapMm;
            if (candidate > span[h] || (candidate == span[h] && links[p] + 1 > links[h])) {
                span[h] = candidate;
                previous[h] = static_cast<std::int64_t>(p);
                links[h] = links[p] + 1;
            }
        }
    }
    std::size_t best = 0;
    for (std::size_t h = 1; h < n; ++h)
        if (span[h] > span[best] || (span[h] == span[best] && links[h] > links[best]))
            best = h;
    if (n == 0 || links[best] < 2) {
        notes.push_back("no spinal canal found: no chain of vertebral rings encloses a canal-sized space "
                        "(the vertebral levels are not named either)");
        return canal;
    }
    std::vector<SliceShape> chain;
    std::vector<std::int64_t> chainK;
    for (auto h = static_cast<std::int64_t>(best); h >= 0; h = previous[static_cast<std::size_t>(h)]) {
        chain.emplace_back(holes[static_cast<std::size_t>(h)], nx);
        chainK.push_back(holes[static_cast<std::size_t>(h)].k);
    }
    std::reverse(chain.begin(), chain.end());
    std::reverse(chainK.begin(), chainK.end());

    auto paint = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz)
            return;
        const auto v = static_cast<std::size_t>(i + nx * (j + ny * k));
        if (body[v] && !bone[v])
            canal[v] = 1;
    };
    // The rings themselves, and shape-based interpolation across the gaps between them (each
    // shape is taken about its own centre, the centre moves linearly).
    for (std::size_t c = 0; c < chain.size(); ++c) {
        for (const auto& p : chain[c].pixels())
            paint(p[0], p[1], chainK[c]);
        if (c + 1 == chain.size())
            continue;
        const SliceShape& a = chain[c];
        const SliceShape& b = chain[c + 1];
        const std::int64_t k1 = chainK[c], k2 = chainK[c + 1];
        const double reach = std::max(a.halfExtent(), b.halfExtent());
        for (std::int64_t k = k1 + 1; k < k2; ++k) {
            const double t = double(k - k1) / double(k2 - k1);
            const double ci = (1.0 - t) * a.centreI() + t * b.centreI();
            const double cj = (1.0 - t) * a.centreJ() + t * b.centreJ();
            for (auto j = static_cast<std::int64_t>(std::floor(cj - reach)); j <= std::ceil(cj + reach); ++j)
                for (auto i = static_cast<std::int64_t>(std::floor(ci - reach)); i <= std::ceil(ci + reach);
                     ++i) {
                    const double di = double(i) - ci, dj = double(j) - cj;
                    const double d =
                        (1.0 - t) * a.signedDistanceMm(a.centreI() + di, a.centreJ() + dj, sx, sy) +
                        t * b.signedDistanceMm(b.centreI() + di, b.centreJ() + dj, sx, sy);
                    if (d <= 0.0)
                        paint(i, j, k);
                }
        }
    }
    // Past the last rings the canal goes on: the end shapes are carried along the chain's
    // direction for canalEndExtensionMm.
    const auto extension = static_cast<std::int64_t>(std::floor(options.canalEndExtensionMm / sz));
    auto drift = [&](std::size_t from, int direction) {
        // Centre drift per slice over about 30 mm of chain.
        std::size_t to = from;
        while (true) {
            const std::size_t next = direction > 0 ? to + 1 : to - 1;
            if ((direction > 0 && next >= chain.size()) || (direction < 0 && to == 0))
                break;
            to = next;
            if (std::abs(double(chainK[to] - chainK[from])) * sz >= 30.0)
                break;
        }
        const double dk = double(chainK[to] - chainK[from]);
        if (dk == 0.0)
            return std::array<double, 2>{0.0, 0.0};
        return std::array<double, 2>{(chain[to].centreI() - chain[from].centreI()) / dk,
                                     (chain[to].centreJ() - chain[from].centreJ()) / dk};
    };
    const auto lowDrift = drift(0, +1), highDrift = drift(chain.size() - 1, -1);
    for (std::int64_t s = 1; s <= extension; ++s) {
        for (const auto& p : chain.front().pixels())
            paint(p[0] - std::llround(lowDrift[0] * double(s)), p[1] - std::llround(lowDrift[1] * double(s)),
                  chainK.front() - s);
        for (const auto& p : chain.back().pixels())
            paint(p[0] + std::llround(highDrift[0] * double(s)),
                  p[1] + std::llround(highDrift[1] * double(s)), chainK.back() + s);
    }

    // Shape interpolation can leave a few detached voxels: components under 2 % of the canal go.
    {
        const RunComponents components(canal, g.size, options.threads);
        const auto& sizes = components.sizes();
        const std::int64_t largest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
        std::vector<std::uint8_t> keep(sizes.size(), 0);
        for (std::size_t c = 0; c < sizes.size(); ++c)
            keep[c] = sizes[c] * 50 >= largest;
        components.keepOnly(canal, keep, options.threads);
    }

    // Centreline: the centre of the canal in each slice, caudal to cranial.
    for (std::int64_t k = 0; k < nz; ++k) {
        double si = 0.0, sj = 0.0;
        std::int64_t count = 0;
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i)
                if (canal[static_cast<std::size_t>(i + nx * (j + ny * k))]) {
                    si += double(i);
                    sj += double(j);
                    ++count;
                }
        if (count > 0)
            centrelineLps.push_back(g.lpsFromIjk({si / double(count), sj / double(count), double(k)}));
    }
    std::sort(centrelineLps.begin(), centrelineLps.end(),
              [](const Vec3& a, const Vec3& b) { return a.z < b.z; });
    return canal;
}

std::vector<NamedMask> labelVertebrae(const Volume& ct, const Mask& bone,
                                      const std::vector<Vec3>& centrelineLps,
                                      const SegmentationOptions& options, std::vector<std::string>& notes)
{
    const Geometry& g = ct.geometry();
    const std::int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
    if (centrelineLps.size() < 2 || centrelineLps.back().z - centrelineLps.front().z < 30.0) {
        notes.push_back("vertebral levels not named: the spinal canal found spans less than 30 mm");
        return {};
    }
    // The centreline resampled every 1 mm along its length.
    std::vector<Vec3> path{centrelineLps.front()};
    {
        double carried = 0.0;
        for (std::size_t c = 1; c < centrelineLps.size(); ++c) {
            const Vec3 a = centrelineLps[c - 1], b = centrelineLps[c];
            const double length = distance(a, b);
            double s = 1.0 - carried;
            while (s <= length) {
                path.push_back(a + (b - a) * (s / length));
                s += 1.0;
            }
            carried = length - (s - 1.0);
        }
    }
    const std::size_t count = path.size();
    std::vector<Vec3> anterior(count), lateral(count);
    for (std::size_t n = 0; n < count; ++n) {
        const std::size_t lo = n >= 10 ? n - 10 : 0, hi = std::min(count - 1, n + 10);
        Vec3 axis = hi > lo ? normalized(path[hi] - path[lo]) : Vec3{0, 0, 1};
        if (axis.z < 0.0)
            axis = -axis;
        const Vec3 front{0.0, -1.0, 0.0};
        anterior[n] = normalized(front - axis * dot(front, axis));
        lateral[n] = normalized(cross(axis, anterior[n]));
    }
    auto voxelAt = [&](const Vec3& pointLps) -> std::int64_t {
        const Vec3 ijk = g.ijkFromLps(pointLps);
        const std::int64_t i = std::llround(ijk.x), j = std::llround(ijk.y), k = std::llround(ijk.z);
        if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz)
            return -1;
        return i + nx * (j + ny * k);
    };
    // Fraction of bone over a grid of in-plane offsets (lateral u, anterior d) from path[n].
    auto boneFraction = [&](std::size_t n, double uLow, double uHigh, double uStep, double dLow, double dHigh,
                            double dStep, bool bothSides) {
        std::int64_t inside = 0, total = 0;
        for (double u = uLow; u <= uHigh + 1e-9; u += uStep)
            for (double d = dLow; d <= dHigh + 1e-9; d += dStep)
                for (const double side : {1.0, -1.0}) {
                    if (side < 0.0 && !bothSides)
                        continue;
                    const std::int64_t v = voxelAt(path[n] + lateral[n] * (side * u) + anterior[n] * d);
                    if (v < 0)
                        continue;
                    ++total;
                    inside += bone[static_cast<std::size_t>(v)];
                }
        return total > 0 ? double(inside) / double(total) : 0.0;
    };

    // Vertebral bodies: runs of bone in front of the canal, separated by the discs.
    struct Run
    {
        std::size_t first, last;
        double alaFraction = 0.0;
    };
    std::vector<Run> runs;
    for (std::size_t n = 0; n < count; ++n) {
        const bool isBody = boneFraction(n, -10.0, 10.0, 2.5, 14.0, 34.0, 2.5, false) >= 0.5;
        if (!isBody)
            continue;
        if (!runs.empty() && n <= runs.back().last + 3) // gaps under 3 mm are no disc
            runs.back().last = n;
        else
            runs.push_back({n, n});
    }
    runs.erase(
        std::remove_if(runs.begin(), runs.end(), [](const Run& r) { return r.last - r.first + 1 < 8; }),
        runs.end());
    if (runs.empty()) {
        notes.push_back("vertebral levels not named: no vertebral body found in front of the spinal canal");
        return {};
    }
    // The sacrum: the highest body with alae (bone lateral to the body, level with it).
    std::ptrdiff_t sacral = -1;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        for (std::size_t n = runs[r].first; n <= runs[r].last; ++n)
            runs[r].alaFraction =
                std::max(runs[r].alaFraction, boneFraction(n, 30.0, 45.0, 2.5, 18.0, 34.0, 4.0, true));
        if (runs[r].alaFraction >= 0.25)
            sacral = static_cast<std::ptrdiff_t>(r);
    }
    const std::string lowest = options.lowestLumbar.empty() ? "L5" : options.lowestLumbar;
    const auto& names = vertebraNames();
    const auto lowestIndex =
        static_cast<std::ptrdiff_t>(std::find(names.begin(), names.end(), lowest) - names.begin());
    std::vector<std::string> runName(runs.size());
    for (std::size_t r = 0; r < runs.size(); ++r) {
        if (static_cast<std::ptrdiff_t>(r) <= sacral) {
            runName[r] = "sacrum";
            continue;
        }
        const std::ptrdiff_t index = lowestIndex - (static_cast<std::ptrdiff_t>(r) - (sacral + 1));
        if (index >= 0)
            runName[r] = "vertebra_" + names[static_cast<std::size_t>(index)];
    }
    const std::string lowestNamed =
        runName[static_cast<std::size_t>(sacral + 1 < std::ptrdiff_t(runs.size()) ? sacral + 1 : sacral)];
    const std::string highestNamed = runName.back();
    if (sacral >= 0)
        notes.push_back("vertebral levels counted up from the sacrum: " +
                        (options.lowestLumbar.empty()
                             ? std::string("the vertebra above it is L5")
                             : "the vertebra above it named " + lowest + " as asked") +
                        "; check the count on the images");
    else
        notes.push_back(
            "vertebral levels uncertain: no sacrum in view, so the lowest vertebra found was named " +
            lowest + (options.lowestLumbar.empty() ? " by assumption" : " as asked") +
            "; check the count on the images and correct the lowest lumbar level if needed");
    // A body much taller than the others hides a disc (fused or collapsed level): one count short.
    {
        std::vector<double> heights;
        for (std::size_t r = static_cast<std::size_t>(sacral + 1); r < runs.size(); ++r)
            heights.push_back(double(runs[r].last - runs[r].first + 1));
        if (heights.size() >= 3) {
            std::vector<double> sorted = heights;
            std::sort(sorted.begin(), sorted.end());
            const double median = sorted[sorted.size() / 2];
            for (std::size_t h = 0; h < heights.size(); ++h)
                if (heights[h] > 1.6 * median)
                    notes.push_back("vertebral levels uncertain: the body named " +
                                    runName[static_cast<std::size_t>(sacral + 1) + h] + " is " +
                                    formatMm(heights[h]) + " mm tall against " + formatMm(median) +
                                    " mm for the others (a fused level or a disc not seen?)");
        }
    }
    bool thoracolumbarInView = false;
    for (const auto& name : runName)
        thoracolumbarInView = thoracolumbarInView || name == "vertebra_T12" || name == "vertebra_L1";
    if (!thoracolumbarInView)
        notes.push_back(
            "the level count could not be checked against the lowest rib-bearing vertebra (T12 and L1 "
            "are not in view)");
    (void)lowestNamed;
    (void)highestNamed;

    // Seeds in each body, then every bone voxel joins the body it is reached from first along the
    // bone (breadth-first, 6-connected), within 60 mm of the canal sideways.
    std::vector<std::string> labelNames;
    std::vector<std::uint8_t> labels(bone.size(), 0);
    std::deque<std::int64_t> queue;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        if (runName[r].empty())
            continue;
        auto found = std::find(labelNames.begin(), labelNames.end(), runName[r]);
        if (found == labelNames.end()) {
            labelNames.push_back(runName[r]);
            found = labelNames.end() - 1;
        }
        const auto label = static_cast<std::uint8_t>(found - labelNames.begin() + 1);
        const std::size_t first = runs[r].first + (runs[r].last - runs[r].first >= 4 ? 2 : 0);
        const std::size_t last = runs[r].last - (runs[r].last - runs[r].first >= 4 ? 2 : 0);
        for (std::size_t n = first; n <= last; ++n)
            for (double u = -15.0; u <= 15.0; u += 1.0)
                for (double d = 10.0; d <= 40.0; d += 1.0) {
                    const std::int64_t v = voxelAt(path[n] + lateral[n] * u + anterior[n] * d);
                    if (v >= 0 && bone[static_cast<std::size_t>(v)] && !labels[static_cast<std::size_t>(v)]) {
                        labels[static_cast<std::size_t>(v)] = label;
                        queue.push_back(v);
                    }
                }
    }
    auto lateralOffset = [&](const Vec3& p) {
        // The path point at the same height (z), by bisection on the sorted path.
        auto it =
            std::lower_bound(path.begin(), path.end(), p.z, [](const Vec3& a, double z) { return a.z < z; });
        const std::size_t n = it == path.end() ? count - 1 : static_cast<std::size_t>(it - path.begin());
        return std::abs(dot(p - path[n], lateral[n]));
    };
    while (!queue.empty()) {
        const std::int64_t v = queue.front();
        queue.pop_front();
        const std::int64_t i = v % nx, j = (v / nx) % ny, k = v / (nx * ny);
        const std::int64_t neighbours[6] = {i > 0 ? v - 1 : -1,       i + 1 < nx ? v + 1 : -1,
                                            j > 0 ? v - nx : -1,      j + 1 < ny ? v + nx : -1,
                                            k > 0 ? v - nx * ny : -1, k + 1 < nz ? v + nx * ny : -1};
        for (const std::int64_t q : neighbours) {
            if (q < 0 || !bone[static_cast<std::size_t>(q)] || labels[static_cast<std::size_t>(q)])
                continue;
            const Vec3 p = g.lpsFromIjk({double(q % nx), double((q / nx) % ny), double(q / (nx * ny))});
            if (lateralOffset(p) > 60.0) {
                labels[static_cast<std::size_t>(q)] = 255; // seen, belongs to no vertebra
                continue;
            }
            labels[static_cast<std::size_t>(q)] = labels[static_cast<std::size_t>(v)];
            queue.push_back(q);
        }
    }
    std::vector<NamedMask> result;
    for (std::size_t l = 0; l < labelNames.size(); ++l) {
        NamedMask m{labelNames[l], Mask(bone.size(), 0)};
        const auto label = static_cast<std::uint8_t>(l + 1);
        for (std::size_t v = 0; v < labels.size(); ++v)
            m.voxels[v] = labels[v] == label;
        result.push_back(std::move(m));
    }
    return result;
}

} // namespace np::imaging::segmentation
