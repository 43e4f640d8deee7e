#pragma once
/// Thumbnails of DICOM series (QImage, no widgets): the series picker shows them.

#include "needleplan/imaging/DicomScanner.h"

#include <QImage>

namespace np::gui {

/// A small greyscale picture of the middle image of a series entry (null on failure).
QImage seriesThumbnail(const imaging::DicomScanResult& scan, int index, int sizePx = 96);

} // namespace np::gui
