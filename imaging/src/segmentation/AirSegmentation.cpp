#include "SegmentationSteps.h"

#include <limits>
#include <sstream>

namespace np::imaging::segmentation {

namespace {

constexpr float kHistogramLowHu = -1100.0f;
constexpr float kHistogramBinHu = 5.0f;
constexpr int kHistogramBins = 200; // -1100 .. -100 HU
constexpr double kCapHeightMm = 10.0;

struct AirComponent
{
    std::vector<std::int64_t> histogram = std::vector<std::int64_t>(kHistogramBins, 0);
    double topZ = -std::numeric_limits<double>::infinity();
    bool touchesCranialFace = false;
    std::int64_t capVoxels = 0;

    double medianHu(std::int64_t count) const
    {
        std::int64_t seen = 0;
        for (int b = 0; b < kHistogramBins; ++b) {
            seen += histogram[static_cast<std::size_t>(b)];
            if (2 * seen >= count)
                return kHistogramLowHu + (double(b) + 0.5) * kHistogramBinHu;
        }
        return kHistogramLowHu + kHistogramBins * kHistogramBinHu;
    }
};

std::string formatMl(double ml)
{
    std::ostringstream out;
    out.precision(ml < 10.0 ? 2 : 0);
    out << std::fixed << ml;
    return out.str();
}

} // namespace

void classifyAir(const Volume& ct, const Mask& air, const SegmentationOptions& options, Mask& lung,
                 Mask& bowelGas, std::vector<std::string>& notes)
{
    const Geometry& g = ct.geometry();
    const std::int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
    const double voxelMl = g.spacing.x * g.spacing.y * g.spacing.z / 1000.0;
    const RunComponents components(air, g.size, options.threads);
    const auto& sizes = components.sizes();
    const auto lungMin = static_cast<std::int64_t>(std::ceil(options.lungMinVolumeMl / voxelMl));
    const auto gasMin = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil(options.bowelGasMinVolumeMl / voxelMl)));
    const std::int64_t studied = std::min(lungMin, gasMin);

    // Statistics only for the components large enough to be named.
    std::vector<std::int64_t> slot(sizes.size(), -1);
    std::vector<AirComponent> stats;
    for (std::size_t c = 0; c < sizes.size(); ++c)
        if (sizes[c] >= std::max<std::int64_t>(studied, 1)) {
            slot[c] = static_cast<std::int64_t>(stats.size());
            stats.emplace_back();
        }

    // LPS z along the grid: z = z0 + dzI * i + dzJ * j + dzK * k.
    const Mat3 step = g.lpsFromIjkLinear();
    const double z0 = g.originLps.z, dzI = step(2, 0), dzJ = step(2, 1), dzK = step(2, 2);
    // The faces of the grid whose outward normal points mostly superior.
    const Mat3& d = g.directionLps;
    const bool cranialLowI = -d(2, 0) > 0.5, cranialHighI = d(2, 0) > 0.5;
    const bool cranialLowJ = -d(2, 1) > 0.5, cranialHighJ = d(2, 1) > 0.5;
    const bool cranialLowK = -d(2, 2) > 0.5, cranialHighK = d(2, 2) > 0.5;
    const float* hu = ct.data();
    components.forEachRun(
        [&](std::int64_t c, std::int64_t j, std::int64_t k, std::int64_t begin, std::int64_t end) {
            const std::int64_t s = slot[static_cast<std::size_t>(c)];
            if (s < 0)
                return;
            AirComponent& a = stats[static_cast<std::size_t>(s)];
            const float* row = hu + nx * (j + ny * k);
            for (std::int64_t i = begin; i < end; ++i) {
                const int bin = static_cast<int>((row[i] - kHistogramLowHu) / kHistogramBinHu);
                ++a.histogram[static_cast<std::size_t>(std::clamp(bin, 0, kHistogramBins - 1))];
            }
            const double zRow = z0 + dzJ * double(j) + dzK * double(k);
            a.topZ = std::max({a.topZ, zRow + dzI * double(begin), zRow + dzI * double(end - 1)});
            a.touchesCranialFace = a.touchesCranialFace || (cranialLowI && begin == 0) ||
                                   (cranialHighI && end == nx) || (cranialLowJ && j == 0) ||
                                   (cranialHighJ && j == ny - 1) || (cranialLowK && k == 0) ||
                                   (cranialHighK && k == nz - 1);
        });
    // Volume within kCapHeightMm of each component's top (its trachea, or the apex of a lung).
    components.forEachRun(
        [&](std::int64_t c, std::int64_t j, std::int64_t k, std::int64_t begin, std::int64_t end) {
            const std::int64_t s = slot[static_cast<std::size_t>(c)];
            if (s < 0)
                return;
            AirComponent& a = stats[static_cast<std::size_t>(s)];
            const double zRow = z0 + dzJ * double(j) + dzK * double(k);
            const double floorZ = a.topZ - kCapHeightMm;
            if (std::abs(dzI) < 1e-12) {
                if (zRow >= floorZ)
                    a.capVoxels += end - begin;
                return;
            }
            for (std::int64_t i = begin; i < end; ++i)
                a.capVoxels += zRow + dzI * double(i) >= floorZ;
        });

    std::vector<std::uint8_t> keepLung(sizes.size(), 0), keepGas(sizes.size(), 0);
    int lungCount = 0, gasCount = 0, densityRejected = 0, aeratedBelow = 0;
    for (std::size_t c = 0; c < sizes.size(); ++c) {
        const std::int64_t s = slot[c];
        if (s < 0)
            continue;
        const AirComponent& a = stats[static_cast<std::size_t>(s)];
        const bool aerated = a.medianHu(sizes[c]) >= options.lungMinMedianHu;
        const bool reachesUp =
            a.touchesCranialFace || double(a.capVoxels) * voxelMl <= options.tracheaMaxCapMl;
        if (sizes[c] >= lungMin && aerated && reachesUp) {
            keepLung[c] = 1;
            ++lungCount;
        } else if (sizes[c] >= gasMin) {
            keepGas[c] = 1;
            ++gasCount;
            densityRejected += sizes[c] >= lungMin && !aerated;
            aeratedBelow += sizes[c] >= lungMin && aerated;
        }
    }
    lung = air;
    components.keepOnly(lung, keepLung, options.threads);
    bowelGas = air;
    components.keepOnly(bowelGas, keepGas, options.threads);
    if (lungCount == 0)
        notes.push_back("no lung found (no internal air region of at least " +
                        formatMl(options.lungMinVolumeMl) +
                        " ml that is aerated lung and reaches the top of the field of view or the trachea)");
    if (gasCount > 0) {
        std::int64_t voxels = 0;
        for (std::size_t c = 0; c < sizes.size(); ++c)
            voxels += keepGas[c] ? sizes[c] : 0;
        notes.push_back(std::to_string(gasCount) + " gas pocket(s) inside the body (" +
                        formatMl(double(voxels) * voxelMl) + " ml) are bowel gas, not lung" +
                        (densityRejected > 0 ? " (" + std::to_string(densityRejected) +
                                                   " large one(s) hold pure gas, not aerated lung)"
                                             : std::string()));
        if (aeratedBelow > 0)
            notes.push_back(
                std::to_string(aeratedBelow) +
                " aerated gas region(s) that look like lung but neither reach the top of the field of "
                "view nor end in the trachea were called bowel gas: check them on the images");
    }
}

} // namespace np::imaging::segmentation
