// Writers killed (SIGKILL) at random moments: the output file is always the old one or the new
// one, never partial, and temporary files do not pile up (each write removes those of dead writers).

#include "CliRunner.h"
#include "TestSupport.h"

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void writeFile(const fs::path& path, const std::string& bytes)
{
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

/// Starts needleplan-cli with `arguments` (output discarded) and returns its pid.
pid_t start(const std::vector<std::string>& arguments)
{
    std::vector<std::string> storage{NP_CLI_EXECUTABLE};
    storage.insert(storage.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (auto& a : storage)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    return pid;
}

/// Files of `folder` whose names mark them as temporary files of a write.
std::vector<std::string> temporaryFiles(const fs::path& folder)
{
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (name.find("tmp") != std::string::npos)
            found.push_back(name);
    }
    return found;
}

/// Runs `arguments` once to the end to learn the new content and its duration, then `kills` more
/// times, each killed after a random delay within that duration, with `old` in place beforehand.
/// After every kill the target holds exactly `old` or exactly the new content, and at most one
/// temporary file (the killed writer's) exists; a final complete run leaves none.
/// Outputs that differ between runs (DICOM UIDs, PDF dates) pass `complete`, an independent check
/// that the file is whole, instead of being compared with the first run's bytes.
void killRepeatedly(const std::vector<std::string>& arguments, const fs::path& target, const std::string& old,
                    int kills, const std::function<bool(const fs::path&)>& complete = {})
{
    const fs::path folder = target.parent_path();
    const auto begin = std::chrono::steady_clock::now();
    auto reference = np::test::runCli(arguments);
    const auto duration = std::chrono::steady_clock::now() - begin;
    ASSERT_EQ(reference.exitCode == 0 || reference.exitCode == 4, true) << reference.err;
    const std::string fresh = slurp(target);
    ASSERT_FALSE(fresh.empty());
    ASSERT_NE(fresh, old);
    ASSERT_TRUE(temporaryFiles(folder).empty());

    std::mt19937 random(12345);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
    int sawOld = 0, sawNew = 0;
    for (int n = 0; n < kills; ++n) {
        writeFile(target, old);
        const pid_t pid = start(arguments);
        ASSERT_GT(pid, 0);
        std::this_thread::sleep_for(
            std::chrono::microseconds(std::uniform_int_distribution<long>(0, micros)(random)));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        const std::string now = slurp(target);
        const bool isNew = complete ? (now != old && complete(target)) : now == fresh;
        EXPECT_TRUE(now == old || isNew)
            << "kill " << n << ": the file is neither the old nor a whole new one (" << now.size() << " bytes)";
        (now == old ? sawOld : sawNew) += 1;
        EXPECT_LE(temporaryFiles(folder).size(), 1u) << "kill " << n;
    }
    std::cout << "[          ] " << target.filename() << ": " << kills << " kills within " << micros / 1000
              << " ms: " << sawOld << " old, " << sawNew << " new\n";
    const auto last = np::test::runCli(arguments);
    EXPECT_TRUE(last.exitCode == 0 || last.exitCode == 4) << last.err;
    EXPECT_TRUE(complete ? complete(target) : slurp(target) == fresh);
    EXPECT_TRUE(temporaryFiles(folder).empty());
}

/// True when `command` (an independent tool) exits 0 on `path`.
bool toolAccepts(const std::string& command, const fs::path& path)
{
    return std::system((command + " '" + path.string() + "' > /dev/null 2>&1").c_str()) == 0;
}

/// DCMTK's dcmdump parses the file and fails on one cut inside an element; a file cut between
/// elements parses, so the pixel data, written last, must also be there.
bool wholeDicom(const fs::path& path)
{
    return std::system(("dcmdump -q '" + path.string() + "' 2> /dev/null | grep -q '^(7fe0,0010)'").c_str()) == 0;
}

/// poppler's pdfinfo fails on a PDF cut short (no cross-reference table or trailer).
bool wholePdf(const fs::path& path)
{
    return toolAccepts("pdfinfo", path);
}

class KillDuringWrite : public ::testing::Test
{
protected:
    static void SetUpTestSuite()
    {
        s_dir = new np::test::TempDir("np-kill");
        s_phantom = s_dir->path() / "phantom";
        const auto made = np::test::runCli(
            {"phantom", "--out", s_phantom.string(), "--size", "64,48,24", "--spacing", "4,4,5"});
        ASSERT_EQ(made.exitCode, 0) << made.err;
    }
    static void TearDownTestSuite()
    {
        delete s_dir;
        s_dir = nullptr;
    }
    static np::test::TempDir* s_dir;
    static fs::path s_phantom;
};
np::test::TempDir* KillDuringWrite::s_dir = nullptr;
fs::path KillDuringWrite::s_phantom;

} // namespace

