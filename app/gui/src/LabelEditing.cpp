#include "needleplan/gui/LabelEditing.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace np::gui {

std::vector<std::int64_t> brushVoxels(const imaging::Geometry& grid, const Vec3& centreLps,
                                      const Brush& brush)
{
    std::vector<std::int64_t> voxels;
    const double r = brush.radiusMm;
    if (!(r >= 0.0) || !std::isfinite(r))
        return voxels;
    const Vec3 centreIjk = grid.ijkFromLps(centreLps);
    // The direction columns are orthonormal: a ball of radius r spans ±r / spacing along each index.
    std::int64_t lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
        lo[a] = std::max<std::int64_t>(
            0, static_cast<std::int64_t>(std::floor(centreIjk[a] - r / grid.spacing[a])));
        hi[a] = std::min<std::int64_t>(
            grid.size[a] - 1, static_cast<std::int64_t>(std::ceil(centreIjk[a] + r / grid.spacing[a])));
        if (lo[a] > hi[a])
            return voxels;
    }
    const Mat3 lpsFromIjk = grid.lpsFromIjkLinear();
    const Vec3 normal = normalized(brush.planeNormalLps);
    const double halfSlice = 0.5 * brush.sliceStepMm;
    const double r2 = r * r;
    for (std::int64_t k = lo[2]; k <= hi[2]; ++k)
        for (std::int64_t j = lo[1]; j <= hi[1]; ++j)
            for (std::int64_t i = lo[0]; i <= hi[0]; ++i) {
                const Vec3 offsetIjk{static_cast<double>(i) - centreIjk.x,
                                     static_cast<double>(j) - centreIjk.y,
                                     static_cast<double>(k) - centreIjk.z};
                const Vec3 offsetLps = lpsFromIjk * offsetIjk;
                double inPlane2 = dot(offsetLps, offsetLps);
                if (brush.shape == BrushShape::Disc) {
                    const double across = dot(offsetLps, normal);
                    // Rounding: a voxel centre on the view's plane must count as on it.
                    if (across < -halfSlice - 1e-9 || across >= halfSlice - 1e-9)
                        continue;
                    inPlane2 -= across * across;
                }
                if (inPlane2 <= r2 + 1e-9)
                    voxels.push_back(i + grid.size[0] * (j + grid.size[1] * k));
            }
    return voxels;
}

void keepWithinHu(std::vector<std::int64_t>& voxels, const imaging::Volume& volume, double minHu,
                  double maxHu)
{
    const float* hu = volume.data();
    voxels.erase(std::remove_if(voxels.begin(), voxels.end(),
                                [&](std::int64_t v) { return !(hu[v] >= minHu && hu[v] <= maxHu); }),
                 voxels.end());
}

std::vector<std::int64_t> mergeVoxels(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b)
{
    std::vector<std::int64_t> merged;
    merged.reserve(a.size() + b.size());
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(merged));
    return merged;
}

LabelEdit makeLabelEdit(const imaging::LabelMap& labels, const std::vector<std::int64_t>& voxels,
                        EditMode mode, std::uint16_t value, bool overwriteOthers)
{
    LabelEdit edit;
    const std::uint16_t* data = labels.data();
    const auto count = static_cast<std::int64_t>(labels.labels().size());
    for (const std::int64_t v : voxels) {
        if (v < 0 || v >= count)
            continue;
        const std::uint16_t current = data[v];
        std::uint16_t wanted = current;
        if (mode == EditMode::Paint && (current == 0 || overwriteOthers))
            wanted = value;
        else if (mode == EditMode::Erase && (current == value || (overwriteOthers && current != 0)))
            wanted = 0;
        if (wanted == current)
            continue;
        edit.voxels.push_back(v);
        edit.before.push_back(current);
        edit.after.push_back(wanted);
    }
    return edit;
}

void applyLabelEdit(imaging::LabelMap& labels, const LabelEdit& edit, bool forward)
{
    std::uint16_t* data = labels.data();
    const std::vector<std::uint16_t>& values = forward ? edit.after : edit.before;
    for (std::size_t n = 0; n < edit.voxels.size(); ++n)
        data[edit.voxels[n]] = values[n];
}

std::int64_t countLabel(const imaging::LabelMap& labels, std::uint16_t value)
{
    return std::count(labels.labels().begin(), labels.labels().end(), value);
}

} // namespace np::gui
