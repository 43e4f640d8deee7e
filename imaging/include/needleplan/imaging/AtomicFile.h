#pragma once
/// Crash-safe file replacement: a reader of `path` sees the old file or the new one, never a part,
/// even when the writer is killed (SIGKILL, power loss after the rename is on disk).
///
/// The data goes to a temporary file in the target's folder, is flushed to disk (fsync), renamed
/// over the target, and the folder is flushed too. Temporary files are named
/// `.<name>.np-tmp-<pid>-<n>`; every atomic write into a folder first removes such files of
/// processes that no longer run, so a killed writer's leftover lives only until the next write.
/// Where the file system allows it (Linux O_TMPFILE), byte writes use an unnamed file that is
/// linked in only once complete, so a writer killed mid-write leaves nothing at all.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace np::imaging {

/// Writes `bytes` to `path` atomically. Throws np::Error(Io) naming `path` on failure (the old file,
/// if any, is then unchanged).
void writeFileAtomically(const std::string& path, const std::string& bytes);

/// Writes the concatenation of `parts` (a header and a large voxel buffer, say) atomically, without
/// joining them in memory first.
void writeFileAtomically(const std::string& path, const std::vector<std::string_view>& parts);

/// Atomic replacement for writers that need a file name (ITK image writers, DCMTK): `write` is called
/// with a temporary path in the target's folder (ending like `path`, so writers that choose a format
/// by extension choose the same one) and must create that file completely; it is then flushed and
/// renamed over `path`. An exception from `write` removes the temporary file and propagates.
/// Throws np::Error(Io) naming `path` when flushing or renaming fails.
void replaceFileAtomically(const std::string& path,
                           const std::function<void(const std::string& temporaryPath)>& write);

/// Removes temporary files of atomic writes into `folder` whose writing process no longer runs.
/// Returns how many were removed. Called by the functions above; exposed for tests and tools.
int removeStaleTemporaryFiles(const std::string& folder);

} // namespace np::imaging
