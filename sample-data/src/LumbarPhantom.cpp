#include "needleplan/phantom/LumbarPhantom.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "PhantomAnatomy.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

namespace np::phantom {

using namespace detail;

namespace {

const char* const kStructureNames[LabelCount] = {
    "", "skin", "fat", "body", "muscle", "psoas_left", "psoas_right", "kidney_left", "kidney_right", "aorta", "ivc",
    "common_iliac_artery_left", "common_iliac_artery_right", "common_iliac_vein_left", "common_iliac_vein_right",
    "disc_L2_L3", "disc_L3_L4", "disc_L4_L5", "disc_L5_S1",
    "facet_joint_L3_L4_left", "facet_joint_L3_L4_right", "facet_joint_L4_L5_left", "facet_joint_L4_L5_right",
    "facet_joint_L5_S1_left", "facet_joint_L5_S1_right",
    "vertebra_L3", "vertebra_L4", "vertebra_L5", "sacrum", "bone_ilium_left", "bone_ilium_right",
    "spinal_canal", "dura",
    "nerve_root_L3_left", "nerve_root_L3_right", "nerve_root_L4_left", "nerve_root_L4_right",
    "nerve_root_L5_left", "nerve_root_L5_right", "nerve_root_S1_left", "nerve_root_S1_right",
    "table"};

std::array<double, 3> colorOf(std::uint16_t label)
{
    if (isBone(label))
        return {0.95, 0.91, 0.80};
    switch (label) {
    case Skin: return {0.94, 0.76, 0.67};
    case Fat: return {0.98, 0.90, 0.55};
    case Body: return {0.86, 0.62, 0.56};
    case Muscle: return {0.75, 0.30, 0.25};
    case PsoasLeft: case PsoasRight: return {0.80, 0.38, 0.32};
    case KidneyLeft: case KidneyRight: return {0.60, 0.25, 0.35};
    case Aorta: case IliacArteryLeft: case IliacArteryRight: return {0.85, 0.10, 0.10};
    case Ivc: case IliacVeinLeft: case IliacVeinRight: return {0.25, 0.35, 0.85};
    case SpinalCanal: return {0.90, 0.80, 0.40};
    case Dura: return {0.30, 0.60, 1.00};
    case Table: return {0.40, 0.40, 0.40};
    default: break;
    }
    if (label >= DiscL2L3 && label <= DiscL5S1)
        return {0.30, 0.70, 0.60};
    if (label >= FacetL3L4Left && label <= FacetL5S1Right)
        return {0.20, 0.90, 0.90};
    return {1.00, 0.85, 0.00}; // nerve roots
}

Mat3 scannerDirection(const std::string& position)
{
    if (position == "HFS")
        return Mat3::fromColumns({1, 0, 0}, {0, 1, 0}, {0, 0, 1});
    if (position == "HFP")
        return Mat3::fromColumns({-1, 0, 0}, {0, -1, 0}, {0, 0, 1});
    if (position == "FFS")
        return Mat3::fromColumns({-1, 0, 0}, {0, 1, 0}, {0, 0, -1});
    if (position == "FFP")
        return Mat3::fromColumns({1, 0, 0}, {0, -1, 0}, {0, 0, -1});
    throw Error(ErrorCode::InvalidArgument,
                "phantom: unknown patient position '" + position + "' (expected HFS, HFP, FFS or FFP)");
}

Mat3 rotationAbout(const Vec3& axisLps, double angle)
{
    const Vec3 k = normalized(axisLps);
    const double c = std::cos(angle), s = std::sin(angle), t = 1.0 - c;
    return Mat3{{t * k.x * k.x + c, t * k.x * k.y - s * k.z, t * k.x * k.z + s * k.y,
                 t * k.x * k.y + s * k.z, t * k.y * k.y + c, t * k.y * k.z - s * k.x,
                 t * k.x * k.z - s * k.y, t * k.y * k.z + s * k.x, t * k.z * k.z + c}};
}

/// Deterministic noise in [-1, 1] with a triangular distribution (variance 1/6).
inline double hashNoise(std::uint32_t seed, std::int64_t i, std::int64_t j, std::int64_t k)
{
    std::uint64_t h = static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<std::uint64_t>(i) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(j) * 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
    h ^= static_cast<std::uint64_t>(k) * 0x165667B19E3779F9ull + (h << 6) + (h >> 2);
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    const double u1 = static_cast<double>(h & 0xFFFFFFFFull) / 4294967295.0;
    const double u2 = static_cast<double>(h >> 32) / 4294967295.0;
    return u1 + u2 - 1.0;
}

template <typename Work>
void parallelSlices(std::int64_t slices, Work&& work)
{
    const std::int64_t threads =
        std::max<std::int64_t>(1, std::min<std::int64_t>(slices, std::max(1u, std::thread::hardware_concurrency())));
    std::atomic<std::int64_t> next{0};
    std::exception_ptr error;
    std::atomic<bool> failed{false};
    std::mutex mutex;
    auto run = [&] {
        try {
            for (std::int64_t k; !failed && (k = next.fetch_add(1)) < slices;)
                work(k);
        } catch (...) {
            const std::lock_guard<std::mutex> lock(mutex);
            if (!error)
                error = std::current_exception();
            failed = true;
        }
    };
    std::vector<std::thread> pool;
    for (std::int64_t t = 1; t < threads; ++t)
        pool.emplace_back(run);
    run();
    for (auto& thread : pool)
        thread.join();
    if (error)
        std::rethrow_exception(error);
}

} // namespace

namespace {

/// The phantom on a grid `n` times finer (same centre and direction), its HU averaged over n^3
/// blocks; the labels sampled at the coarse voxel centres.
Phantom generateWithPartialVolume(const PhantomOptions& options, ProgressSink* progress)
{
    const int n = options.partialVolume;
    PhantomOptions coarseOptions = options;
    coarseOptions.partialVolume = 1;
    coarseOptions.noiseHu = 0.0;
    Phantom coarse = generateLumbarPhantom(coarseOptions, progress);
    const imaging::Geometry& g = coarse.ct.geometry();
    PhantomOptions fineOptions = coarseOptions;
    fineOptions.spacing = options.spacing * (1.0 / n);
    fineOptions.size = {g.size[0] * n, g.size[1] * n, g.size[2] * n};
    fineOptions.directionLps = g.directionLps; // already rotated
    fineOptions.obliqueDeg = 0.0;
    fineOptions.obliqueTest = false;
    const Phantom fine = generateLumbarPhantom(fineOptions, progress);
    const float* fineHu = fine.ct.data();
    const std::int64_t fi = g.size[0] * n, fj = g.size[1] * n;
    const double noiseScale = options.noiseHu * std::sqrt(6.0);
    float* hu = coarse.ct.data();
    parallelSlices(g.size[2], [&](std::int64_t k) {
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i) {
                double sum = 0.0;
                for (int c = 0; c < n; ++c)
                    for (int b = 0; b < n; ++b)
                        for (int a = 0; a < n; ++a)
                            sum += fineHu[(i * n + a) + fi * ((j * n + b) + fj * (k * n + c))];
                double value = sum / double(n * n * n);
                if (noiseScale > 0.0)
                    value += noiseScale * hashNoise(options.seed, i, j, k);
                hu[i + g.size[0] * (j + g.size[1] * k)] = static_cast<float>(value);
            }
    });
    return coarse;
}

} // namespace

