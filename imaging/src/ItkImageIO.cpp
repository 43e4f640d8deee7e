// NRRD / NIfTI / MetaImage reading through ITK IO (ITK templates stay in this file).

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageIOBase.h>
#include <itkImageIOFactory.h>

#include <cmath>
#include <filesystem>

#include "ImageHeaderCheck.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

namespace np::imaging {

Volume readItkImage(const std::string& path, const LoadOptions& options)
{
    using ImageType = itk::Image<float, 3>;
    itk::Object::GlobalWarningDisplayOff(); // warnings would reach stderr; errors come as np::Error
    detail::checkImageFileHeader(path, options.memoryCapBytes);
    try {
        itk::ImageIOBase::Pointer io =
            itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
        if (!io)
            throw Error(ErrorCode::NotFound, path + ": not a readable NRRD, NIfTI or MetaImage file");
        io->SetFileName(path);
        io->ReadImageInformation();
        const unsigned dimensions = io->GetNumberOfDimensions();
        if (dimensions < 2 || dimensions > 3)
            throw Error(ErrorCode::Unsupported, path + ": " + std::to_string(dimensions) +
                                                    "-dimensional images are not supported (2D or 3D only)");
        if (io->GetNumberOfComponents() != 1)
            throw Error(ErrorCode::Unsupported, path + ": images with " + std::to_string(io->GetNumberOfComponents()) +
                                                    " components per voxel are not supported");
        std::uint64_t voxels = 1;
        for (unsigned d = 0; d < dimensions; ++d)
            voxels *= io->GetDimensions(d);
        if (voxels * sizeof(float) > options.memoryCapBytes)
            throw Error(ErrorCode::TooLarge, path + ": the image needs " + std::to_string((voxels * 4) >> 20) +
                                                 " MiB, more than the memory cap of " +
                                                 std::to_string(options.memoryCapBytes >> 20) + " MiB");
        auto reader = itk::ImageFileReader<ImageType>::New();
        reader->SetFileName(path);
        reader->SetImageIO(io);
        try {
            reader->Update();
        } catch (const std::bad_alloc&) {
            throw Error(ErrorCode::TooLarge, path + ": the image needs " + std::to_string((voxels * 4) >> 20) +
                                                 " MiB, more than is available");
        }
        ImageType::Pointer image = reader->GetOutput();
        const auto region = image->GetLargestPossibleRegion();
        Geometry geometry;
        for (unsigned a = 0; a < 3; ++a) {
            geometry.size[a] = static_cast<std::int64_t>(region.GetSize()[a]);
            geometry.spacing[static_cast<int>(a)] = image->GetSpacing()[a];
            geometry.originLps[static_cast<int>(a)] = image->GetOrigin()[a];
            for (unsigned b = 0; b < 3; ++b)
                geometry.directionLps(static_cast<int>(a), static_cast<int>(b)) = image->GetDirection()[a][b];
        }
        geometry.validate(path);
        Volume volume(geometry);
        const float* buffer = image->GetBufferPointer();
        std::copy(buffer, buffer + geometry.voxelCount(), volume.data());
        VolumeInfo& info = volume.info();
        info.sourcePath = path;
        info.description = std::filesystem::path(path).filename().string();
        return volume;
    } catch (const itk::ExceptionObject& error) {
        throw Error(ErrorCode::CorruptData, path + ": cannot read the image (" + detail::itkReason(error.GetDescription()) + ")");
    }
}

} // namespace np::imaging
