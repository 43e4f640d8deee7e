#include "PacsTestServers.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace np::test {

namespace {

sockaddr_in loopback(int port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

/// Binds a listening socket on 127.0.0.1 (port 0: any free one); returns the socket and port.
std::pair<int, int> listenOnLoopback(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket() failed");
    const int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    sockaddr_in address = loopback(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 8) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return {fd, ntohs(address.sin_port)};
}

bool acceptsConnections(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_in address = loopback(port);
    const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
}

std::string jsonString(const std::string& text)
{
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

bool isExecutable(const std::string& path)
{
    return !path.empty() && ::access(path.c_str(), X_OK) == 0;
}

} // namespace

int freeLoopbackPort()
{
    const auto [fd, port] = listenOnLoopback(0);
    ::close(fd);
    return port;
}

std::string orthancExecutable()
{
    if (const char* fromEnvironment = std::getenv("NP_ORTHANC"))
        return isExecutable(fromEnvironment) ? fromEnvironment : "";
    if (isExecutable("/usr/sbin/Orthanc"))
        return "/usr/sbin/Orthanc";
    if (const char* path = std::getenv("PATH")) {
        std::stringstream folders(path);
        std::string folder;
        while (std::getline(folders, folder, ':'))
            if (isExecutable(folder + "/Orthanc"))
                return folder + "/Orthanc";
    }
    return "";
}

OrthancServer::OrthancServer(std::vector<OrthancModality> modalities, std::string aeTitle)
    : m_aeTitle(std::move(aeTitle))
{
    const std::string executable = orthancExecutable();
    if (executable.empty())
        throw std::runtime_error("Orthanc is not installed");
    std::error_code ec;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
            ? std::filesystem::path("/dev/shm")
            : std::filesystem::temp_directory_path();
    m_dir = base / ("np-orthanc-" + std::to_string(::getpid()) + "-" +
                    std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(m_dir);
    m_dicomPort = freeLoopbackPort();
    int httpPort = freeLoopbackPort();
    while (httpPort == m_dicomPort)
        httpPort = freeLoopbackPort();
    const std::filesystem::path storage = m_dir / "storage";
    std::filesystem::create_directories(storage);
    std::ostringstream config;
    config << "{\n"
           << "  \"Name\": \"NeedlePlanTest\",\n"
           << "  \"StorageDirectory\": " << jsonString(storage.string()) << ",\n"
           << "  \"IndexDirectory\": " << jsonString(storage.string()) << ",\n"
           << "  \"Plugins\": [],\n"
           << "  \"HttpServerEnabled\": false,\n"
           << "  \"HttpPort\": " << httpPort << ",\n"
           << "  \"RemoteAccessAllowed\": false,\n"
           << "  \"DicomServerEnabled\": true,\n"
           << "  \"DicomAet\": " << jsonString(m_aeTitle) << ",\n"
           << "  \"DicomPort\": " << m_dicomPort << ",\n"
           << "  \"DicomCheckCalledAet\": true,\n"
           << "  \"DicomAlwaysAllowEcho\": true,\n"
           << "  \"DicomAlwaysAllowStore\": true,\n"
           << "  \"DicomScpTimeout\": 10,\n"
           << "  \"DicomScuTimeout\": 10,\n"
           << "  \"DicomAssociationCloseDelay\": 0,\n"
           << "  \"DicomThreadsCount\": 2,\n"
           << "  \"SynchronousCMove\": true,\n"
           << "  \"SaveJobs\": false,\n"
           << "  \"StorageCompression\": false,\n"
           << "  \"DicomModalities\": {";
    for (std::size_t n = 0; n < modalities.size(); ++n)
        config << (n ? ",\n" : "\n") << "    \"modality" << n << "\": [" << jsonString(modalities[n].aeTitle)
               << ", \"127.0.0.1\", " << modalities[n].port << "]";
    config << "\n  }\n}\n";
    const std::filesystem::path configPath = m_dir / "orthanc.json";
    std::ofstream(configPath) << config.str();
    const std::string logPath = (m_dir / "orthanc.log").string();

    const pid_t parent = ::getpid();
    m_pid = ::fork();
    if (m_pid < 0)
        throw std::runtime_error("fork() failed");
    if (m_pid == 0) {
        // Child: dies with the test process, whatever ends it.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        const int log = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0) {
            ::dup2(log, STDOUT_FILENO);
            ::dup2(log, STDERR_FILENO);
        }
        ::chdir(m_dir.c_str());
        const std::string configArgument = configPath.string();
        ::execl(executable.c_str(), executable.c_str(), configArgument.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!acceptsConnections(m_dicomPort)) {
        int status = 0;
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            const std::string text = log();
            std::filesystem::remove_all(m_dir, ec);
            throw std::runtime_error("Orthanc exited at start-up; its log:\n" + text);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            stop();
            const std::string text = log();
            std::filesystem::remove_all(m_dir, ec);
            throw std::runtime_error("Orthanc did not open its DICOM port within 30 s; its log:\n" + text);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

OrthancServer::~OrthancServer()
{
    stop();
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
}

void OrthancServer::stop()
{
    if (m_pid <= 0)
        return;
    // Its storage is thrown away with the folder, so there is nothing to shut down gracefully.
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
}

std::string OrthancServer::log() const
{
    std::ifstream in(m_dir / "orthanc.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

FakeTcpServer::FakeTcpServer(FakeServerBehaviour behaviour) : m_behaviour(behaviour)
{
    std::tie(m_listenSocket, m_port) = listenOnLoopback(0);
    m_thread = std::thread([this] { serve(); });
}

FakeTcpServer::~FakeTcpServer()
{
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
    ::close(m_listenSocket);
}

void FakeTcpServer::serve()
{
    std::vector<int> open;
    while (!m_stop) {
        std::vector<pollfd> watched{{m_listenSocket, POLLIN, 0}};
        for (int fd : open)
            watched.push_back({fd, POLLIN, 0});
        if (::poll(watched.data(), watched.size(), 50) <= 0)
            continue;
        if (watched[0].revents & POLLIN) {
            const int client = ::accept4(m_listenSocket, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                if (m_behaviour == FakeServerBehaviour::HangUp) {
                    ::close(client);
                } else {
                    if (m_behaviour == FakeServerBehaviour::Garbage) {
                        static const char garbage[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
                        (void)!::send(client, garbage, sizeof garbage - 1, MSG_NOSIGNAL);
                    }
                    open.push_back(client);
                }
            }
        }
        for (std::size_t n = 1; n < watched.size(); ++n) {
            if (watched[n].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buffer[4096];
                if (::recv(watched[n].fd, buffer, sizeof buffer, 0) <= 0) {
                    ::close(watched[n].fd);
                    open.erase(std::find(open.begin(), open.end(), watched[n].fd));
                }
            }
        }
    }
    for (int fd : open)
        ::close(fd);
}

} // namespace np::test
