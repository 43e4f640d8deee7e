#include "needleplan/imaging/Segmentation.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <itkImage.h>
#include <itkMultiThreaderBase.h>
#include <itkSmoothingRecursiveGaussianImageFilter.h>
#include <limits>
#include <mutex>
#include <sstream>

namespace np::imaging {

namespace {

using Mask = std::vector<std::uint8_t>;

/// Runs body(first, last) over [0, count) split into chunks on ITK's thread pool.
template <typename Body> void parallelChunks(std::int64_t count, int threads, const Body& body)
{
    if (count <= 0)
        return;
    const int workers =
        threads > 0 ? threads : static_cast<int>(itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads());
    const std::int64_t chunks = std::min<std::int64_t>(count, std::max(1, workers) * 4);
    if (chunks <= 1 || workers <= 1) {
        body(0, count);
        return;
    }
    auto threader = itk::MultiThreaderBase::New();
    threader->SetMaximumNumberOfThreads(static_cast<itk::ThreadIdType>(workers));
    threader->SetNumberOfWorkUnits(static_cast<itk::ThreadIdType>(workers));
    threader->ParallelizeArray(
        0, static_cast<itk::SizeValueType>(chunks),
        [&](itk::SizeValueType chunk) {
            const std::int64_t first = count * static_cast<std::int64_t>(chunk) / chunks;
            const std::int64_t last = count * (static_cast<std::int64_t>(chunk) + 1) / chunks;
            body(first, last);
        },
        nullptr);
}

/// In-plane (i, j) box erosion (Erode) or dilation of every k slice with half-widths `radiusI`
/// and `radiusJ` voxels (0..254). For erosion, samples beyond the slice count as foreground, so a
/// structure cut by the field of view is not eaten from its cut edges. Each line is swept forward
/// and backward with a saturating run counter; a slice stays in cache through both axes.
template <bool Erode>
void boxFilterSlices(const Mask& in, Mask& out, const Size3& size, int radiusI, int radiusJ, int threads)
{
    out.resize(in.size());
    const std::int64_t nx = size[0], ny = size[1], sliceVoxels = nx * ny;
    parallelChunks(size[2], threads, [&](std::int64_t first, std::int64_t last) {
        Mask along(static_cast<std::size_t>(sliceVoxels));
        std::vector<std::uint8_t> counters(static_cast<std::size_t>(nx));
        for (std::int64_t k = first; k < last; ++k) {
            const std::uint8_t* __restrict src = in.data() + k * sliceVoxels;
            std::uint8_t* __restrict dst = out.data() + k * sliceVoxels;
            std::uint8_t* __restrict mid = along.data();
            // Along i: each row as runs of set voxels, shrunk or grown by the radius.
            if (radiusI <= 0) {
                std::copy(src, src + sliceVoxels, mid);
            } else {
                std::fill(mid, mid + sliceVoxels, std::uint8_t{0});
                for (std::int64_t j = 0; j < ny; ++j) {
                    const std::uint8_t* row = src + j * nx;
                    std::uint8_t* rowOut = mid + j * nx;
                    std::int64_t t = 0;
                    while (t < nx) {
                        const void* one = std::memchr(row + t, 1, static_cast<std::size_t>(nx - t));
                        if (!one)
                            break;
                        const std::int64_t begin = static_cast<const std::uint8_t*>(one) - row;
                        const void* zero = std::memchr(row + begin, 0, static_cast<std::size_t>(nx - begin));
                        const std::int64_t end = zero ? static_cast<const std::uint8_t*>(zero) - row : nx;
                        std::int64_t lo, hi;
                        if (Erode) {
                            lo = begin == 0 ? 0 : begin + radiusI;
                            hi = end == nx ? nx : end - radiusI;
                        } else {
                            lo = std::max<std::int64_t>(0, begin - radiusI);
                            hi = std::min<std::int64_t>(nx, end + radiusI);
                        }
                        if (lo < hi)
                            std::fill(rowOut + lo, rowOut + hi, std::uint8_t{1});
                        t = end;
                    }
                }
            }
            // Along j: all columns side by side.
            if (radiusJ <= 0) {
                std::copy(mid, mid + sliceVoxels, dst);
                continue;
            }
            const auto saturate = static_cast<std::uint8_t>(radiusJ + 1);
            std::uint8_t* __restrict counter = counters.data();
            std::fill(counters.begin(), counters.end(), saturate);
            for (std::int64_t j = 0; j < ny; ++j) {
                const std::uint8_t* __restrict row = mid + j * nx;
                std::uint8_t* __restrict rowOut = dst + j * nx;
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::uint8_t next = std::min<std::uint8_t>(std::uint8_t(counter[i] + 1), saturate);
                    const std::uint8_t updated =
                        next & (Erode ? std::uint8_t(0 - row[i]) : std::uint8_t(row[i] - 1));
                    counter[i] = updated;
                    rowOut[i] = Erode ? std::uint8_t(updated == saturate) : std::uint8_t(updated != saturate);
                }
            }
            std::fill(counters.begin(), counters.end(), saturate);
            for (std::int64_t j = ny - 1; j >= 0; --j) {
                const std::uint8_t* __restrict row = mid + j * nx;
                std::uint8_t* __restrict rowOut = dst + j * nx;
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::uint8_t next = std::min<std::uint8_t>(std::uint8_t(counter[i] + 1), saturate);
                    const std::uint8_t updated =
                        next & (Erode ? std::uint8_t(0 - row[i]) : std::uint8_t(row[i] - 1));
                    counter[i] = updated;
                    rowOut[i] = Erode ? std::uint8_t(rowOut[i] & std::uint8_t(updated == saturate))
                                      : std::uint8_t(rowOut[i] | std::uint8_t(updated != saturate));
                }
            }
        }
    });
}

