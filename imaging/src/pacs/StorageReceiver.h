#pragma once
// Internal to imaging/src/pacs: NeedlePlan's own storage SCP, which receives the instances a PACS
// sends for a C-MOVE. It listens on one port in a background thread while the C-MOVE runs on the
// caller's thread, writes each instance into a folder and stops when asked (bounded wait).

#include "needleplan/imaging/PacsClient.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace np {
class ProgressSink;
}

namespace np::imaging::pacs {

class StorageReceiverScp;

class StorageReceiver
{
public:
    /// Listens on `port` as `aeTitle`; throws Error(Network) when the port cannot be opened.
    StorageReceiver(const PacsSettings& settings, const std::string& aeTitle, int port,
                    std::filesystem::path folder, ProgressSink* progress);
    ~StorageReceiver();
    StorageReceiver(const StorageReceiver&) = delete;
    StorageReceiver& operator=(const StorageReceiver&) = delete;

    /// Stops listening once the current association (if any) ends; waits at most one DIMSE timeout.
    void stop();

    /// The files received so far, in arrival order.
    std::vector<std::filesystem::path> files() const;

    /// The first failure while writing a received instance ("" when none).
    std::string firstError() const;

    /// Tells the receiver how many instances the PACS announced (for progress).
    void setExpectedTotal(int total);

private:
    std::unique_ptr<StorageReceiverScp> m_scp;
    std::thread m_thread;
};

} // namespace np::imaging::pacs
