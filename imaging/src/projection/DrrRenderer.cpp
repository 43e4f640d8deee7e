#include "needleplan/imaging/DrrRenderer.h"

#include "SliceStacker.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NP_DRR_HAVE_AVX2_KERNEL 1
#endif

namespace np::imaging {

/// Padded attenuation values and the occupancy of 8³ bricks. Padded index p = CT index + 1.
struct AttenuationVolume::Data
{
    Geometry geometry;
    std::int64_t padded[3] = {0, 0, 0};
    std::int64_t stride[3] = {0, 0, 0};
    /// Elements past the padded grid, so that a 16-voxel window starting at any voxel can be loaded.
    static constexpr std::int64_t kSpare = 32;
    VoxelVector<std::uint16_t> values; ///< μ/μw × 1000, padded grid plus kSpare elements
    VoxelVector<std::uint16_t>
        valuesYFirst; ///< the same with y fastest (index pj + Py·(pi + Px·pk)); may be empty
    static constexpr int kBrick = 8;
    static constexpr int kDilation = 2; ///< bricks within this many of an occupied one are marked
    /// A point whose brick is unmarked has no non-zero voxel in the bilinear support of any point
    /// within this many voxels (Chebyshev) of it.
    static constexpr int kSafeVoxels = kDilation * kBrick - 1;
    std::int64_t bricks[3] = {0, 0, 0};
    std::vector<std::uint8_t> dilatedOccupied; ///< a brick within kDilation bricks holds a non-zero voxel
    bool anyOccupied = false;
    std::int64_t occupiedMin[3] = {0, 0, 0}; ///< padded index bounds of the non-zero voxels
    std::int64_t occupiedMax[3] = {0, 0, 0};
    double occupiedFraction = 0.0;
    Mat3 ijkFromLpsLinear;

