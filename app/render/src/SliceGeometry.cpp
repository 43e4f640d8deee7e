#include "needleplan/render/SliceGeometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace np::render {

const char* toString(SliceOrientation orientation)
{
    switch (orientation) {
    case SliceOrientation::Axial: return "Axial";
    case SliceOrientation::Coronal: return "Coronal";
    case SliceOrientation::Sagittal: return "Sagittal";
    }
    return "Slice";
}

SliceAxes axesFromRightUp(const Vec3& rightLps, const Vec3& upLps)
{
    SliceAxes axes;
    axes.rightLps = normalized(rightLps);
    axes.upLps = normalized(upLps - axes.rightLps * dot(upLps, axes.rightLps));
    axes.towardViewerLps = cross(axes.rightLps, axes.upLps);
    return axes;
}

SliceAxes standardAxes(SliceOrientation orientation)
{
    switch (orientation) {
    case SliceOrientation::Axial: return axesFromRightUp({1, 0, 0}, {0, -1, 0});
    case SliceOrientation::Coronal: return axesFromRightUp({1, 0, 0}, {0, 0, 1});
    case SliceOrientation::Sagittal: return axesFromRightUp({0, 1, 0}, {0, 0, 1});
    }
    return {};
}

std::string directionLetters(const Vec3& directionLps)
{
    static const char positive[3] = {'L', 'P', 'S'};
    static const char negative[3] = {'R', 'A', 'I'};
    std::array<int, 3> order{0, 1, 2};
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return std::abs(directionLps[a]) > std::abs(directionLps[b]); });
    std::string letters;
    for (int rank = 0; rank < 2; ++rank) {
        const int axis = order[static_cast<std::size_t>(rank)];
        const double c = directionLps[axis];
        if (rank == 0 ? std::abs(c) > 1e-9 : std::abs(c) > 0.25)
            letters += c > 0 ? positive[axis] : negative[axis];
    }
    return letters;
}

SliceGrid sliceGridFor(const imaging::Geometry& geometry, const PlaneFrame& frame, int maxPixels)
{
    double minU = std::numeric_limits<double>::max(), maxU = -minU;
    double minV = minU, maxV = -minU, minW = minU, maxW = -minU;
    for (int corner = 0; corner < 8; ++corner) {
        const Vec3 cornerIjk{(corner & 1) ? geometry.size[0] - 0.5 : -0.5,
                             (corner & 2) ? geometry.size[1] - 0.5 : -0.5,
                             (corner & 4) ? geometry.size[2] - 0.5 : -0.5};
        const Vec3 uvw = frame.planeFromLps(geometry.lpsFromIjk(cornerIjk));
        minU = std::min(minU, uvw.x), maxU = std::max(maxU, uvw.x);
        minV = std::min(minV, uvw.y), maxV = std::max(maxV, uvw.y);
        minW = std::min(minW, uvw.z), maxW = std::max(maxW, uvw.z);
    }
    SliceGrid grid;
    const double extent = std::max(maxU - minU, maxV - minV);
    grid.pixelMm = std::min({geometry.spacing.x, geometry.spacing.y, geometry.spacing.z});
    if (maxPixels > 0 && extent / grid.pixelMm > maxPixels)
        grid.pixelMm = extent / maxPixels;
    grid.width = std::max(1, static_cast<int>(std::ceil((maxU - minU) / grid.pixelMm)));
    grid.height = std::max(1, static_cast<int>(std::ceil((maxV - minV) / grid.pixelMm)));
    grid.originU = minU + 0.5 * grid.pixelMm;
    grid.originV = minV + 0.5 * grid.pixelMm;
    grid.minW = minW;
    grid.maxW = maxW;
    return grid;
}

