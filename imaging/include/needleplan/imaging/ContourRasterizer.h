#pragma once
/// Rasterisation of closed planar contours (RTSTRUCT style) onto the slices of an image grid.

#include "needleplan/imaging/Geometry.h"

#include <array>
#include <cstdint>
#include <vector>

namespace np::imaging {

/// What happened to the contours given to rasterizeContours().
struct RasterizeReport
{
    int used = 0;       ///< contours filled into a slice
    int offGrid = 0;    ///< contours whose plane is not within half a slice of any k slice
    int notInPlane = 0; ///< contours whose points do not lie in one k slice (tilted against the grid)
    int degenerate = 0; ///< contours with fewer than three points or non-finite coordinates
};

/// Fills closed planar contours (LPS points, implicitly closed) into `mask` (0/1, laid out like
/// Volume on `grid`). Each contour goes to the k slice its plane lies in (within a quarter of the
/// slice spacing); all contours of one slice are filled together by the even-odd rule, so a
/// contour inside another is a hole and disjoint contours are separate islands. A voxel is set
/// when its centre lies inside; edges are intersected exactly with each row of voxel centres, so
/// the filled area matches the true area to within the band of voxels the outline crosses.
RasterizeReport rasterizeContours(const std::vector<std::vector<Vec3>>& contoursLps, const Geometry& grid,
                                  std::vector<std::uint8_t>& mask);

/// Even-odd fill of polygons given in continuous (i, j) voxel coordinates into one slice of
/// `sizeI` × `sizeJ` voxels (`slice[i + sizeI * j]`); voxels inside are set to 1.
void fillPolygonsEvenOdd(const std::vector<std::vector<std::array<double, 2>>>& polygonsIj,
                         std::int64_t sizeI, std::int64_t sizeJ, std::uint8_t* slice);

} // namespace np::imaging