TEST_F(KillDuringWrite, ConvertOutIsOldOrNew)
{
    const fs::path out = s_dir->path() / "convert";
    fs::create_directories(out);
    killRepeatedly({"convert", (s_phantom / "dicom").string(), "--out", (out / "ct.nrrd").string()},
                   out / "ct.nrrd", "old volume", 12);
}

TEST_F(KillDuringWrite, SegmentOutIsOldOrNew)
{
    const fs::path out = s_dir->path() / "segment";
    fs::create_directories(out);
    killRepeatedly({"segment", "--image", (s_phantom / "dicom").string(), "--out",
                    (out / "auto.seg.nrrd").string(), "--only", "body,bone"},
                   out / "auto.seg.nrrd", "old segmentation", 12);
}

TEST_F(KillDuringWrite, PlanOutIsOldOrNew)
{
    const fs::path out = s_dir->path() / "plan";
    fs::create_directories(out);
    killRepeatedly({"plan", "--image", (s_phantom / "dicom").string(), "--structures",
                    (s_phantom / "structures.seg.nrrd").string(), "--target", "26.1,32.9,9.5", "--directions", "800",
                    "--out", (out / "p.needleplan.json").string()},
                   out / "p.needleplan.json", "{\"old\": true}\n", 12);
}

TEST_F(KillDuringWrite, DicomSegExportIsOldOrNew)
{
    const fs::path out = s_dir->path() / "seg";
    fs::create_directories(out);
    killRepeatedly({"structures", "export", "--structures", (s_phantom / "structures.seg.nrrd").string(),
                    "--reference", (s_phantom / "dicom").string(), "--out", (out / "structures.dcm").string()},
                   out / "structures.dcm", "old SEG", 12, wholeDicom);
}

TEST_F(KillDuringWrite, DrrXaIsOldOrNew)
{
    const fs::path out = s_dir->path() / "drr";
    fs::create_directories(out);
    killRepeatedly({"drr", "--image", (s_phantom / "dicom").string(), "--primary", "30", "--secondary", "-10",
                    "--out", (out / "ap.dcm").string()},
                   out / "ap.dcm", "old XA", 12, wholeDicom);
}

TEST_F(KillDuringWrite, MarkupsAndReportAreOldOrNew)
{
    const fs::path out = s_dir->path() / "report";
    fs::create_directories(out);
    const fs::path plan = out / "p.needleplan.json";
    const auto planned = np::test::runCli({"plan", "--image", (s_phantom / "dicom").string(), "--structures",
                                           (s_phantom / "structures.seg.nrrd").string(), "--target",
                                           "26.1,32.9,9.5", "--directions", "400", "--out", plan.string()});
    ASSERT_TRUE(planned.exitCode == 0 || planned.exitCode == 4) << planned.err;
    killRepeatedly({"markups", "export", "--plan", plan.string(), "--out", (out / "p.mrk.json").string()},
                   out / "p.mrk.json", "{\"old\": true}\n", 8);
    killRepeatedly({"report", "--plan", plan.string(), "--out", (out / "p.pdf").string()}, out / "p.pdf",
                   "old PDF", 8, wholePdf);
}