/// In-plane box erosion/dilation with a half-width of `radiusMm` converted to voxels per axis.
Mask boxFilter(const Mask& in, const Geometry& geometry, double radiusMm, bool erode, int threads)
{
    const int radiusI = std::min(254, static_cast<int>(std::floor(radiusMm / geometry.spacing.x + 1e-9)));
    const int radiusJ = std::min(254, static_cast<int>(std::floor(radiusMm / geometry.spacing.y + 1e-9)));
    Mask out;
    if (erode)
        boxFilterSlices<true>(in, out, geometry.size, radiusI, radiusJ, threads);
    else
        boxFilterSlices<false>(in, out, geometry.size, radiusI, radiusJ, threads);
    return out;
}

/// 6-connected components of a mask, labelled on runs of set voxels along i: runs are unioned
/// with overlapping runs of the previous row and of the same row in the previous slice. Slices
/// are scanned and joined within themselves in parallel; the joins across slices are sequential.
class RunComponents
{
public:
    RunComponents(const Mask& mask, const Size3& size, int threads) : m_size(size)
    {
        const std::int64_t nx = size[0], ny = size[1], nz = size[2];
        std::vector<std::vector<Run>> slices(static_cast<std::size_t>(nz));
        std::vector<std::vector<std::int64_t>> rowStarts(static_cast<std::size_t>(nz));
        parallelChunks(nz, threads, [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t k = first; k < last; ++k) {
                auto& runs = slices[static_cast<std::size_t>(k)];
                auto& starts = rowStarts[static_cast<std::size_t>(k)];
                starts.resize(static_cast<std::size_t>(ny) + 1);
                for (std::int64_t j = 0; j < ny; ++j) {
                    starts[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(runs.size());
                    const std::uint8_t* row = mask.data() + nx * (j + ny * k);
                    std::int64_t i = 0;
                    while (i < nx) {
                        while (i < nx && !row[i])
                            ++i;
                        if (i == nx)
                            break;
                        const std::int64_t begin = i;
                        while (i < nx && row[i])
                            ++i;
                        runs.push_back(
                            {static_cast<std::int32_t>(begin), static_cast<std::int32_t>(i), j, k});
                    }
                }
                starts[static_cast<std::size_t>(ny)] = static_cast<std::int64_t>(runs.size());
            }
        });
        m_sliceOffset.assign(static_cast<std::size_t>(nz) + 1, 0);
        for (std::int64_t k = 0; k < nz; ++k)
            m_sliceOffset[static_cast<std::size_t>(k) + 1] =
                m_sliceOffset[static_cast<std::size_t>(k)] +
                static_cast<std::int64_t>(slices[static_cast<std::size_t>(k)].size());
        m_runs.resize(static_cast<std::size_t>(m_sliceOffset.back()));
        m_parent.resize(m_runs.size());
        for (std::int64_t k = 0; k < nz; ++k)
            std::copy(slices[static_cast<std::size_t>(k)].begin(), slices[static_cast<std::size_t>(k)].end(),
                      m_runs.begin() + m_sliceOffset[static_cast<std::size_t>(k)]);
        slices.clear();
        for (std::size_t r = 0; r < m_parent.size(); ++r)
            m_parent[r] = static_cast<std::int64_t>(r);
        // Rows within a slice (independent slices, in parallel).
        parallelChunks(nz, threads, [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t k = first; k < last; ++k) {
                const auto& starts = rowStarts[static_cast<std::size_t>(k)];
                const std::int64_t base = m_sliceOffset[static_cast<std::size_t>(k)];
                for (std::int64_t j = 1; j < ny; ++j)
                    joinRows(base + starts[static_cast<std::size_t>(j) - 1],
                             base + starts[static_cast<std::size_t>(j)],
                             base + starts[static_cast<std::size_t>(j)],
                             base + starts[static_cast<std::size_t>(j) + 1]);
            }
        });
        // The same row in consecutive slices.
        for (std::int64_t k = 1; k < nz; ++k) {
            const auto& above = rowStarts[static_cast<std::size_t>(k) - 1];
            const auto& here = rowStarts[static_cast<std::size_t>(k)];
            const std::int64_t baseAbove = m_sliceOffset[static_cast<std::size_t>(k) - 1];
            const std::int64_t baseHere = m_sliceOffset[static_cast<std::size_t>(k)];
            for (std::int64_t j = 0; j < ny; ++j)
                joinRows(baseAbove + above[static_cast<std::size_t>(j)],
                         baseAbove + above[static_cast<std::size_t>(j) + 1],
                         baseHere + here[static_cast<std::size_t>(j)],
                         baseHere + here[static_cast<std::size_t>(j) + 1]);
        }
        // Component of each run and voxel count of each component.
        m_component.resize(m_runs.size());
        std::vector<std::int64_t> idOfRoot(m_runs.size(), -1);
        for (std::size_t r = 0; r < m_runs.size(); ++r) {
            const auto root = static_cast<std::size_t>(find(static_cast<std::int64_t>(r)));
            if (idOfRoot[root] < 0) {
                idOfRoot[root] = static_cast<std::int64_t>(m_sizes.size());
                m_sizes.push_back(0);
            }
            m_component[r] = idOfRoot[root];
            m_sizes[static_cast<std::size_t>(idOfRoot[root])] += m_runs[r].end - m_runs[r].begin;
        }
    }

    /// Voxel count of each component (ids 0..n-1).
    const std::vector<std::int64_t>& sizes() const { return m_sizes; }

    /// 1 for each component with a voxel on a face of the grid.
    std::vector<std::uint8_t> touchingBorder() const
    {
        std::vector<std::uint8_t> touching(m_sizes.size(), 0);
        for (std::size_t r = 0; r < m_runs.size(); ++r) {
            const Run& run = m_runs[r];
            const bool onSliceFace = m_size[2] > 1 && (run.k == 0 || run.k == m_size[2] - 1);
            if (run.begin == 0 || run.end == m_size[0] || run.j == 0 || run.j == m_size[1] - 1 || onSliceFace)
                touching[static_cast<std::size_t>(m_component[r])] = 1;
        }
        return touching;
    }

    /// Rewrites `mask` to hold only the components with keep[id] set.
    void keepOnly(Mask& mask, const std::vector<std::uint8_t>& keep, int threads) const
    {
        const std::int64_t nx = m_size[0], ny = m_size[1];
        parallelChunks(m_size[2], threads, [&](std::int64_t first, std::int64_t last) {
            for (std::int64_t k = first; k < last; ++k)
                for (std::int64_t r = m_sliceOffset[static_cast<std::size_t>(k)];
                     r < m_sliceOffset[static_cast<std::size_t>(k) + 1]; ++r) {
                    if (keep[static_cast<std::size_t>(m_component[static_cast<std::size_t>(r)])])
                        continue;
                    const Run& run = m_runs[static_cast<std::size_t>(r)];
                    std::uint8_t* row = mask.data() + nx * (run.j + ny * run.k);
                    std::fill(row + run.begin, row + run.end, std::uint8_t{0});
                }
        });
    }

