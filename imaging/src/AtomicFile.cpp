#include "needleplan/imaging/AtomicFile.h"

#include "needleplan/imaging/Error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace np::imaging {

namespace {

constexpr const char* kMarker = ".np-tmp-";

fs::path folderOf(const fs::path& target)
{
    return target.parent_path().empty() ? fs::path(".") : target.parent_path();
}

/// ".seg.nrrd" for "x.seg.nrrd", "" for "plan".
std::string extensionsOf(const std::string& name)
{
    const auto dot = name.find('.', 1);
    return dot == std::string::npos ? std::string() : name.substr(dot);
}

/// `.<name>.np-tmp-<pid>-<n><extensions>` in the target's folder.
fs::path temporaryPathFor(const fs::path& target)
{
    static std::atomic<unsigned> counter{0};
    const std::string name = target.filename().string();
    return folderOf(target) / ("." + name + kMarker + std::to_string(::getpid()) + "-" +
                               std::to_string(counter++) + extensionsOf(name));
}

std::string reason()
{
    return std::strerror(errno);
}

/// fsync of a folder, so that a rename in it survives a power loss (best effort: some file systems
/// refuse to open folders for it).
void syncFolder(const fs::path& folder)
{
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void syncFile(const fs::path& file, const std::string& path)
{
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(ErrorCode::Io,
                    path + ": the written file cannot be reopened to flush it (" + reason() + ")");
    const int status = ::fsync(fd);
    const std::string why = reason();
    ::close(fd);
    if (status != 0)
        throw Error(ErrorCode::Io, path + ": could not flush to disk (" + why + ")");
}

void writeAll(int fd, std::string_view bytes, const std::string& path)
{
    const char* data = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t written = ::write(fd, data, left);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            throw Error(ErrorCode::Io, path + ": write failed (" + reason() + ")");
        }
        data += written;
        left -= static_cast<std::size_t>(written);
    }
}

void renameIntoPlace(const fs::path& temporary, const fs::path& target, const std::string& path)
{
    if (std::rename(temporary.c_str(), target.c_str()) != 0) {
        const std::string why = reason();
        ::unlink(temporary.c_str());
        throw Error(ErrorCode::Io, path + ": could not move the written file into place (" + why + ")");
    }
    syncFolder(folderOf(target));
}

} // namespace

int removeStaleTemporaryFiles(const std::string& folder)
{
    int removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(folder.empty() ? "." : folder, ec), end; !ec && it != end;
         it.increment(ec)) {
        const std::string name = it->path().filename().string();
        const auto marker = name.find(kMarker);
        if (name.empty() || name[0] != '.' || marker == std::string::npos)
            continue;
        const std::string rest = name.substr(marker + std::strlen(kMarker));
        char* afterPid = nullptr;
        const long pid = std::strtol(rest.c_str(), &afterPid, 10);
        if (afterPid == rest.c_str() || *afterPid != '-' || pid <= 0)
            continue;
        // A process that no longer exists cannot finish its write. (A recycled pid only delays the
        // cleaning to a later write.)
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)
            continue;
        std::error_code ignored;
        if (fs::remove(it->path(), ignored))
            ++removed;
    }
    return removed;
}

void writeFileAtomically(const std::string& path, const std::string& bytes)
{
    writeFileAtomically(path, std::vector<std::string_view>{bytes});
}

void writeFileAtomically(const std::string& path, const std::vector<std::string_view>& parts)
{
    const fs::path target(path);
    const fs::path folder = folderOf(target);
    removeStaleTemporaryFiles(folder.string());
#ifdef O_TMPFILE
    // An unnamed file: a writer killed before the link below leaves nothing behind.
    const int anonymous = ::open(folder.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    if (anonymous >= 0) {
        const fs::path temporary = temporaryPathFor(target);
        try {
            for (std::string_view part : parts)
                writeAll(anonymous, part, path);
            if (::fsync(anonymous) != 0)
                throw Error(ErrorCode::Io, path + ": could not flush to disk (" + reason() + ")");
            // O_TMPFILE files are created with mode 0 bits masked by nothing: set the usual mode.
            const mode_t mask = ::umask(0);
            ::umask(mask);
            ::fchmod(anonymous, 0666 & ~mask);
            const std::string procPath = "/proc/self/fd/" + std::to_string(anonymous);
            if (::linkat(AT_FDCWD, procPath.c_str(), AT_FDCWD, temporary.c_str(), AT_SYMLINK_FOLLOW) != 0)
                throw Error(ErrorCode::Io, path + ": cannot link the written file (" + reason() + ")");
        } catch (...) {
            ::close(anonymous);
            throw;
        }
        ::close(anonymous);
        renameIntoPlace(temporary, target, path);
        return;
    }
#endif
    replaceFileAtomically(path, [&](const std::string& temporaryPath) {
        const int fd = ::open(temporaryPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0)
            throw Error(ErrorCode::Io, path + ": cannot create a temporary file in " + folder.string() +
                                           " (" + reason() + ")");
        try {
            for (std::string_view part : parts)
                writeAll(fd, part, path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        if (::close(fd) != 0)
            throw Error(ErrorCode::Io, path + ": write failed (" + reason() + ")");
    });
}

void replaceFileAtomically(const std::string& path,
                           const std::function<void(const std::string& temporaryPath)>& write)
{
    const fs::path target(path);
    removeStaleTemporaryFiles(folderOf(target).string());
    const fs::path temporary = temporaryPathFor(target);
    try {
        write(temporary.string());
        syncFile(temporary, path);
    } catch (...) {
        std::error_code ignored;
        fs::remove(temporary, ignored);
        throw;
    }
    renameIntoPlace(temporary, target, path);
}

} // namespace np::imaging
