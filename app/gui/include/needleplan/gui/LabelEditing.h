#pragma once
/// Voxel editing of the label map for the segmentation tools, widget-free: the voxels a brush
/// covers (a 2D disc in a view's plane or a 3D sphere, radius in mm, on any grid: anisotropic
/// spacing and oblique directions), the HU limit of threshold painting, and edits that record only
/// the voxels they change (so that undo restores them exactly).

#include "needleplan/imaging/Volume.h"

#include <cstdint>
#include <vector>

namespace np::gui {

enum class BrushShape
{
    Disc,   ///< in the view's plane, one voxel layer thick
    Sphere, ///< a ball
};

struct Brush
{
    BrushShape shape = BrushShape::Disc;
    double radiusMm = 5.0;
    /// Disc: the normal of the view's plane (LPS, unit) and the distance between its slices (mm);
    /// the disc takes the voxels whose centres lie within half a slice of the plane (the lower
    /// boundary included, the upper one not, so that a grid-aligned view gets exactly one layer).
    Vec3 planeNormalLps{0, 0, 1};
    double sliceStepMm = 1.0;
};

/// Voxels (linear indices, ascending) whose centres lie inside the brush centred at `centreLps`:
/// within radiusMm of it (sphere), or of it in the plane and within half a slice across (disc).
std::vector<std::int64_t> brushVoxels(const imaging::Geometry& grid, const Vec3& centreLps,
                                      const Brush& brush);

/// Keeps the voxels whose value in `volume` (same grid) lies in [minHu, maxHu].
void keepWithinHu(std::vector<std::int64_t>& voxels, const imaging::Volume& volume, double minHu,
                  double maxHu);

/// Adds voxel lists (each ascending) into one ascending list without repeats.
std::vector<std::int64_t> mergeVoxels(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b);

enum class EditMode
{
    Paint, ///< the voxels become the structure
    Erase, ///< the structure's voxels become background
};

/// One edit: the voxels it changes, their values before and after.
struct LabelEdit
{
    std::vector<std::int64_t> voxels; ///< ascending
    std::vector<std::uint16_t> before;
    std::vector<std::uint16_t> after;
    bool empty() const { return voxels.empty(); }
};

/// The edit that paints `value` into (or erases it from) `voxels` of `labels`. Paint takes
/// background voxels, and other structures' voxels only when `overwriteOthers`; erase clears
/// `value`'s voxels, and every structure's when `overwriteOthers`. Voxels already as wanted are left
/// out.
LabelEdit makeLabelEdit(const imaging::LabelMap& labels, const std::vector<std::int64_t>& voxels,
                        EditMode mode, std::uint16_t value, bool overwriteOthers);

/// Writes an edit's `after` values (forward) or its `before` values (backward) into `labels`.
void applyLabelEdit(imaging::LabelMap& labels, const LabelEdit& edit, bool forward);

/// Number of voxels of `labels` with `value`.
std::int64_t countLabel(const imaging::LabelMap& labels, std::uint16_t value);

} // namespace np::gui
