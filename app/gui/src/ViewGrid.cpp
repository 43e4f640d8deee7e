#include "needleplan/gui/ViewGrid.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/Dialogs.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/Measurements.h"
#include "needleplan/gui/ModelViewWidget.h"
#include "needleplan/gui/PlanGraphics.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/gui/ViewStateModel.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/render/ImageCapture.h"
#include "needleplan/render/ModelScene.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>
#include <cstdio>

namespace np::gui {

ViewGrid::ViewGrid(ImageModel& image, StructuresModel& structures, PlanModel& plan, ViewStateModel& view,
                   BackgroundTask& task, QWidget* parent)
    : QWidget(parent), m_image(image), m_structures(structures), m_plan(plan), m_view(view), m_task(task)
{
    m_grid = new QGridLayout(this);
    m_grid->setContentsMargins(2, 2, 2, 2);
    m_grid->setSpacing(3);
    const std::pair<render::SliceOrientation, QColor> slices[] = {
        {render::SliceOrientation::Axial, QColor(236, 84, 77)},
        {render::SliceOrientation::Coronal, QColor(102, 204, 102)},
        {render::SliceOrientation::Sagittal, QColor(242, 217, 77)}};
    for (const auto& [orientation, accent] : slices) {
        auto* slice = new SliceViewWidget(orientation, this);
        m_sliceViews.push_back(slice);
        m_viewFrames.push_back(makeViewFrame(slice, render::toString(orientation), accent));
        connect(slice, &SliceViewWidget::cursorMoved, this,
                [this](const Vec3& p) { m_view.setCursorLps(p); });
        connect(slice, &SliceViewWidget::pointPicked, this, &ViewGrid::pointPicked);
    }
    m_modelView = new ModelViewWidget(this);
    m_viewFrames.push_back(makeViewFrame(m_modelView, tr("3D"), QColor(120, 170, 240)));
    QWidget* modelFrame = m_viewFrames.back();
    connect(m_modelView, &ModelViewWidget::maximiseToggled, this,
            [this, modelFrame] { toggleMaximised(modelFrame); });

    // Trajectory views: a plane containing the needle (rotatable about it) and the probe's eye.
    m_needleView = new SliceViewWidget(render::SliceOrientation::Sagittal, this);
    m_needleView->setObjectName("needleView");
    m_needleView->scene().setViewName("Along needle");
    m_needleView->scene().setCrosshairVisible(false);
    m_rotationSlider = new QSlider(Qt::Horizontal);
    m_rotationSlider->setRange(-180, 180);
    m_rotationSlider->setToolTip(tr("Rotate the plane about the needle"));
    m_viewFrames.push_back(
        makeViewFrame(m_needleView, tr("Along needle"), QColor(90, 200, 230), m_rotationSlider));
    m_probeView = new SliceViewWidget(render::SliceOrientation::Axial, this);
    m_probeView->setObjectName("probeView");
    m_probeView->scene().setViewName("Probe's eye");
    m_probeView->scene().setCrosshairVisible(false);
    m_depthSlider = new QSlider(Qt::Horizontal);
    m_depthSlider->setRange(0, 1000);
    m_depthSlider->setValue(1000);
    m_depthSlider->setToolTip(tr("Depth along the needle, from the skin entry to the tip"));
    m_viewFrames.push_back(
        makeViewFrame(m_probeView, tr("Probe's eye"), QColor(200, 140, 230), m_depthSlider));
    connect(m_needleView, &SliceViewWidget::cursorMoved, this,
            [this](const Vec3& p) { m_view.setCursorLps(p); });
    connect(m_probeView, &SliceViewWidget::cursorMoved, this, [this](const Vec3& p) {
        // Wheel and clicks move the probe along the needle.
        const PlanTarget* target = m_plan.active();
        if (target && target->entryLps) {
            const Vec3 axis = target->targetLps - *target->entryLps;
            const double t = dot(p - *target->entryLps, axis) / std::max(1e-9, dot(axis, axis));
            m_view.setTrajectoryView(m_view.trajectoryRotationDeg(), t);
        }
    });
    for (std::size_t v = 0; v < 5; ++v) {
        SliceViewWidget* slice = allSliceViews()[v];
        QWidget* frame = m_viewFrames[v < 3 ? v : v + 1];
        connect(slice, &SliceViewWidget::maximiseToggled, this, [this, frame] { toggleMaximised(frame); });
        connect(slice, &SliceViewWidget::windowLevelChanged, this,
                [this](double w, double l) { m_view.setWindowLevel(w, l); });
        connect(slice, &SliceViewWidget::handleDragStarted, &m_plan, [this](int) { m_plan.beginDrag(); });
        connect(slice, &SliceViewWidget::handleDragged, &m_plan,
                [this](int h, const Vec3& p) { m_plan.dragHandle(h, p); });
        connect(slice, &SliceViewWidget::handleDragFinished, &m_plan, [this](int) { m_plan.endDrag(); });
    }
    connect(m_rotationSlider, &QSlider::valueChanged, this,
            [this](int value) { m_view.setTrajectoryView(value, m_view.probeDepthFraction()); });
    connect(m_depthSlider, &QSlider::valueChanged, this,
            [this](int value) { m_view.setTrajectoryView(m_view.trajectoryRotationDeg(), value / 1000.0); });

    // The models drive the views.
    connect(&m_image, &ImageModel::volumeChanged, this, [this] {
        for (SliceViewWidget* slice : allSliceViews()) {
            slice->scene().setVolume(m_image.volume());
            slice->scene().setWindowLevel(m_view.window(), m_view.level());
            slice->scene().setCursorLps(m_view.cursorLps());
        }
        m_modelView->scene().clearSurfaces();
        m_modelView->scene().setAccessMap({});
        m_modelView->scene().setVolumeRendering(m_view.volumeRendering() ? m_image.volume() : nullptr);
        updateCornerText();
        refreshSliceViews();
    });
    connect(&m_image, &ImageModel::loadFinished, this, [this](bool ok) {
        if (ok)
            startSurfaceBuild();
    });
    connect(&m_structures, &StructuresModel::labelsChanged, this, [this] {
        m_modelView->scene().setSkinLabel(m_structures.skinLabel());
        if (!m_image.loading())
            startSurfaceBuild();
    });
    connect(&m_structures, &StructuresModel::structuresChanged, this, [this] {
        for (SliceViewWidget* slice : allSliceViews())
            slice->scene().setLabels(m_structures.labels(), m_structures.styles());
        m_modelView->scene().setStyles(m_structures.styles());
        refreshPlanGraphics();
    });
    connect(&m_view, &ViewStateModel::cursorChanged, this, [this] {
        for (SliceViewWidget* slice : m_sliceViews)
            slice->scene().setCursorLps(m_view.cursorLps());
        refreshSliceViews();
    });
    connect(&m_view, &ViewStateModel::windowLevelChanged, this, [this] {
        for (SliceViewWidget* slice : allSliceViews())
            slice->scene().setWindowLevel(m_view.window(), m_view.level());
        refreshSliceViews();
    });
    // The slab applies to the standard views; the trajectory views stay thin.
    connect(&m_view, &ViewStateModel::slabChanged, this, [this] {
        for (SliceViewWidget* slice : m_sliceViews)
            slice->scene().setSlabThicknessMm(m_view.slabThicknessMm());
        refreshSliceViews();
    });
    connect(&m_view, &ViewStateModel::volumeRenderingChanged, this, [this] {
        m_modelView->scene().setVolumeRendering(m_view.volumeRendering() ? m_image.volume() : nullptr);
        m_modelView->refresh();
    });
    connect(&m_view, &ViewStateModel::overlayOpacityChanged, this, [this] {
        for (SliceViewWidget* slice : allSliceViews())
            slice->scene().setLabelOpacity(m_view.overlayOpacity());
        refreshSliceViews();
    });
    connect(&m_plan, &PlanModel::measurementsChanged, this, [this] {
        std::vector<std::pair<Vec3, Vec3>> lines;
        for (const planning::Measurement& measurement : m_plan.measurements())
            for (const auto& segment : measurementSegments(measurement))
                lines.push_back(segment);
        for (SliceViewWidget* slice : m_sliceViews)
            slice->scene().setMeasurementLines(lines);
        refreshSliceViews();
    });
    connect(&m_view, &ViewStateModel::pickModeChanged, this, [this] {
        m_measurePoints.clear();
        for (SliceViewWidget* slice : m_sliceViews) {
            slice->setPickMode(m_view.pickMode());
            slice->setCursor(m_view.pickMode() == PickMode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
        }
    });
    connect(&m_view, &ViewStateModel::layoutChanged, this, &ViewGrid::applyLayout);
    connect(&m_view, &ViewStateModel::trajectoryViewChanged, this, [this] {
        QSignalBlocker rotation(m_rotationSlider);
        QSignalBlocker depth(m_depthSlider);
        m_rotationSlider->setValue(static_cast<int>(std::lround(m_view.trajectoryRotationDeg())));
        m_depthSlider->setValue(static_cast<int>(std::lround(1000 * m_view.probeDepthFraction())));
        refreshTrajectoryViews();
    });
    connect(&m_plan, &PlanModel::planChanged, this, [this] {
        refreshPlanGraphics();
        // The trajectory views follow the needle, but not while a handle is dragged in them: the
        // plane would move under the mouse. They follow when the drag ends.
        if (!m_plan.dragging())
            refreshTrajectoryViews();
        refreshAccessMap();
    });
    connect(&m_plan, &PlanModel::fieldsReady, this, &ViewGrid::refreshPlanGraphics);
    connect(&m_plan, &PlanModel::searchFinished, this, [this](bool ok) {
        if (ok)
            focus3dOnActiveTarget();
    });
    applyLayout();
}

SliceViewWidget* ViewGrid::sliceView(render::SliceOrientation orientation) const
{
    for (SliceViewWidget* slice : m_sliceViews)
        if (slice->scene().orientation() == orientation)
            return slice;
    return nullptr;
}

std::vector<SliceViewWidget*> ViewGrid::allSliceViews() const
{
    std::vector<SliceViewWidget*> views = m_sliceViews;
    views.push_back(m_needleView);
    views.push_back(m_probeView);
    return views;
}

QWidget* ViewGrid::makeViewFrame(QWidget* view, const QString& title, const QColor& accent, QWidget* extra)
{
    auto* frame = new QWidget(this);
    frame->setObjectName("viewFrame");
    auto* layout = new QVBoxLayout(frame);
    layout->setContentsMargins(1, 1, 1, 1);
    layout->setSpacing(0);
    auto* bar = new QWidget(frame);
    bar->setObjectName("viewBar");
    bar->setStyleSheet(
        QStringLiteral("#viewBar { background: #1d2127; border-left: 3px solid %1; }").arg(accent.name()));
    auto* barLayout = new QHBoxLayout(bar);
    barLayout->setContentsMargins(8, 2, 4, 2);
    auto* label = new QLabel(title, bar);
    label->setStyleSheet(QStringLiteral("color: %1; font-weight: 600;").arg(accent.name()));
    barLayout->addWidget(label);
    barLayout->addStretch(1);
    if (extra) {
        extra->setParent(bar);
        barLayout->addWidget(extra, 2);
    }
    auto* shot = new QToolButton(bar);
    shot->setText(tr("PNG"));
    shot->setToolTip(tr("Save this view as PNG"));
    auto* maximise = new QToolButton(bar);
    maximise->setText(QStringLiteral("⤢"));
    maximise->setToolTip(tr("Maximise / restore this view (or double-click it)"));
    barLayout->addWidget(shot);
    barLayout->addWidget(maximise);
    layout->addWidget(bar);
    layout->addWidget(view, 1);
    connect(maximise, &QToolButton::clicked, this, [this, frame] { toggleMaximised(frame); });
    connect(shot, &QToolButton::clicked, this, [this, view, title] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save %1 view").arg(title),
                                                          title.toLower() + ".png", tr("PNG images (*.png)"));
        QString error;
        if (!path.isEmpty() && !saveViewScreenshot(view, path, &error))
            showErrorBox(this, tr("Screenshot not saved"), error);
    });
    return frame;
}