    std::int64_t brickIndex(std::int64_t bx, std::int64_t by, std::int64_t bz) const
    {
        return bx + bricks[0] * (by + bricks[1] * bz);
    }
    Vec3 paddedIjkFromLps(const Vec3& pointLps) const
    {
        return ijkFromLpsLinear * (pointLps - geometry.originLps) + Vec3{1.0, 1.0, 1.0};
    }
};

namespace {

/// Where the samples of rays with main axis a are read: plane n starts at base + n·strideA, and
/// the in-plane axes b and c step by strideB and strideC (strideB is 1 whenever it can be).
struct Layout
{
    const std::uint16_t* base = nullptr;
    std::int64_t strideA = 0;
    std::int64_t strideB = 0;
    std::int64_t strideC = 0;
};

Layout layoutFor(const AttenuationVolume::Data& d, int a)
{
    if (a == 0 && !d.valuesYFirst.empty())
        return {d.valuesYFirst.data(), d.padded[1], 1, d.padded[0] * d.padded[1]};
    const int b = a == 0 ? 1 : 0;
    const int c = a == 2 ? 1 : 2;
    return {d.values.data(), d.stride[a], d.stride[b], d.stride[c]};
}

} // namespace

namespace {

constexpr float kValueScale = 1000.0f; // stored value = μ/μw × 1000
constexpr int kLanes = 8;
// Tiles of kTileColumns × kTileRows pixels are the unit of work: the groups of one tile row read
// neighbouring voxels one after the other, while they are still in the first-level cache.
constexpr int kTileColumns = 32;
constexpr int kTileRows = 4;
constexpr std::int64_t kPlaneRun = 32; ///< planes a group integrates before the next group's turn

int threadCount(int requested)
{
    if (requested > 0)
        return std::min(requested, 64);
    return detail::workerThreadCount();
}

} // namespace

AttenuationVolume::AttenuationVolume(const Volume& ctHu, const AttenuationOptions& options,
                                     ProgressSink* progress)
{
    if (ctHu.empty())
        throw Error(ErrorCode::InvalidArgument, "DRR: the CT volume is empty");
    if (!std::isfinite(options.boneEnhancement) || options.boneEnhancement < 0.0 ||
        !std::isfinite(options.boneThresholdHu))
        throw Error(ErrorCode::InvalidArgument, "DRR: bone enhancement must be finite and not negative");
    const Geometry& g = ctHu.geometry();
    g.validate("DRR volume");
    auto data = std::make_shared<Data>();
    data->geometry = g;
    for (int a = 0; a < 3; ++a)
        data->padded[a] = g.size[a] + 2;
    data->stride[0] = 1;
    data->stride[1] = data->padded[0];
    data->stride[2] = data->padded[0] * data->padded[1];
    const std::int64_t total = data->stride[2] * data->padded[2];
    data->values.resize(static_cast<std::size_t>(total + Data::kSpare));
    data->ijkFromLpsLinear = g.lpsFromIjkLinear().inverse();
    for (int a = 0; a < 3; ++a)
        data->bricks[a] = (data->padded[a] + Data::kBrick - 1) / Data::kBrick;
    const std::int64_t brickCount = data->bricks[0] * data->bricks[1] * data->bricks[2];
    std::vector<std::uint8_t> occupied(static_cast<std::size_t>(brickCount), 0);

    if (!std::isfinite(options.airThresholdHu))
        throw Error(ErrorCode::InvalidArgument, "DRR: the air threshold must be finite");
    const double air = options.airThresholdHu;
    const double enhancement = options.boneEnhancement;
    const double threshold = options.boneThresholdHu;
    std::uint16_t* out = data->values.data();
    const float* in = ctHu.data();
    const std::int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
    const std::int64_t px = data->padded[0], py = data->padded[1];
    std::mutex boundsMutex;
    std::int64_t lo[3] = {LLONG_MAX, LLONG_MAX, LLONG_MAX}, hi[3] = {LLONG_MIN, LLONG_MIN, LLONG_MIN};
    std::atomic<std::int64_t> slicesDone{0};
    // Padded slice pk = 0 .. nz + 1; the border slices are zero.
    detail::parallelFor(
        static_cast<std::size_t>(nz + 2), threadCount(options.threads), [&](std::size_t slice) {
            throwIfCancelled(progress);
            const std::int64_t pk = static_cast<std::int64_t>(slice);
            std::uint16_t* plane = out + pk * px * py;
            if (pk == 0 || pk == nz + 1) {
                std::fill(plane, plane + px * py, std::uint16_t{0});
                return;
            }
            std::int64_t sliceLo[3] = {LLONG_MAX, LLONG_MAX, pk}, sliceHi[3] = {LLONG_MIN, LLONG_MIN, pk};
            std::fill(plane, plane + px, std::uint16_t{0});
            std::fill(plane + (py - 1) * px, plane + py * px, std::uint16_t{0});
            const float* source = in + (pk - 1) * nx * ny;
            for (std::int64_t j = 0; j < ny; ++j) {
                std::uint16_t* row = plane + (j + 1) * px;
                row[0] = 0;
                row[px - 1] = 0;
                const float* sourceRow = source + j * nx;
                std::int64_t rowLo = LLONG_MAX, rowHi = LLONG_MIN;
                for (std::int64_t i = 0; i < nx; ++i) {
                    const double hu = sourceRow[i];
                    double mu = hu <= air ? 0.0 : 1.0 + hu / 1000.0;
                    if (enhancement > 0.0 && hu > threshold)
                        mu += enhancement * (hu - threshold) / 1000.0;
                    double stored = std::isfinite(mu) ? std::round(mu * kValueScale) : 0.0;
                    stored = std::clamp(stored, 0.0, 65535.0);
                    const auto value = static_cast<std::uint16_t>(stored);
                    row[i + 1] = value;
                    if (value != 0) {
                        rowLo = std::min(rowLo, i + 1);
                        rowHi = i + 1;
                    }
                }
                if (rowHi >= rowLo) {
                    sliceLo[0] = std::min(sliceLo[0], rowLo);
                    sliceHi[0] = std::max(sliceHi[0], rowHi);
                    sliceLo[1] = std::min(sliceLo[1], j + 1);
                    sliceHi[1] = j + 1;
                    // Mark the bricks this row's non-zero span touches (exact per voxel below).
                    for (std::int64_t i = rowLo; i <= rowHi; ++i)
                        if (row[i] != 0)
                            occupied[static_cast<std::size_t>(data->brickIndex(
                                i / Data::kBrick, (j + 1) / Data::kBrick, pk / Data::kBrick))] = 1;
                }
            }
            if (sliceHi[0] >= sliceLo[0]) {
                std::lock_guard<std::mutex> lock(boundsMutex);
                for (int a = 0; a < 3; ++a) {
                    lo[a] = std::min(lo[a], sliceLo[a]);
                    hi[a] = std::max(hi[a], sliceHi[a]);
                }
            }
            const auto done = ++slicesDone;
            if (done % 32 == 0)
                reportProgress(progress, static_cast<double>(done) / static_cast<double>(nz + 2),
                               "attenuation volume");
        });
    for (std::int64_t e = total; e < total + Data::kSpare; ++e)
        data->values[static_cast<std::size_t>(e)] = 0;
    data->anyOccupied = hi[0] >= lo[0];
    for (int a = 0; a < 3; ++a) {
        data->occupiedMin[a] = data->anyOccupied ? lo[a] : 1;
        data->occupiedMax[a] = data->anyOccupied ? hi[a] : 0;
    }
    std::int64_t occupiedCount = 0;
    data->dilatedOccupied.assign(static_cast<std::size_t>(brickCount), 0);
    for (std::int64_t bz = 0; bz < data->bricks[2]; ++bz)
        for (std::int64_t by = 0; by < data->bricks[1]; ++by)
            for (std::int64_t bx = 0; bx < data->bricks[0]; ++bx) {
                if (!occupied[static_cast<std::size_t>(data->brickIndex(bx, by, bz))])
                    continue;
                ++occupiedCount;
                constexpr std::int64_t r = Data::kDilation;
                for (std::int64_t dz = std::max<std::int64_t>(0, bz - r);
                     dz <= std::min(data->bricks[2] - 1, bz + r); ++dz)
                    for (std::int64_t dy = std::max<std::int64_t>(0, by - r);
                         dy <= std::min(data->bricks[1] - 1, by + r); ++dy)
                        for (std::int64_t dx = std::max<std::int64_t>(0, bx - r);
                             dx <= std::min(data->bricks[0] - 1, bx + r); ++dx)
                            data->dilatedOccupied[static_cast<std::size_t>(data->brickIndex(dx, dy, dz))] = 1;
            }
    data->occupiedFraction = static_cast<double>(occupiedCount) / static_cast<double>(brickCount);
    if (options.firstAxisCopy) {
        throwIfCancelled(progress);
        data->valuesYFirst.resize(static_cast<std::size_t>(total + Data::kSpare));
        std::uint16_t* copy = data->valuesYFirst.data();
        const std::uint16_t* original = data->values.data();
        const std::int64_t pz = data->padded[2];
        detail::parallelFor(static_cast<std::size_t>(pz), threadCount(options.threads),
                            [&](std::size_t slice) {
                                const std::int64_t pk = static_cast<std::int64_t>(slice);
                                const std::uint16_t* from = original + pk * px * py;
                                std::uint16_t* to = copy + pk * px * py;
                                // Blocks of 16 × 16 keep both sides in cache.
                                for (std::int64_t j0 = 0; j0 < py; j0 += 16)
                                    for (std::int64_t i0 = 0; i0 < px; i0 += 16)
                                        for (std::int64_t i = i0; i < std::min(px, i0 + 16); ++i)
                                            for (std::int64_t j = j0; j < std::min(py, j0 + 16); ++j)
                                                to[j + py * i] = from[i + px * j];
                            });
        for (std::int64_t e = total; e < total + Data::kSpare; ++e)
            data->valuesYFirst[static_cast<std::size_t>(e)] = 0;
    }
    m_data = std::move(data);
}

const Geometry& AttenuationVolume::geometry() const
{
    if (!m_data)
        throw Error(ErrorCode::InvalidArgument, "DRR: the attenuation volume is empty");
    return m_data->geometry;
}

double AttenuationVolume::relativeAttenuation(std::int64_t i, std::int64_t j, std::int64_t k) const
{
    if (!m_data)
        return 0.0;
    const Size3& size = m_data->geometry.size;
    if (i < 0 || j < 0 || k < 0 || i >= size[0] || j >= size[1] || k >= size[2])
        return 0.0;
    const std::int64_t index = (i + 1) + m_data->stride[1] * (j + 1) + m_data->stride[2] * (k + 1);
    return m_data->values[static_cast<std::size_t>(index)] / static_cast<double>(kValueScale);
}

double AttenuationVolume::occupiedBrickFraction() const
{
    return m_data ? m_data->occupiedFraction : 0.0;
}

namespace {

using Data = AttenuationVolume::Data;

/// One ray prepared for Joseph's method along the main axis a: it visits planes n0..n1 (padded
/// index along a), where its in-plane coordinates are b(n) = bAt0 + n·kb and c(n) = cAt0 + n·kc.
struct Lane
{
    std::int64_t n0 = 1;
    std::int64_t n1 = 0; ///< n1 < n0: nothing to integrate
    double bAt0 = 0.0;
    double cAt0 = 0.0;
    double kb = 0.0;
    double kc = 0.0;
    double stepMm = 0.0;   ///< mm between two successive planes along the ray
    bool prepared = false; ///< kb, kc, bAt0 and cAt0 are set (the ray is not parallel to the planes)
};

/// The two in-plane axes for main axis a; b is the contiguous x axis whenever a is not.
void inPlaneAxes(int a, int& b, int& c)
{
    b = a == 0 ? 1 : 0;
    c = a == 2 ? 1 : 2;
}

int mainAxis(const Vec3& directionIjk)
{
    const double ax = std::abs(directionIjk.x), ay = std::abs(directionIjk.y), az = std::abs(directionIjk.z);
    if (ax >= ay && ax >= az)
        return 0;
    return ay >= az ? 1 : 2;
}

/// Narrows [nLo, nHi] to where s_b + (n − s_a)·k stays within [lo, hi].
void clipAxis(double sA, double sB, double k, double lo, double hi, double& nLo, double& nHi)
{
    if (std::abs(k) < 1e-12) {
        if (sB < lo || sB > hi) {
            nLo = 1.0;
            nHi = 0.0;
        }
        return;
    }
    const double n1 = sA + (lo - sB) / k;
    const double n2 = sA + (hi - sB) / k;
    nLo = std::max(nLo, std::min(n1, n2));
    nHi = std::min(nHi, std::max(n1, n2));
}

bool brickEmpty(const Data& d, int a, int b, int c, std::int64_t n, double bf, double cf)
{
    std::int64_t p[3];
    p[a] = n;
    p[b] = static_cast<std::int64_t>(std::floor(bf));
    p[c] = static_cast<std::int64_t>(std::floor(cf));
    std::int64_t q[3];
    for (int axis = 0; axis < 3; ++axis)
        q[axis] = std::clamp<std::int64_t>(p[axis] / Data::kBrick, 0, d.bricks[axis] - 1);
    return d.dilatedOccupied[static_cast<std::size_t>(d.brickIndex(q[0], q[1], q[2]))] == 0;
}

/// Prepares the ray from `sourceIjk` to `endIjk` (padded indices) along main axis a.
/// With `trimAir` the ends of the range that cross only empty bricks are cut off.
Lane prepareLane(const Data& d, int a, const Vec3& sourceIjk, const Vec3& endIjk, double lengthMm,
                 bool trimAir)
{
    Lane lane;
    const Vec3 delta = endIjk - sourceIjk;
    if (!d.anyOccupied || std::abs(delta[a]) < 1e-9)
        return lane;
    int b = 0, c = 0;
    inPlaneAxes(a, b, c);
    lane.kb = delta[b] / delta[a];
    lane.kc = delta[c] / delta[a];
    lane.bAt0 = sourceIjk[b] - sourceIjk[a] * lane.kb;
    lane.cAt0 = sourceIjk[c] - sourceIjk[a] * lane.kc;
    lane.stepMm = lengthMm / std::abs(delta[a]);
    lane.prepared = true;
    double nLo = static_cast<double>(d.occupiedMin[a]);
    double nHi = static_cast<double>(d.occupiedMax[a]);
    nLo = std::max(nLo, std::min(sourceIjk[a], endIjk[a]));
    nHi = std::min(nHi, std::max(sourceIjk[a], endIjk[a]));
    // Bilinear samples reach one voxel beyond a non-zero voxel; the last thousandth of a voxel
    // (weight below 0.001 on the outermost voxel) is left out so that every read stays inside the
    // padded grid.
    clipAxis(sourceIjk[a], sourceIjk[b], lane.kb, static_cast<double>(d.occupiedMin[b]) - 0.999,
             static_cast<double>(d.occupiedMax[b]) + 0.999, nLo, nHi);
    clipAxis(sourceIjk[a], sourceIjk[c], lane.kc, static_cast<double>(d.occupiedMin[c]) - 0.999,
             static_cast<double>(d.occupiedMax[c]) + 0.999, nLo, nHi);
    if (!(nHi >= nLo))
        return lane;
    std::int64_t n0 = static_cast<std::int64_t>(std::ceil(nLo));
    std::int64_t n1 = static_cast<std::int64_t>(std::floor(nHi));
    if (trimAir) {
        // Skip air at both ends: within `skip` planes the ray stays within kSafeVoxels of the
        // checked point, whose whole neighbourhood is empty when its brick is unmarked.
        const double slope = std::max({1.0, std::abs(lane.kb), std::abs(lane.kc)});
        const std::int64_t skip =
            std::max<std::int64_t>(1, static_cast<std::int64_t>(Data::kSafeVoxels / slope));
        while (n0 <= n1 && brickEmpty(d, a, b, c, n0, lane.bAt0 + n0 * lane.kb, lane.cAt0 + n0 * lane.kc))
            n0 += skip;
        while (n1 >= n0 && brickEmpty(d, a, b, c, n1, lane.bAt0 + n1 * lane.kb, lane.cAt0 + n1 * lane.kc))
            n1 -= skip;
    }
    lane.n0 = n0;
    lane.n1 = n1;
    return lane;
}

/// Scalar Joseph integral of one prepared lane, in mm.
double integrateLane(const Data& d, int a, const Lane& lane)
{
    if (lane.n1 < lane.n0)
        return 0.0;
    int b = 0, c = 0;
    inPlaneAxes(a, b, c);
    const float bMax = static_cast<float>(d.padded[b] - 1) - 1e-3f;
    const float cMax = static_cast<float>(d.padded[c] - 1) - 1e-3f;
    const Layout layout = layoutFor(d, a);
    const std::int64_t sb = layout.strideB, sc = layout.strideC, sa = layout.strideA;
    const float b0 = static_cast<float>(lane.bAt0 + lane.n0 * lane.kb);
    const float c0 = static_cast<float>(lane.cAt0 + lane.n0 * lane.kc);
    const float kb = static_cast<float>(lane.kb), kc = static_cast<float>(lane.kc);
    const std::uint16_t* values = layout.base;
    float sum = 0.0f;
    float t = 0.0f;
    for (std::int64_t n = lane.n0; n <= lane.n1; ++n, t += 1.0f) {
        const float bf = std::clamp(std::fma(t, kb, b0), 0.0f, bMax);
        const float cf = std::clamp(std::fma(t, kc, c0), 0.0f, cMax);
        const auto bi = static_cast<std::int64_t>(bf);
        const auto ci = static_cast<std::int64_t>(cf);
        const float fb = bf - static_cast<float>(bi);
        const float fc = cf - static_cast<float>(ci);
        const std::uint16_t* p = values + n * sa + bi * sb + ci * sc;
        const float v00 = p[0], v10 = p[sb], v01 = p[sc], v11 = p[sb + sc];
        const float top = v00 + fb * (v10 - v00);
        const float bottom = v01 + fb * (v11 - v01);
        sum += top + fc * (bottom - top);
    }
    return static_cast<double>(sum) * lane.stepMm / kValueScale;
}

#ifdef NP_DRR_HAVE_AVX2_KERNEL
/// Cuts the group's plane range [nStart, nEnd] where every lane crosses only empty bricks. Lane 0
/// is checked; the others stay within `span` voxels of it, so each step may cover the planes
/// within kSafeVoxels − span.
void trimGroup(const Data& d, int a, const Lane* lanes, int count, std::int64_t& nStart, std::int64_t& nEnd)
{
    if (!lanes[0].prepared)
        return;
    int b = 0, c = 0;
    inPlaneAxes(a, b, c);
    double span = 0.0, slope = 1.0;
    for (int l = 0; l < count; ++l) {
        if (!lanes[l].prepared)
            return;
        for (const std::int64_t n : {nStart, nEnd}) {
            span =
                std::max(span, std::abs((lanes[l].bAt0 - lanes[0].bAt0) + n * (lanes[l].kb - lanes[0].kb)));
            span =
                std::max(span, std::abs((lanes[l].cAt0 - lanes[0].cAt0) + n * (lanes[l].kc - lanes[0].kc)));
        }
        slope = std::max({slope, std::abs(lanes[l].kb), std::abs(lanes[l].kc)});
    }
    const auto skip = static_cast<std::int64_t>((Data::kSafeVoxels - span) / slope);
    if (skip < 1)
        return;
    const Lane& lane = lanes[0];
    while (nStart <= nEnd &&
           brickEmpty(d, a, b, c, nStart, lane.bAt0 + nStart * lane.kb, lane.cAt0 + nStart * lane.kc))
        nStart += skip;
    while (nEnd >= nStart &&
           brickEmpty(d, a, b, c, nEnd, lane.bAt0 + nEnd * lane.kb, lane.cAt0 + nEnd * lane.kc))
        nEnd -= skip;
}

#define NP_DRR_AVX2 __attribute__((target("avx2,fma")))

/// The voxel pairs (offset, offset + 1) at offsets 0..15 from `row` that the lanes ask for, as
/// the masked gathers would read them (low 16 bits: offset): 16 voxels from `row` hold the pairs of
/// even offsets, 16 from `row` + 1 those of odd ones; `pairIndex` is offset / 2 and `odd` has the
/// sign bit set where the offset is odd.
NP_DRR_AVX2 inline __m256i pairsFromWindows(const std::uint16_t* row, __m256i pairIndex, __m256 odd)
{
    const __m256i even =
        _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)), pairIndex);
    const __m256i shifted =
        _mm256_permutevar8x32_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 1)), pairIndex);
    return _mm256_castps_si256(
        _mm256_blendv_ps(_mm256_castsi256_ps(even), _mm256_castsi256_ps(shifted), odd));
}

