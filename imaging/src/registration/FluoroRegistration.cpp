#include "needleplan/imaging/FluoroRegistration.h"

#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <itkAmoebaOptimizer.h>
#include <itkSingleValuedCostFunction.h>
#include <sstream>

namespace np::imaging {

namespace {

constexpr double kRadPerDeg = 3.14159265358979323846 / 180.0;

Mat3 rotationAbout(const Vec3& axis, double angleRad)
{
    const Vec3 a = normalized(axis);
    const double c = std::cos(angleRad), s = std::sin(angleRad), t = 1.0 - c;
    return Mat3{{t * a.x * a.x + c, t * a.x * a.y - s * a.z, t * a.x * a.z + s * a.y, t * a.x * a.y + s * a.z,
                 t * a.y * a.y + c, t * a.y * a.z - s * a.x, t * a.x * a.z - s * a.y, t * a.y * a.z + s * a.x,
                 t * a.z * a.z + c}};
}

/// A square image of one level (row-major) with its validity mask.
struct LevelImage
{
    int size = 0;
    std::vector<float> values;
    std::vector<std::uint8_t> valid;
};

/// 3 × 3 binomial smoothing (edges replicate).
void smooth(std::vector<float>& image, int size)
{
    std::vector<float> tmp(image.size());
    auto at = [&](const std::vector<float>& im, int c, int r) {
        c = std::clamp(c, 0, size - 1);
        r = std::clamp(r, 0, size - 1);
        return im[static_cast<std::size_t>(r) * size + c];
    };
    for (int r = 0; r < size; ++r)
        for (int c = 0; c < size; ++c)
            tmp[static_cast<std::size_t>(r) * size + c] =
                0.25f * at(image, c - 1, r) + 0.5f * at(image, c, r) + 0.25f * at(image, c + 1, r);
    for (int r = 0; r < size; ++r)
        for (int c = 0; c < size; ++c)
            image[static_cast<std::size_t>(r) * size + c] =
                0.25f * at(tmp, c, r - 1) + 0.5f * at(tmp, c, r) + 0.25f * at(tmp, c, r + 1);
}

/// Normalised cross-correlation of a and b over the pixels where `use` is set.
double correlation(const std::vector<float>& a, const std::vector<float>& b,
                   const std::vector<std::uint8_t>& use)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!use[i])
            continue;
        const double x = a[i], y = b[i];
        sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
        ++n;
    }
    if (n < 16)
        return 0.0;
    const double count = static_cast<double>(n);
    const double va = saa - sa * sa / count, vb = sbb - sb * sb / count;
    if (!(va > 1e-12) || !(vb > 1e-12))
        return 0.0;
    return (sab - sa * sb / count) / std::sqrt(va * vb);
}

/// The fixed side of one level: the frame's region resampled, smoothed, and its metric inputs.
struct FixedLevel
{
    double pixelMm = 0.0;                ///< at the isocentre
    /// The region's first pixel is the level view's pixel (firstColumn, firstRow): 0, 0 when the
    /// region is centred on the isocentre, else shifted to its centre (DrrOptions::firstColumn).
    double firstColumn = 0.0, firstRow = 0.0;
    CArmGeometry view{CArmParameters{}}; ///< the region as a detector of size × size pixels
    LevelImage image;
    std::vector<float> gradientColumn, gradientRow;
    std::vector<std::uint8_t> use; ///< pixels the metric uses
};

void gradients(const std::vector<float>& image, int size, std::vector<float>& gc, std::vector<float>& gr)
{
    gc.assign(image.size(), 0.0f);
    gr.assign(image.size(), 0.0f);
    for (int r = 1; r + 1 < size; ++r)
        for (int c = 1; c + 1 < size; ++c) {
            const std::size_t i = static_cast<std::size_t>(r) * size + c;
            gc[i] = 0.5f * (image[i + 1] - image[i - 1]);
            gr[i] = 0.5f *
                    (image[i + static_cast<std::size_t>(size)] - image[i - static_cast<std::size_t>(size)]);
        }
}

double similarityOf(FluoroMetric metric, const FixedLevel& fixed, std::vector<float>& moving)
{
    smooth(moving, fixed.image.size);
    if (metric == FluoroMetric::NormalizedCrossCorrelation)
        return correlation(fixed.image.values, moving, fixed.use);
    std::vector<float> gc, gr;
    gradients(moving, fixed.image.size, gc, gr);
    return 0.5 *
           (correlation(fixed.gradientColumn, gc, fixed.use) + correlation(fixed.gradientRow, gr, fixed.use));
}

/// Separable running min or max over a (2·radius + 1)² square.
std::vector<float> squareFilter(const std::vector<float>& in, int columns, int rows, int radius, bool maximum)
{
    auto pick = [maximum](float a, float b) { return maximum ? std::max(a, b) : std::min(a, b); };
    std::vector<float> tmp(in.size()), out(in.size());
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) {
            float v = in[static_cast<std::size_t>(r) * columns + c];
            for (int d = -radius; d <= radius; ++d)
                v = pick(v, in[static_cast<std::size_t>(r) * columns + std::clamp(c + d, 0, columns - 1)]);
            tmp[static_cast<std::size_t>(r) * columns + c] = v;
        }
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < columns; ++c) {
            float v = tmp[static_cast<std::size_t>(r) * columns + c];
            for (int d = -radius; d <= radius; ++d)
                v = pick(v, tmp[static_cast<std::size_t>(std::clamp(r + d, 0, rows - 1)) * columns + c]);
            out[static_cast<std::size_t>(r) * columns + c] = v;
        }
    return out;
}

void dilate(std::vector<std::uint8_t>& mask, int columns, int rows, int radius)
{
    std::vector<float> f(mask.begin(), mask.end());
    f = squareFilter(f, columns, rows, radius, true);
    for (std::size_t i = 0; i < mask.size(); ++i)
        mask[i] = f[i] > 0.5f ? 1 : 0;
}

double percentile(std::vector<float> values, double fraction)
{
    if (values.empty())
        return 0.0;
    auto nth =
        values.begin() + static_cast<std::ptrdiff_t>(fraction * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), nth, values.end());
    return *nth;
}

