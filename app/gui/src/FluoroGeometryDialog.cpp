#include "needleplan/gui/FluoroGeometryDialog.h"

#include "needleplan/imaging/Error.h"

#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <cmath>

namespace np::gui {

namespace {
constexpr double kMinSidMm = 500.0, kMaxSidMm = 1500.0;
constexpr double kMinSodMm = 300.0, kSodMarginMm = 50.0;
constexpr double kMinPitchMm = 0.05, kMaxPitchMm = 2.0;
} // namespace

QString checkAssumedGeometry(const AssumedGeometry& v)
{
    if (!(std::fabs(v.primaryDeg) <= 180.0) || !(std::fabs(v.secondaryDeg) <= 90.0))
        return QObject::tr("The primary angle must lie within ±180° and the secondary within ±90°.");
    if (!(v.sidMm >= kMinSidMm && v.sidMm <= kMaxSidMm))
        return QObject::tr("SID must lie between %1 and %2 mm.").arg(kMinSidMm).arg(kMaxSidMm);
    if (!(v.sodMm >= kMinSodMm && v.sodMm <= v.sidMm - kSodMarginMm))
        return QObject::tr("SOD must lie between %1 mm and SID − %2 mm (%3 mm): the isocentre lies between "
                           "the source and the detector.")
            .arg(kMinSodMm)
            .arg(kSodMarginMm)
            .arg(v.sidMm - kSodMarginMm);
    if (!(v.detectorPixelSpacingMm >= kMinPitchMm && v.detectorPixelSpacingMm <= kMaxPitchMm))
        return QObject::tr("The detector pixel pitch must lie between %1 and %2 mm.")
            .arg(kMinPitchMm)
            .arg(kMaxPitchMm);
    return {};
}

std::shared_ptr<imaging::ProjectionImage>
completeGeometry(const imaging::ProjectionImage& image, const AssumedGeometry& values, QStringList* assumed)
{
    const QString problem = checkAssumedGeometry(values);
    if (!problem.isEmpty())
        throw Error(ErrorCode::InvalidArgument, image.sourcePath + ": " + problem.toStdString());
    auto completed = std::make_shared<imaging::ProjectionImage>(image);
    imaging::ProjectionGeometry& g = completed->geometry;
    QStringList given;
    const auto note = [&](const char* attribute, double value, const char* unit) {
        given << QStringLiteral("%1 = %2 %3").arg(attribute).arg(value, 0, 'f', 2).arg(unit);
    };
    if (g.frames.size() < static_cast<std::size_t>(completed->frameCount))
        g.frames.resize(static_cast<std::size_t>(completed->frameCount));
    bool anglesGiven = false;
    for (auto& f : g.frames)
        if (!f.primaryDeg || !f.secondaryDeg) {
            f.primaryDeg = values.primaryDeg; // every frame without angles: the same view
            f.secondaryDeg = values.secondaryDeg;
            anglesGiven = true;
        }
    if (anglesGiven) {
        note("PositionerPrimaryAngle (0018,1510)", values.primaryDeg, "°");
        note("PositionerSecondaryAngle (0018,1511)", values.secondaryDeg, "°");
    }
    if (!g.sourceToDetectorMm) {
        g.sourceToDetectorMm = values.sidMm;
        note("DistanceSourceToDetector (0018,1110)", values.sidMm, "mm");
    }
    if (!g.sourceToIsocenterMm) {
        g.sourceToIsocenterMm = values.sodMm;
        note("DistanceSourceToPatient (0018,1111)", values.sodMm, "mm");
    }
    if (!g.detectorPixelSpacingMm) {
        g.detectorPixelSpacingMm =
            std::array<double, 2>{values.detectorPixelSpacingMm, values.detectorPixelSpacingMm};
        note("ImagerPixelSpacing (0018,1164)", values.detectorPixelSpacingMm, "mm");
    }
    for (auto& f : g.frames) {
        if (!f.sourceToDetectorMm)
            f.sourceToDetectorMm = g.sourceToDetectorMm;
        if (!f.sourceToIsocenterMm)
            f.sourceToIsocenterMm = g.sourceToIsocenterMm;
    }
    g.magnification = *g.sourceToDetectorMm / *g.sourceToIsocenterMm;
    if (!g.isocenterPixelSpacingMm) {
        g.isocenterPixelSpacingMm = std::array<double, 2>{(*g.detectorPixelSpacingMm)[0] / *g.magnification,
                                                          (*g.detectorPixelSpacingMm)[1] / *g.magnification};
        g.isocenterPixelSpacingSource = "ImagerPixelSpacing / magnification, user-given";
    }
    g.confidence = imaging::GeometryConfidence::Full;
    g.missing.clear();
    for (const QString& line : given)
        g.missing.push_back("user-given " + line.toStdString());
    if (assumed)
        *assumed = given;
    return completed;
}

FluoroGeometryDialog::FluoroGeometryDialog(const imaging::ProjectionImage& image, QWidget* parent)
    : QDialog(parent)
{
    setObjectName("fluoroGeometryDialog");
    setWindowTitle(tr("C-arm geometry for the registration"));
    auto* form = new QFormLayout(this);
    const imaging::ProjectionGeometry& g = image.geometry;
    form->addRow(new QLabel(tr("The header of this image lacks part of the C-arm geometry (confidence: %1). "
                               "Give the values of this C-arm:")
                                .arg(imaging::toString(g.confidence)),
                            this));
    auto spin = [&](const char* name, double low, double high, int decimals, double value,
                    const QString& suffix) {
        auto* box = new QDoubleSpinBox(this);
        box->setObjectName(name);
        box->setRange(low, high);
        box->setDecimals(decimals);
        box->setValue(value);
        box->setSuffix(suffix);
        connect(box, &QDoubleSpinBox::valueChanged, this, &FluoroGeometryDialog::validate);
        return box;
    };
    const AssumedGeometry defaults;
    const bool anglesMissing =
        g.frames.empty() || !g.frames.front().primaryDeg || !g.frames.front().secondaryDeg;
    m_primary = spin("geometryPrimary", -360.0, 360.0, 1, defaults.primaryDeg, QStringLiteral("°"));
    m_secondary = spin("geometrySecondary", -180.0, 180.0, 1, defaults.secondaryDeg, QStringLiteral("°"));
    m_sid = spin("geometrySid", 0.0, 5000.0, 0, g.sourceToDetectorMm.value_or(defaults.sidMm), tr(" mm"));
    m_sod = spin("geometrySod", 0.0, 5000.0, 0, g.sourceToIsocenterMm.value_or(defaults.sodMm), tr(" mm"));
    m_spacing =
        spin("geometryPixelSpacing", 0.0, 10.0, 3,
             g.detectorPixelSpacingMm ? (*g.detectorPixelSpacingMm)[1] : defaults.detectorPixelSpacingMm,
             tr(" mm"));
    const auto row = [&](const QString& label, QWidget* box, bool missing) {
        form->addRow(label, box);
        box->setEnabled(missing); // the header's own values are shown, not replaced
    };
    row(tr("Primary angle (LAO +)"), m_primary, anglesMissing);
    row(tr("Secondary angle (CRA +)"), m_secondary, anglesMissing);
    row(tr("SID (source to detector)"), m_sid, !g.sourceToDetectorMm);
    row(tr("SOD (source to isocentre)"), m_sod, !g.sourceToIsocenterMm);
    row(tr("Detector pixel pitch"), m_spacing, !g.detectorPixelSpacingMm);
    m_mode = new QLabel(modeText(), this);
    m_mode->setObjectName("geometryMode");
    m_mode->setWordWrap(true);
    form->addRow(m_mode);
    m_problem = new QLabel(this);
    m_problem->setObjectName("geometryProblem");
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet("color: #ff7070");
    form->addRow(m_problem);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Register with these values"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(m_buttons);
    validate();
}

QString FluoroGeometryDialog::modeText() const
{
    return tr(
        "The registration has no free-distance mode: these values are used as given and are not "
        "optimised. Wrong distances or pitch scale the overlay and the distances measured on the image.");
}

AssumedGeometry FluoroGeometryDialog::values() const
{
    AssumedGeometry v;
    v.primaryDeg = m_primary->value();
    v.secondaryDeg = m_secondary->value();
    v.sidMm = m_sid->value();
    v.sodMm = m_sod->value();
    v.detectorPixelSpacingMm = m_spacing->value();
    return v;
}

void FluoroGeometryDialog::validate()
{
    const QString problem = checkAssumedGeometry(values());
    m_problem->setText(problem);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}

} // namespace np::gui
