// DRR output files through ITK's NRRD and PNG writers.

#include "needleplan/imaging/DrrRenderer.h"
#include "needleplan/imaging/Error.h"

#include <filesystem>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkNrrdImageIO.h>
#include <itkPNGImageIO.h>
#include <unistd.h>

namespace np::imaging {

namespace {

/// Writes `image` with `io` to a temporary name beside `path`, then renames it into place.
template <typename Image>
void writeAtomically(const std::string& path, Image* image, itk::ImageIOBase* io,
                     const std::string& extension)
{
    const std::string temporary = path + ".tmp-" + std::to_string(::getpid()) + extension;
    try {
        auto writer = itk::ImageFileWriter<Image>::New();
        writer->SetInput(image);
        writer->SetImageIO(io);
        writer->SetFileName(temporary);
        writer->UseCompressionOn();
        writer->Update();
    } catch (const itk::ExceptionObject& e) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw Error(ErrorCode::Io, path + ": cannot write (" + std::string(e.GetDescription()) + ")");
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::filesystem::remove(temporary, ec);
        throw Error(ErrorCode::Io, path + ": cannot rename the written file into place: " + ec.message());
    }
}

} // namespace

void writeDrrNrrd(const std::string& path, const std::vector<DrrImage>& frames, double columnSpacingMm,
                  double rowSpacingMm)
{
    if (frames.empty())
        throw Error(ErrorCode::InvalidArgument, path + ": no DRR to write");
    for (const auto& frame : frames)
        if (frame.columns != frames.front().columns || frame.rows != frames.front().rows ||
            frame.pathLengthMm.size() != static_cast<std::size_t>(frame.columns) * frame.rows)
            throw Error(ErrorCode::InvalidArgument, path + ": DRR frames of different sizes");
    const auto columns = static_cast<itk::SizeValueType>(frames.front().columns);
    const auto rows = static_cast<itk::SizeValueType>(frames.front().rows);
    if (frames.size() == 1) {
        using Image = itk::Image<float, 2>;
        auto image = Image::New();
        image->SetRegions(Image::RegionType({0, 0}, {columns, rows}));
        const double spacing[2] = {columnSpacingMm, rowSpacingMm};
        image->SetSpacing(spacing);
        image->Allocate();
        std::copy(frames.front().pathLengthMm.begin(), frames.front().pathLengthMm.end(),
                  image->GetBufferPointer());
        writeAtomically<Image>(path, image.GetPointer(), itk::NrrdImageIO::New(), ".nrrd");
        return;
    }
    using Image = itk::Image<float, 3>;
    auto image = Image::New();
    image->SetRegions(
        Image::RegionType({0, 0, 0}, {columns, rows, static_cast<itk::SizeValueType>(frames.size())}));
    const double spacing[3] = {columnSpacingMm, rowSpacingMm, 1.0};
    image->SetSpacing(spacing);
    image->Allocate();
    float* out = image->GetBufferPointer();
    for (const auto& frame : frames)
        out = std::copy(frame.pathLengthMm.begin(), frame.pathLengthMm.end(), out);
    writeAtomically<Image>(path, image.GetPointer(), itk::NrrdImageIO::New(), ".nrrd");
}

void writeGray8Png(const std::string& path, int columns, int rows, const std::vector<std::uint8_t>& pixels)
{
    if (columns < 1 || rows < 1 ||
        pixels.size() != static_cast<std::size_t>(columns) * static_cast<std::size_t>(rows))
        throw Error(ErrorCode::InvalidArgument, path + ": the image size does not match its pixels");
    using Image = itk::Image<unsigned char, 2>;
    auto image = Image::New();
    image->SetRegions(Image::RegionType(
        {0, 0}, {static_cast<itk::SizeValueType>(columns), static_cast<itk::SizeValueType>(rows)}));
    image->Allocate();
    std::copy(pixels.begin(), pixels.end(), image->GetBufferPointer());
    writeAtomically<Image>(path, image.GetPointer(), itk::PNGImageIO::New(), ".png");
}

} // namespace np::imaging