struct FrameMasks
{
    std::vector<std::uint8_t> masked; ///< 1: the CT cannot explain this pixel
    std::size_t collimator = 0, text = 0, needle = 0;
};

/// Collimator (flat regions touching the border), burnt-in text (saturated pixels) and needle (thin
/// structures much darker than their surroundings: a black top-hat) masks of a full frame.
FrameMasks findMasks(const FluoroFrame& frame, const FluoroRegistrationOptions& options)
{
    const int columns = frame.columns, rows = frame.rows;
    const std::size_t count = frame.pixels.size();
    FrameMasks masks;
    masks.masked.assign(count, 0);
    const double low = percentile(frame.pixels, 0.01), high = percentile(frame.pixels, 0.99);
    const double range = std::max(1e-6, high - low);
    const float maxValue = *std::max_element(frame.pixels.begin(), frame.pixels.end());

    if (options.maskCollimator) {
        const std::vector<float> localMax = squareFilter(frame.pixels, columns, rows, 1, true);
        const std::vector<float> localMin = squareFilter(frame.pixels, columns, rows, 1, false);
        const double tolerance = 0.005 * range;
        std::vector<std::uint8_t> flat(count, 0), region(count, 0);
        for (std::size_t i = 0; i < count; ++i)
            flat[i] = (localMax[i] - localMin[i]) <= tolerance ? 1 : 0;
        std::vector<std::size_t> stack;
        auto seed = [&](int c, int r) {
            const std::size_t i = static_cast<std::size_t>(r) * columns + c;
            if (flat[i] && !region[i]) {
                region[i] = 1;
                stack.push_back(i);
            }
        };
        for (int c = 0; c < columns; ++c)
            seed(c, 0), seed(c, rows - 1);
        for (int r = 0; r < rows; ++r)
            seed(0, r), seed(columns - 1, r);
        while (!stack.empty()) {
            const std::size_t i = stack.back();
            stack.pop_back();
            const int c = static_cast<int>(i % static_cast<std::size_t>(columns));
            const int r = static_cast<int>(i / static_cast<std::size_t>(columns));
            const int neighbours[4][2] = {{c - 1, r}, {c + 1, r}, {c, r - 1}, {c, r + 1}};
            for (const auto& n : neighbours)
                if (n[0] >= 0 && n[1] >= 0 && n[0] < columns && n[1] < rows) {
                    const std::size_t j = static_cast<std::size_t>(n[1]) * columns + n[0];
                    if (flat[j] && !region[j] && std::abs(frame.pixels[j] - frame.pixels[i]) <= tolerance) {
                        region[j] = 1;
                        stack.push_back(j);
                    }
                }
        }
        // Small flat patches (saturated air, a flat field) are not a collimator unless they are large.
        std::size_t size = 0;
        for (auto v : region)
            size += v;
        if (size > count / 200) {
            dilate(region, columns, rows, 3);
            for (std::size_t i = 0; i < count; ++i)
                if (region[i] && !masks.masked[i]) {
                    masks.masked[i] = 1;
                    ++masks.collimator;
                }
        }
    }
    if (options.maskText) {
        std::vector<std::uint8_t> text(count, 0);
        for (std::size_t i = 0; i < count; ++i)
            text[i] = frame.pixels[i] >= maxValue - 0.01 * range && frame.pixels[i] > high ? 1 : 0;
        dilate(text, columns, rows, 2);
        for (std::size_t i = 0; i < count; ++i)
            if (text[i] && !masks.masked[i]) {
                masks.masked[i] = 1;
                ++masks.text;
            }
    }
    if (options.maskNeedle) {
        const int radius = std::max(2, std::min(columns, rows) / 128);
        const std::vector<float> closing = squareFilter(
            squareFilter(frame.pixels, columns, rows, radius, true), columns, rows, radius, false);
        std::vector<float> topHat(count);
        for (std::size_t i = 0; i < count; ++i)
            topHat[i] = closing[i] - frame.pixels[i];
        const double median = percentile(topHat, 0.5);
        std::vector<float> deviation(count);
        for (std::size_t i = 0; i < count; ++i)
            deviation[i] = static_cast<float>(std::abs(topHat[i] - median));
        const double sigma = 1.4826 * percentile(deviation, 0.5);
        const double threshold = std::max(median + 10.0 * sigma, 0.12 * range);
        std::vector<std::uint8_t> needle(count, 0);
        for (std::size_t i = 0; i < count; ++i)
            needle[i] = topHat[i] > threshold ? 1 : 0;
        dilate(needle, columns, rows, 2);
        for (std::size_t i = 0; i < count; ++i)
            if (needle[i] && !masks.masked[i]) {
                masks.masked[i] = 1;
                ++masks.needle;
            }
    }
    return masks;
}

/// The view of one level: the start view's detector cropped to the region and binned so that its
/// pixels measure `pixelMm` at the isocentre.
CArmGeometry levelView(const CArmGeometry& start, double pixelMm, int size)
{
    CArmParameters p = start.parameters();
    p.columns = size;
    p.rows = size;
    p.columnSpacingMm = pixelMm * start.magnification();
    p.rowSpacingMm = pixelMm * start.magnification();
    return CArmGeometry(p);
}

