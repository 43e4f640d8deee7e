#pragma once
/// Servers for PACS tests: a real Orthanc (Debian's `orthanc` package) started on a free loopback
/// port with a temporary configuration and storage, and tiny loopback TCP servers that misbehave
/// (say nothing, hang up, answer garbage). Every wait is bounded; every process and thread is
/// stopped by the destructor.

#include "TestSupport.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace np::test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int freeLoopbackPort();

/// The Orthanc executable ($NP_ORTHANC, else /usr/sbin/Orthanc, else Orthanc on PATH); "" if none.
std::string orthancExecutable();

/// A modality Orthanc knows: the AE title it may be called with and where C-MOVE sends to.
struct OrthancModality
{
    std::string aeTitle;
    int port = 0; ///< on 127.0.0.1
};

/// A private Orthanc: own configuration, storage and index in a temporary folder, DICOM on a free
/// loopback port, HTTP server off (its port also set to a free one), no plugins. The folder is in
/// /dev/shm when there is one (the index commits every instance; memory makes that fast).
class OrthancServer
{
public:
    /// Starts Orthanc and waits (at most 30 s) until its DICOM port accepts connections. Throws
    /// std::runtime_error with Orthanc's log when it does not come up.
    explicit OrthancServer(std::vector<OrthancModality> modalities, std::string aeTitle = "NPORTHANC");
    /// Stops Orthanc (SIGKILL: its storage is temporary) and removes its folder.
    ~OrthancServer();
    OrthancServer(const OrthancServer&) = delete;
    OrthancServer& operator=(const OrthancServer&) = delete;

    int dicomPort() const { return m_dicomPort; }
    const std::string& aeTitle() const { return m_aeTitle; }
    /// Orthanc's log so far (for failure messages).
    std::string log() const;

private:
    void stop();

    std::filesystem::path m_dir; ///< configuration, storage, index and log; removed by the destructor
    std::string m_aeTitle;
    int m_dicomPort = 0;
    pid_t m_pid = -1;
};

/// How a FakeTcpServer treats each connection it accepts.
enum class FakeServerBehaviour
{
    Silent,  ///< accepts, reads whatever comes, never answers
    HangUp,  ///< accepts and closes the connection at once
    Garbage, ///< accepts and answers with bytes that are not DICOM
};

/// A loopback TCP server on a free port, served by one background thread until destroyed.
class FakeTcpServer
{
public:
    explicit FakeTcpServer(FakeServerBehaviour behaviour);
    ~FakeTcpServer();
    FakeTcpServer(const FakeTcpServer&) = delete;
    FakeTcpServer& operator=(const FakeTcpServer&) = delete;

    int port() const { return m_port; }

private:
    void serve();

    FakeServerBehaviour m_behaviour;
    int m_listenSocket = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

} // namespace np::test

/// Skips the current test, with the reason printed, when Orthanc is not installed.
#define NP_REQUIRE_ORTHANC()                                                                                 \
    do {                                                                                                     \
        if (::np::test::orthancExecutable().empty())                                                         \
            GTEST_SKIP() << "Orthanc not found (install the Debian package orthanc, or set $NP_ORTHANC to "  \
                            "its executable); the PACS tests need a real PACS";                              \
    } while (0)
