#include "needleplan/imaging/RigidRegistration.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <itkCommand.h>
#include <itkEuler3DTransform.h>
#include <itkImage.h>
#include <itkMeanSquaresImageToImageMetricv4.h>
#include <itkRegistrationParameterScalesFromPhysicalShift.h>
#include <itkRegularStepGradientDescentOptimizerv4.h>
#include <optional>
#include <random>
#include <thread>

namespace np::imaging {

namespace {

constexpr double kPi = 3.14159265358979323846;

using ItkImage = itk::Image<float, 3>;
using ItkTransform = itk::Euler3DTransform<double>;
using ItkMetric = itk::MeanSquaresImageToImageMetricv4<ItkImage, ItkImage>;
using ItkOptimizer = itk::RegularStepGradientDescentOptimizerv4<double>;

/// Runs `work(k)` for every slice k on the hardware's threads.
template <typename Work> void parallelSlices(std::int64_t count, Work&& work)
{
    const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(), 16u));
    std::atomic<std::int64_t> next{0};
    const auto run = [&] {
        for (std::int64_t k = next++; k < count; k = next++)
            work(k);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t)
        pool.emplace_back(run);
    run();
    for (auto& t : pool)
        t.join();
}

/// One level of the pyramid: the block-averaged image (clamped) and a sampling mask.
struct Level
{
    Volume image;                    ///< block means, clamped to the options' range
    std::vector<float> maxima;       ///< the largest original value in each block (unclamped)
    std::vector<unsigned char> mask; ///< 1 where samples may be drawn
    std::int64_t maskCount = 0;
};

/// Block factors that bring `g`'s spacing to about `targetSpacingMm` per axis (never finer).
std::array<std::int64_t, 3> blockFactors(const Geometry& g, double targetSpacingMm)
{
    std::array<std::int64_t, 3> factor{};
    for (int a = 0; a < 3; ++a) {
        const auto ua = static_cast<std::size_t>(a);
        factor[ua] = std::max<std::int64_t>(1, std::llround(targetSpacingMm / g.spacing[a]));
        factor[ua] = std::min(factor[ua], std::max<std::int64_t>(1, g.size[ua]));
    }
    return factor;
}

