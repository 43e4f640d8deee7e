#include "needleplan/imaging/Segmentation.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "segmentation/SegmentationSteps.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <itkImage.h>
#include <itkMultiThreaderBase.h>
#include <itkSmoothingRecursiveGaussianImageFilter.h>
#include <limits>
#include <mutex>
#include <sstream>

namespace np::imaging {

namespace {

using namespace segmentation;

/// mask[v] = hu[v] > threshold.
Mask tissueMask(const Volume& ct, float threshold, int threads)
{
    Mask mask(ct.voxels().size());
    const float* huData = ct.data();
    std::uint8_t* outData = mask.data();
    parallelChunks(static_cast<std::int64_t>(mask.size()), threads,
                   [=](std::int64_t first, std::int64_t last) {
                       const float* __restrict hu = huData + first;
                       std::uint8_t* __restrict out = outData + first;
                       const std::int64_t n = last - first;
                       for (std::int64_t v = 0; v < n; ++v)
                           out[v] = hu[v] > threshold;
                   });
    return mask;
}

/// bone[v] = hu >= boneHu inside the body; air[v] = hu < airHu inside the body (one pass).
void boneAndAirMasks(const Volume& ct, const Mask& body, float boneHu, float airHu, Mask& bone, Mask& air,
                     int threads)
{
    bone.resize(body.size());
    air.resize(body.size());
    const float* huData = ct.data();
    const std::uint8_t* insideData = body.data();
    std::uint8_t* boneData = bone.data();
    std::uint8_t* airData = air.data();
    parallelChunks(static_cast<std::int64_t>(body.size()), threads,
                   [=](std::int64_t first, std::int64_t last) {
                       const float* __restrict hu = huData + first;
                       const std::uint8_t* __restrict inside = insideData + first;
                       std::uint8_t* __restrict boneOut = boneData + first;
                       std::uint8_t* __restrict airOut = airData + first;
                       const std::int64_t n = last - first;
                       for (std::int64_t v = 0; v < n; ++v) {
                           boneOut[v] = std::uint8_t(hu[v] >= boneHu) & inside[v];
                           airOut[v] = std::uint8_t(hu[v] < airHu) & inside[v];
                       }
                   });
}

/// Voxels at or below this lie outside the scanner's reconstruction circle (padding values such as
/// -2000 or -3024); real air is about -1000 HU.
constexpr float kPaddingHu = -1500.0f;

/// Within two layers past a table slab (where the patient lies on it) the tissue coverage falls to
/// at most this, and by at least kTableContactMinDrop: a table is wider than the patient.
constexpr double kTableContactMaxCoverage = 0.75;
constexpr double kTableContactMinDrop = 0.35;

/// Finds the scanner table as a flat slab across the field of view: 1 mm layers perpendicular to
/// the patient's anterior-posterior (LPS y) axis in which at least `minCoverage` of the voxels are
/// tissue (voxels outside the reconstruction circle are not counted), forming a band at most
/// `maxThicknessMm` thick at the anterior or posterior end of the tissue, with the coverage
/// falling sharply (to at most 75 %, by at least 35 points) within 2 layers past it. Clears the band from
/// `tissue` and returns its thickness in mm (0 when none is found).
double removeTableSlab(Mask& tissue, const Volume& ct, double minCoverage, double maxThicknessMm, int threads)
{
    const Geometry& geometry = ct.geometry();
    const Mat3 step = geometry.lpsFromIjkLinear();
    const double stepI = step(1, 0), stepJ = step(1, 1), stepK = step(1, 2);
    double yMin = std::numeric_limits<double>::infinity(), yMax = -std::numeric_limits<double>::infinity();
    for (int corner = 0; corner < 8; ++corner) {
        const Vec3 ijk{(corner & 1) ? double(geometry.size[0] - 1) : 0.0,
                       (corner & 2) ? double(geometry.size[1] - 1) : 0.0,
                       (corner & 4) ? double(geometry.size[2] - 1) : 0.0};
        const double y = geometry.lpsFromIjk(ijk).y;
        yMin = std::min(yMin, y);
        yMax = std::max(yMax, y);
    }
    // Layers at least as thick as one voxel step along y, so that every layer holds voxel centres.
    const double layerMm = std::max({1.0, std::abs(stepI), std::abs(stepJ), std::abs(stepK)});
    const auto layers = static_cast<std::size_t>(std::floor((yMax - yMin) / layerMm)) + 1;
    if (layers < 3)
        return 0.0;
    const double y0 = geometry.originLps.y;
    const std::int64_t nx = geometry.size[0], ny = geometry.size[1];
    auto layerOf = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        const double y = y0 + stepI * double(i) + stepJ * double(j) + stepK * double(k);
        return std::min(layers - 1, static_cast<std::size_t>(std::max(0.0, (y - yMin) / layerMm)));
    };
    std::vector<std::int64_t> total(layers, 0), filled(layers, 0);
    const bool rowsAlongLayer = std::abs(stepI) < 1e-9; // every voxel of a row lies in one layer
    std::mutex merge;
    parallelChunks(geometry.size[2], threads, [&](std::int64_t first, std::int64_t last) {
        std::vector<std::int64_t> localTotal(layers, 0), localFilled(layers, 0);
        for (std::int64_t k = first; k < last; ++k)
            for (std::int64_t j = 0; j < ny; ++j) {
                const std::uint8_t* row = tissue.data() + nx * (j + ny * k);
                const float* hu = ct.data() + nx * (j + ny * k);
                if (rowsAlongLayer) {
                    const std::size_t layer = layerOf(0, j, k);
                    std::int64_t valid = 0, sum = 0;
                    for (std::int64_t i = 0; i < nx; ++i) {
                        valid += hu[i] > kPaddingHu;
                        sum += row[i];
                    }
                    localTotal[layer] += valid;
                    localFilled[layer] += sum;
                    continue;
                }
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::size_t layer = layerOf(i, j, k);
                    localTotal[layer] += hu[i] > kPaddingHu;
                    localFilled[layer] += row[i];
                }
            }
        const std::lock_guard<std::mutex> lock(merge);
        for (std::size_t l = 0; l < layers; ++l) {
            total[l] += localTotal[l];
            filled[l] += localFilled[l];
        }
    });
    auto coverage = [&](std::size_t l) { return total[l] ? double(filled[l]) / double(total[l]) : -1.0; };
    // The tissue's extent along y, then a full band at either end of it.
    std::size_t low = 0, high = layers - 1;
    while (low < layers && coverage(low) < 0.01)
        ++low;
    while (high > low && coverage(high) < 0.01)
        --high;
    if (low >= high)
        return 0.0;
    auto bandFrom = [&](std::size_t start, int direction, std::size_t& end) {
        std::size_t count = 0;
        auto l = static_cast<std::ptrdiff_t>(start);
        // The slab's outer face rarely falls on a layer boundary: up to two partly filled layers
        // at the start belong to the band.
        for (int partial = 0;
             partial < 2 && l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high) &&
             coverage(static_cast<std::size_t>(l)) < minCoverage;
             ++partial) {
            ++count;
            l += direction;
        }
        const std::size_t partialCount = count;
        while (l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high)) {
            const double c = coverage(static_cast<std::size_t>(l));
            if (c >= 0.0 && c < minCoverage)
                break;
            ++count;
            l += direction;
        }
        end = static_cast<std::size_t>(l - direction);
        return count > partialCount ? count : std::size_t{0};
    };
    // A table is wider than the patient where they meet: within a few layers past the band the
    // coverage falls well below it. A field of view that lies inside the body (full layers that
    // thin out gradually towards the skin) is no table.
    auto dropsAfter = [&](std::size_t bandEnd, int direction) {
        double lowest = 1.0;
        auto l = static_cast<std::ptrdiff_t>(bandEnd) + direction;
        for (int n = 0;
             n < 2 && l >= static_cast<std::ptrdiff_t>(low) && l <= static_cast<std::ptrdiff_t>(high);
             ++n, l += direction) {
            const double c = coverage(static_cast<std::size_t>(l));
            if (c >= 0.0)
                lowest = std::min(lowest, c);
        }
        const double last = std::max(0.0, coverage(bandEnd));
        return lowest <= std::min(kTableContactMaxCoverage, last - kTableContactMinDrop);
    };
    std::size_t bandLow = 0, bandHigh = 0;
    std::size_t end = 0;
    const std::size_t atLow = bandFrom(low, +1, end);
    const double maxLayers = maxThicknessMm / layerMm;
    if (atLow > 0 && double(atLow) <= maxLayers && end < high && dropsAfter(end, +1)) {
        bandLow = low;
        bandHigh = end;
    } else {
        const std::size_t atHigh = bandFrom(high, -1, end);
        if (atHigh > 0 && double(atHigh) <= maxLayers && end > low && dropsAfter(end, -1)) {
            bandLow = end;
            bandHigh = high;
        } else {
            return 0.0;
        }
    }
    parallelChunks(geometry.size[2], threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t k = first; k < last; ++k)
            for (std::int64_t j = 0; j < ny; ++j) {
                std::uint8_t* row = tissue.data() + nx * (j + ny * k);
                if (rowsAlongLayer) {
                    const std::size_t layer = layerOf(0, j, k);
                    if (layer >= bandLow && layer <= bandHigh)
                        std::fill(row, row + nx, std::uint8_t{0});
                    continue;
                }
                for (std::int64_t i = 0; i < nx; ++i) {
                    const std::size_t layer = layerOf(i, j, k);
                    if (layer >= bandLow && layer <= bandHigh)
                        row[i] = 0;
                }
            }
    });
    return double(bandHigh - bandLow + 1) * layerMm;
}