/// True when every lane's position at every plane from nStart to nEnd lies where both bilinear
/// neighbours along b and c are inside the padded grid, so that the lanes may read there whether
/// they are active or not. Positions are linear in the plane, so the two ends decide (with a
/// margin for rounding).
NP_DRR_AVX2 bool lanesStayInGrid(const Data& d, int a, const float* b0, const float* c0, const float* kb,
                                 const float* kc, std::int64_t planes)
{
    int b = 0, c = 0;
    inPlaneAxes(a, b, c);
    const float bMax = static_cast<float>(d.padded[b] - 1) - 0.01f;
    const float cMax = static_cast<float>(d.padded[c] - 1) - 0.01f;
    const float last = static_cast<float>(planes - 1);
    for (int l = 0; l < kLanes; ++l) {
        const float bEnd = std::fma(last, kb[l], b0[l]);
        const float cEnd = std::fma(last, kc[l], c0[l]);
        if (!(std::min(b0[l], bEnd) >= 0.01f && std::max(b0[l], bEnd) <= bMax &&
              std::min(c0[l], cEnd) >= 0.01f && std::max(c0[l], cEnd) <= cMax))
            return false;
    }
    return true;
}

/// Up to 8 lanes sharing main axis a, prepared for the AVX2 kernel: positions are linear in the
/// plane index, b = b0 + (n − nStart)·kb (c alike), and lane l adds planes first..last (relative to
/// nStart). Integrated in runs of planes (advanceGroup), so that the groups of a tile can take turns
/// on the same planes while those are in cache; the sums do not depend on how the range is cut.
struct alignas(32) LaneGroup
{
    float b0[kLanes], c0[kLanes], kb[kLanes], kc[kLanes];
    std::int32_t first[kLanes], last[kLanes];
    float sum[kLanes];
    double stepMm[kLanes];
    std::int64_t nStart = 1;
    std::int64_t nEnd = 0; ///< nEnd < nStart: nothing to integrate
    int a = 0;
    int count = 0;
    bool windowed = false;  ///< samples may come from row windows (see advanceGroup)
    bool allActive = false; ///< every lane adds every plane from nStart to nEnd
    /// The lanes with the smallest b and c (rays from one source keep their order along a row).
    std::int32_t lowestB = 0, lowestC = 0;
    float* out = nullptr;
};

