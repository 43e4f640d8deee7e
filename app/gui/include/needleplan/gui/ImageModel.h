#pragma once
/// The image being planned on: its volume, the path it was opened from and the named targets
/// found next to it. No widgets; the other models and the views observe its signals.

#include "needleplan/imaging/Vec3.h"
#include "needleplan/imaging/Volume.h"

#include <QObject>
#include <QString>
#include <memory>
#include <vector>

namespace np::gui {

/// A named target read from a targets.json next to the image (the phantom writes one).
struct NamedTargetEntry
{
    QString name;
    Vec3 positionLps;
};

class ImageModel : public QObject
{
    Q_OBJECT
public:
    explicit ImageModel(QObject* parent = nullptr);
    ~ImageModel() override;

    std::shared_ptr<const imaging::Volume> volume() const { return m_volume; }
    /// The file or folder the image was opened from, as the user named it ("" when none).
    const QString& path() const { return m_path; }
    /// Replaces the image (the structures and the plan of the previous one are dropped by their models).
    void setVolume(std::shared_ptr<const imaging::Volume> volume, const QString& path);

    /// Targets offered by a targets.json found next to the image.
    const std::vector<NamedTargetEntry>& namedTargets() const { return m_namedTargets; }
    void setNamedTargets(std::vector<NamedTargetEntry> targets);
    /// Reads a targets.json ({"targets": [{"name", "positionLps": [x, y, z]}]}); entries without a
    /// name or three coordinates are skipped; an unreadable file gives none.
    static std::vector<NamedTargetEntry> readTargetsJson(const QString& path);

    /// HU under an LPS point (NaN outside the image or without one).
    double valueAt(const Vec3& pointLps) const;

signals:
    void volumeChanged();
    void namedTargetsChanged();

private:
    std::shared_ptr<const imaging::Volume> m_volume;
    QString m_path;
    std::vector<NamedTargetEntry> m_namedTargets;
};

} // namespace np::gui
