// Planning benchmarks on the sample lumbar phantom (default grid and 512×512×400):
//  - FieldsAndSearch: the whole plan for one target (clearance fields from scratch + 20 000-direction search)
//  - Search50k: a 50 000-direction search once the fields exist (2 threads)
//  - FieldsOnly: the clearance fields of every structure for one target
//  - ReevaluateMovedEntry: full evaluation of one trajectory whose entry moved (fields reused)
//  - BodyModel: body mask from the CT (once per image)
// The CPU column is the process CPU time of all threads (ITK and search workers included).
// Run: build/<dir>/bench/np_bench_planningbench [--benchmark_filter=...]; peak memory with
// /usr/bin/time -v.

#include "needleplan/phantom/LumbarPhantom.h"
#include "needleplan/planning/BodyModel.h"
#include "needleplan/planning/ClearanceField.h"
#include "needleplan/planning/Preset.h"
#include "needleplan/planning/TrajectorySearch.h"

#include <benchmark/benchmark.h>
#include <map>
#include <memory>

using namespace np;
using namespace np::planning;

namespace {

/// One phantom per grid size, built on first use.
struct Scene
{
    phantom::Phantom phantom;
    BodyModel body;
    std::vector<StructureSpec> structures;
    Vec3 targetLps;
    Preset preset;
    Needle needle;
};

Scene& scene(int large)
{
    static std::map<int, std::unique_ptr<Scene>> scenes;
    auto& slot = scenes[large];
    if (!slot) {
        slot = std::make_unique<Scene>();
        phantom::PhantomOptions options;
        if (large)
            options.size = {512, 512, 400};
        slot->phantom = phantom::generateLumbarPhantom(options);
        slot->body = BodyModel::fromCt(slot->phantom.ct);
        slot->preset = loadPreset("lumbar-mbb");
        slot->structures = defaultStructures(slot->phantom.labels);
        applyPresetRules(slot->preset, slot->structures);
        slot->needle = *findNeedle(slot->preset.needle);
        slot->targetLps = slot->phantom.targets.front().positionLps;
        for (const auto& t : slot->phantom.targets)
            if (t.name.find("L4 medial branch left") != std::string::npos)
                slot->targetLps = t.positionLps;
    }
    return *slot;
}

SearchOptions options(int directions)
{
    SearchOptions o;
    o.directionCount = directions;
    o.topK = 5;
    o.threads = 2;
    o.evaluation.patientPosition = PatientPosition::HFP;
    return o;
}

void FieldsAndSearch(benchmark::State& state)
{
    Scene& s = scene(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        ClearanceFieldSet fields(s.phantom.labels);
        const auto result =
            planTarget(fields, s.structures, s.body, s.targetLps, s.needle, s.preset, options(20000));
        benchmark::DoNotOptimize(result.feasibleCount);
        state.counters["feasible"] = result.feasibleCount;
        state.counters["maps"] = fields.computedMapCount();
        state.counters["refusedByFullEvaluation"] = result.rejectedByFullEvaluation;
        state.counters["returned"] = static_cast<double>(result.candidates.size());
    }
}

void FieldsOnly(benchmark::State& state)
{
    Scene& s = scene(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        ClearanceFieldSet fields(s.phantom.labels);
        fields.prepare(s.structures, s.targetLps, s.needle.usableLengthMm + 5.0);
        benchmark::DoNotOptimize(fields.computedMapCount());
    }
}

void Search50k(benchmark::State& state)
{
    Scene& s = scene(static_cast<int>(state.range(0)));
    ClearanceFieldSet fields(s.phantom.labels);
    fields.prepare(s.structures, s.targetLps, s.needle.usableLengthMm + 5.0);
    for (auto _ : state) {
        const auto result =
            planTarget(fields, s.structures, s.body, s.targetLps, s.needle, s.preset, options(50000));
        benchmark::DoNotOptimize(result.feasibleCount);
        state.counters["feasible"] = result.feasibleCount;
    }
}

void ReevaluateMovedEntry(benchmark::State& state)
{
    Scene& s = scene(static_cast<int>(state.range(0)));
    ClearanceFieldSet fields(s.phantom.labels);
    fields.prepare(s.structures, s.targetLps, s.needle.usableLengthMm + 5.0);
    TrajectoryEvaluator evaluator(fields, s.structures, &s.body);
    EvaluationOptions eo;
    eo.patientPosition = PatientPosition::HFP;
    eo.tipZoneMm = s.preset.tipZoneMm;
    int n = 0;
    for (auto _ : state) {
        const Vec3 entry = s.targetLps + Vec3{25.0 + 0.01 * (n % 100), 55.0, -3.0};
        ++n;
        const Evaluation e = evaluator.evaluate(Trajectory{entry, s.targetLps, s.needle}, eo);
        benchmark::DoNotOptimize(e.safe);
    }
}

void BodyModelFromCt(benchmark::State& state)
{
    Scene& s = scene(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        const BodyModel body = BodyModel::fromCt(s.phantom.ct);
        benchmark::DoNotOptimize(body.midlineXLps());
    }
}

} // namespace

BENCHMARK(FieldsAndSearch)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(FieldsOnly)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(Search50k)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(5)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(ReevaluateMovedEntry)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BodyModelFromCt)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(2)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK_MAIN();