/// Prepares `count` lanes (up to 8) of main axis a whose sums go to out[0..count).
NP_DRR_AVX2 void prepareGroup(const Data& d, int a, const Lane* lanes, int count, float* out, LaneGroup& g)
{
    g.a = a;
    g.count = count;
    g.out = out;
    std::int64_t nStart = LLONG_MAX, nEnd = LLONG_MIN;
    for (int l = 0; l < count; ++l)
        if (lanes[l].n1 >= lanes[l].n0) {
            nStart = std::min(nStart, lanes[l].n0);
            nEnd = std::max(nEnd, lanes[l].n1);
        }
    if (nStart <= nEnd)
        trimGroup(d, a, lanes, count, nStart, nEnd);
    _mm256_store_ps(g.sum, _mm256_setzero_ps());
    for (int l = 0; l < kLanes; ++l)
        g.stepMm[l] = l < count ? lanes[l].stepMm : 0.0;
    if (nStart > nEnd) {
        g.nStart = 1;
        g.nEnd = 0;
        return;
    }
    g.nStart = nStart;
    g.nEnd = nEnd;
    bool allPrepared = count == kLanes;
    for (int l = 0; l < kLanes; ++l) {
        // A prepared lane has a position on every plane even when it integrates nothing.
        const bool prepared = l < count && lanes[l].prepared;
        const bool used = prepared && lanes[l].n1 >= lanes[l].n0;
        allPrepared = allPrepared && prepared;
        g.b0[l] = prepared ? static_cast<float>(lanes[l].bAt0 + nStart * lanes[l].kb) : 0.0f;
        g.c0[l] = prepared ? static_cast<float>(lanes[l].cAt0 + nStart * lanes[l].kc) : 0.0f;
        g.kb[l] = prepared ? static_cast<float>(lanes[l].kb) : 0.0f;
        g.kc[l] = prepared ? static_cast<float>(lanes[l].kc) : 0.0f;
        g.first[l] = used ? static_cast<std::int32_t>(std::max<std::int64_t>(-1, lanes[l].n0 - nStart)) : 1;
        g.last[l] =
            used ? static_cast<std::int32_t>(std::min<std::int64_t>(nEnd - nStart + 1, lanes[l].n1 - nStart))
                 : 0;
    }
    g.windowed = layoutFor(d, a).strideB == 1 && allPrepared &&
                 lanesStayInGrid(d, a, g.b0, g.c0, g.kb, g.kc, nEnd - nStart + 1);
    g.allActive = count == kLanes;
    for (int l = 0; l < count; ++l)
        g.allActive = g.allActive && g.first[l] <= 0 && g.last[l] >= nEnd - nStart;
    // Compared halfway, away from rounding ties at an end; a wrong pick only costs speed.
    const float middle = 0.5f * static_cast<float>(nEnd - nStart);
    g.lowestB = std::fma(middle, g.kb[0], g.b0[0]) <= std::fma(middle, g.kb[kLanes - 1], g.b0[kLanes - 1])
                    ? 0
                    : kLanes - 1;
    g.lowestC = std::fma(middle, g.kc[0], g.c0[0]) <= std::fma(middle, g.kc[kLanes - 1], g.c0[kLanes - 1])
                    ? 0
                    : kLanes - 1;
}