private:
    struct Run
    {
        std::int32_t begin, end; // [begin, end) along i
        std::int64_t j, k;
    };

    std::int64_t find(std::int64_t r)
    {
        while (m_parent[static_cast<std::size_t>(r)] != r) {
            m_parent[static_cast<std::size_t>(r)] =
                m_parent[static_cast<std::size_t>(m_parent[static_cast<std::size_t>(r)])];
            r = m_parent[static_cast<std::size_t>(r)];
        }
        return r;
    }

    void unite(std::int64_t a, std::int64_t b)
    {
        a = find(a);
        b = find(b);
        if (a != b)
            m_parent[static_cast<std::size_t>(std::max(a, b))] = std::min(a, b);
    }

    /// Unites overlapping runs of two rows, [a0, a1) and [b0, b1) in run order.
    void joinRows(std::int64_t a0, std::int64_t a1, std::int64_t b0, std::int64_t b1)
    {
        std::int64_t a = a0, b = b0;
        while (a < a1 && b < b1) {
            const Run& ra = m_runs[static_cast<std::size_t>(a)];
            const Run& rb = m_runs[static_cast<std::size_t>(b)];
            if (ra.begin < rb.end && rb.begin < ra.end)
                unite(a, b);
            if (ra.end < rb.end)
                ++a;
            else
                ++b;
        }
    }

    Size3 m_size;
    std::vector<Run> m_runs;
    std::vector<std::int64_t> m_sliceOffset;
    std::vector<std::int64_t> m_parent;
    std::vector<std::int64_t> m_component;
    std::vector<std::int64_t> m_sizes;
};

