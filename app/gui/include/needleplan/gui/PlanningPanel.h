#pragma once
/// The planning panel (right dock): procedure, needle, targets (add, name, move, remove), search,
/// the trajectory readout and the ranked list. A thin view of the plan model: it reads the models
/// and calls them, and knows no other panel.

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;
class QListWidget;
class QTreeWidget;

namespace np::gui {

class ImageModel;
class PlanModel;
class StructuresModel;
class ViewStateModel;

class PlanningPanel : public QWidget
{
    Q_OBJECT
public:
    PlanningPanel(PlanModel& plan, ImageModel& image, StructuresModel& structures, ViewStateModel& view,
                  QWidget* parent = nullptr);

    QTableWidget* rankedList() const { return m_rankedTable; }
    /// The trajectory readout text (HTML).
    QString readoutHtml() const;

private:
    /// Asks, then removes the active target (one undo step).
    void confirmRemoveTarget();
    void refreshMeasurements();
    void refreshPresetAndNeedle();
    void refreshNamedTargets();
    void refreshTargetsTree();
    void refreshRankedTable();
    void refreshReadout();

    PlanModel& m_plan;
    ImageModel& m_image;
    StructuresModel& m_structures;
    ViewStateModel& m_view;
    QComboBox* m_presetCombo = nullptr;
    QComboBox* m_needleCombo = nullptr;
    QComboBox* m_namedTargetCombo = nullptr;
    QTreeWidget* m_targetsTree = nullptr;
    QTableWidget* m_rankedTable = nullptr;
    QLabel* m_readout = nullptr;
    QListWidget* m_measurementsList = nullptr;
};

} // namespace np::gui