/// Adds the group's samples on planes nBegin..nLast (within its range), 8 rays per AVX2
/// instruction. Every active lane's position lies inside the padded grid (prepareLane's clipping);
/// inactive lanes add nothing. Samples come from one of two sources, with the same sums either way:
///  - windows: when the in-plane axis b is contiguous and all eight lanes stay inside the grid over
///    the group's planes, each plane's voxels for the group are read as 16-voxel row windows
///    (ordinary loads and in-register permutes) as long as the lanes' b indices lie within 16 voxels
///    of each other and their c indices within two neighbouring rows;
///  - masked gathers otherwise (one per voxel pair or voxel).
template <bool kAllActive>
NP_DRR_AVX2 void advanceGroupPlanes(const Data& d, LaneGroup& g, std::int64_t nBegin, std::int64_t nLast)
{
    const Layout layout = layoutFor(d, g.a);
    const bool contiguousB = layout.strideB == 1;
    const bool windowed = g.windowed;
    const __m256 vb0 = _mm256_load_ps(g.b0), vc0 = _mm256_load_ps(g.c0);
    const __m256 vkb = _mm256_load_ps(g.kb), vkc = _mm256_load_ps(g.kc);
    const __m256i vFirst =
        _mm256_sub_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(g.first)), _mm256_set1_epi32(1));
    const __m256i vLast =
        _mm256_add_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(g.last)), _mm256_set1_epi32(1));
    const __m256i zeroI = _mm256_setzero_si256();
    const __m256i strideB = _mm256_set1_epi32(static_cast<std::int32_t>(layout.strideB));
    const __m256i strideC = _mm256_set1_epi32(static_cast<std::int32_t>(layout.strideC));
    const __m256i strideBC = _mm256_add_epi32(strideB, strideC);
    const __m256i low16 = _mm256_set1_epi32(0xFFFF);
    const __m256i windowLast = _mm256_set1_epi32(15);
    const __m256i lowestB = _mm256_set1_epi32(g.lowestB), lowestC = _mm256_set1_epi32(g.lowestC);
    const __m256i allLanes = _mm256_set1_epi32(-1);
    const std::uint16_t* values = layout.base;
    const std::int64_t sa = layout.strideA;
    const std::int64_t sc = layout.strideC;
    // t and step count planes from nStart: exact in float, so the positions do not depend on nFrom.
    const auto step0 = static_cast<std::int32_t>(nBegin - g.nStart);
    float tScalar = static_cast<float>(step0);
    __m256 sum = _mm256_load_ps(g.sum);
    __m256 t = _mm256_set1_ps(tScalar);
    __m256i step = _mm256_set1_epi32(step0);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256i oneI = _mm256_set1_epi32(1);
    // Gathers do not train the hardware prefetchers: fetch the rows lane 0 and the last lane will
    // read kPrefetch planes ahead (the lanes in between read the same or neighbouring lines).
    // Window loads are ordinary loads, which the prefetchers follow better than these hints.
    constexpr int kPrefetch = 6;
    const int lastLane = g.count - 1;
    const float pb0 = g.b0[0] + kPrefetch * g.kb[0], pc0 = g.c0[0] + kPrefetch * g.kc[0];
    const float pb1 = g.b0[lastLane] + kPrefetch * g.kb[lastLane];
    const float pc1 = g.c0[lastLane] + kPrefetch * g.kc[lastLane];
    const std::int64_t prefetchEnd = windowed ? nBegin - 1 : g.nEnd - kPrefetch;
    for (std::int64_t n = nBegin; n <= nLast; ++n, tScalar += 1.0f) {
        const std::uint16_t* planeValues = values + n * sa;
        const int* plane = reinterpret_cast<const int*>(planeValues);
        if (n <= prefetchEnd) {
            const std::uint16_t* ahead = values + (n + kPrefetch) * sa;
            const auto bA = static_cast<std::int64_t>(std::max(0.0f, pb0 + tScalar * g.kb[0]));
            const auto cA = static_cast<std::int64_t>(std::max(0.0f, pc0 + tScalar * g.kc[0]));
            const auto bB = static_cast<std::int64_t>(std::max(0.0f, pb1 + tScalar * g.kb[lastLane]));
            const auto cB = static_cast<std::int64_t>(std::max(0.0f, pc1 + tScalar * g.kc[lastLane]));
            const std::uint16_t* p0 = ahead + bA * layout.strideB + cA * layout.strideC;
            const std::uint16_t* p1 = ahead + bB * layout.strideB + cB * layout.strideC;
            _mm_prefetch(reinterpret_cast<const char*>(p0), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(p0 + layout.strideC), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(p1), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(p1 + layout.strideC), _MM_HINT_T0);
        }
        const __m256i active =
            kAllActive ? allLanes
                       : _mm256_and_si256(_mm256_cmpgt_epi32(step, vFirst), _mm256_cmpgt_epi32(vLast, step));
        const __m256 bf = _mm256_fmadd_ps(t, vkb, vb0);
        const __m256 cf = _mm256_fmadd_ps(t, vkc, vc0);
        const __m256i bi = _mm256_cvttps_epi32(bf);
        const __m256i ci = _mm256_cvttps_epi32(cf);
        const __m256 fb = _mm256_sub_ps(bf, _mm256_cvtepi32_ps(bi));
        const __m256 fc = _mm256_sub_ps(cf, _mm256_cvtepi32_ps(ci));
        __m256 v00, v10, v01, v11;
        bool fromWindows = false;
        if (windowed) {
            // Offsets from the lowest lane's voxel: 0..15 along b and 0..1 along c use windows; a
            // wider spread or a rounding tie (a negative offset) uses the gathers.
            const __m256i bBase = _mm256_permutevar8x32_epi32(bi, lowestB);
            const __m256i cBase = _mm256_permutevar8x32_epi32(ci, lowestC);
            const __m256i offset = _mm256_sub_epi32(bi, bBase);
            const __m256i nextRow = _mm256_sub_epi32(ci, cBase);
            const __m256i outside = _mm256_or_si256(
                _mm256_or_si256(_mm256_cmpgt_epi32(offset, windowLast), _mm256_cmpgt_epi32(nextRow, oneI)),
                _mm256_or_si256(offset, nextRow));
            if (_mm256_movemask_ps(_mm256_castsi256_ps(outside)) == 0) {
                fromWindows = true;
                const __m256i pairIndex = _mm256_srli_epi32(offset, 1);
                const __m256 odd = _mm256_castsi256_ps(_mm256_slli_epi32(offset, 31));
                const std::uint16_t* row0 = planeValues +
                                            _mm_cvtsi128_si32(_mm256_castsi256_si128(cBase)) * sc +
                                            _mm_cvtsi128_si32(_mm256_castsi256_si128(bBase));
                __m256i g0 = pairsFromWindows(row0, pairIndex, odd);
                __m256i g1 = pairsFromWindows(row0 + sc, pairIndex, odd);
                const __m256i shifted = _mm256_cmpgt_epi32(nextRow, zeroI);
                if (!_mm256_testz_si256(shifted, shifted)) {
                    // Some lanes are one row further along c: their rows are the next two.
                    g0 = _mm256_blendv_epi8(g0, g1, shifted);
                    g1 = _mm256_blendv_epi8(g1, pairsFromWindows(row0 + 2 * sc, pairIndex, odd), shifted);
                }
                v00 = _mm256_cvtepi32_ps(_mm256_and_si256(g0, low16));
                v10 = _mm256_cvtepi32_ps(_mm256_srli_epi32(g0, 16));
                v01 = _mm256_cvtepi32_ps(_mm256_and_si256(g1, low16));
                v11 = _mm256_cvtepi32_ps(_mm256_srli_epi32(g1, 16));
            }
        }
        if (!fromWindows && contiguousB) {
            const __m256i index = _mm256_add_epi32(bi, _mm256_mullo_epi32(ci, strideC));
            const __m256i g0 = _mm256_mask_i32gather_epi32(zeroI, plane, index, active, 2);
            const __m256i g1 =
                _mm256_mask_i32gather_epi32(zeroI, plane, _mm256_add_epi32(index, strideC), active, 2);
            v00 = _mm256_cvtepi32_ps(_mm256_and_si256(g0, low16));
            v10 = _mm256_cvtepi32_ps(_mm256_srli_epi32(g0, 16));
            v01 = _mm256_cvtepi32_ps(_mm256_and_si256(g1, low16));
            v11 = _mm256_cvtepi32_ps(_mm256_srli_epi32(g1, 16));
        } else if (!fromWindows) {
            const __m256i index =
                _mm256_add_epi32(_mm256_mullo_epi32(bi, strideB), _mm256_mullo_epi32(ci, strideC));
#define NP_DRR_GATHER(offset)                                                                                \
    _mm256_cvtepi32_ps(_mm256_and_si256(                                                                     \
        _mm256_mask_i32gather_epi32(zeroI, plane, _mm256_add_epi32(index, offset), active, 2), low16))
            v00 = NP_DRR_GATHER(zeroI);
            v10 = NP_DRR_GATHER(strideB);
            v01 = NP_DRR_GATHER(strideC);
            v11 = NP_DRR_GATHER(strideBC);
#undef NP_DRR_GATHER
        }
        const __m256 top = _mm256_fmadd_ps(fb, _mm256_sub_ps(v10, v00), v00);
        const __m256 bottom = _mm256_fmadd_ps(fb, _mm256_sub_ps(v11, v01), v01);
        // Inactive lanes add exactly zero (masked gathers read zeros; window reads are masked here).
        const __m256 sample = _mm256_fmadd_ps(fc, _mm256_sub_ps(bottom, top), top);
        sum = _mm256_add_ps(sum, kAllActive ? sample : _mm256_and_ps(sample, _mm256_castsi256_ps(active)));
        t = _mm256_add_ps(t, one);
        if (!kAllActive)
            step = _mm256_add_epi32(step, oneI);
    }
    _mm256_store_ps(g.sum, sum);
}

