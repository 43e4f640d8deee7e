#include "needleplan/imaging/LabelMapIO.h"

#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOFactory.h>
#include <itkMetaDataObject.h>
#include <itkNrrdImageIO.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

#include "ImageHeaderCheck.h"
#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/Error.h"

namespace np::imaging {

namespace {

using FloatImage = itk::Image<float, 3>;

/// Shortest decimal text that reads back to exactly `value`.
std::string exactNumber(double value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

bool parseDoubles(const std::string& text, std::vector<double>& values)
{
    values.clear();
    std::istringstream stream(text);
    std::string token;
    while (stream >> token) {
        char* end = nullptr;
        const double v = std::strtod(token.c_str(), &end);
        if (end == token.c_str() || *end != '\0' || !std::isfinite(v))
            return false;
        values.push_back(v);
    }
    return true;
}

bool parseInteger(const std::string& text, long long& value)
{
    std::istringstream stream(text);
    if (!(stream >> value))
        return false;
    std::string rest;
    return !(stream >> rest);
}

std::string metaString(const itk::MetaDataDictionary& dictionary, const std::string& key, bool& found)
{
    std::string value;
    found = itk::ExposeMetaData<std::string>(dictionary, key, value);
    return value;
}

struct Extent
{
    std::int64_t lo[3] = {0, 0, 0};
    std::int64_t hi[3] = {-1, -1, -1};
    bool empty = true;
};

} // namespace

std::array<double, 3> defaultLabelColor(std::uint16_t labelValue)
{
    // Hues spread by the golden angle; saturation and value alternate a little for contrast.
    const double hue = std::fmod(0.13 + 0.6180339887498949 * labelValue, 1.0) * 6.0;
    const double saturation = (labelValue % 2) ? 0.65 : 0.8;
    const double value = (labelValue % 3) ? 0.9 : 0.75;
    const int sector = static_cast<int>(hue) % 6;
    const double f = hue - std::floor(hue);
    const double p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
    switch (sector) {
    case 0: return {value, t, p};
    case 1: return {q, value, p};
    case 2: return {p, value, t};
    case 3: return {p, q, value};
    case 4: return {t, p, value};
    default: return {value, p, q};
    }
}

LabelMap readLabelMap(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw Error(ErrorCode::NotFound, path + ": label map file not found");
    itk::Object::GlobalWarningDisplayOff(); // warnings would reach stderr; errors come as np::Error
    detail::checkImageFileHeader(path, kMaxLabelMapFileBytes);
    FloatImage::Pointer image;
    itk::MetaDataDictionary dictionary;
    try {
        itk::ImageIOBase::Pointer io =
            itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::FileModeEnum::ReadMode);
        if (!io)
            throw Error(ErrorCode::CorruptData, path + ": not a readable label image (expected NRRD, NIfTI or MetaImage)");
        io->SetFileName(path);
        io->ReadImageInformation();
        const unsigned dimensions = io->GetNumberOfDimensions();
        if (dimensions != 3 && !(dimensions == 4 && io->GetDimensions(3) == 1))
            throw Error(ErrorCode::Unsupported, path + ": label map has " + std::to_string(dimensions) +
                                                    " dimensions; only 3D label images are supported");
        if (io->GetNumberOfComponents() != 1)
            throw Error(ErrorCode::Unsupported,
                        path + ": label map has " + std::to_string(io->GetNumberOfComponents()) +
                            " layers (overlapping segments); only single-layer label maps are supported");
        std::uint64_t voxels = 1;
        for (unsigned d = 0; d < dimensions; ++d)
            voxels *= io->GetDimensions(d);
        if (voxels > kMaxLabelMapVoxels)
            throw Error(ErrorCode::TooLarge, path + ": label map of " + std::to_string(voxels) +
                                                 " voxels, more than the cap of " + std::to_string(kMaxLabelMapVoxels) +
                                                 " (" + std::to_string(kMaxLabelMapVoxels >> 20) + " Mi)");
        auto reader = itk::ImageFileReader<FloatImage>::New();
        reader->SetImageIO(io);
        reader->SetFileName(path);
        try {
            reader->Update();
        } catch (const std::bad_alloc&) {
            throw Error(ErrorCode::TooLarge,
                        path + ": label map of " + std::to_string(voxels) + " voxels needs more memory than is available");
        }
        image = reader->GetOutput();
        dictionary = io->GetMetaDataDictionary();
    } catch (const itk::ExceptionObject& e) {
        throw Error(ErrorCode::CorruptData, path + ": cannot read the label map: " + detail::itkReason(e.GetDescription()));
    }

    Geometry geometry;
    const auto region = image->GetLargestPossibleRegion();
    for (unsigned a = 0; a < 3; ++a) {
        geometry.size[a] = static_cast<std::int64_t>(region.GetSize()[a]);
        geometry.spacing[static_cast<int>(a)] = image->GetSpacing()[a];
        geometry.originLps[static_cast<int>(a)] = image->GetOrigin()[a];
        for (unsigned b = 0; b < 3; ++b)
            geometry.directionLps(static_cast<int>(a), static_cast<int>(b)) = image->GetDirection()(a, b);
    }
    geometry.validate(path);

