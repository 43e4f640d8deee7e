#include "needleplan/render/ImageCapture.h"

#include <cstdio>
#include <filesystem>

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkPointData.h>
#include <vtkRenderWindow.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowToImageFilter.h>

#include "needleplan/imaging/Error.h"

namespace np::render {

RgbImage captureWindow(vtkRenderWindow* window)
{
    RgbImage image;
    if (!window)
        return image;
    vtkNew<vtkWindowToImageFilter> grabber;
    grabber->SetInput(window);
    grabber->SetInputBufferTypeToRGB();
    window->Render();
    grabber->ReadFrontBufferOn();
    grabber->ShouldRerenderOff();
    grabber->Update();
    vtkImageData* data = grabber->GetOutput();
    int dims[3];
    data->GetDimensions(dims);
    auto* scalars = vtkUnsignedCharArray::SafeDownCast(data->GetPointData()->GetScalars());
    if (!scalars || dims[0] <= 0 || dims[1] <= 0 || scalars->GetNumberOfComponents() < 3)
        return image;
    image.width = dims[0];
    image.height = dims[1];
    image.pixels.resize(static_cast<std::size_t>(image.width) * image.height * 3);
    const int components = scalars->GetNumberOfComponents();
    const unsigned char* in = scalars->GetPointer(0);
    for (int y = 0; y < image.height; ++y) {
        // VTK's rows run from the bottom.
        const unsigned char* row = in + static_cast<std::size_t>(image.height - 1 - y) * image.width * components;
        std::uint8_t* out = image.pixels.data() + static_cast<std::size_t>(y) * image.width * 3;
        for (int x = 0; x < image.width; ++x)
            for (int c = 0; c < 3; ++c)
                out[3 * x + c] = row[components * x + c];
    }
    return image;
}

void writePng(const RgbImage& image, const std::string& path)
{
    if (image.width <= 0 || image.height <= 0)
        throw Error(ErrorCode::InvalidArgument, path + ": cannot write an empty image");
    vtkNew<vtkImageData> data;
    data->SetDimensions(image.width, image.height, 1);
    vtkNew<vtkUnsignedCharArray> scalars;
    scalars->SetNumberOfComponents(3);
    scalars->SetNumberOfTuples(static_cast<vtkIdType>(image.width) * image.height);
    for (int y = 0; y < image.height; ++y)
        std::copy_n(image.pixel(0, image.height - 1 - y), 3 * image.width,
                    scalars->GetPointer(0) + static_cast<std::size_t>(y) * image.width * 3);
    data->GetPointData()->SetScalars(scalars);
    const std::string temporary = path + ".tmp.png";
    vtkNew<vtkPNGWriter> writer;
    writer->SetInputData(data);
    writer->SetFileName(temporary.c_str());
    writer->Write();
    std::error_code error;
    if (writer->GetErrorCode() != 0 || !std::filesystem::exists(temporary)) {
        std::filesystem::remove(temporary, error);
        throw Error(ErrorCode::Io, path + ": could not write the PNG file");
    }
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::filesystem::remove(temporary, error);
        throw Error(ErrorCode::Io, path + ": could not move the PNG into place");
    }
}

} // namespace np::render
