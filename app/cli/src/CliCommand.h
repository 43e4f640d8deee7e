#pragma once
/// Registry of needleplan-cli subcommands. Each command file registers itself with a static
/// CommandRegistration; main() builds the CLI11 parser from the registry and dispatches.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace np::cli {

/// Exit codes of needleplan-cli (documented in README.md).
enum ExitCode : int
{
    ExitSuccess = 0,     ///< the command did what was asked
    ExitInternal = 1,    ///< a bug or an unexpected failure (please report it)
    ExitBadInput = 2,    ///< bad file, folder or argument; stderr names it and the problem
    ExitCancelled = 3,   ///< interrupted before it finished
    ExitNoSafePath = 4,  ///< planning finished but found no trajectory that meets the constraints
    ExitNetwork = 5,     ///< a PACS refused, dropped, timed out or answered with an error status
};

/// Declares the subcommand's options on `command` and returns the function that runs it once the
/// command line has been parsed. The runner returns an ExitCode; it may throw np::Error.
using CommandSetup = std::function<std::function<int()>(CLI::App& command)>;

struct CommandInfo
{
    std::string name;
    std::string description;
    CommandSetup setup;
};

/// All registered commands, in registration order.
std::vector<CommandInfo>& commandRegistry();

/// Registers a command at static-initialisation time: `static CommandRegistration r{...};`.
struct CommandRegistration
{
    CommandRegistration(std::string name, std::string description, CommandSetup setup)
    {
        commandRegistry().push_back({std::move(name), std::move(description), std::move(setup)});
    }
};

/// Label names of a class map named on the command line (`--class-map`): "" gives none,
/// "totalsegmentator-v2" / "totalsegmentator-v1" TotalSegmentator's numbering (planning's
/// terminology table); anything else throws np::Error(InvalidArgument) listing the known names.
std::map<std::uint16_t, std::string> classMapFor(const std::string& name);

} // namespace np::cli
