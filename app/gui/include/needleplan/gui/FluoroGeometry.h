#pragma once
/// Geometry of the plan on a registered fluoroscopy image, without widgets: the plan's graphics
/// projected through a projection matrix, and what a needle-tip mark means against the planned
/// path (one view: a ray; two views: a triangulated point).
///
/// Pixels are stored-image pixels (zero-based pixel centres, column right, row down); points are
/// CT LPS mm.

#include "needleplan/imaging/CArmGeometry.h"
#include "needleplan/imaging/RigidTransform.h"
#include "needleplan/imaging/Vec3.h"

#include <string>
#include <vector>

namespace np::gui {

/// `projection` · `transform` (a CT point x projects where `projection` puts transform(x)).
imaging::ProjectionMatrix composeProjection(const imaging::ProjectionMatrix& projection,
                                            const imaging::RigidTransform& transform);

/// A planned path: entry (skin) to target.
struct PlannedPath
{
    Vec3 entryLps;
    Vec3 targetLps;
    double needleRadiusMm = 0.0;
};

/// A line segment in stored-image pixels.
struct PixelSegment
{
    imaging::DetectorPixel from;
    imaging::DetectorPixel to;
};

/// A planned path drawn on a projection: the needle's two edges (at its diameter), a tick every
/// 10 mm of depth from the entry (with the depth), the entry and the target.
struct ProjectedPath
{
    PixelSegment axis;
    PixelSegment edges[2];
    std::vector<PixelSegment> depthTicks;
    std::vector<double> tickDepthsMm;
    imaging::DetectorPixel entry;
    imaging::DetectorPixel target;
    double needleWidthPx = 0.0; ///< projected diameter at the target
};

/// Projects `path` through `projection`. Ticks are `tickLengthPx` long, across the projected path.
ProjectedPath projectPath(const imaging::ProjectionMatrix& projection, const PlannedPath& path,
                          double tickSpacingMm = 10.0, double tickLengthPx = 8.0);

/// What a needle-tip mark on one registered view says about the tip: it lies on the ray through
/// the mark, so only its offset across the path and a range of depths are known.
struct TipRayReadout
{
    double lateralOffsetMm = 0.0;   ///< shortest distance between the ray and the planned path's line
    double depthAtClosestMm = 0.0;  ///< depth from the entry of the path point closest to the ray
    double depthMinMm = 0.0;        ///< depths from the entry of the path points within
    double depthMaxMm = 0.0;        ///<   `toleranceMm` of the ray (clamped to the path +20 mm)
    double rayToPathAngleDeg = 0.0; ///< 0: the view looks along the path (bull's-eye)
    double pathLengthMm = 0.0;
    bool depthUndetermined = false; ///< bull's-eye view: the ray runs along the path
    bool missesPath = false;        ///< no path point lies within `toleranceMm` of the ray
};

/// The tip's ray against the planned path. `toleranceMm` sets the depth range: the path points
/// that lie within it of the ray (how far a tip may lie from the ray and still match the mark).
TipRayReadout tipRayReadout(const imaging::RayLps& tipRay, const PlannedPath& path, double toleranceMm = 2.0);

/// A tip triangulated from two registered views against the planned path.
struct TipPointReadout
{
    Vec3 tipLps;
    double errorToTargetMm = 0.0; ///< |tip − target|
    double alongPathMm = 0.0; ///< (tip − target) along the path direction: + beyond the target, − short of it
    double acrossPathMm = 0.0; ///< distance of the tip from the path's line
    double rayGapMm = 0.0;
    std::string warning; ///< from the triangulation (ray gap over 2 mm, nearly parallel rays)
};

TipPointReadout tipPointReadout(const imaging::ProjectionMatrix& first,
                                const imaging::DetectorPixel& firstMark,
                                const imaging::ProjectionMatrix& second,
                                const imaging::DetectorPixel& secondMark, const PlannedPath& path);

/// Outline of the silhouette of `pointsLps` (a structure's boundary points) on an image of
/// `columns` × `rows`: the points are marked on cells of `cellPx` pixels, closed by one cell, and
/// the edges between marked and unmarked cells returned.
std::vector<PixelSegment> silhouetteOutline(const imaging::ProjectionMatrix& projection,
                                            const std::vector<Vec3>& pointsLps, int columns, int rows,
                                            int cellPx = 4);

/// One line of text for each readout.
std::string describe(const TipRayReadout& readout);
std::string describe(const TipPointReadout& readout);

} // namespace np::gui
