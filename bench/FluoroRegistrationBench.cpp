// 2D/3D registration of simulated fluoroscopy to the sample phantom's CT (0.8 × 0.8 × 1.0 mm, prone),
// 2 threads. The frames are rendered from a second phantom grid (0.6 × 0.6 × 0.8 mm, other noise)
// at a known pose, with Poisson noise, blur, a gamma display curve, collimator shutters, burnt-in
// text and a steel needle toward the target; the C-arm (SID 1000 mm, SOD 750 mm, 512² over 300 mm)
// is centred on the L4 medial branch target. Success: mean projection distance (mPD) at the target
// region (27 points on a 30 mm cube around the target) ≤ 2 mm.
//  - Register/<view>: a registration from a start 10 mm and 5° off (view 0 = PA, 1 = oblique
//    primary −160 cranial 15, 2 = lateral); counters mPD (mm) and verdict.
//  - Reregister/<view>: after a 1 mm / 1° movement, from the previous pose (refine only).
//  Counters: processCpu_s is the CPU time of all threads (Time is wall-clock, CPU the main thread's).
//  - `--capture-table [--trials N]`: instead of benchmarks, prints success rate, median and 95th
//    percentile mPD and time against the starting error (translation E mm in a random direction
//    and rotation E/2 degrees about a random axis), over the three views; then the failure cases
//    (frames turned upside down or mirrored) and how many came out "registered". Wall and CPU
//    (all threads) seconds per registration; phantom generation excluded.
//
//   build/<dir>/bench/np_bench_fluororegistrationbench [--benchmark_filter=...]
//   build/<dir>/bench/np_bench_fluororegistrationbench --capture-table --trials 20 [--metric ncc]
//       [--errors 0,5,10,15,20] [--landmark-errors 30,40]
//   build/<dir>/bench/np_bench_fluororegistrationbench --capture-table --free-distances --errors 5,10
//   (frames made with SID 950-1250 and SOD 650-850 mm, registered with both distances free from
//   SID 1000 and SOD 750 mm; mPD measured in the true view; the failure cases also with free distances)
//   build/<dir>/bench/np_bench_fluororegistrationbench --reregister-table --trials 10 [--move 1]
//   (re-registration after a movement of 1 mm and 1 degree, per view)
//   --no-failure-cases leaves out the flipped and other-region frames (the rows only).
//   --landmark-errors adds rows whose start is refined by one landmark: the target, clicked at its
//   true pixel with a 1.5-pixel (standard deviation) click error.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/FluoroRegistration.h"
#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/phantom/SimulatedFluoroscopy.h"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <string>

using np::Vec3;
using namespace np::imaging;

