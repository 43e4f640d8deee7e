#include "TestSupport.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <unistd.h>

namespace np::test {

std::filesystem::path realDicomDir()
{
    std::filesystem::path dir;
    if (const char* env = std::getenv("NP_REALDICOM_DIR"))
        dir = env;
    else
        dir = std::filesystem::path(NP_SHARED_DATA_DIR) / "realdicom";
    std::error_code ec;
    return std::filesystem::is_directory(dir, ec) ? dir : std::filesystem::path{};
}

std::filesystem::path binaryDir()
{
    return NP_BINARY_DIR;
}

DciodvfyResult runDciodvfy(const std::filesystem::path& path)
{
    DciodvfyResult result;
    if (std::system("command -v dciodvfy >/dev/null 2>&1") != 0)
        return result;
    std::string quoted = "'";
    for (const char c : path.string())
        quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    quoted += "'";
    FILE* pipe = ::popen(("dciodvfy " + quoted + " 2>&1").c_str(), "r");
    if (!pipe)
        return result;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
        result.output.append(buffer, n);
    ::pclose(pipe);
    result.ran = true;
    std::istringstream lines(result.output);
    for (std::string line; std::getline(lines, line);)
        if (line.find("Error") != std::string::npos) {
            ++result.errorCount;
            result.errors += line + "\n";
        }
    return result;
}

TempDir::TempDir(const std::string& prefix)
{
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    m_path = std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(stamp) + "-" +
              std::to_string(counter++));
    std::filesystem::create_directories(m_path);
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

} // namespace np::test
