#pragma once
// Shared by the libFuzzer targets: the readers take file paths, so each input is written to a
// scratch file first (in /dev/shm when it exists, so the disk is not worn).

#include "needleplan/imaging/Volume.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace np::fuzz {

/// Writes the input to a per-process scratch file ending in `suffix` and returns its path.
std::string writeInput(const std::uint8_t* data, std::size_t size, const std::string& suffix);

/// A small oblique reference CT (16 x 12 x 6, spacing 1.5 x 1.5 x 3 mm) for the importers.
const imaging::Volume& referenceVolume();

} // namespace np::fuzz