/// Keeps the largest 6-connected component of `mask` (in place); returns its size.
std::int64_t keepLargestComponent(Mask& mask, const Geometry& geometry, int threads)
{
    const RunComponents components(mask, geometry.size, threads);
    const auto& sizes = components.sizes();
    if (sizes.empty())
        return 0;
    const auto best = std::max_element(sizes.begin(), sizes.end());
    std::vector<std::uint8_t> keep(sizes.size(), 0);
    keep[static_cast<std::size_t>(best - sizes.begin())] = 1;
    components.keepOnly(mask, keep, threads);
    return *best;
}

/// Drops components smaller than `minVoxels`; keeps at most `maxKeep` of the largest (0: all).
/// Returns the number kept.
int filterComponents(Mask& mask, const Geometry& geometry, int threads, std::int64_t minVoxels, int maxKeep)
{
    const RunComponents components(mask, geometry.size, threads);
    const auto& sizes = components.sizes();
    std::vector<std::size_t> order;
    for (std::size_t c = 0; c < sizes.size(); ++c)
        if (sizes[c] >= std::max<std::int64_t>(minVoxels, 1))
            order.push_back(c);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return sizes[a] > sizes[b]; });
    if (maxKeep > 0 && order.size() > static_cast<std::size_t>(maxKeep))
        order.resize(static_cast<std::size_t>(maxKeep));
    std::vector<std::uint8_t> keep(sizes.size(), 0);
    for (const std::size_t c : order)
        keep[c] = 1;
    components.keepOnly(mask, keep, threads);
    return static_cast<int>(order.size());
}

/// Fills background components of `mask` that touch no face of the grid and hold at most
/// `maxVoxels` voxels (negative: any size). `threads` parallelises the labelling.
void fillEnclosedBackground(Mask& mask, const Size3& size, std::int64_t maxVoxels, int threads)
{
    Mask background(mask.size());
    for (std::size_t v = 0; v < mask.size(); ++v)
        background[v] = !mask[v];
    const RunComponents components(background, size, threads);
    std::vector<std::uint8_t> fill = components.touchingBorder();
    for (std::size_t c = 0; c < fill.size(); ++c)
        fill[c] = !fill[c] && (maxVoxels < 0 || components.sizes()[c] <= maxVoxels);
    components.keepOnly(background, fill, threads);
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = mask[v] | background[v];
}

/// Fills, in every k slice, background regions not 4-connected to the slice border whose area is
/// at most `maxAreaVoxels` (negative: any size).
void fillHolesPerSlice(Mask& mask, const Size3& size, std::int64_t maxAreaVoxels, int threads)
{
    const std::int64_t nx = size[0], ny = size[1], sliceVoxels = nx * ny;
    parallelChunks(size[2], threads, [&](std::int64_t first, std::int64_t last) {
        Mask crop;
        for (std::int64_t k = first; k < last; ++k) {
            std::uint8_t* data = mask.data() + k * sliceVoxels;
            // Holes lie inside the bounding box of the set voxels; a one-voxel margin of
            // background around it stands for everything outside.
            std::int64_t iLow = nx, iHigh = -1, jLow = ny, jHigh = -1;
            for (std::int64_t j = 0; j < ny; ++j) {
                const std::uint8_t* row = data + j * nx;
                const void* firstSet = std::memchr(row, 1, static_cast<std::size_t>(nx));
                if (!firstSet)
                    continue;
                std::int64_t lastSet = nx - 1;
                while (!row[lastSet])
                    --lastSet;
                iLow = std::min(iLow,
                                static_cast<std::int64_t>(static_cast<const std::uint8_t*>(firstSet) - row));
                iHigh = std::max(iHigh, lastSet);
                jLow = std::min(jLow, j);
                jHigh = j;
            }
            if (iHigh < 0)
                continue;
            iLow = std::max<std::int64_t>(0, iLow - 1);
            jLow = std::max<std::int64_t>(0, jLow - 1);
            iHigh = std::min(nx - 1, iHigh + 1);
            jHigh = std::min(ny - 1, jHigh + 1);
            const std::int64_t cx = iHigh - iLow + 1, cy = jHigh - jLow + 1;
            crop.resize(static_cast<std::size_t>(cx * cy));
            for (std::int64_t j = 0; j < cy; ++j)
                std::copy(data + (jLow + j) * nx + iLow, data + (jLow + j) * nx + iLow + cx,
                          crop.begin() + j * cx);
            fillEnclosedBackground(crop, {cx, cy, 1}, maxAreaVoxels, 1);
            for (std::int64_t j = 0; j < cy; ++j)
                std::copy(crop.begin() + j * cx, crop.begin() + (j + 1) * cx, data + (jLow + j) * nx + iLow);
        }
    });
}

/// Fills background not 6-connected to the faces of the grid.
void fillHoles3d(Mask& mask, const Size3& size, int threads)
{
    fillEnclosedBackground(mask, size, -1, threads);
}

