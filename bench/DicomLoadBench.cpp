// Loading a 512 x 512 x 400 CT series: NeedlePlan's loader against ITK's GDCM series reader and
// against a plain read of the same files' bytes, in one run.
//
//   build/<dir>/bench/np_bench_dicomloadbench            (series written to $TMPDIR on first use)
//   NP_BENCH_DICOM_DIR=/path/to/series  ... to use another series
//
// After the benchmarks it prints the throughput ratios the loader is judged by:
//   loader / ITK   (goal >= 2)      and      byte read / loader   (goal <= 2).

#include <benchmark/benchmark.h>

#include <itkGDCMImageIO.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImage.h>
#include <itkImageSeriesReader.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/ImageLoader.h"

#if __has_include("needleplan/phantom/LumbarPhantom.h")
#include "needleplan/phantom/LumbarPhantom.h"
#define NP_BENCH_HAS_PHANTOM 1
#endif

namespace fs = std::filesystem;
using namespace np::imaging;

namespace {

constexpr std::int64_t kColumns = 512, kRows = 512, kSlices = 400;

/// Fastest seconds per iteration of each benchmark, for the ratios printed at the end.
std::map<std::string, double>& bestSeconds()
{
    static std::map<std::string, double> best;
    return best;
}

/// CPU seconds (user + system, all threads) this process has used so far.
double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void record(const std::string& name, double seconds)
{
    auto& best = bestSeconds();
    const auto found = best.find(name);
    if (found == best.end() || seconds < found->second)
        best[name] = seconds;
}

/// A 512 x 512 x 400 CT series written by the phantom generator (or, in builds without it, a
/// CT-like ellipse with a bony column and noise), written once and reused.
const std::string& seriesFolder()
{
    static const std::string folder = [] {
        if (const char* given = std::getenv("NP_BENCH_DICOM_DIR"))
            return std::string(given);
        const fs::path path = fs::temp_directory_path() / "needleplan-bench-ct-512x512x400";
        std::size_t existing = 0;
        std::error_code ec;
        if (fs::is_directory(path, ec))
            for ([[maybe_unused]] const auto& entry : fs::directory_iterator(path))
                ++existing;
        if (existing != static_cast<std::size_t>(kSlices)) {
            fs::remove_all(path, ec);
#ifdef NP_BENCH_HAS_PHANTOM
            np::phantom::PhantomOptions phantomOptions;
            phantomOptions.size = {kColumns, kRows, kSlices};
            phantomOptions.spacing = {0.8, 0.8, 1.0};
            const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom(phantomOptions);
            DicomWriteOptions phantomWrite;
            phantomWrite.patientPosition = phantomOptions.patientPosition;
            phantomWrite.seriesDescription = "benchmark phantom";
            writeDicomSeries(phantom.ct, path.string(), phantomWrite);
            return path.string();
#endif
            Geometry geometry;
            geometry.size = {kColumns, kRows, kSlices};
            geometry.spacing = {0.8, 0.8, 1.0};
            geometry.originLps = {-204.4, -204.4, -200.0};
            geometry.directionLps = np::Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1}); // prone
            Volume volume(geometry, -1000.0f);
            std::uint32_t noise = 12345;
            for (std::int64_t k = 0; k < kSlices; ++k)
                for (std::int64_t j = 0; j < kRows; ++j)
                    for (std::int64_t i = 0; i < kColumns; ++i) {
                        const double x = (i - 256.0) / 200.0, y = (j - 256.0) / 150.0;
                        const double bone = std::hypot(i - 256.0, j - 330.0) < 30.0 ? 700.0 : 0.0;
                        noise = noise * 1664525u + 1013904223u;
                        const float jitter = static_cast<float>((noise >> 24) % 21) - 10.0f;
                        if (x * x + y * y < 1.0)
                            volume.at(i, j, k) = static_cast<float>(40.0 + bone) + jitter;
                    }
            DicomWriteOptions options;
            options.patientPosition = "HFP";
            options.seriesDescription = "benchmark series";
            writeDicomSeries(volume, path.string(), options);
        }
        return path.string();
    }();
    return folder;
}

