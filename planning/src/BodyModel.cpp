#include "needleplan/planning/BodyModel.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <cmath>

namespace np::planning {

namespace {

/// Keeps only the largest 6-connected component of a 0/1 mask (in place, result 0/1). Works on a
/// copy padded with one background voxel on every side, so neighbours need no bounds checks.
void keepLargestComponent(std::vector<std::uint8_t>& mask, const imaging::Size3& size, ProgressSink* progress)
{
    const std::int64_t nx = size[0], ny = size[1], nz = size[2];
    const std::int64_t px = nx + 2, py = ny + 2, pz = nz + 2;
    const std::int64_t paddedCount = px * py * pz;
    if (paddedCount >= (std::int64_t(1) << 32))
        throw Error(ErrorCode::TooLarge, "body mask: image too large for the component search");
    std::vector<std::uint8_t> padded(static_cast<std::size_t>(paddedCount), 0);
    for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j)
            std::copy_n(mask.data() + nx * (j + ny * k), nx, padded.data() + 1 + px * ((j + 1) + py * (k + 1)));
    const std::int64_t steps[6] = {1, -1, px, -px, px * py, -px * py};
    std::vector<std::uint32_t> stack;
    auto flood = [&](std::int64_t seed, std::uint8_t from, std::uint8_t to) {
        std::int64_t count = 0;
        padded[static_cast<std::size_t>(seed)] = to;
        stack.push_back(static_cast<std::uint32_t>(seed));
        while (!stack.empty()) {
            const std::int64_t index = stack.back();
            stack.pop_back();
            ++count;
            for (std::int64_t step : steps) {
                std::uint8_t& v = padded[static_cast<std::size_t>(index + step)];
                if (v == from) {
                    v = to;
                    stack.push_back(static_cast<std::uint32_t>(index + step));
                }
            }
        }
        return count;
    };
    std::int64_t bestSeed = -1, bestCount = 0;
    for (std::int64_t index = 0; index < paddedCount; ++index) {
        if (padded[static_cast<std::size_t>(index)] != 1)
            continue;
        const std::int64_t count = flood(index, 1, 2);
        if (count > bestCount)
            bestCount = count, bestSeed = index;
        throwIfCancelled(progress);
    }
    if (bestSeed < 0)
        return;
    flood(bestSeed, 2, 3);
    for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j) {
            const std::uint8_t* from = padded.data() + 1 + px * ((j + 1) + py * (k + 1));
            std::uint8_t* to = mask.data() + nx * (j + ny * k);
            for (std::int64_t i = 0; i < nx; ++i)
                to[i] = from[i] == 3 ? 1 : 0;
        }
}

/// Sets to 1 every background voxel of slice k that the slice border cannot reach (4-connected).
void fillSliceHoles(std::vector<std::uint8_t>& mask, const imaging::Size3& size)
{
    const std::int64_t nx = size[0], ny = size[1];
    std::vector<std::uint8_t> reached(static_cast<std::size_t>(nx * ny));
    std::vector<std::int64_t> stack;
    for (std::int64_t k = 0; k < size[2]; ++k) {
        std::uint8_t* slice = mask.data() + nx * ny * k;
        std::fill(reached.begin(), reached.end(), 0);
        auto push = [&](std::int64_t n) {
            if (!slice[n] && !reached[static_cast<std::size_t>(n)]) {
                reached[static_cast<std::size_t>(n)] = 1;
                stack.push_back(n);
            }
        };
        for (std::int64_t i = 0; i < nx; ++i)
            push(i), push(i + nx * (ny - 1));
        for (std::int64_t j = 0; j < ny; ++j)
            push(nx * j), push(nx * j + nx - 1);
        while (!stack.empty()) {
            const std::int64_t n = stack.back();
            stack.pop_back();
            const std::int64_t j = n / nx, i = n - j * nx;
            if (i > 0)
                push(n - 1);
            if (i + 1 < nx)
                push(n + 1);
            if (j > 0)
                push(n - nx);
            if (j + 1 < ny)
                push(n + nx);
        }
        for (std::int64_t n = 0; n < nx * ny; ++n)
            if (!slice[n] && !reached[static_cast<std::size_t>(n)])
                slice[n] = 1;
    }
}

} // namespace

