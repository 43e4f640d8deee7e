#pragma once
/// The CT's DRR beside a fluoroscopy image: for the frame shown, the C-arm view from the frame's
/// header (angles, SID, SOD, detector pitch) with the isocentre at the target, moved by the
/// registration when the image is registered, rendered again when the frame changes. An image
/// whose header lacks the distances or the pitch gets 1000 / 750 mm and a 300 mm detector,
/// said in the caption; one without angles gets no DRR.

#include "needleplan/imaging/CArmGeometry.h"

#include <QImage>
#include <QObject>
#include <QString>
#include <QWidget>
#include <functional>
#include <memory>
#include <optional>

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
    /// The DRR of the frame shown (rendered on first use after a change); null when there is none.
    QImage image();
    /// The frame the current image was rendered for (-1: none yet).
    int renderedFrame() const { return m_renderedFrame; }
    /// One line: angles, distances, where they came from, registered or header pose.
    QString caption() const;

signals:
    void changed();

private:
    void ensureAttenuation();

    FluoroModel& m_fluoro;
    std::function<Vec3()> m_isocenterLps;
    std::shared_ptr<const imaging::Volume> m_ct;
    BackgroundTask* m_task = nullptr;
    std::shared_ptr<const imaging::AttenuationVolume> m_attenuation;
    bool m_building = false;
    bool m_enabled = false;
    QImage m_image;
    int m_renderedFrame = -1;
    bool m_dirty = true;
};

/// Paints the DRR beside the fluoroscopy view, with its caption.
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
