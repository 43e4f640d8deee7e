#include "needleplan/gui/VirtualCArmModel.h"

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Volume.h"
#include "needleplan/planning/TrajectoryAngles.h"

#include <algorithm>
#include <cmath>

namespace np::gui {

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr int kCoarsePixels = 128;
constexpr int kFullPixels = 384;
} // namespace

VirtualCArmModel::VirtualCArmModel(QObject* parent) : QObject(parent) {}
VirtualCArmModel::~VirtualCArmModel() = default;

void VirtualCArmModel::setCt(std::shared_ptr<const imaging::Volume> ct, BackgroundTask& task)
{
    m_ct = std::move(ct);
    m_attenuation.reset();
    m_dirty = true;
    emit readyChanged();
    if (!m_ct)
        return;
    auto built = std::make_shared<std::shared_ptr<const imaging::AttenuationVolume>>();
    const auto volume = m_ct;
    task.start(
        tr("Preparing the virtual C-arm"),
        [volume, built](ProgressSink& sink) {
            *built =
                std::make_shared<imaging::AttenuationVolume>(*volume, imaging::AttenuationOptions{}, &sink);
        },
        [this, volume, built] {
            if (volume != m_ct)
                return; // another CT meanwhile
            m_attenuation = *built;
            m_dirty = true;
            applyPreset(Preset::AP);
            emit readyChanged();
            emit changed();
        },
        [](ErrorCode, const QString&) {});
}

void VirtualCArmModel::setPlan(std::vector<PlannedPath> paths, int activePath, std::vector<Vec3> targetsLps)
{
    m_paths = std::move(paths);
    m_activePath = activePath;
    m_targets = std::move(targetsLps);
    m_dirty = true;
    emit changed();
}

void VirtualCArmModel::setAngles(double primaryDeg, double secondaryDeg)
{
    double p = std::fmod(primaryDeg, 360.0);
    if (p > 180.0)
        p -= 360.0;
    if (p <= -180.0)
        p += 360.0;
    m_primary = p;
    m_secondary = std::clamp(secondaryDeg, -90.0, 90.0);
    m_dirty = true;
    emit changed();
}

void VirtualCArmModel::setDistances(double sidMm, double sodMm)
{
    if (!(sidMm > sodMm && sodMm > 0.0))
        return;
    m_sid = sidMm;
    m_sod = sodMm;
    m_dirty = true;
    emit changed();
}

void VirtualCArmModel::setCoarse(bool coarse)
{
    if (coarse == m_coarse)
        return;
    m_coarse = coarse;
    m_dirty = true;
    emit changed();
}

std::string VirtualCArmModel::patientPosition() const
{
    return m_ct && !m_ct->info().patientPosition.empty() ? m_ct->info().patientPosition : std::string("HFS");
}

bool VirtualCArmModel::applyPreset(Preset preset)
{
    const auto position =
        planning::parsePatientPosition(patientPosition()).value_or(planning::PatientPosition::HFS);
    Vec3 detector;
    const Vec3 up = planning::upDirectionLps(position);
    switch (preset) {
    case Preset::AP:
        detector = up;
        break;
    case Preset::Lateral:
        detector = Vec3{1.0, 0.0, 0.0};
        break;
    case Preset::LeftOblique:
    case Preset::RightOblique: {
        const double side = preset == Preset::LeftOblique ? 1.0 : -1.0;
        detector = normalized(up * std::cos(kPi / 6.0) + Vec3{side * std::sin(kPi / 6.0), 0.0, 0.0});
        break;
    }
    case Preset::BullsEye:
    case Preset::Progression: {
        if (m_activePath < 0 || m_activePath >= static_cast<int>(m_paths.size()))
            return false;
        const PlannedPath& path = m_paths[static_cast<std::size_t>(m_activePath)];
        const planning::TrajectoryAngles angles =
            planning::computeTrajectoryAngles(path.entryLps, path.targetLps, position);
        const planning::CarmAngles& view = preset == Preset::BullsEye ? angles.bullseye : angles.progression;
        setAngles(view.primaryDeg, view.secondaryDeg);
        return true;
    }
    }
    double primary = 0.0, secondary = 0.0;
    planning::dicomAnglesFromDetectorDirection(detector, primary, secondary);
    setAngles(primary, secondary);
    return true;
}

