// Automatic segmentation of the lumbar phantom's variants, timed, with its agreement with the
// phantom's ground truth as counters: Dice of bone, spinal canal and each named vertebra, bone
// sensitivity, and the lung voxels found (the phantom has no lung, so any is wrong).
// Run: np_bench_segmentationaccuracybench (about a minute on 2 cores).

#include "needleplan/imaging/Segmentation.h"
#include "needleplan/phantom/LumbarPhantom.h"

#include <benchmark/benchmark.h>
#include <map>

namespace {

using namespace np::imaging;

struct Variant
{
    const char* name;
    np::phantom::PhantomOptions options;
};

std::vector<Variant> variants()
{
    std::vector<Variant> v;
    v.push_back({"prone_0.8x0.8x1", {}});
    np::phantom::PhantomOptions supine;
    supine.patientPosition = "HFS";
    v.push_back({"supine_0.8x0.8x1", supine});
    np::phantom::PhantomOptions anisotropic;
    anisotropic.spacing = {0.7, 1.1, 2.5};
    v.push_back({"anisotropic_0.7x1.1x2.5", anisotropic});
    np::phantom::PhantomOptions oblique;
    oblique.obliqueDeg = 20.0;
    v.push_back({"oblique20_0.8x0.8x1", oblique});
    np::phantom::PhantomOptions coarse;
    coarse.spacing = {3.0, 3.0, 3.0};
    coarse.partialVolume = 3;
    v.push_back({"coarse3mm_partialvolume", coarse});
    np::phantom::PhantomOptions osteoporotic = coarse;
    osteoporotic.cancellousHuOffset = -150.0;
    v.push_back({"coarse3mm_partialvolume_osteoporotic", osteoporotic});
    return v;
}

std::vector<std::uint8_t> truthMask(const LabelMap& labels, const std::vector<std::string>& names)
{
    std::vector<std::uint8_t> wanted(65536, 0);
    for (const auto& segment : labels.segments())
        for (const auto& name : names)
            if (segment.name == name ||
                (name.back() == '*' && segment.name.rfind(name.substr(0, name.size() - 1), 0) == 0))
                wanted[segment.labelValue] = 1;
    std::vector<std::uint8_t> mask(labels.labels().size());
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = wanted[labels.labels()[v]];
    return mask;
}

/// Dice and sensitivity of `found` (may be null: empty) against `truth`.
std::pair<double, double> agreement(const StructureMask* found, const std::vector<std::uint8_t>& truth)
{
    std::int64_t both = 0, a = 0, b = 0;
    for (std::size_t v = 0; v < truth.size(); ++v) {
        const bool f = found && found->voxels[v];
        both += f && truth[v];
        a += f;
        b += truth[v];
    }
    return {a + b == 0 ? 1.0 : 2.0 * double(both) / double(a + b), b == 0 ? 1.0 : double(both) / double(b)};
}

void segmentPhantom(benchmark::State& state)
{
    const Variant variant = variants()[static_cast<std::size_t>(state.range(0))];
    state.SetLabel(variant.name);
    const np::phantom::Phantom phantom = np::phantom::generateLumbarPhantom(variant.options);
    SegmentationOptions options;
    options.threads = 2;
    StructureSet set;
    for (auto _ : state)
        set = segmentStructures(phantom.ct, options);
    const auto bone =
        agreement(set.find("bone"), truthMask(phantom.labels, {"vertebra_*", "sacrum", "bone_*"}));
    state.counters["bone_dice"] = bone.first;
    state.counters["bone_sensitivity"] = bone.second;
    const auto canal =
        agreement(set.find("spinal_canal"), truthMask(phantom.labels, {"spinal_canal", "dura"}));
    state.counters["canal_dice"] = canal.first;
    state.counters["canal_sensitivity"] = canal.second;
    for (const char* level : {"vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum"})
        state.counters[std::string(level) + "_dice"] =
            agreement(set.find(level), truthMask(phantom.labels, {level})).first;
    state.counters["lung_voxels"] = set.find("lung") ? double(set.find("lung")->voxelCount()) : 0.0;
    state.counters["gas_voxels"] = set.find("bowel_gas") ? double(set.find("bowel_gas")->voxelCount()) : 0.0;
    state.counters["voxels"] = double(phantom.ct.geometry().voxelCount());
}
BENCHMARK(segmentPhantom)->DenseRange(0, 5)->Unit(benchmark::kMillisecond)->Iterations(1);

} // namespace

BENCHMARK_MAIN();
