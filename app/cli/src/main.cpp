// needleplan-cli: headless entry point. Parses the command line, runs one registered command, and
// maps failures onto the documented exit codes with a one-line message on stderr.

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <map>
#include <new>

#include "CliCommand.h"
#include "needleplan/imaging/Error.h"
#include "needleplan/imaging/Toolkit.h"

namespace np::cli {

std::vector<CommandInfo>& commandRegistry()
{
    static std::vector<CommandInfo> registry;
    return registry;
}

/// A message folded onto one line: the README promises one line on stderr per error.
std::string oneLine(const std::string& text)
{
    std::string line;
    for (char c : text)
        line += (c == '\n' || c == '\r') ? ' ' : c;
    return line;
}

} // namespace np::cli

int main(int argc, char** argv)
{
    using namespace np::cli;
    np::imaging::prepareToolkitForThreads(); // commands run ITK on several threads
    CLI::App app{"NeedlePlan: image-guided needle trajectory planning (headless)", "needleplan-cli"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "needleplan-cli 0.1.0");
    std::map<CLI::App*, std::function<int()>> runners;
    for (const auto& command : commandRegistry()) {
        CLI::App* sub = app.add_subcommand(command.name, command.description);
        runners[sub] = command.setup(*sub);
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "needleplan-cli: " << e.what() << " (see --help)\n";
        return ExitBadInput;
    }
    try {
        for (auto& [sub, run] : runners)
            if (sub->parsed())
                return run();
        std::cerr << "needleplan-cli: no command given (see --help)\n";
        return ExitBadInput;
    } catch (const np::Error& e) {
        std::cerr << "needleplan-cli: error: " << oneLine(e.what()) << "\n";
        if (e.code() == np::ErrorCode::Cancelled)
            return ExitCancelled;
        if (e.code() == np::ErrorCode::Network)
            return ExitNetwork;
        return np::isInputError(e.code()) ? ExitBadInput : ExitInternal;
    } catch (const std::bad_alloc&) {
        std::cerr << "needleplan-cli: error: out of memory\n";
        return ExitInternal;
    } catch (const std::exception& e) {
        std::cerr << "needleplan-cli: internal error: " << oneLine(e.what()) << "\n";
        return ExitInternal;
    }
}