FixedLevel makeFixedLevel(const FluoroFrame& frame, const FrameMasks& masks, const CArmGeometry& start,
                          double pixelMm, double regionMm, const DetectorPixel& centre)
{
    FixedLevel level;
    const int size = std::max(16, static_cast<int>(std::lround(regionMm / pixelMm)));
    level.pixelMm = pixelMm;
    level.view = levelView(start, pixelMm, size);
    const CArmParameters& full = start.parameters();
    const double stepColumns = level.view.parameters().columnSpacingMm / full.columnSpacingMm;
    const double stepRows = level.view.parameters().rowSpacingMm / full.rowSpacingMm;
    const int sub = std::max(1, static_cast<int>(std::ceil(std::max(stepColumns, stepRows))));
    level.firstColumn = (centre.column - start.centerPixel().column) / stepColumns;
    level.firstRow = (centre.row - start.centerPixel().row) / stepRows;
    level.image.size = size;
    level.image.values.assign(static_cast<std::size_t>(size) * size, 0.0f);
    level.image.valid.assign(static_cast<std::size_t>(size) * size, 1);
    for (int r = 0; r < size; ++r)
        for (int c = 0; c < size; ++c) {
            double sum = 0.0;
            bool ok = true;
            for (int v = 0; v < sub && ok; ++v)
                for (int u = 0; u < sub && ok; ++u) {
                    const double column =
                        centre.column + (c - 0.5 * (size - 1) + (u + 0.5) / sub - 0.5) * stepColumns;
                    const double row = centre.row + (r - 0.5 * (size - 1) + (v + 0.5) / sub - 0.5) * stepRows;
                    if (column < 0.0 || row < 0.0 || column > frame.columns - 1.0 || row > frame.rows - 1.0) {
                        ok = false;
                        break;
                    }
                    const int c0 =
                        std::min(static_cast<int>(column), frame.columns - 2 < 0 ? 0 : frame.columns - 2);
                    const int r0 = std::min(static_cast<int>(row), frame.rows - 2 < 0 ? 0 : frame.rows - 2);
                    const double fc = column - c0, fr = row - r0;
                    const int c1 = std::min(c0 + 1, frame.columns - 1), r1 = std::min(r0 + 1, frame.rows - 1);
                    auto px = [&](int cc, int rr) {
                        return static_cast<std::size_t>(rr) * static_cast<std::size_t>(frame.columns) +
                               static_cast<std::size_t>(cc);
                    };
                    if (masks.masked[px(c0, r0)] || masks.masked[px(c1, r0)] || masks.masked[px(c0, r1)] ||
                        masks.masked[px(c1, r1)]) {
                        ok = false;
                        break;
                    }
                    sum += (1 - fr) * ((1 - fc) * frame.pixels[px(c0, r0)] + fc * frame.pixels[px(c1, r0)]) +
                           fr * ((1 - fc) * frame.pixels[px(c0, r1)] + fc * frame.pixels[px(c1, r1)]);
                }
            const std::size_t i = static_cast<std::size_t>(r) * size + c;
            level.image.values[i] = ok ? static_cast<float>(sum / (sub * sub)) : 0.0f;
            level.image.valid[i] = ok ? 1 : 0;
        }
    // Fill invalid pixels with the mean of the valid ones so smoothing does not smear edges in.
    double mean = 0.0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < level.image.values.size(); ++i)
        if (level.image.valid[i])
            mean += level.image.values[i], ++n;
    mean = n ? mean / static_cast<double>(n) : 0.0;
    for (std::size_t i = 0; i < level.image.values.size(); ++i)
        if (!level.image.valid[i])
            level.image.values[i] = static_cast<float>(mean);
    smooth(level.image.values, size);
    gradients(level.image.values, size, level.gradientColumn, level.gradientRow);
    // A pixel is used when it and its 8 neighbours are valid (gradients and smoothing stay inside).
    std::vector<std::uint8_t> invalid(level.image.valid.size());
    for (std::size_t i = 0; i < invalid.size(); ++i)
        invalid[i] = level.image.valid[i] ? 0 : 1;
    dilate(invalid, size, size, 1);
    level.use.assign(invalid.size(), 0);
    for (int r = 1; r + 1 < size; ++r)
        for (int c = 1; c + 1 < size; ++c) {
            const std::size_t i = static_cast<std::size_t>(r) * size + c;
            level.use[i] = invalid[i] ? 0 : 1;
        }
    return level;
}

/// The moving image of a DRR: minus the path length (bright where little attenuates, as the frame).
std::vector<float> movingFromDrr(const DrrImage& drr)
{
    std::vector<float> moving(drr.pathLengthMm.size());
    for (std::size_t i = 0; i < moving.size(); ++i)
        moving[i] = -drr.pathLengthMm[i];
    return moving;
}

/// Amoeba cost: minus the similarity of the DRR at a pose (6 parameters: rotations in degrees about
/// the view's column, row and beam axes through the isocentre, then translations in mm along them).
class PoseCost : public itk::SingleValuedCostFunction
{
public:
    using Self = PoseCost;
    using Pointer = itk::SmartPointer<Self>;
    itkNewMacro(Self)

        std::function<double(const ParametersType&)> evaluate;

    MeasureType GetValue(const ParametersType& parameters) const override { return -evaluate(parameters); }
    void GetDerivative(const ParametersType&, DerivativeType&) const override
    {
        itkExceptionMacro("the pose cost has no derivative");
    }
    unsigned int GetNumberOfParameters() const override { return parameterCount; }
    unsigned int parameterCount = 6;
};

struct Pose
{
    Vec3 rotationDeg;
    Vec3 translationMm;
    /// Free distances only: the source-to-detector distance (mm). The source-to-isocentre distance
    /// is the start's plus translationMm.z (moving the CT along the beam and moving the source the
    /// other way give the same image), so it needs no parameter of its own.
    double sidMm = 0.0;
};

/// `view` with another source-to-detector distance (its detector pixel pitch kept).
CArmGeometry withSid(const CArmGeometry& view, double sidMm)
{
    CArmParameters p = view.parameters();
    p.sourceToDetectorMm = sidMm;
    return CArmGeometry(p);
}

} // namespace

const char* toString(FluoroMetric metric)
{
    return metric == FluoroMetric::GradientCorrelation ? "gradient correlation"
                                                       : "normalized cross-correlation";
}

RigidTransform viewMotion(const CArmGeometry& view, const Vec3& centreLps, const Vec3& rotationDeg,
                          const Vec3& translationMm)
{
    const Vec3 u = view.columnDirectionLps(), w = view.rowDirectionLps(), v = view.detectorDirectionLps();
    const Mat3 rotation = rotationAbout(v, rotationDeg.z * kRadPerDeg) *
                          rotationAbout(w, rotationDeg.y * kRadPerDeg) *
                          rotationAbout(u, rotationDeg.x * kRadPerDeg);
    RigidTransform motion;
    motion.rotation = rotation;
    motion.translationMm =
        centreLps - rotation * centreLps + u * translationMm.x + w * translationMm.y + v * translationMm.z;
    return motion;
}