std::vector<std::string> seriesFiles()
{
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(seriesFolder()))
        if (entry.is_regular_file())
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

std::int64_t seriesBytes()
{
    std::int64_t bytes = 0;
    for (const auto& file : seriesFiles())
        bytes += static_cast<std::int64_t>(fs::file_size(file));
    return bytes;
}

void finish(benchmark::State& state, const std::string& name, double seconds, double cpuSecondsTotal)
{
    state.SetBytesProcessed(state.iterations() * seriesBytes());
    const double cpuPerIteration = cpuSecondsTotal / static_cast<double>(std::max<benchmark::IterationCount>(state.iterations(), 1));
    state.counters["cpu_s_all_threads"] = cpuPerIteration;
    record(name, seconds);
    record(name + " cpu", cpuPerIteration);
}

void PlainByteRead(benchmark::State& state)
{
    const std::vector<std::string> files = seriesFiles();
    std::vector<char> buffer;
    double best = std::numeric_limits<double>::infinity();
    const double cpuStart = processCpuSeconds();
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        std::size_t total = 0;
        for (const auto& file : files) {
            std::ifstream in(file, std::ios::binary);
            buffer.resize(static_cast<std::size_t>(fs::file_size(file)));
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            total += static_cast<std::size_t>(in.gcount());
        }
        benchmark::DoNotOptimize(total);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    finish(state, "bytes", best, processCpuSeconds() - cpuStart);
}

void NeedlePlanLoader(benchmark::State& state)
{
    const std::string folder = seriesFolder();
    double best = std::numeric_limits<double>::infinity();
    const double cpuStart = processCpuSeconds();
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        Volume volume = loadVolume(folder);
        benchmark::DoNotOptimize(volume.data());
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (volume.geometry().size[2] != kSlices && !std::getenv("NP_BENCH_DICOM_DIR"))
            state.SkipWithError("unexpected slice count");
    }
    finish(state, "loader", best, processCpuSeconds() - cpuStart);
}

void ItkGdcmSeriesReader(benchmark::State& state)
{
    const std::string folder = seriesFolder();
    double best = std::numeric_limits<double>::infinity();
    const double cpuStart = processCpuSeconds();
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        auto names = itk::GDCMSeriesFileNames::New();
        names->SetDirectory(folder);
        const auto uids = names->GetSeriesUIDs();
        auto reader = itk::ImageSeriesReader<itk::Image<float, 3>>::New();
        reader->SetImageIO(itk::GDCMImageIO::New());
        reader->SetFileNames(names->GetFileNames(uids.front()));
        reader->Update();
        benchmark::DoNotOptimize(reader->GetOutput()->GetBufferPointer());
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    finish(state, "itk", best, processCpuSeconds() - cpuStart);
}

} // namespace

BENCHMARK(PlainByteRead)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(NeedlePlanLoader)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(ItkGdcmSeriesReader)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv))
        return 1;
    seriesFolder(); // write the series before any timing
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    const auto& best = bestSeconds();
    if (best.count("loader") && best.count("itk") && best.count("bytes")) {
        std::printf("\nbest of each, %lld x %lld x %lld series (%.1f MB of files):\n", static_cast<long long>(kColumns),
                    static_cast<long long>(kRows), static_cast<long long>(kSlices), seriesBytes() / 1e6);
        std::printf("  plain byte read   %8.1f ms\n", best.at("bytes") * 1e3);
        std::printf("  NeedlePlan loader %8.1f ms\n", best.at("loader") * 1e3);
        std::printf("  ITK GDCM reader   %8.1f ms\n", best.at("itk") * 1e3);
        std::printf("  loader throughput / ITK throughput:       %.2f (goal >= 2)\n", best.at("itk") / best.at("loader"));
        std::printf("  byte-read throughput / loader throughput: %.2f (goal <= 2)\n", best.at("loader") / best.at("bytes"));
        std::printf("  CPU seconds per load (all threads): bytes %.3f, loader %.3f, ITK %.3f\n", best.at("bytes cpu"),
                    best.at("loader cpu"), best.at("itk cpu"));
    }
    return 0;
}
