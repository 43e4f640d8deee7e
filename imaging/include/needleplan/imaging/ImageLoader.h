#pragma once
/// Loading images into a Volume: DICOM (file, folder or DICOMDIR) and NRRD / NIfTI / MetaImage.

#include <cstdint>
#include <string>

#include "needleplan/imaging/Progress.h"
#include "needleplan/imaging/Volume.h"

namespace np::imaging {

/// Which series to load and how much memory loading may take.
struct LoadOptions
{
    int seriesIndex = -1;                    ///< index in the scanDicom listing; -1: the only (or first) volume series
    std::string seriesUid;                   ///< when set, load the volume series with this SeriesInstanceUID
    std::uint64_t memoryCapBytes = 4ull << 30; ///< refuse (ErrorCode::TooLarge) reads needing more than this (a 512x512x3000 CT needs 3 GiB)
};

/// The memory cap loading actually applies: the smaller of `requestedCapBytes`, three quarters of the
/// machine's physical memory, and half of the process's address-space limit (RLIMIT_AS) when one is
/// set. A header asking for more is refused (TooLarge) before anything is read or inflated.
std::uint64_t effectiveMemoryCap(std::uint64_t requestedCapBytes);

/// True when the file name says NRRD, NIfTI or MetaImage (.nrrd, .nhdr, .nii, .nii.gz, .mha, .mhd).
bool isItkImageFile(const std::string& path);

/// Loads a DICOM file / folder (recursive) / DICOMDIR series, or a NRRD / NIfTI / MetaImage file,
/// into LPS. CT voxels are HU. Fills VolumeInfo, including sliceSopInstanceUids when the slices
/// map one-to-one to the source images. Throws np::Error naming the file and the problem:
///  - NotFound: no such path, an empty folder, no image series, an unknown series index or UID;
///  - NotDicom: a single file given that is not DICOM (and not NRRD / NIfTI / MetaImage);
///  - CorruptData: a truncated file, missing or short PixelData, an unreadable header;
///  - InconsistentGeometry: zero, NaN or implausible PixelSpacing or positions, unusable orientation;
///  - DuplicatePosition: two images of one stack at the same position (both files named);
///  - UnsupportedTransferSyntax: "unsupported transfer syntax <name>" (JPEG 2000, ...);
///  - Unsupported: colour, 1-bit or floating-point pixels, multi-frame projection cines;
///  - TooLarge: reading would need more memory than effectiveMemoryCap(LoadOptions::memoryCapBytes)
///    (the file's own buffer plus the float volume; checked before anything is allocated or inflated);
///  - Cancelled: `progress` asked to stop.
Volume loadVolume(const std::string& path, const LoadOptions& options = {}, ProgressSink* progress = nullptr);

/// Reads a NRRD / NIfTI / MetaImage file through ITK IO into a float Volume in LPS.
Volume readItkImage(const std::string& path, const LoadOptions& options = {});

/// Writes `volume` exactly as held (float voxels, LPS space directions and origin) as a raw NRRD
/// file with "space: left-posterior-superior". Written to a temporary file, then renamed into place.
void writeVolumeNrrd(const Volume& volume, const std::string& path);

} // namespace np::imaging
