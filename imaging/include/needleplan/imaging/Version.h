#pragma once
/// NeedlePlan's version, as written into the DICOM objects and reports it makes.

#include <string>

namespace np::imaging {

/// The project version ("0.1.0"), from CMake's project() declaration.
std::string softwareVersion();

} // namespace np::imaging
