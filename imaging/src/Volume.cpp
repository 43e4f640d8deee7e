#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <cmath>

#include "needleplan/imaging/Error.h"

namespace np::imaging {

namespace {
std::size_t checkedVoxelCount(const Geometry& geometry)
{
    for (int a = 0; a < 3; ++a)
        if (geometry.size[a] < 0)
            throw Error(ErrorCode::InvalidArgument, "image size must not be negative");
    return static_cast<std::size_t>(geometry.voxelCount());
}
} // namespace

Volume::Volume(const Geometry& geometry, float fillValue)
    : m_geometry(geometry), m_voxels(checkedVoxelCount(geometry), fillValue)
{
}

float Volume::sampleIjk(const Vec3& voxelIjk, float outside) const
{
    const auto& size = m_geometry.size;
    if (!m_geometry.containsIjk(voxelIjk))
        return outside;
    // Clamp into the last full cell so voxel centres on the far faces are still exact.
    double base[3];
    double frac[3];
    std::int64_t lower[3];
    for (int a = 0; a < 3; ++a) {
        const double c = std::min(std::max(voxelIjk[a], 0.0), static_cast<double>(size[a] - 1));
        base[a] = std::floor(c);
        lower[a] = std::min<std::int64_t>(static_cast<std::int64_t>(base[a]), std::max<std::int64_t>(size[a] - 2, 0));
        frac[a] = c - static_cast<double>(lower[a]);
    }
    double sum = 0.0;
    for (int dz = 0; dz < 2; ++dz)
        for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
                const double w = (dx ? frac[0] : 1.0 - frac[0]) * (dy ? frac[1] : 1.0 - frac[1]) *
                                 (dz ? frac[2] : 1.0 - frac[2]);
                if (w == 0.0)
                    continue;
                const std::int64_t i = std::min(lower[0] + dx, size[0] - 1);
                const std::int64_t j = std::min(lower[1] + dy, size[1] - 1);
                const std::int64_t k = std::min(lower[2] + dz, size[2] - 1);
                sum += w * static_cast<double>(at(i, j, k));
            }
    return static_cast<float>(sum);
}

LabelMap::LabelMap(const Geometry& geometry) : m_geometry(geometry), m_labels(checkedVoxelCount(geometry), 0)
{
}

const Segment* LabelMap::findSegment(const std::string& name) const
{
    for (const auto& segment : m_segments)
        if (segment.name == name)
            return &segment;
    return nullptr;
}

} // namespace np::imaging
