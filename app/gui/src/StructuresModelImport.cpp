// StructuresModel: TotalSegmentator's output imported onto the CT's grid.

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/StructureSet.h"
#include "needleplan/imaging/TotalSegmentatorImport.h"
#include "needleplan/planning/Terminology.h"

#include <QFileInfo>

namespace np::gui {

void StructuresModel::importTotalSegmentator(const QString& path, const QString& classMapName)
{
    auto volume = m_image.volume();
    if (!volume) {
        emit errorOccurred(tr("TotalSegmentator structures not imported"), tr("Open an image first."));
        emit structuresUpdated(false, tr("no image"));
        return;
    }
    imaging::TotalSegmentatorImportOptions options;
    if (!classMapName.isEmpty()) {
        options.classMap = planning::Terminology::builtIn().classMap(classMapName.toStdString());
        if (options.classMap.empty()) {
            const QString message = tr("There is no class map named %1.").arg(classMapName);
            emit errorOccurred(tr("TotalSegmentator structures not imported"), message);
            emit structuresUpdated(false, message);
            return;
        }
    }
    auto set = std::make_shared<imaging::StructureSet>();
    const std::string native = path.toStdString();
    m_task.start(
        tr("Importing TotalSegmentator structures"),
        [volume, native, options, set](ProgressSink& sink) {
            std::vector<std::string> warnings;
            const imaging::LabelMap labels =
                imaging::importTotalSegmentator(native, *volume, options, &warnings, &sink);
            *set = imaging::StructureSet::fromLabelMap(labels);
            for (std::string& warning : warnings)
                set->warnings().push_back(std::move(warning));
        },
        [this, set, path] {
            addStructures(*set, tr("Import TotalSegmentator %1").arg(QFileInfo(path).fileName()),
                          QFileInfo(path).absoluteFilePath());
        },
        [this](ErrorCode code, const QString& message) {
            if (code != ErrorCode::Cancelled)
                emit errorOccurred(tr("TotalSegmentator structures not imported"), message);
            emit structuresUpdated(false, message);
        });
}

} // namespace np::gui
