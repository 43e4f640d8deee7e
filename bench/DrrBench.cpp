// DRR rendering on the 512 × 512 × 400 sample phantom (0.8 × 0.8 × 1.0 mm, prone), 2 threads:
//  - ItkRayCast: ITK's ray-cast DRR (RayCastInterpolateImageFunction in a ResampleImageFilter,
//    threshold 0, on the float μ/μw volume) for the same view, run first; its time per frame is
//    kept so that the later Drr/512/0 of this run reports its speed-up over ITK.
//  - Drr/<size>/<view>: renderDrr; view 0 = PA (primary 180), 1 = lateral (LAO 90),
//    2 = oblique (primary −160, cranial 15).
//  - VirtualCArmDrag: what the workstation's virtual C-arm does per mouse move while dragging
//    (VirtualCArmModel: a 128 × 128 DRR with default options and its display image), the C-arm
//    turning 2° per frame; VirtualCArmRelease: the 384 × 384 frame drawn on release.
//  - AttenuationVolume: building the μ/μw volume from the CT (once per CT).
// SID 1000 mm, SOD 750 mm, a 300 mm detector, the isocentre at the L4 medial branch target.
//
// Counters: `fps` counts frames per wall-clock second; `fpsCpu` is the thread count divided by the
// process CPU seconds per frame (all threads): the rate with the threads' cores to themselves,
// which is what to read when other processes load the machine (wall time then includes waiting
// for a core). `xItk` / `xItkCpu`: speed-up over ITK's ray cast in wall and in CPU time.
//
//   build/<dir>/bench/np_bench_drrbench [--benchmark_filter=...] [--benchmark_min_time=0.5]

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <chrono>
#include <cmath>
#include <ctime>
#include <itkImage.h>
#include <itkMultiThreaderBase.h>
#include <itkRayCastInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>
#include <itkTranslationTransform.h>
#include <memory>
#include <thread>
#include <vector>

using np::Vec3;
using namespace np::imaging;

namespace {

constexpr int kThreads = 2;

struct Scene
{
    np::phantom::Phantom phantom;
    AttenuationVolume volume;
    Vec3 isocenterLps;
};

Scene& scene()
{
    static std::unique_ptr<Scene> s;
    if (!s) {
        s = std::make_unique<Scene>();
        np::phantom::PhantomOptions options;
        options.size = {512, 512, 400};
        s->phantom = np::phantom::generateLumbarPhantom(options);
        AttenuationOptions attenuation;
        attenuation.threads = kThreads;
        s->volume = AttenuationVolume(s->phantom.ct, attenuation);
        s->isocenterLps = s->phantom.targets.front().positionLps;
        for (const auto& t : s->phantom.targets)
            if (t.name.find("L4 medial branch left") != std::string::npos)
                s->isocenterLps = t.positionLps;
    }
    return *s;
}

CArmParameters viewParameters(int size, int view)
{
    CArmParameters p;
    p.primaryDeg = view == 0 ? 180.0 : view == 1 ? 90.0 : -160.0;
    p.secondaryDeg = view == 2 ? 15.0 : 0.0;
    p.isocenterLps = scene().isocenterLps;
    p.patientPosition = "HFP";
    p.columns = size;
    p.rows = size;
    p.columnSpacingMm = 300.0 / size;
    p.rowSpacingMm = 300.0 / size;
    return p;
}

double processCpuSeconds()
{
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

/// Wall and process CPU time of the timed loop that follows its construction.
struct FrameClock
{
    std::chrono::steady_clock::time_point wallStart = std::chrono::steady_clock::now();
    double cpuStart = processCpuSeconds();
    double wallPerFrame = 0.0;
    double cpuPerFrame = 0.0;

    void stop(benchmark::State& state, int threads)
    {
        const auto frames = static_cast<double>(state.iterations());
        wallPerFrame =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count() / frames;
        cpuPerFrame = (processCpuSeconds() - cpuStart) / frames;
        state.counters["fps"] = 1.0 / wallPerFrame;
        state.counters["fpsCpu"] = threads / cpuPerFrame;
    }
};

double itkWallPerFrame = 0.0;
double itkCpuPerFrame = 0.0;

void ItkRayCast(benchmark::State& state)
{
    using Image = itk::Image<float, 3>;
    const Geometry& g = scene().phantom.ct.geometry();
    itk::MultiThreaderBase::SetGlobalDefaultNumberOfThreads(kThreads);
    itk::MultiThreaderBase::SetGlobalMaximumNumberOfThreads(kThreads);
    // ITK ignores direction matrices in the ray cast: it gets the volume in its grid frame.
    auto volume = Image::New();
    Image::RegionType region;
    region.SetSize({static_cast<itk::SizeValueType>(g.size[0]), static_cast<itk::SizeValueType>(g.size[1]),
                    static_cast<itk::SizeValueType>(g.size[2])});
    volume->SetRegions(region);
    const double spacing[3] = {g.spacing.x, g.spacing.y, g.spacing.z};
    volume->SetSpacing(spacing);
    volume->Allocate();
    const float* in = scene().phantom.ct.data();
    float* out = volume->GetBufferPointer();
    for (std::int64_t n = 0; n < g.voxelCount(); ++n)
        out[n] = std::max(0.0f, 1.0f + in[n] / 1000.0f);
    auto local = [&](const Vec3& pointLps) { return g.directionLps.transposed() * (pointLps - g.originLps); };

    const CArmGeometry view(
        viewParameters(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))));
    const CArmParameters& p = view.parameters();
    using Interpolator = itk::RayCastInterpolateImageFunction<Image, double>;
    auto interpolator = Interpolator::New();
    interpolator->SetThreshold(0.0);
    interpolator->SetTransform(itk::TranslationTransform<double, 3>::New());
    const Vec3 focal = local(view.sourceLps());
    interpolator->SetFocalPoint(
        Interpolator::InputPointType(std::array<double, 3>{focal.x, focal.y, focal.z}.data()));
    auto resample = itk::ResampleImageFilter<Image, Image>::New();
    resample->SetInput(volume);
    resample->SetInterpolator(interpolator);
    resample->SetTransform(itk::TranslationTransform<double, 3>::New());
    resample->SetDefaultPixelValue(0.0f);
    resample->SetSize(
        {static_cast<itk::SizeValueType>(p.columns), static_cast<itk::SizeValueType>(p.rows), 1});
    const double outSpacing[3] = {p.columnSpacingMm, p.rowSpacingMm, 1.0};
    resample->SetOutputSpacing(outSpacing);
    const Vec3 origin = local(view.detectorPointLps({0.0, 0.0}));
    const double outOrigin[3] = {origin.x, origin.y, origin.z};
    resample->SetOutputOrigin(outOrigin);
    const Vec3 axes[3] = {g.directionLps.transposed() * view.columnDirectionLps(),
                          g.directionLps.transposed() * view.rowDirectionLps(),
                          g.directionLps.transposed() * view.detectorDirectionLps()};
    Image::DirectionType direction;
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c)
            direction[r][c] = axes[c][r];
    resample->SetOutputDirection(direction);
    resample->SetNumberOfWorkUnits(kThreads);
    FrameClock clock;
    for (auto _ : state) {
        resample->Modified();
        resample->Update();
        benchmark::DoNotOptimize(resample->GetOutput()->GetBufferPointer());
    }
    clock.stop(state, kThreads);
    itkWallPerFrame = clock.wallPerFrame;
    itkCpuPerFrame = clock.cpuPerFrame;
}

