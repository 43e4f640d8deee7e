#pragma once
/// Seeded region growing on a CT (ITK's ConnectedThreshold and ConfidenceConnected filters), and
/// the statistics of a seed's neighbourhood, for the workstation's segmentation tools. No ITK types.

#include "needleplan/imaging/Volume.h"

#include <array>
#include <cstdint>
#include <vector>

namespace np::imaging {

/// A voxel index (i, j, k) on a grid.
using VoxelIndex = std::array<std::int64_t, 3>;

/// HU statistics of the voxels of a seed's neighbourhood.
struct SeedStatistics
{
    int samples = 0;
    double meanHu = 0.0;
    double sdHu = 0.0; ///< population standard deviation
    double minHu = 0.0;
    double maxHu = 0.0;
};

/// Statistics of the (2r+1)³ voxels around `seedIjk` (clipped to the grid), the neighbourhood
/// ConfidenceConnected starts from. Throws np::Error(InvalidArgument) for a seed outside the grid.
SeedStatistics seedStatistics(const Volume& volume, const VoxelIndex& seedIjk, int radiusVoxels = 1);

enum class RegionGrowMethod
{
    ConnectedThreshold,  ///< face-connected voxels with HU in [lowerHu, upperHu]
    ConfidenceConnected, ///< mean ± multiplier·SD of the region, re-estimated `iterations` times
};

struct RegionGrowOptions
{
    RegionGrowMethod method = RegionGrowMethod::ConnectedThreshold;
    double lowerHu = -1024.0;    ///< ConnectedThreshold
    double upperHu = 3071.0;     ///< ConnectedThreshold
    double multiplier = 2.5;     ///< ConfidenceConnected
    int iterations = 3;          ///< ConfidenceConnected
    int neighbourhoodRadius = 1; ///< ConfidenceConnected's initial neighbourhood (voxels)
    /// The region stays inside the box of this half-width (mm) around the seed; 0: the whole image.
    double maxRadiusMm = 0.0;
};

struct RegionGrowResult
{
    std::vector<std::int64_t> voxels; ///< linear indices on the volume's grid, ascending
    /// The region touches the limiting box (it would have grown further without maxRadiusMm).
    bool reachedLimit = false;
};

/// Grows a region from `seedIjk`. Throws np::Error(InvalidArgument) for a seed outside the grid or
/// an empty HU range, np::Error(Internal) when ITK fails.
RegionGrowResult growRegion(const Volume& volume, const VoxelIndex& seedIjk,
                            const RegionGrowOptions& options);

} // namespace np::imaging