/// Adds the group's samples on planes nFrom..nTo (clipped to its range): see advanceGroupPlanes.
NP_DRR_AVX2 void advanceGroup(const Data& d, LaneGroup& g, std::int64_t nFrom, std::int64_t nTo)
{
    const std::int64_t nBegin = std::max(nFrom, g.nStart);
    const std::int64_t nLast = std::min(nTo, g.nEnd);
    if (nBegin > nLast)
        return;
    if (g.allActive)
        advanceGroupPlanes<true>(d, g, nBegin, nLast);
    else
        advanceGroupPlanes<false>(d, g, nBegin, nLast);
}

/// Writes the group's path lengths (mm).
void finishGroup(const LaneGroup& g)
{
    for (int l = 0; l < g.count; ++l)
        g.out[l] = g.nEnd >= g.nStart
                       ? static_cast<float>(static_cast<double>(g.sum[l]) * g.stepMm[l] / kValueScale)
                       : 0.0f;
}

bool cpuHasAvx2()
{
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}
#endif

/// Per-frame constants: the source and the detector as affine functions of (column, row).
struct FrameSetup
{
    Vec3 sourceLps;
    Vec3 sourceIjk;
    Vec3 pixel00Lps;
    Vec3 columnStepLps;
    Vec3 rowStepLps;
};

} // namespace