std::string formatNumber(double value)
{
    std::ostringstream out;
    out << value;
    return out.str();
}

void checkOptions(const SegmentationOptions& o)
{
    std::ostringstream problem;
    auto nonNegative = [&](double value, const char* name) {
        if (!std::isfinite(value) || value < 0.0)
            problem << name << " must be a finite value >= 0 (got " << value << "); ";
    };
    nonNegative(o.tableRemovalRadiusMm, "tableRemovalRadiusMm");
    nonNegative(o.tableSlabMaxThicknessMm, "tableSlabMaxThicknessMm");
    if (!(o.tableSlabMinCoverage > 0.0 && o.tableSlabMinCoverage <= 1.0))
        problem << "tableSlabMinCoverage must be in (0, 1]; ";
    nonNegative(o.boneMinComponentMm3, "boneMinComponentMm3");
    nonNegative(o.boneMaxHoleAreaMm2, "boneMaxHoleAreaMm2");
    nonNegative(o.lungMinVolumeMl, "lungMinVolumeMl");
    nonNegative(o.lungMaxHoleAreaMm2, "lungMaxHoleAreaMm2");
    nonNegative(o.marrowMaxHoleAreaMm2, "marrowMaxHoleAreaMm2");
    nonNegative(o.fattyMarrowMinAreaMm2, "fattyMarrowMinAreaMm2");
    nonNegative(o.tracheaMaxCapMl, "tracheaMaxCapMl");
    nonNegative(o.bowelGasMinVolumeMl, "bowelGasMinVolumeMl");
    nonNegative(o.canalMinAreaMm2, "canalMinAreaMm2");
    nonNegative(o.canalMaxAreaMm2, "canalMaxAreaMm2");
    nonNegative(o.canalMaxGapMm, "canalMaxGapMm");
    nonNegative(o.canalEndExtensionMm, "canalEndExtensionMm");
    if (!o.lowestLumbar.empty() && !isVertebraName(o.lowestLumbar))
        problem << "lowestLumbar must name a vertebra such as L5, L6 or T12 (got '" << o.lowestLumbar
                << "'); ";
    for (const float t : {o.bodyThresholdHu, o.boneThresholdHu, o.lungThresholdHu, o.boneEdgeHu,
                          o.marrowMinMeanHu, o.fattyMarrowMinMeanHu, o.lungMinMedianHu})
        if (!std::isfinite(t))
            problem << "thresholds must be finite; ";
    if (o.threads < 0)
        problem << "threads must be >= 0; ";
    if (!problem.str().empty())
        throw Error(ErrorCode::InvalidArgument,
                    "segmentation options: " + problem.str().substr(0, problem.str().size() - 2));
}

} // namespace

