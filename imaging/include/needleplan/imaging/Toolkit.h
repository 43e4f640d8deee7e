#pragma once
/// Start-up of the image toolkit (ITK) before any worker thread uses it.

namespace np::imaging {

/// Creates ITK's process-wide globals (object factories, time stamp, thread pool, release-data flag,
/// output window, ...) on the calling thread, once per process. ITK 5.2 creates each lazily on first
/// use and registers it in one map without a lock, so threads using ITK for the first time at once
/// could abort or crash the process (seen in the workstation: a clearance-field job's threads and the
/// window building their first ITK objects together). Called before starting threads that use ITK
/// (the workstation's background jobs, the clearance-field and registration threads, the CLI);
/// later calls cost nothing.
void prepareToolkitForThreads();

} // namespace np::imaging
