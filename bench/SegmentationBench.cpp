// Automatic segmentation (body, bone, lung) of the lumbar phantom on a 512 x 512 x 400 grid.
// Run: np_bench_segmentationbench; the argument of segmentAll is the number of threads.

#include "needleplan/imaging/Segmentation.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <benchmark/benchmark.h>

namespace {

using namespace np::imaging;

/// The sample lumbar phantom on a 512 x 512 x 400 grid (0.8 x 0.8 x 1.0 mm; prone, with the table).
const Volume& torso()
{
    static const Volume volume = [] {
        np::phantom::PhantomOptions options;
        options.size = {512, 512, 400};
        return np::phantom::generateLumbarPhantom(options).ct;
    }();
    return volume;
}

void segmentAll(benchmark::State& state)
{
    const Volume& ct = torso();
    SegmentationOptions options;
    options.threads = static_cast<int>(state.range(0));
    for (auto _ : state) {
        const StructureSet set = segmentStructures(ct, options);
        benchmark::DoNotOptimize(set.structures().data());
    }
    state.counters["voxels"] = double(ct.geometry().voxelCount());
}
BENCHMARK(segmentAll)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(2);

void bodySurface(benchmark::State& state)
{
    const Volume& ct = torso();
    SegmentationOptions options;
    options.bone = options.lung = false;
    options.threads = 2;
    const StructureSet set = segmentStructures(ct, options);
    for (auto _ : state) {
        const BodySurface surface(ct.geometry(), set.find("body")->voxels, 1.5);
        benchmark::DoNotOptimize(surface.smoothedMask().data());
    }
}
BENCHMARK(bodySurface)->Unit(benchmark::kMillisecond)->Iterations(1);

} // namespace

BENCHMARK_MAIN();
