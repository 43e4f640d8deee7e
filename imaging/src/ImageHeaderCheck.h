#pragma once
// Checks made on NRRD, NIfTI and MetaImage files before ITK reads them (internal).

#include <cstdint>
#include <string>

namespace np::imaging::detail {

/// Reads the header of a NRRD (.nrrd, .nhdr), MetaImage (.mha, .mhd) or NIfTI (.nii, .nii.gz, .hdr)
/// file without ITK and throws np::Error naming the file when it is malformed or unsafe to hand to
/// ITK 5.2: sizes that are not whole positive numbers, pixel data larger than `maxBytes` (TooLarge),
/// unknown types or encodings, text lines longer than 64 KiB (MetaImage values longer than 250
/// characters), and ASCII-encoded data with a token longer than 256 characters. Other files pass.
void checkImageFileHeader(const std::string& path, std::uint64_t maxBytes);

/// `text` with line breaks and tabs folded into single spaces.
std::string oneLine(const std::string& text);

/// The first line of an ITK exception description (its reader's trace follows on further lines).
std::string itkReason(const char* description);

} // namespace np::imaging::detail