/// Block-averages `volume` by `factor` (the values clamped to the options' range); with
/// `keepMaxima`, also keeps each block's largest value, taken from `maxima` (one per voxel of
/// `volume`) when given, else from the values themselves. The mask is left for finishLevel().
Level blockAverage(const Volume& volume, const std::vector<float>* maxima,
                   const std::array<std::int64_t, 3>& factor, const RegistrationOptions& options,
                   bool keepMaxima)
{
    const Geometry& g = volume.geometry();
    Geometry coarse = g;
    for (int a = 0; a < 3; ++a) {
        const auto ua = static_cast<std::size_t>(a);
        coarse.size[ua] = std::max<std::int64_t>(1, g.size[ua] / factor[ua]);
        coarse.spacing[a] = g.spacing[a] * static_cast<double>(factor[ua]);
    }
    // The centre of block 0 sits at the mean of its voxel centres.
    coarse.originLps =
        g.lpsFromIjk(Vec3{0.5 * static_cast<double>(factor[0] - 1), 0.5 * static_cast<double>(factor[1] - 1),
                          0.5 * static_cast<double>(factor[2] - 1)});
    Level level;
    level.image = Volume(coarse, uninitializedVoxels);
    if (keepMaxima)
        level.maxima.resize(static_cast<std::size_t>(coarse.voxelCount()));
    const float inverseCount = 1.0f / static_cast<float>(factor[0] * factor[1] * factor[2]);
    const std::int64_t rowLength = coarse.size[0] * factor[0];
    parallelSlices(coarse.size[2], [&](std::int64_t kc) {
        // The block's rows are summed voxel by voxel first (a loop the compiler vectorises), then
        // collapsed along i.
        std::vector<float> sums(static_cast<std::size_t>(rowLength));
        std::vector<float> largest(keepMaxima ? static_cast<std::size_t>(rowLength) : 0);
        for (std::int64_t jc = 0; jc < coarse.size[1]; ++jc) {
            std::fill(sums.begin(), sums.end(), 0.0f);
            std::fill(largest.begin(), largest.end(), -HUGE_VALF);
            for (std::int64_t dk = 0; dk < factor[2]; ++dk)
                for (std::int64_t dj = 0; dj < factor[1]; ++dj) {
                    const std::int64_t rowStart =
                        volume.linearIndex(0, jc * factor[1] + dj, kc * factor[2] + dk);
                    const float* row = volume.data() + rowStart;
                    for (std::int64_t i = 0; i < rowLength; ++i)
                        sums[static_cast<std::size_t>(i)] +=
                            std::min(std::max(row[i], options.clampLowHu), options.clampHighHu);
                    if (keepMaxima) {
                        const float* rowMaxima = maxima ? maxima->data() + rowStart : row;
                        for (std::int64_t i = 0; i < rowLength; ++i)
                            largest[static_cast<std::size_t>(i)] =
                                std::max(largest[static_cast<std::size_t>(i)], rowMaxima[i]);
                    }
                }
            for (std::int64_t ic = 0; ic < coarse.size[0]; ++ic) {
                const auto index = static_cast<std::size_t>(level.image.linearIndex(ic, jc, kc));
                float sum = 0.0f, top = -HUGE_VALF;
                for (std::int64_t di = 0; di < factor[0]; ++di) {
                    const auto i = static_cast<std::size_t>(ic * factor[0] + di);
                    sum += sums[i];
                    if (keepMaxima)
                        top = std::max(top, largest[i]);
                }
                level.image.data()[index] = sum * inverseCount;
                if (keepMaxima)
                    level.maxima[index] = top;
            }
        }
    });
    return level;
}

/// The level's sampling mask: the body (block means above air), for the post CT less the blocks
/// with metal (their largest value above `metalHu`) grown by the margin, against the streaks.
void finishLevel(Level& level, const RegistrationOptions& options, bool maskMetal)
{
    const Geometry& coarse = level.image.geometry();
    const auto count = static_cast<std::size_t>(coarse.voxelCount());
    level.mask.resize(count);
    std::vector<unsigned char> metal(maskMetal ? count : 0, 0);
    for (std::size_t v = 0; v < count; ++v) {
        level.mask[v] = level.image.data()[v] > options.clampLowHu + 50.0f ? 1 : 0;
        if (maskMetal)
            metal[v] = level.maxima[v] > options.metalHu ? 1 : 0;
    }
    if (maskMetal) {
        // Grow the metal by the margin (a box, axis by axis) and take it out of the mask.
        for (int a = 0; a < 3; ++a) {
            const auto ua = static_cast<std::size_t>(a);
            const std::int64_t reach =
                static_cast<std::int64_t>(std::ceil(options.metalMarginMm / coarse.spacing[a]));
            if (reach <= 0)
                continue;
            const std::int64_t stride =
                a == 0 ? 1 : (a == 1 ? coarse.size[0] : coarse.size[0] * coarse.size[1]);
            std::vector<unsigned char> grown(metal.size(), 0);
            for (std::int64_t v = 0; v < static_cast<std::int64_t>(metal.size()); ++v) {
                if (!metal[static_cast<std::size_t>(v)])
                    continue;
                const std::int64_t position = (v / stride) % coarse.size[ua];
                const std::int64_t from = std::max<std::int64_t>(0, position - reach);
                const std::int64_t to = std::min<std::int64_t>(coarse.size[ua] - 1, position + reach);
                for (std::int64_t p = from; p <= to; ++p)
                    grown[static_cast<std::size_t>(v + (p - position) * stride)] = 1;
            }
            metal.swap(grown);
        }
        for (std::size_t v = 0; v < metal.size(); ++v)
            if (metal[v])
                level.mask[v] = 0;
    }
    level.maskCount = std::count(level.mask.begin(), level.mask.end(), static_cast<unsigned char>(1));
}