/// mask[v] = hu[v] > threshold.
Mask tissueMask(const Volume& ct, float threshold, int threads)
{
    Mask mask(ct.voxels().size());
    const float* huData = ct.data();
    std::uint8_t* outData = mask.data();
    parallelChunks(static_cast<std::int64_t>(mask.size()), threads,
                   [=](std::int64_t first, std::int64_t last) {
                       const float* __restrict hu = huData + first;
                       std::uint8_t* __restrict out = outData + first;
                       const std::int64_t n = last - first;
                       for (std::int64_t v = 0; v < n; ++v)
                           out[v] = hu[v] > threshold;
                   });
    return mask;
}

/// bone[v] = hu >= boneHu inside the body; air[v] = hu < airHu inside the body (one pass).
void boneAndAirMasks(const Volume& ct, const Mask& body, float boneHu, float airHu, Mask& bone, Mask& air,
                     int threads)
{
    bone.resize(body.size());
    air.resize(body.size());
    const float* huData = ct.data();
    const std::uint8_t* insideData = body.data();
    std::uint8_t* boneData = bone.data();
    std::uint8_t* airData = air.data();
    parallelChunks(static_cast<std::int64_t>(body.size()), threads,
                   [=](std::int64_t first, std::int64_t last) {
                       const float* __restrict hu = huData + first;
                       const std::uint8_t* __restrict inside = insideData + first;
                       std::uint8_t* __restrict boneOut = boneData + first;
                       std::uint8_t* __restrict airOut = airData + first;
                       const std::int64_t n = last - first;
                       for (std::int64_t v = 0; v < n; ++v) {
                           boneOut[v] = std::uint8_t(hu[v] >= boneHu) & inside[v];
                           airOut[v] = std::uint8_t(hu[v] < airHu) & inside[v];
                       }
                   });
}

/// Voxels at or below this lie outside the scanner's reconstruction circle (padding values such as
/// -2000 or -3024); real air is about -1000 HU.
constexpr float kPaddingHu = -1500.0f;

/// Within two layers past a table slab (where the patient lies on it) the tissue coverage falls to
/// at most this, and by at least kTableContactMinDrop: a table is wider than the patient.
constexpr double kTableContactMaxCoverage = 0.75;
constexpr double kTableContactMinDrop = 0.35;

