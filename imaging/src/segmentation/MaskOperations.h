#pragma once
// Binary mask operations shared by the automatic segmentation: parallel loops on ITK's thread
// pool, in-plane box erosion/dilation, run-length connected components, hole filling. Internal to
// np_imaging (only its .cpp files include it).

#include "needleplan/imaging/Geometry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <itkMultiThreaderBase.h>
#include <vector>

namespace np::imaging::segmentation {

using Mask = std::vector<std::uint8_t>;

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
/// In-plane box erosion/dilation with a half-width of `radiusMm` converted to voxels per axis.
inline Mask boxFilter(const Mask& in, const Geometry& geometry, double radiusMm, bool erode, int threads)
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

    /// Calls visit(component, j, k, iBegin, iEnd) for every run of set voxels [iBegin, iEnd) of
    /// row j in slice k, in slice order.
    template <typename Visit> void forEachRun(const Visit& visit) const
    {
        for (std::size_t r = 0; r < m_runs.size(); ++r)
            visit(m_component[r], m_runs[r].j, m_runs[r].k, std::int64_t{m_runs[r].begin},
                  std::int64_t{m_runs[r].end});
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
std::int64_t keepLargestComponent(Mask& mask, const Geometry& geometry, int threads);

/// Drops components smaller than `minVoxels`; keeps at most `maxKeep` of the largest (0: all).
/// Returns the number kept.
int filterComponents(Mask& mask, const Geometry& geometry, int threads, std::int64_t minVoxels, int maxKeep);

/// Fills background components of `mask` that touch no face of the grid and hold at most
/// `maxVoxels` voxels (negative: any size). `threads` parallelises the labelling.
void fillEnclosedBackground(Mask& mask, const Size3& size, std::int64_t maxVoxels, int threads);

/// Fills, in every k slice, background regions not 4-connected to the slice border whose area is
/// at most `maxAreaVoxels` (negative: any size).
void fillHolesPerSlice(Mask& mask, const Size3& size, std::int64_t maxAreaVoxels, int threads);

/// Fills background not 6-connected to the faces of the grid.
void fillHoles3d(Mask& mask, const Size3& size, int threads);

} // namespace np::imaging::segmentation
