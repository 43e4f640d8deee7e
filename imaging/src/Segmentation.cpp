#include "needleplan/imaging/Segmentation.h"

#include <itkConnectedComponentImageFilter.h>
#include <itkImage.h>
#include <itkMultiThreaderBase.h>
#include <itkSmoothingRecursiveGaussianImageFilter.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"

namespace np::imaging {

namespace {

using Mask = std::vector<std::uint8_t>;
using MaskImage = itk::Image<std::uint8_t, 3>;
using ComponentImage = itk::Image<std::uint32_t, 3>;

/// Runs body(first, last) over [0, count) split into chunks on ITK's thread pool.
template <typename Body>
void parallelChunks(std::int64_t count, int threads, const Body& body)
{
    if (count <= 0)
        return;
    const int workers = threads > 0 ? threads : static_cast<int>(itk::MultiThreaderBase::GetGlobalDefaultNumberOfThreads());
    const std::int64_t chunks = std::min<std::int64_t>(count, std::max(1, workers) * 4);
    if (chunks <= 1 || workers <= 1) {
        body(0, count);
        return;
    }
    auto threader = itk::MultiThreaderBase::New();
    threader->SetMaximumNumberOfThreads(static_cast<itk::ThreadIdType>(workers));
    threader->SetNumberOfWorkUnits(static_cast<itk::ThreadIdType>(workers));
    threader->ParallelizeArray(
        0, static_cast<itk::SizeValueType>(chunks),
        [&](itk::SizeValueType chunk) {
            const std::int64_t first = count * static_cast<std::int64_t>(chunk) / chunks;
            const std::int64_t last = count * (static_cast<std::int64_t>(chunk) + 1) / chunks;
            body(first, last);
        },
        nullptr);
}

/// Lines of a 3D grid along one axis, processed several at once where they are contiguous in i.
struct LineLayout
{
    std::int64_t outerCount;  // independent groups
    std::int64_t outerStride; // offset between groups
    std::int64_t length;      // samples along a line
    std::int64_t lineStride;  // offset between samples along a line
    std::int64_t width;       // lines processed side by side (contiguous, stride 1)
    std::int64_t groupsPerOuter; // for axis 0: rows per slice handled as separate groups
};

LineLayout layoutAlong(const Size3& size, int axis)
{
    const std::int64_t nx = size[0], ny = size[1], nz = size[2];
    if (axis == 0)
        return {ny * nz, nx, nx, 1, 1, 1};
    if (axis == 1)
        return {nz, nx * ny, ny, nx, nx, 1};
    return {ny, nx, nz, nx * ny, nx, 1};
}

/// Separable box erosion (erode = true) or dilation along `axis` with half-width `radius` voxels.
/// For erosion, samples beyond the grid count as foreground, so a structure cut by the field of
/// view is not eaten from its cut faces.
void boxFilterAxis(const Mask& in, Mask& out, const Size3& size, int axis, int radius, bool erode, int threads)
{
    out.resize(in.size());
    if (radius <= 0) {
        out = in;
        return;
    }
    const LineLayout lay = layoutAlong(size, axis);
    const auto saturate = static_cast<std::uint16_t>(std::min(radius + 1, 65535));
    parallelChunks(lay.outerCount, threads, [&](std::int64_t first, std::int64_t last) {
        std::vector<std::uint16_t> run(static_cast<std::size_t>(lay.width));
        for (std::int64_t outer = first; outer < last; ++outer) {
            const std::int64_t base = outer * lay.outerStride;
            // Forward: erosion needs `radius + 1` ones ending here; dilation a one within radius.
            std::fill(run.begin(), run.end(), saturate);
            for (std::int64_t t = 0; t < lay.length; ++t) {
                const std::uint8_t* src = in.data() + base + t * lay.lineStride;
                std::uint8_t* dst = out.data() + base + t * lay.lineStride;
                for (std::int64_t w = 0; w < lay.width; ++w) {
                    std::uint16_t& r = run[static_cast<std::size_t>(w)];
                    if (erode) {
                        r = src[w] ? static_cast<std::uint16_t>(std::min<int>(r + 1, saturate)) : 0;
                        dst[w] = r >= saturate;
                    } else {
                        r = src[w] ? 0 : static_cast<std::uint16_t>(std::min<int>(r + 1, saturate));
                        dst[w] = r <= radius;
                    }
                }
            }
            std::fill(run.begin(), run.end(), saturate);
            for (std::int64_t t = lay.length - 1; t >= 0; --t) {
                const std::uint8_t* src = in.data() + base + t * lay.lineStride;
                std::uint8_t* dst = out.data() + base + t * lay.lineStride;
                for (std::int64_t w = 0; w < lay.width; ++w) {
                    std::uint16_t& r = run[static_cast<std::size_t>(w)];
                    if (erode) {
                        r = src[w] ? static_cast<std::uint16_t>(std::min<int>(r + 1, saturate)) : 0;
                        dst[w] = dst[w] && r >= saturate;
                    } else {
                        r = src[w] ? 0 : static_cast<std::uint16_t>(std::min<int>(r + 1, saturate));
                        dst[w] = dst[w] || r <= radius;
                    }
                }
            }
        }
    });
}

/// Box erosion/dilation with half-widths of `radiusMm` converted to voxels per axis.
Mask boxFilter(const Mask& in, const Geometry& geometry, double radiusMm, bool erode, int threads)
{
    Mask a = in;
    Mask b;
    for (int axis = 0; axis < 3; ++axis) {
        const int radius = static_cast<int>(std::floor(radiusMm / geometry.spacing[axis] + 1e-9));
        if (radius <= 0 || geometry.size[axis] <= 1)
            continue;
        boxFilterAxis(a, b, geometry.size, axis, radius, erode, threads);
        a.swap(b);
    }
    return a;
}

MaskImage::Pointer wrapMask(Mask& mask, const Geometry& geometry)
{
    auto image = MaskImage::New();
    MaskImage::RegionType region;
    MaskImage::SizeType size;
    for (unsigned a = 0; a < 3; ++a)
        size[a] = static_cast<itk::SizeValueType>(geometry.size[a]);
    region.SetSize(size);
    image->SetRegions(region);
    image->GetPixelContainer()->SetImportPointer(mask.data(), static_cast<itk::SizeValueType>(mask.size()), false);
    return image;
}

/// 6-connected components of `mask`; returns per-voxel component ids (0 = background) and, in
/// `sizes`, the voxel count of each id.
void connectedComponents(Mask& mask, const Geometry& geometry, int threads,
                                               std::vector<std::int64_t>& sizes, ComponentImage::Pointer& holder)
{
    auto filter = itk::ConnectedComponentImageFilter<MaskImage, ComponentImage>::New();
    filter->SetInput(wrapMask(mask, geometry));
    filter->SetFullyConnected(false);
    if (threads > 0) {
        filter->GetMultiThreader()->SetMaximumNumberOfThreads(static_cast<itk::ThreadIdType>(threads));
        filter->SetNumberOfWorkUnits(static_cast<itk::ThreadIdType>(threads));
    }
    try {
        filter->Update();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorCode::Internal, std::string("connected components failed: ") + e.GetDescription());
    }
    holder = filter->GetOutput();
    const std::uint32_t* ids = holder->GetBufferPointer();
    sizes.assign(static_cast<std::size_t>(filter->GetObjectCount()) + 1, 0);
    for (std::size_t v = 0; v < mask.size(); ++v)
        ++sizes[ids[v]];
    sizes[0] = 0;
}

/// Keeps the largest 6-connected component of `mask` (in place); returns its size.
std::int64_t keepLargestComponent(Mask& mask, const Geometry& geometry, int threads)
{
    std::vector<std::int64_t> sizes;
    ComponentImage::Pointer ids;
    connectedComponents(mask, geometry, threads, sizes, ids);
    const auto best = std::max_element(sizes.begin(), sizes.end());
    if (best == sizes.end() || *best == 0) {
        std::fill(mask.begin(), mask.end(), 0);
        return 0;
    }
    const auto keep = static_cast<std::uint32_t>(best - sizes.begin());
    const std::uint32_t* id = ids->GetBufferPointer();
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = id[v] == keep;
    return *best;
}

/// Drops components smaller than `minVoxels`; keeps at most `maxKeep` of the largest (0: all).
/// Returns the number kept.
int filterComponents(Mask& mask, const Geometry& geometry, int threads, std::int64_t minVoxels, int maxKeep)
{
    std::vector<std::int64_t> sizes;
    ComponentImage::Pointer ids;
    connectedComponents(mask, geometry, threads, sizes, ids);
    std::vector<std::uint32_t> order;
    for (std::uint32_t c = 1; c < sizes.size(); ++c)
        if (sizes[c] >= std::max<std::int64_t>(minVoxels, 1))
            order.push_back(c);
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return sizes[a] > sizes[b]; });
    if (maxKeep > 0 && order.size() > static_cast<std::size_t>(maxKeep))
        order.resize(static_cast<std::size_t>(maxKeep));
    std::vector<std::uint8_t> keep(sizes.size(), 0);
    for (const std::uint32_t c : order)
        keep[c] = 1;
    const std::uint32_t* id = ids->GetBufferPointer();
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = keep[id[v]];
    return static_cast<int>(order.size());
}