/// Finds the scanner table as a flat slab across the field of view: 1 mm layers perpendicular to
/// the patient's anterior-posterior (LPS y) axis in which at least `minCoverage` of the voxels are
/// tissue (voxels outside the reconstruction circle are not counted), forming a band at most
/// `maxThicknessMm` thick at the anterior or posterior end of the tissue, with the coverage
/// falling sharply (to at most 75 %, by at least 35 points) within 2 layers past it. Clears the band from
/// `tissue` and returns its thickness in mm (0 when none is found).
double removeTableSlab(Mask& tissue, const Volume& ct, double minCoverage, double maxThicknessMm, int threads)
{
    const Geometry& geometry = ct.geometry();
    const Mat3 step = geometry.lpsFromIjkLinear();
    const double stepI = step(1, 0), stepJ = step(1, 1), stepK = step(1, 2);
    double yMin = std::numeric_limits<double>::infinity(), yMax = -std::numeric_limits<double>::infinity();
    for (int corner = 0; corner < 8; ++corner) {
        const Vec3 ijk{(corner & 1) ? double(geometry.size[0] - 1) : 0.0,
                       (corner & 2) ? double(geometry.size[1] - 1) : 0.0,
                       (corner & 4) ? double(geometry.size[2] - 1) : 0.0};
        const double y = geometry.lpsFromIjk(ijk).y;
        yMin = std::min(yMin, y);
        yMax = std::max(yMax, y);
    }
    // Layers at least as thick as one voxel step along y, so that every layer holds voxel centres.
    const double layerMm = std::max({1.0, std::abs(stepI), std::abs(stepJ), std::abs(stepK)});
    const auto layers = static_cast<std::size_t>(std::floor((yMax - yMin) / layerMm)) + 1;
    if (layers < 3)
        return 0.0;
    const double y0 = geometry.originLps.y;
    const std::int64_t nx = geometry.size[0], ny = geometry.size[1];
    auto layerOf = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        const double y = y0 + stepI * double(i) + stepJ * double(j) + stepK * double(k);
        return std::min(layers - 1, static_cast<std::size_t>(std::max(0.0, (y - yMin) / layerMm)));
    };
    std::vector<std::int64_t> total(layers, 0), filled(layers, 0);
    const bool rowsAlongLayer = std::abs(stepI) < 1e-9; // every voxel of a row lies in one layer
    std::mutex merge;
    parallelChunks(geometry.size[2], threads, [&](std::int64_t first, std::int64_t last) {
        std::vector<std::int64_t> localTotal(layers, 0), localFilled(layers, 0);
        for (std::int64_t k = first; k < last; ++k)
            for (std::int64_t j = 0; j < ny; ++j) {
                const std::uint8_t* row = tissue.data() + nx * (j + ny * k);
                const float* hu = ct.data() + nx * (j + ny * k);
                if (rowsAlongLayer) {
                    const std::size_t layer = layerOf(0, j, k);
                    std::int64_t valid = 0, sum = 0;
                    for (std::int64_t i = 0; i < nx; ++i) {
                        valid += hu[i] > kPaddingHu;
                        sum += row[i];
                    }
                    localTotal[layer] += valid;
                    localFilled[layer] += sum;
                    continue;
                }
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::size_t layer = layerOf(i, j, k);
                    localTotal[layer] += hu[i] > kPaddingHu;
                    localFilled[layer] += row[i];
                }
            }
        const std::lock_guard<std::mutex> lock(merge);
        for (std::size_t l = 0; l < layers; ++l) {
            total[l] += localTotal[l];
            filled[l] += localFilled[l];
        }
    });
    auto coverage = [&](std::size_t l) { return total[l] ? double(filled[l]) / double(total[l]) : -1.0; };
    // The tissue's extent along y, then a full band at either end of it.
    std::size_t low = 0, high = layers - 1;
    while (low < layers && coverage(low) < 0.01)
        ++low;
    while (high > low && coverage(high) < 0.01)
        --high;
    if (low >= high)
        return 0.0;
    auto bandFrom = [&](std::size_t start, int direction, std::size_t& end) {
        std::size_t count = 0;
        auto l = static_cast<std::ptrdiff_t>(start);
        // The slab's outer face rarely falls on a layer boundary: up to two partly filled layers
        // at the start belong to the band.
        for (int partial = 0;
             partial < 2 && l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high) &&
             coverage(static_cast<std::size_t>(l)) < minCoverage;
             ++partial) {
            ++count;
            l += direction;
        }
        const std::size_t partialCount = count;
        while (l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high)) {
            const double c = coverage(static_cast<std::size_t>(l));
            if (c >= 0.0 && c < minCoverage)
                break;
            ++count;
            l += direction;
        }
        end = static_cast<std::size_t>(l - direction);
        return count > partialCount ? count : std::size_t{0};
    };
    // A table is wider than the patient where they meet: within a few layers past the band the
    // coverage falls well below it. A field of view that lies inside the body (full layers that
    // thin out gradually towards the skin) is no table.
    auto dropsAfter = [&](std::size_t bandEnd, int direction) {
        double lowest = 1.0;
        auto l = static_cast<std::ptrdiff_t>(bandEnd) + direction;
        for (int n = 0;
             n < 2 && l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high);
             ++n, l += direction) {
            const double c = coverage(static_cast<std::size_t>(l));
            if (c >= 0.0)
                lowest = std::min(lowest, c);
        }
        const double last = std::max(0.0, coverage(bandEnd));
        return lowest <= std::min(kTableContactMaxCoverage, last - kTableContactMinDrop);
    };
    std::size_t bandLow = 0, bandHigh = 0;
    std::size_t end = 0;
    const std::size_t atLow = bandFrom(low, +1, end);
    const double maxLayers = maxThicknessMm / layerMm;
    if (atLow > 0 && double(atLow) <= maxLayers && end < high && dropsAfter(end, +1)) {
        bandLow = low;
        bandHigh = end;
    } else {
        const std::size_t atHigh = bandFrom(high, -1, end);
        if (atHigh > 0 && double(atHigh) <= maxLayers && end > low && dropsAfter(end, -1)) {
            bandLow = end;
            bandHigh = high;
        } else {
            return 0.0;
        }
    }
    parallelChunks(geometry.size[2], threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t k = first; k < last; ++k)
            for (std::int64_t j = 0; j < ny; ++j) {
                std::uint8_t* row = tissue.data() + nx * (j + ny * k);
                if (rowsAlongLayer) {
                    const std::size_t layer = layerOf(0, j, k);
                    if (layer >= bandLow && layer <= bandHigh)
                        std::fill(row, row + nx, std::uint8_t{0});
                    continue;
                }
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::size_t layer = layerOf(i, j, k);
                    if (layer >= bandLow && layer <= bandHigh)
                        row[i] = 0;
                }
            }
    });
    return double(bandHigh - bandLow + 1) * layerMm;
}

