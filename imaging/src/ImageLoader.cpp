#include "needleplan/imaging/ImageLoader.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <sys/resource.h>
#include <unistd.h>

#include "needleplan/imaging/AtomicFile.h"
#include "needleplan/imaging/DicomScanner.h"
#include "needleplan/imaging/Error.h"

namespace fs = std::filesystem;

namespace np::imaging {

namespace {

bool endsWith(const std::string& text, const std::string& suffix)
{
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string text)
{
    for (char& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string number(double value)
{
    std::ostringstream text;
    text << std::setprecision(17) << (value == 0.0 ? 0.0 : value);
    return text.str();
}

} // namespace

std::uint64_t effectiveMemoryCap(std::uint64_t requestedCapBytes)
{
    std::uint64_t cap = requestedCapBytes;
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0)
        cap = std::min(cap, static_cast<std::uint64_t>(pages) / 4 * 3 * static_cast<std::uint64_t>(pageSize));
    rlimit limit{};
    if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        cap = std::min(cap, static_cast<std::uint64_t>(limit.rlim_cur) / 2);
    return cap;
}

bool isItkImageFile(const std::string& path)
{
    const std::string name = lower(fs::path(path).filename().string());
    for (const char* suffix : {".nrrd", ".nhdr", ".nii", ".nii.gz", ".mha", ".mhd"})
        if (endsWith(name, suffix))
            return true;
    return false;
}

Volume loadVolume(const std::string& path, const LoadOptions& options, ProgressSink* progress)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw Error(ErrorCode::NotFound, path + ": no such file or folder");
    if (!fs::is_directory(path, ec) && isItkImageFile(path)) {
        reportProgress(progress, 0.0, "Reading image");
        Volume volume = readItkImage(path, options);
        reportProgress(progress, 1.0, "Loaded");
        return volume;
    }
    const DicomScanResult scan = scanDicom(path, progress);
    return loadDicomSeries(scan, selectSeries(scan, options), options, progress);
}

void writeVolumeNrrd(const Volume& volume, const std::string& path)
{
    const Geometry& geometry = volume.geometry();
    geometry.validate(path);
    if (volume.voxels().size() != static_cast<std::size_t>(geometry.voxelCount()))
        throw Error(ErrorCode::Internal, path + ": volume holds " + std::to_string(volume.voxels().size()) +
                                             " voxels, its geometry says " + std::to_string(geometry.voxelCount()));
    std::ostringstream header;
    header << "NRRD0004\n";
    header << "# written by NeedlePlan: float voxels exactly as loaded (HU for CT), LPS millimetres\n";
    header << "type: float\n";
    header << "dimension: 3\n";
    header << "space: left-posterior-superior\n";
    header << "sizes: " << geometry.size[0] << " " << geometry.size[1] << " " << geometry.size[2] << "\n";
    header << "space directions:";
    for (int c = 0; c < 3; ++c) {
        const Vec3 stepLps = geometry.directionLps.column(c) * geometry.spacing[c];
        header << " (" << number(stepLps.x) << "," << number(stepLps.y) << "," << number(stepLps.z) << ")";
    }
    header << "\n";
    header << "kinds: domain domain domain\n";
    header << "endian: little\n";
    header << "encoding: raw\n";
    const Vec3& originLps = geometry.originLps;
    header << "space origin: (" << number(originLps.x) << "," << number(originLps.y) << "," << number(originLps.z)
           << ")\n";
    const VolumeInfo& info = volume.info();
    if (!info.modality.empty())
        header << "modality:=" << info.modality << "\n";
    if (!info.seriesUid.empty())
        header << "seriesInstanceUid:=" << info.seriesUid << "\n";
    header << "\n";

    const std::string text = header.str();
    writeFileAtomically(path, {std::string_view(text),
                               std::string_view(reinterpret_cast<const char*>(volume.data()),
                                                volume.voxels().size() * sizeof(float))});
}

} // namespace np::imaging