/// Fills, in every k slice, background regions not 4-connected to the slice border whose area is
/// at most `maxAreaVoxels` (negative: any size).
void fillHolesPerSlice(Mask& mask, const Size3& size, std::int64_t maxAreaVoxels, int threads)
{
    const std::int64_t nx = size[0], ny = size[1], nz = size[2];
    parallelChunks(nz, threads, [&](std::int64_t first, std::int64_t last) {
        std::vector<std::uint8_t> seen(static_cast<std::size_t>(nx * ny));
        std::vector<std::int64_t> stack, component;
        for (std::int64_t k = first; k < last; ++k) {
            std::uint8_t* slice = mask.data() + k * nx * ny;
            std::fill(seen.begin(), seen.end(), 0);
            auto flood = [&](std::int64_t start, std::vector<std::int64_t>* collect) {
                stack.clear();
                stack.push_back(start);
                seen[static_cast<std::size_t>(start)] = 1;
                while (!stack.empty()) {
                    const std::int64_t p = stack.back();
                    stack.pop_back();
                    if (collect)
                        collect->push_back(p);
                    const std::int64_t i = p % nx, j = p / nx;
                    const std::int64_t next[4] = {i > 0 ? p - 1 : -1, i + 1 < nx ? p + 1 : -1, j > 0 ? p - nx : -1,
                                                  j + 1 < ny ? p + nx : -1};
                    for (const std::int64_t q : next)
                        if (q >= 0 && !slice[q] && !seen[static_cast<std::size_t>(q)]) {
                            seen[static_cast<std::size_t>(q)] = 1;
                            stack.push_back(q);
                        }
                }
            };
            for (std::int64_t i = 0; i < nx; ++i)
                for (const std::int64_t j : {std::int64_t{0}, ny - 1}) {
                    const std::int64_t p = i + nx * j;
                    if (!slice[p] && !seen[static_cast<std::size_t>(p)])
                        flood(p, nullptr);
                }
            for (std::int64_t j = 0; j < ny; ++j)
                for (const std::int64_t i : {std::int64_t{0}, nx - 1}) {
                    const std::int64_t p = i + nx * j;
                    if (!slice[p] && !seen[static_cast<std::size_t>(p)])
                        flood(p, nullptr);
                }
            for (std::int64_t p = 0; p < nx * ny; ++p) {
                if (slice[p] || seen[static_cast<std::size_t>(p)])
                    continue;
                component.clear();
                flood(p, &component);
                if (maxAreaVoxels < 0 || static_cast<std::int64_t>(component.size()) <= maxAreaVoxels)
                    for (const std::int64_t q : component)
                        slice[q] = 1;
            }
        }
    });
}