void selectStructures(SegmentationOptions& options, const std::string& commaSeparatedNames)
{
    options.body = options.bone = options.lung = options.bowelGas = options.spinalCanal = options.vertebrae =
        false;
    std::stringstream in(commaSeparatedNames);
    std::string name;
    bool any = false;
    while (std::getline(in, name, ',')) {
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name.empty())
            continue;
        any = true;
        if (name == "body" || name == "skin")
            options.body = true;
        else if (name == "bone")
            options.bone = true;
        else if (name == "lung")
            options.lung = true;
        else if (name == "bowel_gas")
            options.bowelGas = true;
        else if (name == "spinal_canal" || name == "canal")
            options.spinalCanal = true;
        else if (name == "vertebrae" || name == "levels")
            options.vertebrae = true;
        else
            throw Error(
                ErrorCode::InvalidArgument,
                "unknown structure '" + name +
                    "' (automatic segmentation knows body, bone, lung, bowel_gas, spinal_canal, vertebrae)");
    }
    if (!any)
        throw Error(ErrorCode::InvalidArgument, "no structure named in '" + commaSeparatedNames + "'");
}

StructureSet segmentStructures(const Volume& ct, const SegmentationOptions& options, ProgressSink* progress)
{
    if (ct.empty())
        throw Error(ErrorCode::InvalidArgument, "segmentation: the image is empty");
    const Geometry& geometry = ct.geometry();
    geometry.validate("segmentation input");
    checkOptions(options);
    const int threads = options.threads;
    const double voxelMm3 = geometry.spacing.x * geometry.spacing.y * geometry.spacing.z;
    const double pixelMm2 = geometry.spacing.x * geometry.spacing.y;
    StructureSet result(geometry);

    // Body: tissue threshold, cut thin attachments (the table) with an opening, keep the largest
    // component, restore the surface that the opening rounded off, fill holes.
    reportProgress(progress, 0.0, "body: threshold");
    Mask tissue = tissueMask(ct, options.bodyThresholdHu, threads);
    if (options.removeTableSlab) {
        reportProgress(progress, 0.05, "body: looking for a table slab");
        const double slabMm = removeTableSlab(tissue, ct, options.tableSlabMinCoverage,
                                              options.tableSlabMaxThicknessMm, threads);
        if (slabMm > 0.0)
            result.warnings().push_back("removed a table slab " + formatNumber(slabMm) +
                                        " mm thick across the field of view");
    }
    throwIfCancelled(progress);
    Mask body;
    if (options.tableRemovalRadiusMm > 0.0) {
        reportProgress(progress, 0.08, "body: removing the table");
        Mask core = boxFilter(tissue, geometry, options.tableRemovalRadiusMm, true, threads);
        throwIfCancelled(progress);
        reportProgress(progress, 0.15, "body: core component");
        keepLargestComponent(core, geometry, threads);
        throwIfCancelled(progress);
        reportProgress(progress, 0.22, "body: restoring the surface");
        // Dilating by the same box restores the body's own surface (an opening only rounds off
        // features thinner than the box) but not the table beyond it.
        body = boxFilter(core, geometry, options.tableRemovalRadiusMm, false, threads);
        std::uint8_t* bodyData = body.data();
        const std::uint8_t* tissueData = tissue.data();
        parallelChunks(static_cast<std::int64_t>(body.size()), threads,
                       [=](std::int64_t first, std::int64_t last) {
                           std::uint8_t* __restrict out = bodyData + first;
                           const std::uint8_t* __restrict in = tissueData + first;
                           for (std::int64_t v = 0; v < last - first; ++v)
                               out[v] = out[v] & in[v];
                       });
    } else {
        body = tissue;
    }
    throwIfCancelled(progress);
    reportProgress(progress, 0.3, "body: largest component");
    if (keepLargestComponent(body, geometry, threads) == 0)
        result.warnings().push_back("no body found: no voxel is above " +
                                    formatNumber(options.bodyThresholdHu) + " HU");
    throwIfCancelled(progress);
    reportProgress(progress, 0.45, "body: filling holes");
    if (options.fillHolesPerSlice)
        fillHolesPerSlice(body, geometry.size, -1, threads);
    else
        fillHoles3d(body, geometry.size, threads);
    throwIfCancelled(progress);

    const bool spine = options.spinalCanal || options.vertebrae;
    Mask bone, air;
    if (options.bone || spine || options.lung || options.bowelGas) {
        reportProgress(progress, 0.52, "bone and air: thresholds");
        boneAndAirMasks(ct, body, options.boneThresholdHu, options.lungThresholdHu, bone, air, threads);
    }
    if (options.body) {
        auto& s = result.add("body", {0.89, 0.72, 0.60});
        s.voxels = body;
    }

    std::vector<EnclosedHole> lowDensityHoles;
    if (options.bone || spine) {
        reportProgress(progress, 0.58, "bone: removing small fragments");
        const auto minVoxels = static_cast<std::int64_t>(std::ceil(options.boneMinComponentMm3 / voxelMm3));
        filterComponents(bone, geometry, threads, minVoxels, 0);
        throwIfCancelled(progress);
        reportProgress(progress, 0.64, "bone: partial volume and marrow");
        completeBone(ct, body, bone, options, lowDensityHoles);
        throwIfCancelled(progress);
        if (options.bone) {
            auto& s = result.add("bone", {0.95, 0.91, 0.80});
            s.voxels = bone;
        }
    }

    if (spine) {
        reportProgress(progress, 0.72, "spinal canal");
        std::vector<Vec3> centrelineLps;
        Mask canal =
            segmentSpinalCanal(ct, body, bone, lowDensityHoles, options, centrelineLps, result.warnings());
        throwIfCancelled(progress);
        if (options.vertebrae && !centrelineLps.empty()) {
            reportProgress(progress, 0.78, "vertebral levels");
            for (auto& vertebra : labelVertebrae(ct, bone, centrelineLps, options, result.warnings())) {
                auto& s = result.add(vertebra.name, {0.95, 0.91, 0.80});
                s.voxels = std::move(vertebra.voxels);
            }
            throwIfCancelled(progress);
        }
        if (options.spinalCanal && !centrelineLps.empty()) {
            auto& s = result.add("spinal_canal", {0.90, 0.80, 0.40});
            s.voxels = std::move(canal);
        }
    }

    if (options.lung || options.bowelGas) {
        reportProgress(progress, 0.85, "lung and bowel gas");
        Mask lung, bowelGas;
        std::vector<std::string> notes;
        classifyAir(ct, air, options, lung, bowelGas, notes);
        throwIfCancelled(progress);
        for (auto& note : notes)
            if (options.lung || note.rfind("no lung", 0) != 0)
                result.warnings().push_back(std::move(note));
        if (options.lung && std::find(lung.begin(), lung.end(), std::uint8_t{1}) != lung.end()) {
            fillHolesPerSlice(lung, geometry.size,
                              static_cast<std::int64_t>(std::floor(options.lungMaxHoleAreaMm2 / pixelMm2)),
                              threads);
            auto& s = result.add("lung", {0.77, 0.49, 0.56});
            s.voxels = std::move(lung);
        }
        if (options.bowelGas &&
            std::find(bowelGas.begin(), bowelGas.end(), std::uint8_t{1}) != bowelGas.end()) {
            auto& s = result.add("bowel_gas", {0.62, 0.72, 0.40});
            s.voxels = std::move(bowelGas);
        }
    }
    reportProgress(progress, 1.0, "segmentation done");
    return result;
}

