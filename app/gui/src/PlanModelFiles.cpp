// PlanModel: plan documents and files.

#include "needleplan/gui/BackgroundTask.h"
#include "needleplan/gui/ImageModel.h"
#include "needleplan/gui/PlanModel.h"
#include "needleplan/gui/StructuresModel.h"
#include "needleplan/imaging/LabelMapIO.h"
#include "needleplan/planning/Needle.h"
#include "needleplan/planning/PlanDocument.h"
#include "needleplan/planning/PlanValidation.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QUndoStack>
#include <algorithm>
#include <cmath>
#include <optional>

namespace np::gui {

namespace {

/// The plan's saved segmentation as a path ("" when it has none): relative paths are beside the plan.
QString savedSegmentationOf(const planning::Plan& plan, const QString& planPath)
{
    const QString recorded = QString::fromStdString(plan.image.segmentationPath);
    if (recorded.isEmpty() || QDir::isAbsolutePath(recorded))
        return recorded;
    return QDir::cleanPath(QFileInfo(planPath).absolutePath() + "/" + recorded);
}

/// Throws np::Error naming `path` when `labels` do not lie on the image's voxel grid.
void requireImageGrid(const imaging::Geometry& labels, const imaging::Geometry& image,
                      const std::string& path)
{
    const double tolerance = 1e-3 * std::min({image.spacing.x, image.spacing.y, image.spacing.z});
    bool same = labels.size == image.size && distance(labels.spacing, image.spacing) <= tolerance &&
                distance(labels.originLps, image.originLps) <= tolerance;
    for (int n = 0; n < 9 && same; ++n)
        same = std::abs(labels.directionLps.m[static_cast<std::size_t>(n)] -
                        image.directionLps.m[static_cast<std::size_t>(n)]) <= 1e-6;
    if (!same)
        throw Error(ErrorCode::InconsistentGeometry,
                    path + ": the plan's structures are not on the image's voxel grid (another image?)");
}

} // namespace

QString PlanModel::segmentationFileFor(const QString& planPath)
{
    QString base = QFileInfo(planPath).absoluteFilePath();
    for (const char* suffix : {".needleplan.json", ".json"})
        if (base.endsWith(QLatin1String(suffix))) {
            base.chop(static_cast<int>(qstrlen(suffix)));
            break;
        }
    return base + ".seg.nrrd";
}

planning::Plan PlanModel::toDocument() const
{
    planning::Plan plan;
    if (auto volume = m_image.volume()) {
        const imaging::VolumeInfo& info = volume->info();
        plan.image.path = m_image.path().toStdString();
        plan.image.seriesUid = info.seriesUid;
        plan.image.frameOfReferenceUid = info.frameOfReferenceUid;
        plan.image.patientPosition = info.patientPosition;
    }
    plan.image.structuresPath = m_structures.source().toStdString();
    if (auto needle = planning::findNeedle(m_needleName))
        plan.needle = *needle;
    plan.structures = m_structures.specs();
    for (const StructureRow& row : m_structures.rows())
        plan.structureDisplays.push_back({row.style.visible, row.style.opacity});
    plan.measurements = m_measurements;
    for (const PlanTarget& target : m_targets) {
        planning::PlanTarget out;
        out.name = target.name;
        out.targetLps = target.targetLps;
        out.preset = m_presetName;
        out.directionsSearched = target.directionsSearched;
        out.feasibleDirections = target.feasibleDirections;
        out.vertebralLevel = vertebralLevel(static_cast<int>(&target - m_targets.data())).toStdString();
        // The trajectory in use comes first: a manual one, or the chosen search result.
        if (target.entryLps && target.selectedRank < 0) {
            planning::PlannedTrajectory manual;
            manual.rank = 0;
            manual.origin = "manual";
            manual.trajectory = {*target.entryLps, target.targetLps, plan.needle};
            manual.evaluation.lengthMm = distance(*target.entryLps, target.targetLps);
            out.trajectories.push_back(manual);
        }
        for (std::size_t r = 0; r < target.ranked.size(); ++r) {
            planning::PlannedTrajectory t;
            t.rank = static_cast<int>(r) + 1;
            t.origin = static_cast<int>(r) == target.selectedRank ? "search-selected" : "search";
            t.trajectory = {target.ranked[r].entryLps, target.ranked[r].targetLps, plan.needle};
            t.evaluation = target.ranked[r].evaluation;
            t.score = target.ranked[r].score;
            t.pareto = target.ranked[r].pareto;
            out.trajectories.push_back(t);
        }
        plan.targets.push_back(out);
    }
    return plan;
}

void PlanModel::applyDocument(const planning::Plan& plan)
{
    clear();
    setNeedleName(plan.needle.name.empty() ? m_needleName : plan.needle.name);
    // Structure rules, visibility and opacity by label value and name (a plan written before they
    // were saved leaves each structure as it is shown).
    for (std::size_t r = 0; r < m_structures.rows().size(); ++r) {
        StructureRow row = m_structures.rows()[r];
        for (std::size_t n = 0; n < plan.structures.size(); ++n) {
            const planning::StructureSpec& spec = plan.structures[n];
            if (spec.labelValue != row.spec.labelValue || spec.name != row.spec.name)
                continue;
            row.spec = spec;
            if (n < plan.structureDisplays.size()) {
                const planning::StructureDisplay& display = plan.structureDisplays[n];
                if (display.visible)
                    row.style.visible = *display.visible;
                if (display.opacity)
                    row.style.opacity = *display.opacity;
            }
        }
        m_structures.setRow(static_cast<int>(r), row);
    }
    for (const planning::PlanTarget& in : plan.targets) {
        PlanTarget target;
        target.name = in.name;
        target.targetLps = in.targetLps;
        target.directionsSearched = in.directionsSearched;
        target.feasibleDirections = in.feasibleDirections;
        if (!in.preset.empty())
            setPresetName(in.preset);
        for (const planning::PlannedTrajectory& t : in.trajectories) {
            if (t.origin == "manual") {
                target.entryLps = t.trajectory.entryLps;
                continue;
            }
            if (t.origin == "search-selected")
                target.selectedRank = static_cast<int>(target.ranked.size());
            target.ranked.push_back(
                {t.trajectory.entryLps, t.trajectory.targetLps, t.score, t.pareto, t.evaluation});
        }
        if (!target.entryLps && !target.ranked.empty()) {
            if (target.selectedRank < 0)
                target.selectedRank = 0;
            target.entryLps = target.ranked[static_cast<std::size_t>(target.selectedRank)].entryLps;
        }
        // The results were found with the plan's needle, procedure and structure rules.
        if (!target.ranked.empty() || target.directionsSearched > 0)
            target.searchContext = currentSearchContext();
        insertTarget(static_cast<int>(m_targets.size()), target);
    }
    setMeasurements(plan.measurements);
    setActiveTarget(m_targets.empty() ? -1 : 0);
}

void PlanModel::startSave(const QString& path, bool copy, std::function<void(bool, const QString&)> then)
{
    // Everything the workers write is taken now: later edits belong to the next save.
    planning::Plan plan = toDocument();
    std::optional<StructuresModel::SaveSnapshot> structures;
    if (m_structures.labels()) {
        structures = m_structures.snapshotForSave(segmentationFileFor(path), copy);
        plan.image.segmentationPath = QFileInfo(structures->path).fileName().toStdString();
    }
    // The undo history is marked clean only when it stood still during the save (an undo followed
    // by a new edit can come back to the same index with another plan).
    const int undoIndex = m_undo.index();
    auto lowestIndex = std::make_shared<int>(undoIndex);
    auto watching = std::make_shared<QMetaObject::Connection>(
        connect(&m_undo, &QUndoStack::indexChanged, this,
                [lowestIndex](int index) { *lowestIndex = std::min(*lowestIndex, index); }));
    auto checksum = std::make_shared<std::uint64_t>(0);
    const std::string planFile = QFileInfo(path).absoluteFilePath().toStdString();
    ++m_pendingSaves;
    if (m_saveTask->busy())
        emit statusMessage(tr("The plan is saved once the save in progress has finished"));
    m_saveTask->start(
        copy ? tr("Saving the recovery copy") : tr("Saving the plan"),
        [plan, structures, checksum, planFile](ProgressSink& progress) {
            // The structures first: until the plan is renamed into place, the old plan (if any)
            // stays, and it never meets structures older than itself.
            if (structures)
                *checksum = StructuresModel::writeSnapshot(*structures, progress);
            progress.report(0.9, "Writing the plan");
            try {
                planning::savePlan(plan, planFile);
            } catch (const Error& failure) {
                const std::string why = failure.what();
                throw Error(failure.code(), why.find(planFile) == std::string::npos
                                                ? "The plan was not saved to " + planFile + ": " + why
                                                : "The plan was not saved: " + why);
            }
            progress.report(1.0, "Saved");
        },
        [this, path, copy, structures, checksum, undoIndex, lowestIndex, watching, then] {
            QObject::disconnect(*watching);
            --m_pendingSaves;
            if (structures)
                m_structures.snapshotWritten(*structures, *checksum);
            if (!copy) {
                m_planPath = path;
                if (m_undo.index() == undoIndex && *lowestIndex >= undoIndex) {
                    m_undo.setClean();
                    emit statusMessage(tr("Plan saved to %1").arg(path));
                } else {
                    emit statusMessage(
                        tr("Plan saved to %1; the edits made while it was saved are not saved yet")
                            .arg(path));
                }
            }
            if (then)
                then(true, QString());
        },
        [this, watching, then](ErrorCode, const QString& message) {
            QObject::disconnect(*watching);
            --m_pendingSaves;
            if (then)
                then(false, message);
        });
}

void PlanModel::waitForSaves()
{
    while (m_pendingSaves > 0)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

bool PlanModel::savePlanFile(const QString& path, QString* error)
{
    std::optional<bool> saved;
    startSave(path, false, [&saved, error](bool ok, const QString& message) {
        saved = ok;
        if (!ok && error)
            *error = message;
    });
    while (!saved)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    return *saved;
}

void PlanModel::openPlanFile(const QString& path)
{
    planning::Plan plan;
    try {
        plan = planning::loadPlan(path.toStdString());
    } catch (const std::exception& e) {
        emit errorOccurred(tr("Plan not opened"), QString::fromStdString(e.what()));
        emit planOpened(false, QString::fromStdString(e.what()));
        return;
    }
    auto finish = [this, path](const planning::Plan& document) {
        m_undo.clear();
        applyDocument(document);
        m_planPath = path;
        m_undo.setClean();
        if (path.endsWith(".recovered.json")) {
            // A recovered plan has no file of its own yet: Save asks where, and closing asks first.
            m_planPath.clear();
            m_undo.resetClean();
        }
        emit planOpened(true, QString());
    };
    auto apply = [this, path, finish](const planning::Plan& document) {
        if (m_image.volume()) {
            // Positions far outside the image are refused before anything is drawn or evaluated.
            try {
                planning::validatePlanAgainstImage(document, m_image.volume()->geometry(),
                                                   path.toStdString());
            } catch (const std::exception& e) {
                emit errorOccurred(tr("Plan not opened"), QString::fromStdString(e.what()));
                emit planOpened(false, QString::fromStdString(e.what()));
                return;
            }
        }
        const QString segmentation = savedSegmentationOf(document, path);
        if (segmentation.isEmpty() || !m_image.volume()) {
            finish(document);
            return;
        }
        // The structures as saved with the plan (painted and grown ones too) replace the image's.
        auto labels = std::make_shared<imaging::LabelMap>();
        const std::string native = segmentation.toStdString();
        const imaging::Geometry grid = m_image.volume()->geometry();
        m_task.start(
            tr("Loading the plan's structures"),
            [labels, native, grid](ProgressSink&) {
                *labels = imaging::readLabelMap(native);
                requireImageGrid(labels->geometry(), grid, native);
            },
            [this, labels, document, finish] {
                m_structures.restoreSaved(labels, QString::fromStdString(document.image.structuresPath));
                finish(document);
            },
            [this, document, finish](ErrorCode, const QString& message) {
                emit errorOccurred(tr("The plan's structures were not restored"),
                                   message + tr("\nThe plan opens with the structures shown now."));
                finish(document);
            });
    };
    const QString imagePath = QString::fromStdString(plan.image.path);
    const bool sameImage =
        m_image.volume() &&
        (imagePath.isEmpty() || QFileInfo(imagePath) == QFileInfo(m_image.path()) ||
         (!plan.image.seriesUid.empty() && plan.image.seriesUid == m_image.volume()->info().seriesUid));
    if (sameImage) {
        apply(plan);
        return;
    }
    if (imagePath.isEmpty() || !QFileInfo::exists(imagePath)) {
        const QString message =
            tr("%1: the plan's image %2 was not found. Open the image, then the plan.").arg(path, imagePath);
        emit errorOccurred(tr("Plan not opened"), message);
        emit planOpened(false, message);
        return;
    }
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = connect(&m_image, &ImageModel::loadFinished, this,
                          [this, connection, plan, apply](bool ok, const QString& message) {
                              QObject::disconnect(*connection);
                              if (ok)
                                  apply(plan);
                              else
                                  emit planOpened(false, message);
                          });
    m_image.open(imagePath);
}

} // namespace np::gui
