// PlanModel: measurements on slice views, stored with the plan; adding and deleting are undo steps.

#include "needleplan/gui/PlanModel.h"

#include <QUndoCommand>
#include <QUndoStack>

namespace np::gui {

namespace {

/// Replaces the measurements (one added or one deleted).
class MeasurementsCommand : public QUndoCommand
{
public:
    MeasurementsCommand(PlanModel& model, std::vector<planning::Measurement> after, const QString& text)
        : QUndoCommand(text), m_model(model), m_before(model.measurements()), m_after(std::move(after))
    {
    }
    void undo() override { m_model.setMeasurements(m_before); }
    void redo() override { m_model.setMeasurements(m_after); }

private:
    PlanModel& m_model;
    std::vector<planning::Measurement> m_before;
    std::vector<planning::Measurement> m_after;
};

} // namespace

bool PlanModel::addMeasurement(const planning::Measurement& measurement)
{
    const std::size_t count = planning::measurementPointCount(measurement.kind);
    if (count == 0 || measurement.pointsLps.size() != count)
        return false;
    std::vector<planning::Measurement> after = m_measurements;
    after.push_back(measurement);
    m_undo.push(new MeasurementsCommand(*this, std::move(after),
                                        tr("Measure %1").arg(QString::fromStdString(measurement.kind))));
    return true;
}

void PlanModel::removeMeasurement(int index)
{
    if (index < 0 || index >= static_cast<int>(m_measurements.size()))
        return;
    std::vector<planning::Measurement> after = m_measurements;
    const std::string kind = after[static_cast<std::size_t>(index)].kind;
    after.erase(after.begin() + index);
    m_undo.push(
        new MeasurementsCommand(*this, std::move(after), tr("Delete %1").arg(QString::fromStdString(kind))));
}

void PlanModel::setMeasurements(std::vector<planning::Measurement> measurements)
{
    m_measurements = std::move(measurements);
    emit measurementsChanged();
}

} // namespace np::gui