BodySurface::BodySurface(const Geometry& geometry, const std::vector<std::uint8_t>& bodyMask, double sigmaMm,
                         ProgressSink* progress)
{
    geometry.validate("body surface");
    if (bodyMask.size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "body surface: the mask does not match the grid");
    if (!std::isfinite(sigmaMm) || sigmaMm <= 0.0)
        throw Error(ErrorCode::InvalidArgument, "body surface: smoothing sigma must be > 0 mm");
    reportProgress(progress, 0.0, "smoothing the body mask");
    using FloatImage = itk::Image<float, 3>;
    auto image = FloatImage::New();
    FloatImage::RegionType region;
    FloatImage::SizeType size;
    FloatImage::SpacingType spacing;
    for (unsigned a = 0; a < 3; ++a) {
        size[a] = static_cast<itk::SizeValueType>(geometry.size[a]);
        spacing[a] = geometry.spacing[static_cast<int>(a)];
    }
    region.SetSize(size);
    image->SetRegions(region);
    image->SetSpacing(spacing);
    image->Allocate();
    float* buffer = image->GetBufferPointer();
    for (std::size_t v = 0; v < bodyMask.size(); ++v)
        buffer[v] = bodyMask[v] ? 1.0f : 0.0f;
    auto smooth = itk::SmoothingRecursiveGaussianImageFilter<FloatImage, FloatImage>::New();
    smooth->SetInput(image);
    smooth->SetSigma(sigmaMm);
    try {
        smooth->Update();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorCode::Internal, std::string("body mask smoothing failed: ") + e.GetDescription());
    }
    throwIfCancelled(progress);
    m_smoothed = Volume(geometry);
    const float* out = smooth->GetOutput()->GetBufferPointer();
    std::copy(out, out + bodyMask.size(), m_smoothed.data());
    reportProgress(progress, 1.0, "smoothing the body mask");
}

BodySurface BodySurface::fromLabelMap(const LabelMap& labels, double sigmaMm, ProgressSink* progress)
{
    std::vector<std::uint8_t> mask(labels.labels().size());
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = labels.labels()[v] != 0;
    return BodySurface(labels.geometry(), mask, sigmaMm, progress);
}

double BodySurface::insideFraction(const Vec3& pointLps) const
{
    return m_smoothed.sampleLps(pointLps, 0.0f);
}

Vec3 BodySurface::outwardNormalLps(const Vec3& pointLps) const
{
    const Geometry& g = m_smoothed.geometry();
    const double h = 0.5 * std::min({g.spacing.x, g.spacing.y, g.spacing.z});
    Vec3 gradientLps;
    for (int a = 0; a < 3; ++a) {
        Vec3 step;
        step[a] = h;
        gradientLps[a] = (insideFraction(pointLps + step) - insideFraction(pointLps - step)) / (2.0 * h);
    }
    if (norm(gradientLps) < 1e-6)
        return {};
    return normalized(-gradientLps);
}

} // namespace np::imaging
