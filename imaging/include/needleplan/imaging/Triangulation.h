#pragma once
/// A point marked on two X-ray views becomes a point in the patient: each mark is a ray from its
/// view's source, the point minimises the reprojection error in both views, and the gap between
/// the two rays tells whether the marks and the geometry agree. The epipolar line shows where the
/// second mark must lie once the first is placed.
///
/// Views are 3×4 projection matrices (LPS mm → stored-image pixel, zero-based pixel centres), so
/// a header view (CArmGeometry::projectionMatrix) and a registered pose (the header view times the
/// CT's pose) are handled alike.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/Vec3.h"

#include <array>
#include <string>

namespace np::imaging {

/// X-ray source (the projection centre) of a projection matrix. Throws np::Error(InvalidArgument)
/// when the matrix has no finite centre (its left 3×3 block is singular).
Vec3 sourceFromProjection(const ProjectionMatrix& projection);

/// Ray from the source through `pixel`, pointing toward the detector.
RayLps rayThroughPixel(const ProjectionMatrix& projection, const DetectorPixel& pixel);

/// Shortest distance between two lines (mm); parallel lines give their separation.
double rayGapMm(const RayLps& first, const RayLps& second);

/// A line in the stored image: a·column + b·row + c = 0 with a² + b² = 1, so that the value at a
/// pixel is its signed distance to the line in pixels.
struct ImageLine
{
    double a = 0.0;
    double b = 0.0;
    double c = 0.0;

    double distancePx(const DetectorPixel& pixel) const { return a * pixel.column + b * pixel.row + c; }
};

/// Epipolar line in the second view of a mark at `firstPixel` in the first view: the projection of
/// the first view's ray. Throws np::Error(InvalidArgument) when the ray projects to a point (the
/// second source lies on it).
ImageLine epipolarLine(const ProjectionMatrix& first, const DetectorPixel& firstPixel,
                       const ProjectionMatrix& second);

/// A triangulated point and how far it can be trusted.
struct Triangulation
{
    Vec3 pointLps;                               ///< minimises the sum of squared reprojection errors
    double rayGapMm = 0.0;                       ///< shortest distance between the two rays
    std::array<double, 2> reprojectionErrorPx{}; ///< |projection of the point − the mark| per view
    double angleBetweenRaysDeg = 0.0;            ///< angle between the two rays at the point
    bool gapWarning = false;                     ///< rayGapMm > the warning threshold
    std::string warning; ///< one sentence when gapWarning or the rays are nearly parallel
};

/// Triangulates the marks: starts at the midpoint of the rays' common perpendicular and refines by
/// Gauss-Newton on the pixel residuals. Warns when the gap exceeds `warnGapMm` (marks of different
/// points, patient motion between the views, or wrong geometry) and when the rays meet at less
/// than 15° (the depth along the rays is then poorly determined). Throws np::Error(InvalidArgument)
/// for parallel rays or a point behind a source.
Triangulation triangulate(const ProjectionMatrix& first, const DetectorPixel& firstPixel,
                          const ProjectionMatrix& second, const DetectorPixel& secondPixel,
                          double warnGapMm = 2.0);

} // namespace np::imaging
