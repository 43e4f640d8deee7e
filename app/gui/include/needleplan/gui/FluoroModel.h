#pragma once
/// One fluoroscopy image in the workstation, without widgets: the loaded projection image (XA, RF,
/// DX, CR; single frame or cine), the frame shown and cine playback at the frame time, window and
/// level, invert, zoom and pan, the corner text, a distance measurement in mm at the isocentre (or
/// pixels), the registration to the CT, the plan projected through it and the needle-tip marks.
/// The view (FluoroViewWidget) only paints what this model says and forwards the mouse.

#include "needleplan/gui/FluoroGeometry.h"
#include "needleplan/imaging/FluoroRegistration.h"
#include "needleplan/imaging/ProjectionImage.h"
#include "needleplan/imaging/Triangulation.h"

#include <QColor>
#include <QImage>
#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <vector>

class QTimer;

namespace np::imaging {
class AttenuationVolume;
class Volume;
} // namespace np::imaging

namespace np::gui {

class BackgroundTask;

/// The registration of a fluoroscopy image to the CT, as the model keeps it.
struct FluoroRegistrationState
{
    imaging::FluoroRegistrationResult result;
    Vec3 isocenterLps;  ///< the isocentre the header's view was placed at (the target)
    int frameIndex = 0; ///< the frame registered
};

/// How a click in the image is used.
enum class FluoroTool
{
    Navigate,  ///< no marks (drag pans)
    Measure,   ///< two clicks: a distance
    NeedleTip, ///< one click: the needle's tip
    Angle,     ///< three clicks (arm, vertex, arm): an angle in degrees
    Point      ///< one click: a point to triangulate with a second view
};

class FluoroModel : public QObject
{
    Q_OBJECT
public:
    explicit FluoroModel(QObject* parent = nullptr);
    ~FluoroModel() override;

    /// Takes a loaded image (with pixels): frame 0, automatic window, no registration.
    void setImage(std::shared_ptr<const imaging::ProjectionImage> image);
    std::shared_ptr<const imaging::ProjectionImage> image() const { return m_image; }
    /// Replaces the image by a copy whose missing geometry the user gave (FluoroGeometryDialog),
    /// keeping the frame, display and marks; the corner text names the values given.
    void setCompletedGeometry(std::shared_ptr<const imaging::ProjectionImage> image, QStringList assumed);
    /// "DistanceSourceToDetector (0018,1110) = 1000.00 mm", ... for the values the user gave.
    const QStringList& assumedGeometry() const { return m_assumed; }
    /// File name and frame count for the tab title.
    QString title() const;

    // Frames and cine.
    int frameIndex() const { return m_frame; }
    int frameCount() const;
    void setFrame(int index);
    void step(int delta); ///< wraps around when looping, stops at the ends otherwise
    void play();
    void pause();
    bool playing() const;
    void setLoop(bool loop) { m_loop = loop; }
    bool loop() const { return m_loop; }
    /// The cine interval (ms): the image's frame time, or 100 ms when it has none (said in the corner text).
    int frameIntervalMs() const;

    // Display.
    double window() const { return m_window; }
    double level() const { return m_level; }
    void setWindowLevel(double window, double level);
    /// Automatic window from the 1st and 99th percentiles of the frame.
    void autoWindow();
    bool inverted() const { return m_invert; }
    void setInverted(bool invert);
    /// The frame shown, 8-bit grey, rows × columns as stored.
    QImage frameImage() const;
    double zoom() const { return m_zoom; }
    QPointF pan() const { return m_pan; }
    void setZoom(double zoom);
    void setPan(const QPointF& panPx);

    /// Corner text lines: modality, frame, angles, SID, SOD, confidence and missing attributes,
    /// window/level, registration.
    QStringList cornerText() const;

    // Distance measurement.
    FluoroTool tool() const { return m_tool; }
    void setTool(FluoroTool tool);
    /// A click with the current tool at a stored-image pixel (the view's mouse path).
    void clickPixel(const imaging::DetectorPixel& pixel);
    const std::vector<imaging::DetectorPixel>& measurePoints() const { return m_measure; }
    /// "12.3 mm at the isocentre (ImagerPixelSpacing / magnification)" or "28 px (no calibration)".
    QString measurementText() const;
    /// The angle's clicks (arm, vertex, arm), up to three.
    const std::vector<imaging::DetectorPixel>& anglePoints() const { return m_angle; }
    /// Angle at the vertex in degrees, measured in the isocentre plane (pixel spacing of each axis
    /// applied), or between pixel vectors without a calibration; nullopt before three clicks.
    std::optional<double> angleDeg() const;
    /// "37.5° in the isocentre plane (ImagerPixelSpacing / magnification)" or "37.5° (pixels, no
    /// calibration)"; empty before three clicks.
    QString angleText() const;
    /// Distance between two pixels at the isocentre in mm; nullopt without a calibration.
    std::optional<double> distanceMm(const imaging::DetectorPixel& a, const imaging::DetectorPixel& b) const;