/// Fills background not 6-connected to the faces of the grid.
void fillHoles3d(Mask& mask, const Size3& size)
{
    const std::int64_t nx = size[0], ny = size[1], nz = size[2];
    Mask outside(mask.size(), 0);
    std::vector<std::int64_t> stack;
    auto seed = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        const std::int64_t p = i + nx * (j + ny * k);
        if (!mask[static_cast<std::size_t>(p)] && !outside[static_cast<std::size_t>(p)]) {
            outside[static_cast<std::size_t>(p)] = 1;
            stack.push_back(p);
        }
    };
    for (std::int64_t k = 0; k < nz; ++k)
        for (std::int64_t j = 0; j < ny; ++j)
            for (std::int64_t i = 0; i < nx; ++i)
                if (i == 0 || j == 0 || k == 0 || i == nx - 1 || j == ny - 1 || k == nz - 1)
                    seed(i, j, k);
    while (!stack.empty()) {
        const std::int64_t p = stack.back();
        stack.pop_back();
        const std::int64_t i = p % nx, j = (p / nx) % ny, k = p / (nx * ny);
        if (i > 0) seed(i - 1, j, k);
        if (i + 1 < nx) seed(i + 1, j, k);
        if (j > 0) seed(i, j - 1, k);
        if (j + 1 < ny) seed(i, j + 1, k);
        if (k > 0) seed(i, j, k - 1);
        if (k + 1 < nz) seed(i, j, k + 1);
    }
    for (std::size_t v = 0; v < mask.size(); ++v)
        mask[v] = mask[v] || !outside[v];
}

