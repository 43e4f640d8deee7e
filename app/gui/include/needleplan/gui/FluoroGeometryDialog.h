#pragma once
/// "Register to CT" for an image whose header lacks the geometry (confidence "angles only" or
/// "none"): the registration needs the frame's positioner angles, SID, SOD and the detector pixel
/// pitch as its start. The dialog asks for what is missing, with defaults shown and physical
/// bounds checked, and says that the values are used as given: the registration has no
/// free-distance mode, so the distances are not optimised. The completed image keeps a list of
/// what the user gave, shown with the geometry.

#include "needleplan/imaging/ProjectionImage.h"

#include <QDialog>
#include <QStringList>
#include <memory>
#include <optional>

class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;

namespace np::gui {

/// Values the user gives for the attributes the header lacks.
struct AssumedGeometry
{
    double primaryDeg = 0.0;
    double secondaryDeg = 0.0;
    double sidMm = 1000.0;
    double sodMm = 750.0;
    double detectorPixelSpacingMm = 0.3;
};

/// Physical bounds: SID 500 to 1500 mm, SOD 300 mm to SID − 50 mm, pitch 0.05 to 2 mm, primary
/// −180 to 180°, secondary −90 to 90°. An empty string when the values are within them, else the
/// sentence saying which is not.
QString checkAssumedGeometry(const AssumedGeometry& values);

/// A copy of `image` with the missing angles, distances and pitch filled from `values` (the
/// header's own values kept) and confidence full; `assumed` names each attribute filled and its value.
/// Throws np::Error(InvalidArgument) with checkAssumedGeometry's sentence for values out of bounds.
std::shared_ptr<imaging::ProjectionImage>
completeGeometry(const imaging::ProjectionImage& image, const AssumedGeometry& values, QStringList* assumed);

class FluoroGeometryDialog : public QDialog
{
    Q_OBJECT
public:
    explicit FluoroGeometryDialog(const imaging::ProjectionImage& image, QWidget* parent = nullptr);
    AssumedGeometry values() const;
    /// The sentence that says how the values are used (no free-distance mode).
    QString modeText() const;

private:
    void validate();

    QDoubleSpinBox* m_primary = nullptr;
    QDoubleSpinBox* m_secondary = nullptr;
    QDoubleSpinBox* m_sid = nullptr;
    QDoubleSpinBox* m_sod = nullptr;
    QDoubleSpinBox* m_spacing = nullptr;
    QLabel* m_mode = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

} // namespace np::gui
