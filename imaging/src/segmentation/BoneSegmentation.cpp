#include "SegmentationSteps.h"

#include <mutex>

namespace np::imaging::segmentation {

namespace {

/// Hole pixels of one slice, 4-connected, as separate regions.
struct HoleStatistics
{
    std::vector<std::int64_t> pixels;
    double sumHu = 0.0;         ///< over every pixel
    double interiorSumHu = 0.0; ///< over pixels whose 4 neighbours are all in the hole
    std::int64_t interiorCount = 0;
    double sumI = 0.0, sumJ = 0.0;
};

/// Flood-fills the hole of slice `hole` (0/1, nx * ny) from `seed`, clearing it as it goes.
HoleStatistics collectHole(std::uint8_t* hole, const std::uint8_t* original, const float* hu, std::int64_t nx,
                           std::int64_t ny, std::int64_t seed, std::vector<std::int64_t>& stack)
{
    HoleStatistics h;
    stack.clear();
    stack.push_back(seed);
    hole[seed] = 0;
    while (!stack.empty()) {
        const std::int64_t p = stack.back();
        stack.pop_back();
        h.pixels.push_back(p);
        const std::int64_t i = p % nx, j = p / nx;
        h.sumHu += hu[p];
        h.sumI += double(i);
        h.sumJ += double(j);
        bool interior = true;
        const std::int64_t neighbours[4] = {i > 0 ? p - 1 : -1, i + 1 < nx ? p + 1 : -1, j > 0 ? p - nx : -1,
                                            j + 1 < ny ? p + nx : -1};
        for (const std::int64_t q : neighbours) {
            if (q < 0 || !original[q]) {
                interior = false;
                continue;
            }
            if (hole[q]) {
                hole[q] = 0;
                stack.push_back(q);
            }
        }
        if (interior) {
            h.interiorSumHu += hu[p];
            ++h.interiorCount;
        }
    }
    return h;
}

/// Fraction of the samples `fromMm`..`toMm` past the edge of hole `h` (marching from its centre
/// along the in-plane direction (dirI, dirJ), in voxels per step of `mmPerStep` mm) that lie in
/// `filled` (bone with its holes filled).
double filledBeyond(const std::uint8_t* filled, const std::uint8_t* holes, const HoleStatistics& h,
                    double dirI, double dirJ, std::int64_t nx, std::int64_t ny, double mmPerStep,
                    double fromMm, double toMm)
{
    const double area = double(h.pixels.size());
    double i = h.sumI / area, j = h.sumJ / area;
    auto at = [&](double si, double sj, const std::uint8_t* mask) {
        const std::int64_t a = std::llround(si), b = std::llround(sj);
        return a >= 0 && b >= 0 && a < nx && b < ny && mask[a + nx * b] != 0;
    };
    // March out of the hole.
    int guard = 0;
    while (at(i, j, holes) && guard++ < 100000) {
        i += dirI;
        j += dirJ;
    }
    int inside = 0, total = 0;
    for (double mm = 0.0; mm <= toMm; mm += mmPerStep, i += dirI, j += dirJ) {
        if (mm < fromMm)
            continue;
        ++total;
        inside += at(i, j, filled);
    }
    return total > 0 ? double(inside) / double(total) : 0.0;
}

} // namespace

void completeBone(const Volume& ct, const Mask& body, Mask& bone, const SegmentationOptions& options,
                  std::vector<EnclosedHole>& lowDensityHoles)
{
    const Geometry& g = ct.geometry();
    const int threads = options.threads;
    const std::int64_t nx = g.size[0], ny = g.size[1], sliceVoxels = nx * ny;
    const float* hu = ct.data();

    // Partial volume: voxels touching bone in their slice (8-neighbourhood) that read at least
    // the edge threshold.
    Mask grown;
    boxFilterSlices<false>(bone, grown, g.size, 1, 1, threads);
    parallelChunks(static_cast<std::int64_t>(bone.size()), threads,
                   [&](std::int64_t first, std::int64_t last) {
                       for (std::int64_t v = first; v < last; ++v)
                           if (grown[static_cast<std::size_t>(v)] && body[static_cast<std::size_t>(v)] &&
                               hu[v] >= options.boneEdgeHu)
                               bone[static_cast<std::size_t>(v)] = 1;
                   });

    // A one-voxel closing seals cracks in a thin cortex before the enclosed holes are looked for.
    Mask closed;
    boxFilterSlices<false>(bone, grown, g.size, 1, 1, threads);
    boxFilterSlices<true>(grown, closed, g.size, 1, 1, threads);
    // The gaps the closing bridges join the bone where they read at least the edge threshold.
    for (std::size_t v = 0; v < closed.size(); ++v) {
        closed[v] |= bone[v];
        if (closed[v] && !bone[v] && body[v] && hu[v] >= options.boneEdgeHu)
            bone[v] = 1;
    }
    const double pixelMm2 = g.spacing.x * g.spacing.y;
    Mask filled = closed;
    fillHolesPerSlice(filled, g.size,
                      static_cast<std::int64_t>(std::floor(options.marrowMaxHoleAreaMm2 / pixelMm2)),
                      threads);

    // The patient's anterior direction (LPS -y) within a slice, in voxels per mmPerStep mm.
    const double mmPerStep = 0.5;
    double anteriorI = 0.0, anteriorJ = 0.0;
    {
        const Vec3 origin = g.lpsFromIjk({0.0, 0.0, 0.0});
        const Vec3 step = g.ijkFromLps(origin + Vec3{0.0, -mmPerStep, 0.0});
        const double inPlaneMm = std::hypot(step.x * g.spacing.x, step.y * g.spacing.y);
        if (inPlaneMm > 1e-6) {
            anteriorI = step.x * mmPerStep / inPlaneMm;
            anteriorJ = step.y * mmPerStep / inPlaneMm;
        }
    }
    const auto smallHole = static_cast<std::int64_t>(std::floor(options.boneMaxHoleAreaMm2 / pixelMm2));
    const auto canalMin = static_cast<std::int64_t>(std::ceil(options.canalMinAreaMm2 / pixelMm2));
    const auto canalMax = static_cast<std::int64_t>(std::floor(options.canalMaxAreaMm2 / pixelMm2));
    std::mutex merge;
    parallelChunks(g.size[2], threads, [&](std::int64_t first, std::int64_t last) {
        Mask hole(static_cast<std::size_t>(sliceVoxels)), original(static_cast<std::size_t>(sliceVoxels));
        std::vector<std::int64_t> stack;
        std::vector<EnclosedHole> found;
        for (std::int64_t k = first; k < last; ++k) {
            const std::int64_t offset = k * sliceVoxels;
            bool any = false;
            for (std::int64_t p = 0; p < sliceVoxels; ++p) {
                const auto v = static_cast<std::size_t>(offset + p);
                hole[static_cast<std::size_t>(p)] = filled[v] & std::uint8_t(!closed[v]);
                any = any || hole[static_cast<std::size_t>(p)];
            }
            if (!any)
                continue;
            original = hole;
            for (std::int64_t p = 0; p < sliceVoxels; ++p) {
                if (!hole[static_cast<std::size_t>(p)])
                    continue;
                HoleStatistics h = collectHole(hole.data(), original.data(), hu + offset, nx, ny, p, stack);
                const auto area = static_cast<std::int64_t>(h.pixels.size());
                // Marrow is judged on the hole's interior, away from the partial volume of its wall.
                const double mean =
                    h.interiorCount > 0 ? h.interiorSumHu / double(h.interiorCount) : h.sumHu / double(area);
                // Fatty marrow can read below marrowMinMeanHu. The canal has the vertebral body in
                // front of it (3-20 mm past its edge) and the lamina right behind it (1-8 mm); a
                // marrow cavity has the canal, not bone, behind its thin posterior cortex.
                const std::uint8_t* filledSlice = filled.data() + offset;
                const bool canalLike = filledBeyond(filledSlice, original.data(), h, anteriorI, anteriorJ, nx,
                                                    ny, mmPerStep, 3.0, 20.0) >= 0.6 &&
                                       filledBeyond(filledSlice, original.data(), h, -anteriorI, -anteriorJ,
                                                    nx, ny, mmPerStep, 1.0, 8.0) >= 0.6;
                const bool fattyMarrow = !canalLike &&
                                         double(area) * pixelMm2 >= options.fattyMarrowMinAreaMm2 &&
                                         mean >= options.fattyMarrowMinMeanHu;
                if (area <= smallHole || mean >= options.marrowMinMeanHu || fattyMarrow) {
                    for (const std::int64_t q : h.pixels)
                        bone[static_cast<std::size_t>(offset + q)] = 1;
                } else if (area >= canalMin && area <= canalMax && canalLike) {
                    EnclosedHole e;
                    e.k = k;
                    e.centreI = h.sumI / double(area);
                    e.centreJ = h.sumJ / double(area);
                    e.pixels = std::move(h.pixels);
                    found.push_back(std::move(e));
                }
            }
        }
        const std::lock_guard<std::mutex> lock(merge);
        for (auto& e : found)
            lowDensityHoles.push_back(std::move(e));
    });
    std::sort(lowDensityHoles.begin(), lowDensityHoles.end(),
              [](const EnclosedHole& a, const EnclosedHole& b) {
                  return a.k != b.k ? a.k < b.k : a.pixels.front() < b.pixels.front();
              });
}

} // namespace np::imaging::segmentation
