#include "needleplan/render/ModelScene.h"

#include "needleplan/imaging/Error.h"
#include "needleplan/render/VtkImageBridge.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <vtkActor.h>
#include <vtkAnnotatedCubeActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkColorTransferFunction.h>
#include <vtkFloatArray.h>
#include <vtkFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkImageGaussianSmooth.h>
#include <vtkLineSource.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkOrientationMarkerWidget.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPointData.h>
#include <vtkPointLocator.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderWindowInteractor.h>
#include <vtkRenderer.h>
#include <vtkSmartVolumeMapper.h>
#include <vtkSphereSource.h>
#include <vtkTextProperty.h>
#include <vtkTransform.h>
#include <vtkTransformPolyDataFilter.h>
#include <vtkTubeFilter.h>
#include <vtkUnsignedCharArray.h>
#include <vtkVolume.h>
#include <vtkVolumeProperty.h>
#include <vtkWindowedSincPolyDataFilter.h>

namespace np::render {

struct SurfaceSet::Data
{
    std::map<std::uint16_t, vtkSmartPointer<vtkPolyData>> surfaces;
};

SurfaceSet::SurfaceSet() : data(std::make_unique<Data>()) {}
SurfaceSet::~SurfaceSet() = default;
SurfaceSet::SurfaceSet(SurfaceSet&&) noexcept = default;
SurfaceSet& SurfaceSet::operator=(SurfaceSet&&) noexcept = default;

std::vector<std::uint16_t> SurfaceSet::labelValues() const
{
    std::vector<std::uint16_t> values;
    if (data)
        for (const auto& entry : data->surfaces)
            values.push_back(entry.first);
    return values;
}

std::int64_t SurfaceSet::triangleCount(std::uint16_t labelValue) const
{
    if (!data)
        return 0;
    auto it = data->surfaces.find(labelValue);
    return it == data->surfaces.end() ? 0 : it->second->GetNumberOfPolys();
}

namespace {

/// Binary (0/1 float) block [lo, hi] of voxels equal to `value`, sampled every `stride` voxels,
/// with one voxel of padding, and the surface through 0.5 of its smoothed copy, in LPS.
vtkSmartPointer<vtkPolyData> surfaceOfBlock(const imaging::Geometry& geometry, const std::array<std::int64_t, 3>& lo,
                                            const std::array<std::int64_t, 3>& hi, int stride,
                                            const std::function<float(std::int64_t, std::int64_t, std::int64_t)>& inside)
{
    std::array<int, 3> dims{};
    for (int a = 0; a < 3; ++a)
        dims[static_cast<std::size_t>(a)] =
            static_cast<int>((hi[static_cast<std::size_t>(a)] - lo[static_cast<std::size_t>(a)]) / stride) + 1 + 2;
    vtkNew<vtkImageData> block;
    block->SetDimensions(dims[0], dims[1], dims[2]);
    block->SetSpacing(geometry.spacing.x * stride, geometry.spacing.y * stride, geometry.spacing.z * stride);
    block->SetOrigin(geometry.spacing.x * (static_cast<double>(lo[0]) - stride),
                     geometry.spacing.y * (static_cast<double>(lo[1]) - stride),
                     geometry.spacing.z * (static_cast<double>(lo[2]) - stride));
    vtkNew<vtkFloatArray> scalars;
    scalars->SetNumberOfTuples(static_cast<vtkIdType>(dims[0]) * dims[1] * dims[2]);
    float* out = scalars->GetPointer(0);
    for (int c = 0; c < dims[2]; ++c)
        for (int b = 0; b < dims[1]; ++b)
            for (int a = 0; a < dims[0]; ++a) {
                float value = 0.0f;
                if (a > 0 && b > 0 && c > 0 && a < dims[0] - 1 && b < dims[1] - 1 && c < dims[2] - 1)
                    value = inside(lo[0] + (a - 1) * stride, lo[1] + (b - 1) * stride, lo[2] + (c - 1) * stride);
                *out++ = value;
            }
    block->GetPointData()->SetScalars(scalars);

    vtkNew<vtkImageGaussianSmooth> smooth;
    smooth->SetInputData(block);
    smooth->SetStandardDeviations(0.8, 0.8, 0.8);
    smooth->SetRadiusFactors(1.5, 1.5, 1.5);
    vtkNew<vtkFlyingEdges3D> contour;
    contour->SetInputConnection(smooth->GetOutputPort());
    contour->SetValue(0, 0.5);
    contour->ComputeNormalsOff();
    contour->ComputeScalarsOff();
    vtkNew<vtkWindowedSincPolyDataFilter> relax;
    relax->SetInputConnection(contour->GetOutputPort());
    relax->SetNumberOfIterations(12);
    relax->SetPassBand(0.1);
    relax->NormalizeCoordinatesOn();
    // Block coordinates are spacing-scaled voxel indices; the transform adds direction and origin.
    vtkNew<vtkMatrix4x4> lpsFromBlock;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c)
            lpsFromBlock->SetElement(r, c, geometry.directionLps(r, c));
        lpsFromBlock->SetElement(r, 3, geometry.originLps[r]);
    }
    vtkNew<vtkTransform> transform;
    transform->SetMatrix(lpsFromBlock);
    vtkNew<vtkTransformPolyDataFilter> toLps;
    toLps->SetInputConnection(relax->GetOutputPort());
    toLps->SetTransform(transform);
    vtkNew<vtkPolyDataNormals> normals;
    normals->SetInputConnection(toLps->GetOutputPort());
    normals->SplittingOff();
    normals->ConsistencyOn();
    normals->AutoOrientNormalsOff();
    normals->Update();
    auto result = vtkSmartPointer<vtkPolyData>::New();
    result->ShallowCopy(normals->GetOutput());
    return result;
}

} // namespace

