#include "needleplan/imaging/RegionGrowing.h"

#include "needleplan/imaging/Error.h"

#include <algorithm>
#include <cmath>
#include <itkConfidenceConnectedImageFilter.h>
#include <itkConnectedThresholdImageFilter.h>
#include <itkImage.h>
#include <itkImageRegionConstIterator.h>
#include <string>

namespace np::imaging {

namespace {

void checkSeed(const Volume& volume, const VoxelIndex& seedIjk)
{
    const Size3& size = volume.geometry().size;
    for (int a = 0; a < 3; ++a)
        if (seedIjk[a] < 0 || seedIjk[a] >= size[a])
            throw Error(ErrorCode::InvalidArgument,
                        "region growing: the seed (" + std::to_string(seedIjk[0]) + ", " +
                            std::to_string(seedIjk[1]) + ", " + std::to_string(seedIjk[2]) +
                            ") lies outside the image");
}

} // namespace

SeedStatistics seedStatistics(const Volume& volume, const VoxelIndex& seedIjk, int radiusVoxels)
{
    checkSeed(volume, seedIjk);
    const Size3& size = volume.geometry().size;
    const std::int64_t r = std::max(0, radiusVoxels);
    SeedStatistics stats;
    double sum = 0.0, sumSquares = 0.0;
    stats.minHu = std::numeric_limits<double>::infinity();
    stats.maxHu = -std::numeric_limits<double>::infinity();
    for (std::int64_t k = std::max<std::int64_t>(0, seedIjk[2] - r);
         k <= std::min(size[2] - 1, seedIjk[2] + r); ++k)
        for (std::int64_t j = std::max<std::int64_t>(0, seedIjk[1] - r);
             j <= std::min(size[1] - 1, seedIjk[1] + r); ++j)
            for (std::int64_t i = std::max<std::int64_t>(0, seedIjk[0] - r);
                 i <= std::min(size[0] - 1, seedIjk[0] + r); ++i) {
                const double hu = volume.at(i, j, k);
                sum += hu;
                sumSquares += hu * hu;
                stats.minHu = std::min(stats.minHu, hu);
                stats.maxHu = std::max(stats.maxHu, hu);
                ++stats.samples;
            }
    stats.meanHu = sum / stats.samples;
    stats.sdHu = std::sqrt(std::max(0.0, sumSquares / stats.samples - stats.meanHu * stats.meanHu));
    return stats;
}

RegionGrowResult growRegion(const Volume& volume, const VoxelIndex& seedIjk, const RegionGrowOptions& options)
{
    checkSeed(volume, seedIjk);
    if (options.method == RegionGrowMethod::ConnectedThreshold && !(options.lowerHu <= options.upperHu))
        throw Error(ErrorCode::InvalidArgument, "region growing: the HU range is empty");
    const Geometry& g = volume.geometry();
    // The box the region may fill: the whole grid, or maxRadiusMm around the seed.
    VoxelIndex lo{0, 0, 0}, hi{g.size[0] - 1, g.size[1] - 1, g.size[2] - 1};
    if (options.maxRadiusMm > 0.0)
        for (int a = 0; a < 3; ++a) {
            const auto half = static_cast<std::int64_t>(std::floor(options.maxRadiusMm / g.spacing[a]));
            lo[a] = std::max<std::int64_t>(0, seedIjk[a] - half);
            hi[a] = std::min<std::int64_t>(g.size[a] - 1, seedIjk[a] + half);
        }
    using FloatImage = itk::Image<float, 3>;
    using MaskImage = itk::Image<std::uint8_t, 3>;
    RegionGrowResult result;
    try {
        auto image = FloatImage::New();
        FloatImage::RegionType region;
        for (unsigned a = 0; a < 3; ++a) {
            region.SetIndex(a, 0);
            region.SetSize(a, static_cast<itk::SizeValueType>(hi[a] - lo[a] + 1));
        }
        image->SetRegions(region);
        image->Allocate();
        float* out = image->GetBufferPointer();
        for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
            for (std::int64_t j = lo[1]; j <= hi[1]; ++j) {
                const float* row = volume.data() + volume.linearIndex(lo[0], j, k);
                out = std::copy(row, row + (hi[0] - lo[0] + 1), out);
            }
        FloatImage::IndexType seed;
        for (unsigned a = 0; a < 3; ++a)
            seed[a] = static_cast<itk::IndexValueType>(seedIjk[a] - lo[a]);
        MaskImage::Pointer mask;
        if (options.method == RegionGrowMethod::ConnectedThreshold) {
            auto filter = itk::ConnectedThresholdImageFilter<FloatImage, MaskImage>::New();
            filter->SetInput(image);
            filter->SetLower(static_cast<float>(options.lowerHu));
            filter->SetUpper(static_cast<float>(options.upperHu));
            filter->SetReplaceValue(1);
            filter->AddSeed(seed);
            filter->Update();
            mask = filter->GetOutput();
        } else {
            auto filter = itk::ConfidenceConnectedImageFilter<FloatImage, MaskImage>::New();
            filter->SetInput(image);
            filter->SetMultiplier(options.multiplier);
            filter->SetNumberOfIterations(static_cast<unsigned>(std::max(0, options.iterations)));
            filter->SetInitialNeighborhoodRadius(
                static_cast<unsigned>(std::max(0, options.neighbourhoodRadius)));
            filter->SetReplaceValue(1);
            filter->AddSeed(seed);
            filter->Update();
            mask = filter->GetOutput();
        }
        const std::uint8_t* m = mask->GetBufferPointer();
        for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
            for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
                for (std::int64_t i = lo[0]; i <= hi[0]; ++i, ++m) {
                    if (!*m)
                        continue;
                    result.voxels.push_back(volume.linearIndex(i, j, k));
                    const VoxelIndex v{i, j, k};
                    for (int a = 0; a < 3; ++a)
                        if ((v[a] == lo[a] && lo[a] > 0) || (v[a] == hi[a] && hi[a] < g.size[a] - 1))
                            result.reachedLimit = true;
                }
    } catch (const itk::ExceptionObject& error) {
        throw Error(ErrorCode::Internal, std::string("region growing failed: ") + error.GetDescription());
    }
    return result;
}

} // namespace np::imaging