template <typename Predicate>
Mask thresholdMask(const Volume& ct, int threads, const Predicate& inside)
{
    Mask mask(ct.voxels().size());
    const float* hu = ct.data();
    const auto n = static_cast<std::int64_t>(mask.size());
    parallelChunks(n, threads, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t v = first; v < last; ++v)
            mask[static_cast<std::size_t>(v)] = inside(hu[v], v) ? 1 : 0;
    });
    return mask;
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
    nonNegative(o.boneMinComponentMm3, "boneMinComponentMm3");
    nonNegative(o.boneMaxHoleAreaMm2, "boneMaxHoleAreaMm2");
    nonNegative(o.lungMinVolumeMl, "lungMinVolumeMl");
    nonNegative(o.lungMaxHoleAreaMm2, "lungMaxHoleAreaMm2");
    for (const float t : {o.bodyThresholdHu, o.boneThresholdHu, o.lungThresholdHu})
        if (!std::isfinite(t))
            problem << "thresholds must be finite; ";
    if (o.threads < 0)
        problem << "threads must be >= 0; ";
    if (!problem.str().empty())
        throw Error(ErrorCode::InvalidArgument, "segmentation options: " + problem.str().substr(0, problem.str().size() - 2));
}

} // namespace

void selectStructures(SegmentationOptions& options, const std::string& commaSeparatedNames)
{
    options.body = options.bone = options.lung = false;
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
        else
            throw Error(ErrorCode::InvalidArgument,
                        "unknown structure '" + name + "' (automatic segmentation knows body, bone, lung)");
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
    Mask tissue = thresholdMask(ct, threads, [&](float hu, std::int64_t) { return hu > options.bodyThresholdHu; });
    throwIfCancelled(progress);
    Mask body;
    if (options.tableRemovalRadiusMm > 0.0) {
        reportProgress(progress, 0.08, "body: removing the table");
        Mask core = boxFilter(tissue, geometry, options.tableRemovalRadiusMm, true, threads);
        throwIfCancelled(progress);
        keepLargestComponent(core, geometry, threads);
        throwIfCancelled(progress);
        // Dilating by the same box restores the body's own surface (an opening only rounds off
        // features thinner than the box) but not the table beyond it.
        body = boxFilter(core, geometry, options.tableRemovalRadiusMm, false, threads);
        for (std::size_t v = 0; v < body.size(); ++v)
            body[v] = body[v] && tissue[v];
    } else {
        body = tissue;
    }
    throwIfCancelled(progress);
    reportProgress(progress, 0.3, "body: largest component");
    if (keepLargestComponent(body, geometry, threads) == 0)
        result.warnings().push_back("no body found: no voxel is above " + formatNumber(options.bodyThresholdHu) + " HU");
    throwIfCancelled(progress);
    reportProgress(progress, 0.45, "body: filling holes");
    if (options.fillHolesPerSlice)
        fillHolesPerSlice(body, geometry.size, -1, threads);
    else
        fillHoles3d(body, geometry.size);
    throwIfCancelled(progress);

    if (options.body) {
        auto& s = result.add("body", {0.89, 0.72, 0.60});
        s.voxels = body;
    }

    if (options.bone) {
        reportProgress(progress, 0.55, "bone: threshold");
        Mask bone = thresholdMask(ct, threads, [&](float hu, std::int64_t v) {
            return hu >= options.boneThresholdHu && body[static_cast<std::size_t>(v)];
        });
        throwIfCancelled(progress);
        reportProgress(progress, 0.62, "bone: removing small fragments");
        const auto minVoxels = static_cast<std::int64_t>(std::ceil(options.boneMinComponentMm3 / voxelMm3));
        filterComponents(bone, geometry, threads, minVoxels, 0);
        throwIfCancelled(progress);
        reportProgress(progress, 0.72, "bone: filling marrow holes");
        fillHolesPerSlice(bone, geometry.size, static_cast<std::int64_t>(std::floor(options.boneMaxHoleAreaMm2 / pixelMm2)),
                          threads);
        auto& s = result.add("bone", {0.95, 0.91, 0.80});
        s.voxels = std::move(bone);
        throwIfCancelled(progress);
    }

    if (options.lung) {
        reportProgress(progress, 0.78, "lung: threshold");
        Mask lung = thresholdMask(ct, threads, [&](float hu, std::int64_t v) {
            return hu < options.lungThresholdHu && body[static_cast<std::size_t>(v)];
        });
        throwIfCancelled(progress);
        reportProgress(progress, 0.85, "lung: components");
        const auto minVoxels = static_cast<std::int64_t>(std::ceil(options.lungMinVolumeMl * 1000.0 / voxelMm3));
        const int kept = filterComponents(lung, geometry, threads, minVoxels, 2);
        throwIfCancelled(progress);
        if (kept == 0) {
            result.warnings().push_back("no lung found (no internal air region of at least " +
                                        formatNumber(options.lungMinVolumeMl) + " ml)");
        } else {
            fillHolesPerSlice(lung, geometry.size,
                              static_cast<std::int64_t>(std::floor(options.lungMaxHoleAreaMm2 / pixelMm2)), threads);
            auto& s = result.add("lung", {0.77, 0.49, 0.56});
            s.voxels = std::move(lung);
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