/// The pyramid of `volume`, one level per spacing of the options. The original voxels are read
/// once, into the finest level; the coarser levels are block averages of it (their blocks are
/// whole blocks of the finest level, so their means and maxima are those of the original voxels).
std::vector<Level> pyramid(const Volume& volume, const RegistrationOptions& options, bool maskMetal)
{
    const double finestMm = *std::min_element(options.levelSpacingsMm.begin(), options.levelSpacingsMm.end());
    Level finest =
        blockAverage(volume, nullptr, blockFactors(volume.geometry(), finestMm), options, maskMetal);
    std::vector<Level> levels(options.levelSpacingsMm.size());
    std::optional<std::size_t> finestIndex; // the level that is the finest grid itself
    for (std::size_t l = 0; l < levels.size(); ++l) {
        const auto factor = blockFactors(finest.image.geometry(), options.levelSpacingsMm[l]);
        if (factor == std::array<std::int64_t, 3>{1, 1, 1} && !finestIndex) {
            finestIndex = l;
            continue;
        }
        levels[l] =
            blockAverage(finest.image, maskMetal ? &finest.maxima : nullptr, factor, options, maskMetal);
        finishLevel(levels[l], options, maskMetal);
    }
    if (finestIndex) {
        levels[*finestIndex] = std::move(finest);
        finishLevel(levels[*finestIndex], options, maskMetal);
    }
    return levels;
}

template <typename Image> typename Image::Pointer makeItkImage(const Geometry& g, bool allocate)
{
    auto image = Image::New();
    typename Image::RegionType region;
    typename Image::SpacingType spacing;
    typename Image::PointType origin;
    typename Image::DirectionType direction;
    for (unsigned a = 0; a < 3; ++a) {
        region.SetSize(a, static_cast<itk::SizeValueType>(g.size[a]));
        spacing[a] = g.spacing[static_cast<int>(a)];
        origin[a] = g.originLps[static_cast<int>(a)];
        for (unsigned b = 0; b < 3; ++b)
            direction(a, b) = g.directionLps(static_cast<int>(a), static_cast<int>(b));
    }
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->SetOrigin(origin);
    image->SetDirection(direction);
    if (allocate)
        image->Allocate();
    return image;
}

/// An ITK view of `volume`'s voxels (no copy): `volume` must outlive the image.
ItkImage::Pointer viewAsItk(Volume& volume)
{
    auto image = makeItkImage<ItkImage>(volume.geometry(), false);
    image->GetPixelContainer()->SetImportPointer(
        volume.data(),
        static_cast<ItkImage::PixelContainer::ElementIdentifier>(volume.geometry().voxelCount()), false);
    return image;
}

/// Up to `count` sample points (LPS) drawn at random from the level's masked voxels (all of them
/// when there are fewer), each moved at random within its voxel so that the samples do not sit on
/// the grid of either image.
ItkMetric::FixedSampledPointSetType::Pointer samplePoints(const Level& level, int count, unsigned seed)
{
    const Geometry& g = level.image.geometry();
    const std::int64_t voxels = g.voxelCount();
    std::vector<std::int64_t> chosen;
    std::mt19937 random(seed);
    if (level.maskCount <= count) {
        for (std::int64_t v = 0; v < voxels; ++v)
            if (level.mask[static_cast<std::size_t>(v)])
                chosen.push_back(v);
    } else {
        // Voxels drawn uniformly from the grid, kept when masked and not yet chosen: a uniform
        // sample of the mask without a pass over the whole grid.
        std::vector<bool> taken(static_cast<std::size_t>(voxels), false);
        std::uniform_int_distribution<std::int64_t> pick(0, voxels - 1);
        chosen.reserve(static_cast<std::size_t>(count));
        while (static_cast<std::int64_t>(chosen.size()) < count) {
            const std::int64_t v = pick(random);
            if (level.mask[static_cast<std::size_t>(v)] && !taken[static_cast<std::size_t>(v)]) {
                taken[static_cast<std::size_t>(v)] = true;
                chosen.push_back(v);
            }
        }
    }
    std::uniform_real_distribution<double> jitter(-0.5, 0.5);
    auto points = ItkMetric::FixedSampledPointSetType::New();
    points->GetPoints()->Reserve(static_cast<itk::IdentifierType>(chosen.size()));
    itk::IdentifierType id = 0;
    for (std::int64_t v : chosen) {
        const Vec3 ijk{static_cast<double>(v % g.size[0]) + jitter(random),
                       static_cast<double>((v / g.size[0]) % g.size[1]) + jitter(random),
                       static_cast<double>(v / (g.size[0] * g.size[1])) + jitter(random)};
        const Vec3 lps = g.lpsFromIjk(ijk);
        ItkMetric::FixedSampledPointSetType::PointType point;
        for (unsigned a = 0; a < 3; ++a)
            point[a] = lps[static_cast<int>(a)];
        points->SetPoint(id++, point);
    }
    return points;
}