double meanProjectionDistanceMm(const CArmGeometry& view, const RigidTransform& truthViewFromCt,
                                const RigidTransform& viewFromCt, const std::vector<Vec3>& pointsLps)
{
    if (pointsLps.empty())
        return 0.0;
    double sum = 0.0;
    for (const Vec3& p : pointsLps) {
        const RayLps ray = view.ray(view.project(viewFromCt.apply(p)));
        const Vec3 truth = truthViewFromCt.apply(p) - ray.originLps;
        sum += norm(truth - ray.directionLps * dot(truth, ray.directionLps));
    }
    return sum / static_cast<double>(pointsLps.size());
}

FluoroRegistrationResult registerFluoroscopy(const AttenuationVolume& ct, const FluoroFrame& frame,
                                             const CArmGeometry& startView,
                                             const FluoroRegistrationOptions& options,
                                             const RigidTransform& startViewFromCt, ProgressSink* progress)
{
    const auto started = std::chrono::steady_clock::now();
    if (ct.empty())
        throw Error(ErrorCode::InvalidArgument,
                    "fluoroscopy registration: the CT's attenuation volume is empty");
    if (frame.columns < 16 || frame.rows < 16 ||
        frame.pixels.size() != static_cast<std::size_t>(frame.columns) * static_cast<std::size_t>(frame.rows))
        throw Error(ErrorCode::InvalidArgument,
                    "fluoroscopy registration: the frame is empty or its size is wrong");
    if (frame.columns != startView.parameters().columns || frame.rows != startView.parameters().rows)
        throw Error(ErrorCode::InvalidArgument,
                    "fluoroscopy registration: the frame (" + std::to_string(frame.columns) + " x " +
                        std::to_string(frame.rows) + ") and the view's detector differ in size");
    for (float v : frame.pixels)
        if (!std::isfinite(v))
            throw Error(ErrorCode::InvalidArgument,
                        "fluoroscopy registration: the frame holds non-finite values");
    if (options.levelPixelMm.empty() || options.evaluationsPerLevel.size() != options.levelPixelMm.size() ||
        !(options.regionMm > 0.0))
        throw Error(ErrorCode::InvalidArgument,
                    "fluoroscopy registration: give one evaluation budget per level and a positive region");
    if (options.refineOnly && (options.refineEvaluations < 1 || !(options.refineFinestPixelMm > 0.0)))
        throw Error(ErrorCode::InvalidArgument,
                    "fluoroscopy registration: re-registration needs a positive budget and pixel size");
    for (double s : options.levelPixelMm)
        if (!(s > 0.0) || options.regionMm / s > 1024.0)
            throw Error(ErrorCode::InvalidArgument,
                        "fluoroscopy registration: level pixel sizes must be positive "
                        "and give at most 1024 pixels across the region");

    if (options.freeDistances) {
        const double sid = startView.parameters().sourceToDetectorMm,
                     sod = startView.parameters().sourceToIsocenterMm;
        if (!(options.minSidMm > 0.0) || !(options.maxSidMm > options.minSidMm) || !(options.minSodMm > 0.0) ||
            !(options.minDetectorGapMm >= 0.0) || sid < options.minSidMm || sid > options.maxSidMm ||
            sod < options.minSodMm || sod > sid - options.minDetectorGapMm)
            throw Error(ErrorCode::InvalidArgument,
                        "fluoroscopy registration: with free distances the start's SID and SOD must lie "
                        "within the bounds (SID " +
                            std::to_string(options.minSidMm) + "-" + std::to_string(options.maxSidMm) +
                            " mm, SOD from " + std::to_string(options.minSodMm) + " mm to SID - " +
                            std::to_string(options.minDetectorGapMm) + " mm)");
    }
    FluoroRegistrationResult result;
    const Vec3 centreLps = startView.parameters().isocenterLps;
    const FrameMasks masks = findMasks(frame, options);
    if (masks.collimator > 0)
        result.warnings.push_back("collimator edges masked (" + std::to_string(masks.collimator) +
                                  " pixels)");
    if (masks.text > 0)
        result.warnings.push_back("saturated pixels (burnt-in text, bare detector) masked (" +
                                  std::to_string(masks.text) + " pixels)");
    if (masks.needle > 0)
        result.warnings.push_back("thin dark structures (a needle or wire) masked (" +
                                  std::to_string(masks.needle) + " pixels)");

    const std::size_t firstLevel = options.refineOnly && options.levelPixelMm.size() > 1 ? 1 : 0;
    DetectorPixel regionCentre = startView.centerPixel();
    if (options.regionCentre) {
        regionCentre = *options.regionCentre;
        if (!std::isfinite(regionCentre.column) || !std::isfinite(regionCentre.row) ||
            regionCentre.column < -0.5 || regionCentre.row < -0.5 || regionCentre.column > frame.columns - 0.5 ||
            regionCentre.row > frame.rows - 0.5)
            throw Error(ErrorCode::InvalidArgument,
                        "fluoroscopy registration: the region's centre lies outside the frame");
    }
    std::vector<FixedLevel> levels;
    for (std::size_t l = 0; l < options.levelPixelMm.size(); ++l)
        levels.push_back(makeFixedLevel(
            frame, masks, startView,
            options.refineOnly && l + 1 == options.levelPixelMm.size() && l > 0
                ? std::max(options.levelPixelMm[l], std::min(options.refineFinestPixelMm, options.levelPixelMm[l - 1]))
                : options.levelPixelMm[l],
            options.regionMm, regionCentre));

    DrrOptions drrOptions;
    drrOptions.threads = options.threads;
    int evaluations = 0;
    auto poseTransform = [&](const Pose& p) {
        return viewMotion(startView, centreLps, p.rotationDeg, p.translationMm).compose(startViewFromCt);
    };
    const bool free = options.freeDistances;
    const double startSid = startView.parameters().sourceToDetectorMm;
    const double startSod = startView.parameters().sourceToIsocenterMm;
    Pose origin; // the start pose
    origin.sidMm = startSid;
    // A level's view for a pose: with free distances, the pose's SID (the detector pitch kept).
    auto viewOf = [&](const CArmGeometry& view, const Pose& p) {
        return free && p.sidMm != view.parameters().sourceToDetectorMm ? withSid(view, p.sidMm) : view;
    };
    // Free distances: the SID and the SOD (the start's plus the depth shift) within their bounds.
    auto distancesAllowed = [&](const Pose& p) {
        if (!free)
            return true;
        const double sod = startSod + p.translationMm.z;
        return p.sidMm >= options.minSidMm && p.sidMm <= options.maxSidMm && sod >= options.minSodMm &&
               sod <= p.sidMm - options.minDetectorGapMm;
    };
    // The part of the translation limited by maxTranslationMm: with free distances the depth is the
    // SOD's, bounded on its own.
    auto limitedShift = [&](const Pose& p) {
        return free ? std::hypot(p.translationMm.x, p.translationMm.y) : norm(p.translationMm);
    };
    result.drrsPerLevel.assign(levels.size(), 0);
    auto similarityAt = [&](const FixedLevel& level, const Pose& p) {
        throwIfCancelled(progress);
        ++evaluations;
        ++result.drrsPerLevel[static_cast<std::size_t>(&level - levels.data())];
        DrrOptions window = drrOptions;
        window.firstColumn = level.firstColumn;
        window.firstRow = level.firstRow;
        std::vector<float> moving =
            movingFromDrr(renderDrr(ct, viewOf(level.view, p), poseTransform(p), window));
        return similarityOf(options.metric, level, moving);
    };
    auto rotationSize = [](const Pose& p) { return norm(p.rotationDeg); };
    // Where poses are compared: a 3 × 3 × 3 grid over a 30 mm cube about the target (CT LPS).
    std::vector<Vec3> regionPoints;
    {
        const RigidTransform ctFromView = startViewFromCt.inverse();
        for (int i = -1; i <= 1; ++i)
            for (int j = -1; j <= 1; ++j)
                for (int k = -1; k <= 1; ++k)
                    regionPoints.push_back(ctFromView.apply(centreLps + Vec3{15.0 * i, 15.0 * j, 15.0 * k}));
    }

    // 2D search on the coarsest level: in-plane shifts and rotations of one DRR rendered with a margin.
    std::vector<Pose> starts{origin};
    const FixedLevel& coarse = levels[firstLevel];
    if (firstLevel == 0 && (options.searchShiftMm > 0.0 || options.searchRotationDeg > 0.0)) {
        reportProgress(progress, 0.0, "searching in-plane shifts and rotations");
        const int size = coarse.image.size;
        const int margin =
            static_cast<int>(std::ceil(options.searchShiftMm / coarse.pixelMm +
                                       0.75 * size * std::sin(options.searchRotationDeg * kRadPerDeg))) +
            2;
        const int bigSize = size + 2 * margin;
        const CArmGeometry bigView = levelView(startView, coarse.pixelMm, bigSize);
        // One DRR per out-of-plane tilt (a 3 × 3 grid of 0 and ± the tilt about the column and the
        // row axes); the in-plane shifts and rotations are 2D warps of it.
        std::vector<Vec3> tiltAngles{Vec3{}};
        if (options.searchTiltDeg > 0.0)
            for (int a = -1; a <= 1; ++a)
                for (int b = -1; b <= 1; ++b)
                    if (a != 0 || b != 0)
                        tiltAngles.push_back(Vec3{a * options.searchTiltDeg, b * options.searchTiltDeg, 0.0});
        // With free distances each tilt is rendered at several magnifications (SID over the start's
        // SOD), which the in-plane warps cannot imitate.
        std::vector<double> sids{startSid};
        if (free) {
            sids.clear();
            for (double m : options.searchMagnifications) {
                const double sid = m * startSod;
                if (sid >= options.minSidMm && sid <= options.maxSidMm &&
                    sid - startSod >= options.minDetectorGapMm)
                    sids.push_back(sid);
            }
            if (sids.empty())
                sids.push_back(startSid);
        }
        struct Seed
        {
            Vec3 tilt;
            double sid;
        };
        std::vector<Seed> tilts;
        for (double sid : sids)
            for (const Vec3& t : tiltAngles)
                tilts.push_back({t, sid});
        std::vector<std::vector<float>> bigs;
        DrrOptions bigWindow = drrOptions;
        bigWindow.firstColumn = coarse.firstColumn;
        bigWindow.firstRow = coarse.firstRow;
        for (const Seed& seed : tilts) {
            throwIfCancelled(progress);
            ++evaluations;
            ++result.drrsPerLevel[firstLevel];
            bigs.push_back(movingFromDrr(renderDrr(
                ct, free ? withSid(bigView, seed.sid) : bigView,
                viewMotion(startView, centreLps, seed.tilt, {}).compose(startViewFromCt), bigWindow)));
        }
        const Vec3 u = startView.columnDirectionLps(), w = startView.rowDirectionLps();
        struct Candidate
        {
            Pose pose;
            double similarity;
        };
        auto score = [&](const Pose& p, const std::vector<float>& big) {
            // The in-plane part Δ of the pose (applied after the tilt) maps the isocentre plane onto
            // itself: Δ⁻¹ is an affine map of (a, b) in mm.
            const RigidTransform back =
                viewMotion(startView, centreLps, {0.0, 0.0, p.rotationDeg.z}, p.translationMm).inverse();
            auto planeOf = [&](double a, double b) {
                const Vec3 y = back.apply(centreLps + u * a + w * b) - centreLps;
                return std::pair<double, double>{dot(y, u), dot(y, w)};
            };
            const auto o = planeOf(0, 0), ea = planeOf(1, 0), eb = planeOf(0, 1);
            std::vector<float> moving(static_cast<std::size_t>(size) * size);
            const double half = 0.5 * (size - 1), bigHalf = 0.5 * (bigSize - 1);
            for (int r = 0; r < size; ++r)
                for (int c = 0; c < size; ++c) {
                    const double a = (c - half + coarse.firstColumn) * coarse.pixelMm;
                    const double b = (r - half + coarse.firstRow) * coarse.pixelMm;
                    const double pa = o.first + (ea.first - o.first) * a + (eb.first - o.first) * b;
                    const double pb = o.second + (ea.second - o.second) * a + (eb.second - o.second) * b;
                    const double x =
                        std::clamp(bigHalf + pa / coarse.pixelMm - coarse.firstColumn, 0.0, bigSize - 1.001);
                    const double y =
                        std::clamp(bigHalf + pb / coarse.pixelMm - coarse.firstRow, 0.0, bigSize - 1.001);
                    const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
                    const double fx = x - x0, fy = y - y0;
                    const std::size_t i = static_cast<std::size_t>(y0) * bigSize + x0;
                    moving[static_cast<std::size_t>(r) * size + c] =
                        static_cast<float>((1 - fy) * ((1 - fx) * big[i] + fx * big[i + 1]) +
                                           fy * ((1 - fx) * big[i + bigSize] + fx * big[i + bigSize + 1]));
                }
            return similarityOf(options.metric, coarse, moving);
        };
        std::vector<Candidate> candidates;
        const double shiftStep = 2.0 * coarse.pixelMm;
        const int shiftSteps = static_cast<int>(std::floor(options.searchShiftMm / shiftStep));
        const double rotationStep = 6.0;
        const int rotationSteps = static_cast<int>(std::floor(options.searchRotationDeg / rotationStep));
        std::vector<std::size_t> tiltOf;
        for (std::size_t t = 0; t < tilts.size(); ++t)
            for (int k = -rotationSteps; k <= rotationSteps; ++k) {
                throwIfCancelled(progress);
                for (int j = -shiftSteps; j <= shiftSteps; ++j)
                    for (int i = -shiftSteps; i <= shiftSteps; ++i) {
                        Pose p;
                        p.sidMm = tilts[t].sid;
                        p.rotationDeg = {tilts[t].tilt.x, tilts[t].tilt.y, k * rotationStep};
                        p.translationMm = {i * shiftStep, j * shiftStep, 0.0};
                        candidates.push_back({p, score(p, bigs[t])});
                    }
            }
        auto bigOf = [&](const Pose& p) -> const std::vector<float>& {
            for (std::size_t t = 0; t < tilts.size(); ++t)
                if (tilts[t].tilt.x == p.rotationDeg.x && tilts[t].tilt.y == p.rotationDeg.y &&
                    tilts[t].sid == p.sidMm)
                    return bigs[t];
            return bigs.front();
        };
        std::sort(candidates.begin(), candidates.end(),
                  [](const Candidate& a, const Candidate& b) { return a.similarity > b.similarity; });
        // The best distinct candidates, each refined on a finer grid.
        starts.clear();
        for (const Candidate& c : candidates) {
            bool distinct = true;
            for (const Pose& s : starts)
                if (norm(s.translationMm - c.pose.translationMm) < 6.0 &&
                    norm(s.rotationDeg - c.pose.rotationDeg) < 6.0 &&
                    std::abs(s.sidMm - c.pose.sidMm) < 0.05 * startSid)
                    distinct = false;
            if (!distinct)
                continue;
            Candidate best = c;
            for (int k = -1; k <= 1; ++k)
                for (int j = -1; j <= 1; ++j)
                    for (int i = -1; i <= 1; ++i) {
                        Pose p = c.pose;
                        p.rotationDeg.z += k * 3.0;
                        p.translationMm.x += i * 0.5 * shiftStep;
                        p.translationMm.y += j * 0.5 * shiftStep;
                        const double s = score(p, bigOf(c.pose));
                        if (s > best.similarity)
                            best = {p, s};
                    }
            starts.push_back(best.pose);
            if (starts.size() >= static_cast<std::size_t>(std::max(1, options.searchStarts)))
                break;
        }
    }

    // Amoeba on each level, from each start on the first, from the best afterwards.
    auto optimise = [&](const FixedLevel& level, const Pose& from, double rotationDelta, double shiftDelta,
                        double depthDelta, int budget, double& similarity, bool restarts) {
        auto cost = PoseCost::New();
        const unsigned count = free ? 7u : 6u;
        cost->parameterCount = count;
        auto poseOf = [&](const itk::OptimizerParameters<double>& x) {
            Pose p;
            p.rotationDeg = {x[0], x[1], x[2]};
            p.translationMm = {x[3], x[4], x[5]};
            p.sidMm = free ? x[6] : startSid;
            return p;
        };
        cost->evaluate = [&](const itk::OptimizerParameters<double>& x) {
            const Pose p = poseOf(x);
            if (limitedShift(p) > options.maxTranslationMm || rotationSize(p) > options.maxRotationDeg ||
                !distancesAllowed(p))
                return -1.0;
            return similarityAt(level, p);
        };
        auto optimizer = itk::AmoebaOptimizer::New();
        optimizer->SetCostFunction(cost);
        itk::AmoebaOptimizer::ParametersType initial(count), delta(count);
        // The SID step: about the depth step's change of scale at the isocentre.
        const double values[7] = {from.rotationDeg.x,   from.rotationDeg.y,   from.rotationDeg.z,
                                  from.translationMm.x, from.translationMm.y, from.translationMm.z,
                                  from.sidMm};
        const double deltas[7] = {rotationDelta, rotationDelta, rotationDelta, shiftDelta,
                                  shiftDelta,    depthDelta,    depthDelta * startSid / startSod};
        for (unsigned i = 0; i < count; ++i)
            initial[i] = values[i], delta[i] = deltas[i];
        optimizer->SetInitialPosition(initial);
        optimizer->SetInitialSimplexDelta(delta);
        optimizer->SetMaximumNumberOfIterations(static_cast<unsigned>(budget));
        optimizer->SetParametersConvergenceTolerance(0.05 * shiftDelta);
        optimizer->SetFunctionConvergenceTolerance(1e-4);
        // On the coarsest level the simplex is restarted where it converged, to leave shallow optima.
        optimizer->SetOptimizeWithRestarts(restarts && !options.refineOnly);
        try {
            optimizer->StartOptimization();
        } catch (const Error&) {
            throw;
        } catch (const itk::ExceptionObject& e) {
            throw Error(ErrorCode::Internal,
                        std::string("fluoroscopy registration: the optimiser failed: ") + e.GetDescription());
        }
        similarity = -optimizer->GetValue();
        return poseOf(optimizer->GetCurrentPosition());
    };

    Pose pose = origin;
    double similarity = -2.0;
    const std::size_t levelCount = levels.size() - firstLevel;
    for (std::size_t l = firstLevel; l < levels.size(); ++l) {
        const double scale = levels[l].pixelMm;
        reportProgress(progress, static_cast<double>(l - firstLevel) / static_cast<double>(levelCount + 1),
                       "registering at " + std::to_string(scale).substr(0, 4) + " mm per pixel");
        // A small movement needs a small simplex and few evaluations.
        const double reach = options.refineOnly ? 0.5 : 1.0;
        const double rotationDelta = reach * std::clamp(2.0 * scale, 1.0, 4.0);
        const double shiftDelta = reach * std::clamp(2.0 * scale, 1.0, 4.0);
        const double depthDelta = 4.0 * shiftDelta;
        const int budget = options.refineOnly ? std::min(options.evaluationsPerLevel[l], options.refineEvaluations)
                                              : options.evaluationsPerLevel[l];
        const auto levelStarted = std::chrono::steady_clock::now();
        if (l == firstLevel && starts.size() > 1) {
            // Each start gets a short run; the best is then run to the full budget. The best
            // run that ended elsewhere is the runner-up of the verdict.
            std::vector<std::pair<Pose, double>> ends;
            const int shortBudget = std::max(10, budget / 3);
            for (const Pose& start : starts) {
                double s = 0.0;
                const Pose found =
                    optimise(levels[l], start, rotationDelta, shiftDelta, depthDelta, shortBudget, s, false);
                ends.emplace_back(found, s);
                if (s > similarity)
                    similarity = s, pose = found;
            }
            pose = optimise(levels[l], pose, rotationDelta, shiftDelta, depthDelta, budget, similarity, true);
            for (const auto& [end, s] : ends)
                if (meanProjectionDistanceMm(startView, poseTransform(end), poseTransform(pose),
                                             regionPoints) > options.distinctMm)
                    result.runnerUpSimilarity = std::max(result.runnerUpSimilarity, s);
            result.coarseSimilarity = similarity;
        } else {
            pose =
                optimise(levels[l], pose, rotationDelta, shiftDelta, depthDelta, budget, similarity, l == 0);
            if (l == firstLevel)
                result.coarseSimilarity = similarity;
        }
        result.secondsPerLevel.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - levelStarted).count());
    }
    // A low final similarity may be a simplex that stalled (often in depth, which one view barely
    // sees): one more pass over the finer levels from where it stopped.
    if (similarity < options.minSimilarity && levels.size() > 1 && !options.refineOnly) {
        for (std::size_t l = std::max<std::size_t>(firstLevel, 1); l < levels.size(); ++l) {
            const double delta = std::clamp(2.0 * options.levelPixelMm[l], 1.0, 4.0);
            pose = optimise(levels[l], pose, delta, delta, 4.0 * delta, options.evaluationsPerLevel[l],
                            similarity, false);
        }
        result.warnings.push_back(
            "the finer levels were optimised twice (the first pass ended at a low similarity)");
    }

    // Verdict: threshold, then a clear peak at perturbed poses.
    const FixedLevel& finest = levels.back();
    reportProgress(progress, static_cast<double>(levelCount) / static_cast<double>(levelCount + 1),
                   "checking the result");
    result.similarityBefore = similarityAt(finest, origin);
    result.similarity = similarityAt(finest, pose);
    // The peak is probed on the level before the finest (a 3 mm step spans several of its pixels).
    const FixedLevel& probe = levels.size() > 1 ? levels[levels.size() - 2] : finest;
    const double probeSimilarity = &probe == &finest ? result.similarity : similarityAt(probe, pose);
    double dropSum = 0.0;
    int perturbed = 0;
    for (int axis = 0; axis < 5; ++axis)
        for (int sign = -1; sign <= 1; sign += 2) {
            Pose p = pose;
            if (axis < 3)
                p.rotationDeg[axis] += sign * options.perturbationDeg;
            else
                p.translationMm[axis - 3] += sign * options.perturbationMm;
            const double s = similarityAt(probe, p);
            dropSum += (probeSimilarity - s) / std::max(1e-6, std::abs(probeSimilarity));
            ++perturbed;
        }
    result.peakDrop = dropSum / perturbed;
    result.probeSimilarity = probeSimilarity;
    result.viewFromCt = poseTransform(pose);
    CArmGeometry registeredView = startView;
    if (free) {
        // The depth shift becomes the SOD: the CT moved by t along the beam in a view whose source is
        // at SOD is the CT in place in a view whose source is at SOD + t (the detector SID behind).
        CArmParameters p = startView.parameters();
        p.sourceToDetectorMm = pose.sidMm;
        p.sourceToIsocenterMm = startSod + pose.translationMm.z;
        registeredView = CArmGeometry(p);
        RigidTransform back;
        back.translationMm = startView.detectorDirectionLps() * -pose.translationMm.z;
        result.viewFromCt = back.compose(result.viewFromCt);
    }
    result.distancesFree = free;
    result.sourceToDetectorMm = registeredView.parameters().sourceToDetectorMm;
    result.sourceToIsocenterMm = registeredView.parameters().sourceToIsocenterMm;
    const ProjectionMatrix start = registeredView.projectionMatrix();
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c)
            result.projection(r, c) = start(r, 0) * result.viewFromCt.rotation(0, c) +
                                      start(r, 1) * result.viewFromCt.rotation(1, c) +
                                      start(r, 2) * result.viewFromCt.rotation(2, c);
        result.projection(r, 3) = start(r, 0) * result.viewFromCt.translationMm.x +
                                  start(r, 1) * result.viewFromCt.translationMm.y +
                                  start(r, 2) * result.viewFromCt.translationMm.z + start(r, 3);
    }
    result.translationMm = limitedShift(pose);
    result.rotationDeg = viewMotion(startView, centreLps, pose.rotationDeg, {}).rotationAngleDeg();
    std::size_t used = 0;
    for (auto v : finest.use)
        used += v;
    result.maskedFraction = 1.0 - static_cast<double>(used) / static_cast<double>(finest.use.size());
    result.evaluations = evaluations;

    std::ostringstream why;
    why.precision(3);
    if (result.maskedFraction > 0.7) {
        why << "not registered: " << 100.0 * result.maskedFraction
            << " % of the region around the target is masked or outside the image";
    } else if (result.similarity < options.minSimilarity) {
        why << "not registered: the best " << toString(options.metric) << " found, " << result.similarity
            << ", is below " << options.minSimilarity
            << " (the image may show another patient or region, or the start is too far off)";
    } else if (result.peakDrop < options.minPeakDrop) {
        why << "not registered: the similarity (" << result.similarity << ") hardly drops at poses "
            << options.perturbationMm << " mm or " << options.perturbationDeg << " degrees away (mean drop "
            << 100.0 * result.peakDrop << " %, needed " << 100.0 * options.minPeakDrop
            << " %): no clear match";
    } else if (result.runnerUpSimilarity > result.coarseSimilarity - options.minMargin) {
        why << "not registered: two distinct poses match almost equally on the coarsest level ("
            << result.coarseSimilarity << " and " << result.runnerUpSimilarity << ", more than "
            << options.distinctMm << " mm apart at the target region): ambiguous";
    } else if (result.translationMm > options.maxTranslationMm - 1.0 ||
               result.rotationDeg > options.maxRotationDeg - 0.5) {
        why << "not registered: the pose ran to the search bounds (" << result.translationMm << " mm, "
            << result.rotationDeg << " degrees from the start)";
    } else {
        result.registered = true;
        why << "registered: " << toString(options.metric) << " " << result.similarity << " (start "
            << result.similarityBefore << "), a clear peak (mean drop " << 100.0 * result.peakDrop
            << " % at poses " << options.perturbationMm << " mm or " << options.perturbationDeg
            << " degrees away)";
        if (result.runnerUpSimilarity > -1.0)
            why << ", ahead of the best distinct pose by "
                << result.coarseSimilarity - result.runnerUpSimilarity << " on the coarsest level";
        why << "; correction " << result.translationMm << " mm and " << result.rotationDeg << " degrees";
    }
    if (free)
        why << "; distances registered (the header gave none): SID " << result.sourceToDetectorMm
            << " mm, SOD " << result.sourceToIsocenterMm << " mm";
    result.reason = why.str();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    reportProgress(progress, 1.0, "registration finished");
    return result;
}

