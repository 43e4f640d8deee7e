#include "needleplan/render/VtkImageBridge.h"

#include <algorithm>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkPointData.h>
#include <vtkUnsignedShortArray.h>

namespace np::render {

namespace {
void applyGeometry(vtkImageData* image, const imaging::Geometry& geometry)
{
    image->SetDimensions(static_cast<int>(geometry.size[0]), static_cast<int>(geometry.size[1]),
                         static_cast<int>(geometry.size[2]));
    image->SetSpacing(geometry.spacing.x, geometry.spacing.y, geometry.spacing.z);
    image->SetOrigin(geometry.originLps.x, geometry.originLps.y, geometry.originLps.z);
    const auto& d = geometry.directionLps.m;
    image->SetDirectionMatrix(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]);
}
} // namespace

vtkSmartPointer<vtkImageData> toVtkImage(const imaging::Volume& volume)
{
    auto image = vtkSmartPointer<vtkImageData>::New();
    applyGeometry(image, volume.geometry());
    auto scalars = vtkSmartPointer<vtkFloatArray>::New();
    scalars->SetNumberOfTuples(static_cast<vtkIdType>(volume.voxels().size()));
    std::copy(volume.voxels().begin(), volume.voxels().end(), scalars->GetPointer(0));
    scalars->SetName("intensity");
    image->GetPointData()->SetScalars(scalars);
    return image;
}

vtkSmartPointer<vtkImageData> toVtkImage(const imaging::LabelMap& labels)
{
    auto image = vtkSmartPointer<vtkImageData>::New();
    applyGeometry(image, labels.geometry());
    auto scalars = vtkSmartPointer<vtkUnsignedShortArray>::New();
    scalars->SetNumberOfTuples(static_cast<vtkIdType>(labels.labels().size()));
    std::copy(labels.labels().begin(), labels.labels().end(), scalars->GetPointer(0));
    scalars->SetName("labels");
    image->GetPointData()->SetScalars(scalars);
    return image;
}

} // namespace np::render