namespace {

constexpr int kThreads = 2;

struct Scene
{
    AttenuationVolume ct;     ///< what is registered
    AttenuationVolume source; ///< what the frames are made from
    Vec3 targetLps;
    Vec3 entryLps;
};

Scene& scene()
{
    static std::unique_ptr<Scene> s;
    if (!s) {
        s = std::make_unique<Scene>();
        AttenuationOptions attenuation;
        attenuation.threads = kThreads;
        np::phantom::PhantomOptions ctOptions;
        const auto ct = np::phantom::generateLumbarPhantom(ctOptions);
        s->ct = AttenuationVolume(ct.ct, attenuation);
        for (const auto& t : ct.targets)
            if (t.name.find("L4 medial branch left") != std::string::npos)
                s->targetLps = t.positionLps;
        s->entryLps = s->targetLps + Vec3{25.0, 60.0, 10.0}; // posterior, lateral, cranial
        np::phantom::PhantomOptions sourceOptions;
        sourceOptions.spacing = {0.6, 0.6, 0.8};
        sourceOptions.seed = 2;
        s->source = AttenuationVolume(np::phantom::generateLumbarPhantom(sourceOptions).ct, attenuation);
    }
    return *s;
}

CArmGeometry viewOf(int view)
{
    CArmParameters p;
    p.primaryDeg = view == 0 ? 180.0 : view == 1 ? -160.0 : 90.0;
    p.secondaryDeg = view == 1 ? 15.0 : 0.0;
    p.isocenterLps = scene().targetLps;
    p.patientPosition = "HFP";
    return CArmGeometry(p);
}

std::vector<Vec3> targetRegion()
{
    std::vector<Vec3> points;
    for (int i = -1; i <= 1; ++i)
        for (int j = -1; j <= 1; ++j)
            for (int k = -1; k <= 1; ++k)
                points.push_back(scene().targetLps + Vec3{15.0 * i, 15.0 * j, 15.0 * k});
    return points;
}

/// A rigid motion about the target: `translationMm` in a random direction, `rotationDeg` about a random axis.
RigidTransform randomMotion(std::mt19937& random, double translationMm, double rotationDeg)
{
    std::normal_distribution<double> normal;
    const Vec3 direction = normalized(Vec3{normal(random), normal(random), normal(random)});
    const Vec3 axis = normalized(Vec3{normal(random), normal(random), normal(random)});
    return RigidTransform::fromAnglesDeg(axis * rotationDeg, direction * translationMm, scene().targetLps);
}

/// Note: fromAnglesDeg composes x, y, z rotations; for the small angles here the total is close to
/// `rotationDeg` about the axis. The truth is whatever transform was used, so mPD is exact.

np::phantom::FluoroSimulationOptions simulation(std::uint32_t seed, bool needle)
{
    np::phantom::FluoroSimulationOptions o;
    o.seed = seed;
    if (needle)
        o.needleLps = std::make_pair(scene().entryLps, scene().targetLps);
    return o;
}

FluoroMetric gMetric = FluoroMetric::GradientCorrelation;
bool gSkipFailureCases = false; ///< --no-failure-cases: the rows only
bool gFreeDistances = false; ///< rows registered with free SID and SOD (frames made with other distances)

FluoroRegistrationOptions registrationOptions()
{
    FluoroRegistrationOptions o;
    o.threads = kThreads;
    o.metric = gMetric;
    o.freeDistances = gFreeDistances;
    return o;
}

void Register(benchmark::State& state)
{
    const CArmGeometry view = viewOf(static_cast<int>(state.range(0)));
    std::mt19937 random(5);
    const RigidTransform truth = randomMotion(random, 10.0, 5.0);
    const FluoroFrame frame =
        np::phantom::simulateFluoroscopy(scene().source, view, truth, simulation(3, true));
    FluoroRegistrationResult result;
    const std::clock_t cpuStart = std::clock();
    for (auto _ : state)
        result = registerFluoroscopy(scene().ct, frame, view, registrationOptions());
    state.counters["processCpu_s"] = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    state.counters["mPD_mm"] = meanProjectionDistanceMm(view, truth, result.viewFromCt, targetRegion());
    state.counters["registered"] = result.registered ? 1 : 0;
    state.counters["similarity"] = result.similarity;
    state.counters["DRRs"] = result.evaluations;
}

void Reregister(benchmark::State& state)
{
    const CArmGeometry view = viewOf(static_cast<int>(state.range(0)));
    std::mt19937 random(6);
    const RigidTransform before = randomMotion(random, 10.0, 5.0);
    const FluoroFrame first =
        np::phantom::simulateFluoroscopy(scene().source, view, before, simulation(3, true));
    const FluoroRegistrationResult previous =
        registerFluoroscopy(scene().ct, first, view, registrationOptions());
    const RigidTransform truth = randomMotion(random, 1.0, 1.0).compose(before);
    const FluoroFrame frame =
        np::phantom::simulateFluoroscopy(scene().source, view, truth, simulation(4, true));
    FluoroRegistrationOptions options = registrationOptions();
    options.refineOnly = true;
    FluoroRegistrationResult result;
    const std::clock_t cpuStart = std::clock();
    for (auto _ : state)
        result = registerFluoroscopy(scene().ct, frame, view, options, previous.viewFromCt);
    state.counters["processCpu_s"] = static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    state.counters["mPD_mm"] = meanProjectionDistanceMm(view, truth, result.viewFromCt, targetRegion());
    state.counters["registered"] = result.registered ? 1 : 0;
    state.counters["DRRs"] = result.evaluations;
}

BENCHMARK(Register)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(Reregister)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->Iterations(1);

double quantile(std::vector<double> v, double q)
{
    if (v.empty())
        return 0.0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

std::vector<double> gErrors{0.0, 5.0, 10.0, 15.0, 20.0};
std::vector<double> gLandmarkErrors; ///< rows started from one landmark (the target, clicked)

int captureTable(int trials)
{
    std::printf(
        "| start error | trials | registered | success (mPD <= 2 mm) | registered and right | wrong but "
        "registered | median mPD (mm) | "
        "95th pct mPD (mm) | median wall (s) | max wall (s) | median CPU (s) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::mt19937 random(2026);
    std::uint32_t seed = 100;
    auto row = [&](double error, bool landmark) {
        std::vector<double> distances, times, cpu, magnificationErrors, sidErrors, sodErrors;
        int success = 0, registered = 0, wrong = 0, right = 0;
        for (int t = 0; t < trials; ++t) {
            const CArmGeometry view = viewOf(t % 3);
            const RigidTransform truth = randomMotion(random, error, 0.5 * error);
            // Free distances: the frame made by a C-arm with other distances (SID 950-1250 mm, SOD
            // 650-850 mm), registered from the header-less start (SID 1000, SOD 750).
            CArmGeometry trueView = view;
            if (gFreeDistances) {
                CArmParameters p = view.parameters();
                p.sourceToDetectorMm = std::uniform_real_distribution<double>(950.0, 1250.0)(random);
                p.sourceToIsocenterMm = std::uniform_real_distribution<double>(650.0, 850.0)(random);
                trueView = CArmGeometry(p);
            }
            const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, trueView, truth,
                                                                       simulation(++seed, t % 2 == 0));
            // With a landmark: the target clicked where the frame shows it, give or take a click
            // error of 1.5 pixels (standard deviation, each axis).
            RigidTransform start;
            FluoroRegistrationOptions options = registrationOptions();
            if (landmark) {
                std::normal_distribution<double> click(0.0, 1.5);
                DetectorPixel pixel = view.project(truth.apply(scene().targetLps));
                pixel.column += click(random);
                pixel.row += click(random);
                start = landmarkStart(view, {FluoroLandmark{pixel, scene().targetLps}});
                options.regionCentre = pixel; // the comparison region centred on the click
            }
            const std::clock_t cpuStart = std::clock();
            const FluoroRegistrationResult r =
                registerFluoroscopy(scene().ct, frame, view, options, start);
            cpu.push_back(static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC);
            // mPD in the true view: each point's distance from the true view's ray through the pixel
            // where the result projects it (with given distances the same as meanProjectionDistanceMm).
            double mpd = 0.0;
            for (const Vec3& point : targetRegion()) {
                const RayLps ray = trueView.ray(r.projection.project(point));
                const Vec3 d = truth.apply(point) - ray.originLps;
                mpd += norm(d - ray.directionLps * dot(d, ray.directionLps));
            }
            mpd /= static_cast<double>(targetRegion().size());
            distances.push_back(mpd);
            times.push_back(r.seconds);
            success += mpd <= 2.0 ? 1 : 0;
            registered += r.registered ? 1 : 0;
            wrong += r.registered && mpd > 2.0 ? 1 : 0;
            right += r.registered && mpd <= 2.0 ? 1 : 0;
            if (gFreeDistances) {
                const double m = r.sourceToDetectorMm / r.sourceToIsocenterMm;
                const double trueM = trueView.magnification();
                magnificationErrors.push_back(100.0 * std::abs(m - trueM) / trueM);
                sidErrors.push_back(std::abs(r.sourceToDetectorMm - trueView.parameters().sourceToDetectorMm));
                sodErrors.push_back(std::abs(r.sourceToIsocenterMm - trueView.parameters().sourceToIsocenterMm));
                std::fprintf(stderr, "  free distances: SID %.0f (true %.0f), SOD %.0f (true %.0f) mm\n",
                             r.sourceToDetectorMm, trueView.parameters().sourceToDetectorMm, r.sourceToIsocenterMm,
                             trueView.parameters().sourceToIsocenterMm);
            }
            std::string levels;
            for (std::size_t l = 0; l < r.drrsPerLevel.size(); ++l)
                levels += " " + std::to_string(r.drrsPerLevel[l]) +
                          (l < r.secondsPerLevel.size()
                               ? "/" + std::to_string(r.secondsPerLevel[l]).substr(0, 4) + "s"
                               : std::string());
            std::fprintf(stderr,
                         "  E=%g view %d: mPD %.2f mm, %s, %.2f s (CPU %.2f s), similarity %.3f, drop %.3f, "
                         "coarse %.3f, "
                         "runner-up %.3f, probe %.3f, DRRs%s: %s\n",
                         error, t % 3, mpd, r.registered ? "registered" : "not registered", r.seconds,
                         cpu.back(), r.similarity, r.peakDrop, r.coarseSimilarity, r.runnerUpSimilarity,
                         r.probeSimilarity, levels.c_str(), r.reason.c_str());
        }
        std::printf("| %g mm, %g deg%s%s | %d | %d | %.0f %% | %.0f %% | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                    error, 0.5 * error, landmark ? ", one landmark" : "", gFreeDistances ? ", free distances" : "",
                    trials, registered, 100.0 * success / trials, 100.0 * right / trials, wrong,
                    quantile(distances, 0.5), quantile(distances, 0.95), quantile(times, 0.5),
                    *std::max_element(times.begin(), times.end()), quantile(cpu, 0.5));
        if (gFreeDistances)
            std::printf("|   distances: median error of SID/SOD %.1f %%, SID %.0f mm, SOD %.0f mm (95th pct: %.1f %%, "
                        "%.0f mm, %.0f mm) |\n",
                        quantile(magnificationErrors, 0.5), quantile(sidErrors, 0.5), quantile(sodErrors, 0.5),
                        quantile(magnificationErrors, 0.95), quantile(sidErrors, 0.95), quantile(sodErrors, 0.95));
        std::fflush(stdout);
    };
    for (double error : gErrors)
        row(error, false);
    for (double error : gLandmarkErrors)
        row(error, true);
    if (gSkipFailureCases)
        return 0;
    // Failure cases: frames turned upside down and mirrored must not register.
    int falseRegistrations = 0, cases = 0;
    for (int t = 0; t < std::max(3, trials / 2); ++t) {
        const CArmGeometry view = viewOf(t % 3);
        np::phantom::FluoroSimulationOptions o = simulation(++seed, false);
        o.flipVertically = t % 2 == 0;
        o.flipHorizontally = t % 2 == 1;
        const FluoroFrame frame = np::phantom::simulateFluoroscopy(scene().source, view, RigidTransform{}, o);
        const FluoroRegistrationResult r =
            registerFluoroscopy(scene().ct, frame, view, registrationOptions());
        std::fprintf(stderr,
                     "  flipped (%s) view %d: similarity %.3f, drop %.3f, coarse %.3f, runner-up %.3f, "
                     "probe %.3f: %s\n",
                     o.flipVertically ? "vertical" : "horizontal", t % 3, r.similarity, r.peakDrop,
                     r.coarseSimilarity, r.runnerUpSimilarity, r.probeSimilarity,
                     r.reason.c_str());
        falseRegistrations += r.registered ? 1 : 0;
        ++cases;
    }
    std::printf("\nflipped frames: %d of %d came out \"registered\"\n", falseRegistrations, cases);
    // Another body region: frames centred 90 mm from the target along the image's columns (the
    // flank or the abdomen), registered as if they showed the target.
    int regionRegistrations = 0, regionCases = 0;
    for (int t = 0; t < std::max(3, trials / 2); ++t) {
        const CArmGeometry view = viewOf(t % 3);
        const RigidTransform elsewhere =
            viewMotion(view, scene().targetLps, {}, Vec3{t % 2 == 0 ? 90.0 : -90.0, 0.0, 0.0});
        const FluoroFrame frame =
            np::phantom::simulateFluoroscopy(scene().source, view, elsewhere, simulation(++seed, false));
        const FluoroRegistrationResult r =
            registerFluoroscopy(scene().ct, frame, view, registrationOptions());
        std::fprintf(stderr,
                     "  another region view %d: similarity %.3f, drop %.3f, coarse %.3f, runner-up %.3f, "
                     "probe %.3f: %s\n",
                     t % 3, r.similarity, r.peakDrop, r.coarseSimilarity, r.runnerUpSimilarity,
                     r.probeSimilarity, r.reason.c_str());
        regionRegistrations += r.registered ? 1 : 0;
        ++regionCases;
    }
    std::printf("another body region (90 mm along the columns): %d of %d came out \"registered\"\n",
                regionRegistrations, regionCases);
    return 0;
}

/// Re-registration after a small movement, per view: the frame made after the patient moved
/// `moveMm` in a random direction and `moveDeg` about a random axis from a pose 10 mm and 5° off the
/// header's; the previous pose given is that earlier pose (the truth before the movement: a
/// registration's own error, about 0.2 mm, is left out). Success, median mPD and CPU per view.
int reregisterTable(int trials, double moveMm, double moveDeg)
{
    std::printf("| view | movement | trials | registered | success (mPD <= 2 mm) | wrong but registered | median "
                "mPD (mm) | max mPD (mm) | median wall (s) | median CPU (s) | max CPU (s) |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::mt19937 random(77);
    std::uint32_t seed = 500;
    const char* names[3] = {"PA", "oblique", "lateral"};
    for (int v = 0; v < 3; ++v) {
        const CArmGeometry view = viewOf(v);
        std::vector<double> distances, times, cpu;
        int success = 0, registered = 0, wrong = 0;
        for (int t = 0; t < trials; ++t) {
            const RigidTransform before = randomMotion(random, 10.0, 5.0);
            const RigidTransform truth = randomMotion(random, moveMm, moveDeg).compose(before);
            const FluoroFrame frame =
                np::phantom::simulateFluoroscopy(scene().source, view, truth, simulation(++seed, t % 2 == 0));
            const std::clock_t cpuStart = std::clock();
            const FluoroRegistrationResult r =
                reregisterFluoroscopy(scene().ct, frame, view, before, registrationOptions());
            cpu.push_back(static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC);
            const double mpd = meanProjectionDistanceMm(view, truth, r.viewFromCt, targetRegion());
            distances.push_back(mpd);
            times.push_back(r.seconds);
            success += mpd <= 2.0 ? 1 : 0;
            registered += r.registered ? 1 : 0;
            wrong += r.registered && mpd > 2.0 ? 1 : 0;
            std::fprintf(stderr, "  reregister %s: mPD %.2f mm (start %.2f), %s, %.2f s (CPU %.2f s), DRRs %d: %s\n",
                         names[v], mpd, meanProjectionDistanceMm(view, truth, before, targetRegion()),
                         r.registered ? "registered" : "not registered", r.seconds, cpu.back(), r.evaluations,
                         r.reason.c_str());
        }
        std::printf("| %s | %g mm, %g deg | %d | %d | %.0f %% | %d | %.2f | %.2f | %.2f | %.2f | %.2f |\n", names[v],
                    moveMm, moveDeg, trials, registered, 100.0 * success / trials, wrong, quantile(distances, 0.5),
                    *std::max_element(distances.begin(), distances.end()), quantile(times, 0.5), quantile(cpu, 0.5),
                    *std::max_element(cpu.begin(), cpu.end()));
        std::fflush(stdout);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--reregister-table") == 0) {
            int trials = 10;
            double moveMm = 1.0, moveDeg = 1.0;
            for (int j = 1; j + 1 < argc; ++j)
                if (std::strcmp(argv[j], "--trials") == 0)
                    trials = std::max(1, std::atoi(argv[j + 1]));
                else if (std::strcmp(argv[j], "--move") == 0)
                    moveMm = std::atof(argv[j + 1]), moveDeg = moveMm;
            return reregisterTable(trials, moveMm, moveDeg);
        }
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--capture-table") == 0) {
            int trials = 20;
            for (int j = 1; j < argc; ++j)
                gFreeDistances = gFreeDistances || std::strcmp(argv[j], "--free-distances") == 0,
                gSkipFailureCases = gSkipFailureCases || std::strcmp(argv[j], "--no-failure-cases") == 0;
            for (int j = 1; j + 1 < argc; ++j)
                if (std::strcmp(argv[j], "--trials") == 0)
                    trials = std::max(1, std::atoi(argv[j + 1]));
                else if (std::strcmp(argv[j], "--metric") == 0 && std::strcmp(argv[j + 1], "ncc") == 0)
                    gMetric = FluoroMetric::NormalizedCrossCorrelation;
                else if (std::strcmp(argv[j], "--errors") == 0 ||
                         std::strcmp(argv[j], "--landmark-errors") == 0) {
                    // Comma-separated starting errors in mm (the rotation is half as many degrees).
                    std::vector<double>& errors = argv[j][2] == 'e' ? gErrors : gLandmarkErrors;
                    errors.clear();
                    std::string list = argv[j + 1];
                    for (std::size_t at = 0; at < list.size();) {
                        const std::size_t comma = std::min(list.find(',', at), list.size());
                        errors.push_back(std::atof(list.substr(at, comma - at).c_str()));
                        at = comma + 1;
                    }
                }
            return captureTable(trials);
        }
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