void ViewGrid::applyLayout()
{
    const int mode = m_view.layoutMode();
    for (QWidget* frame : m_viewFrames) {
        m_grid->removeWidget(frame);
        frame->hide();
    }
    // Standard: axial | 3D over coronal | sagittal. Trajectory: needle | 3D over probe | axial.
    const int order[2][4] = {{0, 3, 1, 2}, {4, 3, 5, 0}};
    for (int cell = 0; cell < 4; ++cell) {
        QWidget* frame = m_viewFrames[static_cast<std::size_t>(order[mode][cell])];
        m_grid->addWidget(frame, cell / 2, cell % 2);
        frame->show();
    }
    m_maximised = nullptr;
    refreshTrajectoryViews();
}

void ViewGrid::toggleMaximised(QWidget* view)
{
    QWidget* frame = view;
    while (frame && std::find(m_viewFrames.begin(), m_viewFrames.end(), frame) == m_viewFrames.end())
        frame = frame->parentWidget();
    if (!frame)
        return;
    if (m_maximised == frame) {
        applyLayout();
        return;
    }
    for (QWidget* other : m_viewFrames)
        other->setVisible(other == frame && m_grid->indexOf(other) >= 0);
    m_maximised = frame;
}

void ViewGrid::pointPicked(const Vec3& pointLps, PickMode mode)
{
    if (mode == PickMode::MeasureDistance || mode == PickMode::MeasureAngle ||
        mode == PickMode::MeasureEllipse) {
        // Clicks collect the points; the last one adds the measurement to the plan.
        planning::Measurement measurement;
        measurement.kind = mode == PickMode::MeasureDistance ? "distance"
                           : mode == PickMode::MeasureAngle  ? "angle"
                                                             : "ellipse";
        m_measurePoints.push_back(pointLps);
        if (m_measurePoints.size() < planning::measurementPointCount(measurement.kind))
            return;
        measurement.pointsLps = m_measurePoints;
        m_measurePoints.clear();
        m_view.setPickMode(PickMode::Navigate);
        m_plan.addMeasurement(measurement);
        return;
    }
    m_view.setPickMode(PickMode::Navigate);
    if (mode == PickMode::SetTarget || mode == PickMode::AddTarget) {
        if (mode == PickMode::AddTarget)
            m_plan.addTarget(QString(), pointLps);
        else
            m_plan.moveActiveTarget(pointLps);
        m_view.setCursorLps(pointLps);
    } else if (mode == PickMode::SetEntry && !m_plan.setEntry(pointLps)) {
        emit errorOccurred(tr("No target"), tr("Set a target first, then its entry."));
    }
}