FluoroRegistrationResult reregisterFluoroscopy(const AttenuationVolume& ct, const FluoroFrame& frame,
                                               const CArmGeometry& startView,
                                               const RigidTransform& previousViewFromCt,
                                               FluoroRegistrationOptions options, ProgressSink* progress)
{
    options.refineOnly = true;
    return registerFluoroscopy(ct, frame, startView, options, previousViewFromCt, progress);
}

RigidTransform landmarkStart(const CArmGeometry& view, const std::vector<FluoroLandmark>& landmarks,
                             const RigidTransform& startViewFromCt)
{
    if (landmarks.empty() || landmarks.size() > 2)
        throw Error(ErrorCode::InvalidArgument, "landmark start: give one or two landmarks (got " +
                                                    std::to_string(landmarks.size()) + ")");
    const Vec3 sourceLps = view.sourceLps(), beam = view.detectorDirectionLps();
    // Each landmark's CT point where the start pose puts it (view frame), and the point of the ray
    // through its pixel at the same depth.
    std::vector<Vec3> placed, onRay;
    for (std::size_t i = 0; i < landmarks.size(); ++i) {
        const FluoroLandmark& l = landmarks[i];
        const std::string which = "landmark " + std::to_string(i + 1);
        if (!std::isfinite(l.pixel.column) || !std::isfinite(l.pixel.row) || !std::isfinite(l.ctLps.x) ||
            !std::isfinite(l.ctLps.y) || !std::isfinite(l.ctLps.z))
            throw Error(ErrorCode::InvalidArgument, "landmark start: " + which + " holds a non-finite value");
        const Vec3 p = startViewFromCt.apply(l.ctLps);
        const double depth = dot(p - sourceLps, beam);
        if (!(depth > 1.0))
            throw Error(ErrorCode::InvalidArgument,
                        "landmark start: the CT point of " + which + " lies at or behind the X-ray source");
        const RayLps ray = view.ray(l.pixel);
        const double along = dot(ray.directionLps, beam);
        if (!(along > 1e-6))
            throw Error(ErrorCode::InvalidArgument,
                        "landmark start: the pixel of " + which + " gives no ray toward the detector");
        placed.push_back(p);
        onRay.push_back(ray.originLps + ray.directionLps * (depth / along));
    }
    auto across = [&](const Vec3& d) { return d - beam * dot(d, beam); };
    RigidTransform motion; // view frame → view frame
    Vec3 from = placed[0], to = onRay[0];
    if (landmarks.size() == 2) {
        const Vec3 a = across(placed[1] - placed[0]), b = across(onRay[1] - onRay[0]);
        if (norm(a) < 5.0 || norm(b) < 5.0)
            throw Error(ErrorCode::InvalidArgument,
                        "landmark start: the two landmarks lie less than 5 mm apart across the beam "
                        "(in the CT or on the image); give points further apart");
        const double angle = std::atan2(dot(beam, cross(a, b)), dot(a, b));
        from = (placed[0] + placed[1]) * 0.5;
        to = (onRay[0] + onRay[1]) * 0.5;
        motion.rotation = rotationAbout(beam, angle);
        motion.translationMm = from - motion.rotation * from;
    }
    RigidTransform shift;
    shift.translationMm = to - from;
    return shift.compose(motion).compose(startViewFromCt);
}

} // namespace np::imaging
