#pragma once
/// The segmentation tools' panel (a dock beside the structures): paint, erase or grow; the brush
/// (2D disc or 3D sphere, radius in mm); the HU limits; the structure edited and "New structure…"
/// with the terminology's class and margin; the seed's statistics. A thin view of SegmentEditor.

#include "needleplan/gui/SegmentEditor.h"

#include <QDialog>
#include <QWidget>
#include <vector>

class QAbstractButton;
class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QMainWindow;
class QUndoStack;

namespace np::gui {

class ImageModel;
class SliceViewWidget;
class StructuresModel;
class ViewStateModel;

/// Name, class and margin of a new structure; the class and margin follow the terminology's
/// defaults for the name typed until the user changes them.
class NewStructureDialog : public QDialog
{
    Q_OBJECT
public:
    explicit NewStructureDialog(QWidget* parent = nullptr);
    QString name() const;
    planning::StructureClass structureClass() const;
    double marginMm() const;
    /// Where the defaults come from ("name: nerve_root_L4_left", "fallback: contains 'root'").
    QString ruleText() const;

private:
    void nameEdited();
    QLineEdit* m_name = nullptr;
    QComboBox* m_class = nullptr;
    QDoubleSpinBox* m_margin = nullptr;
    QLabel* m_rule = nullptr;
    bool m_userChose = false;
};

class SegmentToolsPanel : public QWidget
{
    Q_OBJECT
public:
    SegmentToolsPanel(const ImageModel& image, StructuresModel& structures, ViewStateModel& view,
                      QUndoStack& undo, QWidget* parent = nullptr);
    SegmentEditor& editor() { return *m_editor; }
    /// Adds the panel as a dock of `window` and routes the slice views' strokes to its editor.
    static SegmentToolsPanel* addDock(QMainWindow& window, const ImageModel& image,
                                      StructuresModel& structures, ViewStateModel& view, QUndoStack& undo,
                                      const std::vector<SliceViewWidget*>& sliceViews);

private:
    void toolChosen(int tool);
    void settingsEdited();
    void refreshStructures();
    void newStructure();
    void showStatus(const QString& text, bool error);

    const ImageModel& m_image;
    StructuresModel& m_structures;
    ViewStateModel& m_view;
    SegmentEditor* m_editor = nullptr;
    QButtonGroup* m_tools = nullptr;
    QComboBox* m_structure = nullptr;
    QComboBox* m_shape = nullptr;
    QDoubleSpinBox* m_radius = nullptr;
    QCheckBox* m_threshold = nullptr;
    QDoubleSpinBox* m_minHu = nullptr;
    QDoubleSpinBox* m_maxHu = nullptr;
    QComboBox* m_growMethod = nullptr;
    QCheckBox* m_overwrite = nullptr;
    QLabel* m_seedStats = nullptr;
    QLabel* m_status = nullptr;
};

} // namespace np::gui
