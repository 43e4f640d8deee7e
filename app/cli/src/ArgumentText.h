// Parsing of the CLI's free-text option values (numbers and LPS points) with one message style.
#pragma once

#include "needleplan/imaging/Vec3.h"

#include <string>

namespace np::cli {

/// Throws np::Error(InvalidArgument, message): the CLI turns it into exit 2.
[[noreturn]] void badArgument(const std::string& message);

/// A finite number taking the whole of `text`; otherwise badArgument("<what> "<text>" is not a number").
double parseNumber(const std::string& text, const std::string& what);

/// "X,Y,Z" in LPS mm (three finite numbers separated by commas).
np::Vec3 parseLpsPoint(const std::string& text, const std::string& what);

} // namespace np::cli
