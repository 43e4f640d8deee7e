#include "CliRunner.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "TestSupport.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NP_CLI_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(NP_CLI_UNDER_ASAN)
#define NP_CLI_UNDER_ASAN 1
#endif

namespace np::test {

namespace {
std::string slurp(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}
} // namespace

CliResult runCli(const std::vector<std::string>& arguments)
{
    return runCli(arguments, CliLimits{});
}

CliResult runCli(const std::vector<std::string>& arguments, const CliLimits& limits)
{
    TempDir scratch("np-cli");
    const auto outPath = scratch.path() / "stdout.txt";
    const auto errPath = scratch.path() / "stderr.txt";
    std::vector<std::string> argvStorage;
    argvStorage.push_back(NP_CLI_EXECUTABLE);
    argvStorage.insert(argvStorage.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& a : argvStorage)
        argv.push_back(a.data());
    argv.push_back(nullptr);

#ifdef NP_CLI_UNDER_ASAN
    // AddressSanitizer reserves terabytes of address space for its shadow memory, so RLIMIT_AS
    // would stop the executable before main. Its own cap stands in for it: any single allocation
    // larger than the limit aborts the run (exit code not 2), so "refused before allocating" is
    // still what the test checks.
    std::string asanOptions;
    if (limits.addressSpaceBytes > 0) {
        const char* current = std::getenv("ASAN_OPTIONS");
        asanOptions = std::string(current ? current : "") + ":max_allocation_size_mb=" +
                      std::to_string(limits.addressSpaceBytes >> 20);
    }
#endif
    CliResult result;
    const pid_t pid = fork();
    if (pid == 0) {
        if (!std::freopen(outPath.c_str(), "w", stdout) || !std::freopen(errPath.c_str(), "w", stderr))
            _exit(127);
#ifdef NP_CLI_UNDER_ASAN
        if (!asanOptions.empty())
            setenv("ASAN_OPTIONS", asanOptions.c_str(), 1);
#else
        if (limits.addressSpaceBytes > 0) {
            const rlimit limit{limits.addressSpaceBytes, limits.addressSpaceBytes};
            setrlimit(RLIMIT_AS, &limit);
        }
#endif
        if (limits.timeoutSeconds > 0)
            alarm(limits.timeoutSeconds); // survives exec: SIGALRM ends a run that hangs
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid) {
        if (WIFEXITED(status))
            result.exitCode = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            result.exitCode = 128 + WTERMSIG(status);
    }
    result.out = slurp(outPath);
    result.err = slurp(errPath);
    return result;
}

} // namespace np::test
