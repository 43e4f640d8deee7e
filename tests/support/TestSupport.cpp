#include "TestSupport.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
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
