// Parsing of the CLI's free-text option values (numbers, LPS points, plan targets) with one message style.
#pragma once

#include "needleplan/imaging/Vec3.h"
#include "needleplan/planning/PlanDocument.h"

#include <string>

namespace np::cli {

/// Throws np::Error(InvalidArgument, message): the CLI turns it into exit 2.
[[noreturn]] void badArgument(const std::string& message);

/// A finite number taking the whole of `text`; otherwise badArgument("<what> "<text>" is not a number").
double parseNumber(const std::string& text, const std::string& what);

/// "X,Y,Z" in LPS mm (three finite numbers separated by commas).
np::Vec3 parseLpsPoint(const std::string& text, const std::string& what);

/// The target called `name` in the plan file `planPath` (the first target when `name` is empty);
/// throws NotFound naming the file when there is none. The plan must outlive the returned reference.
const planning::PlanTarget& planTargetNamed(const planning::Plan& plan, const std::string& planPath,
                                            const std::string& name);

} // namespace np::cli
