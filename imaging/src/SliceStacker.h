#pragma once
// Turning a set of positioned 2D images into a regular 3D grid (internal).

#include <functional>
#include <string>
#include <vector>

#include "needleplan/imaging/Geometry.h"
#include "needleplan/imaging/Vec3.h"

namespace np::imaging::detail {

/// Input of the stacker: images of one orientation, size and pixel spacing.
struct StackInput
{
    std::vector<Vec3> positionsLps;    ///< ImagePositionPatient of each image
    std::vector<std::string> names;    ///< file (and frame) of each image, for messages
    Vec3 rowCosineLps;                 ///< direction of increasing column index i
    Vec3 columnCosineLps;              ///< direction of increasing row index j
    double columnSpacing = 1.0;        ///< mm along i
    double rowSpacing = 1.0;           ///< mm along j
    int columns = 0;
    int rows = 0;
    double sliceThickness = 0.0;       ///< used only for single-image stacks
    std::string what;                  ///< "series 1.2.3" for messages
};

/// How the images become the grid.
struct StackPlan
{
    Geometry geometry;
    std::vector<int> order;            ///< input image index of each sorted slice (along the normal)
    bool resampled = false;            ///< false: sorted slice s is grid slice k = s, pixel for pixel
    /// For resampled plans: offset of each sorted slice's first pixel from the grid origin, in the
    /// grid's (i, j, k) axes, in mm.
    std::vector<Vec3> sliceOffsetsMm;
    std::vector<std::string> warnings;
};

/// Orders images along the normal and works out the grid. Throws np::Error(DuplicatePosition)
/// naming the files when two images share a position, np::Error(InconsistentGeometry) for
/// unusable orientation or spacing.
StackPlan planStack(const StackInput& input);

/// Fills `out` (geometry of `plan`, voxels allocated) from the decoded sorted slices (rows × columns
/// floats each, NaN marking padding) by bilinear in-plane and linear through-plane interpolation.
/// Voxels no image covers get `fillValue`. Runs on `threads` threads.
void resampleStack(const StackPlan& plan, int columns, int rows, const std::vector<const float*>& sortedSlices,
                   float fillValue, float* out, int threads);

/// Runs `task(n)` for n in [0, count) on up to `threads` threads; rethrows the first exception
/// after all workers stopped.
void parallelFor(std::size_t count, int threads, const std::function<void(std::size_t)>& task);

/// Number of worker threads for decoding (the hardware's, at least 1).
int workerThreadCount();

} // namespace np::imaging::detail