    // Registration and the plan on the image.
    /// Registers the frame shown to `ct` with the header's view placed at `isocenterLps` (the
    /// target), on `task`; registrationFinished reports. False with `error` when it cannot start
    /// (no full geometry, no CT, busy).
    bool registerToCt(std::shared_ptr<const imaging::Volume> ct, const Vec3& isocenterLps,
                      BackgroundTask& task, QString* error = nullptr,
                      const imaging::FluoroRegistrationOptions& options = {});
    const std::optional<FluoroRegistrationState>& registration() const { return m_registration; }
    /// Registered and the verdict trusts it.
    bool registered() const { return m_registration && m_registration->result.registered; }
    /// CT LPS → pixel of frame `index`: the registered pose through that frame's header view;
    /// nullopt when not registered or the frame's geometry is unknown.
    std::optional<imaging::ProjectionMatrix> projectionForFrame(int index) const;
    /// Drops the registration (another image, another CT).
    void clearRegistration();

    /// The plan drawn on the image (set by the workstation from the plan model).
    void setPlan(std::vector<PlannedPath> paths, int activePath, std::vector<Vec3> targetsLps);
    const std::vector<PlannedPath>& plannedPaths() const { return m_paths; }
    const std::vector<Vec3>& plannedTargets() const { return m_targets; }
    /// Structure outlines (CT LPS points on each structure's boundary) and their colours.
    void setStructureOutlines(std::vector<std::vector<Vec3>> pointsLps, std::vector<QColor> colors);
    const std::vector<std::vector<Vec3>>& structurePoints() const { return m_structurePoints; }
    const std::vector<QColor>& structureColors() const { return m_structureColors; }
    bool overlayVisible() const { return m_overlay; }
    void setOverlayVisible(bool visible);

    /// The needle-tip mark on this image (stored-image pixel), if placed.
    const std::optional<imaging::DetectorPixel>& tipMark() const { return m_tip; }
    /// The tip's frame (marks belong to the frame shown when they were made).
    int tipFrame() const { return m_tipFrame; }
    /// The point mark (Point tool) for two-view triangulation, its frame, and clearing it.
    const std::optional<imaging::DetectorPixel>& pointMark() const { return m_point; }
    int pointFrame() const { return m_pointFrame; }
    void clearPointMark();
    /// The epipolar line of another view's point mark, drawn on this image (nullopt: none).
    void setEpipolarLine(std::optional<imaging::ImageLine> line);
    const std::optional<imaging::ImageLine>& epipolarLine() const { return m_epipolar; }
    /// The one-view readout of the tip mark against the active planned path.
    std::optional<TipRayReadout> tipReadout() const;
    const std::vector<PlannedPath>& paths() const { return m_paths; }
    int activePath() const { return m_activePath; }

signals:
    void frameChanged(int index);
    void displayChanged();
    void playingChanged(bool playing);
    void measurementChanged();
    void registrationStarted();
    void registrationFinished(bool registered, const QString& reason);
    void overlayChanged();
    void tipChanged();
    void pointChanged();

private:
    std::shared_ptr<const imaging::ProjectionImage> m_image;
    QStringList m_assumed;
    int m_frame = 0;
    bool m_loop = true;
    QTimer* m_timer = nullptr;
    double m_window = 255.0;
    double m_level = 127.5;
    bool m_invert = false;
    double m_zoom = 1.0;
    QPointF m_pan;
    FluoroTool m_tool = FluoroTool::Navigate;
    std::vector<imaging::DetectorPixel> m_measure;
    std::optional<FluoroRegistrationState> m_registration;
    std::shared_ptr<imaging::AttenuationVolume> m_attenuation;
    const imaging::Volume* m_attenuationSource = nullptr;
    bool m_registering = false;
    std::vector<PlannedPath> m_paths;
    int m_activePath = -1;
    std::vector<Vec3> m_targets;
    std::vector<std::vector<Vec3>> m_structurePoints;
    std::vector<QColor> m_structureColors;
    bool m_overlay = true;
    std::optional<imaging::DetectorPixel> m_tip;
    int m_tipFrame = 0;
    std::vector<imaging::DetectorPixel> m_angle;
    std::optional<imaging::DetectorPixel> m_point;
    int m_pointFrame = 0;
    std::optional<imaging::ImageLine> m_epipolar;
};

} // namespace np::gui
