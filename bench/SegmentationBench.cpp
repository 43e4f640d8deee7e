// Automatic segmentation (body, bone, lung) of a 512 x 512 x 400 CT-like volume.
// Run: np_bench_segmentationbench [--benchmark_filter=...]; the thread count is the argument.

#include <benchmark/benchmark.h>

#include <cmath>

#include "needleplan/imaging/Segmentation.h"

namespace {

using namespace np::imaging;

/// A torso-like volume: elliptic body (fat rim, soft tissue), two lungs in the upper half, a
/// vertebral column of cortical shell and cancellous core with a canal, and a table under the back.
const Volume& torso()
{
    static const Volume volume = [] {
        Geometry g;
        g.size = {512, 512, 400};
        g.spacing = {0.8, 0.8, 1.0};
        g.originLps = {-204.4, -204.4, -200.0};
        Volume ct(g, -1000.0f);
        for (std::int64_t k = 0; k < g.size[2]; ++k) {
            const double z = g.originLps.z + double(k);
            for (std::int64_t j = 0; j < g.size[1]; ++j) {
                const double y = g.originLps.y + 0.8 * double(j);
                float* row = ct.data() + ct.linearIndex(0, j, k);
                for (std::int64_t i = 0; i < g.size[0]; ++i) {
                    const double x = g.originLps.x + 0.8 * double(i);
                    const double body = (x / 170.0) * (x / 170.0) + (y / 120.0) * (y / 120.0);
                    float hu = -1000.0f;
                    if (body <= 1.0) {
                        hu = body > 0.9 ? -100.0f : 45.0f;
                        const double vertebra = std::hypot(x, y - 60.0);
                        if (vertebra <= 22.0 && vertebra >= 8.0)
                            hu = (vertebra >= 19.0 || vertebra <= 10.0) ? 1150.0f : 260.0f;
                        if (z > 20.0 && (std::hypot(std::abs(x) - 80.0, y + 10.0) < 55.0))
                            hu = -850.0f;
                    } else if (y >= 121.0 && y <= 131.0 && std::abs(x) < 220.0) {
                        hu = 150.0f; // table
                    }
                    // Deterministic noise of about +-10 HU.
                    const auto h = static_cast<std::uint32_t>((i * 73856093) ^ (j * 19349663) ^ (k * 83492791));
                    row[i] = hu + float(h % 21) - 10.0f;
                }
            }
        }
        return ct;
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
