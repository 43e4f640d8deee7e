// NRRD / NIfTI / MetaImage reading through ITK IO (ITK templates stay in this file).
//
// The ImageIO reads the file's own pixel type into one buffer, which is then converted into the
// float Volume: the memory needed is known from the header (file buffer + volume) and is checked
// against the cap before anything is read or inflated.

#include <itkImageIOBase.h>
#include <itkImageIOFactory.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>

#include "ImageHeaderCheck.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/ImageLoader.h"

namespace np::imaging {

namespace {

template <typename T>
void convertInto(const void* source, std::uint64_t count, float* target)
{
    const T* values = static_cast<const T*>(source);
    for (std::uint64_t n = 0; n < count; ++n)
        target[n] = static_cast<float>(values[n]);
}

/// Converts `count` scalars of the IO's component type into floats; false for an unknown type.
bool convertComponents(itk::IOComponentEnum type, const void* source, std::uint64_t count, float* target)
{
    using C = itk::IOComponentEnum;
    switch (type) {
    case C::UCHAR: convertInto<unsigned char>(source, count, target); return true;
    case C::CHAR: convertInto<signed char>(source, count, target); return true;
    case C::USHORT: convertInto<std::uint16_t>(source, count, target); return true;
    case C::SHORT: convertInto<std::int16_t>(source, count, target); return true;
    case C::UINT: convertInto<std::uint32_t>(source, count, target); return true;
    case C::INT: convertInto<std::int32_t>(source, count, target); return true;
    case C::ULONG: convertInto<unsigned long>(source, count, target); return true;
    case C::LONG: convertInto<long>(source, count, target); return true;
    case C::ULONGLONG: convertInto<unsigned long long>(source, count, target); return true;
    case C::LONGLONG: convertInto<long long>(source, count, target); return true;
    case C::FLOAT: convertInto<float>(source, count, target); return true;
    case C::DOUBLE: convertInto<double>(source, count, target); return true;
    default: return false;
    }
}

} // namespace

Volume readItkImage(const std::string& path, const LoadOptions& options)
{
    itk::Object::GlobalWarningDisplayOff(); // warnings would reach stderr; errors come as np::Error
    const std::uint64_t cap = effectiveMemoryCap(options.memoryCapBytes);
    detail::checkImageFileHeader(path, cap);
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
        const itk::IOComponentEnum componentType = io->GetComponentType();
        const std::uint64_t componentBytes = io->GetComponentSize();
        if (componentBytes == 0 || componentBytes > 8)
            throw Error(ErrorCode::Unsupported, path + ": voxel type " +
                                                    itk::ImageIOBase::GetComponentTypeAsString(componentType) +
                                                    " is not supported");
        std::uint64_t voxels = 1;
        for (unsigned d = 0; d < dimensions; ++d) {
            const std::uint64_t size = io->GetDimensions(d);
            if (size == 0)
                throw Error(ErrorCode::CorruptData, path + ": an image size of 0");
            if (voxels > (std::uint64_t{1} << 40) / size)
                throw Error(ErrorCode::TooLarge, path + ": the image's sizes multiply beyond 2^40 voxels");
            voxels *= size;
        }
        // The file's buffer (unless it is float already and is read straight into the volume) and the
        // float volume are held at once.
        const bool direct = componentType == itk::IOComponentEnum::FLOAT;
        const std::uint64_t needed = voxels * (sizeof(float) + (direct ? 0 : componentBytes));
        if (needed > cap)
            throw Error(ErrorCode::TooLarge, path + ": reading the image needs " + std::to_string(needed >> 20) +
                                                 " MiB, more than the memory cap of " + std::to_string(cap >> 20) +
                                                 " MiB");

        Geometry geometry;
        geometry.size[2] = 1;
        geometry.spacing[2] = 1.0;
        geometry.originLps[2] = 0.0;
        for (unsigned a = 0; a < dimensions; ++a) {
            geometry.size[a] = static_cast<std::int64_t>(io->GetDimensions(a));
            geometry.spacing[static_cast<int>(a)] = io->GetSpacing(a);
            geometry.originLps[static_cast<int>(a)] = io->GetOrigin(a);
            const std::vector<double> axis = io->GetDirection(a); // column a of the direction matrix
            for (unsigned b = 0; b < dimensions && b < axis.size(); ++b)
                geometry.directionLps(static_cast<int>(b), static_cast<int>(a)) = axis[b];
        }
        geometry.validate(path);

        std::unique_ptr<Volume> volume;
        std::unique_ptr<unsigned char[]> fileBuffer;
        try {
            volume = std::make_unique<Volume>(geometry);
            if (!direct)
                fileBuffer.reset(new unsigned char[voxels * componentBytes]);
        } catch (const std::bad_alloc&) {
            throw Error(ErrorCode::TooLarge, path + ": reading the image needs " + std::to_string(needed >> 20) +
                                                 " MiB, more than is available");
        }
        itk::ImageIORegion region(dimensions);
        for (unsigned d = 0; d < dimensions; ++d) {
            region.SetIndex(d, 0);
            region.SetSize(d, io->GetDimensions(d));
        }
        io->SetIORegion(region);
        if (direct) {
            io->Read(volume->data());
        } else {
            io->Read(fileBuffer.get());
            if (!convertComponents(componentType, fileBuffer.get(), voxels, volume->data()))
                throw Error(ErrorCode::Unsupported, path + ": voxel type " +
                                                        itk::ImageIOBase::GetComponentTypeAsString(componentType) +
                                                        " is not supported");
        }
        VolumeInfo& info = volume->info();
        info.sourcePath = path;
        info.description = std::filesystem::path(path).filename().string();
        return std::move(*volume);
    } catch (const itk::ExceptionObject& error) {
        throw Error(ErrorCode::CorruptData, path + ": cannot read the image (" + detail::itkReason(error.GetDescription()) + ")");
    }
}

} // namespace np::imaging