std::vector<float> resliceVolume(const imaging::Volume& volume, const PlaneFrame& frame,
                                 const SliceGrid& grid, double w, float outside)
{
    std::vector<float> pixels(static_cast<std::size_t>(grid.width) * static_cast<std::size_t>(grid.height), outside);
    if (volume.empty())
        return pixels;
    const imaging::Geometry& geometry = volume.geometry();
    // ijk is affine in (a, b): ijk = ijk0 + a * stepA + b * stepB.
    const Vec3 ijk0 = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU, grid.originV, w));
    const Vec3 stepA = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU + grid.pixelMm, grid.originV, w)) - ijk0;
    const Vec3 stepB = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU, grid.originV + grid.pixelMm, w)) - ijk0;
    for (int b = 0; b < grid.height; ++b) {
        const Vec3 rowIjk = ijk0 + stepB * b;
        float* out = pixels.data() + static_cast<std::size_t>(b) * grid.width;
        for (int a = 0; a < grid.width; ++a)
            out[a] = volume.sampleIjk(rowIjk + stepA * a, outside);
    }
    return pixels;
}

std::vector<float> resliceVolumeMip(const imaging::Volume& volume, const PlaneFrame& frame,
                                    const SliceGrid& grid, double w, double thicknessMm, double stepMm,
                                    float outside)
{
    if (!(thicknessMm > 0.0) || !(stepMm > 0.0))
        return resliceVolume(volume, frame, grid, w, outside);
    const int intervals = std::max(1, static_cast<int>(std::ceil(thicknessMm / stepMm - 1e-9)));
    std::vector<float> mip;
    for (int s = 0; s <= intervals; ++s) {
        const double depth = w - 0.5 * thicknessMm + thicknessMm * s / intervals;
        std::vector<float> slice = resliceVolume(volume, frame, grid, depth, outside);
        if (mip.empty())
            mip = std::move(slice);
        else
            for (std::size_t p = 0; p < mip.size(); ++p)
                mip[p] = std::max(mip[p], slice[p]);
    }
    return mip;
}

std::vector<std::uint16_t> resliceLabels(const imaging::LabelMap& labels, const PlaneFrame& frame,
                                         const SliceGrid& grid, double w)
{
    std::vector<std::uint16_t> pixels(static_cast<std::size_t>(grid.width) * static_cast<std::size_t>(grid.height), 0);
    if (labels.labels().empty())
        return pixels;
    const imaging::Geometry& geometry = labels.geometry();
    const Vec3 ijk0 = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU, grid.originV, w));
    const Vec3 stepA = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU + grid.pixelMm, grid.originV, w)) - ijk0;
    const Vec3 stepB = geometry.ijkFromLps(frame.lpsFromPlane(grid.originU, grid.originV + grid.pixelMm, w)) - ijk0;
    const auto& size = geometry.size;
    for (int b = 0; b < grid.height; ++b) {
        const Vec3 rowIjk = ijk0 + stepB * b;
        std::uint16_t* out = pixels.data() + static_cast<std::size_t>(b) * grid.width;
        for (int a = 0; a < grid.width; ++a) {
            const Vec3 ijk = rowIjk + stepA * a;
            const auto i = static_cast<std::int64_t>(std::floor(ijk.x + 0.5));
            const auto j = static_cast<std::int64_t>(std::floor(ijk.y + 0.5));
            const auto k = static_cast<std::int64_t>(std::floor(ijk.z + 0.5));
            if (i >= 0 && j >= 0 && k >= 0 && i < size[0] && j < size[1] && k < size[2])
                out[a] = labels.at(i, j, k);
        }
    }
    return pixels;
}

double sliceStepMm(const imaging::Geometry& geometry, const Vec3& normalLps)
{
    // Smallest step along the normal that moves by at most one voxel on every axis.
    const Vec3 normalIjk = geometry.directionLps.transposed() * normalized(normalLps);
    double step = std::numeric_limits<double>::max();
    for (int axis = 0; axis < 3; ++axis) {
        const double c = std::abs(normalIjk[axis]);
        if (c > 1e-6)
            step = std::min(step, geometry.spacing[axis] / c);
    }
    return step == std::numeric_limits<double>::max() ? 1.0 : step;
}

double niceScaleLengthMm(double maxMm)
{
    if (!(maxMm > 0.0))
        return 0.0;
    const double decade = std::pow(10.0, std::floor(std::log10(maxMm)));
    for (double mantissa : {5.0, 2.0, 1.0})
        if (mantissa * decade <= maxMm * (1.0 + 1e-12))
            return mantissa * decade;
    return decade;
}

} // namespace np::render
