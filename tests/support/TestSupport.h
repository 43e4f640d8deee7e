#pragma once
/// Helpers shared by the test suites: where the real data lives and scratch folders.

#include <filesystem>
#include <string>

namespace np::test {

/// `../shared/data/realdicom` (or $NP_REALDICOM_DIR); empty path when it does not exist.
std::filesystem::path realDicomDir();

/// The build tree (for the generated sample phantom and built executables).
std::filesystem::path binaryDir();

/// What dicom3tools' dciodvfy (the DICOM standard's IOD validator) said about a file.
struct DciodvfyResult
{
    bool ran = false;   ///< false when dciodvfy is not installed
    int errorCount = 0; ///< lines that report an error ("Error - ...")
    std::string output; ///< everything it printed
    std::string errors; ///< the error lines only
};

/// Runs dciodvfy on `path`.
DciodvfyResult runDciodvfy(const std::filesystem::path& path);

/// Runs a shell command and returns what it printed (stdout and stderr together); "" when it cannot start.
std::string runCommand(const std::string& command);

/// `text` with every run of white space (line breaks of wrapped captions too) made one space.
std::string singleSpaced(const std::string& text);

/// An attribute's value as DCMTK's dcmdump prints it, e.g. tag "0020,000d"; "" when absent.
std::string dumpedDicomValue(const std::filesystem::path& file, const std::string& tag);

/// A fresh, empty folder removed when the object goes out of scope.
class TempDir
{
public:
    explicit TempDir(const std::string& prefix = "np-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

} // namespace np::test

/// Skips the current test, with the reason printed, when dciodvfy did not run.
#define NP_SKIP_UNLESS_DCIODVFY_RAN(result)                                                                  \
    do {                                                                                                     \
        if (!(result).ran)                                                                                   \
            GTEST_SKIP() << "dciodvfy (Debian package dicom3tools) is not installed";                        \
    } while (0)

/// Skips the current test, with the reason printed, when the real DICOM folder is missing.
#define NP_REQUIRE_REALDICOM()                                                                               \
    do {                                                                                                     \
        if (::np::test::realDicomDir().empty())                                                              \
            GTEST_SKIP()                                                                                     \
                << "real DICOM data not found (expected ../shared/data/realdicom beside the project "        \
                   "or $NP_REALDICOM_DIR)";                                                                  \
    } while (0)