Vec3 VirtualCArmModel::isocenterLps() const
{
    if (m_activePath >= 0 && m_activePath < static_cast<int>(m_paths.size()))
        return m_paths[static_cast<std::size_t>(m_activePath)].targetLps;
    if (!m_targets.empty())
        return m_targets.front();
    if (m_ct) {
        const auto& g = m_ct->geometry();
        return g.lpsFromIjk(Vec3{0.5 * (g.size[0] - 1), 0.5 * (g.size[1] - 1), 0.5 * (g.size[2] - 1)});
    }
    return {};
}

imaging::CArmGeometry VirtualCArmModel::view() const
{
    imaging::CArmParameters p;
    p.primaryDeg = m_primary;
    p.secondaryDeg = m_secondary;
    p.sourceToDetectorMm = m_sid;
    p.sourceToIsocenterMm = m_sod;
    p.isocenterLps = isocenterLps();
    p.patientPosition = patientPosition();
    p.columns = p.rows = m_coarse ? kCoarsePixels : kFullPixels;
    p.columnSpacingMm = p.rowSpacingMm = m_fieldMm / p.columns;
    return imaging::CArmGeometry(p);
}

QImage VirtualCArmModel::image()
{
    if (!m_attenuation)
        return {};
    if (m_dirty || m_image.isNull()) {
        const imaging::CArmGeometry v = view();
        const imaging::DrrImage drr = imaging::renderDrr(*m_attenuation, v);
        const std::vector<std::uint8_t> display = imaging::drrDisplayImage(drr);
        QImage image(drr.columns, drr.rows, QImage::Format_Grayscale8);
        for (int r = 0; r < drr.rows; ++r)
            std::copy_n(display.data() + static_cast<std::size_t>(r) * drr.columns, drr.columns,
                        image.scanLine(r));
        m_image = image;
        m_dirty = false;
    }
    return m_image;
}

std::optional<double> VirtualCArmModel::degreesFromBullseye() const
{
    if (m_activePath < 0 || m_activePath >= static_cast<int>(m_paths.size()))
        return std::nullopt;
    const PlannedPath& path = m_paths[static_cast<std::size_t>(m_activePath)];
    if (distance(path.entryLps, path.targetLps) <= 0.0)
        return std::nullopt;
    const Vec3 bullseye = normalized(path.entryLps - path.targetLps); // detector on the entry side
    const Vec3 current = imaging::detectorDirectionFromPositionerAngles(m_primary, m_secondary);
    return std::acos(std::clamp(dot(bullseye, current), -1.0, 1.0)) * 180.0 / kPi;
}

QString VirtualCArmModel::readout() const
{
    QString text = tr("%1 %2°  %3 %4°  SID %5 mm  SOD %6 mm%7")
                       .arg(m_primary >= 0.0 ? "LAO" : "RAO")
                       .arg(std::fabs(m_primary), 0, 'f', 1)
                       .arg(m_secondary >= 0.0 ? "CRA" : "CAU")
                       .arg(std::fabs(m_secondary), 0, 'f', 1)
                       .arg(m_sid, 0, 'f', 0)
                       .arg(m_sod, 0, 'f', 0)
                       .arg(m_coarse ? tr("  (coarse while moving)") : QString());
    if (const auto degrees = degreesFromBullseye())
        text += tr("\n%1° from the bull's-eye view of the selected trajectory").arg(*degrees, 0, 'f', 1);
    else
        text += tr("\nNo trajectory with an entry: no bull's-eye view to compare with");
    return text;
}

} // namespace np::gui
