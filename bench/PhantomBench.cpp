// The sample phantom: generating the default grid, and writing a 512 x 512 x 400 phantom as a
// DICOM series and as a .seg.nrrd label map.
//
//   build/<dir>/bench/np_bench_phantombench [--benchmark_filter=...]
//
// Output goes to a fresh folder under $TMPDIR (removed at the end). The 512 x 512 x 400 phantom is
// generated once, outside the timed loops. Bytes per second count the bytes written to disk; items
// per second count voxels.

#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

#include "needleplan/imaging/DicomSeriesWriter.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/phantom/LumbarPhantom.h"

namespace fs = std::filesystem;

namespace {

/// A scratch folder under $TMPDIR, removed at exit.
class ScratchFolder
{
public:
    ScratchFolder()
        : m_path(fs::temp_directory_path() / ("needleplan-phantom-bench-" + std::to_string(::getpid())))
    {
        fs::create_directories(m_path);
    }
    ~ScratchFolder()
    {
        std::error_code ignored;
        fs::remove_all(m_path, ignored);
    }
    ScratchFolder(const ScratchFolder&) = delete;
    ScratchFolder& operator=(const ScratchFolder&) = delete;

    const fs::path& path() const { return m_path; }

private:
    fs::path m_path;
};

const ScratchFolder& scratch()
{
    static const ScratchFolder folder;
    return folder;
}

std::int64_t bytesUnder(const fs::path& path)
{
    std::int64_t bytes = 0;
    if (fs::is_regular_file(path))
        return static_cast<std::int64_t>(fs::file_size(path));
    for (const auto& entry : fs::recursive_directory_iterator(path))
        if (entry.is_regular_file())
            bytes += static_cast<std::int64_t>(entry.file_size());
    return bytes;
}

/// The phantom sampled on 512 x 512 x 400 voxels of 0.8 x 0.8 x 1.0 mm (HFP), generated once.
const np::phantom::Phantom& largePhantom()
{
    static const np::phantom::Phantom phantom = [] {
        np::phantom::PhantomOptions options;
        options.size = {512, 512, 400};
        options.spacing = {0.8, 0.8, 1.0};
        return np::phantom::generateLumbarPhantom(options);
    }();
    return phantom;
}

void GenerateDefaultPhantom(benchmark::State& state)
{
    std::int64_t voxels = 0;
    for (auto _ : state) {
        const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom();
        voxels = phantom.ct.geometry().voxelCount();
        benchmark::DoNotOptimize(phantom.ct.data());
    }
    state.SetItemsProcessed(state.iterations() * voxels);
    state.counters["voxels"] = static_cast<double>(voxels);
}
BENCHMARK(GenerateDefaultPhantom)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void WriteDicomSeries512(benchmark::State& state)
{
    const np::phantom::Phantom& phantom = largePhantom();
    const fs::path folder = scratch().path() / "dicom";
    np::imaging::DicomWriteOptions options;
    options.patientPosition = "HFP";
    options.seriesDescription = "benchmark phantom";
    std::int64_t bytes = 0;
    for (auto _ : state) {
        const auto written = np::imaging::writeDicomSeries(phantom.ct, folder.string(), options);
        benchmark::DoNotOptimize(written.data());
        state.PauseTiming();
        bytes = bytesUnder(folder);
        std::error_code ignored;
        fs::remove_all(folder, ignored);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(WriteDicomSeries512)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

void WriteSegNrrd512(benchmark::State& state)
{
    const np::phantom::Phantom& phantom = largePhantom();
    const fs::path file = scratch().path() / "structures.seg.nrrd";
    std::int64_t bytes = 0;
    for (auto _ : state) {
        np::imaging::writeSegNrrd(phantom.labels, file.string());
        state.PauseTiming();
        bytes = bytesUnder(file);
        std::error_code ignored;
        fs::remove(file, ignored);
        state.ResumeTiming();
    }
    // The file is gzip-compressed, so the rate is given in voxels per second, not bytes.
    state.SetItemsProcessed(state.iterations() * phantom.labels.geometry().voxelCount());
    state.counters["file_MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(WriteSegNrrd512)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

/// Everything the phantom command writes: series, label map and targets.
void WritePhantom512(benchmark::State& state)
{
    const np::phantom::Phantom& phantom = largePhantom();
    const fs::path folder = scratch().path() / "phantom";
    std::int64_t bytes = 0;
    for (auto _ : state) {
        np::phantom::writePhantom(phantom, folder.string());
        state.PauseTiming();
        bytes = bytesUnder(folder);
        std::error_code ignored;
        fs::remove_all(folder, ignored);
        state.ResumeTiming();
    }
    state.SetBytesProcessed(state.iterations() * bytes);
}
BENCHMARK(WritePhantom512)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

} // namespace

BENCHMARK_MAIN();
