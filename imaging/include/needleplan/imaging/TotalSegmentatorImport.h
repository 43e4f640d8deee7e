#pragma once
/// What TotalSegmentator writes, brought onto the CT's grid: its output folder (one
/// `segmentations/<name>.nii.gz` mask per structure) and its multilabel NIfTI (`--ml`), whose label
/// names travel in a NIfTI header extension (a Caret XML label table). Classes and margins are not
/// assigned here (planning's terminology table does that by name).

#include "needleplan/imaging/Volume.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging {

/// Options of importTotalSegmentator().
struct TotalSegmentatorImportOptions
{
    /// Label value → name for a multilabel NIfTI whose header has no label table (for example
    /// TotalSegmentator v2's 'total' numbering, which the caller takes from planning's table).
    std::map<std::uint16_t, std::string> classMap;
};

/// True when `path` is a folder holding NIfTI masks (directly or in a `segmentations` subfolder).
bool isTotalSegmentatorFolder(const std::string& path);

/// True when `path` names a NIfTI file (.nii or .nii.gz).
bool isNiftiFile(const std::string& path);

/// Label value → name from a NIfTI file's header extensions (the Caret XML label table
/// TotalSegmentator writes); empty when there is none. A malformed extension adds a warning and
/// is ignored. Throws np::Error(NotFound / CorruptData) for a missing or unreadable file.
std::map<std::uint16_t, std::string> readNiftiLabelTable(const std::string& path,
                                                         std::vector<std::string>* warnings = nullptr);

/// Imports a TotalSegmentator output folder or multilabel NIfTI onto the grid of `reference`, as
/// one label map (TotalSegmentator's masks do not overlap; where edited ones do, the first file in
/// name order keeps the voxel, with a warning).
/// - Folder: every `<name>.nii.gz` / `<name>.nii` becomes structure `<name>`; empty masks are
///   skipped (noted in `warnings`).
/// - Multilabel NIfTI: names from its label table, else from `options.classMap`, else `label_<N>`
///   with a warning (such labels get the caution default when planning).
/// A mask on another grid is resampled nearest neighbour by position (with a warning); a mask that
/// does not overlap the CT is np::Error(InconsistentGeometry) naming the file. An empty folder is
/// np::Error(NotFound); an unreadable mask is np::Error naming it.
LabelMap importTotalSegmentator(const std::string& path, const Volume& reference,
                                const TotalSegmentatorImportOptions& options = {},
                                std::vector<std::string>* warnings = nullptr,
                                ProgressSink* progress = nullptr);

} // namespace np::imaging