DrrImage renderDrr(const AttenuationVolume& volume, const CArmGeometry& view, const DrrOptions& options,
                   ProgressSink* progress)
{
    return renderDrr(volume, view, RigidTransform{}, options, progress);
}

DrrImage renderDrr(const AttenuationVolume& volume, const CArmGeometry& view,
                   const RigidTransform& viewFromCt, const DrrOptions& options, ProgressSink* progress)
{
    if (volume.empty())
        throw Error(ErrorCode::InvalidArgument, "DRR: the attenuation volume is empty");
    const Data& d = volume.data();
    const CArmParameters& p = view.parameters();
    DrrImage image;
    image.columns = p.columns;
    image.rows = p.rows;
    image.pathLengthMm.assign(static_cast<std::size_t>(p.columns) * static_cast<std::size_t>(p.rows), 0.0f);

    // The view moved into the CT's frame: ctFromView applied to the source and the detector.
    const RigidTransform ctFromView = viewFromCt.inverse();
    FrameSetup frame;
    frame.sourceLps = ctFromView.apply(view.sourceLps());
    frame.sourceIjk = d.paddedIjkFromLps(frame.sourceLps);
    frame.pixel00Lps = ctFromView.apply(view.detectorPointLps({options.firstColumn, options.firstRow}));
    frame.columnStepLps = ctFromView.applyToDirection(view.columnDirectionLps()) * p.columnSpacingMm;
    frame.rowStepLps = ctFromView.applyToDirection(view.rowDirectionLps()) * p.rowSpacingMm;

    const std::int64_t paddedTotal = d.stride[2] * d.padded[2];
#ifdef NP_DRR_HAVE_AVX2_KERNEL
    const bool simd = options.allowSimd && cpuHasAvx2() && paddedTotal < (std::int64_t{1} << 30);
#else
    (void)paddedTotal;
    const bool simd = false;
#endif
    const int tilesX = (p.columns + kTileColumns - 1) / kTileColumns;
    const int tilesY = (p.rows + kTileRows - 1) / kTileRows;
    const int tileCount = tilesX * tilesY;
    std::atomic<int> nextTile{0};
    std::atomic<bool> stop{false};
    std::exception_ptr failure;
    std::mutex failureMutex;

    auto work = [&] {
        Lane lanes[kLanes];
#ifdef NP_DRR_HAVE_AVX2_KERNEL
        LaneGroup groups[kTileRows * ((kTileColumns + kLanes - 1) / kLanes)];
#endif
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed))
                    return;
                const int tile = nextTile.fetch_add(1);
                if (tile >= tileCount)
                    return;
                if (progress && progress->cancelRequested()) {
                    stop = true;
                    return;
                }
                const int tx = tile % tilesX, ty = tile / tilesX;
                const int columnEnd = std::min(p.columns, (tx + 1) * kTileColumns);
                const int rowEnd = std::min(p.rows, (ty + 1) * kTileRows);
                int groupCount = 0;
                for (int row = ty * kTileRows; row < rowEnd; ++row) {
                    for (int column0 = tx * kTileColumns; column0 < columnEnd; column0 += kLanes) {
                        const int count = std::min(kLanes, columnEnd - column0);
                        Vec3 endIjk[kLanes];
                        double lengthMm[kLanes];
                        int axes[kLanes];
                        for (int l = 0; l < count; ++l) {
                            const Vec3 endLps = frame.pixel00Lps + frame.columnStepLps * (column0 + l) +
                                                frame.rowStepLps * row;
                            endIjk[l] = d.paddedIjkFromLps(endLps);
                            lengthMm[l] = distance(endLps, frame.sourceLps);
                            axes[l] = mainAxis(endIjk[l] - frame.sourceIjk);
                        }
                        const bool sameAxis =
                            std::all_of(axes, axes + count, [&](int axis) { return axis == axes[0]; });
                        float* out =
                            image.pathLengthMm.data() + static_cast<std::size_t>(row) * p.columns + column0;
                        if (simd && sameAxis) {
#ifdef NP_DRR_HAVE_AVX2_KERNEL
                            for (int l = 0; l < count; ++l)
                                lanes[l] =
                                    prepareLane(d, axes[0], frame.sourceIjk, endIjk[l], lengthMm[l], false);
                            prepareGroup(d, axes[0], lanes, count, out, groups[groupCount++]);
#endif
                        } else {
                            for (int l = 0; l < count; ++l)
                                out[l] = static_cast<float>(integrateLane(
                                    d, axes[l],
                                    prepareLane(d, axes[l], frame.sourceIjk, endIjk[l], lengthMm[l], true)));
                        }
                    }
                }