std::string formatNumber(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

void checkOptions(const SegmentationOptions& o)
{
    std::ostringstream problem;
    auto nonNegative = [&](double value, const char* name) {
        if (!std::isfinite(value) || value < 0.0)
            problem << name << " must be a finite value >= 0 (got " << value << "); ";
    };
    nonNegative(o.tableRemovalRadiusMm, "tableRemovalRadiusMm");
    nonNegative(o.tableSlabMaxThicknessMm, "tableSlabMaxThicknessMm");
    if (!(o.tableSlabMinCoverage > 0.0 && o.tableSlabMinCoverage <= 1.0))
        problem << "tableSlabMinCoverage must be in (0, 1]; ";
    nonNegative(o.boneMinComponentMm3, "boneMinComponentMm3");
    nonNegative(o.boneMaxHoleAreaMm2, "boneMaxHoleAreaMm2");
    nonNegative(o.lungMinVolumeMl, "lungMinVolumeMl");
    nonNegative(o.lungMaxHoleAreaMm2, "lungMaxHoleAreaMm2");
    for (const float t : {o.bodyThresholdHu, o.boneThresholdHu, o.lungThresholdHu})
        if (!std::isfinite(t))
            problem << "thresholds must be finite; ";
    if (o.threads < 0)
        problem << "threads must be >= 0; ";
    if (!problem.str().empty())
        throw Error(ErrorCode::InvalidArgument,
                    "segmentation options: " + problem.str().substr(0, problem.str().size() - 2));
}

} // namespace

void selectStructures(SegmentationOptions& options, const std::string& commaSeparatedNames)
{
    options.body = options.bone = options.lung = false;
    std::stringstream in(commaSeparatedNames);
    std::string name;
    bool any = false;
    while (std::getline(in, name, ',')) {
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name.empty())
            continue;
        any = true;
        if (name == "body" || name == "skin")
            options.body = true;
        else if (name == "bone")
            options.bone = true;
        else if (name == "lung")
            options.lung = true;
        else
            throw Error(ErrorCode::InvalidArgument,
                        "unknown structure '" + name + "' (automatic segmentation knows body, bone, lung)");
    }
    if (!any)
        throw Error(ErrorCode::InvalidArgument, "no structure named in '" + commaSeparatedNames + "'");
}

StructureSet segmentStructures(const Volume& ct, const SegmentationOptions& options, ProgressSink* progress)
{
    if (ct.empty())
        throw Error(ErrorCode::InvalidArgument, "segmentation: the image is empty");
    const Geometry& geometry = ct.geometry();
    geometry.validate("segmentation input");
    checkOptions(options);
    const int threads = options.threads;
    const double voxelMm3 = geometry.spacing.x * geometry.spacing.y * geometry.spacing.z;
    const double pixelMm2 = geometry.spacing.x * geometry.spacing.y;
    StructureSet result(geometry);

    // Body: tissue threshold, cut thin attachments (the table) with an opening, keep the largest
    // component, restore the surface that the opening rounded off, fill holes.
    reportProgress(progress, 0.0, "body: threshold");
    Mask tissue = tissueMask(ct, options.bodyThresholdHu, threads);
    if (options.removeTableSlab) {
        reportProgress(progress, 0.05, "body: looking for a table slab");
        const double slabMm = removeTableSlab(tissue, ct, options.tableSlabMinCoverage,
                                              options.tableSlabMaxThicknessMm, threads);
        if (slabMm > 0.0)
            result.warnings().push_back("removed a table slab " + formatNumber(slabMm) +
                                        " mm thick across the field of view");
    }
    throwIfCancelled(progress);
    Mask body;
    if (options.tableRemovalRadiusMm > 0.0) {
        reportProgress(progress, 0.08, "body: removing the table");
        Mask core = boxFilter(tissue, geometry, options.tableRemovalRadiusMm, true, threads);
        throwIfCancelled(progress);
        reportProgress(progress, 0.15, "body: core component");
        keepLargestComponent(core, geometry, threads);
        throwIfCancelled(progress);
        reportProgress(progress, 0.22, "body: restoring the surface");
        // Dilating by the same box restores the body's own surface (an opening only rounds off
        // features thinner than the box) but not the table beyond it.
        body = boxFilter(core, geometry, options.tableRemovalRadiusMm, false, threads);
        std::uint8_t* bodyData = body.data();
        const std::uint8_t* tissueData = tissue.data();
        parallelChunks(static_cast<std::int64_t>(body.size()), threads,
                       [=](std::int64_t first, std::int64_t last) {
                           std::uint8_t* __restrict out = bodyData + first;
                           const std::uint8_t* __restrict in = tissueData + first;
                           for (std::int64_t v = 0; v < last - first; ++v)
                               out[v] = out[v] & in[v];
                       });
    } else {
        body = tissue;
    }
    throwIfCancelled(progress);
    reportProgress(progress, 0.3, "body: largest component");
    if (keepLargestComponent(body, geometry, threads) == 0)
        result.warnings().push_back("no body found: no voxel is above " +
                                    formatNumber(options.bodyThresholdHu) + " HU");
    throwIfCancelled(progress);
    reportProgress(progress, 0.45, "body: filling holes");
    if (options.fillHolesPerSlice)
        fillHolesPerSlice(body, geometry.size, -1, threads);
    else
        fillHoles3d(body, geometry.size, threads);
    throwIfCancelled(progress);

    Mask bone, lung;
    if (options.bone || options.lung) {
        reportProgress(progress, 0.52, "bone and air: thresholds");
        boneAndAirMasks(ct, body, options.boneThresholdHu, options.lungThresholdHu, bone, lung, threads);
    }
    if (options.body) {
        auto& s = result.add("body", {0.89, 0.72, 0.60});
        s.voxels = std::move(body);
    }

    if (options.bone) {
        reportProgress(progress, 0.62, "bone: removing small fragments");
        const auto minVoxels = static_cast<std::int64_t>(std::ceil(options.boneMinComponentMm3 / voxelMm3));
        filterComponents(bone, geometry, threads, minVoxels, 0);
        throwIfCancelled(progress);
        reportProgress(progress, 0.72, "bone: filling marrow holes");
        fillHolesPerSlice(bone, geometry.size,
                          static_cast<std::int64_t>(std::floor(options.boneMaxHoleAreaMm2 / pixelMm2)),
                          threads);
        auto& s = result.add("bone", {0.95, 0.91, 0.80});
        s.voxels = std::move(bone);
        throwIfCancelled(progress);
    }

    if (options.lung) {
        reportProgress(progress, 0.85, "lung: components");
        const auto minVoxels =
            static_cast<std::int64_t>(std::ceil(options.lungMinVolumeMl * 1000.0 / voxelMm3));
        const int kept = filterComponents(lung, geometry, threads, minVoxels, 2);
        throwIfCancelled(progress);
        if (kept == 0) {
            result.warnings().push_back("no lung found (no internal air region of at least " +
                                        formatNumber(options.lungMinVolumeMl) + " ml)");
        } else {
            fillHolesPerSlice(lung, geometry.size,
                              static_cast<std::int64_t>(std::floor(options.lungMaxHoleAreaMm2 / pixelMm2)),
                              threads);
            auto& s = result.add("lung", {0.77, 0.49, 0.56});
            s.voxels = std::move(lung);
        }
    }
    reportProgress(progress, 1.0, "segmentation done");
    return result;
}

