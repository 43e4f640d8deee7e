#include "needleplan/imaging/DicomSeriesWriter.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Progress.h"
#include "DicomObjectSupport.h"

namespace np::imaging {

namespace {

enum class UidKind { Study, Series, Instance };

std::string newUid(UidKind kind)
{
    static std::mutex mutex;
    const std::lock_guard<std::mutex> lock(mutex);
    char buffer[100];
    const char* root = kind == UidKind::Study ? SITE_STUDY_UID_ROOT
                       : kind == UidKind::Series ? SITE_SERIES_UID_ROOT
                                                 : SITE_INSTANCE_UID_ROOT;
    dcmGenerateUniqueIdentifier(buffer, root);
    return buffer;
}

/// Decimal string (DS) of at most 16 characters, as DICOM requires.
std::string decimalString(double value)
{
    if (std::abs(value) < 5e-12)
        value = 0.0;
    char buffer[64];
    for (int precision = 15; precision >= 1; --precision) {
        std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
        if (std::char_traits<char>::length(buffer) <= 16)
            return buffer;
    }
    return "0";
}

std::string joinDs(std::initializer_list<double> values)
{
    std::string text;
    for (double v : values) {
        if (!text.empty())
            text += '\\';
        text += decimalString(v);
    }
    return text;
}

struct SeriesHeader
{
    std::string sopClassUid;
    std::string studyUid, seriesUid, frameOfReferenceUid;
    std::string date, time;
    std::string orientation;
    std::string pixelSpacing;
    std::string sliceThickness;
};

void check(const OFCondition& status, const std::string& path, const char* what)
{
    if (status.bad())
        throw Error(ErrorCode::Io, path + ": cannot " + what + ": " + status.text());
}

void putString(DcmDataset& dataset, const DcmTagKey& tag, const std::string& value, const std::string& path)
{
    check(dataset.putAndInsertString(tag, value.c_str()), path, "set a DICOM attribute");
}

void putUint16(DcmDataset& dataset, const DcmTagKey& tag, Uint16 value, const std::string& path)
{
    check(dataset.putAndInsertUint16(tag, value), path, "set a DICOM attribute");
}

void writeSlice(const Volume& volume, std::int64_t k, const Vec3& positionLps, const std::string& sopInstanceUid,
                const SeriesHeader& header, const DicomWriteOptions& options, const std::string& path,
                std::vector<Uint16>& pixels)
{
    const Geometry& geometry = volume.geometry();
    const std::int64_t columns = geometry.size[0];
    const std::int64_t rows = geometry.size[1];
    const double lowest = options.signedPixels ? -32768.0 : 0.0;
    const double highest = options.signedPixels ? 32767.0 : 65535.0;
    const float* source = volume.data() + volume.linearIndex(0, 0, k);
    pixels.resize(static_cast<std::size_t>(rows * columns));
    const double inverseSlope = 1.0 / options.rescaleSlope;
    for (std::size_t n = 0; n < pixels.size(); ++n) {
        double stored = std::round((static_cast<double>(source[n]) - options.rescaleIntercept) * inverseSlope);
        if (!(stored >= lowest)) // also NaN
            stored = lowest;
        if (stored > highest)
            stored = highest;
        const auto value = static_cast<std::int32_t>(stored);
        pixels[n] = static_cast<Uint16>(options.signedPixels ? static_cast<std::uint16_t>(static_cast<std::int16_t>(value))
                                                              : static_cast<std::uint16_t>(value));
    }

    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    putString(ds, DCM_SpecificCharacterSet, "ISO_IR 100", path);
    putString(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL", path);
    putString(ds, DCM_SOPClassUID, header.sopClassUid, path);
    putString(ds, DCM_SOPInstanceUID, sopInstanceUid, path);
    putString(ds, DCM_StudyDate, header.date, path);
    putString(ds, DCM_SeriesDate, header.date, path);
    putString(ds, DCM_ContentDate, header.date, path);
    putString(ds, DCM_StudyTime, header.time, path);
    putString(ds, DCM_SeriesTime, header.time, path);
    putString(ds, DCM_ContentTime, header.time, path);
    putString(ds, DCM_AccessionNumber, "", path);
    putString(ds, DCM_Modality, options.modality, path);
    putString(ds, DCM_Manufacturer, "NeedlePlan", path);
    putString(ds, DCM_ReferringPhysicianName, "", path);
    putString(ds, DCM_SeriesDescription, options.seriesDescription, path);
    putString(ds, DCM_ManufacturerModelName, "NeedlePlan DICOM writer", path);
    putString(ds, DCM_PatientName, options.patientName, path);
    putString(ds, DCM_PatientID, options.patientId, path);
    putString(ds, DCM_PatientBirthDate, "", path);
    putString(ds, DCM_PatientSex, "O", path);
    putString(ds, DCM_SliceThickness, header.sliceThickness, path);
    if (options.modality == "CT")
        putString(ds, DCM_KVP, "", path); // type 2: present, unknown for a synthetic image
    putString(ds, DCM_PatientPosition, options.patientPosition, path);
    putString(ds, DCM_StudyInstanceUID, header.studyUid, path);
    putString(ds, DCM_SeriesInstanceUID, header.seriesUid, path);
    putString(ds, DCM_StudyID, "1", path);
    putString(ds, DCM_SeriesNumber, std::to_string(options.seriesNumber), path);
    putString(ds, DCM_AcquisitionNumber, "1", path);
    putString(ds, DCM_InstanceNumber, std::to_string(k + 1), path);
    putString(ds, DCM_ImagePositionPatient, joinDs({positionLps.x, positionLps.y, positionLps.z}), path);
    putString(ds, DCM_ImageOrientationPatient, header.orientation, path);
    putString(ds, DCM_FrameOfReferenceUID, header.frameOfReferenceUid, path);
    putString(ds, DCM_PositionReferenceIndicator, "", path);
    const Vec3 normalLps = geometry.directionLps.column(2);
    putString(ds, DCM_SliceLocation, decimalString(dot(positionLps, normalLps)), path);
    putUint16(ds, DCM_SamplesPerPixel, 1, path);
    putString(ds, DCM_PhotometricInterpretation, "MONOCHROME2", path);
    putUint16(ds, DCM_Rows, static_cast<Uint16>(rows), path);
    putUint16(ds, DCM_Columns, static_cast<Uint16>(columns), path);
    putString(ds, DCM_PixelSpacing, header.pixelSpacing, path);
    putUint16(ds, DCM_BitsAllocated, 16, path);
    putUint16(ds, DCM_BitsStored, 16, path);
    putUint16(ds, DCM_HighBit, 15, path);
    putUint16(ds, DCM_PixelRepresentation, options.signedPixels ? 1 : 0, path);
    if (options.modality == "CT") {
        putString(ds, DCM_WindowCenter, "40\\400", path);
        putString(ds, DCM_WindowWidth, "400\\1800", path);
        putString(ds, DCM_WindowCenterWidthExplanation, "SOFT TISSUE\\BONE", path);
    }
    putString(ds, DCM_RescaleIntercept, decimalString(options.rescaleIntercept), path);
    putString(ds, DCM_RescaleSlope, decimalString(options.rescaleSlope), path);
    putString(ds, DCM_RescaleType, options.modality == "CT" ? "HU" : "US", path);
    check(ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size())), path,
          "store the pixel data");

