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

/// Limits for one run: a wall-clock limit (SIGALRM ends the run: exit code 128 + 14) and an
/// address-space limit (ignored in sanitizer builds, which reserve terabytes of shadow memory).
struct CliLimits
{
    unsigned timeoutSeconds = 0;
    unsigned long long addressSpaceBytes = 0;
};

/// runCli under `limits`.
CliResult runCli(const std::vector<std::string>& arguments, const CliLimits& limits);

} // namespace np::test