BodySurface::BodySurface(const Geometry& geometry, const std::vector<std::uint8_t>& bodyMask, double sigmaMm,
                         ProgressSink* progress)
{
    geometry.validate("body surface");
    if (bodyMask.size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "body surface: the mask does not match the grid");
    if (!std::isfinite(sigmaMm) || sigmaMm <= 0.0)
        throw Error(ErrorCode::InvalidArgument, "body surface: smoothing sigma must be > 0 mm");
    reportProgress(progress, 0.0, "smoothing the body mask");
    using FloatImage = itk::Image<float, 3>;
    auto image = FloatImage::New();
    FloatImage::RegionType region;
    FloatImage::SizeType size;
    FloatImage::SpacingType spacing;
    for (unsigned a = 0; a < 3; ++a) {
        size[a] = static_cast<itk::SizeValueType>(geometry.size[a]);
        spacing[a] = geometry.spacing[static_cast<int>(a)];
    }
    region.SetSize(size);
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->Allocate();
    float* buffer = image->GetBufferPointer();
    for (std::size_t v = 0; v < bodyMask.size(); ++v)
        buffer[v] = bodyMask[v] ? 1.0f : 0.0f;
    auto smooth = itk::SmoothingRecursiveGaussianImageFilter<FloatImage, FloatImage>::New();
    smooth->SetInput(image);
    smooth->SetSigma(sigmaMm);
    try {
        smooth->Update();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorCode::Internal, std::string("body mask smoothing failed: ") + e.GetDescription());
    }
    throwIfCancelled(progress);
    m_smoothed = Volume(geometry);
    const float* out = smooth->GetOutput()->GetBufferPointer();
    std::copy(out, out + bodyMask.size(), m_smoothed.data());
    reportProgress(progress, 1.0, "smoothing the body mask");
}

BodySurface BodySurface::fromLabelMap(const LabelMap& labels, double sigmaMm, ProgressSink* progress)
{
    std::vector<std::uint8_t> mask(labels.labels().size());
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = labels.labels()[v] != 0;
    return BodySurface(labels.geometry(), mask, sigmaMm, progress);
}

double BodySurface::insideFraction(const Vec3& pointLps) const
{
    return m_smoothed.sampleLps(pointLps, 0.0f);
}

Vec3 BodySurface::outwardNormalLps(const Vec3& pointLps) const
{
    const Geometry& g = m_smoothed.geometry();
    const double h = 0.5 * std::min({g.spacing.x, g.spacing.y, g.spacing.z});
    Vec3 gradientLps;
    for (int a = 0; a < 3; ++a) {
        Vec3 step;
        step[a] = h;
        gradientLps[a] = (insideFraction(pointLps + step) - insideFraction(pointLps - step)) / (2.0 * h);
    }
    if (norm(gradientLps) < 1e-6)
        return {};
    return normalized(-gradientLps);
}

} // namespace np::imaging
