#include "MaskOperations.h"

namespace np::imaging::segmentation {

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

void fillHoles3d(Mask& mask, const Size3& size, int threads)
{
    fillEnclosedBackground(mask, size, -1, threads);
}

} // namespace np::imaging::segmentation
