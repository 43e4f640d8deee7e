#pragma once
/// Display planes of the slice views, in the patient frame (LPS), and CPU reslicing onto them.
/// No VTK here: the maths is shared by the scenes and testable on its own.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

namespace np::render {

/// The three standard views. They are aligned with the LPS axes, not with the voxel grid, so a
/// prone or oblique scan is shown the way a radiologist expects.
enum class SliceOrientation
{
    Axial,    ///< seen from the feet: patient left on screen right, anterior up
    Coronal,  ///< seen from the front: patient left on screen right, superior up
    Sagittal, ///< seen from the patient's left: anterior on screen left, superior up
};

/// Display name ("Axial", "Coronal", "Sagittal").
const char* toString(SliceOrientation orientation);

/// Orthonormal screen axes of a plane in LPS: screen right, screen up, and the normal that
/// points toward the viewer (right × up).
struct SliceAxes
{
    Vec3 rightLps{1, 0, 0};
    Vec3 upLps{0, -1, 0};
    Vec3 towardViewerLps{0, 0, -1};
};

/// Radiological-convention axes of a standard view.
SliceAxes standardAxes(SliceOrientation orientation);

/// Axes for an arbitrary plane given its screen-right and approximate screen-up directions;
/// `upLps` is orthogonalised against `rightLps`.
SliceAxes axesFromRightUp(const Vec3& rightLps, const Vec3& upLps);

/// Patient-direction letters for a unit LPS direction: the dominant axis letter, followed by a
/// second letter when the direction is oblique (e.g. "LP"). L is +x, P +y, S +z.
std::string directionLetters(const Vec3& directionLps);

/// A plane frame: lps = centreLps + u * right + v * up + w * towardViewer (u, v, w in mm).
struct PlaneFrame
{
    Vec3 centreLps;
    SliceAxes axes;

    Vec3 lpsFromPlane(double u, double v, double w) const
    {
        return centreLps + axes.rightLps * u + axes.upLps * v + axes.towardViewerLps * w;
    }
    /// (u, v, w) of an LPS point.
    Vec3 planeFromLps(const Vec3& pointLps) const
    {
        const Vec3 d = pointLps - centreLps;
        return {dot(d, axes.rightLps), dot(d, axes.upLps), dot(d, axes.towardViewerLps)};
    }
};

/// Rectangle of plane coordinates covered by the volume's projection, and the pixel grid that
/// samples it: pixel (a, b) has centre u = originU + a * pixelMm, v = originV + b * pixelMm.
struct SliceGrid
{
    int width = 0;
    int height = 0;
    double pixelMm = 1.0;
    double originU = 0.0;
    double originV = 0.0;
    double minW = 0.0; ///< range of w that intersects the volume
    double maxW = 0.0;
};

/// The grid that covers the whole volume in this frame, with square pixels of the smallest
/// voxel spacing, limited to `maxPixels` along each side (the pixel grows instead).
SliceGrid sliceGridFor(const imaging::Geometry& geometry, const PlaneFrame& frame, int maxPixels = 1024);

/// Trilinear samples of `volume` on the grid at depth w (row b = 0 is the bottom of the screen).
std::vector<float> resliceVolume(const imaging::Volume& volume, const PlaneFrame& frame,
                                 const SliceGrid& grid, double w, float outside);

/// Thick-slab maximum intensity projection: the largest trilinear sample of `volume` over the
/// depths w − thicknessMm/2 … w + thicknessMm/2, taken at most `stepMm` apart (both ends included).
/// thicknessMm ≤ 0 gives resliceVolume.
std::vector<float> resliceVolumeMip(const imaging::Volume& volume, const PlaneFrame& frame, const SliceGrid& grid,
                                    double w, double thicknessMm, double stepMm, float outside);

/// Nearest-neighbour samples of a label map on the grid at depth w (0 outside).
std::vector<std::uint16_t> resliceLabels(const imaging::LabelMap& labels, const PlaneFrame& frame,
                                         const SliceGrid& grid, double w);

/// Distance between neighbouring slices of `geometry` along the normal `normalLps`: the voxel
/// extent projected on the normal (the spacing of the axis most aligned with it for a
/// standard view).
double sliceStepMm(const imaging::Geometry& geometry, const Vec3& normalLps);

/// A "nice" scale-bar length (1, 2 or 5 × 10^n mm) not longer than `maxMm`.
double niceScaleLengthMm(double maxMm);

} // namespace np::render
