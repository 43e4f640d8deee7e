#pragma once
/// Runs the built needleplan-cli with arguments and captures its exit code, stdout and stderr.

#include <string>
#include <vector>

namespace np::test {

struct CliResult
{
    int exitCode = -1;
    std::string out;
    std::string err;
};

/// Runs needleplan-cli with `arguments` (no shell involved) and waits for it to finish.
CliResult runCli(const std::vector<std::string>& arguments);

} // namespace np::test
