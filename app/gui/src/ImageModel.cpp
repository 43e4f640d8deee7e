#include "needleplan/gui/ImageModel.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <limits>

namespace np::gui {

ImageModel::ImageModel(QObject* parent) : QObject(parent) {}
ImageModel::~ImageModel() = default;

void ImageModel::setVolume(std::shared_ptr<const imaging::Volume> volume, const QString& path)
{
    m_volume = std::move(volume);
    m_path = m_volume ? path : QString();
    m_namedTargets.clear();
    emit volumeChanged();
    emit namedTargetsChanged();
}

void ImageModel::setNamedTargets(std::vector<NamedTargetEntry> targets)
{
    m_namedTargets = std::move(targets);
    emit namedTargetsChanged();
}

std::vector<NamedTargetEntry> ImageModel::readTargetsJson(const QString& path)
{
    std::vector<NamedTargetEntry> targets;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return targets;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll());
    for (const QJsonValue& value : document.object().value("targets").toArray()) {
        const QJsonObject object = value.toObject();
        const QJsonArray position = object.value("positionLps").toArray();
        if (position.size() != 3 || object.value("name").toString().isEmpty())
            continue;
        targets.push_back({object.value("name").toString(),
                           Vec3{position[0].toDouble(), position[1].toDouble(), position[2].toDouble()}});
    }
    return targets;
}

double ImageModel::valueAt(const Vec3& pointLps) const
{
    if (!m_volume)
        return std::numeric_limits<double>::quiet_NaN();
    const Vec3 ijk = m_volume->geometry().ijkFromLps(pointLps);
    if (!m_volume->geometry().containsIjk(ijk))
        return std::numeric_limits<double>::quiet_NaN();
    return m_volume->sampleIjk(ijk, std::numeric_limits<float>::quiet_NaN());
}

} // namespace np::gui