    detail::saveDicomAtomically(path, path, [&](const std::string& temporary) {
        return file.saveFile(temporary.c_str(), EXS_LittleEndianExplicit);
    });
}

std::string sopClassFor(const std::string& modality)
{
    if (modality == "CT")
        return UID_CTImageStorage;
    if (modality == "MR")
        return UID_MRImageStorage;
    if (modality == "PT")
        return UID_PositronEmissionTomographyImageStorage;
    throw Error(ErrorCode::InvalidArgument,
                "DICOM writer: unsupported modality '" + modality + "' (expected CT, MR or PT)");
}

} // namespace

std::string generateDicomUid()
{
    return newUid(UidKind::Instance);
}

std::vector<std::string> writeDicomSeries(const Volume& volume, const std::string& folder,
                                          const DicomWriteOptions& options, ProgressSink* progress)
{
    const Geometry& geometry = volume.geometry();
    geometry.validate("DICOM writer (" + folder + ")");
    if (volume.voxels().size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::InvalidArgument, "DICOM writer (" + folder + "): volume holds no voxels for its geometry");
    if (geometry.size[0] > 65535 || geometry.size[1] > 65535)
        throw Error(ErrorCode::InvalidArgument, "DICOM writer (" + folder + "): slices larger than 65535 pixels");
    if (!(options.rescaleSlope > 0.0) || !std::isfinite(options.rescaleSlope) || !std::isfinite(options.rescaleIntercept))
        throw Error(ErrorCode::InvalidArgument, "DICOM writer (" + folder + "): rescale slope must be positive and finite");
    if (!options.slicePositionsLps.empty() &&
        static_cast<std::int64_t>(options.slicePositionsLps.size()) != geometry.size[2])
        throw Error(ErrorCode::InvalidArgument,
                    "DICOM writer (" + folder + "): " + std::to_string(options.slicePositionsLps.size()) +
                        " slice positions given for " + std::to_string(geometry.size[2]) + " slices");
    const std::string& position = options.patientPosition;
    static const char* const positions[] = {"HFS", "HFP", "FFS", "FFP", "HFDR", "HFDL", "FFDR", "FFDL"};
    if (std::find_if(std::begin(positions), std::end(positions), [&](const char* p) { return position == p; }) ==
        std::end(positions))
        throw Error(ErrorCode::InvalidArgument, "DICOM writer (" + folder + "): unknown patient position '" + position + "'");

    SeriesHeader header;
    header.sopClassUid = sopClassFor(options.modality);
    header.studyUid = options.studyUid.empty() ? newUid(UidKind::Study) : options.studyUid;
    header.seriesUid = options.seriesUid.empty() ? newUid(UidKind::Series) : options.seriesUid;
    header.frameOfReferenceUid =
        options.frameOfReferenceUid.empty() ? newUid(UidKind::Instance) : options.frameOfReferenceUid;
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char date[16], time[16];
    std::strftime(date, sizeof date, "%Y%m%d", &utc);
    std::strftime(time, sizeof time, "%H%M%S", &utc);
    header.date = date;
    header.time = time;
    const Vec3 rowLps = geometry.directionLps.column(0);
    const Vec3 columnLps = geometry.directionLps.column(1);
    header.orientation = joinDs({rowLps.x, rowLps.y, rowLps.z, columnLps.x, columnLps.y, columnLps.z});
    header.pixelSpacing = joinDs({geometry.spacing.y, geometry.spacing.x});
    header.sliceThickness = decimalString(geometry.spacing.z);

    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (!std::filesystem::is_directory(folder))
        throw Error(ErrorCode::Io, folder + ": cannot create the output folder" + (ec ? ": " + ec.message() : ""));

    const std::int64_t slices = geometry.size[2];
    std::vector<std::string> paths(static_cast<std::size_t>(slices));
    std::vector<std::string> sopUids(static_cast<std::size_t>(slices));
    for (std::int64_t k = 0; k < slices; ++k) {
        char name[32];
        std::snprintf(name, sizeof name, "slice_%05lld.dcm", static_cast<long long>(k + 1));
        paths[static_cast<std::size_t>(k)] = (std::filesystem::path(folder) / name).string();
        sopUids[static_cast<std::size_t>(k)] = newUid(UidKind::Instance);
    }

    std::atomic<std::int64_t> next{0};
    std::atomic<std::int64_t> done{0};
    std::atomic<bool> failed{false};
    std::mutex errorMutex;
    std::exception_ptr firstError;
    auto worker = [&] {
        std::vector<Uint16> pixels;
        try {
            for (;;) {
                if (failed.load())
                    return;
                throwIfCancelled(progress);
                const std::int64_t k = next.fetch_add(1);
                if (k >= slices)
                    return;
                const Vec3 positionLps = options.slicePositionsLps.empty()
                                             ? geometry.lpsFromIjk({0.0, 0.0, static_cast<double>(k)})
                                             : options.slicePositionsLps[static_cast<std::size_t>(k)];
                writeSlice(volume, k, positionLps, sopUids[static_cast<std::size_t>(k)], header, options,
                           paths[static_cast<std::size_t>(k)], pixels);
                const std::int64_t finished = done.fetch_add(1) + 1;
                reportProgress(progress, static_cast<double>(finished) / static_cast<double>(slices),
                               "Writing DICOM series");
            }
        } catch (...) {
            const std::lock_guard<std::mutex> lock(errorMutex);
            if (!firstError)
                firstError = std::current_exception();
            failed.store(true);
        }
    };
    const unsigned threadCount =
        static_cast<unsigned>(std::max<std::int64_t>(1, std::min<std::int64_t>(slices, std::max(1u, std::thread::hardware_concurrency()))));
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < threadCount; ++t)
        threads.emplace_back(worker);
    worker();
    for (auto& thread : threads)
        thread.join();
    if (firstError)
        std::rethrow_exception(firstError);
    return paths;
}

} // namespace np::imaging
