#pragma once
/// The structures panel (left dock): the structures with visibility, colour, opacity, class and
/// margin; the slice overlay opacity; loading, segmenting, importing and exporting structures.
/// A thin view of the structures model.

#include <QWidget>

class QTableWidget;

namespace np::gui {

class ImageModel;
class StructuresModel;
class ViewStateModel;

class StructuresPanel : public QWidget
{
    Q_OBJECT
public:
    StructuresPanel(StructuresModel& structures, ImageModel& image, ViewStateModel& view,
                    QWidget* parent = nullptr);

private:
    void refreshTable();
    void showSegmentDialog();
    void showImportDialog();
    void exportStructures(bool dicomSeg);

    StructuresModel& m_structures;
    ImageModel& m_image;
    ViewStateModel& m_view;
    QTableWidget* m_table = nullptr;
};

} // namespace np::gui
