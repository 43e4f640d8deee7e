#include "TestSupport.h"

#include <atomic>
#include <cctype>
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

std::string runCommand(const std::string& command)
{
    std::string output;
    if (FILE* pipe = ::popen((command + " 2>&1").c_str(), "r")) {
        char buffer[4096];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
            output.append(buffer, n);
        ::pclose(pipe);
    }
    return output;
}

std::string singleSpaced(const std::string& text)
{
    std::string out;
    bool space = false;
    for (const char c : text) {
        if (std::isspace(static_cast<unsigned char>(c))) {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out += ' ';
        space = false;
        out += c;
    }
    return out;
}

std::string dumpedDicomValue(const std::filesystem::path& file, const std::string& tag)
{
    const std::string out = runCommand("dcmdump -Un +P " + tag + " '" + file.string() + "'");
    const auto open = out.find('['), close = out.find(']', open == std::string::npos ? 0 : open);
    return open == std::string::npos || close == std::string::npos ? std::string()
                                                                   : out.substr(open + 1, close - open - 1);
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
    m_path =
        std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(stamp) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(m_path);
}

TempDir::~TempDir()
{
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
}

} // namespace np::test