BodyModel BodyModel::fromCt(const imaging::Volume& ct, const BodyModelOptions& options,
                            ProgressSink* progress)
{
    ct.geometry().validate("CT");
    BodyModel body;
    body.m_geometry = ct.geometry();
    body.m_mask.resize(ct.voxels().size());
    bool any = false;
    for (std::size_t n = 0; n < ct.voxels().size(); ++n) {
        const bool inside = ct.voxels()[n] > options.thresholdHu;
        body.m_mask[n] = inside ? 1 : 0;
        any |= inside;
    }
    if (!any)
        throw Error(ErrorCode::InvalidArgument, "CT has no voxel above " +
                                                    std::to_string(options.thresholdHu) +
                                                    " HU: cannot find the body");
    reportProgress(progress, 0.2, "body mask");
    keepLargestComponent(body.m_mask, body.m_geometry.size, progress);
    reportProgress(progress, 0.8, "body mask");
    body.finish(options.fillSliceHoles);
    reportProgress(progress, 1.0, "body mask");
    return body;
}

BodyModel BodyModel::fromLabels(const imaging::LabelMap& labels,
                                const std::vector<std::uint16_t>& labelValues)
{
    labels.geometry().validate("label map");
    BodyModel body;
    body.m_geometry = labels.geometry();
    body.m_mask.resize(labels.labels().size());
    bool any = false;
    for (std::size_t n = 0; n < labels.labels().size(); ++n) {
        const std::uint16_t v = labels.labels()[n];
        const bool inside =
            v != 0 && std::find(labelValues.begin(), labelValues.end(), v) != labelValues.end();
        body.m_mask[n] = inside ? 1 : 0;
        any |= inside;
    }
    if (!any)
        throw Error(ErrorCode::InvalidArgument, "label map: the body/skin labels mark no voxel");
    body.finish(true);
    return body;
}

BodyModel BodyModel::fromMask(const imaging::Geometry& geometry, std::vector<std::uint8_t> mask)
{
    geometry.validate("body mask");
    if (mask.size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "body mask size does not match its geometry");
    BodyModel body;
    body.m_geometry = geometry;
    body.m_mask = std::move(mask);
    for (auto& v : body.m_mask)
        v = v ? 1 : 0;
    body.finish(false);
    return body;
}

void BodyModel::finish(bool fillHoles)
{
    if (fillHoles)
        fillSliceHoles(m_mask, m_geometry.size);
    double sum[3] = {0, 0, 0};
    std::int64_t count = 0, index = 0;
    for (std::int64_t k = 0; k < m_geometry.size[2]; ++k)
        for (std::int64_t j = 0; j < m_geometry.size[1]; ++j)
            for (std::int64_t i = 0; i < m_geometry.size[0]; ++i, ++index)
                if (m_mask[static_cast<std::size_t>(index)])
                    sum[0] += static_cast<double>(i), sum[1] += static_cast<double>(j),
                        sum[2] += static_cast<double>(k), ++count;
    if (count > 0) {
        const Vec3 meanIjk{sum[0] / static_cast<double>(count), sum[1] / static_cast<double>(count),
                           sum[2] / static_cast<double>(count)};
        m_midlineXLps = m_geometry.lpsFromIjk(meanIjk).x;
    }
}