#ifdef NP_DRR_HAVE_AVX2_KERNEL
                // The tile's groups take turns on runs of planes: neighbouring rays read the same
                // voxel rows, which the first group brings into the first-level cache for the others.
                std::int64_t nLo = LLONG_MAX, nHi = LLONG_MIN;
                for (int g = 0; g < groupCount; ++g)
                    if (groups[g].nEnd >= groups[g].nStart) {
                        nLo = std::min(nLo, groups[g].nStart);
                        nHi = std::max(nHi, groups[g].nEnd);
                    }
                for (std::int64_t n = nLo; n <= nHi; n += kPlaneRun)
                    for (int g = 0; g < groupCount; ++g)
                        advanceGroup(d, groups[g], n, n + kPlaneRun - 1);
                for (int g = 0; g < groupCount; ++g)
                    finishGroup(groups[g]);
#endif
            }
        } catch (...) {
            std::lock_guard<std::mutex> lock(failureMutex);
            if (!failure)
                failure = std::current_exception();
            stop = true;
        }
    };
    const int workers = std::max(1, std::min(threadCount(options.threads), tileCount));
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(workers - 1));
    for (int w = 0; w + 1 < workers; ++w)
        pool.emplace_back(work);
    work();
    for (auto& thread : pool)
        thread.join();
    if (failure)
        std::rethrow_exception(failure);
    throwIfCancelled(progress);
    reportProgress(progress, 1.0, "DRR");
    return image;
}

double waterEquivalentPathLengthMm(const AttenuationVolume& volume, const Vec3& sourceLps, const Vec3& endLps)
{
    if (volume.empty())
        throw Error(ErrorCode::InvalidArgument, "DRR: the attenuation volume is empty");
    const Data& d = volume.data();
    const Vec3 sourceIjk = d.paddedIjkFromLps(sourceLps);
    const Vec3 endIjk = d.paddedIjkFromLps(endLps);
    const int axis = mainAxis(endIjk - sourceIjk);
    return integrateLane(d, axis, prepareLane(d, axis, sourceIjk, endIjk, distance(sourceLps, endLps), true));
}

std::vector<std::uint8_t> drrDisplayImage(const DrrImage& drr, const DrrDisplayOptions& options)
{
    std::vector<std::uint8_t> display(drr.pathLengthMm.size(), 0);
    std::vector<float> patient;
    patient.reserve(drr.pathLengthMm.size());
    for (const float length : drr.pathLengthMm)
        if (length > 1.0f)
            patient.push_back(length);
    double reference = 0.0;
    if (!patient.empty()) {
        auto middle = patient.begin() + static_cast<std::ptrdiff_t>(patient.size() / 2);
        std::nth_element(patient.begin(), middle, patient.end());
        reference = *middle;
    }
    const double mu = options.waterAttenuationPerMm > 0.0 ? options.waterAttenuationPerMm : 0.02;
    for (std::size_t n = 0; n < display.size(); ++n) {
        const double relative = std::exp(std::clamp(-mu * (drr.pathLengthMm[n] - reference), -50.0, 50.0));
        double level = relative / (1.0 + relative);
        if (options.invert)
            level = 1.0 - level;
        display[n] = static_cast<std::uint8_t>(std::clamp(std::lround(255.0 * level), 0L, 255L));
    }
    return display;
}

} // namespace np::imaging
