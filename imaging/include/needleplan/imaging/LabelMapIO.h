#pragma once
/// Label-map files: 3D Slicer segmentations (.seg.nrrd) and plain label images.

#include <cstdint>
#include <string>

#include "needleplan/imaging/Volume.h"

namespace np::imaging {

/// Largest label map readLabelMap accepts: 512 Mi voxels (1 GiB of 16-bit labels; 2 GiB while
/// read as floats), and at most 1 GiB of pixel data in the file as its header describes it.
/// Larger headers are refused with np::Error(TooLarge) before anything is allocated.
inline constexpr std::uint64_t kMaxLabelMapVoxels = std::uint64_t{512} << 20;
inline constexpr std::uint64_t kMaxLabelMapFileBytes = std::uint64_t{1} << 30;

/// Reads a label map into LPS.
/// - A 3D Slicer `.seg.nrrd` (one label layer): segments from the header keys SegmentN_Name,
///   SegmentN_LabelValue and SegmentN_Color ("r g b" in 0..1).
/// - A plain label NRRD, NIfTI or MetaImage: one segment per distinct non-zero value, named
///   "label_<value>", with colours from a fixed palette.
/// Voxel values that no header segment claims are added as "label_<value>" segments.
/// Throws np::Error naming the file: NotFound, CorruptData (malformed header or values that are not
/// labels 0..65535), Unsupported (several overlapping layers, not 3D).
LabelMap readLabelMap(const std::string& path);

/// Writes `labels` as a 3D Slicer segmentation (.seg.nrrd): one gzip-compressed label layer
/// (uint8 when every label value fits, else uint16), space left-posterior-superior with the exact
/// space origin and directions, and the SegmentN_* / Segmentation_* keys Slicer needs (names,
/// colours, label values, extents). Written to a temporary file and renamed into place.
/// Throws np::Error (InvalidArgument for a label map without voxels, duplicate or zero label
/// values; Io when writing fails).
void writeSegNrrd(const LabelMap& labels, const std::string& path);

/// Display colour of the n-th automatically coloured segment (a fixed, distinct palette).
std::array<double, 3> defaultLabelColor(std::uint16_t labelValue);

} // namespace np::imaging