double BodyModel::occupancyIjk(const Vec3& voxelIjk) const
{
    if (m_mask.empty())
        return 0.0;
    const auto& size = m_geometry.size;
    std::int64_t lower[3];
    double frac[3];
    for (int a = 0; a < 3; ++a) {
        const double c = voxelIjk[a];
        if (!(c >= -0.5 && c <= static_cast<double>(size[a]) - 0.5))
            return 0.0;
        const double f = std::floor(c);
        lower[a] = static_cast<std::int64_t>(f);
        frac[a] = c - f;
    }
    double sum = 0.0;
    if (lower[0] >= 0 && lower[1] >= 0 && lower[2] >= 0 && lower[0] + 1 < size[0] && lower[1] + 1 < size[1] &&
        lower[2] + 1 < size[2]) {
        // All eight neighbours inside the grid (the search's hot path): the same sum, in the same
        // order, without the per-neighbour checks.
        const std::int64_t sy = size[0], sz = size[0] * size[1];
        const std::uint8_t* corner =
            m_mask.data() + static_cast<std::size_t>(lower[0] + size[0] * (lower[1] + size[1] * lower[2]));
        const bool set[8] = {corner[0] != 0,      corner[1] != 0,      corner[sy] != 0,      corner[sy + 1] != 0,
                             corner[sz] != 0,     corner[sz + 1] != 0, corner[sz + sy] != 0, corner[sz + sy + 1] != 0};
        const double wx[2] = {1.0 - frac[0], frac[0]}, wy[2] = {1.0 - frac[1], frac[1]},
                     wz[2] = {1.0 - frac[2], frac[2]};
        int n = 0;
        for (int dz = 0; dz < 2; ++dz)
            for (int dy = 0; dy < 2; ++dy)
                for (int dx = 0; dx < 2; ++dx, ++n)
                    if (set[n])
                        sum += wx[dx] * wy[dy] * wz[dz];
        return sum;
    }
    for (int dz = 0; dz < 2; ++dz)
        for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
                const std::int64_t i = lower[0] + dx, j = lower[1] + dy, k = lower[2] + dz;
                if (i < 0 || j < 0 || k < 0 || i >= size[0] || j >= size[1] || k >= size[2])
                    continue; // outside the grid counts as air
                const double w = (dx ? frac[0] : 1.0 - frac[0]) * (dy ? frac[1] : 1.0 - frac[1]) *
                                 (dz ? frac[2] : 1.0 - frac[2]);
                if (m_mask[static_cast<std::size_t>(i + size[0] * (j + size[1] * k))])
                    sum += w;
            }
    return sum;
}

Vec3 BodyModel::outwardNormalLps(const Vec3& pointLps, int samplesPerRadius) const
{
    // First moment of the occupancy over a ball around the point: for a locally flat skin the
    // inside half-ball pulls the moment inward along the normal, whatever the grid's orientation.
    const int n = std::max(2, samplesPerRadius);
    const double radius = std::max(5.0, 4.0 * m_geometry.maxSpacing());
    const double step = radius / n;
    Vec3 moment;
    for (int a = -n; a <= n; ++a)
        for (int b = -n; b <= n; ++b)
            for (int c = -n; c <= n; ++c) {
                if (a * a + b * b + c * c > n * n || (a == 0 && b == 0 && c == 0))
                    continue;
                const Vec3 offset{a * step, b * step, c * step};
                moment += offset * occupancyIjk(m_geometry.ijkFromLps(pointLps + offset));
            }
    return normalized(-moment);
}

std::optional<double> BodyModel::exitDistanceMm(const Vec3& startLps, const Vec3& directionLps,
                                                double maxDistanceMm) const
{
    const Vec3 u = normalized(directionLps);
    if (!insideLps(startLps))
        return 0.0;
    const double step = 0.5 * std::min({m_geometry.spacing.x, m_geometry.spacing.y, m_geometry.spacing.z});
    double inside = 0.0;
    for (double t = step;; t += step) {
        const double tt = std::min(t, maxDistanceMm);
        if (!insideLps(startLps + u * tt)) {
            double lo = inside, hi = tt;
            while (hi - lo > 0.01) {
                const double mid = 0.5 * (lo + hi);
                (insideLps(startLps + u * mid) ? lo : hi) = mid;
            }
            return hi;
        }
        inside = tt;
        if (tt >= maxDistanceMm)
            return std::nullopt;
    }
}

} // namespace np::planning