    LabelMap labels(geometry);
    const float* source = image->GetBufferPointer();
    std::set<std::uint16_t> present;
    auto& out = labels.labels();
    for (std::size_t n = 0; n < out.size(); ++n) {
        const float v = source[n];
        if (!(v >= 0.0f && v <= 65535.0f) || v != std::floor(v))
            throw Error(ErrorCode::CorruptData, path + ": voxel value " + std::to_string(v) +
                                                    " is not a label (expected whole numbers 0..65535)");
        out[n] = static_cast<std::uint16_t>(v);
        if (out[n] != 0 && (n == 0 || out[n] != out[n - 1]))
            present.insert(out[n]);
    }

    // Slicer segments: Segment0_..., Segment1_..., stop at the first index without a name or ID.
    auto& segments = labels.segments();
    std::set<std::uint16_t> claimed;
    bool layersChecked = false;
    for (int n = 0;; ++n) {
        const std::string prefix = "Segment" + std::to_string(n) + "_";
        bool hasName = false, hasId = false, hasLabel = false, hasColor = false, hasLayer = false;
        const std::string name = metaString(dictionary, prefix + "Name", hasName);
        const std::string id = metaString(dictionary, prefix + "ID", hasId);
        if (!hasName && !hasId)
            break;
        Segment segment;
        segment.name = hasName ? name : id;
        const std::string labelText = metaString(dictionary, prefix + "LabelValue", hasLabel);
        long long labelValue = 1;
        if (hasLabel && !parseInteger(labelText, labelValue))
            throw Error(ErrorCode::CorruptData, path + ": " + prefix + "LabelValue '" + labelText + "' is not an integer");
        if (!hasLabel && n > 0)
            throw Error(ErrorCode::CorruptData, path + ": " + prefix + "LabelValue is missing");
        if (labelValue < 1 || labelValue > 65535)
            throw Error(ErrorCode::CorruptData,
                        path + ": " + prefix + "LabelValue " + std::to_string(labelValue) + " is outside 1..65535");
        const std::string layerText = metaString(dictionary, prefix + "Layer", hasLayer);
        long long layer = 0;
        if (hasLayer && (!parseInteger(layerText, layer) || layer != 0))
            throw Error(ErrorCode::CorruptData, path + ": " + prefix + "Layer '" + layerText +
                                                    "' does not refer to the file's only layer");
        layersChecked = true;
        segment.labelValue = static_cast<std::uint16_t>(labelValue);
        if (!claimed.insert(segment.labelValue).second)
            throw Error(ErrorCode::CorruptData,
                        path + ": label value " + std::to_string(labelValue) + " is used by two segments");
        const std::string colorText = metaString(dictionary, prefix + "Color", hasColor);
        if (hasColor) {
            std::vector<double> rgb;
            if (!parseDoubles(colorText, rgb) || rgb.size() != 3)
                throw Error(ErrorCode::CorruptData, path + ": " + prefix + "Color '" + colorText + "' is not 'r g b'");
            for (int c = 0; c < 3; ++c)
                segment.colorRgb[static_cast<std::size_t>(c)] = std::clamp(rgb[static_cast<std::size_t>(c)], 0.0, 1.0);
        } else {
            segment.colorRgb = defaultLabelColor(segment.labelValue);
        }
        segments.push_back(segment);
    }
    (void)layersChecked;
    for (std::uint16_t value : present)
        if (!claimed.count(value)) {
            Segment segment;
            segment.name = "label_" + std::to_string(value);
            segment.labelValue = value;
            segment.colorRgb = defaultLabelColor(value);
            segments.push_back(segment);
        }
    labels.segments() = segments;
    return labels;
}

void writeSegNrrd(const LabelMap& labels, const std::string& path)
{
    const Geometry& geometry = labels.geometry();
    geometry.validate(path);
    if (labels.labels().size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, path + ": label map holds no voxels for its geometry");
    std::set<std::uint16_t> values;
    std::set<std::string> names;
    for (const auto& segment : labels.segments()) {
        if (segment.labelValue == 0)
            throw Error(ErrorCode::InvalidArgument, path + ": segment '" + segment.name + "' has label value 0");
        if (!values.insert(segment.labelValue).second)
            throw Error(ErrorCode::InvalidArgument,
                        path + ": label value " + std::to_string(segment.labelValue) + " is used by two segments");
        if (segment.name.empty() || segment.name.find('\n') != std::string::npos)
            throw Error(ErrorCode::InvalidArgument, path + ": a segment name is empty or spans several lines");
    }

    // Extents (inclusive voxel bounds) per label value, in one pass.
    std::map<std::uint16_t, Extent> extents;
    std::uint16_t maxValue = 0;
    {
        std::vector<Extent> byValue(65536);
        const auto& data = labels.labels();
        std::size_t n = 0;
        for (std::int64_t k = 0; k < geometry.size[2]; ++k)
            for (std::int64_t j = 0; j < geometry.size[1]; ++j)
                for (std::int64_t i = 0; i < geometry.size[0]; ++i, ++n) {
                    const std::uint16_t v = data[n];
                    if (v == 0)
                        continue;
                    maxValue = std::max(maxValue, v);
                    Extent& e = byValue[v];
                    const std::int64_t ijk[3] = {i, j, k};
                    for (int a = 0; a < 3; ++a) {
                        if (e.empty || ijk[a] < e.lo[a])
                            e.lo[a] = ijk[a];
                        if (e.empty || ijk[a] > e.hi[a])
                            e.hi[a] = ijk[a];
                    }
                    e.empty = false;
                }
        for (const auto& segment : labels.segments())
            extents[segment.labelValue] = byValue[segment.labelValue];
        for (const auto& segment : labels.segments())
            maxValue = std::max(maxValue, segment.labelValue);
    }

    itk::MetaDataDictionary dictionary;
    itk::EncapsulateMetaData<std::string>(dictionary, "Segmentation_MasterRepresentation", "Binary labelmap");
    itk::EncapsulateMetaData<std::string>(dictionary, "Segmentation_SourceRepresentation", "Binary labelmap");
    itk::EncapsulateMetaData<std::string>(dictionary, "Segmentation_ContainedRepresentationNames", "Binary labelmap|");
    itk::EncapsulateMetaData<std::string>(dictionary, "Segmentation_ReferenceImageExtentOffset", "0 0 0");
    int n = 0;
    for (const auto& segment : labels.segments()) {
        const std::string prefix = "Segment" + std::to_string(n++) + "_";
        const Extent& e = extents[segment.labelValue];
        std::ostringstream extent;
        extent << e.lo[0] << ' ' << e.hi[0] << ' ' << e.lo[1] << ' ' << e.hi[1] << ' ' << e.lo[2] << ' ' << e.hi[2];
        const auto& rgb = segment.colorRgb;
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "ID", "Segment_" + std::to_string(segment.labelValue));
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "Name", segment.name);
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "NameAutoGenerated", "0");
        itk::EncapsulateMetaData<std::string>(
            dictionary, prefix + "Color", exactNumber(rgb[0]) + " " + exactNumber(rgb[1]) + " " + exactNumber(rgb[2]));
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "ColorAutoGenerated", "0");
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "LabelValue", std::to_string(segment.labelValue));
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "Layer", "0");
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "Extent", extent.str());
        itk::EncapsulateMetaData<std::string>(dictionary, prefix + "Tags", "Segmentation.Status:completed|");
    }

    auto writeTyped = [&](auto pixelTag, const std::string& temporary) {
        using Pixel = decltype(pixelTag);
        using ImageType = itk::Image<Pixel, 3>;
        auto image = ImageType::New();
        typename ImageType::RegionType region;
        typename ImageType::SpacingType spacing;
        typename ImageType::PointType origin;
        typename ImageType::DirectionType direction;
        for (unsigned a = 0; a < 3; ++a) {
            region.SetSize(a, static_cast<itk::SizeValueType>(geometry.size[a]));
            spacing[a] = geometry.spacing[static_cast<int>(a)];
            origin[a] = geometry.originLps[static_cast<int>(a)];
            for (unsigned b = 0; b < 3; ++b)
                direction(a, b) = geometry.directionLps(static_cast<int>(a), static_cast<int>(b));
        }
        image->SetRegions(region);
        image->SetSpacing(spacing);
        image->SetOrigin(origin);
        image->SetDirection(direction);
        image->Allocate();
        Pixel* out = image->GetBufferPointer();
        const auto& data = labels.labels();
        for (std::size_t v = 0; v < data.size(); ++v)
            out[v] = static_cast<Pixel>(data[v]);
        // The writer hands the image's dictionary to the ImageIO, so the keys go on the image.
        image->SetMetaDataDictionary(dictionary);
        auto io = itk::NrrdImageIO::New();
        auto writer = itk::ImageFileWriter<ImageType>::New();
        writer->SetImageIO(io);
        writer->SetInput(image);
        writer->SetFileName(temporary);
        writer->SetUseCompression(true);
        writer->Update();
    };
    // Temporary file, fsync, rename (AtomicFile.h): a killed writer never leaves a partial file.
    replaceFileAtomically(path, [&](const std::string& temporary) {
        try {
            if (maxValue <= 255)
                writeTyped(std::uint8_t{}, temporary);
            else
                writeTyped(std::uint16_t{}, temporary);
        } catch (const itk::ExceptionObject& e) {
            throw Error(ErrorCode::Io, path + ": cannot write the segmentation: " + detail::itkReason(e.GetDescription()));
        }
    });
}

} // namespace np::imaging
