#pragma once
/// The VTK scene of one slice view: the resliced image, the structure overlay, the crosshair,
/// projected needle paths with their handles, orientation letters, a scale bar and corner text.
/// Screen geometry is handled here so that a GUI only forwards pixel positions.

#include "needleplan/imaging/Volume.h"
#include "needleplan/render/SceneTypes.h"
#include "needleplan/render/SliceGeometry.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

class vtkRenderer;

namespace np::render {

/// One slice view. World coordinates of the scene are the plane's (u, v) in mm; the image is
/// resliced on the CPU from the volume in LPS, so any voxel orientation displays correctly.
class SliceScene
{
public:
    explicit SliceScene(SliceOrientation orientation);
    ~SliceScene();
    SliceScene(const SliceScene&) = delete;
    SliceScene& operator=(const SliceScene&) = delete;

    vtkRenderer* renderer() const;
    SliceOrientation orientation() const;
    /// Current plane frame (its centre is the volume centre; the cursor sets the depth).
    const PlaneFrame& frame() const;
    /// Replaces the standard axes with an arbitrary plane (needle reslice, probe's eye).
    void setAxes(const SliceAxes& axes);
    /// Name shown in the corner instead of the orientation's (e.g. "Along needle").
    void setViewName(const std::string& name);
    /// Replaces the bottom-left corner text (slice position) with `text`; empty restores it.
    void setPositionText(const std::string& text);

    /// Shows `volume` (nullptr clears the view) and resets camera and cursor to its centre.
    void setVolume(std::shared_ptr<const imaging::Volume> volume);
    /// Colours the labels of `labels` with `styles` (invisible styles are not drawn).
    void setLabels(std::shared_ptr<const imaging::LabelMap> labels, const std::vector<StructureStyle>& styles);
    void setLabelOpacity(double opacity);

    /// Moves the slice to pass through `cursorLps` and centres the crosshair there.
    void setCursorLps(const Vec3& cursorLps);
    Vec3 cursorLps() const;
    /// Distance between neighbouring slices along this view's normal.
    double sliceStepMm() const;
    /// Index of the current slice and the number of slices (for the corner text).
    std::array<int, 2> sliceIndexAndCount() const;

    /// Thick-slab maximum intensity projection of this thickness (mm) around the slice; 0: off.
    void setSlabThicknessMm(double thicknessMm);
    double slabThicknessMm() const;

    void setWindowLevel(double window, double level);
    double window() const;
    double level() const;

    /// Corner texts: top-left, top-right, bottom-left, bottom-right. The bottom corners get the
    /// slice position and window/level appended automatically.
    void setCornerText(const std::string& topLeft, const std::string& topRight);
    void setCrosshairVisible(bool visible);
    void setTrajectories(std::vector<TrajectoryGraphic> trajectories);
    void setTargets(std::vector<TargetGraphic> targets);
    /// Measurement lines (LPS segments): drawn opaque near this slice, faint elsewhere.
    void setMeasurementLines(std::vector<std::pair<Vec3, Vec3>> segmentsLps);
    /// The segmentation brush's outline around `centreLps` (nullopt hides it): a disc of `radiusMm`
    /// in this plane, or a sphere's cross-section with this slice (radius √(r² − d²) at distance d).
    void setBrushOutline(std::optional<Vec3> centreLps, double radiusMm, bool sphere);
    /// The outline drawn on this slice: its centre (LPS, in the plane) and radius in mm; nullopt
    /// when hidden or when the brush does not reach this slice.
    std::optional<std::pair<Vec3, double>> brushOutline() const;

    /// Size of the render area in device pixels; needed for picking and the scale bar.
    void setViewportSize(int widthPx, int heightPx);
    /// Fits the volume in the view.
    void resetCamera();
    /// Zooms by `factor` (> 1 magnifies) keeping the point under (xPx, yPx) fixed.
    void zoomAt(double factor, double xPx, double yPx);
    /// Centres the view on an LPS point (projected on the plane); with `viewHeightMm` > 0 also
    /// zooms so that this many mm fill the view's height.
    void centreOn(const Vec3& pointLps, double viewHeightMm = 0.0);
    /// Moves the image with the mouse by (dxPx, dyPx), y down.
    void panBy(double dxPx, double dyPx);
    double mmPerPixel() const;

    /// LPS point on the current plane under the display pixel (x right, y down, device pixels).
    Vec3 lpsFromDisplay(double xPx, double yPx) const;
    /// Display pixel of an LPS point (x, y as above) and, as z, its signed distance in mm from
    /// the current plane toward the viewer.
    Vec3 displayFromLps(const Vec3& pointLps) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace np::render
