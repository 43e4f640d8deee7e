#pragma once
/// The 3D scene: structure surfaces (bone, skin, organs), needle paths as tubes of the needle's
/// diameter, targets, the accessibility map on the skin and an orientation marker.
/// World coordinates are LPS millimetres.

#include <cstdint>
#include <memory>
#include <vector>

#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/render/SceneTypes.h"

class vtkPolyData;
class vtkRenderer;
class vtkRenderWindowInteractor;

namespace np::render {

/// Triangle surfaces in LPS, one per label value, built off the GUI thread and then handed to
/// a ModelScene. Opaque so that callers need no VTK headers.
class SurfaceSet
{
public:
    SurfaceSet();
    ~SurfaceSet();
    SurfaceSet(SurfaceSet&&) noexcept;
    SurfaceSet& operator=(SurfaceSet&&) noexcept;

    /// Label values that produced a non-empty surface.
    std::vector<std::uint16_t> labelValues() const;
    /// Triangle count of one label's surface (0 when absent).
    std::int64_t triangleCount(std::uint16_t labelValue) const;

    struct Data;
    std::unique_ptr<Data> data;
};

/// Smoothed iso-surfaces of the given labels, in LPS. Each label is cropped to its bounding box
/// first; labels larger than `maxVoxelsPerLabel` are subsampled by two. Honours cancel.
SurfaceSet buildLabelSurfaces(const imaging::LabelMap& labels, const std::vector<std::uint16_t>& labelValues,
                              ProgressSink* progress = nullptr, std::int64_t maxVoxelsPerLabel = 12'000'000);

/// An iso-surface of a CT at `thresholdHu` (for a bone surface when no labels exist), stored
/// under `labelValue`.
SurfaceSet buildThresholdSurface(const imaging::Volume& volume, double thresholdHu, std::uint16_t labelValue,
                                 ProgressSink* progress = nullptr);

/// The 3D view's scene.
class ModelScene
{
public:
    ModelScene();
    ~ModelScene();
    ModelScene(const ModelScene&) = delete;
    ModelScene& operator=(const ModelScene&) = delete;

    vtkRenderer* renderer() const;
    /// Replaces all surfaces; `styles` give colour, opacity and visibility per label value.
    void setSurfaces(SurfaceSet surfaces, const std::vector<StructureStyle>& styles);
    /// Updates the look of surfaces without rebuilding them.
    void setStyles(const std::vector<StructureStyle>& styles);
    void clearSurfaces();
    void setTrajectories(const std::vector<TrajectoryGraphic>& trajectories);
    void setTargets(const std::vector<TargetGraphic>& targets);
    /// Accessibility map: coloured dots at the skin entry of each searched direction.
    void setAccessMap(const std::vector<AccessPoint>& points);
    void setAccessMapVisible(bool visible);
    /// The surface that is the skin (0: none). While an accessibility map is shown, the skin mesh
    /// is painted by the nearest per-direction search result within 10 mm of each vertex
    /// (feasible: yellow to green by quality; infeasible: dull red; none near: skin colour), in
    /// the point colour array named accessColorArrayName().
    void setSkinLabel(std::uint16_t labelValue);
    /// The triangle mesh shown for a label, or nullptr.
    vtkPolyData* surfacePolyData(std::uint16_t labelValue) const;
    /// Name of the skin mesh's accessibility colour array.
    static const char* accessColorArrayName();
    /// Volume rendering of `volume` (CPU ray casting through vtkSmartVolumeMapper, so it works
    /// without a GPU): soft tissue faint, bone white and opaque. nullptr removes it.
    void setVolumeRendering(std::shared_ptr<const imaging::Volume> volume);
    bool volumeRenderingShown() const;
    /// Posterior view of the bounds of everything shown (spine procedures are done prone).
    void resetCamera();
    /// Looks along `directionLps` at `focusLps` (e.g. down the needle), from `distanceMm` away
    /// (0 keeps the current distance).
    void lookAlong(const Vec3& focusLps, const Vec3& directionLps, const Vec3& upLps, double distanceMm = 0.0);
    /// Adds the L/R/A/P/S/I cube in a corner; needs the window's interactor.
    void attachOrientationMarker(vtkRenderWindowInteractor* interactor);

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace np::render
