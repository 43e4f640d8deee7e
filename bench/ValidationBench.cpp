// Post-insertion validation benchmarks: one 512×512×400 post-insertion CT of the phantom (moved by
// 19.7 mm and about 14 degrees, one 22 G needle) registered onto the 512×512×400 planning CT and its
// needle found; registration and detection also on their own. "CPU" is the process CPU time of
// all threads.

#include "needleplan/imaging/NeedleDetector.h"
#include "needleplan/imaging/RigidRegistration.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/PostInsertionPhantom.h"

#include <benchmark/benchmark.h>
#include <cmath>
#include <memory>

using namespace np;

namespace {

struct Scene
{
    phantom::Phantom planning;
    phantom::PostInsertionPhantom post;
    Vec3 targetLps;
};

Scene& scene()
{
    static const std::unique_ptr<Scene> s = [] {
        auto scene = std::make_unique<Scene>();
        phantom::PhantomOptions grid;
        grid.size = {512, 512, 400};
        scene->planning = phantom::generateLumbarPhantom(grid);
        for (const auto& t : scene->planning.targets)
            if (t.name.rfind("L4 medial branch left", 0) == 0)
                scene->targetLps = t.positionLps;
        phantom::PostInsertionOptions options;
        options.phantom = grid;
        options.phantom.seed = 7;
        const Vec3 tip = scene->targetLps + Vec3{0.8, -0.6, 1.1};
        options.needles = {{tip + normalized(Vec3{0.38, 0.92, 0.12}) * 80.0, tip, 22}};
        options.moveMm = {12, -10, 12};
        options.moveDeg = {5, -8, 10};
        scene->post = phantom::generatePostInsertionCt(options);
        return scene;
    }();
    return *s;
}

void RegisterAndMeasure(benchmark::State& state)
{
    Scene& s = scene();
    for (auto _ : state) {
        const auto registration = imaging::registerRigid(s.planning.ct, s.post.ct);
        // As the validation does: the metal weighed against the registered planning CT.
        imaging::NeedleDetectionOptions detection;
        detection.backgroundHuAt = [&s, &registration](const Vec3& postLps) {
            return static_cast<double>(
                s.planning.ct.sampleLps(registration.planningFromPost.apply(postLps), -1000.0f));
        };
        const auto needles = imaging::detectNeedles(s.post.ct, detection);
        benchmark::DoNotOptimize(needles.needles.data());
        const Vec3 inPost = s.post.postFromPlanning.apply(s.targetLps);
        state.counters["registrationErrorAtTargetMm"] =
            distance(registration.planningFromPost.apply(inPost), s.targetLps);
        if (!needles.needles.empty())
            state.counters["tipErrorMm"] =
                distance(registration.planningFromPost.apply(needles.needles[0].tipLps),
                         s.post.needles[0].planning.tipLps);
        state.counters["needles"] = static_cast<double>(needles.needles.size());
    }
}

void RegistrationOnly(benchmark::State& state)
{
    Scene& s = scene();
    for (auto _ : state) {
        const auto registration = imaging::registerRigid(s.planning.ct, s.post.ct);
        state.counters["iterations"] = registration.iterations;
    }
}

void DetectionOnly(benchmark::State& state)
{
    Scene& s = scene();
    for (auto _ : state) {
        const auto needles = imaging::detectNeedles(s.post.ct);
        benchmark::DoNotOptimize(needles.needles.data());
    }
}

} // namespace

BENCHMARK(RegisterAndMeasure)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(RegistrationOnly)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(DetectionOnly)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK_MAIN();