std::vector<imaging::Segment> phantomStructures()
{
    std::vector<imaging::Segment> segments;
    for (std::uint16_t label = 1; label < LabelCount; ++label)
        segments.push_back({kStructureNames[label], label, colorOf(label)});
    return segments;
}

std::string structureAt(const Vec3& pointLps)
{
    return kStructureNames[anatomy().labelAt(pointLps)];
}

Vec3 vertebralBodyCentreLps(const std::string& name)
{
    if (name == "L3")
        return {0.0, 0.0, 74.0};
    if (name == "L4")
        return {0.0, 0.0, 37.0};
    if (name == "L5")
        return {0.0, 0.0, 0.0};
    if (name == "S1")
        return {0.0, 0.0, -36.0};
    throw Error(ErrorCode::InvalidArgument, "phantom: no vertebra named '" + name + "'");
}

Phantom generateLumbarPhantom(const PhantomOptions& options, ProgressSink* progress)
{
    const Anatomy& model = anatomy();
    for (int a = 0; a < 3; ++a) {
        if (!(options.spacing[a] >= 0.05 && options.spacing[a] <= 20.0))
            throw Error(ErrorCode::InvalidArgument, "phantom: spacing must be between 0.05 and 20 mm on every axis");
        if (options.size[static_cast<std::size_t>(a)] < 0 || options.size[static_cast<std::size_t>(a)] > 4096)
            throw Error(ErrorCode::InvalidArgument, "phantom: size must be between 1 and 4096 voxels on every axis");
    }
    if (!(options.noiseHu >= 0.0 && options.noiseHu <= 1000.0))
        throw Error(ErrorCode::InvalidArgument, "phantom: noise must be between 0 and 1000 HU");
    if (!std::isfinite(options.obliqueDeg) || std::abs(options.obliqueDeg) > 180.0)
        throw Error(ErrorCode::InvalidArgument, "phantom: oblique angle must be within +-180 degrees");
    if (options.partialVolume < 1 || options.partialVolume > 8)
        throw Error(ErrorCode::InvalidArgument, "phantom: partial volume must be between 1 and 8 sub-voxels per axis");
    if (!std::isfinite(options.cancellousHuOffset) || std::abs(options.cancellousHuOffset) > 1000.0)
        throw Error(ErrorCode::InvalidArgument, "phantom: cancellous HU offset must be within +-1000 HU");
    if (options.partialVolume > 1)
        return generateWithPartialVolume(options, progress);

    imaging::Geometry geometry;
    geometry.spacing = options.spacing;
    for (int a = 0; a < 3; ++a) {
        const auto requested = options.size[static_cast<std::size_t>(a)];
        geometry.size[static_cast<std::size_t>(a)] =
            requested > 0 ? requested
                          : static_cast<std::int64_t>(std::ceil(model.fieldExtentMm[a] / options.spacing[a] - 1e-9));
    }
    if (static_cast<double>(geometry.voxelCount()) > 1.2e9)
        throw Error(ErrorCode::InvalidArgument, "phantom: the requested grid has too many voxels");
    Mat3 direction = options.directionLps ? *options.directionLps : scannerDirection(options.patientPosition);
    if (options.directionLps)
        (void)scannerDirection(options.patientPosition); // still validate the position
    const double obliqueDeg = options.obliqueDeg != 0.0 ? options.obliqueDeg : (options.obliqueTest ? 20.0 : 0.0);
    if (obliqueDeg != 0.0)
        direction = rotationAbout({1.0, 2.0, 3.0}, obliqueDeg * M_PI / 180.0) * direction;
    geometry.directionLps = direction;
    const Vec3 halfIjk{0.5 * static_cast<double>(geometry.size[0] - 1), 0.5 * static_cast<double>(geometry.size[1] - 1),
                       0.5 * static_cast<double>(geometry.size[2] - 1)};
    geometry.originLps = model.fieldCentreLps - geometry.lpsFromIjkLinear() * halfIjk;
    geometry.validate("phantom");
    // The anatomy is sampled through the inverse of its motion: voxel ijk of the scanner grid
    // shows the resting anatomy at motion⁻¹(lps(ijk)), which is the grid `sampling` at ijk.
    imaging::Geometry sampling = geometry;
    if (options.anatomyMotion) {
        const imaging::RigidTransform restFromScan = options.anatomyMotion->inverse();
        sampling.originLps = restFromScan.apply(geometry.originLps);
        sampling.directionLps = restFromScan.rotation * geometry.directionLps;
    }

    Phantom phantom;
    phantom.labels = imaging::LabelMap(geometry);
    phantom.labels.segments() = phantomStructures();
    phantom.ct = imaging::Volume(geometry, -1000.0f);
    auto& info = phantom.ct.info();
    info.modality = "CT";
    info.patientPosition = options.patientPosition;
    info.description = "NeedlePlan lumbar phantom L3-S1";

    const Mat3 step = sampling.lpsFromIjkLinear();
    const Vec3 di = step.column(0), dj = step.column(1), dk = step.column(2);
    const std::int64_t ni = geometry.size[0], nj = geometry.size[1], nk = geometry.size[2];
    std::uint16_t* labels = phantom.labels.data();

    // Shape bounding boxes in continuous ijk (conservative: the 8 corners of the LPS box).
    struct IjkBox { std::int64_t lo[3], hi[3]; bool empty; };
    std::vector<IjkBox> boxes(model.shapes.size());
    for (std::size_t s = 0; s < model.shapes.size(); ++s) {
        const Shape& shape = model.shapes[s];
        double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
        for (int c = 0; c < 8; ++c) {
            const Vec3 corner{(c & 1) ? shape.boxMax.x : shape.boxMin.x, (c & 2) ? shape.boxMax.y : shape.boxMin.y,
                              (c & 4) ? shape.boxMax.z : shape.boxMin.z};
            const Vec3 ijk = sampling.ijkFromLps(corner);
            for (int a = 0; a < 3; ++a) {
                lo[a] = std::min(lo[a], ijk[a]);
                hi[a] = std::max(hi[a], ijk[a]);
            }
        }
        IjkBox& box = boxes[s];
        box.empty = false;
        for (int a = 0; a < 3; ++a) {
            const double n = static_cast<double>(geometry.size[static_cast<std::size_t>(a)]);
            box.lo[a] = static_cast<std::int64_t>(std::max(0.0, std::floor(std::max(lo[a], -1.0))));
            box.hi[a] = static_cast<std::int64_t>(std::min(n - 1.0, std::ceil(std::min(hi[a], n))));
            if (box.lo[a] > box.hi[a])
                box.empty = true;
        }
    }
    // Shapes in ascending precedence: a later shape overwrites an earlier one of lower rank.
    std::vector<std::size_t> order(model.shapes.size());
    for (std::size_t s = 0; s < order.size(); ++s)
        order[s] = s;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return precedence(model.shapes[x].label) < precedence(model.shapes[y].label);
    });
    int rankOf[LabelCount];
    for (std::uint16_t label = 0; label < LabelCount; ++label)
        rankOf[label] = precedence(label);

    std::atomic<std::int64_t> labelledSlices{0};
    parallelSlices(nk, [&](std::int64_t k) {
        throwIfCancelled(progress);
        std::uint16_t* slice = labels + k * ni * nj;
        for (std::size_t s : order) {
            const IjkBox& box = boxes[s];
            if (box.empty || k < box.lo[2] || k > box.hi[2])
                continue;
            const Shape& shape = model.shapes[s];
            const int rank = rankOf[shape.label];
            for (std::int64_t j = box.lo[1]; j <= box.hi[1]; ++j) {
                Vec3 p = sampling.originLps + dk * static_cast<double>(k) + dj * static_cast<double>(j) +
                         di * static_cast<double>(box.lo[0]);
                std::uint16_t* row = slice + j * ni;
                for (std::int64_t i = box.lo[0]; i <= box.hi[0]; ++i, p += di) {
                    if (rankOf[row[i]] >= rank)
                        continue;
                    if (p.x < shape.boxMin.x || p.x > shape.boxMax.x || p.y < shape.boxMin.y || p.y > shape.boxMax.y ||
                        p.z < shape.boxMin.z || p.z > shape.boxMax.z)
                        continue;
                    if (shape.contains(p))
                        row[i] = shape.label;
                }
            }
        }
        reportProgress(progress, 0.6 * static_cast<double>(++labelledSlices) / static_cast<double>(nk),
                       "Generating phantom anatomy");
    });

    // Intensities: tissue HU, a cortical shell on bone (bone voxels within about 1.25 mm of
    // non-bone along a grid axis, at least one voxel), deterministic noise.
    std::int64_t reach[3];
    for (int a = 0; a < 3; ++a)
        reach[a] = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::lround(1.25 / geometry.spacing[a])));
    const std::int64_t stride[3] = {1, ni, ni * nj};
    const double noiseScale = options.noiseHu * std::sqrt(6.0);
    float* hu = phantom.ct.data();
    std::atomic<std::int64_t> shadedSlices{0};
    parallelSlices(nk, [&](std::int64_t k) {
        throwIfCancelled(progress);
        for (std::int64_t j = 0; j < nj; ++j)
            for (std::int64_t i = 0; i < ni; ++i) {
                const std::int64_t v = i + ni * (j + nj * k);
                const std::uint16_t label = labels[v];
                double value;
                if (isBone(label)) {
                    bool cortical = false;
                    const std::int64_t at[3] = {i, j, k};
                    for (int a = 0; a < 3 && !cortical; ++a)
                        for (std::int64_t r = 1; r <= reach[a] && !cortical; ++r)
                            for (int sign : {-1, 1}) {
                                const std::int64_t q = at[a] + sign * r;
                                if (q < 0 || q >= geometry.size[static_cast<std::size_t>(a)])
                                    continue;
                                if (!isBone(labels[v + sign * r * stride[a]])) {
                                    cortical = true;
                                    break;
                                }
                            }
                    value = cortical ? 1150.0 : cancellousHu(label) + options.cancellousHuOffset;
                } else {
                    value = tissueHu(label);
                }
                if (noiseScale > 0.0)
                    value += noiseScale * hashNoise(options.seed, i, j, k);
                hu[v] = static_cast<float>(value);
            }
        reportProgress(progress, 0.6 + 0.4 * static_cast<double>(++shadedSlices) / static_cast<double>(nk),
                       "Generating phantom intensities");
    });

    for (const auto& spec : model.targets)
        phantom.targets.push_back({spec.name, spec.positionLps, spec.level, spec.side, spec.kind, spec.description});
    return phantom;
}

} // namespace np::phantom
