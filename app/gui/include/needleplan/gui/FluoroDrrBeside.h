#pragma once
/// The CT's DRR beside a fluoroscopy image: for the frame shown, the C-arm view from the frame's
/// header (angles, SID, SOD, detector pitch) with the isocentre at the target, moved by the
/// registration when the image is registered, rendered again when the frame changes. The DRR is
/// rendered off the GUI thread; a result that arrives after the frame (or the pose, the CT, the
/// inversion) changed is dropped and the current state rendered instead, so the image shown and
/// the plan drawn on it always belong to one view. An image whose header lacks the distances or
/// the pitch gets 1000 / 750 mm and a 300 mm detector, said in the caption; one without angles
/// gets no DRR. The plan (each needle at its diameter with depth ticks every 10 mm, the entry,
/// the targets) is drawn projected on the DRR like on the virtual C-arm.

#include "needleplan/gui/FluoroGeometry.h"
#include "needleplan/imaging/CArmGeometry.h"

#include <QImage>
#include <QObject>
#include <QString>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace np::imaging {
class AttenuationVolume;
class Volume;
} // namespace np::imaging

namespace np::gui {

class BackgroundTask;
class FluoroModel;

class FluoroDrrBesideModel : public QObject
{
    Q_OBJECT
public:
    explicit FluoroDrrBesideModel(FluoroModel& fluoro, QObject* parent = nullptr);
    ~FluoroDrrBesideModel() override;

    /// The CT; its attenuation volume is built on `task` when the DRR is first shown.
    /// `isocenterLps` gives where the header's isocentre is placed when not registered (the target).
    void setCt(std::shared_ptr<const imaging::Volume> ct, BackgroundTask* task,
               std::function<Vec3()> isocenterLps);
    void setEnabled(bool enabled);
    bool enabled() const { return m_enabled; }
    bool ready() const { return m_attenuation != nullptr; }

    /// The header's view of frame `index` (assumed distances where the header has none); nullopt
    /// without angles.
    std::optional<imaging::CArmGeometry> headerView(int index) const;
    /// The latest DRR rendered for the current state; after a change, asks for a new one in the
    /// background (changed() reports it) and returns the previous one meanwhile (renderedFrame()
    /// says whose it is). Null when there is none.
    QImage image();
    /// The frame the current image was rendered for (-1: none yet).
    int renderedFrame() const { return m_renderedFrame; }
    /// True while a DRR is being rendered (or one is wanted and not started).
    bool rendering() const { return m_rendering; }
    /// Results dropped because the state changed while they were rendered (for tests).
    int staleResults() const { return m_staleResults; }
    /// CT LPS → pixel of the current image (through the registration when registered); nullopt
    /// without an image.
    std::optional<imaging::ProjectionMatrix> imageProjection() const { return m_imageProjection; }
    /// The plan to draw on the image: empty paths and targets when the overlay is hidden.
    const std::vector<PlannedPath>& plannedPaths() const;
    const std::vector<Vec3>& plannedTargets() const;
    int activePath() const;
    /// One line: angles, distances, where they came from, registered or header pose.
    QString caption() const;

signals:
    void changed();

private:
    void ensureAttenuation();
    void invalidate();
    void startRender();

    FluoroModel& m_fluoro;
    std::function<Vec3()> m_isocenterLps;
    std::shared_ptr<const imaging::Volume> m_ct;
    BackgroundTask* m_task = nullptr;
    std::shared_ptr<const imaging::AttenuationVolume> m_attenuation;
    bool m_building = false;
    bool m_enabled = false;
    BackgroundTask* m_renderTask = nullptr; ///< the DRR renders, one at a time
    QImage m_image;
    std::optional<imaging::ProjectionMatrix> m_imageProjection;
    int m_renderedFrame = -1;
    bool m_dirty = true;
    bool m_rendering = false;
    unsigned m_generation = 0; ///< bumped on every change; a result of an older one is stale
    int m_staleResults = 0;
};

/// Paints the DRR beside the fluoroscopy view, fitted and centred, with the plan and its caption.
/// Colours as on the virtual C-arm: needle yellow (255, 220, 60) for the active path, (200, 200,
/// 120) for the others, entry ring green (90, 255, 120), target ring red (255, 70, 70).
class FluoroDrrBesideView : public QWidget
{
    Q_OBJECT
public:
    explicit FluoroDrrBesideView(FluoroDrrBesideModel& model, QWidget* parent = nullptr);

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    FluoroDrrBesideModel& m_model;
};

} // namespace np::gui
