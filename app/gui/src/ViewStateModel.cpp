#include "needleplan/gui/ViewStateModel.h"

#include "needleplan/gui/ImageModel.h"

#include <algorithm>
#include <cmath>

namespace np::gui {

ViewStateModel::ViewStateModel(const ImageModel& image, QObject* parent) : QObject(parent), m_image(image)
{
    connect(&image, &ImageModel::volumeChanged, this, &ViewStateModel::imageChanged);
}

ViewStateModel::~ViewStateModel() = default;

void ViewStateModel::imageChanged()
{
    auto volume = m_image.volume();
    if (!volume)
        return;
    const std::string& modality = volume->info().modality;
    const bool ct = modality == "CT" || modality.empty();
    setWindowLevel(ct ? 1200 : 600, 300);
    const imaging::Geometry& g = volume->geometry();
    m_cursorLps = g.lpsFromIjk({0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    emit cursorChanged();
}

void ViewStateModel::setCursorLps(const Vec3& cursorLps)
{
    Vec3 clamped = cursorLps;
    if (auto volume = m_image.volume()) {
        const imaging::Geometry& g = volume->geometry();
        Vec3 ijk = g.ijkFromLps(cursorLps);
        for (int a = 0; a < 3; ++a)
            ijk[a] = std::clamp(ijk[a], 0.0, static_cast<double>(g.size[static_cast<std::size_t>(a)] - 1));
        clamped = g.lpsFromIjk(ijk);
    }
    if (clamped == m_cursorLps)
        return;
    m_cursorLps = clamped;
    emit cursorChanged();
}

void ViewStateModel::setWindowLevel(double window, double level)
{
    m_window = std::max(1.0, window);
    m_level = level;
    emit windowLevelChanged();
}

const std::vector<WindowPreset>& ViewStateModel::windowPresets()
{
    static const std::vector<WindowPreset> presets = {
        {"Spine", 1200, 300}, {"Bone", 2000, 500}, {"Soft tissue", 400, 40},  {"Abdomen", 350, 50},
        {"Lung", 1500, -600}, {"Brain", 80, 40},   {"Full range", 4000, 1000}};
    return presets;
}

QString ViewStateModel::windowPresetName() const
{
    for (const WindowPreset& preset : windowPresets())
        if (preset.window == m_window && preset.level == m_level)
            return preset.name;
    return {};
}

bool ViewStateModel::applyWindowPreset(const QString& name)
{
    for (const WindowPreset& preset : windowPresets())
        if (preset.name == name) {
            setWindowLevel(preset.window, preset.level);
            return true;
        }
    return false;
}

void ViewStateModel::setSlabThicknessMm(double thicknessMm)
{
    const double slab = std::isfinite(thicknessMm) ? std::clamp(thicknessMm, 0.0, 200.0) : 0.0;
    if (slab == m_slabMm)
        return;
    m_slabMm = slab;
    emit slabChanged();
}

void ViewStateModel::setVolumeRendering(bool on)
{
    if (on == m_volumeRendering)
        return;
    m_volumeRendering = on;
    emit volumeRenderingChanged();
}

void ViewStateModel::setLayoutMode(int mode)
{
    m_layoutMode = mode == 1 ? 1 : 0;
    emit layoutChanged();
}

void ViewStateModel::setPickMode(PickMode mode)
{
    if (mode == m_pickMode)
        return;
    m_pickMode = mode;
    emit pickModeChanged();
}

void ViewStateModel::setTrajectoryView(double rotationDeg, double depthFraction)
{
    rotationDeg = std::clamp(rotationDeg, -180.0, 180.0);
    depthFraction = std::clamp(depthFraction, 0.0, 1.0);
    if (rotationDeg == m_rotationDeg && depthFraction == m_depthFraction)
        return;
    m_rotationDeg = rotationDeg;
    m_depthFraction = depthFraction;
    emit trajectoryViewChanged();
}

void ViewStateModel::setOverlayOpacity(double opacity)
{
    m_overlayOpacity = std::clamp(opacity, 0.0, 1.0);
    emit overlayOpacityChanged();
}

} // namespace np::gui
