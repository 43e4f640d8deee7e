#pragma once
/// Lets the user choose one series when a DICOM path holds several.

#include <QDialog>
#include <QImage>

#include <vector>

#include "needleplan/gui/SeriesThumbnail.h"
#include "needleplan/imaging/DicomScanner.h"

class QTableWidget;
class QPlainTextEdit;

namespace np::gui {

/// Table of the series found (thumbnail, description, modality, slices, size, spacing,
/// warnings); entries that cannot be loaded are shown but disabled. "Show skipped files" lists
/// what was not an image, with the reason.
class SeriesPickerDialog : public QDialog
{
    Q_OBJECT
public:
    SeriesPickerDialog(const imaging::DicomScanResult& scan, const std::vector<QImage>& thumbnails,
                       QWidget* parent = nullptr);
    /// Listing index of the chosen series, or -1.
    int selectedIndex() const;
    /// Number of rows listed.
    int rowCount() const;
    /// Selects the row of a listing index (for scripted use and tests).
    void selectIndex(int index);

private:
    const imaging::DicomScanResult& m_scan;
    QTableWidget* m_table = nullptr;
    QPlainTextEdit* m_skipped = nullptr;
};

} // namespace np::gui