void Drr(benchmark::State& state)
{
    const CArmGeometry view(
        viewParameters(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))));
    DrrOptions options;
    options.threads = kThreads;
    scene();
    FrameClock clock;
    for (auto _ : state) {
        const DrrImage image = renderDrr(scene().volume, view, options);
        benchmark::DoNotOptimize(image.pathLengthMm.data());
    }
    clock.stop(state, kThreads);
    // Speed-up over ITK's ray cast of the same view and size, measured earlier in this run.
    if (itkWallPerFrame > 0.0 && state.range(0) == 512 && state.range(1) == 0) {
        state.counters["xItk"] = itkWallPerFrame / clock.wallPerFrame;
        state.counters["xItkCpu"] = itkCpuPerFrame / clock.cpuPerFrame;
    }
}

/// The virtual C-arm's frame while dragging (`size` 128) or on release (384): VirtualCArmModel's
/// view (SID 1000, SOD 750, a 300 mm field, the phantom's patient position) rendered with default
/// DRR options, then its display image. Each frame turns the C-arm 2° from AP of the prone phantom.
void VirtualCArmFrame(benchmark::State& state)
{
    scene();
    const int size = static_cast<int>(state.range(0));
    FrameClock clock;
    int frame = 0;
    for (auto _ : state) {
        CArmParameters p = viewParameters(size, 0);
        p.primaryDeg = 180.0 - 2.0 * (frame % 90);
        p.secondaryDeg = 10.0 * std::sin(0.1 * frame);
        ++frame;
        const DrrImage image = renderDrr(scene().volume, CArmGeometry(p));
        const std::vector<std::uint8_t> display = drrDisplayImage(image);
        benchmark::DoNotOptimize(display.data());
    }
    // Default options use every hardware thread: the machine's cores, 2 here.
    clock.stop(state, std::max(1u, std::thread::hardware_concurrency()));
}

void AttenuationVolumeFromCt(benchmark::State& state)
{
    AttenuationOptions options;
    options.threads = kThreads;
    for (auto _ : state) {
        const AttenuationVolume volume(scene().phantom.ct, options);
        benchmark::DoNotOptimize(volume.occupiedBrickFraction());
    }
    state.counters["occupiedBricks"] = AttenuationVolume(scene().phantom.ct, options).occupiedBrickFraction();
}

} // namespace

BENCHMARK(ItkRayCast)
    ->Args({512, 0})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(Drr)
    ->Args({512, 0})
    ->Args({256, 0})
    ->Args({512, 1})
    ->Args({256, 1})
    ->Args({512, 2})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(VirtualCArmFrame)
    ->Name("VirtualCArmDrag")
    ->Arg(128)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(VirtualCArmFrame)
    ->Name("VirtualCArmRelease")
    ->Arg(384)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK(AttenuationVolumeFromCt)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK_MAIN();
