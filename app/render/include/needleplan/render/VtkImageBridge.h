#pragma once
/// Conversion of NeedlePlan images to VTK image data, keeping the LPS geometry.

#include <vtkSmartPointer.h>

#include "needleplan/imaging/Volume.h"

class vtkImageData;

namespace np::render {

/// vtkImageData sharing no memory with `volume`: float scalars, with origin, spacing and the
/// direction matrix set so that VTK world coordinates are LPS millimetres.
vtkSmartPointer<vtkImageData> toVtkImage(const imaging::Volume& volume);

/// Same for a label map (unsigned short scalars).
vtkSmartPointer<vtkImageData> toVtkImage(const imaging::LabelMap& labels);

} // namespace np::render
