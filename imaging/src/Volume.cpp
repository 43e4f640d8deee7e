#include "needleplan/imaging/Volume.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

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

constexpr std::size_t hugePageBytes = std::size_t{2} << 20;
/// Blocks from this size on are mapped directly, aligned to huge pages.
constexpr std::size_t mappedFromBytes = std::size_t{4} << 20;

std::size_t mappedLength(std::size_t bytes)
{
    return (bytes + hugePageBytes - 1) / hugePageBytes * hugePageBytes;
}

/// Writes `value` into every element, split over the hardware threads for large buffers so that
/// the first touch of the pages (and the kernel's zeroing of them) is shared.
template <typename T>
void parallelFill(T* values, std::size_t count, T value)
{
    constexpr std::size_t minimumPerThread = std::size_t{4} << 20; // bytes
    const unsigned hardware = std::max(1u, std::min(std::thread::hardware_concurrency(), 16u));
    const std::size_t threads =
        std::max<std::size_t>(1, std::min<std::size_t>(hardware, count * sizeof(T) / minimumPerThread));
    if (threads <= 1) {
        std::fill(values, values + count, value);
        return;
    }
    const std::size_t chunk = (count + threads - 1) / threads;
    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    try {
        for (std::size_t t = 1; t < threads; ++t) {
            const std::size_t begin = std::min(count, t * chunk);
            const std::size_t end = std::min(count, begin + chunk);
            pool.emplace_back([=] { std::fill(values + begin, values + end, value); });
        }
    } catch (...) {
        // No thread could be started: the remaining chunks are filled below.
    }
    const std::size_t startedEnd = std::min(count, (pool.size() + 1) * chunk);
    std::fill(values, values + std::min(count, chunk), value);
    std::fill(values + startedEnd, values + count, value);
    for (auto& thread : pool)
        thread.join();
}
} // namespace

void* allocateVoxelStorage(std::size_t bytes)
{
    if (bytes < mappedFromBytes) {
        void* block = std::malloc(std::max<std::size_t>(bytes, 1));
        if (!block)
            throw std::bad_alloc();
        return block;
    }
    const std::size_t length = mappedLength(bytes);
    if (length < bytes || length + hugePageBytes < length)
        throw std::bad_alloc();
    // Over-map by one huge page, then unmap the unaligned head and the tail.
    void* mapped = ::mmap(nullptr, length + hugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
        throw std::bad_alloc();
    const auto address = reinterpret_cast<std::uintptr_t>(mapped);
    const std::uintptr_t aligned = (address + hugePageBytes - 1) / hugePageBytes * hugePageBytes;
    const std::size_t head = aligned - address;
    if (head > 0)
        ::munmap(mapped, head);
    const std::size_t tail = hugePageBytes - head;
    if (tail > 0)
        ::munmap(reinterpret_cast<void*>(aligned + length), tail);
    void* block = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
    // Only a hint: without transparent huge pages the block works with normal pages.
    ::madvise(block, length, MADV_HUGEPAGE);
#endif
    return block;
}

void releaseVoxelStorage(void* block, std::size_t bytes) noexcept
{
    if (!block)
        return;
    if (bytes < mappedFromBytes)
        std::free(block);
    else
        ::munmap(block, mappedLength(bytes));
}

Volume::Volume(const Geometry& geometry, float fillValue) : Volume(geometry, uninitializedVoxels)
{
    parallelFill(m_voxels.data(), m_voxels.size(), fillValue);
}

Volume::Volume(const Geometry& geometry, UninitializedVoxels)
    : m_geometry(geometry), m_voxels(checkedVoxelCount(geometry))
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

LabelMap::LabelMap(const Geometry& geometry) : LabelMap(geometry, uninitializedVoxels)
{
    parallelFill<std::uint16_t>(m_labels.data(), m_labels.size(), 0);
}

LabelMap::LabelMap(const Geometry& geometry, UninitializedVoxels)
    : m_geometry(geometry), m_labels(checkedVoxelCount(geometry))
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