RigidTransform fromItk(const ItkTransform& t)
{
    RigidTransform r;
    const auto& m = t.GetMatrix();
    const auto& offset = t.GetOffset();
    for (int a = 0; a < 3; ++a) {
        for (int b = 0; b < 3; ++b)
            r.rotation(a, b) = m(static_cast<unsigned>(a), static_cast<unsigned>(b));
        r.translationMm[a] = offset[static_cast<unsigned>(a)];
    }
    return r;
}

/// Centroid of the masked voxels (LPS).
Vec3 maskCentroid(const Level& level)
{
    const Geometry& g = level.image.geometry();
    Vec3 sum;
    double count = 0.0;
    for (std::int64_t k = 0; k < g.size[2]; ++k)
        for (std::int64_t j = 0; j < g.size[1]; ++j)
            for (std::int64_t i = 0; i < g.size[0]; ++i)
                if (level.mask[static_cast<std::size_t>(level.image.linearIndex(i, j, k))])
                    sum += Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)},
                        count += 1.0;
    return count > 0.0
               ? g.lpsFromIjk(sum / count)
               : g.lpsFromIjk(Vec3{0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
}

/// Normalised cross-correlation between the fixed level and the moving level seen through
/// `movingFromFixed`, over masked fixed voxels that land inside the moving image; also the
/// fraction of masked voxels that land inside.
std::pair<double, double> correlation(const Level& fixed, const Level& moving,
                                      const RigidTransform& movingFromFixed)
{
    const Geometry& g = fixed.image.geometry();
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0, total = 0;
    const std::int64_t stride = std::max<std::int64_t>(1, fixed.maskCount / 200000);
    std::int64_t seen = 0;
    for (std::int64_t v = 0; v < g.voxelCount(); ++v) {
        if (!fixed.mask[static_cast<std::size_t>(v)] || (seen++ % stride) != 0)
            continue;
        total += 1.0;
        const std::int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1],
                           k = v / (g.size[0] * g.size[1]);
        const Vec3 p = movingFromFixed.apply(
            g.lpsFromIjk(Vec3{static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)}));
        const Vec3 ijk = moving.image.geometry().ijkFromLps(p);
        if (!moving.image.geometry().containsIjk(ijk))
            continue;
        const double x = fixed.image.data()[v], y = moving.image.sampleIjk(ijk, 0.0f);
        sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y, n += 1.0;
    }
    if (n < 10.0)
        return {0.0, total > 0 ? n / total : 0.0};
    const double cov = sxy - sx * sy / n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
    const double r = (vx > 0 && vy > 0) ? cov / std::sqrt(vx * vy) : 0.0;
    return {r, n / total};
}