SurfaceSet buildLabelSurfaces(const imaging::LabelMap& labels, const std::vector<std::uint16_t>& labelValues,
                              ProgressSink* progress, std::int64_t maxVoxelsPerLabel)
{
    SurfaceSet result;
    const imaging::Geometry& geometry = labels.geometry();
    if (labels.labels().empty() || labelValues.empty())
        return result;
    // One pass for the bounding box of every wanted label.
    std::vector<std::array<std::int64_t, 6>> boxes(65536, {INT64_MAX, INT64_MAX, INT64_MAX, -1, -1, -1});
    std::vector<bool> wanted(65536, false);
    for (std::uint16_t value : labelValues)
        wanted[value] = true;
    reportProgress(progress, 0.0, "Surfaces: scanning labels");
    const std::uint16_t* voxel = labels.data();
    for (std::int64_t k = 0; k < geometry.size[2]; ++k) {
        throwIfCancelled(progress);
        for (std::int64_t j = 0; j < geometry.size[1]; ++j)
            for (std::int64_t i = 0; i < geometry.size[0]; ++i, ++voxel) {
                if (*voxel == 0 || !wanted[*voxel])
                    continue;
                auto& box = boxes[*voxel];
                box[0] = std::min(box[0], i), box[1] = std::min(box[1], j), box[2] = std::min(box[2], k);
                box[3] = std::max(box[3], i), box[4] = std::max(box[4], j), box[5] = std::max(box[5], k);
            }
    }
    std::size_t done = 0;
    for (std::uint16_t value : labelValues) {
        throwIfCancelled(progress);
        reportProgress(progress, static_cast<double>(done++) / labelValues.size(), "Surfaces: building");
        const auto& box = boxes[value];
        if (box[3] < 0)
            continue;
        const std::array<std::int64_t, 3> lo{box[0], box[1], box[2]}, hi{box[3], box[4], box[5]};
        const std::int64_t voxels = (hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * (hi[2] - lo[2] + 1);
        const int stride = voxels > maxVoxelsPerLabel ? 2 : 1;
        auto surface = surfaceOfBlock(geometry, lo, hi, stride, [&](std::int64_t i, std::int64_t j, std::int64_t k) {
            return labels.at(i, j, k) == value ? 1.0f : 0.0f;
        });
        if (surface->GetNumberOfPolys() > 0)
            result.data->surfaces[value] = surface;
    }
    reportProgress(progress, 1.0, "Surfaces: done");
    return result;
}

SurfaceSet buildThresholdSurface(const imaging::Volume& volume, double thresholdHu, std::uint16_t labelValue,
                                 ProgressSink* progress)
{
    SurfaceSet result;
    if (volume.empty())
        return result;
    reportProgress(progress, 0.0, "Surfaces: thresholding");
    const imaging::Geometry& geometry = volume.geometry();
    const std::array<std::int64_t, 3> lo{0, 0, 0}, hi{geometry.size[0] - 1, geometry.size[1] - 1, geometry.size[2] - 1};
    const int stride = geometry.voxelCount() > 12'000'000 ? 2 : 1;
    const auto threshold = static_cast<float>(thresholdHu);
    auto surface = surfaceOfBlock(geometry, lo, hi, stride, [&](std::int64_t i, std::int64_t j, std::int64_t k) {
        return volume.at(i, j, k) >= threshold ? 1.0f : 0.0f;
    });
    throwIfCancelled(progress);
    if (surface->GetNumberOfPolys() > 0)
        result.data->surfaces[labelValue] = surface;
    reportProgress(progress, 1.0, "Surfaces: done");
    return result;
}

namespace {

constexpr const char* kAccessColorArray = "AccessibilityColors";
constexpr double kPaintRadiusMm = 10.0;

/// Feasible: yellow (quality 0) to green (quality 1); infeasible: dull red.
Rgb accessColor(const AccessPoint& point)
{
    if (!point.feasible)
        return {150.0 / 255.0, 55.0 / 255.0, 55.0 / 255.0};
    const double q = std::clamp(point.quality, 0.0, 1.0);
    return {(235.0 - 195.0 * q) / 255.0, (205.0 - 15.0 * q) / 255.0, (40.0 + 20.0 * q) / 255.0};
}

} // namespace

struct ModelScene::Impl
{
    vtkNew<vtkRenderer> renderer;
    std::map<std::uint16_t, vtkSmartPointer<vtkActor>> surfaceActors;
    std::vector<vtkSmartPointer<vtkActor>> trajectoryActors;
    std::vector<vtkSmartPointer<vtkActor>> targetActors;
    vtkNew<vtkPolyData> accessPoints;
    vtkNew<vtkActor> accessActor;
    vtkNew<vtkOrientationMarkerWidget> marker;
    vtkNew<vtkAnnotatedCubeActor> cube;
    vtkSmartPointer<vtkVolume> volumeProp;
    bool accessVisible = true;
    std::uint16_t skinLabel = 0;
    std::vector<AccessPoint> accessMap;
    std::map<std::uint16_t, StructureStyle> styles;

    /// Colours the skin mesh by the nearest search result within kPaintRadiusMm of each vertex
    /// (feasible: yellow to green by quality; infeasible: dull red); other vertices keep the skin
    /// colour. Without a map (or hidden) the skin is drawn in its plain style again.
    void paintSkin()
    {
        auto it = surfaceActors.find(skinLabel);
        if (skinLabel == 0 || it == surfaceActors.end())
            return;
        vtkActor* actor = it->second;
        auto* mapper = vtkPolyDataMapper::SafeDownCast(actor->GetMapper());
        vtkPolyData* mesh = mapper ? vtkPolyData::SafeDownCast(mapper->GetInput()) : nullptr;
        if (!mesh)
            return;
        StructureStyle style;
        style.labelValue = skinLabel;
        if (auto found = styles.find(skinLabel); found != styles.end())
            style = found->second;
        applyStyle(actor, style);
        if (!accessVisible || accessMap.empty() || accessPoints->GetNumberOfPoints() == 0) {
            mapper->ScalarVisibilityOff();
            return;
        }
        vtkNew<vtkPointLocator> locator;
        locator->SetDataSet(accessPoints);
        locator->BuildLocator();
        vtkNew<vtkUnsignedCharArray> colors;
        colors->SetName(kAccessColorArray);
        colors->SetNumberOfComponents(3);
        colors->SetNumberOfTuples(mesh->GetNumberOfPoints());
        const unsigned char skin[3] = {static_cast<unsigned char>(std::clamp(style.colorRgb[0], 0.0, 1.0) * 255.0),
                                       static_cast<unsigned char>(std::clamp(style.colorRgb[1], 0.0, 1.0) * 255.0),
                                       static_cast<unsigned char>(std::clamp(style.colorRgb[2], 0.0, 1.0) * 255.0)};
        for (vtkIdType n = 0; n < mesh->GetNumberOfPoints(); ++n) {
            double p[3];
            mesh->GetPoint(n, p);
            double distance2 = 0.0;
            const vtkIdType nearest = locator->FindClosestPointWithinRadius(kPaintRadiusMm, p, distance2);
            unsigned char rgb[3] = {skin[0], skin[1], skin[2]};
            if (nearest >= 0 && nearest < static_cast<vtkIdType>(accessMap.size())) {
                const Rgb c = accessColor(accessMap[static_cast<std::size_t>(nearest)]);
                for (int channel = 0; channel < 3; ++channel)
                    rgb[channel] = static_cast<unsigned char>(std::lround(c[static_cast<std::size_t>(channel)] * 255.0));
            }
            colors->SetTypedTuple(n, rgb);
        }
        mesh->GetPointData()->AddArray(colors);
        mapper->SetScalarModeToUsePointFieldData();
        mapper->SelectColorArray(kAccessColorArray);
        mapper->SetColorModeToDirectScalars();
        mapper->ScalarVisibilityOn();
        // The faint skin becomes readable while the map is painted on it.
        actor->GetProperty()->SetOpacity(std::max(style.opacity, 0.75));
        actor->GetProperty()->SetBackfaceCulling(true);
        actor->SetVisibility(true);
    }

    void applyStyle(vtkActor* actor, const StructureStyle& style)
    {
        actor->GetProperty()->SetColor(style.colorRgb[0], style.colorRgb[1], style.colorRgb[2]);
        actor->GetProperty()->SetOpacity(style.opacity);
        actor->SetVisibility(style.visible && style.opacity > 0.0);
        actor->GetProperty()->SetBackfaceCulling(style.opacity < 1.0);
    }

    void clearActors(std::vector<vtkSmartPointer<vtkActor>>& actors)
    {
        for (auto& actor : actors)
            renderer->RemoveActor(actor);
        actors.clear();
    }
};

ModelScene::ModelScene() : m_impl(std::make_unique<Impl>())
{
    Impl& d = *m_impl;
    d.renderer->GradientBackgroundOn();
    d.renderer->SetBackground(0.05, 0.06, 0.08);
    d.renderer->SetBackground2(0.20, 0.23, 0.28);
    d.renderer->SetUseDepthPeeling(true);
    d.renderer->SetMaximumNumberOfPeels(6);
    d.renderer->SetOcclusionRatio(0.05);

    vtkNew<vtkPolyDataMapper> accessMapper;
    accessMapper->SetInputData(d.accessPoints);
    accessMapper->SetColorModeToDirectScalars();
    d.accessActor->SetMapper(accessMapper);
    d.accessActor->GetProperty()->SetPointSize(3);
    d.accessActor->GetProperty()->RenderPointsAsSpheresOn();
    d.accessActor->VisibilityOff();
    d.renderer->AddActor(d.accessActor);

    d.cube->SetXPlusFaceText("L");
    d.cube->SetXMinusFaceText("R");
    d.cube->SetYPlusFaceText("P");
    d.cube->SetYMinusFaceText("A");
    d.cube->SetZPlusFaceText("S");
    d.cube->SetZMinusFaceText("I");
    d.cube->SetFaceTextScale(0.6);
    d.cube->GetCubeProperty()->SetColor(0.25, 0.32, 0.42);
    d.cube->GetTextEdgesProperty()->SetColor(0.9, 0.9, 0.9);
    d.cube->GetXPlusFaceProperty()->SetColor(0.95, 0.85, 0.3);
    d.cube->GetXMinusFaceProperty()->SetColor(0.95, 0.85, 0.3);
    d.cube->GetYPlusFaceProperty()->SetColor(0.4, 0.8, 0.4);
    d.cube->GetYMinusFaceProperty()->SetColor(0.4, 0.8, 0.4);
    d.cube->GetZPlusFaceProperty()->SetColor(0.93, 0.4, 0.35);
    d.cube->GetZMinusFaceProperty()->SetColor(0.93, 0.4, 0.35);
    resetCamera();
}

ModelScene::~ModelScene()
{
    if (m_impl->marker->GetInteractor())
        m_impl->marker->SetEnabled(0);
}

vtkRenderer* ModelScene::renderer() const { return m_impl->renderer; }

void ModelScene::setSurfaces(SurfaceSet surfaces, const std::vector<StructureStyle>& styles)
{
    Impl& d = *m_impl;
    clearSurfaces();
    if (!surfaces.data)
        return;
    for (auto& [value, polyData] : surfaces.data->surfaces) {
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputData(polyData);
        mapper->ScalarVisibilityOff();
        auto actor = vtkSmartPointer<vtkActor>::New();
        actor->SetMapper(mapper);
        actor->GetProperty()->SetSpecular(0.2);
        actor->GetProperty()->SetSpecularPower(20);
        StructureStyle style;
        style.labelValue = value;
        for (const StructureStyle& s : styles)
            if (s.labelValue == value)
                style = s;
        d.applyStyle(actor, style);
        d.renderer->AddActor(actor);
        d.surfaceActors[value] = actor;
    }
    for (const StructureStyle& style : styles)
        d.styles[style.labelValue] = style;
    d.paintSkin();
}

void ModelScene::setStyles(const std::vector<StructureStyle>& styles)
{
    for (const StructureStyle& style : styles) {
        auto it = m_impl->surfaceActors.find(style.labelValue);
        if (it != m_impl->surfaceActors.end())
            m_impl->applyStyle(it->second, style);
        m_impl->styles[style.labelValue] = style;
    }
    m_impl->paintSkin();
}

void ModelScene::clearSurfaces()
{
    for (auto& [value, actor] : m_impl->surfaceActors)
        m_impl->renderer->RemoveActor(actor);
    m_impl->surfaceActors.clear();
}

void ModelScene::setTrajectories(const std::vector<TrajectoryGraphic>& trajectories)
{
    Impl& d = *m_impl;
    d.clearActors(d.trajectoryActors);
    for (const TrajectoryGraphic& trajectory : trajectories) {
        // The shaft at its true diameter, plus a short hub line outside the skin so that the
        // direction is visible from afar.
        const Vec3 direction = normalized(trajectory.targetLps - trajectory.entryLps);
        const Vec3 hubLps = trajectory.entryLps - direction * 25.0;
        // Polyline hub → entry → evenly spaced shaft points → tip, coloured point by point.
        const std::vector<Rgb>& along = trajectory.colorsAlongRgb;
        const int shaftPoints = along.size() >= 2 ? static_cast<int>(along.size()) : 2;
        vtkNew<vtkPoints> points;
        vtkNew<vtkUnsignedCharArray> colors;
        colors->SetNumberOfComponents(3);
        auto addPoint = [&](const Vec3& p, const Rgb& rgb) {
            points->InsertNextPoint(p.x, p.y, p.z);
            const unsigned char c[3] = {static_cast<unsigned char>(255 * std::clamp(rgb[0], 0.0, 1.0)),
                                        static_cast<unsigned char>(255 * std::clamp(rgb[1], 0.0, 1.0)),
                                        static_cast<unsigned char>(255 * std::clamp(rgb[2], 0.0, 1.0))};
            colors->InsertNextTypedTuple(c);
        };
        const Rgb hubColor{0.75, 0.78, 0.82};
        addPoint(hubLps, hubColor);
        addPoint(trajectory.entryLps - direction * 0.01, hubColor);
        for (int s = 0; s < shaftPoints; ++s) {
            const double t = static_cast<double>(s) / (shaftPoints - 1);
            addPoint(trajectory.entryLps + (trajectory.targetLps - trajectory.entryLps) * t,
                     along.size() >= 2 ? along[static_cast<std::size_t>(s)] : trajectory.colorRgb);
        }
        vtkNew<vtkCellArray> line;
        line->InsertNextCell(points->GetNumberOfPoints());
        for (vtkIdType id = 0; id < points->GetNumberOfPoints(); ++id)
            line->InsertCellPoint(id);
        vtkNew<vtkPolyData> path;
        path->SetPoints(points);
        path->SetLines(line);
        path->GetPointData()->SetScalars(colors);
        vtkNew<vtkTubeFilter> tube;
        tube->SetInputData(path);
        tube->SetRadius(std::max(0.05, trajectory.radiusMm) * (trajectory.selected ? 1.0 : 0.8));
        tube->SetNumberOfSides(16);
        tube->CappingOn();
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputConnection(tube->GetOutputPort());
        mapper->SetColorModeToDirectScalars();
        mapper->ScalarVisibilityOn();
        auto actor = vtkSmartPointer<vtkActor>::New();
        actor->SetMapper(mapper);
        actor->GetProperty()->SetAmbient(0.35);
        actor->GetProperty()->SetOpacity(trajectory.selected ? 1.0 : 0.6);
        d.renderer->AddActor(actor);
        d.trajectoryActors.push_back(actor);
        if (trajectory.selected) {
            vtkNew<vtkSphereSource> tip;
            tip->SetCenter(trajectory.entryLps.x, trajectory.entryLps.y, trajectory.entryLps.z);
            tip->SetRadius(1.5);
            vtkNew<vtkPolyDataMapper> tipMapper;
            tipMapper->SetInputConnection(tip->GetOutputPort());
            auto entryActor = vtkSmartPointer<vtkActor>::New();
            entryActor->SetMapper(tipMapper);
            entryActor->GetProperty()->SetColor(0.35, 0.75, 1.0);
            d.renderer->AddActor(entryActor);
            d.trajectoryActors.push_back(entryActor);
        }
    }
}

void ModelScene::setTargets(const std::vector<TargetGraphic>& targets)
{
    Impl& d = *m_impl;
    d.clearActors(d.targetActors);
    for (const TargetGraphic& target : targets) {
        vtkNew<vtkSphereSource> sphere;
        sphere->SetCenter(target.positionLps.x, target.positionLps.y, target.positionLps.z);
        sphere->SetRadius(target.active ? 2.0 : 1.5);
        sphere->SetThetaResolution(20);
        sphere->SetPhiResolution(14);
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputConnection(sphere->GetOutputPort());
        auto actor = vtkSmartPointer<vtkActor>::New();
        actor->SetMapper(mapper);
        if (target.active)
            actor->GetProperty()->SetColor(1.0, 0.55, 0.1);
        else
            actor->GetProperty()->SetColor(0.9, 0.8, 0.3);
        d.renderer->AddActor(actor);
        d.targetActors.push_back(actor);
    }
}

void ModelScene::setAccessMap(const std::vector<AccessPoint>& points)
{
    Impl& d = *m_impl;
    vtkNew<vtkPoints> positions;
    vtkNew<vtkCellArray> vertices;
    vtkNew<vtkUnsignedCharArray> colors;
    colors->SetNumberOfComponents(3);
    for (const AccessPoint& point : points) {
        const vtkIdType id = positions->InsertNextPoint(point.entryLps.x, point.entryLps.y, point.entryLps.z);
        vertices->InsertNextCell(1, &id);
        unsigned char rgb[3] = {110, 30, 30};
        if (point.feasible) {
            // Amber (just feasible) to green (best).
            const double q = std::clamp(point.quality, 0.0, 1.0);
            rgb[0] = static_cast<unsigned char>(240 - 200 * q);
            rgb[1] = static_cast<unsigned char>(170 + 60 * q);
            rgb[2] = static_cast<unsigned char>(40 + 40 * q);
        }
        colors->InsertNextTypedTuple(rgb);
    }
    d.accessPoints->SetPoints(positions);
    d.accessPoints->SetVerts(vertices);
    d.accessPoints->GetPointData()->SetScalars(colors);
    d.accessPoints->Modified();
    d.accessActor->SetVisibility(d.accessVisible && !points.empty());
    d.accessMap = points;
    d.paintSkin();
}

void ModelScene::setAccessMapVisible(bool visible)
{
    m_impl->accessVisible = visible;
    m_impl->accessActor->SetVisibility(visible && m_impl->accessPoints->GetNumberOfPoints() > 0);
    m_impl->paintSkin();
}

void ModelScene::setSkinLabel(std::uint16_t labelValue)
{
    m_impl->skinLabel = labelValue;
    m_impl->paintSkin();
}

vtkPolyData* ModelScene::surfacePolyData(std::uint16_t labelValue) const
{
    auto it = m_impl->surfaceActors.find(labelValue);
    if (it == m_impl->surfaceActors.end())
        return nullptr;
    auto* mapper = vtkPolyDataMapper::SafeDownCast(it->second->GetMapper());
    return mapper ? vtkPolyData::SafeDownCast(mapper->GetInput()) : nullptr;
}

const char* ModelScene::accessColorArrayName()
{
    return kAccessColorArray;
}

void ModelScene::setVolumeRendering(std::shared_ptr<const imaging::Volume> volume)
{
    Impl& d = *m_impl;
    if (d.volumeProp) {
        d.renderer->RemoveVolume(d.volumeProp);
        d.volumeProp = nullptr;
    }
    if (!volume || volume->empty())
        return;
    // The image on its own grid (origin 0, identity axes); the prop's matrix places it in LPS.
    vtkSmartPointer<vtkImageData> image = toVtkImage(*volume);
    image->SetOrigin(0.0, 0.0, 0.0);
    image->SetDirectionMatrix(1, 0, 0, 0, 1, 0, 0, 0, 1);
    const imaging::Geometry& g = volume->geometry();
    vtkNew<vtkMatrix4x4> lpsFromGrid;
    for (int r = 0; r < 3; ++r) {
        for (int c = 0; c < 3; ++c)
            lpsFromGrid->SetElement(r, c, g.directionLps.m[static_cast<std::size_t>(3 * r + c)]);
        lpsFromGrid->SetElement(r, 3, g.originLps[r]);
    }
    vtkNew<vtkSmartVolumeMapper> mapper;
    mapper->SetRequestedRenderModeToRayCast(); // CPU ray casting: no GPU needed
    mapper->SetInputData(image);
    vtkNew<vtkPiecewiseFunction> opacity;
    opacity->AddPoint(-1000.0, 0.0);
    opacity->AddPoint(100.0, 0.0);
    opacity->AddPoint(200.0, 0.05);
    opacity->AddPoint(500.0, 0.5);
    opacity->AddPoint(1500.0, 0.85);
    vtkNew<vtkColorTransferFunction> color;
    color->AddRGBPoint(-1000.0, 0.0, 0.0, 0.0);
    color->AddRGBPoint(100.0, 0.75, 0.45, 0.35);
    color->AddRGBPoint(300.0, 0.95, 0.85, 0.7);
    color->AddRGBPoint(1500.0, 1.0, 1.0, 0.97);
    vtkNew<vtkVolumeProperty> property;
    property->SetScalarOpacity(opacity);
    property->SetColor(color);
    property->SetInterpolationTypeToLinear();
    property->ShadeOn();
    d.volumeProp = vtkSmartPointer<vtkVolume>::New();
    d.volumeProp->SetMapper(mapper);
    d.volumeProp->SetProperty(property);
    d.volumeProp->SetUserMatrix(lpsFromGrid);
    d.renderer->AddVolume(d.volumeProp);
}

bool ModelScene::volumeRenderingShown() const
{
    return m_impl->volumeProp != nullptr;
}

void ModelScene::resetCamera()
{
    vtkRenderer* renderer = m_impl->renderer;
    vtkCamera* camera = renderer->GetActiveCamera();
    camera->SetFocalPoint(0, 0, 0);
    camera->SetPosition(0, 1, 0); // posterior, looking anterior
    camera->SetViewUp(0, 0, 1);
    renderer->ResetCamera();
    camera->Zoom(1.3);
    renderer->ResetCameraClippingRange();
}

void ModelScene::lookAlong(const Vec3& focusLps, const Vec3& directionLps, const Vec3& upLps, double distanceMm)
{
    vtkCamera* camera = m_impl->renderer->GetActiveCamera();
    const double distance = distanceMm > 0.0 ? distanceMm : camera->GetDistance();
    const Vec3 eye = focusLps - normalized(directionLps) * distance;
    camera->SetFocalPoint(focusLps.x, focusLps.y, focusLps.z);
    camera->SetPosition(eye.x, eye.y, eye.z);
    camera->SetViewUp(upLps.x, upLps.y, upLps.z);
    camera->OrthogonalizeViewUp();
    m_impl->renderer->ResetCameraClippingRange();
}

void ModelScene::attachOrientationMarker(vtkRenderWindowInteractor* interactor)
{
    Impl& d = *m_impl;
    d.marker->SetOrientationMarker(d.cube);
    d.marker->SetInteractor(interactor);
    d.marker->SetDefaultRenderer(d.renderer);
    d.marker->SetViewport(0.0, 0.0, 0.16, 0.16);
    d.marker->SetEnabled(1);
    d.marker->InteractiveOff();
}

} // namespace np::render