void ViewGrid::setAccessMapVisible(bool visible)
{
    m_accessMapVisible = visible;
    m_modelView->scene().setAccessMapVisible(visible);
    m_modelView->refresh();
}

void ViewGrid::resetViews()
{
    for (SliceViewWidget* slice : m_sliceViews) {
        slice->resetView();
        slice->refresh();
    }
    m_modelView->scene().resetCamera();
    m_modelView->refresh();
}

void ViewGrid::renderNow()
{
    for (SliceViewWidget* slice : allSliceViews())
        if (slice->isVisible())
            slice->renderNow();
    m_modelView->renderNow();
}

bool ViewGrid::saveViewScreenshot(QWidget* view, const QString& path, QString* error)
{
    auto* vtkView = qobject_cast<VtkOpenGLWidget*>(view);
    if (!vtkView) {
        if (error)
            *error = tr("Not a rendered view");
        return false;
    }
    try {
        render::writePng(vtkView->captureVtkImage(), path.toStdString());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    return true;
}

void ViewGrid::refreshSliceViews()
{
    for (SliceViewWidget* slice : allSliceViews())
        slice->refresh();
}

void ViewGrid::focus3dOnActiveTarget()
{
    const PlanTarget* target = m_plan.active();
    if (!target || !target->entryLps)
        return;
    // A posterolateral view of the target from the side of its entry.
    const Vec3 outward = normalized(*target->entryLps - target->targetLps);
    const Vec3 direction = normalized(Vec3{outward.x, 0.0, 0.0} * 0.8 + Vec3{0, 1, 0});
    m_modelView->scene().lookAlong(target->targetLps, -direction, {0, 0, 1}, 260.0);
    m_modelView->refresh();
}

void ViewGrid::refreshAccessMap()
{
    // The accessibility map shown is the active target's, while its search results stand.
    m_modelView->scene().setAccessMap(m_planHidden ? std::vector<render::AccessPoint>{}
                                                   : m_plan.accessMap(m_plan.activeTarget()));
    m_modelView->scene().setAccessMapVisible(m_accessMapVisible);
    m_modelView->refresh();
}

void ViewGrid::refreshTrajectoryViews()
{
    const PlanTarget* active = m_plan.active();
    std::optional<std::pair<Vec3, Vec3>> path = m_followed;
    if (!m_planHidden && active && active->entryLps)
        path = std::make_pair(*active->entryLps, active->targetLps);
    if (!path || distance(path->first, path->second) < 1e-6 || !m_image.volume()) {
        m_needleView->scene().setPositionText("no trajectory");
        m_probeView->scene().setPositionText("no trajectory");
        return;
    }
    const Vec3 entryLps = path->first;
    const Vec3 targetLps = path->second;
    const Vec3 along = normalized(targetLps - entryLps);
    Vec3 reference = cross(along, Vec3{0, 0, 1});
    if (norm(reference) < 1e-3)
        reference = Vec3{1, 0, 0};
    reference = normalized(reference);
    const double rotationDeg = std::lround(m_view.trajectoryRotationDeg());
    const double angle = rotationDeg * 3.14159265358979323846 / 180.0;
    const Vec3 rotated = reference * std::cos(angle) + cross(along, reference) * std::sin(angle);
    const double length = distance(entryLps, targetLps);

    // Along the needle: entry at the top, tip below.
    render::SliceScene& needle = m_needleView->scene();
    needle.setAxes(render::axesFromRightUp(rotated, -along));
    needle.setCursorLps(targetLps);
    needle.centreOn(0.5 * (entryLps + targetLps), 1.6 * length);
    char text[96];
    std::snprintf(text, sizeof text, "rotation %+d°", static_cast<int>(rotationDeg));
    needle.setPositionText(text);

    // Probe's eye: looking down the needle from the entry at the chosen depth.
    const double depth = std::lround(1000 * m_view.probeDepthFraction()) / 1000.0 * length;
    render::SliceScene& probe = m_probeView->scene();
    render::SliceAxes axes;
    axes.towardViewerLps = -along;
    axes.rightLps = rotated;
    axes.upLps = cross(axes.towardViewerLps, axes.rightLps);
    probe.setAxes(axes);
    const Vec3 probeLps = entryLps + along * depth;
    probe.setCursorLps(probeLps);
    probe.centreOn(probeLps, 60.0);
    std::snprintf(text, sizeof text, "depth %.1f / %.1f mm", depth, length);
    probe.setPositionText(text);
    m_needleView->refresh();
    m_probeView->refresh();
}

void ViewGrid::setPlanHidden(bool hidden, std::optional<std::pair<Vec3, Vec3>> followedEntryTargetLps)
{
    m_planHidden = hidden;
    m_followed = hidden ? followedEntryTargetLps : std::nullopt;
    refreshPlanGraphics();
    refreshAccessMap();
    refreshTrajectoryViews();
}

void ViewGrid::setOverlay(const QString& owner, const PlanGraphics& graphics)
{
    if (graphics.trajectories.empty() && graphics.targets.empty())
        m_overlays.erase(owner);
    else
        m_overlays[owner] = graphics;
    refreshPlanGraphics();
}

void ViewGrid::refreshPlanGraphics()
{
    PlanGraphics graphics = m_planHidden ? PlanGraphics{} : planGraphics(m_plan);
    for (const auto& [owner, overlay] : m_overlays) {
        graphics.trajectories.insert(graphics.trajectories.end(), overlay.trajectories.begin(),
                                     overlay.trajectories.end());
        graphics.targets.insert(graphics.targets.end(), overlay.targets.begin(), overlay.targets.end());
    }
    m_drawn = graphics;
    for (SliceViewWidget* slice : allSliceViews()) {
        slice->scene().setTrajectories(graphics.trajectories);
        slice->scene().setTargets(graphics.targets);
        slice->setHandles(graphics.entryHandleLps, graphics.targetHandleLps);
        slice->refresh();
    }
    m_modelView->scene().setTrajectories(graphics.trajectories);
    m_modelView->scene().setTargets(graphics.targets);
    m_modelView->refresh();
}

void ViewGrid::updateCornerText()
{
    auto volume = m_image.volume();
    std::string left, right;
    if (volume) {
        const imaging::VolumeInfo& info = volume->info();
        left = (info.modality.empty() ? std::string("Image") : info.modality) +
               (info.patientPosition.empty() ? std::string() : "  " + info.patientPosition);
        std::string description =
            info.description.empty() ? QFileInfo(m_image.path()).fileName().toStdString() : info.description;
        if (description.size() > 40) // the slice views shorten it further to fit their width
            description = description.substr(0, 37) + "...";
        left += "\n" + description;
        const auto& g = volume->geometry();
        char size[128];
        std::snprintf(size, sizeof size, "%lldx%lldx%lld\n%.2gx%.2gx%.2g mm",
                      static_cast<long long>(g.size[0]), static_cast<long long>(g.size[1]),
                      static_cast<long long>(g.size[2]), g.spacing.x, g.spacing.y, g.spacing.z);
        right = size;
    }
    for (SliceViewWidget* slice : allSliceViews())
        slice->scene().setCornerText(left, right);
}

void ViewGrid::startSurfaceBuild()
{
    auto volume = m_image.volume();
    auto labels = m_structures.labels();
    if (!volume)
        return;
    auto surfaces = std::make_shared<render::SurfaceSet>();
    std::vector<std::uint16_t> values;
    for (const StructureRow& row : m_structures.rows())
        if (row.style.name.find("fat") == std::string::npos &&
            row.style.name.find("muscle") == std::string::npos)
            values.push_back(row.style.labelValue);
    m_task.start(
        tr("Building 3D surfaces"),
        [volume, labels, surfaces, values](ProgressSink& sink) {
            if (labels && !values.empty())
                *surfaces = render::buildLabelSurfaces(*labels, values, &sink);
            else
                *surfaces = render::buildThresholdSurface(*volume, 250.0, 1, &sink);
        },
        [this, surfaces, labels] {
            std::vector<render::StructureStyle> styles = m_structures.styles();
            if (!labels)
                styles.push_back({1, "bone (threshold)", {0.92, 0.88, 0.78}, 1.0, true});
            m_modelView->scene().setSurfaces(std::move(*surfaces), styles);
            refreshPlanGraphics();
            m_modelView->scene().resetCamera();
            focus3dOnActiveTarget();
            m_modelView->refresh();
            emit surfacesReady();
        },
        [this](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("3D surfaces not built"), message);
        });
}

} // namespace np::gui