/// Forwards optimizer iterations to the progress sink and stops on cancel.
class IterationObserver : public itk::Command
{
public:
    using Self = IterationObserver;
    using Superclass = itk::Command;
    using Pointer = itk::SmartPointer<Self>;
    itkNewMacro(Self) ProgressSink* progress = nullptr;
    ItkOptimizer* optimizer = nullptr;
    double levelStart = 0.0, levelShare = 1.0;
    int iterations = 1;
    std::string stage;
    bool cancelled = false;
    void Execute(itk::Object* caller, const itk::EventObject& event) override
    {
        Execute(static_cast<const itk::Object*>(caller), event);
    }
    void Execute(const itk::Object*, const itk::EventObject& event) override
    {
        if (!itk::IterationEvent().CheckEvent(&event))
            return;
        const double done = std::min(1.0, static_cast<double>(optimizer->GetCurrentIteration()) / iterations);
        reportProgress(progress, levelStart + levelShare * done, stage);
        if (progress && progress->cancelRequested()) {
            cancelled = true;
            optimizer->StopOptimization();
        }
    }
};

std::string format(const char* pattern, double a, double b = 0.0)
{
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, pattern, a, b);
    return buffer;
}

} // namespace

RegistrationResult registerRigid(const Volume& planning, const Volume& post,
                                 const RegistrationOptions& options, ProgressSink* progress)
{
    if (planning.empty() || post.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "registration: the planning or the post-insertion CT is empty");
    planning.geometry().validate("planning CT");
    post.geometry().validate("post-insertion CT");
    const std::size_t levels = options.levelSpacingsMm.size();
    if (levels == 0 || options.iterationsPerLevel.size() != levels || options.samplesPerLevel < 100 ||
        !(options.clampHighHu > options.clampLowHu) || !(options.metalMarginMm >= 0.0))
        throw Error(ErrorCode::InvalidArgument, "registration: one iteration count per level, at least 100 "
                                                "samples and a valid HU window are needed");
    for (double s : options.levelSpacingsMm)
        if (!(s > 0.0) || !std::isfinite(s))
            throw Error(ErrorCode::InvalidArgument, "registration: level spacings must be positive");

    RegistrationResult result;
    // The post CT is the fixed image (its metal is masked out of the samples); the planning CT
    // moves. ITK's transform then maps post points onto planning points: planningFromPost.
    auto transform = ItkTransform::New();
    RigidTransform start;
    std::vector<Level> fixedLevels, movingLevels;
    try {
        throwIfCancelled(progress);
        reportProgress(progress, 0.0, "Registering: preparing the images");
        fixedLevels = pyramid(post, options, true);
        throwIfCancelled(progress);
        movingLevels = pyramid(planning, options, false);
        for (std::size_t l = 0; l < levels; ++l) {
            throwIfCancelled(progress);
            const double levelStart = static_cast<double>(l) / static_cast<double>(levels);
            reportProgress(progress, levelStart, "Registering: preparing level " + std::to_string(l + 1));
            Level& fixed = fixedLevels[l];
            Level& moving = movingLevels[l];
            if (fixed.maskCount < 100 || moving.maskCount < 100) {
                result.verdict = "registration failed: the CTs hold almost no tissue to match at " +
                                 format("%.1f mm", options.levelSpacingsMm[l]);
                return result;
            }
            if (l == 0) {
                // Start: the centres of the two bodies on top of each other, rotation about the
                // post body's centre.
                const Vec3 fixedCentre = maskCentroid(fixed), movingCentre = maskCentroid(moving);
                ItkTransform::InputPointType centre;
                ItkTransform::OutputVectorType translation;
                for (unsigned a = 0; a < 3; ++a)
                    centre[a] = fixedCentre[static_cast<int>(a)],
                    translation[a] = movingCentre[static_cast<int>(a)] - fixedCentre[static_cast<int>(a)];
                transform->SetIdentity();
                transform->SetCenter(centre);
                transform->SetTranslation(translation);
                start = fromItk(*transform);
                result.correlationBefore = correlation(fixed, moving, start).first;
            }

            auto metric = ItkMetric::New();
            // The coarsest level takes gradients from a smoothed gradient image (a wide capture
            // range); the finer ones take central differences at the samples only, since a
            // gradient image of a whole fine grid costs more than the matching itself on large CTs.
            metric->SetUseFixedImageGradientFilter(false);
            metric->SetUseMovingImageGradientFilter(l == 0 && levels > 1);
            const ItkImage::Pointer fixedItk = viewAsItk(fixed.image);
            metric->SetFixedImage(fixedItk);
            metric->SetMovingImage(viewAsItk(moving.image));
            metric->SetVirtualDomainFromImage(fixedItk);
            metric->SetMovingTransform(transform);
            // The samples are drawn from the masked voxels once per level, so the metric needs no
            // mask test per sample and iteration.
            metric->SetFixedSampledPointSet(
                samplePoints(fixed, options.samplesPerLevel, options.seed + static_cast<unsigned>(l)));
            metric->SetUseSampledPointSet(true);
            metric->Initialize();

            auto optimizer = ItkOptimizer::New();
            const double levelSpacing = fixed.image.geometry().maxSpacing();
            optimizer->SetLearningRate(levelSpacing);
            optimizer->SetMinimumStepLength(options.minimumStepFraction * levelSpacing);
            optimizer->SetRelaxationFactor(0.6);
            optimizer->SetGradientMagnitudeTolerance(1e-10);
            optimizer->SetNumberOfIterations(static_cast<itk::SizeValueType>(options.iterationsPerLevel[l]));
            optimizer->SetDoEstimateLearningRateAtEachIteration(false);
            optimizer->SetDoEstimateLearningRateOnce(false);
            optimizer->SetReturnBestParametersAndValue(true);
            auto scales = itk::RegistrationParameterScalesFromPhysicalShift<ItkMetric>::New();
            scales->SetMetric(metric);
            optimizer->SetScalesEstimator(scales);
            optimizer->SetMetric(metric);

            auto observer = IterationObserver::New();
            observer->progress = progress;
            observer->optimizer = optimizer;
            observer->levelStart = levelStart;
            observer->levelShare = 1.0 / static_cast<double>(levels);
            observer->iterations = options.iterationsPerLevel[l];
            observer->stage = format("Registering at %.1f mm", options.levelSpacingsMm[l]);
            optimizer->AddObserver(itk::IterationEvent(), observer);
            optimizer->StartOptimization();
            if (observer->cancelled)
                throw Error(ErrorCode::Cancelled, "registration cancelled");
            result.iterations += static_cast<int>(optimizer->GetCurrentIteration());
        }
    } catch (const itk::ExceptionObject& e) {
        result.verdict = std::string("registration failed: ") + e.GetDescription();
        return result;
    }

    result.planningFromPost = fromItk(*transform);
    const Level& fixed = fixedLevels.back();
    const Level& moving = movingLevels.back();
    std::tie(result.correlation, result.overlapFraction) =
        correlation(fixed, moving, result.planningFromPost);
    if (result.overlapFraction < options.minOverlapFraction) {
        result.verdict =
            format("registration failed: only %.0f %% of the post-insertion CT's body falls inside "
                   "the planning CT",
                   100.0 * result.overlapFraction);
    } else if (result.correlation < options.failBelowCorrelation) {
        result.verdict =
            format("registration failed: the CTs correlate at %.3f only after matching (%.3f before); "
                   "the scans may not show the same anatomy",
                   result.correlation, result.correlationBefore);
    } else {
        result.succeeded = true;
        result.verdict = format("registered: correlation %.3f over the overlap (%.3f before)",
                                result.correlation, result.correlationBefore);
        if (result.correlation < options.warnBelowCorrelation)
            result.warnings.push_back(
                format("the registered CTs correlate at %.3f only: check the overlay before "
                       "trusting the errors",
                       result.correlation));
    }
    reportProgress(progress, 1.0, "Registered");
    return result;
}

} // namespace np::imaging
