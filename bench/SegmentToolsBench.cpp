// The workstation's segmentation tools on a CT-sized grid (512 x 512 x 300, 0.7 x 0.7 x 1.5 mm):
// seeded region growing of a kidney-sized ellipsoid (ConnectedThreshold and ConfidenceConnected,
// limited to 100 mm around the seed), and the copy of the label map every paint, erase or growth
// (and its undo) makes.
// Run: np_bench_segmenttoolsbench

#include "needleplan/imaging/RegionGrowing.h"

#include <benchmark/benchmark.h>

namespace {

using namespace np::imaging;

Geometry ctGrid()
{
    Geometry g;
    g.size = {512, 512, 300};
    g.spacing = {0.7, 0.7, 1.5};
    g.originLps = {-179.0, -179.0, -225.0};
    return g;
}

/// Fat (-90 HU) with an ellipsoid of 35 HU, semi-axes 30 x 25 x 55 mm, at the centre.
const Volume& abdomen()
{
    static const Volume volume = [] {
        Volume v(ctGrid(), -90.0f);
        const Geometry& g = v.geometry();
        for (std::int64_t k = 0; k < g.size[2]; ++k)
            for (std::int64_t j = 0; j < g.size[1]; ++j)
                for (std::int64_t i = 0; i < g.size[0]; ++i) {
                    const double x = (static_cast<double>(i) - 256.0) * g.spacing.x / 30.0;
                    const double y = (static_cast<double>(j) - 256.0) * g.spacing.y / 25.0;
                    const double z = (static_cast<double>(k) - 150.0) * g.spacing.z / 55.0;
                    if (x * x + y * y + z * z <= 1.0)
                        v.at(i, j, k) = 35.0f;
                }
        return v;
    }();
    return volume;
}

void growKidney(benchmark::State& state)
{
    const Volume& ct = abdomen();
    RegionGrowOptions options;
    options.method =
        state.range(0) == 0 ? RegionGrowMethod::ConnectedThreshold : RegionGrowMethod::ConfidenceConnected;
    options.lowerHu = 0.0;
    options.upperHu = 80.0;
    options.maxRadiusMm = 100.0;
    std::size_t voxels = 0;
    for (auto _ : state) {
        const RegionGrowResult result = growRegion(ct, {256, 256, 150}, options);
        voxels = result.voxels.size();
        benchmark::DoNotOptimize(result.voxels.data());
    }
    state.counters["voxels"] = double(voxels);
}
BENCHMARK(growKidney)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

void copyLabelMap(benchmark::State& state)
{
    const LabelMap labels(ctGrid());
    for (auto _ : state) {
        LabelMap copy(labels);
        benchmark::DoNotOptimize(copy.data());
    }
}
BENCHMARK(copyLabelMap)->Unit(benchmark::kMillisecond)->Iterations(5);

} // namespace

BENCHMARK_MAIN();
